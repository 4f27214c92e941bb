"""Provisioned throughput and how it is allocated to partitions (§4, static allocation).

A provisioned table is given read and write capacity units a second (RCU,
WCU). In DynamoDB's first era the table's throughput was divided evenly
across its partitions, and each partition's share was enforced by a token
bucket on the storage node that hosts it. A partition is capped at 3,000 RCU
and 1,000 WCU (the Developer Guide's per-partition maximum; the paper's
example uses a 1,000 WCU cap).

"Split for size divided the parent's allocation equally among the children"
(§4). A table here starts as one partition, so a partition that is the result
of `depth` splits holds 1/2**depth of its table's throughput: the children of
a split each get half, whichever way the split divided the keys. That is
throughput dilution: a table of 1,000 WCU split into 8 partitions by size
gives each 125 WCU, however hot one of them is.

On-demand tables have no provisioned figure; DynamoDB instantly serves up to
double their previous peak (`on_demand.py`), so that is what eras without
global admission control divide among partitions for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from dynamo.partitioning.partition_map import PartitionId, split_depth


@dataclass(frozen=True)
class Throughput:
    """Capacity units a second: reads (RCU or RRU) and writes (WCU or WRU)."""

    read: float
    write: float

    def of(self, kind: str) -> float:
        """The figure for `kind`, "read" or "write"."""
        return self.read if kind == "read" else self.write

    def scaled(self, factor: float) -> Throughput:
        return Throughput(self.read * factor, self.write * factor)

    def capped(self, cap: Throughput) -> Throughput:
        return Throughput(min(self.read, cap.read), min(self.write, cap.write))


PARTITION_MAX = Throughput(read=3000.0, write=1000.0)
KINDS = ("read", "write")



def static_allocation(table: Throughput, partition: PartitionId,
                      cap: Throughput = PARTITION_MAX) -> Throughput:
    """The partition's even share of its table's throughput, halved at every split, capped."""
    return table.scaled(0.5 ** split_depth(partition)).capped(cap)
