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

`AutoAdmin` is the whole of it: the balancer, and the healer (`Healer`) that
replaces a partition's lost replica (§5.1). When a storage node stops
answering, the leader of each partition it held adds a log replica (layer 4,
`dynamo.logreplica`: the storage node asks the spare to host it first); the
healer then asks each leader for its group's state (`GroupStatus`) and, by
layer 4's rules (`next_change`), for one membership change at a time: a full
replacement on a spare (asked to host it first, as a move's target is), then
the dead replica and the log replica out; the replicas removed are told to
drop their copies once the metadata service shows them gone from the group.
While any partition heals, no replica moves: a balanced fleet can wait, a
group short of a replica cannot, and a node seen silent is never a move's
target.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
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
from dynamo.logreplica.autoadmin import next_change
from dynamo.logreplica.healing import HealingConfig, still_suspected
from dynamo.logreplica.messages import GroupStatus, Reconfigure, StatusRequest
from dynamo.partitioning.messages import (
    ChangeMembers,
    DropReplica,
    HostReplica,
    PeerMessage,
    PlacedPartition,
    Placement,
    PlacementRequest,
)
from dynamo.partitioning.partition_map import PartitionId
from dynamo.paxos.membership import AddMember, MembershipChange, RemoveMember

Move = tuple[PlacedPartition, NodeId, NodeId]  # (partition, source, target)


def next_move(placement: Placement, zones: Mapping[NodeId, str],
              unhealthy: Collection[NodeId] = ()) -> Move | None:
    """The move that most evens out live replicas per node, or None if they are even.

    From the most loaded node to the least loaded healthy one (a difference of two or
    more), a partition the target does not hold, whose other replicas leave the
    target's zone free; followers before leaders, so a move rarely costs an election.
    """
    load = {node: 0 for node in zones}
    for partition in placement.partitions:
        for member in partition.members:
            load[member] = load.get(member, 0) + 1
    ordered = sorted(load, key=lambda n: (load[n], n))
    for target in [n for n in ordered if n not in unhealthy]:
        for source in reversed(ordered):
            if load[source] - load[target] < 2:
                break
            candidates = [p for p in placement.partitions
                          if source in p.members and target not in p.hosted_by
                          and target not in p.members
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
            chosen = self._next_move(placement)
            if chosen is None:
                return []
            partition, source, target = chosen
            self.move = (partition.partition, source, target)
            return [Announce("move_started", (("partition", partition.partition),
                                              ("source", source), ("target", target))),
                    *self._next_step(partition, source, target)]
        return self._next_step(*current)

    def _next_move(self, placement: Placement) -> Move | None:
        return next_move(placement, self.zones)

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


class Healer:
    """Autoadmin's healer (§5.1): layer 4's rules, applied to every partition's group.

    It remembers only what the state cannot show: which nodes it has seen silent
    lately (`suspect_ms`), which spares it asked to host a replacement (one that
    does not within `host_ms` is suspected too), and which members it asked to
    remove, to tell them to drop their copies.
    """

    def __init__(self, config: HealingConfig, host_ms: float = 2000.0) -> None:
        self.config = config
        self.host_ms = host_ms
        self.placed: dict[PartitionId, PlacedPartition] = {}
        self.seen_silent: dict[NodeId, float] = {}
        self.hosting: dict[tuple[PartitionId, NodeId], float] = {}
        self.removing: dict[tuple[PartitionId, NodeId], float] = {}
        self.asked: dict[PartitionId, MembershipChange] = {}
        self.unhealthy: set[PartitionId] = set()  # partitions whose last status needs work

    @property
    def healing(self) -> bool:
        """Some partition's group is short of a replica or still has a log replica."""
        return bool(self.unhealthy)

    def suspected(self, now: float) -> set[NodeId]:
        return still_suspected(self.seen_silent, now, self.config)

    def on_placement(self, now: float, placement: Placement) -> list[Effect]:
        """Ask every partition's leader how its group is; drop what removed members hold."""
        self.placed = {p.partition: p for p in placement.partitions}
        self.unhealthy &= set(self.placed)
        for partition, node in list(self.hosting):
            placed = self.placed.get(partition)
            if placed is None or node in placed.members:
                del self.hosting[partition, node]  # it joined (or its partition is gone)
        effects: list[Effect] = [Send(p.leader, PeerMessage(p.partition, StatusRequest()))
                                 for p in placement.partitions if p.leader is not None]
        return effects + self._drop_removed(now)

    def on_status(self, now: float, leader: NodeId, partition: PartitionId,
                  status: GroupStatus) -> list[Effect]:
        """The one next change for this group (layer 4's `next_change`), asked of its leader."""
        placed = self.placed.get(partition)
        if placed is None:
            return []
        self.seen_silent.update((m, now) for m in status.unresponsive)
        ours = {n for p, n in self.hosting if p == partition}
        # A non-member that holds a copy (a removed log replica, not yet dropped) is no
        # place for a full replica: its B-tree is stale, and it would catch up from its
        # log position, not from a snapshot.
        stale = set(placed.hosted_by) - set(status.members) - ours
        change = next_change(status, self.config, self.suspected(now) | stale)
        if status.unresponsive or status.log_members or change is not None:
            self.unhealthy.add(partition)
        else:
            self.unhealthy.discard(partition)
        if change is None:
            self.asked.pop(partition, None)
            return []
        if isinstance(change, AddMember) and change.id not in placed.hosted_by:
            return self._host(now, placed, change.id)
        if isinstance(change, RemoveMember):
            self.removing.setdefault((partition, change.id), now)
        effects: list[Effect] = []
        if self.asked.get(partition) != change:  # told once, however many polls it takes
            self.asked[partition] = change
            effects.append(Announce("autoadmin_asks", (("partition", partition),
                                                       ("change", change), ("leader", leader))))
        return [*effects, Send(leader, PeerMessage(partition, Reconfigure(change)))]

    def _host(self, now: float, placed: PlacedPartition, spare: NodeId) -> list[Effect]:
        """A full replacement's first step: the spare hosts a passive replica."""
        key = (placed.partition, spare)
        asked = self.hosting.setdefault(key, now)
        if now - asked > self.host_ms:
            del self.hosting[key]
            self.seen_silent[spare] = now  # it never hosted: down, as far as we can tell
            return []
        return [Send(spare, HostReplica(placed.partition, placed.table, placed.low, placed.high,
                                        placed.members))]

    def _drop_removed(self, now: float) -> list[Effect]:
        """Tell each member removed from a group to drop its copy (a move's last step too).
        One that is a member again a while later was added back: forget it."""
        effects: list[Effect] = []
        for key, asked in sorted(self.removing.items()):
            partition, node = key
            placed = self.placed.get(partition)
            if placed is None or (node not in placed.members
                                  and node not in placed.hosted_by):
                del self.removing[key]  # gone with its partition, or dropped
            elif node not in placed.members:
                effects.append(Send(node, DropReplica(partition)))
            elif now - asked > self.host_ms * 5:
                del self.removing[key]
        return effects


class AutoAdmin(Balancer):
    """Autoadmin, as one node: it heals every partition's group (§5.1) and, while none
    needs healing, moves replicas to even out the nodes (§4.3)."""

    def __init__(self, id: NodeId, zones: Mapping[NodeId, str], metadata: NodeId = "memds",
                 poll_ms: float = 500.0, *, healing: HealingConfig,
                 balance: bool = True) -> None:
        super().__init__(id, zones, metadata, poll_ms)
        self.healer = Healer(healing)
        self.balance = balance
        self.now = 0.0

    def snapshot(self) -> dict[str, Any]:
        return {**super().snapshot(), "healing": sorted(self.healer.unhealthy)}

    def step(self, now_ms: float, event: Event) -> list[Effect]:
        self.now = now_ms
        if type(event) is Receive and type(event.message) is PeerMessage:
            status = event.message.message
            if type(status) is GroupStatus:
                return self.healer.on_status(now_ms, event.src, event.message.partition, status)
            return []
        return super().step(now_ms, event)

    def _on_placement(self, placement: Placement) -> list[Effect]:
        effects = self.healer.on_placement(self.now, placement)
        if self.move is not None and self.move[2] in self.healer.suspected(self.now):
            effects.append(Announce("move_abandoned", (("partition", self.move[0]),
                                                       ("target", self.move[2]))))
            self.move = None  # its target went silent; the healer mends its group
        if not self.balance or self.healer.healing:
            return effects
        return effects + super()._on_placement(placement)

    def _next_move(self, placement: Placement) -> Move | None:
        return next_move(placement, self.zones, self.healer.suspected(self.now))
