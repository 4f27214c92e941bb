"""Recovery of the write-ahead log: torn tails are truncated, corruption is refused (§5.1, §5.2)."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from dynamo.wal import CorruptLogError, WriteAheadLog
from dynamo.wal.segment import FRAME_OVERHEAD, list_segments


def build_log(directory: Path, batches: list[list[bytes]], segment_bytes: int = 1 << 20) -> None:
    log, _ = WriteAheadLog.open(directory, segment_bytes=segment_bytes)
    for batch in batches:
        log.append_batch(batch)
    log.close()


def record_ends(payloads: list[bytes]) -> list[int]:
    """Offset just after each record, for one segment holding `payloads` in order."""
    ends, offset = [], 0
    for payload in payloads:
        offset += FRAME_OVERHEAD + len(payload)
        ends.append(offset)
    return ends


def reopen(directory: Path):
    log, report = WriteAheadLog.open(directory)
    records = list(log.replay())
    log.close()
    return records, report


def payloads_for(count: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    return [f"record-{i}-".encode() + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40)))
            for i in range(count)]


def test_records_survive_reopen_in_order(tmp_path: Path) -> None:
    """§5.1: the log is the durable record; reopening yields every record with its LSN."""
    payloads = payloads_for(10)
    build_log(tmp_path, [payloads[:3], payloads[3:4], payloads[4:]])
    records, report = reopen(tmp_path)
    assert records == list(enumerate(payloads, start=1))
    assert report.torn_tail is None and report.last_lsn == 10


def test_truncation_at_every_offset_of_the_last_records_yields_a_clean_prefix(tmp_path: Path) -> None:
    """A crash can cut the file anywhere in the unsynced tail: recovery keeps exactly the
    whole records before the cut, reports the cut, and the log accepts appends again."""
    payloads = payloads_for(8)
    source = tmp_path / "source"
    build_log(source, [payloads[:5], payloads[5:]])
    (_, segment), = list_segments(source)
    data = segment.read_bytes()
    ends = record_ends(payloads)
    assert ends[-1] == len(data)
    for cut in range(ends[4], len(data) + 1):  # every byte offset of the last three records
        trial = tmp_path / f"cut-{cut}"
        trial.mkdir()
        (trial / segment.name).write_bytes(data[:cut])
        whole = sum(1 for end in ends if end <= cut)
        records, report = reopen(trial)
        assert records == list(enumerate(payloads[:whole], start=1)), cut
        if cut == ends[whole - 1]:
            assert report.torn_tail is None
        else:
            assert report.torn_tail is not None
            assert report.torn_tail.offset == ends[whole - 1]
            assert report.torn_tail.discarded_bytes == cut - ends[whole - 1]
            assert (trial / segment.name).stat().st_size == ends[whole - 1]
        log, _ = WriteAheadLog.open(trial)
        assert log.append_batch([b"after"]) == [whole + 1]
        log.close()
        shutil.rmtree(trial)


def test_bit_flips_are_always_detected_and_never_applied(tmp_path: Path) -> None:
    """§5.2: every log entry carries a checksum. A flipped bit anywhere either stops recovery
    with the exact segment and offset, or (only inside the last, possibly unsynced group
    commit) is cut as a torn tail; no damaged record is ever replayed."""
    payloads = payloads_for(12)
    batches = [payloads[:4], payloads[4:8], payloads[8:]]
    source = tmp_path / "source"
    build_log(source, batches)
    (_, segment), = list_segments(source)
    data = segment.read_bytes()
    ends = record_ends(payloads)
    starts = [0, *ends[:-1]]
    last_batch_start = starts[8]
    rng = random.Random(2022)
    for trial_number in range(300):
        bit = rng.randrange(len(data) * 8)
        damaged = bytearray(data)
        damaged[bit // 8] ^= 1 << (bit % 8)
        hit = next(i for i, end in enumerate(ends) if bit // 8 < end)  # the damaged record
        trial = tmp_path / f"flip-{trial_number}"
        trial.mkdir()
        (trial / segment.name).write_bytes(bytes(damaged))
        try:
            records, report = reopen(trial)
        except CorruptLogError as error:
            assert error.segment == trial / segment.name
            assert error.offset == starts[hit]
            assert starts[hit] < last_batch_start, "damage in the last batch is a torn tail"
        else:
            assert starts[hit] >= last_batch_start, f"corruption at {starts[hit]} was not refused"
            assert report.torn_tail is not None and report.torn_tail.offset == starts[hit]
            assert records == list(enumerate(payloads[:hit], start=1))
        shutil.rmtree(trial)


def test_a_zeroed_record_inside_the_last_group_commit_is_a_torn_tail(tmp_path: Path) -> None:
    """Pages of one write may reach the disk out of order: a hole in the last batch followed
    by more of that same batch is still a torn write, and the whole rest is cut."""
    payloads = payloads_for(6)
    build_log(tmp_path, [payloads[:2], payloads[2:]])
    (_, segment), = list_segments(tmp_path)
    data = bytearray(segment.read_bytes())
    ends = record_ends(payloads)
    data[ends[2] : ends[3]] = bytes(ends[3] - ends[2])  # record 4 of the batch 3..6 never landed
    segment.write_bytes(bytes(data))
    records, report = reopen(tmp_path)
    assert records == list(enumerate(payloads[:3], start=1))
    assert report.torn_tail is not None and report.torn_tail.offset == ends[2]


def test_a_damaged_record_before_a_later_group_commit_is_corruption(tmp_path: Path) -> None:
    """A later batch is written only after the earlier one's fsync: damage behind it is not a
    crash, and recovery refuses to serve, naming segment and offset."""
    payloads = payloads_for(6)
    build_log(tmp_path, [payloads[:3], payloads[3:]])
    (_, segment), = list_segments(tmp_path)
    data = bytearray(segment.read_bytes())
    ends = record_ends(payloads)
    data[ends[0] : ends[1]] = bytes(ends[1] - ends[0])
    segment.write_bytes(bytes(data))
    with pytest.raises(CorruptLogError) as caught:
        WriteAheadLog.open(tmp_path)
    assert caught.value.offset == ends[0]
    assert caught.value.segment == segment
    assert f"at offset {ends[0]}" in str(caught.value) and segment.name in str(caught.value)
    assert segment.read_bytes() == bytes(data), "a refused log is left untouched"


def test_damage_in_a_sealed_segment_is_corruption_even_at_its_end(tmp_path: Path) -> None:
    """A sealed segment was fsynced before the next one began: a cut at its end is corruption."""
    build_log(tmp_path, [[b"a" * 100], [b"b" * 100], [b"c" * 100]], segment_bytes=100)
    segments = list_segments(tmp_path)
    assert len(segments) == 4  # three sealed, one empty newest
    first = segments[0][1]
    first.write_bytes(first.read_bytes()[:-5])
    with pytest.raises(CorruptLogError) as caught:
        WriteAheadLog.open(tmp_path)
    assert caught.value.segment == first and caught.value.offset == 0
    assert "sealed segment" in str(caught.value)


def test_a_missing_segment_is_a_hole_in_sequence_numbers(tmp_path: Path) -> None:
    build_log(tmp_path, [[b"a" * 100], [b"b" * 100], [b"c" * 100]], segment_bytes=100)
    list_segments(tmp_path)[1][1].unlink()
    with pytest.raises(CorruptLogError, match="hole in sequence numbers"):
        WriteAheadLog.open(tmp_path)


def test_replay_from_an_lsn_and_rotation_keep_lsns_contiguous(tmp_path: Path) -> None:
    payloads = payloads_for(30)
    build_log(tmp_path, [payloads[i : i + 3] for i in range(0, 30, 3)], segment_bytes=150)
    log, report = WriteAheadLog.open(tmp_path)
    assert report.segments > 3
    assert list(log.replay(17)) == list(enumerate(payloads, start=1))[16:]
    assert log.append_batch([b"x", b"y"]) == [31, 32]
    log.close()


def test_an_unknown_fsync_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="fsync policy"):
        WriteAheadLog.open("/nonexistent-never-created", fsync="sometimes")  # type: ignore[arg-type]
