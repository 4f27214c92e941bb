"""The partition map: which partition, on which storage nodes, holds a hash (§3, §6.6).

For every table the metadata service keeps the list of its partitions, each
a contiguous key range with the replicas that hold it, and request routers
cache it. Finding "the partition that holds hash h" is a floor lookup: the
partitions are sorted by their low bound and tile the key space, so the
answer is the last partition whose range starts at or below h (`bisect`).

Every change to a table's map (a split, a replica moved, a leader elected)
gives the map a higher `version`, so a router can tell a stale cache from a
fresh one, and a storage node can tell a router "your map is older than
mine" (`router.py`).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, replace
from functools import cached_property

from dynamo.contract import NodeId
from dynamo.partitioning.keyspace import KEY_SPACE, KeyRange

PartitionId = str


def table_root(partition: PartitionId) -> PartitionId:
    """The id of its table's first partition, which every later partition's id starts
    with: a table's first partition is named `t<table id>.` (`dynamo.cluster`), and a
    split of P makes `P0` and `P1` (`storage_node.py`)."""
    return partition[:partition.index(".") + 1]


def split_depth(partition: PartitionId) -> int:
    """How many splits made `partition` from its table's first partition."""
    return len(partition) - len(table_root(partition))


@dataclass(frozen=True)
class Partition:
    """One partition: its key range and the storage nodes holding its replicas."""

    id: PartitionId
    table: str  # the table's internal id (TableDefinition.tbl)
    key_range: KeyRange
    replicas: tuple[NodeId, ...]
    leader: NodeId | None = None  # a hint: the replica last known to lead


@dataclass(frozen=True)
class PartitionMap:
    """A table's partitions in key order, tiling the hashed key space, and a version."""

    table: str
    version: int
    partitions: tuple[Partition, ...]

    def __post_init__(self) -> None:
        bounds = [p.key_range for p in self.partitions]
        expected = 0
        for key_range in bounds:
            if key_range.low != expected:
                raise ValueError(f"the partitions of {self.table} do not tile the key space "
                                 f"at {expected:#x}")
            expected = key_range.high
        if expected != KEY_SPACE:
            raise ValueError(f"the partitions of {self.table} stop short at {expected:#x}")

    @classmethod
    def single(cls, table: str, partition: PartitionId, replicas: tuple[NodeId, ...]) -> PartitionMap:
        """A new table's map: one partition over the whole key space."""
        return cls(table, 1, (Partition(partition, table, KeyRange(0, KEY_SPACE), replicas),))

    @cached_property
    def lows(self) -> list[int]:
        """The partitions' low bounds, in order: what a lookup bisects."""
        return [p.key_range.low for p in self.partitions]

    def lookup(self, position: int) -> Partition:
        """The partition whose range holds `position` (a floor lookup on the low bounds)."""
        return self.partitions[bisect_right(self.lows, position) - 1]

    def get(self, partition: PartitionId) -> Partition | None:
        return next((p for p in self.partitions if p.id == partition), None)

    def split(self, parent: PartitionId, at: int, left: PartitionId,
              right: PartitionId) -> PartitionMap:
        """The map after `parent` split at `at` into `left` and `right` (same replicas)."""
        old = self._require(parent)
        low, high = old.key_range.split_at(at)
        children = (Partition(left, self.table, low, old.replicas, old.leader),
                    Partition(right, self.table, high, old.replicas, old.leader))
        return self._replacing(parent, children)

    def moved(self, partition: PartitionId, replicas: tuple[NodeId, ...]) -> PartitionMap:
        """The map after `partition`'s replicas changed (a move, a heal)."""
        old = self._require(partition)
        leader = old.leader if old.leader in replicas else None
        return self._replacing(partition, (replace(old, replicas=replicas, leader=leader),))

    def led_by(self, partition: PartitionId, leader: NodeId) -> PartitionMap:
        """The map with a new leader hint for `partition`."""
        old = self._require(partition)
        return self._replacing(partition, (replace(old, leader=leader),))

    def _replacing(self, partition: PartitionId, new: tuple[Partition, ...]) -> PartitionMap:
        at = next(i for i, p in enumerate(self.partitions) if p.id == partition)
        partitions = self.partitions[:at] + new + self.partitions[at + 1:]
        return PartitionMap(self.table, self.version + 1, partitions)

    def _require(self, partition: PartitionId) -> Partition:
        found = self.get(partition)
        if found is None:
            raise KeyError(f"{self.table} has no partition {partition}")
        return found
