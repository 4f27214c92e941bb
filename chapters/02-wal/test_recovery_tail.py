"""Chapter 2, graded: recovery's tail handling (`recover_tail` in dynamo/wal/recovery.py).

Each test builds a real log with `WriteAheadLog`, damages its files the way a crash
or a failing disk would, opens it again and checks what recovery decided. The rules
come from the paper: every log record carries a checksum and an acknowledged write
is never lost nor silently changed (§5.1, §5.2), so

- a *torn tail* (a partial or missing end of the newest segment, where the last
  group commit may not have reached the disk) is cut off, and the report says where;
- *corruption* (damage in a sealed segment, or damage that a later, durable group
  commit follows) stops recovery with CorruptLogError naming segment and offset.

A failure says which log was written (its group commits), what was damaged, what
recovery should have decided and what it did, and the rule that decides it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dynamo.wal import CorruptLogError, WriteAheadLog
from dynamo.wal.recovery import RecoveryReport, recover_tail, scan_segment
from dynamo.wal.segment import FRAME_OVERHEAD, list_segments

PAYLOADS = [f"write number {i}".encode() * (i + 1) for i in range(6)]

TORN = (
    "a torn tail (damage at the end of the newest segment that no later group commit follows) "
    "is cut off at the end of the last whole record, and the report says where: nothing in it "
    "was acknowledged, since an append is acknowledged only after its group commit's fsync (§5.1)"
)
CORRUPT = (
    "damage that a crash cannot explain is corruption: in a sealed segment, or followed by a "
    "valid record of a later group commit (written only after the damaged one's fsync returned, "
    "so the damaged record had been acknowledged). Recovery raises CorruptLogError naming the "
    "segment and the bad record's offset and truncates nothing, so no acknowledged write is "
    "silently lost (§5.1, §5.2)"
)


def write_log(directory: Path, batches: list[list[bytes]], segment_bytes: int = 1 << 20) -> Path:
    """Append the batches (one group commit each); return the newest non-empty segment."""
    log, _ = WriteAheadLog.open(directory, segment_bytes=segment_bytes)
    for batch in batches:
        log.append_batch(batch)
    log.close()
    return list_segments(directory)[0][1]


def describe(batches: list[list[bytes]]) -> str:
    """The log's group commits as LSN ranges, e.g. `LSN 1-3 | LSN 4-6`."""
    parts, lsn = [], 1
    for batch in batches:
        parts.append(f"LSN {lsn}-{lsn + len(batch) - 1}" if len(batch) > 1 else f"LSN {lsn}")
        lsn += len(batch)
    return f"one segment, group commits {' | '.join(parts)} (one fsync each)"


def ends(payloads: list[bytes]) -> list[int]:
    """Offset just after each record of a segment holding `payloads`."""
    out, offset = [], 0
    for payload in payloads:
        offset += FRAME_OVERHEAD + len(payload)
        out.append(offset)
    return out


def reopen(directory: Path) -> tuple[list[bytes], RecoveryReport]:
    log, report = WriteAheadLog.open(directory)
    records = [payload for _, payload in log.replay()]
    log.close()
    return records, report


def explain(log: str, damage: str, expected: str, got: str, rule: str) -> str:
    return f"Log: {log}\nDamage: {damage}\nExpected: {expected}\nbut {got}.\nThe rule: {rule}."


def expect_torn_tail(directory: Path, log: str, damage: str, keep: int, offset: int, discarded: int) -> None:
    """Recovery keeps the first `keep` records and reports a torn tail cut at `offset`."""
    expected = (f"a torn tail: keep the {keep} whole records LSN 1-{keep}, cut the segment at offset "
                f"{offset} and report {discarded} discarded bytes")
    try:
        records, report = reopen(directory)
    except CorruptLogError as error:
        refused = error.reason
    else:
        refused = None
    if refused is not None:  # outside the except block, so the report is the explanation alone
        pytest.fail(explain(log, damage, expected, f"recovery raised CorruptLogError ({refused})", TORN))
    got = []
    if records != PAYLOADS[:keep]:
        got.append(f"the log replays {len(records)} records")
    tail = report.torn_tail
    if tail is None:
        got.append("the report has no torn tail (torn_tail is None)")
    elif (tail.offset, tail.discarded_bytes) != (offset, discarded):
        got.append(f"the report says cut at offset {tail.offset}, {tail.discarded_bytes} bytes discarded")
    if got:
        pytest.fail(explain(log, damage, expected, "; ".join(got), TORN))


def expect_corruption(directory: Path, log: str, damage: str, segment: Path, offset: int) -> None:
    """Opening the log raises CorruptLogError naming `segment` and `offset`, and changes no file."""
    before = segment.read_bytes()
    expected = f"CorruptLogError naming segment {segment.name} and offset {offset}, the file left as it is"
    try:
        records, report = reopen(directory)
    except CorruptLogError as error:
        named = None if (error.segment, error.offset) == (segment, offset) else (
            f"it named segment {error.segment.name} at offset {error.offset}")
    else:
        cut = f", cutting a torn tail at offset {report.torn_tail.offset}" if report.torn_tail else ""
        named = f"recovery opened the log with {len(records)} records{cut}"
    if named is not None:  # outside the except block, so the report is the explanation alone
        pytest.fail(explain(log, damage, expected, named, CORRUPT))
    assert segment.read_bytes() == before, explain(
        log, damage, expected, "recovery raised but also changed the segment file", CORRUPT)


def test_a_torn_tail_is_truncated_to_the_last_whole_record(tmp_path: Path) -> None:
    """A crash cut the last record in half: keep the five whole records, cut the rest."""
    batches = [PAYLOADS[:3], PAYLOADS[3:]]
    segment = write_log(tmp_path, batches)
    cut = ends(PAYLOADS)[4] + 10
    segment.write_bytes(segment.read_bytes()[:cut])
    damage = f"the file ends 10 bytes into LSN 6 (cut at byte {cut}), as a crash mid-write leaves it"
    expect_torn_tail(tmp_path, describe(batches), damage, keep=5, offset=ends(PAYLOADS)[4], discarded=10)
    size = segment.stat().st_size
    assert size == ends(PAYLOADS)[4], explain(
        describe(batches), damage, f"the segment file truncated to {ends(PAYLOADS)[4]} bytes",
        f"it is {size} bytes long", TORN + "; the torn bytes are cut from the file itself, so the next "
        "append does not land behind garbage")


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
        damage = f"the file ends at byte {cut}, {cut - start} bytes into LSN 6"
        expect_torn_tail(trial, describe([PAYLOADS]), damage, keep=5, offset=start, discarded=cut - start)
        log, _ = WriteAheadLog.open(trial)
        lsns = log.append_batch([b"next"])
        log.close()
        assert lsns == [6], explain(
            describe([PAYLOADS]), damage, "the next append after recovery gets LSN 6",
            f"it got {lsns}", TORN + "; the cut record's LSN was never acknowledged, so it is reused")


def test_zeros_after_the_last_record_are_a_torn_tail(tmp_path: Path) -> None:
    """A file system may extend a file before the data lands: zeros at the end are torn."""
    segment = write_log(tmp_path, [PAYLOADS])
    segment.write_bytes(segment.read_bytes() + bytes(4096))
    expect_torn_tail(tmp_path, describe([PAYLOADS]),
                     "4096 zero bytes after LSN 6 (the file grew before its data reached the disk)",
                     keep=6, offset=ends(PAYLOADS)[5], discarded=4096)


def test_a_hole_inside_the_last_group_commit_is_still_a_torn_tail(tmp_path: Path) -> None:
    """One write's pages can reach the disk out of order. A missing record followed only by
    records of the *same* group commit is a torn write: cut from the hole on."""
    batches = [PAYLOADS[:2], PAYLOADS[2:]]
    segment = write_log(tmp_path, batches)
    data = bytearray(segment.read_bytes())
    record_ends = ends(PAYLOADS)
    data[record_ends[2] : record_ends[3]] = bytes(record_ends[3] - record_ends[2])
    segment.write_bytes(bytes(data))
    expect_torn_tail(tmp_path, describe(batches),
                     f"LSN 4 zeroed (offset {record_ends[2]}); LSN 5 and 6 of the same group commit follow intact",
                     keep=3, offset=record_ends[2], discarded=len(data) - record_ends[2])


def test_a_hole_at_the_start_of_the_last_group_commit_is_still_a_torn_tail(tmp_path: Path) -> None:
    """The damaged record is the *first* of the last group commit, so the records after it
    belong to the same write (their batch began at the damaged LSN): still a torn tail.
    Only a group commit that began *after* the damaged record proves it durable."""
    batches = [PAYLOADS[:2], PAYLOADS[2:]]
    segment = write_log(tmp_path, batches)
    data = bytearray(segment.read_bytes())
    record_ends = ends(PAYLOADS)
    data[record_ends[1] : record_ends[2]] = bytes(record_ends[2] - record_ends[1])
    segment.write_bytes(bytes(data))
    expect_torn_tail(tmp_path, describe(batches),
                     f"LSN 3, the first record of the last group commit, zeroed (offset {record_ends[1]}); "
                     "LSN 4-6 of that same group commit follow intact",
                     keep=2, offset=record_ends[1], discarded=len(data) - record_ends[1])


def test_damage_before_a_later_group_commit_is_corruption(tmp_path: Path) -> None:
    """The second group commit was written only after the first one's fsync returned, so a
    damaged record of the first is corruption: refuse, naming the segment and the offset."""
    batches = [PAYLOADS[:3], PAYLOADS[3:]]
    segment = write_log(tmp_path, batches)
    data = bytearray(segment.read_bytes())
    offset = ends(PAYLOADS)[0]  # the second record
    data[offset + FRAME_OVERHEAD + 2] ^= 0x01
    segment.write_bytes(bytes(data))
    expect_corruption(tmp_path, describe(batches),
                      f"one bit flipped in the payload of LSN 2 (offset {offset}); the group commit LSN 4-6 follows",
                      segment, offset)


def test_damage_to_the_last_record_before_the_next_group_commit_is_corruption(tmp_path: Path) -> None:
    """The damaged record is the last of its group commit and the next group commit begins at
    the very next LSN: that next batch proves the damaged one was durable."""
    batches = [PAYLOADS[:3], PAYLOADS[3:]]
    segment = write_log(tmp_path, batches)
    data = bytearray(segment.read_bytes())
    offset = ends(PAYLOADS)[1]  # LSN 3, the last record of the first group commit
    data[offset + FRAME_OVERHEAD + 2] ^= 0x01
    segment.write_bytes(bytes(data))
    expect_corruption(tmp_path, describe(batches),
                      f"one bit flipped in the payload of LSN 3 (offset {offset}), the last record of the first "
                      "group commit; the group commit LSN 4-6 follows",
                      segment, offset)


def test_damage_in_a_sealed_segment_is_corruption(tmp_path: Path) -> None:
    """A sealed segment was fsynced before the log moved on: even a cut end is corruption."""
    write_log(tmp_path, [[p] for p in PAYLOADS], segment_bytes=1)  # one record per segment
    oldest = list_segments(tmp_path)[0][1]
    oldest.write_bytes(oldest.read_bytes()[:-1])
    expect_corruption(tmp_path, "six segments of one record each (LSN 1 to LSN 6), each its own group commit",
                      f"the last byte of the oldest, sealed segment {oldest.name} cut off", oldest, 0)


def test_a_whole_segment_needs_no_cut(tmp_path: Path) -> None:
    """recover_tail's first case: a segment whose every record is valid is left as it is."""
    segment = write_log(tmp_path, [PAYLOADS[:3], PAYLOADS[3:]])
    for is_newest in (True, False):
        got = recover_tail(scan_segment(segment, 1), is_newest=is_newest)
        assert got is None, explain(
            describe([PAYLOADS[:3], PAYLOADS[3:]]), f"none (the segment is {'newest' if is_newest else 'sealed'})",
            "recover_tail returns None: nothing to cut, nothing to refuse", f"it returned {got!r}",
            "recovery changes nothing in a log that has no damage (§5.1)")
