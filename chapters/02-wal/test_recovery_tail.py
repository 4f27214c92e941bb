"""Chapter 2, graded: recovery's tail handling (`recover_tail` in dynamo/wal/recovery.py).

Each test builds a real log with `WriteAheadLog`, damages its files the way a crash
or a failing disk would, opens it again and checks what recovery decided (§5.1, §5.2):

- a *torn tail* (a partial or missing end of the newest segment, where the last
  group commit may not have reached the disk) is cut off, and the report says where;
- *corruption* (damage in a sealed segment, or damage that a later, durable group
  commit follows) stops recovery with CorruptLogError naming segment and offset.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dynamo.wal import CorruptLogError, WriteAheadLog
from dynamo.wal.segment import FRAME_OVERHEAD, list_segments

PAYLOADS = [f"write number {i}".encode() * (i + 1) for i in range(6)]


def write_log(directory: Path, batches: list[list[bytes]], segment_bytes: int = 1 << 20) -> Path:
    """Append the batches (one group commit each); return the newest non-empty segment."""
    log, _ = WriteAheadLog.open(directory, segment_bytes=segment_bytes)
    for batch in batches:
        log.append_batch(batch)
    log.close()
    return list_segments(directory)[0][1]


def ends(payloads: list[bytes]) -> list[int]:
    """Offset just after each record of a segment holding `payloads`."""
    out, offset = [], 0
    for payload in payloads:
        offset += FRAME_OVERHEAD + len(payload)
        out.append(offset)
    return out


def reopen(directory: Path):
    log, report = WriteAheadLog.open(directory)
    records = [payload for _, payload in log.replay()]
    log.close()
    return records, report


def test_a_torn_tail_is_truncated_to_the_last_whole_record(tmp_path: Path) -> None:
    """A crash cut the last record in half: keep the five whole records, cut the rest."""
    segment = write_log(tmp_path, [PAYLOADS[:3], PAYLOADS[3:]])
    cut = ends(PAYLOADS)[4] + 10
    segment.write_bytes(segment.read_bytes()[:cut])
    records, report = reopen(tmp_path)
    assert records == PAYLOADS[:5], "recovery must keep exactly the whole records"
    assert report.torn_tail is not None, "a torn tail must be reported, not hidden"
    assert report.torn_tail.offset == ends(PAYLOADS)[4]
    assert report.torn_tail.discarded_bytes == 10
    assert segment.stat().st_size == ends(PAYLOADS)[4], "the torn bytes must be cut from the file"


def test_every_cut_inside_the_last_record_recovers_a_clean_prefix(tmp_path: Path) -> None:
    """Wherever the cut falls (inside the header or the payload), the prefix is clean and
    the log accepts the next append with the next LSN."""
    source = write_log(tmp_path / "source", [PAYLOADS])
    data = source.read_bytes()
    start = ends(PAYLOADS)[4]
    for cut in range(start + 1, len(data)):
        trial = tmp_path / f"cut-{cut}"
        trial.mkdir()
        (trial / source.name).write_bytes(data[:cut])
        records, report = reopen(trial)
        assert records == PAYLOADS[:5], f"cut at byte {cut}"
        assert report.torn_tail is not None and report.torn_tail.offset == start, f"cut at byte {cut}"
        log, _ = WriteAheadLog.open(trial)
        assert log.append_batch([b"next"]) == [6], f"cut at byte {cut}: the log must go on at LSN 6"
        log.close()


def test_zeros_after_the_last_record_are_a_torn_tail(tmp_path: Path) -> None:
    """A file system may extend a file before the data lands: zeros at the end are torn."""
    segment = write_log(tmp_path, [PAYLOADS])
    segment.write_bytes(segment.read_bytes() + bytes(4096))
    records, report = reopen(tmp_path)
    assert records == PAYLOADS
    assert report.torn_tail is not None and report.torn_tail.discarded_bytes == 4096


def test_a_hole_inside_the_last_group_commit_is_still_a_torn_tail(tmp_path: Path) -> None:
    """One write's pages can reach the disk out of order. A missing record followed only by
    records of the *same* group commit is a torn write: cut from the hole on."""
    segment = write_log(tmp_path, [PAYLOADS[:2], PAYLOADS[2:]])
    data = bytearray(segment.read_bytes())
    record_ends = ends(PAYLOADS)
    data[record_ends[2] : record_ends[3]] = bytes(record_ends[3] - record_ends[2])
    segment.write_bytes(bytes(data))
    records, report = reopen(tmp_path)
    assert records == PAYLOADS[:3]
    assert report.torn_tail is not None and report.torn_tail.offset == record_ends[2]


def test_damage_before_a_later_group_commit_is_corruption(tmp_path: Path) -> None:
    """The second group commit was written only after the first one's fsync returned, so a
    damaged record of the first is corruption: refuse, naming the segment and the offset."""
    segment = write_log(tmp_path, [PAYLOADS[:3], PAYLOADS[3:]])
    data = bytearray(segment.read_bytes())
    offset = ends(PAYLOADS)[0]  # the second record
    data[offset + FRAME_OVERHEAD + 2] ^= 0x01
    segment.write_bytes(bytes(data))
    with pytest.raises(CorruptLogError) as caught:
        WriteAheadLog.open(tmp_path)
    assert caught.value.segment == segment and caught.value.offset == offset
    assert segment.read_bytes() == bytes(data), "a corrupt log must not be truncated"


def test_damage_in_a_sealed_segment_is_corruption(tmp_path: Path) -> None:
    """A sealed segment was fsynced before the log moved on: even a cut end is corruption."""
    write_log(tmp_path, [[p] for p in PAYLOADS], segment_bytes=1)  # one record per segment
    oldest = list_segments(tmp_path)[0][1]
    oldest.write_bytes(oldest.read_bytes()[:-1])
    with pytest.raises(CorruptLogError) as caught:
        WriteAheadLog.open(tmp_path)
    assert caught.value.segment == oldest and caught.value.offset == 0
