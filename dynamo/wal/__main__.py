"""`python -m dynamo.wal`: the write-ahead log layer alone (DynamoDB ATC'22 §5.1, §5.2).

Five scenes, on real files in a temporary directory:
1. group commit: 200 concurrent appends, a handful of fsyncs;
2. crash: a child process appends until SIGKILL, and recovery finds every record;
3. torn tail: the last record is cut in half, and recovery truncates and reports it;
4. bit flip: one bit of an old record flips, and recovery refuses to serve;
5. archive: sealed segments go to an S3-like directory with manifests.
"""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
from pathlib import Path

from dynamo.wal.archive import Archiver, DirectoryStore
from dynamo.wal.checkpoint import checkpoint
from dynamo.wal.group_commit import GroupCommit
from dynamo.wal.log import WriteAheadLog
from dynamo.wal.recovery import CorruptLogError
from dynamo.wal.segment import FRAME_OVERHEAD, list_segments


def scene(title: str) -> None:
    print(f"\n== {title}")


def group_commit(directory: Path) -> None:
    scene("1. group commit: 200 concurrent appends")
    log, _ = WriteAheadLog.open(directory, segment_bytes=2048)
    commit = GroupCommit(log)

    async def main() -> None:
        await asyncio.gather(*(commit.submit(f"put item {i}".encode()) for i in range(200)))
        await commit.close()

    asyncio.run(main())
    print(f"200 records acknowledged after {log.fsyncs} fsyncs "
          f"({commit.records / commit.batches:.0f} records per group commit), "
          f"LSN 1..{log.last_lsn} in {len(log.segments())} segments")
    log.close()


def crash(directory: Path) -> None:
    scene("2. crash: SIGKILL a process that is appending")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        log, _ = WriteAheadLog.open(directory, segment_bytes=2048)
        while True:
            (lsn,) = log.append_batch([b"a write under load"])
            os.write(write_end, f"{lsn}\n".encode())
    os.close(write_end)
    seen = b""
    while seen.count(b"\n") < 50:  # let it acknowledge a few dozen appends, then pull the plug
        chunk = os.read(read_end, 4096)
        if not chunk:
            raise SystemExit("the writer died before it was killed")
        seen += chunk
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    received = seen + _drain(read_end)
    acknowledged = received[: received.rfind(b"\n") + 1].decode().split()  # a cut line says nothing
    log, report = WriteAheadLog.open(directory)
    print(f"killed the writer after {len(acknowledged)} acknowledged appends")
    print(f"recovery: {report.describe()}")
    assert report.last_lsn >= int(acknowledged[-1])
    print(f"every acknowledged LSN (up to {acknowledged[-1]}) is in the log")
    log.close()


def torn_tail(directory: Path) -> None:
    scene("3. torn tail: the last record is only half written")
    log, _ = WriteAheadLog.open(directory, segment_bytes=2048)
    log.append_batch([b"the last write, torn by a power cut" * 3])
    newest = log.segments()[-1]
    log.close()
    cut = newest.size - 50
    os.truncate(newest.path, cut)
    print(f"cut {newest.path.name} from {newest.size} to {cut} bytes")
    log, report = WriteAheadLog.open(directory)
    print(f"recovery: {report.describe()}")
    log.close()


def bit_flip(directory: Path) -> None:
    scene("4. bit flip: one bit of an old record changes on disk")
    (_, oldest), *_ = list_segments(directory)
    data = bytearray(oldest.read_bytes())
    data[FRAME_OVERHEAD + 3] ^= 0x04  # inside the first record's payload
    oldest.write_bytes(bytes(data))
    try:
        WriteAheadLog.open(directory)
    except CorruptLogError as error:
        print(f"recovery refused: {error}")
    data[FRAME_OVERHEAD + 3] ^= 0x04
    oldest.write_bytes(bytes(data))
    print("flipped it back; the log opens again")


def archive(directory: Path, archive_root: Path) -> None:
    scene("5. archive: sealed segments to an S3-like directory, then removed locally")
    log, _ = WriteAheadLog.open(directory)
    log.seal()
    report = checkpoint(log, log.last_lsn, Archiver(DirectoryStore(archive_root)))
    print(report.describe())
    manifest = report.archived[0]
    print(f"first manifest: {archive_root.name}/{manifest.segment_key.removesuffix('.seg')}"
          f".manifest.json -> LSN {manifest.first_lsn}..{manifest.last_lsn}, "
          f"{manifest.record_count} records, crc32c {manifest.crc32c}")
    print(f"the local log now starts at LSN {log.first_lsn}")
    log.close()


def _drain(fd: int) -> bytes:
    data = b""
    while chunk := os.read(fd, 65536):
        data += chunk
    os.close(fd)
    return data


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="dynamo-wal-") as tmp:
        root = Path(tmp)
        print(f"write-ahead log demo in {root}")
        group_commit(root / "wal")
        crash(root / "wal")
        torn_tail(root / "wal")
        bit_flip(root / "wal")
        archive(root / "wal", root / "archive")


if __name__ == "__main__":
    main()
