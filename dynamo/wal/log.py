"""The write-ahead log of one replica: segmented, checksummed, fsynced (ATC'22 §3, §5.1).

In DynamoDB a write is acknowledged only once it is in the write-ahead log of a
quorum of replicas; the B-tree is updated afterwards and is, as in ARIES, a cache
that can be rebuilt from the log. This module is one replica's log:

- `WriteAheadLog.open` runs recovery (recovery.py) and returns the log and a report.
- `append_batch` frames a batch of records, writes them with one write and one
  fsync, and only then returns their LSNs. Callers acknowledge after it returns.
- When the newest segment grows past `segment_bytes` it is sealed and a new one
  begun; sealed segments are what checkpoint.py archives and removes.
- If a write or fsync fails the log rolls the file back to its last durable size
  and *fails stop*: after a failed fsync the kernel may already have dropped the
  dirty pages, so nothing it says afterwards can be trusted (PostgreSQL's
  "fsyncgate"). Reopening the log runs recovery again.

Every change to the disk goes through a `FileLayer` (files.py): the real one by
default, a simulated disk that loses unsynced writes in the power-loss tests.

Thread-safety: every public method takes one lock, so a group-commit thread may
append while the event loop thread replays or checkpoints.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

from dynamo.wal.files import FileLayer, default_files, make_directory
from dynamo.wal.recovery import RecoveryReport, frames_of, recover
from dynamo.wal.segment import SegmentInfo, encode_frame, segment_name

FsyncPolicy = Literal["always", "none"]
DEFAULT_SEGMENT_BYTES = 4 * 1024 * 1024


class LogFailedError(Exception):
    """A write or fsync failed earlier; the log refuses appends until reopened."""


class WriteAheadLog:
    """An append-only, segmented log of opaque records, each with an LSN (1, 2, 3, ...)."""

    def __init__(
        self,
        directory: Path,
        segments: list[SegmentInfo],
        fsync: FsyncPolicy,
        segment_bytes: int,
        files: FileLayer,
    ) -> None:
        self.directory = directory
        self._files = files
        self.fsync_policy: FsyncPolicy = fsync
        self.segment_bytes = segment_bytes
        self._segments = segments
        self._lock = threading.Lock()
        self._failure: BaseException | None = None
        self._fd = files.open_write(segments[-1].path)
        self.fsyncs = 0  # counted for the benchmark and the lesson

    @classmethod
    def open(
        cls,
        directory: str | os.PathLike[str],
        *,
        fsync: FsyncPolicy = "always",
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        files: FileLayer | None = None,
    ) -> tuple[WriteAheadLog, RecoveryReport]:
        """Open (creating if needed) the log in `directory`, recovering it first.

        `files` is the file layer (files.py); by default the process's, the real disk.
        Raises CorruptLogError if recovery finds damage a crash cannot explain.
        """
        if fsync not in ("always", "none"):
            raise ValueError(f"fsync policy must be 'always' or 'none', not {fsync!r}")
        files = files or default_files()
        path = Path(directory)
        make_directory(path, files)  # durably: a log whose directory vanishes loses every record
        segments, report = recover(path, files)
        if not segments:
            segments = [_create_segment(path, 1, files)]
        return cls(path, segments, fsync, segment_bytes, files), report

    # --- appending ---------------------------------------------------------------------

    @property
    def next_lsn(self) -> int:
        return self._segments[-1].last_lsn + 1

    @property
    def last_lsn(self) -> int:
        return self._segments[-1].last_lsn

    @property
    def first_lsn(self) -> int:
        """LSN of the oldest record still held locally (older ones are archived)."""
        return self._segments[0].first_lsn

    # --8<-- [start:append]
    def append_batch(self, payloads: Sequence[bytes]) -> list[int]:
        """Append records with one write and (policy "always") one fsync; return their LSNs.

        When this returns, the records are durable; when it raises, none of them is
        acknowledged and the log has failed stop (LogFailedError from then on).
        """
        with self._lock:
            if self._failure is not None:
                raise LogFailedError("the write-ahead log failed earlier; reopen it") from self._failure
            if not payloads:
                return []
            active = self._segments[-1]
            first = active.last_lsn + 1
            data = b"".join(encode_frame(first + i, i, p) for i, p in enumerate(payloads))
            self._write_durably(active, data)
            lsns = list(range(first, first + len(payloads)))
            self._segments[-1] = SegmentInfo(
                active.path, active.first_lsn, lsns[-1], active.size + len(data), sealed=False
            )
            if self._segments[-1].size >= self.segment_bytes:
                try:
                    self._seal_and_rotate()
                except BaseException as error:
                    # the records are durable but we cannot say so: an indefinite outcome
                    self._failure = error
                    raise
            return lsns

    def _write_durably(self, active: SegmentInfo, data: bytes) -> None:
        try:
            written = 0
            while written < len(data):
                written += self._files.pwrite(self._fd, data[written:], active.size + written)
            if self.fsync_policy == "always":
                self._files.fsync(self._fd)
                self.fsyncs += 1
        except BaseException as error:
            self._failure = error
            self._roll_back(active.size)
            raise
    # --8<-- [end:append]

    def _roll_back(self, size: int) -> None:
        """Best effort: cut the unacknowledged bytes so the file holds only acknowledged records."""
        try:
            self._files.ftruncate(self._fd, size)
        except OSError:
            pass  # recovery on reopen treats whatever is left as a torn tail

    def _seal_and_rotate(self) -> None:
        """Seal the newest segment (already durable) and start the next one."""
        sealed = self._segments[-1]
        new = _create_segment(self.directory, sealed.last_lsn + 1, self._files)
        self._files.close(self._fd)
        self._fd = self._files.open_write(new.path)
        self._segments[-1] = SegmentInfo(
            sealed.path, sealed.first_lsn, sealed.last_lsn, sealed.size, sealed=True
        )
        self._segments.append(new)

    def seal(self) -> None:
        """Seal the newest segment now if it holds records (a checkpoint may want it archived)."""
        with self._lock:
            if self._failure is None and self._segments[-1].record_count > 0:
                self._seal_and_rotate()

    # --- reading -----------------------------------------------------------------------

    def replay(self, from_lsn: int = 0) -> Iterator[tuple[int, bytes]]:
        """Yield (lsn, payload) for every record with LSN >= `from_lsn`, checking checksums again."""
        with self._lock:
            segments = list(self._segments)
        for segment in segments:
            if segment.last_lsn < from_lsn or segment.record_count == 0:
                continue
            for frame in frames_of(segment.path):
                if frame.offset >= segment.size:
                    break  # appended after we took the snapshot of the segment list
                if frame.lsn >= from_lsn:
                    yield frame.lsn, frame.payload

    def has_sealed(self) -> bool:
        """Whether a sealed segment waits to be archived and removed."""
        return self._segments[0].sealed

    def segments(self) -> list[SegmentInfo]:
        with self._lock:
            return list(self._segments)

    # --- truncation (checkpoint.py decides when) ---------------------------------------

    def remove_segment(self, segment: SegmentInfo) -> None:
        """Delete the oldest segment; it must be sealed (checkpoint archives it first)."""
        with self._lock:
            if segment != self._segments[0] or not segment.sealed:
                raise ValueError(f"only the oldest sealed segment can be removed, not {segment.path}")
            self._files.unlink(segment.path)
            self._files.fsync_directory(self.directory)
            self._segments.pop(0)

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                self._files.close(self._fd)
                self._fd = -1

    def snapshot(self) -> dict[str, object]:
        """Observable state for dashboards and the lesson."""
        with self._lock:
            return {
                "directory": str(self.directory),
                "fsync": self.fsync_policy,
                "first_lsn": self.first_lsn,
                "last_lsn": self.last_lsn,
                "segments": len(self._segments),
                "sealed": sum(s.sealed for s in self._segments),
                "fsyncs": self.fsyncs,
                "failed": self._failure is not None,
            }


def _create_segment(directory: Path, first_lsn: int, files: FileLayer) -> SegmentInfo:
    path = directory / segment_name(first_lsn)
    files.create(path)
    files.fsync_directory(directory)  # the new name must survive a crash, or its records would vanish
    return SegmentInfo(path, first_lsn, first_lsn - 1, 0, sealed=False)
