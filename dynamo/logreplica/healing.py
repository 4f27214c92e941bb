"""The leader's side of healing: notice a silent member, add a log replica (§5.1).

"When a replica becomes unhealthy, the leader adds a log replica to the
group" (§5.1). `HealingReplica` is a Paxos replica (dynamo.paxos) that, while
it leads, does the two things the rules H1 and H2 of dynamo.logreplica say:

* every heartbeat it checks who has answered lately; a member silent for
  `unresponsive_heartbeats` heartbeats is unresponsive (H1);
* while unresponsive full members outnumber the live log replicas, it
  proposes a log replica on a spare node in a zone the group lacks (H2),
  through the log like any membership change, once the spare has answered
  that it is there (`StandIn`, `StandingBy`).

It also answers autoadmin (autoadmin.py): `StatusRequest` with the group's
state as the leader sees it, `Reconfigure` by proposing the change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dynamo.contract import Announce, Effect, NodeId, Rng, Send
from dynamo.logreplica.messages import (
    GroupStatus,
    Reconfigure,
    StandIn,
    StandingBy,
    StatusRequest,
)
from dynamo.logreplica.placement import choose_spare
from dynamo.paxos.membership import (
    LOG,
    AddMember,
    MembershipChange,
    RemoveMember,
    is_noop_change,
)
from dynamo.paxos.proposer import Scout
from dynamo.paxos.replica import PaxosConfig, Replica
from dynamo.paxos.statemachine import StorageReplica

CAUGHT_UP_SLACK = 16
"""A member within this many slots of the commit index has caught up: a healthy
follower lags by the writes of the last heartbeat or so."""


@dataclass(frozen=True)
class HealingConfig:
    """The fleet a group heals from, and how patient its leader is.

    `zones` lists every storage node of the fleet (members and spares) with
    its availability zone, in the order spares are preferred. The paper
    gives no detection period, only that a log replica restores the quorum
    "in seconds" (§5.1): ten heartbeats of 50 ms is half a second.
    `log_replicas=False` turns H2 off (the lab's baseline: heal by full
    replacement only); `copy_ms` is how long autoadmin takes to build a full
    replica's B-tree before it joins ("minutes", §5.1; 0 in the toy group).
    A node seen silent is not placed on for `suspect_ms` after: long enough
    to heal around it, short enough that a node restarted is used again (one
    still down is then tried, found silent, and suspected anew).
    """

    zones: tuple[tuple[NodeId, str], ...]
    unresponsive_heartbeats: int = 10
    replicas: int = 3
    log_replicas: bool = True
    copy_ms: float = 0.0
    suspect_ms: float = 5000.0

    def zone(self, node: NodeId) -> str:
        return dict(self.zones).get(node, "?")


def still_suspected(seen_silent: dict[NodeId, float], now: float,
                    config: HealingConfig) -> set[NodeId]:
    """The nodes seen silent within the last `suspect_ms`: not to be placed on."""
    return {node for node, at in seen_silent.items() if now - at < config.suspect_ms}


class HealingReplica(Replica):
    """A group member that, as leader, restores the write quorum with log replicas."""

    def __init__(self, id: NodeId, members: tuple[NodeId, ...], records: Sequence[Any],
                 rng: Rng, config: PaxosConfig, store: StorageReplica | None = None,
                 healing: HealingConfig | None = None) -> None:
        super().__init__(id, members, records, rng, config, store)
        self.healing = healing or HealingConfig(tuple((m, m) for m in members))
        self.added_at: dict[NodeId, float] = {}
        self.seen_silent: dict[NodeId, float] = {}  # when each was last silent (suspect_ms)
        self.asking: dict[NodeId, float] = {}  # spares asked to stand in, since when
        self.standing_by: dict[NodeId, float] = {}  # when each spare last answered
        self._handlers[StatusRequest] = self._on_status_request
        self._handlers[Reconfigure] = self._on_reconfigure
        self._handlers[StandIn] = self._on_stand_in
        self._handlers[StandingBy] = self._on_standing_by

    # --- H1: who has gone silent -------------------------------------------------

    def unresponsive(self) -> tuple[NodeId, ...]:
        """The members that have not answered the leader for the detection period."""
        leader = self.leader
        if leader is None:
            return ()
        patience = self.healing.unresponsive_heartbeats * self.config.heartbeat_ms
        silent = []
        for member in self.peers:
            last = max(leader.heard_at.get(member, float("-inf")), leader.since,
                       self.added_at.get(member, float("-inf")))
            if self.now - last > patience:
                silent.append(member)
        return tuple(silent)

    # --- L3: a replica that learns, while standing, that it is a log replica -------

    def _become_leader(self, scout: Scout) -> list[Effect]:
        """A replica away while the group made it a log replica (a node lost, removed, then
        taken again as a spare) stands as the full replica it remembers being. If the
        promises' snapshot says it is a log replica now, it takes the members only and
        stands down: leading with the B-tree it had before would serve stale items."""
        recovered = scout.recover(self.log.commit_index).snapshot
        if recovered is None or self._id not in recovered.log_members:
            return super()._become_leader(scout)
        effects = self._install(recovered)
        return effects + self._step_down("the promises show it is a log replica (L3)")

    # --- H2: a log replica in a zone the group lacks -----------------------------

    def _on_heartbeat_timer(self) -> list[Effect]:
        effects = super()._on_heartbeat_timer()
        return effects + self._restore_quorum() if self.leader is not None else effects

    def _restore_quorum(self) -> list[Effect]:
        leader = self.leader
        assert leader is not None
        if not self.healing.log_replicas or not self._may_change():
            return []
        silent = self.unresponsive()
        self.seen_silent.update((m, self.now) for m in silent)
        dead_full = [m for m in silent if m not in self.log_members]
        live_logs = [m for m in self.log_members if m not in silent]
        if len(dead_full) <= len(live_logs):
            self.asking.clear()  # nobody to stand in for: a later ask starts afresh
            return []
        suspected = still_suspected(self.seen_silent, self.now, self.healing)
        spare = choose_spare(self.healing.zones, self.members, suspected, self.log_members)
        if spare is None:
            return []
        if self.now - self.standing_by.get(spare, float("-inf")) > 2 * self.config.heartbeat_ms:
            return self._ask_to_stand_in(spare)
        self.asking.pop(spare, None)
        effects: list[Effect] = [Announce("replica_unresponsive", (
            ("replica", dead_full[0]), ("zone", self.healing.zone(dead_full[0])),
            ("log_replica", spare), ("log_replica_zone", self.healing.zone(spare))))]
        return effects + self._propose_change(AddMember(spare, LOG))

    def _ask_to_stand_in(self, spare: NodeId) -> list[Effect]:
        """Ask the spare whether it is there, each heartbeat; one silent for the detection
        period is suspected like a silent member, and the next spare is asked."""
        leader = self.leader
        assert leader is not None
        since = self.asking.setdefault(spare, self.now)
        if self.now - since > self.healing.unresponsive_heartbeats * self.config.heartbeat_ms:
            del self.asking[spare]
            self.seen_silent[spare] = self.now
            return []
        return [Send(spare, StandIn(leader.ballot))]

    def _on_stand_in(self, src: NodeId, message: StandIn) -> list[Effect]:
        """A spare answers that it is there, unless the ask is from a deposed leader, or this
        is a stale copy: a replica that counts itself a member was removed from the group
        without hearing of it, and added back it would apply its own removal and go. Only a
        fresh replica (a driver drops the stale one: `DropReplica` in a fleet) stands in."""
        if message.ballot < self.acceptor.promised or self._id in self.members:
            return []
        return [Send(src, StandingBy(message.ballot))]

    def _on_standing_by(self, src: NodeId, message: StandingBy) -> list[Effect]:
        leader = self.leader
        if leader is not None and message.ballot == leader.ballot:
            self.standing_by[src] = self.now
        return []

    def _may_change(self) -> bool:
        """A membership change may be proposed now (the rules of a client's change)."""
        leader = self.leader
        return (leader is not None and leader.membership_index is None
                and leader.is_ready(self.log.commit_index) and leader.lease.holds(self.now))

    def _propose_change(self, change: MembershipChange) -> list[Effect]:
        leader = self.leader
        assert leader is not None
        leader.membership_index = leader.next_index
        return self._propose((change,))

    def _change_membership(self, change: MembershipChange) -> list[Effect]:
        before, logs_before = self.members, self.log_members
        effects = super()._change_membership(change)
        if isinstance(change, AddMember) and change.id not in before:
            self.added_at[change.id] = self.now  # H1 counts its silence from now
        if self.leader is None or not effects:
            return effects
        detail = (("replica", change.id), ("zone", self.healing.zone(change.id)),
                  ("members", self.members), ("log_members", self.log_members))
        if isinstance(change, AddMember):
            kind = "log_replica_added" if change.role == LOG else "replacement_added"
            effects.append(Announce(kind, detail))
        elif isinstance(change, RemoveMember):
            kind = "log_replica_removed" if change.id in logs_before else "member_removed"
            effects.append(Announce(kind, detail))
            if self._healed():
                effects.append(Announce("healed", (("members", self.members),)))
        return effects

    def _healed(self) -> bool:
        return (not self.log_members and len(self.members) == self.healing.replicas
                and not self.unresponsive())

    # --- H3, H4: answering autoadmin ---------------------------------------------

    def _on_status_request(self, src: NodeId, message: StatusRequest) -> list[Effect]:
        leader = self.leader
        if leader is None:
            return []
        commit = self.log.commit_index
        caught_up = tuple(m for m in self.members if m == self._id
                          or leader.applied.get(m, -1) >= commit - CAUGHT_UP_SLACK)
        status = GroupStatus(str(leader.ballot), self.members, self.log_members,
                             self.unresponsive(), caught_up,
                             leader.membership_index is not None, commit)
        return [Send(src, status)]

    def _on_reconfigure(self, src: NodeId, message: Reconfigure) -> list[Effect]:
        change = message.change
        if (not self._may_change() or self._refusal(change) is not None
                or is_noop_change(self.members, change, self.log_members)):
            return []  # autoadmin asks again at its next poll
        return self._propose_change(change)
