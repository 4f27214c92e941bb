"""Autoadmin: the healer that builds a full replacement and retires the log replica (§5.1).

"Autoadmin ... is responsible for ... healing" (§3, §5.1): once the leader
has restored the write quorum with a log replica, autoadmin replaces the dead
replica with a new full one, and then takes the log replica and the dead
replica out of the group. Here it is a sans-IO node beside the group: every
`poll_ms` it asks all the group's nodes for the group's state (the leader
answers, `GroupStatus`) and, from that state alone, decides the one next
membership change (`next_change`, rules H3 and H4 of dynamo.logreplica), which
it asks the leader to propose (`Reconfigure`).

Deciding from the leader's current state, and from nothing autoadmin
remembers, keeps it simple and safe to restart: a lost message, a new
leader or an autoadmin crash costs one poll, and a change already made is
not asked for again because the state shows it. The only memory it keeps
is which nodes it has seen unresponsive lately (`suspect_ms`), so that it
places no replacement on one.

Two cases the rules H3 and H4 leave open, decided here: when no spare can
take a log replica (its zone's spares are down or taken), autoadmin does not
wait for one but builds the full replacement at once; and when no zone
lacks a live full member, the replacement goes to any healthy spare
(placement.py, P5).

The new full replica is built by the group itself: the leader sends it a
copy of its B-tree (`InstallSnapshot`, the "snapshot") and then the log
entries after it ("the log tail"), as it does for any lagging member.
"""

from __future__ import annotations

from collections.abc import Collection
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
from dynamo.logreplica.healing import HealingConfig, still_suspected
from dynamo.logreplica.messages import GroupStatus, Reconfigure, StatusRequest
from dynamo.logreplica.placement import choose_any_spare, choose_spare
from dynamo.paxos.membership import AddMember, MembershipChange, RemoveMember


def next_change(status: GroupStatus, config: HealingConfig,
                suspected: Collection[NodeId] = ()) -> MembershipChange | None:
    """The one membership change that moves the group toward health now (H3, H4)."""
    if status.pending:
        return None
    silent = set(status.unresponsive)
    logs = set(status.log_members)
    full = [m for m in status.members if m not in logs]
    dead_full = [m for m in full if m in silent]
    dead_logs = [m for m in status.log_members if m in silent]
    live_full = [m for m in full if m not in silent]
    caught_up = [m for m in live_full if m in status.caught_up]
    if dead_logs:  # the leader may then put a live log replica in its place
        return RemoveMember(dead_logs[0])
    live_logs = [m for m in status.log_members if m not in silent]
    unhealthy = {*silent, *suspected}
    if (config.log_replicas and dead_full and len(live_logs) < len(dead_full)
            and choose_spare(config.zones, status.members, unhealthy, logs) is not None):
        return None  # H2 first: the leader restores the write quorum with a log replica
    if dead_full and len(live_full) < config.replicas:
        spare = (choose_spare(config.zones, status.members, unhealthy, logs,
                              for_log_replica=False)
                 or choose_any_spare(config.zones, status.members, unhealthy))
        return AddMember(spare) if spare is not None else None
    if len(caught_up) < config.replicas:
        return None  # the replacement is still copying the B-tree and the log tail
    if dead_full:
        return RemoveMember(dead_full[0])
    if status.log_members:
        return RemoveMember(status.log_members[0])
    return None


class AutoAdmin:
    """The healer, as a node: polls the group and asks its leader for changes."""

    def __init__(self, id: NodeId, config: HealingConfig, poll_ms: float = 200.0) -> None:
        self._id = id
        self.config = config
        self.poll_ms = poll_ms
        self.seen_silent: dict[NodeId, float] = {}  # when each was last silent (suspect_ms)
        self.asked: MembershipChange | None = None
        self.ballot: str | None = None
        self.building: tuple[NodeId, float] | None = None  # a replacement's B-tree copy

    @property
    def id(self) -> NodeId:
        return self._id

    def step(self, now_ms: float, event: Event) -> list[Effect]:
        kind = type(event)
        if kind is Start:
            return [SetTimer("poll", self.poll_ms)]
        if kind is TimerFired:
            ask = StatusRequest()
            effects: list[Effect] = [Send(node, ask) for node, _ in self.config.zones]
            return [*effects, SetTimer("poll", self.poll_ms)]
        if kind is Receive and isinstance(event.message, GroupStatus):
            return self._on_status(now_ms, event.src, event.message)
        return []

    def _on_status(self, now_ms: float, leader: NodeId, status: GroupStatus) -> list[Effect]:
        self.ballot = status.ballot
        self.seen_silent.update((m, now_ms) for m in status.unresponsive)
        change = next_change(status, self.config,
                             still_suspected(self.seen_silent, now_ms, self.config))
        if change is None:
            self.asked = None
            return []
        if isinstance(change, AddMember) and self.config.copy_ms > 0:
            if self.building is None or self.building[0] != change.id:
                self.building = (change.id, now_ms)
                return [Announce("replacement_building", (("replica", change.id),))]
            if now_ms - self.building[1] < self.config.copy_ms:
                return []  # still copying the B-tree: the log tail follows once it joins
        effects: list[Effect] = []
        if change != self.asked:  # announce a step once, however many polls it takes
            effects.append(Announce("autoadmin_asks", (("change", change), ("leader", leader))))
        self.asked = change
        return [*effects, Send(leader, Reconfigure(change))]

    def snapshot(self) -> dict[str, Any]:
        return {"id": self._id, "role": "autoadmin", "ballot": self.ballot,
                "asked": None if self.asked is None else repr(self.asked)}
