"""Era 3, adaptive capacity: a proportional controller boosts throttled partitions (§4.1.2).

"If a table experienced throttling and the table level throughput was not
exceeded, then it would automatically increase (boost) the allocated
throughput of the partitions of the table using a proportional control
algorithm. If the table was consuming more than its provisioned capacity then
capacity of the partitions which received the boost would be decreased."

The first tests step `control` on hand-made loads (a table of 400 WCU over four
partitions of 100, the Developer Guide's example); the last closes the loop
with a `StorageAdmission` under the `adaptive` era, as the storage nodes and
the `CapacityController` do once a second.
"""

from __future__ import annotations

import pytest

from dynamo.admission.adaptive_capacity import GAIN, PartitionLoad, control
from dynamo.admission.allocation import PARTITION_MAX, Throughput, static_allocation
from dynamo.admission.eras import Era
from dynamo.admission.storage_admission import StorageAdmission, TableLimits

ROOT = "t0123456789ab."
FOUR = (ROOT + "00", ROOT + "01", ROOT + "10", ROOT + "11")
TABLE = Throughput(read=1200.0, write=400.0)
SHARE = Throughput(read=300.0, write=100.0)


def load(writes: float, throttled: int = 0, allocation: float = 100.0) -> PartitionLoad:
    """A partition of the 400 WCU table that consumed `writes` WCU a second."""
    return PartitionLoad(SHARE, Throughput(SHARE.read, allocation), Throughput(0.0, writes),
                         (0, throttled))


def test_a_throttled_table_under_its_provisioned_total_has_the_throttled_partition_boosted(
        ) -> None:
    """§4.1.2: a table throttled while its table-level throughput is not exceeded gets
    the throttled partition's allocation raised, by the gain times the table's unused
    throughput: 400 WCU provisioned, 160 consumed, so 240 spare and +120 at gain 0.5."""
    loads = {FOUR[0]: load(100.0, throttled=50), FOUR[1]: load(20.0),
             FOUR[2]: load(20.0), FOUR[3]: load(20.0)}
    changed = control(TABLE, loads)
    assert GAIN == 0.5
    assert changed == {FOUR[0]: Throughput(read=300.0, write=220.0)}


def test_the_spare_throughput_is_shared_in_proportion_to_what_throttled_partitions_used(
        ) -> None:
    """§4.1.2, proportional control: two throttled partitions that consumed 100 and 50
    WCU share the 200 spare as 2:1 (+66.7 and +33.3 at gain 0.5)."""
    loads = {FOUR[0]: load(100.0, throttled=5), FOUR[1]: load(50.0, throttled=5),
             FOUR[2]: load(25.0), FOUR[3]: load(25.0)}
    changed = control(TABLE, loads)
    assert changed[FOUR[0]].write == pytest.approx(100.0 + 200.0 * 0.5 * 2 / 3)
    assert changed[FOUR[1]].write == pytest.approx(100.0 + 200.0 * 0.5 * 1 / 3)
    assert FOUR[2] not in changed and FOUR[3] not in changed


def test_a_throttled_table_over_its_provisioned_total_is_not_boosted() -> None:
    """§4.1.2: boosts come only while the table-level throughput is not exceeded: a table
    that consumed its whole 400 WCU gets nothing for its throttled partition."""
    loads = {FOUR[0]: load(250.0, throttled=50, allocation=250.0), FOUR[1]: load(50.0),
             FOUR[2]: load(50.0), FOUR[3]: load(50.0)}
    assert control(TABLE, loads) == {}


def test_a_table_over_its_provisioned_total_takes_back_part_of_the_boost() -> None:
    """§4.1.2: "if the table was consuming more than its provisioned capacity then
    capacity of the partitions which received the boost would be decreased": a partition
    boosted to 200 WCU gives back the gain times its 100 boost."""
    loads = {FOUR[0]: load(200.0, allocation=200.0), FOUR[1]: load(100.0),
             FOUR[2]: load(100.0), FOUR[3]: load(100.0)}  # 500 WCU consumed of 400
    assert control(TABLE, loads) == {FOUR[0]: Throughput(read=300.0, write=150.0)}


def test_a_boosted_partition_that_no_longer_needs_it_returns_to_its_share() -> None:
    """§4.1.2: a boost lasts while it is needed: a boosted partition, no longer throttled
    and consuming less than its even share, goes back to that share (None)."""
    loads = {FOUR[0]: load(60.0, allocation=220.0), FOUR[1]: load(20.0),
             FOUR[2]: load(20.0), FOUR[3]: load(20.0)}
    assert control(TABLE, loads) == {FOUR[0]: None}


def test_a_boosted_partition_still_using_its_boost_keeps_it() -> None:
    """§4.1.2: within the table's total, a boosted partition that uses more than its share
    (and is not throttled) keeps its boost: nothing changes."""
    loads = {FOUR[0]: load(180.0, allocation=220.0), FOUR[1]: load(20.0),
             FOUR[2]: load(20.0), FOUR[3]: load(20.0)}
    assert control(TABLE, loads) == {}


def test_a_boost_never_raises_a_partition_above_the_partition_maximum() -> None:
    """DG: a partition delivers at most 1,000 WCU, boosted or not: a throttled partition of
    a 2,400 WCU table (a share of 600), with 1,200 WCU of the table spare, is boosted
    to 1,000 and no further."""
    table = Throughput(read=7200.0, write=2400.0)
    share = static_allocation(table, FOUR[0])
    assert share.write == 600.0
    hot = PartitionLoad(share, Throughput(share.read, 900.0), Throughput(0.0, 900.0), (0, 9))
    cold = PartitionLoad(share, share, Throughput(0.0, 100.0), (0, 0))
    changed = control(table, {FOUR[0]: hot, FOUR[1]: cold, FOUR[2]: cold, FOUR[3]: cold})
    assert changed == {FOUR[0]: Throughput(read=share.read, write=PARTITION_MAX.write)}


def test_adaptive_capacity_is_reactive_it_acts_only_after_throttling() -> None:
    """§4.1.2: adaptive capacity is reactive: a hot partition at 100 % of its share that
    has not been throttled yet gets no boost, however much of the table is spare."""
    loads = {FOUR[0]: load(100.0), FOUR[1]: load(0.0), FOUR[2]: load(0.0),
             FOUR[3]: load(0.0)}
    assert control(TABLE, loads) == {}


def test_a_hot_partition_comes_to_sustain_150_percent_of_its_share() -> None:
    """DG, adaptive capacity, at a tenth of its scale: a 40 WCU table over four partitions
    of 10, one of them receiving 15 WCU a second: once its burst is spent it is
    throttled, and adaptive capacity raises its allocation until it sustains 15 while the
    table stays within its 40. (A spike at the start spends the burst, so the test need
    not wait for it.)"""
    table, share = TABLE.scaled(0.1), SHARE.scaled(0.1)
    admission = StorageAdmission(Era.ADAPTIVE)
    admission.set_table(ROOT, TableLimits(table), 0.0)
    hot, cold = FOUR[3], FOUR[:3]
    while admission.admit(hot, "write", 0.0) is not None:  # the spike that spends the burst
        admission.charge(hot, "write", "burst", 1.0, 0.0)
    throttled_per_second = []
    for second in range(20):
        offered = [(hot, i * 1000.0 / 15) for i in range(15)]
        offered += [(p, i * 1000.0 / 2) for p in cold for i in range(2)]
        throttled = 0
        for partition, at in sorted(offered, key=lambda o: o[1]):
            now = second * 1000.0 + at
            source = admission.admit(partition, "write", now)
            if source is None:
                throttled += partition == hot
            else:
                admission.charge(partition, "write", source, 1.0, now)
        throttled_per_second.append(throttled)
        end = (second + 1) * 1000.0
        loads = {p: PartitionLoad(share, admission.allocation(p),
                                  Throughput(u.consumed["read"], u.consumed["write"]),
                                  (u.throttled["read"], u.throttled["write"]))
                 for p, u in admission.take_usage().items()}
        for partition, allocation in control(table, loads).items():
            admission.boost(partition, allocation, end)
    assert throttled_per_second[0] > 0  # throttled first: it is reactive
    assert throttled_per_second[-10:] == [0] * 10
    assert 15.0 <= admission.allocation(hot).write <= table.write
    assert all(admission.allocation(p) == share for p in cold)


def test_a_boost_never_takes_a_partition_past_its_tables_provisioned_throughput() -> None:
    """§4.1.2: adaptive capacity boosts partitions "while the table level throughput was
    not exceeded": one partition is never allocated more than the whole table."""
    share = Throughput(25.0, 25.0)
    loads = {"t.0": PartitionLoad(share, Throughput(25.0, 95.0), Throughput(0.0, 60.0), (0, 9))}
    changed = control(Throughput(100.0, 100.0), loads)
    assert changed["t.0"] is not None and changed["t.0"].write == 100.0
