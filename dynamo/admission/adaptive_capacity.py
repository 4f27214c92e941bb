"""Adaptive capacity: a proportional controller over a table's partitions (§4.1.2).

"Adaptive capacity actively monitors the provisioned and consumed capacity of
all the tables. If a table experienced throttling and the table level
throughput was not exceeded, then it would automatically increase (boost) the
allocated throughput of the partitions of the table using a proportional
control algorithm. If the table was consuming more than its provisioned
capacity then capacity of the partitions which received the boost would be
decreased."

`AdaptiveCapacity.control` is one step of that controller, for one table, on
what its partitions consumed and were refused over the last interval:

* the table was throttled and consumed less than its provisioned throughput:
  each throttled partition's allocation grows by `gain` times its share of
  the table's unused throughput (shared out in proportion to what the
  throttled partitions consumed), up to the partition maximum and never past
  the table's own provisioned throughput;
* the table consumed more than its provisioned throughput: each boosted
  partition gives back `gain` times its boost;
* a boosted partition that uses less than its own even share no longer needs
  a boost and returns to it.

It acts only after throttling has happened, which is its limitation (§4.1.2:
it is reactive), and what global admission control removed (§4.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dynamo.admission.allocation import KINDS, PARTITION_MAX, Throughput
from dynamo.partitioning.partition_map import PartitionId

GAIN = 0.5


@dataclass(frozen=True)
class PartitionLoad:
    """One partition over the last interval, as its leader's storage node saw it."""

    share: Throughput  # its even share of the table (static allocation)
    allocation: Throughput  # what it is allocated now (its share, or a boost)
    consumed: Throughput  # units a second it consumed
    throttled: tuple[int, int]  # reads and writes refused


def control(provisioned: Throughput, loads: Mapping[PartitionId, PartitionLoad],
            gain: float = GAIN, cap: Throughput = PARTITION_MAX
            ) -> dict[PartitionId, Throughput | None]:
    """New allocations for the partitions whose allocation changes (None: its share)."""
    changed: dict[PartitionId, dict[str, float | None]] = {}
    for i, kind in enumerate(KINDS):
        consumed = sum(load.consumed.of(kind) for load in loads.values())
        limit = provisioned.of(kind)
        throttled = {p: load for p, load in loads.items() if load.throttled[i] > 0}
        if throttled and consumed < limit:
            spare = limit - consumed
            weight = sum(max(load.consumed.of(kind), 1.0) for load in throttled.values())
            for p, load in throttled.items():
                raise_by = gain * spare * max(load.consumed.of(kind), 1.0) / weight
                # Never past the partition maximum, nor past the whole table's throughput.
                new = min(cap.of(kind), limit, load.allocation.of(kind) + raise_by)
                changed.setdefault(p, {})[kind] = new
        for p, load in loads.items():
            boost = load.allocation.of(kind) - load.share.of(kind)
            if boost <= 0 or p in throttled:
                continue
            if consumed > limit:
                changed.setdefault(p, {})[kind] = load.allocation.of(kind) - gain * boost
            elif load.consumed.of(kind) < load.share.of(kind):
                changed.setdefault(p, {})[kind] = None
    return {p: _merged(loads[p], kinds) for p, kinds in changed.items()}


def _merged(load: PartitionLoad, kinds: dict[str, float | None]) -> Throughput | None:
    """One partition's new allocation from its per-kind changes; None if it is its share."""
    read = kinds.get("read", load.allocation.read)
    write = kinds.get("write", load.allocation.write)
    read = load.share.read if read is None else read
    write = load.share.write if write is None else write
    if read <= load.share.read and write <= load.share.write:
        return None
    return Throughput(max(read, load.share.read), max(write, load.share.write))
