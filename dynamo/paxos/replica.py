"""A replica of one partition's Multi-Paxos replication group (§3, §6.1, §6.2).

In DynamoDB each partition is a replication group of three replicas in three
availability zones. One replica leads: it alone serves writes and strongly
consistent reads, holding a lease; any replica serves eventually consistent
reads; a write is acknowledged once a quorum has it in their write-ahead logs.
`Replica` is one member of such a group, as a sans-IO node: `step(now, event)`
in, a list of effects out (dynamo.contract).

Rules (each names the module that holds it):

  R1 (election, proposer.py)  A follower that hears no leader for a random
     timeout in `election_timeout_ms` runs phase 1 with a ballot above any it
     has seen. A majority of promises wins; the new leader re-proposes what
     the promises report (recovering the log) and a no-op, and serves only
     once those are chosen.
  R2 (acceptor.py)  Promise and accept only ballots at least as high as the
     ballot promised; persist before answering.
  R3 (leader.py)  A slot is chosen when a majority has accepted it in the
     leader's ballot; the leader then applies it and answers its client.
     Followers learn the commit index from the leader's messages and apply in
     slot order; what they missed is shipped to them (`Commit`), or a
     snapshot when the leader has truncated it (`InstallSnapshot`).
  R4 (lease.py)  The leader serves writes and consistent reads only while a
     majority's lease grants are in force; a grantor grants no other ballot
     meanwhile, so a new leader waits out the old lease (§6.2).
  R5  Eventually consistent reads are served by any replica from its own
     applied items; writes and consistent reads reaching a non-leader are
     answered `NotLeader(hint)`.
  R6 (membership.py)  Members change through the log, one at a time.
  R7 (§6.2, gray failures)  A replica that has heard from a live leader within
     the shortest election timeout refuses to help elect another, and so does
     a leader that a majority answered that recently. A leader keeps its
     leadership only while it keeps in touch: one that no majority has
     answered for two lease periods (it may hear nothing while still being
     heard) steps down, so that the others stop hearing it and elect anew.

Answers: `Ok` and `ConditionFailed` are what happened; `NotLeader` and
`Unavailable` are definite refusals (nothing was proposed). A leader that is
deposed while writes are in flight does *not* answer them: they may still be
chosen by its successor, so their outcome is unknown to the client.

Timers: "election" (followers and candidates), "heartbeat" (the leader).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dynamo.contract import (
    Announce,
    CancelTimer,
    ClientRequest,
    Effect,
    Event,
    NodeFactory,
    NodeId,
    Persist,
    Receive,
    Reply,
    Rng,
    Send,
    SetTimer,
    Start,
    TimerFired,
)
from dynamo.paxos.acceptor import Acceptor
from dynamo.paxos.ballot import Ballot, next_ballot
from dynamo.paxos.leader import RESEND_BATCH, Leader
from dynamo.paxos.lease import LeaseGrantor
from dynamo.paxos.log import AcceptedEntry, Snapshot, rebuild
from dynamo.paxos.membership import (
    AddMember,
    MembershipChange,
    RemoveMember,
    apply_change,
    is_noop_change,
    majority,
)
from dynamo.paxos.messages import (
    Accept,
    Accepted,
    Commit,
    Heartbeat,
    InstallSnapshot,
    Learned,
    LeaseGrant,
    Nack,
    Prepare,
    Promise,
)
from dynamo.paxos.operations import ConditionalPut, Delete, Get, NotLeader, Ok, Put, Unavailable
from dynamo.paxos.proposer import Scout
from dynamo.paxos.statemachine import KeyValueStore, Noop

PLANTED_BUGS = frozenset({"read_without_lease", "commit_before_quorum", "accept_stale_ballot"})

FOLLOWER, CANDIDATE, LEADER = "follower", "candidate", "leader"

OUT_OF_TOUCH_LEASES = 2.0
"""A leader no majority has answered for this many lease periods steps down (R7).

Longer than one lease, so that a cut-off leader outlives its lease (and a
planted read_without_lease bug can show); short enough that a leader that
can speak but not hear is replaced in a couple of seconds (§6.2)."""

CLIENT_OPERATIONS = frozenset({Put, Get, ConditionalPut, Delete, AddMember, RemoveMember})


@dataclass(frozen=True)
class PaxosConfig:
    """Timing and compaction of a group; `planted_bug` breaks one rule on purpose.

    The paper publishes no lease or heartbeat durations, only that waiting
    out a lease "only takes a couple of seconds" (§6.2); these defaults keep
    a simulated failover under two seconds.
    """

    election_timeout_ms: tuple[float, float] = (150.0, 300.0)
    heartbeat_ms: float = 50.0
    lease_ms: float = 1000.0
    max_drift: float = 0.01
    snapshot_every: int = 500
    planted_bug: str | None = None

    def __post_init__(self) -> None:
        if self.planted_bug is not None and self.planted_bug not in PLANTED_BUGS:
            raise ValueError(f"unknown planted bug {self.planted_bug!r}")


class Replica:
    """One member of a replication group: acceptor always, leader when elected."""

    def __init__(
        self,
        id: NodeId,
        members: tuple[NodeId, ...],
        records: Sequence[Any],
        rng: Rng,
        config: PaxosConfig,
    ) -> None:
        self._id = id
        self.config = config
        self.rng = rng
        state = rebuild(records, tuple(sorted(members)))
        self.log = state.log
        self.members = state.log.snapshot.members
        self.peers = tuple(m for m in self.members if m != id)
        self.acceptor = Acceptor(
            state.promised, state.log, config.planted_bug == "accept_stale_ballot"
        )
        self.store = KeyValueStore(state.log.snapshot.items)
        self.grantor = LeaseGrantor()
        self.has_records = len(records) > 0
        self.role = FOLLOWER
        self.leader_id: NodeId | None = None
        self.highest_seen: Ballot = state.promised
        self.scout: Scout | None = None
        self.leader: Leader | None = None
        self.now = 0.0
        self.last_heard = float("-inf")
        self.election_timeout = self._draw_timeout()
        self.quorum_of_one = config.planted_bug == "commit_before_quorum"
        self._handlers: dict[type, Callable[[NodeId, Any], list[Effect]]] = {
            Prepare: self._on_prepare,
            Promise: self._on_promise,
            Nack: self._on_nack,
            Accept: self._on_accept,
            Accepted: self._on_accepted,
            Heartbeat: self._on_heartbeat,
            LeaseGrant: self._on_lease_grant,
            Commit: self._on_commit,
            InstallSnapshot: self._on_install_snapshot,
            Learned: self._on_learned,
        }

    # --- the Node protocol -------------------------------------------------

    @property
    def id(self) -> NodeId:
        return self._id

    def step(self, now_ms: float, event: Event) -> list[Effect]:
        self.now = now_ms
        kind = type(event)
        if kind is Receive:
            handler = self._handlers.get(type(event.message))
            return handler(event.src, event.message) if handler else []
        if kind is ClientRequest:
            return self._on_client_request(event)
        if kind is TimerFired:
            if event.name == "heartbeat":
                return self._on_heartbeat_timer()
            return self._on_election_timer()
        if kind is Start:
            return self._on_start()
        return []

    def snapshot(self) -> dict[str, Any]:
        leader = self.leader
        ballot = leader.ballot if leader else self.scout.ballot if self.scout else None
        return {
            "id": self._id,
            "role": self.role,
            "ballot": str(ballot if ballot is not None else self.acceptor.promised),
            "promised": str(self.acceptor.promised),
            "leader": self.leader_id,
            "lease_until": leader.lease.until if leader else None,
            "commit_index": self.log.commit_index,
            "last_index": self.log.last_index,
            "snapshot_index": self.log.snapshot.index,
            "members": self.members,
            "items": dict(self.store.items),
        }

    # --- start and timers ----------------------------------------------------

    def _on_start(self) -> list[Effect]:
        if self.has_records:
            # Rule 4 of lease.py: a lease granted before the crash may still run.
            self.grantor.refuse_all(self.now, self.config.lease_ms, self.config.max_drift)
        self.last_heard = self.now
        return [SetTimer("election", self.election_timeout)]

    def _draw_timeout(self) -> float:
        low, high = self.config.election_timeout_ms
        return self.rng.uniform(low, high)

    def _on_election_timer(self) -> list[Effect]:
        if self.role == LEADER:
            return []
        if self._id not in self.members:
            return [SetTimer("election", self.config.election_timeout_ms[1])]
        remaining = self.election_timeout - (self.now - self.last_heard)
        if remaining > 0.001:  # heard from a leader since the timer was set: wait on
            return [SetTimer("election", remaining)]
        return self._start_election()

    # --- R1: election (phase 1) ----------------------------------------------

    def _start_election(self) -> list[Effect]:
        ballot = next_ballot(max(self.highest_seen, self.acceptor.promised), self._id)
        self.highest_seen = ballot
        self.role, self.leader_id, self.leader = CANDIDATE, None, None
        self.scout = Scout(ballot, self.members)
        self.last_heard = self.now
        self.election_timeout = self._draw_timeout()
        prepare = Prepare(ballot, self.log.commit_index + 1)
        reply, records = self.acceptor.on_prepare(prepare)
        effects: list[Effect] = [Persist(r) for r in records]
        effects += [Send(peer, prepare) for peer in self.peers]
        effects.append(SetTimer("election", self.election_timeout))
        if isinstance(reply, Promise):
            effects += self._on_promise(self._id, reply)
        return effects

    def _on_prepare(self, src: NodeId, prepare: Prepare) -> list[Effect]:
        promised = self.acceptor.promised
        if prepare.ballot > promised and self._loyal_to_leader(src):
            return [Send(src, Nack(prepare.ballot, promised))]
        reply, records = self.acceptor.on_prepare(prepare)
        effects: list[Effect] = [Persist(r) for r in records]
        if isinstance(reply, Promise) and prepare.ballot > promised:
            self.highest_seen = max(self.highest_seen, prepare.ballot)
            effects += self._step_down()
            # The election timer is not reset: a candidate that can send but not
            # hear (a gray failure) would otherwise keep everyone from standing.
            self.leader_id = None
        effects.append(Send(src, reply))
        return effects

    def _loyal_to_leader(self, candidate: NodeId) -> bool:
        """R7: a live leader is not deposed on one replica's say-so (§6.2)."""
        patience = self.config.election_timeout_ms[0]
        if self.leader is not None:  # in touch with a majority lately: still a live leader
            in_touch = self.leader.in_touch_since(self.members, majority(self.members))
            return self.now - in_touch < patience
        recently = self.now - self.last_heard < patience
        return self.leader_id is not None and self.leader_id != candidate and recently

    def _on_promise(self, src: NodeId, promise: Promise) -> list[Effect]:
        scout = self.scout
        if self.role != CANDIDATE or scout is None or promise.ballot != scout.ballot:
            return []
        if not scout.receive(src, promise):
            return []
        return self._become_leader(scout)

    def _on_nack(self, src: NodeId, nack: Nack) -> list[Effect]:
        if nack.promised > self.highest_seen:
            self.highest_seen = nack.promised
        mine = self.leader.ballot if self.leader else self.scout.ballot if self.scout else None
        if mine is None or nack.ballot != mine or nack.promised <= mine:
            return []
        return self._step_down()  # a higher ballot exists; the election timer retries

    def _become_leader(self, scout: Scout) -> list[Effect]:
        recovery = scout.recover(self.log.commit_index)
        effects: list[Effect] = []
        if recovery.snapshot is not None:
            effects += self._install(recovery.snapshot)
        cfg = self.config
        self.role, self.leader_id, self.scout = LEADER, self._id, None
        self.leader = Leader(scout.ballot, recovery.first_index, cfg.lease_ms, cfg.max_drift,
                             self.now)
        effects.append(CancelTimer("election"))
        effects.append(Announce("elected", (("ballot", str(scout.ballot)), ("leader", self._id),
                                            ("recovered", len(recovery.commands)))))
        effects += self._propose((*recovery.commands, Noop()))
        self.leader.ready_index = self.leader.next_index - 1
        effects += self._on_heartbeat_timer()
        return effects

    def _step_down(self, reason: str = "a higher ballot") -> list[Effect]:
        """Become a follower (a candidate gives up; a leader is superseded or cut off)."""
        effects: list[Effect] = []
        if self.role == LEADER and self.leader is not None:
            # In-flight writes get no answer: their successor may still choose them.
            effects.append(CancelTimer("heartbeat"))
            effects.append(Announce("stepped_down", (("ballot", str(self.leader.ballot)),
                                                     ("reason", reason))))
        if self.role != FOLLOWER:
            self.last_heard = self.now
            self.election_timeout = self._draw_timeout()
            effects.append(SetTimer("election", self.election_timeout))
        self.role, self.scout, self.leader = FOLLOWER, None, None
        return effects

    # --- R2/R3 at a follower: accept, learn, apply ---------------------------

    def _follow(self, src: NodeId, ballot: Ballot) -> list[Effect]:
        """`src` leads `ballot`, at least as high as this replica promised."""
        effects: list[Effect] = [Persist(r) for r in self.acceptor.observe(ballot)]
        if ballot > self.highest_seen:
            self.highest_seen = ballot
        if self.role != FOLLOWER:
            effects += self._step_down()
        self.leader_id = src
        self.last_heard = self.now
        return effects

    def _on_accept(self, src: NodeId, accept: Accept) -> list[Effect]:
        reply, records = self.acceptor.on_accept(accept)
        effects: list[Effect] = [Persist(r) for r in records]
        if isinstance(reply, Accepted) and accept.ballot >= self.acceptor.promised:
            effects += self._follow(src, accept.ballot)
            effects += self._learn_commit(accept.ballot, accept.commit_index)
        effects.append(Send(src, reply))
        return effects

    def _on_heartbeat(self, src: NodeId, beat: Heartbeat) -> list[Effect]:
        if beat.ballot < self.acceptor.promised:
            return [Send(src, Nack(beat.ballot, self.acceptor.promised))]
        effects = self._follow(src, beat.ballot)
        granted = self.grantor.may_grant(beat.ballot, self.now)
        if granted:
            self.grantor.grant(beat.ballot, self.now, self.config.lease_ms, self.config.max_drift)
        effects += self._learn_commit(beat.ballot, beat.commit_index)
        commit = self.log.commit_index
        effects.append(Send(src, LeaseGrant(beat.ballot, beat.sent_at, granted, commit,
                                            commit >= beat.commit_index)))
        return effects

    def _on_commit(self, src: NodeId, commit: Commit) -> list[Effect]:
        if commit.ballot < self.acceptor.promised:
            return [Send(src, Nack(commit.ballot, self.acceptor.promised))]
        effects = self._follow(src, commit.ballot)
        chosen = self.log.commit_index
        for entry in commit.entries:
            if entry.index > self.log.commit_index:
                effects += [Persist(r) for r in self.acceptor.learn(entry)]
            if entry.index == chosen + 1:
                chosen += 1
        if chosen > self.log.commit_index:
            effects += self._commit_through(chosen)
        effects += self._learn_commit(commit.ballot, commit.commit_index)
        done = self.log.commit_index
        effects.append(Send(src, Learned(commit.ballot, done, done >= commit.commit_index)))
        return effects

    def _on_install_snapshot(self, src: NodeId, message: InstallSnapshot) -> list[Effect]:
        if message.ballot < self.acceptor.promised:
            return [Send(src, Nack(message.ballot, self.acceptor.promised))]
        effects = self._follow(src, message.ballot)
        if message.snapshot.index > self.log.commit_index:
            effects += self._install(message.snapshot)
        effects += self._learn_commit(message.ballot, message.commit_index)
        done = self.log.commit_index
        effects.append(Send(src, Learned(message.ballot, done, done >= message.commit_index)))
        return effects

    # --8<-- [start:learn]
    def _learn_commit(self, ballot: Ballot, leader_commit: int) -> list[Effect]:
        """Apply slots the leader says are chosen, if this replica holds the leader's value.

        An entry accepted in the leader's own ballot is the leader's value for
        that slot, hence the chosen one; any other entry may be stale, and
        waits for log shipping.
        """
        index = self.log.commit_index
        target = min(leader_commit, self.log.last_index)
        while index < target:
            entry = self.log.entry(index + 1)
            if entry is None or entry.ballot != ballot:
                break
            index += 1
        return self._commit_through(index) if index > self.log.commit_index else []
    # --8<-- [end:learn]

    def _commit_through(self, index: int) -> list[Effect]:
        """Apply the chosen slots up to `index`, in order; the leader answers its clients."""
        effects: list[Effect] = []
        first = self.log.commit_index + 1
        leader = self.leader
        commands = []
        for slot in range(first, index + 1):
            command = self.log.entries[slot].command
            commands.append(command)
            membership = isinstance(command, AddMember | RemoveMember)
            result = Ok() if membership else self.store.apply(command)
            waiting = leader.pending.pop(slot, None) if leader is not None else None
            if waiting is not None:
                effects.append(Reply(waiting[0], waiting[1], result))
            if membership:
                self.log.commit_index = slot  # the new members govern the slots after it
                effects += self._change_membership(command)
                leader = self.leader  # None if this leader removed itself
        self.log.commit_index = index
        effects.append(Announce("committed", (("first", first), ("last", index),
                                              ("commands", tuple(commands)))))
        if index - self.log.snapshot.index >= self.config.snapshot_every:
            snapshot = Snapshot(index, self.store.to_snapshot(), self.members)
            self.log.install(snapshot)
            effects.append(Persist(snapshot))
        return effects

    def _install(self, snapshot: Snapshot) -> list[Effect]:
        """Adopt a snapshot of chosen state (from a promise or from the leader)."""
        self.log.install(snapshot)
        self.store = KeyValueStore(snapshot.items)
        effects: list[Effect] = [Persist(snapshot)]
        if snapshot.members != self.members:
            self._set_members(snapshot.members)
            effects.append(Announce("membership_changed", (("members", self.members),)))
        return effects

    # --- R3/R4 at the leader -------------------------------------------------

    def _propose(self, commands: Sequence[Any]) -> list[Effect]:
        """Phase 2a: give each command a slot, accept it here, send it to the peers."""
        leader = self.leader
        assert leader is not None
        slots = tuple((leader.propose(), command) for command in commands)
        accept = Accept(leader.ballot, slots, self.log.commit_index)
        reply, records = self.acceptor.on_accept(accept)
        effects: list[Effect] = [Persist(r) for r in records]
        if isinstance(reply, Accepted):
            for index in reply.indices:
                leader.vote(index, self._id)
        effects += [Send(peer, accept) for peer in self.peers]
        effects += self._advance_commit()
        return effects

    def _on_accepted(self, src: NodeId, accepted: Accepted) -> list[Effect]:
        leader = self.leader
        if leader is None or accepted.ballot != leader.ballot:
            return []
        for index in accepted.indices:
            leader.vote(index, src)
        return self._advance_commit()

    def _advance_commit(self) -> list[Effect]:
        leader = self.leader
        assert leader is not None
        quorum = 1 if self.quorum_of_one else majority(self.members)
        chosen = leader.chosen_through(self.log.commit_index, self.members, quorum)
        if chosen <= self.log.commit_index:
            return []
        leader.forget_through(chosen)
        effects = self._commit_through(chosen)
        if self.leader is leader and leader.membership_index is not None:
            if leader.membership_index <= chosen:
                leader.membership_index = None
        return effects

    def _on_heartbeat_timer(self) -> list[Effect]:
        """Every heartbeat: ask for a lease, say how far the log is chosen, resend."""
        leader = self.leader
        if leader is None:
            return []
        cfg, now = self.config, self.now
        quorum = majority(self.members)
        out_of_touch = now - leader.in_touch_since(self.members, quorum)
        if out_of_touch > cfg.lease_ms * OUT_OF_TOUCH_LEASES:
            return self._step_down("no majority has answered for two lease periods")
        effects: list[Effect] = []
        leader.heard(self._id, now)
        if self.grantor.may_grant(leader.ballot, now):
            self.grantor.grant(leader.ballot, now, cfg.lease_ms, cfg.max_drift)
            effects += self._record_grant(self._id, now)
        commit = self.log.commit_index
        beat = Heartbeat(leader.ballot, commit, now)
        for peer in self.peers:
            effects.append(Send(peer, beat))
            missing = leader.missing(peer, commit)
            if missing:
                entries = tuple((i, self.log.entries[i].command) for i in missing)
                effects.append(Send(peer, Accept(leader.ballot, entries, commit)))
        effects.append(SetTimer("heartbeat", cfg.heartbeat_ms))
        return effects

    def _record_grant(self, member: NodeId, sent_at: float) -> list[Effect]:
        leader = self.leader
        assert leader is not None
        held = leader.lease.holds(self.now)
        leader.lease.record(member, sent_at, self.members, majority(self.members))
        if held or not leader.lease.holds(self.now):
            return []
        return [Announce("lease_acquired", (("ballot", str(leader.ballot)),
                                            ("until", leader.lease.until)))]

    def _on_lease_grant(self, src: NodeId, grant: LeaseGrant) -> list[Effect]:
        leader = self.leader
        if leader is None or grant.ballot != leader.ballot:
            return []
        leader.heard(src, grant.sent_at)
        effects = self._record_grant(src, grant.sent_at) if grant.granted else []
        if not grant.caught_up:
            effects += self._ship(src, grant.commit_index)
        return effects

    def _on_learned(self, src: NodeId, learned: Learned) -> list[Effect]:
        leader = self.leader
        if leader is None or learned.ballot != leader.ballot or learned.caught_up:
            return []
        return self._ship(src, learned.commit_index)

    def _ship(self, peer: NodeId, peer_commit: int) -> list[Effect]:
        """Log shipping: send a lagging replica the chosen entries it lacks."""
        leader = self.leader
        assert leader is not None
        commit = self.log.commit_index
        if peer_commit >= commit:
            return []
        if peer_commit < self.log.snapshot.index:
            return [Send(peer, InstallSnapshot(leader.ballot, self.log.snapshot, commit))]
        last = min(commit, peer_commit + RESEND_BATCH)
        entries: tuple[AcceptedEntry, ...] = tuple(
            self.log.entries[i] for i in range(peer_commit + 1, last + 1)
        )
        return [Send(peer, Commit(leader.ballot, entries, commit))]

    # --- R5/R6: clients and membership ---------------------------------------

    def _on_client_request(self, request: ClientRequest) -> list[Effect]:
        op = request.operation
        result = self._refusal(op)
        if result is not None:
            return [Reply(request.client, request.request_id, result)]
        if isinstance(op, Get):
            return [Reply(request.client, request.request_id, Ok(self.store.read(op.key)))]
        leader = self.leader
        assert leader is not None
        if isinstance(op, AddMember | RemoveMember):
            if is_noop_change(self.members, op):
                return [Reply(request.client, request.request_id, Ok())]
            leader.membership_index = leader.next_index
        leader.pending[leader.next_index] = (request.client, request.request_id)
        return self._propose((op,))

    # --8<-- [start:serve]
    def _refusal(self, op: Any) -> NotLeader | Unavailable | None:
        """Why this replica will not serve `op` now, or None if it will."""
        if type(op) not in CLIENT_OPERATIONS:
            return Unavailable(f"not an operation of this group: {op!r}")
        if isinstance(op, Get) and not op.consistent:
            return None  # R5: any replica, from what it has applied
        leader = self.leader
        if leader is None:
            hint = self.leader_id if self.leader_id != self._id else None
            return NotLeader(hint)
        if not leader.is_ready(self.log.commit_index):
            return Unavailable("the new leader is still recovering the log")
        unchecked = isinstance(op, Get) and self.config.planted_bug == "read_without_lease"
        if not unchecked and not leader.lease.holds(self.now):
            return Unavailable("the leader holds no lease yet (it waits out the old one, §6.2)")
        if isinstance(op, AddMember | RemoveMember) and leader.membership_index is not None:
            return Unavailable("another membership change is in progress")
        return None
    # --8<-- [end:serve]

    def _change_membership(self, change: MembershipChange) -> list[Effect]:
        members = apply_change(self.members, change)
        if members == self.members:
            return []
        self._set_members(members)
        effects: list[Effect] = [Announce("membership_changed", (("members", members),))]
        if self._id not in members and self.role == LEADER:
            effects += self._step_down("removed from the group")
        return effects

    def _set_members(self, members: tuple[NodeId, ...]) -> None:
        self.members = members
        self.peers = tuple(m for m in members if m != self._id)


def replica_factory(members: tuple[NodeId, ...], config: PaxosConfig) -> NodeFactory:
    """How a driver builds (and, after a crash, rebuilds) each replica of a group."""

    def build(id: NodeId, records: Sequence[Any], rng: Rng) -> Replica:
        return Replica(id, members, records, rng, config)

    return build

