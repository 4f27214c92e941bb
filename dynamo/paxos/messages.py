"""The messages replicas of one group send each other.

Named as in the Paxos literature, two phases per ballot:

=============  =====================  =========================================
phase          leader → acceptors     acceptor → leader
=============  =====================  =========================================
pre-vote       `PreVote`              `PreVoteReply`
1 (election)   `Prepare` (1a)         `Promise` (1b), or `Nack`
2 (writes)     `Accept` (2a)          `Accepted` (2b), or `Nack`
lease          `Heartbeat`            `LeaseGrant`
catch-up       `Commit`, `InstallSnapshot`   `Learned`
handoff        `TimeoutNow`           (none: the successor runs phase 1)
=============  =====================  =========================================

Every message carries the sender's ballot, so a replica that hears of a
higher ballot learns that it has been superseded. A `Heartbeat` also asks for
a lease (§6.2) and tells followers how far the log is chosen; its answer, the
`LeaseGrant`, says how far the follower has applied, which is how the leader
knows whom to ship missing entries (`Commit`) or a snapshot to (§6.1's
healing of a lagging or restarted replica). A `PreVote` asks the peers
whether they still hear a leader before any ballot is raised (§6.2, see
prevote.py); `TimeoutNow` is a planned handoff's "stand now" (§6.4, see
handoff.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dynamo.contract import Message
from dynamo.paxos.ballot import Ballot
from dynamo.paxos.log import AcceptedEntry, Snapshot


@dataclass(frozen=True)
class PreVote(Message):
    """Peer confirmation: "I hear no leader; do you? I would stand with `ballot`".

    Nothing is promised or persisted on either side: `ballot` only names the
    round of asking, so that late answers to an earlier round are ignored.
    """

    ballot: Ballot


@dataclass(frozen=True)
class PreVoteReply(Message):
    """`granted` is False while the answering replica still hears a live leader."""

    ballot: Ballot
    granted: bool


@dataclass(frozen=True)
class TimeoutNow(Message):
    """Planned handoff: the leader of `ballot` has stepped down; stand for election now.

    The sender gave up its lease when it stepped down, so the successor may
    release its own grant to `ballot` (handoff.py argues why that is safe).
    """

    ballot: Ballot


@dataclass(frozen=True)
class Prepare(Message):
    """Phase 1a: "promise me `ballot`, and tell me what you accepted from `from_index` on".

    `handoff` is set by a successor the old leader asked to stand (`TimeoutNow`):
    its peers then promise even while they still hear the leader that asked.
    """

    ballot: Ballot
    from_index: int
    handoff: bool = False


@dataclass(frozen=True)
class Promise(Message):
    """Phase 1b: the acceptor promised `ballot`; here is what it had accepted.

    `snapshot` is set when the acceptor has truncated slots the candidate asked
    for: those slots are chosen, and the snapshot is their outcome.
    """

    ballot: Ballot
    entries: tuple[AcceptedEntry, ...]
    snapshot: Snapshot | None


@dataclass(frozen=True)
class Nack(Message):
    """Refusal: `ballot` is lower than the ballot this acceptor has `promised`."""

    ballot: Ballot
    promised: Ballot


@dataclass(frozen=True)
class Accept(Message):
    """Phase 2a: accept these (index, command) pairs in `ballot`.

    `commit_index` piggybacks how far the leader knows the log is chosen.
    """

    ballot: Ballot
    entries: tuple[tuple[int, Any], ...]
    commit_index: int


@dataclass(frozen=True)
class Accepted(Message):
    """Phase 2b: the acceptor accepted slots `indices` in `ballot`."""

    ballot: Ballot
    indices: tuple[int, ...]


@dataclass(frozen=True)
class Heartbeat(Message):
    """The leader is alive; "grant me a lease from `sent_at` (my clock)"."""

    ballot: Ballot
    commit_index: int
    sent_at: float


@dataclass(frozen=True)
class LeaseGrant(Message):
    """Answer to a heartbeat: lease `granted` or not; how far the follower has applied.

    `caught_up` is False when the follower could not apply up to the leader's
    commit index (it missed entries): the leader then ships them.
    """

    ballot: Ballot
    sent_at: float
    granted: bool
    commit_index: int
    caught_up: bool


@dataclass(frozen=True)
class Commit(Message):
    """Log shipping: these entries are chosen (the follower missed them)."""

    ballot: Ballot
    entries: tuple[AcceptedEntry, ...]
    commit_index: int


@dataclass(frozen=True)
class InstallSnapshot(Message):
    """Log shipping when the leader has truncated what the follower lacks."""

    ballot: Ballot
    snapshot: Snapshot
    commit_index: int


@dataclass(frozen=True)
class Learned(Message):
    """Answer to `Commit`/`InstallSnapshot`: the follower has applied up to `commit_index`."""

    ballot: Ballot
    commit_index: int
    caught_up: bool


@dataclass(frozen=True)
class Decide(Message):
    """The leader's decision: slots up to `commit_index` are chosen; apply them.

    Sent as soon as a write is chosen, so that followers apply it at once and an
    eventually consistent read from them is rarely stale; nothing answers it
    (a follower that lacks an entry learns it from the next heartbeat).
    """

    ballot: Ballot
    commit_index: int


@dataclass(frozen=True)
class Truncate(Message):
    """Leader to a log replica: every full replica has applied up to `index` (§5.1).

    A log replica has no B-tree to fold its log into; it drops the entries
    every full replica has applied, as the leader last heard from them.
    """

    ballot: Ballot
    index: int
