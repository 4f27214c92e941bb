"""A storage node's token buckets under each era (§4, §4.1, §4.2).

`StorageAdmission` keeps, per partition and kind, the allocated and burst
buckets, and one bucket per kind for the node. What a partition is allocated
depends on the era; these tests read it, and the counts adaptive capacity and
the dashboards take from it.
"""

from __future__ import annotations

import pytest

from dynamo.admission.allocation import PARTITION_MAX, Throughput
from dynamo.admission.bursting import ALLOCATED, BURST
from dynamo.admission.eras import ERAS, Era
from dynamo.admission.storage_admission import (
    NODE_MAX,
    StorageAdmission,
    TableLimits,
)
from dynamo.partitioning.partition_map import table_root

ROOT = "t0123456789ab."
CHILD = ROOT + "10"  # two splits deep: a quarter of the table


def told(era: Era, table: Throughput, on_demand: bool = False) -> StorageAdmission:
    admission = StorageAdmission(era)
    admission.set_table(ROOT, TableLimits(table, on_demand), 0.0)
    return admission


def drain(admission: StorageAdmission, now: float, partition: str = ROOT) -> int:
    """1-WCU writes at one instant until one is throttled: how many were admitted."""
    admitted = 0
    while (source := admission.admit(partition, "write", now)) is not None:
        admission.charge(partition, "write", source, 1.0, now)
        admitted += 1
    return admitted


def test_the_four_eras_are_a_switch() -> None:
    """§4: the eras are static, bursting, adaptive and GAC, and GAC is today's default."""
    assert ERAS == ("static", "bursting", "adaptive", "gac")
    assert [Era(e).bursts for e in ERAS] == [False, True, True, True]
    assert [Era(e).divides_table for e in ERAS] == [True, True, True, False]


def test_a_partitions_table_is_named_by_its_first_partition() -> None:
    assert table_root(ROOT) == ROOT
    assert table_root(CHILD) == ROOT


def test_eras_1_to_3_allocate_a_partition_its_share_of_the_table() -> None:
    """§4: under static allocation, bursting and adaptive capacity a partition is
    allocated its even share of its table's throughput."""
    table = Throughput(read=1200.0, write=400.0)
    for era in (Era.STATIC, Era.BURSTING, Era.ADAPTIVE):
        assert told(era, table).allocation(CHILD) == Throughput(300.0, 100.0), era


def test_under_gac_a_partition_may_burst_up_to_the_partition_maximum() -> None:
    """§4.2: with GAC, partitions burst always, up to the maximum partition capacity: the
    table's limit is kept by the routers, and the partition buckets only cap a partition
    at 3,000 RCU and 1,000 WCU, whatever its table's throughput."""
    admission = told(Era.GAC, Throughput(read=30.0, write=10.0))
    assert admission.allocation(CHILD) == PARTITION_MAX
    sources = [admission.admit(CHILD, "write", 0.0) for _ in range(1001)]
    assert sources == [ALLOCATED] * 1000 + [BURST]


def test_a_partition_bursts_no_further_than_its_node_can_serve() -> None:
    """§4.2: the node-level buckets protect storage nodes: under GAC a partition's spike
    takes its 1,000 allocated writes and bursts until the node's 8,000 are spent,
    though its burst bucket holds 300,000."""
    admission = told(Era.GAC, Throughput(read=30.0, write=10.0))
    assert drain(admission, 0.0, CHILD) == NODE_MAX.write
    assert admission.state(0.0)["partitions"][CHILD]["write"]["burst"] == 300_000 - 7000


def test_node_level_buckets_protect_the_node_in_every_era_that_bursts() -> None:
    """§4.1.1, §4.2: a node-level bucket per kind keeps bursting partitions within what the
    node can serve; the static era had none."""
    for era in (Era.BURSTING, Era.ADAPTIVE, Era.GAC):
        node = StorageAdmission(era).state(0.0)["node"]
        assert node["write"]["capacity"] == NODE_MAX.write, era
        assert node["read"]["capacity"] == NODE_MAX.read, era
    assert StorageAdmission(Era.STATIC).state(0.0)["node"] == {}


def test_a_partition_whose_table_is_not_known_yet_gets_only_the_partition_cap() -> None:
    """A node told nothing of a table yet (its control-plane message still on the way)
    does not throttle it below the partition maximum."""
    assert StorageAdmission(Era.STATIC).allocation(ROOT) == PARTITION_MAX


def test_an_on_demand_tables_partitions_share_double_the_initial_peak() -> None:
    """§4.5: an on-demand table instantly serves double its previous peak (12,000 RRU,
    4,000 WRU when new); eras without GAC divide that among its partitions, capped."""
    admission = told(Era.BURSTING, Throughput(0.0, 0.0), on_demand=True)
    assert admission.allocation(ROOT) == PARTITION_MAX
    assert admission.allocation(CHILD) == Throughput(read=3000.0, write=1000.0)
    assert admission.allocation(CHILD + "1") == Throughput(read=1500.0, write=500.0)


def test_update_table_raising_the_throughput_lifts_the_throttling() -> None:
    """DG, UpdateTable: a table throttled at 1 WCU, its burst spent, is raised to 100 WCU;
    its partition's buckets follow at once, and the next second serves about 100 writes
    where it would have served one."""
    def next_second(admission: StorageAdmission) -> int:
        admitted = 0
        for i in range(1, 201):
            now = i * 5.0
            source = admission.admit(ROOT, "write", now)
            if source is not None:
                admission.charge(ROOT, "write", source, 1.0, now)
                admitted += 1
        return admitted

    kept, raised = (told(Era.BURSTING, Throughput(1.0, 1.0)) for _ in range(2))
    for admission in (kept, raised):
        assert drain(admission, 0.0) == 301
    raised.set_table(ROOT, TableLimits(Throughput(100.0, 100.0)), 0.0)
    assert next_second(kept) <= 2
    assert next_second(raised) == pytest.approx(100, abs=2)


def test_a_boost_replaces_the_share_and_none_gives_it_back() -> None:
    """§4.1.2: adaptive capacity's boost is the partition's allocation until it is taken
    back; a boost is capped at the partition maximum."""
    admission = told(Era.ADAPTIVE, Throughput(read=1200.0, write=400.0))
    admission.boost(CHILD, Throughput(read=300.0, write=180.0), 0.0)
    assert admission.allocation(CHILD) == Throughput(300.0, 180.0)
    admission.boost(CHILD, Throughput(read=9000.0, write=9000.0), 0.0)
    assert admission.allocation(CHILD) == PARTITION_MAX
    admission.boost(CHILD, None, 0.0)
    assert admission.allocation(CHILD) == Throughput(300.0, 100.0)


def test_a_boost_retunes_a_partitions_buckets_already_serving() -> None:
    """§4.1.2: a boost takes effect on the partition's bucket at once: a throttled
    partition boosted from 100 to 200 WCU serves about 200 writes the next second."""
    admission = told(Era.STATIC, Throughput(read=1200.0, write=400.0))
    drain(admission, 0.0, CHILD)
    admission.boost(CHILD, Throughput(read=300.0, write=200.0), 0.0)
    assert drain(admission, 1000.0, CHILD) == 200


def test_usage_counts_what_each_partition_consumed_and_was_refused_then_resets() -> None:
    """§4.1.2: adaptive capacity monitors consumed capacity and throttling: the node counts
    both per partition and kind, and hands them over once an interval."""
    admission = told(Era.STATIC, Throughput(read=3.0, write=1.0))
    source = admission.admit(ROOT, "write", 0.0)
    assert source == ALLOCATED
    admission.charge(ROOT, "write", source, 2.5, 0.0)
    assert admission.admit(ROOT, "write", 0.0) is None
    assert admission.admit(ROOT, "write", 0.0) is None
    usage = admission.take_usage()[ROOT]
    assert usage.consumed == {"read": 0.0, "write": 2.5}
    assert usage.throttled == {"read": 0, "write": 2}
    assert admission.throttles == 2
    assert admission.take_usage() == {}


def test_a_partition_that_left_the_node_leaves_no_buckets_behind() -> None:
    """§4.3, §4.4: a partition split or moved away is forgotten: its buckets, boost and
    counts go, and a partition hosted again starts afresh."""
    admission = told(Era.BURSTING, Throughput(1.0, 1.0))
    drain(admission, 0.0)
    admission.forget(ROOT)
    assert ROOT not in admission.state(0.0)["partitions"]
    assert admission.admit(ROOT, "write", 0.0) == ALLOCATED


def test_a_request_takes_a_unit_when_admitted_and_the_rest_once_its_cost_is_known() -> None:
    """§4: a request's cost is known only once it has run, so admission takes one unit at
    once (requests in flight cannot all be admitted on the same token) and the rest, or
    a refund, when it is charged: a 3 KB write costs 3 WCU, an eventual read 0.5 RCU."""
    admission = told(Era.STATIC, Throughput(read=1.0, write=1.0))
    assert admission.admit(ROOT, "write", 0.0) == ALLOCATED
    assert admission.admit(ROOT, "write", 0.0) is None  # the first is still in flight
    admission.charge(ROOT, "write", ALLOCATED, 3.0, 0.0)
    assert admission.state(0.0)["partitions"][ROOT]["write"]["tokens"] == -2.0
    assert admission.admit(ROOT, "read", 0.0) == ALLOCATED
    admission.charge(ROOT, "read", ALLOCATED, 0.5, 0.0)
    assert admission.state(0.0)["partitions"][ROOT]["read"]["tokens"] == 0.5


def test_the_state_shows_each_partitions_allocation_and_bucket_levels() -> None:
    """The dashboard shows, per partition, its allocation and bucket and burst levels (a
    read admitted and not yet answered holds one unit)."""
    admission = told(Era.BURSTING, Throughput(read=3.0, write=1.0))
    drain(admission, 0.0)
    assert admission.admit(ROOT, "read", 0.0) == ALLOCATED
    state = admission.state(0.0)
    assert state["era"] == "bursting"
    assert state["throttles"] == 1
    assert state["partitions"][ROOT] == {
        "boosted": False,
        "read": {"allocation": 3.0, "consumed": 0.0, "tokens": 2.0, "burst": 900.0},
        "write": {"allocation": 1.0, "consumed": 301.0, "tokens": 0.0, "burst": 0.0},
    }
