"""Group commit: concurrent appends share one write and one fsync, and are acknowledged only
after it (§5.1); an fsync that fails acknowledges nothing and leaves the log consistent."""

from __future__ import annotations

import asyncio
import errno
import os
from pathlib import Path

from wal_helpers import run_in_child

from dynamo.wal import GroupCommit, WriteAheadLog
from dynamo.wal.segment import FRAME_OVERHEAD


def replay_all(directory: Path) -> list[tuple[int, bytes]]:
    log, _ = WriteAheadLog.open(directory)
    records = list(log.replay())
    log.close()
    return records


def test_concurrent_appends_share_fsyncs_and_get_contiguous_lsns(tmp_path: Path) -> None:
    log, _ = WriteAheadLog.open(tmp_path)
    commit = GroupCommit(log)

    async def main() -> list[int]:
        lsns = await asyncio.gather(*(commit.submit(f"p{i}".encode()) for i in range(200)))
        await commit.close()
        return list(lsns)

    lsns = asyncio.run(main())
    log.close()
    assert sorted(lsns) == list(range(1, 201))
    assert commit.records == 200
    assert commit.batches < 50, "200 concurrent appends should need only a few group commits"
    assert log.fsyncs == commit.batches
    assert replay_all(tmp_path) == [(lsn, f"p{i}".encode()) for i, lsn in enumerate(lsns)]


def test_an_append_is_acknowledged_only_after_its_fsync(tmp_path: Path, monkeypatch) -> None:
    """Each acknowledgement comes after an fsync that covered the record's last byte."""
    events: list[tuple[str, int]] = []
    real_fsync = os.fsync

    def observed_fsync(fd: int) -> None:
        covered = os.fstat(fd).st_size  # bytes this fsync makes durable
        real_fsync(fd)
        events.append(("fsync", covered))

    monkeypatch.setattr(os, "fsync", observed_fsync)
    log, _ = WriteAheadLog.open(tmp_path)
    commit = GroupCommit(log)

    async def one(i: int) -> None:
        lsn = await commit.submit(b"x" * i)
        events.append(("ack", lsn))

    async def main() -> None:
        await asyncio.gather(*(one(i) for i in range(50)))
        await commit.close()

    asyncio.run(main())
    log.close()
    record_end, offset = {}, 0
    for lsn, payload in replay_all(tmp_path):
        offset += FRAME_OVERHEAD + len(payload)
        record_end[lsn] = offset
    acks = [value for kind, value in events if kind == "ack"]
    assert sorted(acks) == list(range(1, 51))
    durable = 0
    for kind, value in events:
        if kind == "fsync":
            durable = max(durable, value)
        else:
            assert record_end[value] <= durable, f"LSN {value} acknowledged before its fsync"
    assert sum(kind == "fsync" for kind, _ in events) < 50


def test_max_batch_one_is_fsync_per_record(tmp_path: Path) -> None:
    log, _ = WriteAheadLog.open(tmp_path)
    commit = GroupCommit(log, max_batch=1)

    async def main() -> None:
        await asyncio.gather(*(commit.submit(b"r") for _ in range(20)))
        await commit.close()

    asyncio.run(main())
    log.close()
    assert commit.batches == 20 and log.fsyncs == 20


def test_policy_none_writes_without_fsync(tmp_path: Path) -> None:
    """The teaching trade-off: no fsync is fast, and survives a process crash but not a power cut."""
    log, _ = WriteAheadLog.open(tmp_path, fsync="none")
    assert log.append_batch([b"a", b"b"]) == [1, 2]
    log.close()
    assert log.fsyncs == 0
    assert replay_all(tmp_path) == [(1, b"a"), (2, b"b")]


def test_on_durable_sees_each_batch_in_lsn_order_before_acknowledgement(tmp_path: Path) -> None:
    log, _ = WriteAheadLog.open(tmp_path)
    seen: list[int] = []
    commit = GroupCommit(log, on_durable=lambda records: seen.extend(lsn for lsn, _ in records))

    async def one(i: int) -> None:
        lsn = await commit.submit(b"p")
        assert lsn in seen, "acknowledged before the durable hook saw it"

    async def main() -> None:
        await asyncio.gather(*(one(i) for i in range(100)))
        await commit.close()

    asyncio.run(main())
    log.close()
    assert seen == list(range(1, 101))


def _append_while_fsync_fails(directory: str) -> dict:
    """In a child: os.fsync fails on its 5th call; record what was acknowledged and refused."""
    real_fsync, calls = os.fsync, [0]

    def failing_fsync(fd: int) -> None:
        calls[0] += 1
        if calls[0] == 5:
            raise OSError(errno.EIO, "injected fsync failure")
        real_fsync(fd)

    os.fsync = failing_fsync  # this process only: it is a forked child
    log, _ = WriteAheadLog.open(directory)
    commit = GroupCommit(log)
    acked: list[list] = []
    failed: list[str] = []

    async def one(i: int) -> None:
        try:
            lsn = await commit.submit(f"w{i}".encode())
            acked.append([lsn, f"w{i}"])
        except Exception as error:
            failed.append(type(error).__name__)

    async def main() -> None:
        for wave in range(6):
            await asyncio.gather(*(one(wave * 10 + i) for i in range(10)))
        await commit.close()

    asyncio.run(main())
    return {"acked": acked, "failed": failed, "snapshot": log.snapshot()}


def test_a_failed_fsync_acknowledges_nothing_and_leaves_the_log_consistent(tmp_path: Path) -> None:
    """fsync honesty: the batch whose fsync failed is not acknowledged, the log fails stop,
    and after reopening it holds exactly the acknowledged records."""
    result = run_in_child(lambda: _append_while_fsync_fails(str(tmp_path)))
    assert result["acked"], "some appends succeed before the failure"
    assert "OSError" in result["failed"]
    assert result["failed"][-1] == "LogFailedError", "appends after a failed fsync are refused"
    assert result["snapshot"]["failed"] is True
    acked = sorted((lsn, payload.encode()) for lsn, payload in result["acked"])
    assert replay_all(tmp_path) == acked
    log, report = WriteAheadLog.open(tmp_path)
    assert report.torn_tail is None
    assert log.append_batch([b"after"]) == [len(acked) + 1]
    log.close()


def test_a_failed_apply_stops_group_commit_until_reopened(tmp_path: Path) -> None:
    """A batch that is durable but could not be applied must not be overtaken: no later batch
    is written, and the log still holds the unapplied batch for redo."""
    log, _ = WriteAheadLog.open(tmp_path)
    calls = []

    def apply(records) -> None:
        calls.append([lsn for lsn, _ in records])
        if len(calls) == 2:
            raise OSError("disk full while applying")

    commit = GroupCommit(log, on_durable=apply)

    async def main() -> list[str]:
        outcomes = []
        for _ in range(3):
            results = await asyncio.gather(*(commit.submit(b"w") for _i in range(3)),
                                           return_exceptions=True)
            outcomes.append(",".join(type(r).__name__ if isinstance(r, Exception) else str(r)
                                     for r in results))
        await commit.close()
        return outcomes

    outcomes = asyncio.run(main())
    log.close()
    assert outcomes == ["1,2,3", "OSError,OSError,OSError",
                        "LogFailedError,LogFailedError,LogFailedError"]
    assert calls == [[1, 2, 3], [4, 5, 6]]
    assert [lsn for lsn, _ in replay_all(tmp_path)] == [1, 2, 3, 4, 5, 6]
