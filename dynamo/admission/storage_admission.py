"""Admission at a storage node: partition buckets and the node bucket (§4, §4.1, §4.2).

Every era keeps token buckets on the storage node that hosts a partition's
replica (the leader, for writes and strongly consistent reads; any replica,
for eventually consistent reads). What they hold depends on the era
(`eras.py`):

* `static`: the partition's even share of its table (`allocation.py`), no burst;
* `bursting` and `adaptive`: that share, plus a burst bucket and the node's
  own bucket (`bursting.py`); adaptive capacity may raise the share (`boost`);
* `gac`: the maximum partition capacity (3,000 RCU, 1,000 WCU) with bursting:
  the table's limit is kept by the routers, so these buckets are only a
  safety cap, with the node bucket protecting the node.

Reads and writes have buckets of their own. A request is admitted against
them before it runs, and takes one unit then, so that many requests in flight
at once cannot all be admitted on the same last token; the rest of what it
cost is charged once it has run (`token_bucket.py`).
`StorageAdmission` also counts what each partition consumed and how often it
was throttled, which adaptive capacity and the dashboards read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dynamo.admission.allocation import (
    KINDS,
    PARTITION_MAX,
    Throughput,
    static_allocation,
)
from dynamo.admission.bursting import PartitionBuckets
from dynamo.admission.eras import Era
from dynamo.admission.on_demand import INITIAL_PEAK
from dynamo.admission.token_bucket import TokenBucket
from dynamo.partitioning.partition_map import PartitionId, table_root

# A storage node's own capacity: eight partitions at their maximum. Nodes are packed
# beyond what their partitions are allocated (§4.3), so bursting has room to use.
NODE_MAX = Throughput(read=24_000.0, write=8_000.0)
ADMISSION_UNITS = 1.0  # taken when a request is admitted; the rest when its cost is known



@dataclass(frozen=True)
class TableLimits:
    """What the control plane tells storage nodes of a table: its throughput, its mode.

    A global secondary index has throughput of its own and is admitted as a table of
    its own (`of_index`), so that a throttle can say it was the index's.
    """

    throughput: Throughput
    on_demand: bool = False
    of_index: bool = False


@dataclass
class PartitionUsage:
    """What one partition consumed and was refused, since it was last read."""

    consumed: dict[str, float] = field(default_factory=lambda: {k: 0.0 for k in KINDS})
    throttled: dict[str, int] = field(default_factory=lambda: {k: 0 for k in KINDS})


class StorageAdmission:
    """The token buckets of one storage node, under one era."""

    def __init__(self, era: Era, node_capacity: Throughput = NODE_MAX,
                 partition_max: Throughput = PARTITION_MAX) -> None:
        self.era = era
        self.capacity = node_capacity
        self.partition_max = partition_max
        self.node = {k: TokenBucket.full(node_capacity.of(k), node_capacity.of(k))
                     for k in KINDS} if era.bursts else {}
        self.tables: dict[PartitionId, TableLimits] = {}
        self.boosts: dict[PartitionId, Throughput] = {}
        self.buckets: dict[tuple[PartitionId, str], PartitionBuckets] = {}
        self.usage: dict[PartitionId, PartitionUsage] = {}
        self.consumed: dict[tuple[PartitionId, str], float] = {}  # units, ever (admin state)
        self.throttles = 0

    # --- what the control plane and adaptive capacity say -----------------------------

    def set_table(self, root: PartitionId, limits: TableLimits, now_ms: float) -> None:
        """A table's throughput, at creation or after UpdateTable: every partition's
        allocation follows."""
        self.tables[root] = limits
        for (partition, kind), buckets in self.buckets.items():
            if table_root(partition) == root:
                buckets.reallocate(self.allocation(partition).of(kind), now_ms)

    def boost(self, partition: PartitionId, allocation: Throughput | None,
              now_ms: float) -> None:
        """Adaptive capacity's allocation for a partition (None: back to its share)."""
        if allocation is None:
            self.boosts.pop(partition, None)
        else:
            self.boosts[partition] = allocation.capped(self.partition_max)
        for kind in KINDS:
            buckets = self.buckets.get((partition, kind))
            if buckets is not None:
                buckets.reallocate(self.allocation(partition).of(kind), now_ms)

    def forget(self, partition: PartitionId) -> None:
        """The partition no longer lives here (split, moved, its table deleted)."""
        for kind in KINDS:
            self.buckets.pop((partition, kind), None)
            self.consumed.pop((partition, kind), None)
        self.boosts.pop(partition, None)
        self.usage.pop(partition, None)

    # --- a request ----------------------------------------------------------------------

    def allocation(self, partition: PartitionId) -> Throughput:
        """The units a second the partition is allocated under this era."""
        if partition in self.boosts:
            return self.boosts[partition]
        if not self.era.divides_table:
            return self.partition_max
        limits = self.tables.get(table_root(partition))
        if limits is None:
            return self.partition_max  # not told yet: only the partition cap applies
        table = INITIAL_PEAK.scaled(2) if limits.on_demand else limits.throughput
        return static_allocation(table, partition, self.partition_max)

    def admit(self, partition: PartitionId, kind: str, now_ms: float) -> str | None:
        """Admit one request of `kind` to `partition`: the bucket it is admitted by, or
        None when it must be throttled."""
        source = self._buckets(partition, kind, now_ms).admit(now_ms, self.node.get(kind))
        if source is None:
            self.throttles += 1
            self._usage(partition).throttled[kind] += 1
        else:
            self._take(partition, kind, source, ADMISSION_UNITS, now_ms)
        return source

    def charge(self, partition: PartitionId, kind: str, source: str, units: float,
               now_ms: float) -> None:
        """Take the rest of what an admitted request cost from the buckets that admitted
        it (or give back what it did not use of its first unit)."""
        self._take(partition, kind, source, units - ADMISSION_UNITS, now_ms)
        self._usage(partition).consumed[kind] += units
        self.consumed[(partition, kind)] = self.consumed.get((partition, kind), 0.0) + units

    def _take(self, partition: PartitionId, kind: str, source: str, units: float,
              now_ms: float) -> None:
        self._buckets(partition, kind, now_ms).charge(source, units, now_ms)
        node = self.node.get(kind)
        if node is not None:
            node.spend(units, now_ms)

    def take_usage(self) -> dict[PartitionId, PartitionUsage]:
        """Each partition's consumption and throttles since the last call, reset."""
        usage, self.usage = self.usage, {}
        return usage

    def state(self, now_ms: float) -> dict[str, Any]:
        """Bucket levels and allocations, for `/admin/state` and the dashboard."""
        partitions: dict[str, Any] = {}
        for (partition, kind), buckets in sorted(self.buckets.items()):
            buckets.refill(now_ms)
            entry = partitions.setdefault(partition, {"boosted": partition in self.boosts})
            entry[kind] = {"allocation": buckets.allocated.rate,
                           "consumed": round(self.consumed.get((partition, kind), 0.0), 3),
                           "tokens": round(buckets.allocated.tokens, 3),
                           "burst": (None if buckets.burst is None
                                     else round(buckets.burst.tokens, 3))}
        node = {}
        for kind, bucket in self.node.items():
            bucket.refill(now_ms)
            node[kind] = {"capacity": bucket.rate, "tokens": round(bucket.tokens, 3)}
        return {"era": self.era.value, "throttles": self.throttles, "node": node,
                "partitions": partitions}

    def _buckets(self, partition: PartitionId, kind: str, now_ms: float) -> PartitionBuckets:
        buckets = self.buckets.get((partition, kind))
        if buckets is None:
            rate = self.allocation(partition).of(kind)
            buckets = PartitionBuckets.for_allocation(rate, self.era.bursts, now_ms)
            self.buckets[(partition, kind)] = buckets
        return buckets

    def _usage(self, partition: PartitionId) -> PartitionUsage:
        usage = self.usage.get(partition)
        if usage is None:
            usage = self.usage[partition] = PartitionUsage()
        return usage
