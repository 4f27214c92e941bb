"""A replica of one partition's Multi-Paxos replication group (§3, §6.1, §6.2).

In DynamoDB each partition is a replication group of three replicas in three
availability zones. One replica leads: it alone serves writes and strongly
consistent reads, holding a lease; any replica serves eventually consistent
reads; a write is acknowledged once a quorum has it in their write-ahead logs.
`Replica` is one member of such a group, as a sans-IO node: `step(now, event)`
in, a list of effects out (dynamo.contract).

Rules (each names the module that holds it):

  R1 (election, prevote.py, proposer.py)  A follower that hears no leader for
     a random timeout in `election_timeout_ms` first asks its peers whether
     they still hear one (the pre-vote, §6.2); only if a majority, itself
     included, do not, does it run phase 1 with a ballot above any it has
     seen. A majority of promises wins; the new leader re-proposes what the
     promises report (recovering the log) and a no-op, and serves only once
     those are chosen.
  R2 (acceptor.py)  Promise and accept only ballots at least as high as the
     ballot promised; persist before answering.
  R3 (leader.py)  A slot is chosen when a majority has accepted it in the
     leader's ballot; the leader then applies it and answers its client.
     Writes that arrive while an Accept is in flight take their slots at
     once but are sent together, in one Accept, once it is chosen; that
     Accept's commit index stands in for the Decide.
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
  R8 (handoff.py, §6.4)  Asked to hand off (`HandOff`), the leader stops
     taking requests, waits until its successor has applied every chosen
     slot, steps down giving up its lease, and tells the successor to stand
     at once (`TimeoutNow`): no election timeout, no lease to wait out.
  R9 (§5.1, dynamo/logreplica)  A member whose role is "log" is an acceptor
     and a lease grantor only: it counts in every quorum, never stands, never
     answers a client, applies nothing to its B-tree, and truncates its log
     where the leader says every full replica has applied (`Truncate`).

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
    MemberView,
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
from dynamo.paxos.handoff import HandOff, Handoff, choose_successor
from dynamo.paxos.leader import RESEND_BATCH, Leader
from dynamo.paxos.lease import LeaseGrantor
from dynamo.paxos.log import AcceptedEntry, Promised, Snapshot, rebuild
from dynamo.paxos.membership import (
    LOG,
    MEMBERSHIP_CHANGES,
    ChangeRole,
    MembershipChange,
    apply_change,
    apply_roles,
    is_noop_change,
    majority,
)
from dynamo.paxos.messages import (
    Accept,
    Accepted,
    Commit,
    Decide,
    Heartbeat,
    InstallSnapshot,
    Learned,
    LeaseGrant,
    Nack,
    Prepare,
    PreVote,
    PreVoteReply,
    Promise,
    TimeoutNow,
    Truncate,
)
from dynamo.paxos.operations import (
    KV_TABLE,
    READS,
    SHORTHAND,
    WRITES,
    NotLeader,
    Ok,
    Unavailable,
    item_operation,
    to_shorthand,
)
from dynamo.paxos.prevote import PreVoteRound, grants_pre_vote
from dynamo.paxos.proposer import Scout
from dynamo.paxos.statemachine import InFlight, Noop, StorageReplica, WriteRecord
from dynamo.storage.btree import BTree

FOLLOWER, CANDIDATE, LEADER = "follower", "candidate", "leader"

OUT_OF_TOUCH_LEASES = 2.0
"""A leader no majority has answered for this many lease periods steps down (R7).

Longer than one lease, so that a cut-off leader outlives its lease (and one
that skipped its lease check would be caught serving stale reads); short
enough that a leader that can speak but not hear is replaced in a couple of
seconds (§6.2)."""

CLIENT_OPERATIONS = frozenset({*SHORTHAND, *READS, *WRITES, *MEMBERSHIP_CHANGES})


@dataclass(frozen=True)
class PaxosConfig:
    """Timing and compaction of a group; `pre_vote` switches peer confirmation (§6.2).

    The paper publishes no lease or heartbeat durations, only that waiting
    out a lease "only takes a couple of seconds" (§6.2); these defaults keep
    a simulated failover under two seconds.
    """

    election_timeout_ms: tuple[float, float] = (150.0, 300.0)
    heartbeat_ms: float = 50.0
    lease_ms: float = 1000.0
    max_drift: float = 0.01
    snapshot_every: int = 500
    pre_vote: bool = True


class Replica:
    """One member of a replication group: acceptor always, leader when elected."""

    acceptor_class: type[Acceptor] = Acceptor

    def __init__(
        self,
        id: NodeId,
        members: tuple[NodeId, ...],
        records: Sequence[Any],
        rng: Rng,
        config: PaxosConfig,
        store: StorageReplica | None = None,
    ) -> None:
        self._id = id
        self.config = config
        self.rng = rng
        # The B-tree is this replica's disk: it outlives a crash, the log tail does not.
        self.store = store if store is not None else StorageReplica(BTree(None))
        applied = self.store.applied_lsn
        base = Snapshot(applied, None, self.store.members() or tuple(sorted(members)),
                        self.store.log_members())
        state = rebuild(records, base)
        self.log = state.log
        self.members = state.log.snapshot.members
        self.log_members = state.log.snapshot.log_members
        self.peers = tuple(m for m in self.members if m != id)
        self.acceptor = self.acceptor_class(state.promised, state.log)
        self.grantor = LeaseGrantor()
        self.has_records = len(records) > 0
        self.role = FOLLOWER
        self.leader_id: NodeId | None = None
        self.highest_seen: Ballot = state.promised
        self.scout: Scout | None = None
        self.leader: Leader | None = None
        self.now = 0.0
        self.last_heard = float("-inf")
        # The last sign of a live leader, or of a candidate a majority is electing (P2).
        self.leader_heard = float("-inf")
        self.pre_vote: PreVoteRound | None = None
        self.prepare_from: tuple[int, bool] = (0, False)  # the running election's Prepare
        self.handoff: Handoff | None = None  # H1, H2: leading, handing off
        self.handed_off: Handoff | None = None  # H3, H4: stepped down, to answer the client
        self.election_timeout = self._draw_timeout()
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
            Decide: self._on_decide,
            PreVote: self._on_pre_vote,
            PreVoteReply: self._on_pre_vote_reply,
            TimeoutNow: self._on_timeout_now,
            Truncate: self._on_truncate,
        }

    # --- the Node protocol -------------------------------------------------

    @property
    def id(self) -> NodeId:
        return self._id

    @property
    def is_log_replica(self) -> bool:
        """R9: this member holds the write-ahead log only (§5.1)."""
        return self._id in self.log_members

    def step(self, now_ms: float, event: Event) -> list[Effect]:
        self.now = now_ms
        kind = type(event)
        if kind is Receive:
            handler = self._handlers.get(type(event.message))
            return handler(event.src, event.message) if handler else []
        if kind is ClientRequest:
            return self._on_request(event)
        if kind is TimerFired:
            if event.name == "heartbeat":
                return self._on_heartbeat_timer()
            return self._on_election_timer()
        if kind is Start:
            return self._on_start()
        return []

    def kv_items(self) -> dict[str, str]:
        """The shorthand table's items as key -> value (tests and demos)."""
        return {item["k"]["S"]: item["v"]["S"] for item in self.store.items(KV_TABLE.tbl)}

    def member_views(self) -> tuple[MemberView, ...]:
        """What the simulator's invariants judge: this replica's role, ballot and lease."""
        leader = self.leader
        ballot = leader.ballot if leader else self.scout.ballot if self.scout else None
        log_role = self.is_log_replica and self.role != LEADER
        return (MemberView(None, LOG if log_role else self.role,
                           str(ballot if ballot is not None else self.acceptor.promised),
                           leader.lease.until if leader else None),)

    def snapshot(self) -> dict[str, Any]:
        (view,) = self.member_views()
        return {
            "id": self._id,
            "role": view.role,
            "replica_role": LOG if self.is_log_replica else "full",
            "ballot": view.ballot,
            "promised": str(self.acceptor.promised),
            "leader": self.leader_id,
            "lease_until": view.lease_until,
            "commit_index": self.log.commit_index,
            "last_index": self.log.last_index,
            "snapshot_index": self.log.snapshot.index,
            "members": self.members,
            "log_members": self.log_members,
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
        if self._id not in self.members or self.is_log_replica:  # R9: never stands
            return [SetTimer("election", self.config.election_timeout_ms[1])]
        remaining = self.election_timeout - (self.now - self.last_heard)
        if remaining > 0.001:  # heard from a leader since the timer was set: wait on
            return [SetTimer("election", remaining)]
        if self.config.pre_vote:
            return self._ask_peers()
        return self._start_election()

    # --- R1, R7: peer confirmation before an election (prevote.py) ------------

    def _ask_peers(self) -> list[Effect]:
        """P1: ask whether a leader is still heard, raising no ballot and promising nothing."""
        self.last_heard = self.now
        self.election_timeout = self._draw_timeout()
        if not grants_pre_vote(self.now, self.leader_heard, self.config.election_timeout_ms[0]):
            # It backs another's candidacy (a promise, a grant) made moments ago: let it run.
            return [SetTimer("election", self.election_timeout)]
        ballot = next_ballot(max(self.highest_seen, self.acceptor.promised), self._id)
        self.pre_vote = PreVoteRound(self._id, ballot, self.members)
        if self.pre_vote.receive(self._id, True):  # a group of one
            return self._start_election()
        effects: list[Effect] = [Send(peer, PreVote(ballot)) for peer in self.peers]
        effects.append(SetTimer("election", self.election_timeout))
        return effects

    # --8<-- [start:prevote]
    def _on_pre_vote(self, src: NodeId, message: PreVote) -> list[Effect]:
        """P2: "no" while a live leader, or a candidacy, was heard of within the patience."""
        heard = self.leader_heard
        if self.leader is not None:  # a leader is live while a majority answers it
            heard = self.leader.in_touch_since(self.members, majority(self.members))
        granted = grants_pre_vote(self.now, heard, self.config.election_timeout_ms[0])
        if self.pre_vote is not None and message.ballot < self.pre_vote.ballot:
            granted = False  # two ask at once: only the higher ballot may stand
        if granted:  # one candidacy at a time: back this one, drop its own asking
            self.leader_heard, self.pre_vote = self.now, None
        return [Send(src, PreVoteReply(message.ballot, granted))]

    def _on_pre_vote_reply(self, src: NodeId, reply: PreVoteReply) -> list[Effect]:
        """P3: stand once a majority, this replica included, hears no leader."""
        round_ = self.pre_vote
        if round_ is None or reply.ballot != round_.ballot or self.role == LEADER:
            return []
        if not round_.receive(src, reply.granted):
            return []
        return self._start_election()
    # --8<-- [end:prevote]

    # --- R1: election (phase 1) ----------------------------------------------

    def _start_election(self, handoff: bool = False) -> list[Effect]:
        ballot = next_ballot(max(self.highest_seen, self.acceptor.promised), self._id)
        self.highest_seen = ballot
        self.role, self.leader_id, self.leader, self.pre_vote = CANDIDATE, None, None, None
        self.leader_heard = self.now  # P2: its own candidacy counts as a live one
        self.scout = Scout(ballot, self.members)
        self.prepare_from = (self.log.commit_index + 1, handoff)
        self.last_heard = self.now
        self.election_timeout = self._draw_timeout()
        prepare = Prepare(ballot, self.log.commit_index + 1, handoff)
        reply, records = self.acceptor.on_prepare(prepare)
        effects: list[Effect] = [Persist(r) for r in records]
        effects += [Send(peer, prepare) for peer in self.peers]
        effects.append(SetTimer("election", self.election_timeout))
        if isinstance(reply, Promise):
            effects += self._on_promise(self._id, reply)
        return effects

    def _on_prepare(self, src: NodeId, prepare: Prepare) -> list[Effect]:
        promised = self.acceptor.promised
        if self.is_log_replica and prepare.from_index <= self.log.snapshot.index:
            # R9: a candidate behind what every full member has applied is no member of
            # this group any more; the slots it asks for are gone here, so no promise.
            return []
        if prepare.ballot > promised and not prepare.handoff and self._loyal_to_leader(src):
            return [Send(src, Nack(prepare.ballot, promised))]
        reply, records = self.acceptor.on_prepare(prepare)
        effects: list[Effect] = [Persist(r) for r in records]
        if isinstance(reply, Promise) and prepare.ballot > promised:
            self.highest_seen = max(self.highest_seen, prepare.ballot)
            effects += self._step_down()
            # The election timer is not reset: a candidate that can send but not
            # hear (a gray failure) would otherwise keep everyone from standing.
            self.leader_id = None
            self.leader_heard = self.now  # P2: no pre-vote for a rival while this one runs
        if isinstance(reply, Promise) and reply.snapshot is not None:
            # The slots asked for are truncated here: promise a copy of the B-tree instead.
            reply = Promise(reply.ballot, reply.entries, self._copy())
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
        configs = [c for c in self._recovered_configs(scout) if c not in scout.configs]
        if not configs:
            return self._become_leader(scout)
        # The recovered log changes the members: a majority of each new configuration too.
        asked = {m for config in scout.configs for m in config}
        scout.configs += configs
        prepare = Prepare(scout.ballot, *self.prepare_from)
        effects: list[Effect] = [Send(m, prepare) for m in sorted({*sum(configs, ())} - asked)
                                 if m != self._id]
        return effects + (self._become_leader(scout) if scout.quorate() else [])

    def _recovered_configs(self, scout: Scout) -> list[tuple[NodeId, ...]]:
        """The configurations the log passes through, as the promises so far tell it."""
        recovery = scout.recover(self.log.commit_index)
        configs = [self.members]
        if recovery.snapshot is not None:
            configs.append(recovery.snapshot.members)
        for command in recovery.commands:
            if isinstance(command, MEMBERSHIP_CHANGES):
                configs.append(apply_change(configs[-1], command))
        return list(dict.fromkeys(configs))

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
                             self.now, InFlight(self.store.btree))
        if len(scout.configs) > 1:  # count in all of them until the recovered log is chosen
            self.leader.configs = tuple(scout.configs)
            self.peers = tuple(sorted({m for c in scout.configs for m in c} - {self._id}))
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
        if self.handoff is not None:  # superseded before it could hand off
            effects += self._abandon_hand_off(f"the leader stepped down first: {reason}")
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
        self.last_heard = self.leader_heard = self.now
        self.pre_vote = None  # P3: a leader is heard, the asking ends
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
        handed = self.handed_off
        if granted and handed is not None and src == handed.successor:
            self.handed_off = None  # H4: its grant is in the successor's lease: done
            effects.append(Reply(handed.client, handed.request_id, Ok()))
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
            membership = isinstance(command, MEMBERSHIP_CHANGES)
            if membership:
                self.store.set_members(slot, apply_change(self.members, command),
                                       apply_roles(self.members, self.log_members, command))
                applied = True
            else:  # R9: a log replica keeps the entry in its log and applies nothing
                applied = self.is_log_replica or self.store.apply(slot, command)
            waiting = leader.pending.pop(slot, None) if leader is not None else None
            if leader is not None:
                leader.in_flight.chosen(slot, command)
            if waiting is not None:
                if not applied:  # planned on a write that was never chosen (statemachine.py)
                    waiting = Reply(waiting.client, waiting.request_id, Unavailable(
                        "the write's assumptions no longer held; it was not applied"))
                effects.append(waiting)
            if membership:
                self.log.commit_index = slot  # the new members govern the slots after it
                effects += self._change_membership(command)
                leader = self.leader  # None if this leader removed itself
        self.log.commit_index = index
        effects.append(Announce("committed", (("first", first), ("last", index),
                                              ("commands", tuple(commands)))))
        if index - self.log.snapshot.index >= self.config.snapshot_every:
            effects += self.compact()
        return effects

    def compact(self) -> list[Effect]:
        """Mark the log up to the commit index as held by the B-tree, so it may be dropped.

        The B-tree holds every applied slot (§5.1), so a driver may drop the log
        records behind the marker; the promise is persisted again after it, so it
        outlives the records dropped. A log replica waits for `Truncate` instead (R9).
        """
        if self.is_log_replica:
            return []
        snapshot = Snapshot(self.log.commit_index, None, self.members, self.log_members)
        self.log.install(snapshot)
        return [Persist(snapshot), Persist(Promised(self.acceptor.promised))]

    def _install(self, snapshot: Snapshot) -> list[Effect]:
        """Adopt a copy of a B-tree's chosen state (from a promise or from the leader)."""
        assert snapshot.items is not None
        marker = Snapshot(snapshot.index, None, snapshot.members, snapshot.log_members)
        if self._id in snapshot.log_members:  # R9: a log replica takes the members only
            self.store.set_members(snapshot.index, snapshot.members, snapshot.log_members)
        else:
            self.store.restore(snapshot.index, snapshot.items, snapshot.members,
                               snapshot.log_members)
        self.log.install(marker)
        effects: list[Effect] = [Persist(marker), Persist(Promised(self.acceptor.promised))]
        if (snapshot.members, snapshot.log_members) != (self.members, self.log_members):
            self._set_members(snapshot.members, snapshot.log_members)
            effects.append(Announce("membership_changed", (("members", self.members),)))
        return effects

    # --- R3/R4 at the leader -------------------------------------------------

    def _propose(self, commands: Sequence[Any]) -> list[Effect]:
        """Phase 2a: give each command a slot, accept it here, send it to the peers."""
        for command in commands:
            self._take_slot(command)
        return self._send_unsent()

    def _take_slot(self, command: Any) -> None:
        """Give a command the next slot; later writes are planned as if it were chosen."""
        leader = self.leader
        assert leader is not None
        index = leader.propose()
        if isinstance(command, WriteRecord):
            leader.in_flight.add(index, command)
        leader.unsent.append((index, command))

    def _send_unsent(self) -> list[Effect]:
        """Accept every slot not sent yet, here and at the peers, in one `Accept`."""
        leader = self.leader
        assert leader is not None
        if not leader.unsent:
            return []
        slots, leader.unsent = tuple(leader.unsent), []
        leader.sent_through = slots[-1][0]
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
        chosen = leader.chosen_through(self.log.commit_index, self.members, self._write_quorum())
        for config in leader.configs:
            chosen = min(chosen, leader.chosen_through(self.log.commit_index, config,
                                                       majority(config)))
        if chosen <= self.log.commit_index:
            return []
        leader.forget_through(chosen)
        effects = self._commit_through(chosen)
        if self.leader is leader:
            if leader.unsent and chosen >= leader.sent_through:
                effects += self._send_unsent()  # its Accept tells the peers what is chosen
            else:
                effects += [Send(peer, Decide(leader.ballot, chosen)) for peer in self.peers]
            if leader.membership_index is not None and leader.membership_index <= chosen:
                leader.membership_index = None
            if leader.configs and leader.is_ready(self.log.commit_index):
                leader.configs = ()  # the recovered log is chosen: one configuration again
                self._set_members(self.members, self.log_members)
        return effects

    def _on_decide(self, src: NodeId, decide: Decide) -> list[Effect]:
        """R3 at a follower: apply what the leader has decided, if it holds the entries."""
        if decide.ballot < self.acceptor.promised:
            return []
        return self._follow(src, decide.ballot) + self._learn_commit(decide.ballot,
                                                                     decide.commit_index)

    def _write_quorum(self) -> int:
        """How many accepts choose a slot: a majority of the members (§3)."""
        return majority(self.members)

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
        if self.handoff is not None and now >= self.handoff.deadline_ms:
            successor = self.handoff.successor
            effects += self._abandon_hand_off(f"{successor} did not catch up within a lease")
        leader.heard(self._id, now)
        if self.grantor.may_grant(leader.ballot, now):
            self.grantor.grant(leader.ballot, now, cfg.lease_ms, cfg.max_drift)
            effects += self._record_grant(self._id, now)
        effects += self._send_unsent()  # a lost Accept must not hold the writes behind it
        commit = self.log.commit_index
        beat = Heartbeat(leader.ballot, commit, now)
        for peer in self.peers:
            effects.append(Send(peer, beat))
            missing = leader.missing(peer, commit)
            if missing:
                entries = tuple((i, self.log.entries[i].command) for i in missing)
                effects.append(Send(peer, Accept(leader.ballot, entries, commit)))
        effects += self._truncate_log_replicas()
        effects.append(SetTimer("heartbeat", cfg.heartbeat_ms))
        return effects

    def _truncate_log_replicas(self) -> list[Effect]:
        """R9: tell the log replicas how far every full replica has applied."""
        leader = self.leader
        assert leader is not None
        if not self.log_members:
            return []
        full = [m for m in self.members if m not in self.log_members and m != self._id]
        applied = [leader.applied.get(m) for m in full]
        if any(a is None for a in applied):
            return []  # a full replica has not said how far it is: keep everything
        index = min([self.log.commit_index, *(a for a in applied if a is not None)])
        return [Send(m, Truncate(leader.ballot, index)) for m in self.log_members
                if m != self._id]

    def _on_truncate(self, src: NodeId, message: Truncate) -> list[Effect]:
        """R9 at a log replica: drop what every full replica has applied."""
        if (not self.is_log_replica or message.ballot < self.acceptor.promised
                or message.index <= self.log.snapshot.index
                or message.index > self.log.commit_index):
            return []
        marker = Snapshot(message.index, None, self.members, self.log_members)
        self.log.install(marker)
        return [Persist(marker), Persist(Promised(self.acceptor.promised))]

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
        leader.report_applied(src, grant.commit_index)
        effects = self._record_grant(src, grant.sent_at) if grant.granted else []
        if not grant.caught_up:
            effects += self._ship(src, grant.commit_index)
        return effects + self._hand_off_progress(src, grant.commit_index)

    def _on_learned(self, src: NodeId, learned: Learned) -> list[Effect]:
        leader = self.leader
        if leader is None or learned.ballot != leader.ballot:
            return []
        leader.report_applied(src, learned.commit_index)
        effects = [] if learned.caught_up else self._ship(src, learned.commit_index)
        return effects + self._hand_off_progress(src, learned.commit_index)

    def _ship(self, peer: NodeId, peer_commit: int) -> list[Effect]:
        """Log shipping: send a lagging replica the chosen entries it lacks."""
        leader = self.leader
        assert leader is not None
        commit = self.log.commit_index
        if peer_commit >= commit:
            return []
        if peer_commit < self.log.snapshot.index:
            return [Send(peer, InstallSnapshot(leader.ballot, self._copy(), commit))]
        last = min(commit, peer_commit + RESEND_BATCH)
        entries: tuple[AcceptedEntry, ...] = tuple(
            self.log.entries[i] for i in range(peer_commit + 1, last + 1)
        )
        return [Send(peer, Commit(leader.ballot, entries, commit))]

    # --- R8: planned leadership handoff (handoff.py, §6.4) ----------------------

    def _on_request(self, request: ClientRequest) -> list[Effect]:
        """A client request: a handoff, refused while one runs (H1), or served."""
        if type(request.operation) is HandOff:
            return self._on_hand_off(request, request.operation)
        if self.handoff is not None:
            reason = "the leader is handing off its leadership (§6.4)"
            return [Reply(request.client, request.request_id, Unavailable(reason))]
        return self._on_client_request(request)

    def _on_hand_off(self, request: ClientRequest, op: HandOff) -> list[Effect]:
        """H1: pick a successor and stop taking requests until it has caught up."""
        leader = self.leader
        refusal: NotLeader | Unavailable | None = None
        successor = None
        if leader is None:
            refusal = NotLeader(self.leader_id if self.leader_id != self._id else None)
        elif not leader.is_ready(self.log.commit_index):
            refusal = Unavailable("the new leader is still recovering the log")
        else:
            full_peers = tuple(p for p in self.peers if p not in self.log_members)  # R9
            successor = choose_successor(op.to, full_peers, leader.heard_at)
            if successor is None:
                refusal = Unavailable(f"no member to hand off to: {op.to!r}")
        if refusal is not None or successor is None:
            return [Reply(request.client, request.request_id, refusal)]
        self.handoff = Handoff(successor, request.client, request.request_id,
                               self.now + self.config.lease_ms)
        effects: list[Effect] = [Announce("handoff_started", (("to", successor),))]
        return effects + self._on_heartbeat_timer()  # ask the successor how far it has applied

    # --8<-- [start:handoff]
    def _hand_off_progress(self, src: NodeId, applied: int) -> list[Effect]:
        """H2, H3: once the successor has applied every proposed slot, step aside."""
        handoff, leader = self.handoff, self.leader
        if handoff is None or leader is None or src != handoff.successor:
            return []
        handoff.successor_applied = max(handoff.successor_applied, applied)
        if not handoff.ready(self.log.commit_index, leader.next_index - 1):
            return []
        ballot = leader.ballot
        self.handoff, self.handed_off = None, handoff
        self.grantor.release(ballot)  # H3: this leader's lease ends with its step down
        effects = self._step_down(f"handed off to {handoff.successor}")
        self.leader_id = None
        effects.append(Send(handoff.successor, TimeoutNow(ballot)))
        return effects
    # --8<-- [end:handoff]

    def _abandon_hand_off(self, reason: str) -> list[Effect]:
        """H5: the handoff cannot finish; a leader that still leads goes on leading."""
        handoff = self.handoff
        assert handoff is not None
        self.handoff = None
        return [Announce("handoff_abandoned", (("to", handoff.successor), ("reason", reason))),
                Reply(handoff.client, handoff.request_id, Unavailable(reason))]

    def _on_timeout_now(self, src: NodeId, message: TimeoutNow) -> list[Effect]:
        """H4: the old leader has stepped down; stand at once, skipping the pre-vote."""
        if (message.ballot < self.acceptor.promised or self.role == LEADER
                or self._id not in self.members or self.is_log_replica):
            return []
        self.grantor.release(message.ballot)
        return self._start_election(handoff=True)

    # --- R5/R6: clients and membership ---------------------------------------

    def _copy(self) -> Snapshot:
        """A copy of this replica's B-tree as of its commit index, to ship or promise."""
        return Snapshot(self.log.commit_index, self.store.dump(), self.members, self.log_members)

    def _on_client_request(self, request: ClientRequest) -> list[Effect]:
        op = request.operation
        refusal = self._refusal(op)
        if refusal is not None:
            return [self._answer(request, refusal)]
        item_op = item_operation(op)
        if type(item_op) in READS:
            return [self._answer(request, self.store.read(item_op))]
        return self._write(request, item_op)

    def _write(self, request: ClientRequest, op: Any) -> list[Effect]:
        """Plan a write, propose it, and answer once it is chosen and applied (R3)."""
        leader = self.leader
        assert leader is not None
        if isinstance(op, MEMBERSHIP_CHANGES):
            if is_noop_change(self.members, op, self.log_members):
                return [self._answer(request, Ok())]
            leader.membership_index = leader.next_index
            command, answer = op, Ok()
        else:  # §3: the leader plans the write against its items plus the writes in flight
            command, answer = self.store.plan(op, leader.in_flight)
            if command is None:  # refused (a false condition, an invalid update): nothing logged
                return [self._answer(request, answer)]
        leader.pending[leader.next_index] = self._answer(request, answer)
        # --8<-- [start:batch]
        self._take_slot(command)
        if leader.sent_through > self.log.commit_index:
            return []  # an Accept is in flight: this write goes in the next, with the others
        return self._send_unsent()
        # --8<-- [end:batch]

    def _answer(self, request: ClientRequest, result: Any) -> Reply:
        if type(request.operation) in SHORTHAND:
            result = to_shorthand(request.operation, result)
        return Reply(request.client, request.request_id, result)

    # --8<-- [start:serve]
    def _refusal(self, op: Any) -> NotLeader | Unavailable | None:
        """Why this replica will not serve `op` now, or None if it will."""
        if type(op) not in CLIENT_OPERATIONS and not self.store.plans(op):
            return Unavailable(f"not an operation of this group: {op!r}")
        if self.is_log_replica:  # R9: no B-tree to read, never the leader
            return NotLeader(self.leader_id if self.leader_id != self._id else None)
        if getattr(op, "consistent", True) is False:
            return None  # R5: an eventually consistent read, from any replica's applied items
        leader = self.leader
        if leader is None:
            hint = self.leader_id if self.leader_id != self._id else None
            return NotLeader(hint)
        if not leader.is_ready(self.log.commit_index):
            return Unavailable("the new leader is still recovering the log")
        if not leader.lease.holds(self.now):
            return Unavailable("the leader holds no lease yet (it waits out the old one, §6.2)")
        if isinstance(op, MEMBERSHIP_CHANGES) and leader.membership_index is not None:
            return Unavailable("another membership change is in progress")
        if isinstance(op, ChangeRole) and op.role != LOG and op.id in self.log_members:
            # Its B-tree is empty or stale: a full replica is built by autoadmin (§5.1).
            return Unavailable("a log replica becomes full only by being replaced")
        return None
    # --8<-- [end:serve]

    def _change_membership(self, change: MembershipChange) -> list[Effect]:
        members = apply_change(self.members, change)
        log_members = apply_roles(self.members, self.log_members, change)
        if (members, log_members) == (self.members, self.log_members):
            return []
        self._set_members(members, log_members)
        effects: list[Effect] = [Announce("membership_changed", (("members", members),
                                                                 ("log_members", log_members)))]
        if self._id not in members and self.role == LEADER:
            effects += self._step_down("removed from the group")
        elif self.is_log_replica and self.role == LEADER:
            effects += self._step_down("made a log replica (R9)")
        return effects

    def _set_members(self, members: tuple[NodeId, ...],
                     log_members: tuple[NodeId, ...] = ()) -> None:
        self.members = members
        self.log_members = log_members
        self.peers = tuple(m for m in members if m != self._id)


def replica_factory(members: tuple[NodeId, ...], config: PaxosConfig,
                    replica_class: type[Replica] = Replica) -> NodeFactory:
    """How a driver builds (and, after a crash, rebuilds) each replica of a group.

    Each replica's B-tree (in memory here) is its disk: created at the first
    boot, handed back on every rebuild, so that a crash loses only what was
    never persisted, as contract rule 3 says.
    """
    disks: dict[NodeId, StorageReplica] = {}

    def build(id: NodeId, records: Sequence[Any], rng: Rng) -> Replica:
        store = disks.setdefault(id, StorageReplica(BTree(None)))
        return replica_class(id, members, records, rng, config, store)

    return build

