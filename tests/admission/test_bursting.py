"""Era 2, bursting: unused capacity kept for 300 seconds, spent while the node has room (§4.1.1).

Each partition has two buckets per kind at its storage node, the allocated one
and the burst one, and the node has a bucket of its own. The tests drive a
`StorageAdmission` under the `bursting` era on a virtual clock, and a spike is
many 1-WCU writes arriving at the same instant.
"""

from __future__ import annotations

import pytest

from dynamo.admission.allocation import Throughput
from dynamo.admission.bursting import ALLOCATED, BURST, BURST_SECONDS, PartitionBuckets
from dynamo.admission.eras import Era
from dynamo.admission.storage_admission import StorageAdmission, TableLimits

ROOT = "t0123456789ab."
OTHER = "tba9876543210."  # another table's partition on the same node


def bursting(wcu: float, node: Throughput | None = None) -> StorageAdmission:
    admission = (StorageAdmission(Era.BURSTING) if node is None
                 else StorageAdmission(Era.BURSTING, node_capacity=node))
    admission.set_table(ROOT, TableLimits(Throughput(read=wcu, write=wcu)), 0.0)
    return admission


def spike(admission: StorageAdmission, now: float, partition: str = ROOT,
          limit: int = 100_000) -> list[str]:
    """1-WCU writes at one instant until one is throttled: the buckets that admitted them."""
    sources = []
    for _ in range(limit):
        source = admission.admit(partition, "write", now)
        if source is None:
            break
        admission.charge(partition, "write", source, 1.0, now)
        sources.append(source)
    return sources


def burst_level(admission: StorageAdmission, now: float, partition: str = ROOT) -> float:
    return admission.state(now)["partitions"][partition]["write"]["burst"]


def test_unused_capacity_is_retained_for_up_to_300_seconds() -> None:
    """§4.1.1 bursting: DynamoDB retains up to 300 seconds of a partition's unused
    capacity: the burst bucket holds 300 times the allocation a second."""
    assert BURST_SECONDS == 300.0
    buckets = PartitionBuckets.for_allocation(10.0, bursting=True, now_ms=0.0)
    assert buckets.burst is not None
    assert buckets.burst.capacity == 3000.0
    assert buckets.burst.tokens == 3000.0  # a new partition starts as if idle for 300 s


def test_a_1_wcu_partition_idle_absorbs_about_300_writes_from_burst_then_throttles() -> None:
    """§4.1.1: a partition at its allocation absorbs a spike from its burst capacity: a
    1 WCU partition, idle, takes its one allocated write and 300 more from burst, then
    is throttled."""
    admission = bursting(1.0)
    sources = spike(admission, 0.0)
    assert sources[0] == ALLOCATED
    assert sources[1:] == [BURST] * 300
    assert admission.admit(ROOT, "write", 0.0) is None
    assert admission.throttles == 2  # the refusal that ended the spike, and this one


def test_the_static_era_absorbs_no_spike() -> None:
    """§4: before bursting, the same spike is throttled after the one allocated write."""
    admission = StorageAdmission(Era.STATIC)
    admission.set_table(ROOT, TableLimits(Throughput(1.0, 1.0)), 0.0)
    assert spike(admission, 0.0) == [ALLOCATED]


def test_burst_capacity_builds_up_from_idle_time_and_stops_at_300_seconds() -> None:
    """§4.1.1: unused capacity is retained for up to 300 seconds, no longer: 100 s idle
    at 10 WCU keep about 1,000 writes of burst, 1,000 s idle keep 3,000, not 10,000."""
    admission = bursting(10.0)
    spike(admission, 0.0)  # drain both buckets
    after_100_s = spike(admission, 100_000.0)
    assert len(after_100_s) == pytest.approx(1000, abs=2)
    spike(admission, 100_000.0)
    after_1000_s = spike(admission, 1_100_000.0)
    assert after_1000_s.count(BURST) == 3000
    assert after_1000_s.count(ALLOCATED) == 10


def test_burst_capacity_refills_only_from_unused_capacity() -> None:
    """§4.1.1: burst is made of capacity the partition had and did not use: a partition
    consuming exactly its allocation for a minute keeps no burst; one idle for a minute
    keeps a minute of it."""
    admission = bursting(10.0)
    spike(admission, 0.0)
    for i in range(1, 601):  # 10 writes a second, each as a token is earned
        now = i * 100.0
        source = admission.admit(ROOT, "write", now)
        assert source == ALLOCATED
        admission.charge(ROOT, "write", source, 1.0, now)
    assert burst_level(admission, 60_000.0) == pytest.approx(0.0, abs=0.01)
    assert burst_level(admission, 120_000.0) == pytest.approx(590.0, abs=0.01)  # 60 s, less 1 s kept


def test_a_partition_bursts_only_while_its_storage_node_has_tokens() -> None:
    """§4.1.1: once the allocated tokens are exhausted, a request is admitted only if both
    the burst bucket and the node-level bucket have tokens: a node with 10 WCU to spare
    lets the partition burst 9 writes beyond its allocated one, with 291 burst unspent."""
    admission = bursting(1.0, node=Throughput(read=30.0, write=10.0))
    sources = spike(admission, 0.0)
    assert sources == [ALLOCATED] + [BURST] * 9
    assert burst_level(admission, 0.0) == pytest.approx(291.0)
    more = spike(admission, 1000.0)  # a second later the node has 10 tokens again
    assert more.count(BURST) == 9


def test_a_partition_within_its_allocation_is_admitted_even_when_the_node_is_out() -> None:
    """§4.1.1: a request is admitted while its partition's allocated bucket has tokens;
    the node-level bucket gates only bursting, so a neighbour's burst cannot take a
    partition's allocation away."""
    admission = bursting(5.0, node=Throughput(read=10.0, write=10.0))
    admission.set_table(OTHER, TableLimits(Throughput(5.0, 5.0)), 0.0)
    spike(admission, 0.0, partition=OTHER)  # the neighbour bursts the node dry
    assert admission.state(0.0)["node"]["write"]["tokens"] <= 0
    assert spike(admission, 0.0) == [ALLOCATED] * 5


def test_a_request_is_charged_to_the_bucket_that_admitted_it() -> None:
    """§4.1.1: a request admitted from burst is taken out of the burst bucket (and the
    node's), the allocated bucket staying as it was."""
    admission = bursting(1.0)
    spike(admission, 0.0, limit=1)  # the allocated token
    source = admission.admit(ROOT, "write", 0.0)
    assert source == BURST
    admission.charge(ROOT, "write", source, 4.0, 0.0)  # a 4 KB write
    state = admission.state(0.0)
    assert state["partitions"][ROOT]["write"]["burst"] == pytest.approx(296.0)
    assert state["partitions"][ROOT]["write"]["tokens"] == pytest.approx(0.0)
    assert state["node"]["write"]["tokens"] == pytest.approx(8000.0 - 5.0)


def test_reads_and_writes_burst_from_buckets_of_their_own() -> None:
    """§4: reads are charged RCU and writes WCU, each against its own buckets: a write
    spike that empties the write burst leaves the read burst full."""
    admission = bursting(1.0)
    spike(admission, 0.0)
    assert admission.admit(ROOT, "read", 0.0) == ALLOCATED
    assert admission.state(0.0)["partitions"][ROOT]["read"]["burst"] == 300.0
