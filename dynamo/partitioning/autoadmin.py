"""Autoadmin's balancing: moving replicas so storage nodes carry even loads (§4.3).

"Each storage node ... [reports] ... and autoadmin ... moves" replicas off
nodes that run hot (§4.3); a move is a membership change of the partition's
replication group: add the new replica, let it copy the snapshot and the log
tail, then remove the old one. Here a move's source and target are chosen by
count of live replicas per node (`next_move`): from the most loaded node to
the least loaded one, keeping the partition's three replicas in three zones.

`Balancer` is that part of autoadmin as a sans-IO node. Like the healer of
`dynamo.logreplica`, it decides every step from the current state alone
(`Placement`, from the metadata service), so a lost message, a new leader or
a restart costs one poll:

1. the target does not host the partition: ask it to (`HostReplica`; the new
   replica is passive until the group adds it);
2. the target is not a member: ask the leader to add it (`AddMember`);
3. the source is still a member: ask the leader to remove it once the target
   has caught up (`RemoveMember`);
4. the source still hosts its replica: tell it to drop it (`DropReplica`): a
   replica removed from its group may never hear of it, as the leader stops
   sending it the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dynamo.contract import (
    Announce,
    Effect,
    Event,
    NodeId,
    Receive,
    Send,
    SetTimer,
    Start,
    TimerFired,
)
from dynamo.partitioning.messages import (
    ChangeMembers,
    DropReplica,
    HostReplica,
    PlacedPartition,
    Placement,
    PlacementRequest,
)
from dynamo.paxos.membership import AddMember, RemoveMember

Move = tuple[PlacedPartition, NodeId, NodeId]  # (partition, source, target)


def next_move(placement: Placement, zones: Mapping[NodeId, str]) -> Move | None:
    """The move that most evens out live replicas per node, or None if they are even.

    From the most loaded node to the least loaded one (a difference of two or more),
    a partition the target does not hold, whose other replicas leave the target's
    zone free; followers before leaders, so a move rarely costs an election.
    """
    load = {node: 0 for node in zones}
    for partition in placement.partitions:
        for member in partition.members:
            load[member] = load.get(member, 0) + 1
    ordered = sorted(load, key=lambda n: (load[n], n))
    for target in ordered:
        for source in reversed(ordered):
            if load[source] - load[target] < 2:
                break
            candidates = [p for p in placement.partitions
                          if source in p.members and target not in p.members
                          and zones[target] not in {zones[m] for m in p.members if m != source}]
            if candidates:
                chosen = min(candidates, key=lambda p: (p.leader == source, p.partition))
                return chosen, source, target
    return None


class Balancer:
    """Autoadmin's balancer, as a node: polls the placement and moves one replica at a time."""

    def __init__(self, id: NodeId, zones: Mapping[NodeId, str], metadata: NodeId = "memds",
                 poll_ms: float = 500.0) -> None:
        self._id = id
        self.zones = dict(zones)
        self.metadata = metadata
        self.poll_ms = poll_ms
        self.move: tuple[str, NodeId, NodeId] | None = None  # (partition, source, target)
        self.moves = 0

    @property
    def id(self) -> NodeId:
        return self._id

    def snapshot(self) -> dict[str, Any]:
        return {"id": self._id, "role": "autoadmin", "moving": self.move, "moves": self.moves}

    def step(self, now_ms: float, event: Event) -> list[Effect]:
        kind = type(event)
        if kind is Start or kind is TimerFired:
            return [Send(self.metadata, PlacementRequest()), SetTimer("poll", self.poll_ms)]
        if kind is Receive and type(event.message) is Placement:
            return self._on_placement(event.message)
        return []

    def _on_placement(self, placement: Placement) -> list[Effect]:
        current = self._current(placement)
        if current is None:
            chosen = next_move(placement, self.zones)
            if chosen is None:
                return []
            partition, source, target = chosen
            self.move = (partition.partition, source, target)
            return [Announce("move_started", (("partition", partition.partition),
                                              ("source", source), ("target", target))),
                    *self._next_step(partition, source, target)]
        return self._next_step(*current)

    def _current(self, placement: Placement) -> Move | None:
        """The move under way, if its partition still lives and the move is not done."""
        if self.move is None:
            return None
        name, source, target = self.move
        partition = next((p for p in placement.partitions if p.partition == name), None)
        if partition is None or (source not in partition.members
                                 and source not in partition.hosted_by):
            self.move = None  # done (or the partition split: choose again)
            if partition is not None:
                self.moves += 1
            return None
        return partition, source, target

    def _next_step(self, partition: PlacedPartition, source: NodeId,
                   target: NodeId) -> list[Effect]:
        if target not in partition.hosted_by:
            return [Send(target, HostReplica(partition.partition, partition.table,
                                             partition.low, partition.high, partition.members))]
        if partition.leader is None:
            return []  # no leader known yet: ask again at the next poll
        if target not in partition.members:
            return [Send(partition.leader, ChangeMembers(partition.partition,
                                                         AddMember(target)))]
        if source in partition.members:
            return [Send(partition.leader, ChangeMembers(partition.partition,
                                                         RemoveMember(source), target))]
        return [Send(source, DropReplica(partition.partition))]
