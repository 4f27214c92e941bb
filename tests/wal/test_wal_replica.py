"""LoggedReplica: a B-tree written through the WAL, recovered by redo from its applied LSN
(§3, §5.1; ARIES)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from dynamo.storage.btree import Mutation
from dynamo.storage.keys import EncodedKey
from dynamo.wal import Archiver, CorruptLogError, DirectoryStore, WriteAheadLog
from dynamo.wal.records import DropTable, decode_record, encode_record
from dynamo.wal.replica import LoggedReplica, ReplicaStateError
from dynamo.wal.segment import list_segments


def key(i: int) -> EncodedKey:
    return EncodedKey(i.to_bytes(8, "big"), f"pk{i}".encode(), b"\x01sort")


def item(value: str) -> dict:
    return {"pk": {"S": "x"}, "v": {"S": value}, "n": {"N": "1.5"}, "b": {"B": "AAEC"}}


def test_changes_round_trip_through_records() -> None:
    changes = [Mutation("T", key(1), item("a")), Mutation("U", key(2), None), DropTable("V")]
    assert decode_record(encode_record(changes)) == changes


def test_a_dropped_table_stays_dropped_through_redo(tmp_path: Path) -> None:
    """DeleteTable is logged in order with the writes: redo of the whole log (a B-tree rebuilt
    from scratch) neither resurrects items written before the drop nor loses those after."""
    async def main() -> None:
        replica = LoggedReplica.open(tmp_path)
        await asyncio.gather(*(replica.write([Mutation("T", key(i), item("old"))]) for i in range(5)))
        await replica.drop_table("T")
        await replica.write([Mutation("T", key(9), item("new")), Mutation("U", key(1), item("u"))])
        assert replica.btree.count("T") == 1
        await replica.close()

    asyncio.run(main())
    for path in tmp_path.glob("btree.sqlite3*"):
        path.unlink()
    replica = LoggedReplica.open(tmp_path)
    assert replica.replayed == 7
    assert [replica.btree.get("T", key(i)) for i in range(5)] == [None] * 5
    assert replica.btree.get("T", key(9)) == item("new") and replica.btree.get("U", key(1)) == item("u")
    replica.close_files()


def test_a_write_is_logged_applied_and_survives_reopen(tmp_path: Path) -> None:
    async def main() -> None:
        replica = LoggedReplica.open(tmp_path)
        lsn = await replica.write([Mutation("T", key(1), item("a")), Mutation("T", key(2), item("b"))])
        assert lsn == 1 and replica.btree.applied_lsn() == 1
        assert replica.btree.get("T", key(2)) == item("b")  # read-your-acknowledged-write
        await replica.write([Mutation("T", key(1), None)])
        await replica.close()

    asyncio.run(main())
    replica = LoggedReplica.open(tmp_path)
    assert replica.replayed == 0, "everything was applied before the acknowledgement"
    assert replica.btree.get("T", key(1)) is None and replica.btree.get("T", key(2)) == item("b")
    replica.close_files()


def test_records_logged_but_not_applied_are_redone_on_open(tmp_path: Path) -> None:
    """A crash between the fsync and the B-tree apply: the log has it, recovery applies it."""
    replica = LoggedReplica.open(tmp_path)
    replica.close_files()
    log, _ = WriteAheadLog.open(tmp_path / "wal")
    log.append_batch([encode_record([Mutation("T", key(i), item(str(i)))]) for i in range(5)])
    log.close()
    replica = LoggedReplica.open(tmp_path)
    assert replica.replayed == 5 and replica.btree.applied_lsn() == 5
    assert [replica.btree.get("T", key(i)) for i in range(5)] == [item(str(i)) for i in range(5)]
    replica.close_files()


def test_redo_from_an_older_btree_is_idempotent(tmp_path: Path) -> None:
    """A B-tree that lost its last transactions (synchronous=NORMAL after a power cut) is
    brought forward from its applied LSN; replaying whole after-images cannot double-apply."""
    async def write(values: list[tuple[int, str | None]]) -> None:
        replica = LoggedReplica.open(tmp_path)
        for i, value in values:
            await replica.write([Mutation("T", key(i), None if value is None else item(value))])
        await replica.close()

    asyncio.run(write([(1, "a"), (2, "b"), (3, "c")]))
    saved = tmp_path / "saved"
    saved.mkdir()
    for path in tmp_path.glob("btree.sqlite3*"):
        shutil.copy(path, saved / path.name)
    asyncio.run(write([(1, "a2"), (2, None), (4, "d")]))
    for path in tmp_path.glob("btree.sqlite3*"):
        path.unlink()
    for path in saved.iterdir():
        shutil.copy(path, tmp_path / path.name)
    replica = LoggedReplica.open(tmp_path)
    assert replica.replayed == 3 and replica.btree.applied_lsn() == 6
    state = [replica.btree.get("T", key(i)) for i in range(1, 5)]
    assert state == [item("a2"), None, item("c"), item("d")]
    replica.close_files()


def test_a_btree_ahead_of_its_log_refuses_to_serve(tmp_path: Path) -> None:
    async def main() -> None:
        replica = LoggedReplica.open(tmp_path)
        await replica.write([Mutation("T", key(1), item("a"))])
        await replica.close()

    asyncio.run(main())
    shutil.rmtree(tmp_path / "wal")
    with pytest.raises(ReplicaStateError, match="acknowledged writes are missing from the log"):
        LoggedReplica.open(tmp_path)


def test_a_corrupt_log_refuses_to_serve(tmp_path: Path) -> None:
    async def main() -> None:
        replica = LoggedReplica.open(tmp_path)
        for i in range(3):
            await replica.write([Mutation("T", key(i), item("a"))])
        await replica.close()

    asyncio.run(main())
    (_, segment), = list_segments(tmp_path / "wal")
    data = bytearray(segment.read_bytes())
    data[30] ^= 0xFF  # inside the first record; two later group commits follow it
    segment.write_bytes(bytes(data))
    with pytest.raises(CorruptLogError, match=f"{segment.name} at offset 0"):
        LoggedReplica.open(tmp_path)


def test_locked_serialises_read_modify_write_on_one_key_but_not_across_keys(tmp_path: Path) -> None:
    """Between computing an after-image and applying it, nobody else may read the key;
    writes to different keys still share group commits."""
    async def increment(replica: LoggedReplica, i: int) -> None:
        async with replica.locked([("T", key(i))]):
            current = replica.btree.get("T", key(i))
            count = 0 if current is None else int(current["c"]["N"])
            await replica.write([Mutation("T", key(i), {"c": {"N": str(count + 1)}})])

    async def main() -> LoggedReplica:
        replica = LoggedReplica.open(tmp_path)
        await asyncio.gather(*(increment(replica, 0) for _ in range(30)))
        assert replica.btree.get("T", key(0)) == {"c": {"N": "30"}}
        before = replica.group_commit.batches
        await asyncio.gather(*(increment(replica, i) for i in range(1, 41)))
        assert replica.group_commit.batches - before < 20, "different keys share group commits"
        assert replica._locks == {}, "lock entries are dropped when unused"
        await replica.close()
        return replica

    asyncio.run(main())


def test_with_an_archive_sealed_segments_are_archived_and_removed_as_the_replica_writes(
    tmp_path: Path,
) -> None:
    """§5.1: only the unarchived tail stays on the replica; checkpoints follow the writes."""
    store = DirectoryStore(tmp_path / "archive")

    async def main() -> LoggedReplica:
        replica = LoggedReplica.open(tmp_path / "r", segment_bytes=2000, archive=store)
        for i in range(300):
            await replica.write([Mutation("T", key(i % 50), item(str(i)))])
        await replica.close()
        return replica

    replica = asyncio.run(main())
    assert replica.checkpoint_error is None
    local = list_segments(tmp_path / "r" / "wal")
    assert len(local) <= 3, "archived segments must not pile up locally"
    archived = Archiver(store).archived()
    assert archived[0].first_lsn == 1 and archived[-1].last_lsn + 1 == local[0][0]
    reopened = LoggedReplica.open(tmp_path / "r", archive=store)
    assert reopened.btree.get("T", key(49)) == item("299")
    reopened.close_files()
