"""The metadata service (the paper's MemDS, §6.6): every table's partition map, for routers.

Storage nodes are the authority on which partitions exist, where their
replicas are and which replica leads; they publish it in `PartitionReport`s,
on a fixed period and whenever something changes. The metadata service
keeps the latest it has heard and answers routers' `MapRequest`s with a
table's `PartitionMap`.

A table's map is derived, not stored: the partitions the nodes report, each
with its key range, less those some node has reported split (§4.4), in key
order. A split reported by one node is never undone by another node that has
not applied it yet, so the map only moves forward: the split's children take
its halves at once, on its members, until they report for themselves. Should
the ranges known leave a gap, the map stays as it was.
Its version goes up each time what it shows changes. Before any node has
reported, a new table's map is the first partition the control plane
registered.

The paper's MemDS is a distributed, replicated cache; this one is a single
node that keeps nothing on disk: after a crash it relearns everything from
the nodes' next reports, so a router may briefly be told "no such map" and
retry.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from dynamo.contract import ClientRequest, Effect, Event, NodeId, Receive, Reply, Send
from dynamo.partitioning.keyspace import KeyRange
from dynamo.partitioning.messages import (
    MapReply,
    MapRequest,
    PartitionReport,
    PartitionStatus,
    PlacedPartition,
    Placement,
    PlacementRequest,
)
from dynamo.partitioning.partition_map import Partition, PartitionId, PartitionMap
from dynamo.paxos.operations import Ok


@dataclass(frozen=True)
class RegisterTable:
    """The control plane tells the metadata service a table's first partition."""

    table: str
    partition: PartitionId
    replicas: tuple[NodeId, ...]


@dataclass(frozen=True)
class DropTable:
    """The control plane tells the metadata service a table is gone."""

    table: str


class MetadataService:
    """Partition maps built from storage nodes' reports; answers routers."""

    def __init__(self, id: NodeId = "memds") -> None:
        self._id = id
        self.roots: dict[str, Partition] = {}
        self.splits: dict[PartitionId, tuple[int, PartitionId, PartitionId]] = {}
        self.ranges: dict[PartitionId, KeyRange] = {}  # as the nodes reported them
        self.members: dict[PartitionId, tuple[NodeId, ...]] = {}
        self.leaders: dict[PartitionId, tuple[Any, NodeId]] = {}  # (ballot, node)
        self.maps: dict[str, PartitionMap] = {}
        self.tables: dict[PartitionId, str] = {}  # which table each known partition is of
        self.hosted_by: dict[PartitionId, set[NodeId]] = {}  # as the nodes last reported
        self.hosted_on: dict[NodeId, set[PartitionId]] = {}
        self.dropped_versions: dict[str, int] = {}  # a table created again counts on
        self.requests = 0  # map requests answered: constant work makes it track traffic

    @property
    def id(self) -> NodeId:
        return self._id

    def step(self, now_ms: float, event: Event) -> list[Effect]:
        kind = type(event)
        if kind is Receive:
            message = event.message
            if type(message) is PartitionReport:
                self.publish(message)
            elif type(message) is MapRequest:
                self.requests += 1
                return [Send(event.src, MapReply(message.table, self.maps.get(message.table)))]
            elif type(message) is PlacementRequest:
                return [Send(event.src, self.placement())]
        elif kind is ClientRequest:
            op = event.operation
            if type(op) is RegisterTable:
                self.register(op)
            elif type(op) is DropTable:
                self.drop(op.table)
            return [Reply(event.client, event.request_id, Ok())]
        return []

    def snapshot(self) -> dict[str, Any]:
        return {"id": self._id, "maps": {t: m.version for t, m in self.maps.items()}}

    # --- what the control plane and the storage nodes tell it --------------------------

    def register(self, table: RegisterTable) -> None:
        if table.table not in self.roots:
            self.tables[table.partition] = table.table
            self.roots[table.table] = Partition(table.partition, table.table,
                                                KeyRange(0, 1 << 128), table.replicas)
            self._rebuild(table.table)

    def drop(self, table: str) -> None:
        """Forget a table and its partitions; its next map's version still goes up."""
        self.roots.pop(table, None)
        old = self.maps.pop(table, None)
        if old is not None:
            self.dropped_versions[table] = old.version
        for partition in [p for p, t in self.tables.items() if t == table]:
            for known in (self.splits, self.ranges, self.members, self.leaders, self.tables,
                          self.hosted_by):
                known.pop(partition, None)

    def publish(self, report: PartitionReport) -> None:
        """Fold one node's report into what is known; rebuild the maps it touched."""
        for partition in self.hosted_on.pop(report.node, set()):
            self.hosted_by.get(partition, set()).discard(report.node)
        self.hosted_on[report.node] = {s.partition for s in report.partitions}
        for status in report.partitions:
            self.hosted_by.setdefault(status.partition, set()).add(report.node)
        touched = set()
        for status in report.partitions:
            if self._learn(report.node, status):
                touched.add(status.table)
        for table in touched:
            if table in self.roots:
                self._rebuild(table)

    def _learn(self, node: NodeId, status: PartitionStatus) -> bool:
        if status.table not in self.roots:
            return False  # a dropped table's replica, not yet removed
        self.tables[status.partition] = status.table
        changed = status.partition not in self.ranges
        self.ranges[status.partition] = KeyRange(status.low, status.high)
        if status.split is not None and status.partition not in self.splits:
            self.splits[status.partition] = status.split
            self._expect_children(status)
            changed = True
        # The members as the leader applied them; any node's until a leader has reported
        # (a replica removed from its group may never hear of it, and goes on reporting).
        if (status.leads or status.partition not in self.members) and \
                self.members.get(status.partition) != status.members:
            self.members[status.partition] = status.members
            changed = True
        if status.leads:
            known = self.leaders.get(status.partition)
            if known is None or known[0] < status.ballot:
                self.leaders[status.partition] = (status.ballot, node)
                changed = changed or known is None or known[1] != node
        return changed

    def _expect_children(self, parent: PartitionStatus) -> None:
        """A split's children take the parent's halves on its members (§4.4), known
        before their own reports come in: the map moves on at the first report of it."""
        assert parent.split is not None
        at, left, right = parent.split
        halves = KeyRange(parent.low, parent.high).split_at(at)
        for child, half in zip((left, right), halves, strict=True):
            self.tables[child] = parent.table
            self.ranges.setdefault(child, half)
            self.members.setdefault(child, parent.members)

    def retired(self) -> list[tuple[PartitionId, tuple[NodeId, ...]]]:
        """Split parents still hosted whose every member has reported both children:
        no replica can need the parent to learn of its split any more."""
        found = []
        for parent, (_, left, right) in self.splits.items():
            members = self.members.get(parent, ())
            holders = self.hosted_by.get(parent, set())
            if holders and all(n in self.hosted_by.get(left, set()) and
                               n in self.hosted_by.get(right, set()) for n in members):
                found.append((parent, tuple(sorted(holders))))
        return found

    def placement(self) -> Placement:
        """Every live partition of every table, with its members and who hosts it."""
        placed = []
        for table_map in self.maps.values():
            for p in table_map.partitions:
                placed.append(PlacedPartition(
                    p.id, p.table, p.key_range.low, p.key_range.high, p.replicas,
                    tuple(sorted(self.hosted_by.get(p.id, ()))), p.leader))
        return Placement(tuple(placed))

    # --- the map ---------------------------------------------------------------------

    def _rebuild(self, table: str) -> None:
        """The table's map anew, if the partitions known now tile its key space."""
        partitions = self._live(table)
        if any(not p.replicas for p in partitions):
            return  # registered after a restart: no node has said where it lives yet
        old = self.maps.get(table)
        if old is not None and old.partitions == partitions:
            return
        version = old.version if old is not None else self.dropped_versions.get(table, 0)
        try:
            self.maps[table] = PartitionMap(table, version + 1, partitions)
        except ValueError:
            pass  # a split's children not reported yet: the old map stands until they are

    def _live(self, table: str) -> tuple[Partition, ...]:
        """The reported partitions of `table` not known to be split, in key order; the
        registered first partition while none is reported."""
        root = self.roots[table]
        reported = sorted((r.low, p) for p, r in self.ranges.items()
                          if self.tables.get(p) == table and p not in self.splits)
        if not reported:
            return (replace(root, replicas=self.members.get(root.id, root.replicas)),)
        live = []
        for _, partition in reported:
            leader = self.leaders.get(partition)
            live.append(Partition(partition, table, self.ranges[partition],
                                  self.members.get(partition, ()),
                                  None if leader is None else leader[1]))
        return tuple(live)
