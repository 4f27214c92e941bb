"""Era 1, static allocation: a table's throughput divided evenly over its partitions (§4).

A table here starts as one partition (`t<table id>.`) and a split of P makes
`P0` and `P1`, so a partition `depth` splits away from the first holds
1/2**depth of its table's throughput. The paper's examples speak of tables
made of 4 or 8 partitions: those are the partitions two and three splits deep.
The served-rate tests drive a `StorageAdmission` on a virtual clock, one
request at a time, as a storage node does.
"""

from __future__ import annotations

import pytest

from dynamo.admission.allocation import (
    PARTITION_MAX,
    Throughput,
    static_allocation,
)
from dynamo.admission.eras import Era
from dynamo.admission.storage_admission import StorageAdmission, TableLimits
from dynamo.partitioning.partition_map import split_depth

ROOT = "t0123456789ab."
FOUR = (ROOT + "00", ROOT + "01", ROOT + "10", ROOT + "11")  # a table of four partitions
EIGHT = tuple(p + half for p in FOUR for half in "01")


def writes(wcu: float) -> Throughput:
    return Throughput(read=3 * wcu, write=wcu)


def served_per_second(admission: StorageAdmission, partition: str, offered: float,
                      start_ms: float, seconds: float = 2.0) -> tuple[float, float]:
    """Offer `offered` 1-WCU writes a second for two seconds to drain the bucket of what
    it held, then for `seconds` more: (writes admitted, writes throttled) a second over
    those."""
    every = 1000.0 / offered
    admitted = throttled = 0
    steps = int((2.0 + seconds) * offered)
    for i in range(steps):
        now = start_ms + i * every
        source = admission.admit(partition, "write", now)
        if source is not None:
            admission.charge(partition, "write", source, 1.0, now)
        if i >= 2 * offered:  # past the first two seconds
            admitted += source is not None
            throttled += source is None
    return admitted / seconds, throttled / seconds


def static(table: Throughput) -> StorageAdmission:
    admission = StorageAdmission(Era.STATIC)
    admission.set_table(ROOT, TableLimits(table), 0.0)
    return admission


# --- dividing the table -------------------------------------------------------------------


def test_a_partitions_depth_is_the_number_of_splits_that_made_it() -> None:
    assert split_depth(ROOT) == 0
    assert split_depth(ROOT + "1") == 1
    assert [split_depth(p) for p in FOUR] == [2, 2, 2, 2]
    assert split_depth(ROOT + "0110") == 4


def test_a_tables_throughput_is_divided_evenly_across_its_partitions() -> None:
    """§4: the table's provisioned throughput is divided equally among its partitions, so
    the four partitions of a 400 WCU table get 100 each, and together the whole table."""
    table = Throughput(read=1200.0, write=400.0)
    shares = [static_allocation(table, p) for p in FOUR]
    assert shares == [Throughput(300.0, 100.0)] * 4
    assert sum(s.write for s in shares) == table.write


def test_split_for_size_divides_the_parents_allocation_equally_among_the_children() -> None:
    """§4: a split for size divided the parent's allocation equally among the children:
    each split halves it, whichever way it divided the keys."""
    table = writes(800.0)
    assert static_allocation(table, ROOT).write == 800.0
    assert static_allocation(table, ROOT + "0").write == 400.0
    assert static_allocation(table, ROOT + "1").write == 400.0
    assert static_allocation(table, ROOT + "10").write == 200.0


def test_a_partition_is_capped_at_3000_rcu_and_1000_wcu() -> None:
    """DG, partition key design: every partition strives to deliver up to 3,000 RCU and
    1,000 WCU, and no more, however much its table is provisioned."""
    assert PARTITION_MAX == Throughput(read=3000.0, write=1000.0)
    assert static_allocation(Throughput(40_000.0, 40_000.0), ROOT) == PARTITION_MAX
    assert static_allocation(Throughput(40_000.0, 40_000.0), FOUR[0]) == PARTITION_MAX
    assert static_allocation(Throughput(8000.0, 3000.0), FOUR[0]) == Throughput(2000.0, 750.0)


def test_the_papers_example_3200_wcu_over_four_partitions_is_800_each() -> None:
    """§4: with a 1,000 WCU partition cap, a table of 3,200 WCU gets four partitions of
    800 WCU; raised to 3,600 WCU, each gets 900."""
    assert {static_allocation(writes(3200.0), p).write for p in FOUR} == {800.0}
    assert {static_allocation(writes(3600.0), p).write for p in FOUR} == {900.0}


def test_the_papers_example_6000_wcu_needs_eight_partitions_of_750() -> None:
    """§4: raised to 6,000 WCU, four partitions would need 1,500 each, over the cap, so the
    table is split into eight of 750; lowered to 5,000 WCU, each of the eight gets 625
    (the paper prints 675, a slip: 5,000 / 8 is 625)."""
    assert static_allocation(writes(6000.0), FOUR[0]).write == 1000.0  # capped: too few
    assert {static_allocation(writes(6000.0), p).write for p in EIGHT} == {750.0}
    assert {static_allocation(writes(5000.0), p).write for p in EIGHT} == {625.0}


# --- enforcing it at the storage node -----------------------------------------------------


def test_a_partition_is_served_at_its_allocation_and_throttled_beyond_it() -> None:
    """§4: each storage node enforces its partitions' allocations with token buckets: a
    partition of a 100 WCU table offered 300 writes a second serves 100 of them."""
    admission = static(writes(100.0))
    admitted, throttled = served_per_second(admission, ROOT, offered=300.0, start_ms=0.0)
    assert admitted == pytest.approx(100.0, abs=2.0)
    assert throttled == pytest.approx(200.0, abs=2.0)


def test_the_static_era_keeps_no_unused_capacity() -> None:
    """§4: before bursting, capacity a partition did not use was lost: a 1 WCU partition
    idle for five minutes still admits one write, then throttles."""
    admission = static(writes(1.0))
    admission.admit(ROOT, "write", 0.0)  # the partition's buckets exist from here on
    admission.charge(ROOT, "write", "allocated", 1.0, 0.0)
    now = 300_000.0
    source = admission.admit(ROOT, "write", now)
    assert source == "allocated"
    admission.charge(ROOT, "write", source, 1.0, now)
    assert admission.admit(ROOT, "write", now) is None


def test_update_table_reallocates_every_partition_at_once() -> None:
    """§4: raising a table's throughput raises every partition's allocation: the buckets
    of partitions already serving follow UpdateTable."""
    admission = static(writes(100.0))
    before, _ = served_per_second(admission, ROOT, offered=500.0, start_ms=0.0)
    admission.set_table(ROOT, TableLimits(writes(300.0)), 10_000.0)
    after, _ = served_per_second(admission, ROOT, offered=500.0, start_ms=10_000.0)
    assert before == pytest.approx(100.0, abs=2.0)
    assert after == pytest.approx(300.0, abs=2.0)


def test_throughput_dilution_a_size_split_halves_a_hot_partitions_throughput() -> None:
    """§4, throughput dilution: a hot key served at 800 WCU in a 1,000 WCU table's only
    partition is throttled to 500 once a split for size puts it in a child with half the
    allocation, though the table as a whole is still under its provisioned total."""
    admission = static(writes(1000.0))
    before, throttled_before = served_per_second(admission, ROOT, offered=800.0,
                                                 start_ms=0.0)
    admission.forget(ROOT)  # split for size: the children replace the parent
    hot = ROOT + "1"
    after, throttled_after = served_per_second(admission, hot, offered=800.0,
                                               start_ms=10_000.0)
    assert before == pytest.approx(800.0, abs=2.0) and throttled_before == 0
    assert after == pytest.approx(500.0, abs=2.0)
    assert throttled_after == pytest.approx(300.0, abs=2.0)
    assert after < 1000.0  # throttled while the table is under its provisioned total
