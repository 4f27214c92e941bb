"""Record framing and segment files of the write-ahead log (DynamoDB ATC'22 §5.1, §5.2).

The log is a directory of append-only *segment* files. A segment is named for the
log sequence number (LSN) of its first record, so a directory listing alone says
where every segment starts, and an empty segment still says which LSN comes next.

Every record is framed so that recovery can tell a whole record from a torn or
damaged one (§5.2: "every log entry ... carries a checksum"):

    offset  size  field
    0       4     magic        b"\\xd7AL\\x01", where a scan can resynchronise
    4       4     length       payload bytes, big-endian
    8       8     lsn          log sequence number, big-endian
    16      4     batch index  position of the record in its group commit (0 = first)
    20      4     crc32c       over bytes 0..19 and the payload
    24      n     payload

The batch index lets recovery tell a torn write from corruption: a group commit
is one write and one fsync, and the next batch is written only after that fsync
returned, so a valid record of a *later* batch behind a damaged one proves the
damaged one had been made durable (see recovery.py).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import google_crc32c

from dynamo.wal.files import OsFiles

# --8<-- [start:framing]
MAGIC = b"\xd7AL\x01"  # 0xd7 then 'A' can never occur in UTF-8 text, so JSON payloads cannot fake it
HEADER = struct.Struct(">4sIQI")  # magic, length, lsn, batch index
CRC = struct.Struct(">I")
FRAME_OVERHEAD = HEADER.size + CRC.size  # 24 bytes
MAX_PAYLOAD = 64 * 1024 * 1024  # a length above this is damage, not a record


def encode_frame(lsn: int, batch_index: int, payload: bytes) -> bytes:
    """Frame one record: header, CRC32C over header and payload, payload."""
    header = HEADER.pack(MAGIC, len(payload), lsn, batch_index)
    crc = google_crc32c.Checksum(header)
    crc.update(payload)
    return header + crc.digest() + payload
# --8<-- [end:framing]


@dataclass(frozen=True)
class Frame:
    """A whole, checksum-valid record found at `offset` in a segment."""

    offset: int
    lsn: int
    batch_index: int
    payload: bytes

    @property
    def end(self) -> int:
        return self.offset + FRAME_OVERHEAD + len(self.payload)

    @property
    def batch_first_lsn(self) -> int:
        """LSN of the first record of the group commit this record was written in."""
        return self.lsn - self.batch_index


@dataclass(frozen=True)
class BadFrame:
    """Why the bytes at `offset` are not a whole, valid record."""

    offset: int
    reason: str


def read_frame(data: bytes | memoryview, offset: int) -> Frame | BadFrame:
    """Decode the record at `offset`, checking its magic, length and checksum."""
    if offset + FRAME_OVERHEAD > len(data):
        return BadFrame(offset, f"incomplete header ({len(data) - offset} of {FRAME_OVERHEAD} bytes)")
    magic, length, lsn, batch_index = HEADER.unpack_from(data, offset)
    if magic != MAGIC:
        return BadFrame(offset, "bad magic")
    if length > MAX_PAYLOAD:
        return BadFrame(offset, f"implausible length {length}")
    start = offset + FRAME_OVERHEAD
    if start + length > len(data):
        return BadFrame(offset, f"incomplete payload ({len(data) - start} of {length} bytes)")
    payload = bytes(data[start : start + length])
    crc = google_crc32c.Checksum(bytes(data[offset : offset + HEADER.size]))
    crc.update(payload)
    (stored,) = CRC.unpack_from(data, offset + HEADER.size)
    if crc.digest() != CRC.pack(stored):
        return BadFrame(offset, "checksum mismatch")
    return Frame(offset, lsn, batch_index, payload)


def iter_frames(data: bytes | memoryview, start: int = 0) -> Iterator[Frame | BadFrame]:
    """Yield consecutive valid frames from `start`; the last item is a BadFrame if any."""
    offset = start
    while offset < len(data):
        frame = read_frame(data, offset)
        yield frame
        if isinstance(frame, BadFrame):
            return
        offset = frame.end


def find_frame_after(data: bytes, offset: int, min_batch_lsn: int) -> Frame | None:
    """The first valid frame after `offset` written by a group commit that began at
    LSN `min_batch_lsn` or later, if any.

    Used only after damage: it resynchronises on the magic bytes and re-checks each
    candidate's checksum, so a payload that happens to contain the magic is skipped.
    """
    pos = data.find(MAGIC, offset + 1)
    while pos != -1:
        frame = read_frame(data, pos)
        if isinstance(frame, Frame) and frame.batch_first_lsn >= min_batch_lsn:
            return frame
        pos = data.find(MAGIC, pos + 1)
    return None


# --- segment files ------------------------------------------------------------------------

SUFFIX = ".seg"


def segment_name(first_lsn: int) -> str:
    """File name of the segment whose first record has LSN `first_lsn`."""
    return f"{first_lsn:020d}{SUFFIX}"


def list_segments(directory: Path) -> list[tuple[int, Path]]:
    """(first LSN, path) of every segment in the directory, in LSN order."""
    found = []
    for path in directory.iterdir():
        if path.suffix == SUFFIX and path.stem.isdigit():
            found.append((int(path.stem), path))
    return sorted(found)


# Make a file creation, removal or rename in a directory durable, on the real disk
# (the archive's directory store uses it; the log goes through its FileLayer).
fsync_directory = OsFiles.fsync_directory


@dataclass(frozen=True)
class SegmentInfo:
    """A segment as the log knows it: where it is and which LSNs it holds."""

    path: Path
    first_lsn: int
    last_lsn: int  # first_lsn - 1 when empty
    size: int
    sealed: bool  # True once the log has moved on to a later segment

    @property
    def record_count(self) -> int:
        return self.last_lsn - self.first_lsn + 1
