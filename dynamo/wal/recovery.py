"""Crash recovery of the write-ahead log: find the last valid record (ATC'22 §5.1, §5.2; ARIES).

Rules, in the order recovery applies them when a log is opened:

1. Every segment is read from its first byte and every record's checksum is
   checked; LSNs must run without holes inside a segment and across segments.
2. A *torn tail* is damage at the end of the newest segment that a crash while
   writing explains: a partial record, or garbage that no later durable record
   follows. It is truncated, and the report says where and how many bytes went.
   Nothing in it was acknowledged: an append is acknowledged only after its
   batch's fsync, and a torn record is always in the last, unsynced batch.
3. Anything else is *corruption*: damage in a sealed segment, or damage followed
   by a valid record of a later group commit (that later batch was written only
   after the damaged one's fsync returned, so the damaged one had been durable).
   Recovery refuses: it raises CorruptLogError naming the segment and offset,
   and never skips the bad record to serve the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dynamo.wal.files import FileLayer, default_files
from dynamo.wal.segment import (
    BadFrame,
    Frame,
    SegmentInfo,
    find_frame_after,
    iter_frames,
    list_segments,
)


class CorruptLogError(Exception):
    """The log is damaged where a crash cannot explain it; the replica must not serve."""

    def __init__(self, segment: Path, offset: int, reason: str) -> None:
        super().__init__(
            f"write-ahead log corrupt in segment {segment} at offset {offset}: {reason}; "
            "refusing to serve (restore this replica from the archive or a peer)"
        )
        self.segment = segment
        self.offset = offset
        self.reason = reason


@dataclass(frozen=True)
class TornTail:
    """What recovery cut from the end of the newest segment."""

    segment: Path
    offset: int  # the segment now ends here
    discarded_bytes: int
    reason: str


@dataclass(frozen=True)
class RecoveryReport:
    """What opening the log found."""

    segments: int
    first_lsn: int  # of the oldest record still held locally
    last_lsn: int  # of the newest valid record (first_lsn - 1 when the log is empty)
    torn_tail: TornTail | None

    @property
    def records(self) -> int:
        return self.last_lsn - self.first_lsn + 1

    def describe(self) -> str:
        text = f"{self.records} records (LSN {self.first_lsn}..{self.last_lsn}) in {self.segments} segments"
        if self.torn_tail:
            tail = self.torn_tail
            text += (
                f"; torn tail truncated: {tail.discarded_bytes} bytes cut from "
                f"{tail.segment.name} at offset {tail.offset} ({tail.reason})"
            )
        return text


@dataclass(frozen=True)
class SegmentScan:
    """One segment read front to back: its valid records and where reading stopped."""

    path: Path
    data: bytes
    first_lsn: int
    last_lsn: int  # of the last valid record; first_lsn - 1 if none
    end: int  # offset just after the last valid record
    stop: BadFrame | None  # the first bad frame, None when the whole file is valid


def scan_segment(path: Path, first_lsn: int) -> SegmentScan:
    """Read a segment and check every record, stopping at the first bad frame."""
    data = path.read_bytes()
    expected, end, stop = first_lsn, 0, None
    for frame in iter_frames(data):
        if isinstance(frame, BadFrame):
            stop = frame
            break
        if frame.lsn != expected:
            raise CorruptLogError(path, frame.offset, f"LSN {frame.lsn} where {expected} was expected")
        expected, end = expected + 1, frame.end
    return SegmentScan(path, data, first_lsn, expected - 1, end, stop)


def recover_tail(scan: SegmentScan, is_newest: bool) -> int | None:
    """Decide what a bad frame in a segment means.

    Returns None when the segment is wholly valid, or the offset to truncate the
    segment to when its end is a torn tail. Raises CorruptLogError (with the
    segment and the bad frame's offset) when the damage is corruption: the bad
    frame is in a sealed segment, or a valid record of a later group commit
    follows it.
    """
    # BEGIN ASSIGNMENT ch02-recovery: truncate a torn tail, refuse on corruption before it
    if scan.stop is None:
        return None
    if not is_newest:
        raise CorruptLogError(scan.path, scan.stop.offset, f"{scan.stop.reason} in a sealed segment")
    damaged_lsn = scan.last_lsn + 1  # the record that should have been at the bad offset
    later = find_frame_after(scan.data, scan.stop.offset, min_batch_lsn=damaged_lsn + 1)
    if later is not None:
        raise CorruptLogError(
            scan.path,
            scan.stop.offset,
            f"{scan.stop.reason}, yet LSN {later.lsn} at offset {later.offset} was written by a "
            "later group commit, so the damaged record had been made durable",
        )
    return scan.stop.offset
    # END ASSIGNMENT


# --8<-- [start:recover]
def recover(directory: Path, files: FileLayer | None = None) -> tuple[list[SegmentInfo], RecoveryReport]:
    """Check every segment, truncate a torn tail (through `files`), and describe what is left."""
    files = files or default_files()
    found = list_segments(directory)
    segments: list[SegmentInfo] = []
    torn: TornTail | None = None
    for position, (first_lsn, path) in enumerate(found):
        if segments and first_lsn != segments[-1].last_lsn + 1:
            raise CorruptLogError(
                path, 0, f"hole in sequence numbers: previous segment ends at LSN {segments[-1].last_lsn}"
            )
        scan = scan_segment(path, first_lsn)
        is_newest = position == len(found) - 1
        cut = None if scan.stop is None else recover_tail(scan, is_newest)
        size = len(scan.data)
        if cut is not None:
            torn = TornTail(path, cut, size - cut, scan.stop.reason if scan.stop else "")
            truncate_file(path, cut, files)
            size = cut
        segments.append(SegmentInfo(path, first_lsn, scan.last_lsn, size, sealed=not is_newest))
    first = segments[0].first_lsn if segments else 1
    last = segments[-1].last_lsn if segments else 0
    return segments, RecoveryReport(len(segments), first, last, torn)
# --8<-- [end:recover]


def truncate_file(path: Path, size: int, files: FileLayer) -> None:
    """Cut a file to `size` bytes and make the cut durable before anything is appended."""
    fd = files.open_write(path)
    try:
        files.ftruncate(fd, size)
        files.fsync(fd)
    finally:
        files.close(fd)


def frames_of(path: Path, start: int = 0) -> list[Frame]:
    """Every frame of a segment recovery has already checked; damage now is new damage."""
    out = []
    for frame in iter_frames(path.read_bytes(), start):
        if isinstance(frame, BadFrame):
            raise CorruptLogError(path, frame.offset, frame.reason)
        out.append(frame)
    return out
