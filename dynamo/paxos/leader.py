"""Phase 2 of Multi-Paxos: what a leader has in flight and who accepted it.

Once its ballot is won, the leader assigns each write the next slot, accepts
it itself and sends `Accept` to the other members; a slot is *chosen* when a
majority (the leader included) has accepted it, and the leader then applies
it and answers the client: DynamoDB acknowledges a write "once a quorum of
peers persists the log record to their local write-ahead logs" (§3), two of
three replicas in different availability zones (§6.1).

The `Leader` here keeps only bookkeeping for one ballot, which dies with the
ballot: votes per slot, the clients waiting for slots, the start-of-ballot
no-op it must commit before serving, and the lease it is collecting. The log
itself belongs to the replica's acceptor; the replica passes in what the
leader needs to read. The writes in flight (proposed, not yet chosen) are
kept as an overlay on the B-tree, so that the next write to the same item
is planned against what it will find (`statemachine.InFlight`).
"""

from __future__ import annotations

from dynamo.contract import NodeId, Reply
from dynamo.paxos.ballot import Ballot
from dynamo.paxos.lease import LeaseHolder
from dynamo.paxos.statemachine import InFlight

RESEND_BATCH = 64
"""At most this many slots go in one retransmitted `Accept` or `Commit`."""


class Leader:
    """One ballot's phase 2 state at the leader."""

    def __init__(
        self, ballot: Ballot, first_index: int, lease_ms: float, drift: float, now_ms: float,
        in_flight: InFlight,
    ) -> None:
        self.ballot = ballot
        self.since = now_ms
        self.heard_at: dict[NodeId, float] = {}
        self.applied: dict[NodeId, int] = {}  # how far each member said it has applied
        self.next_index = first_index
        # Writes given a slot but not sent yet: they wait while an Accept is in flight and
        # then go together, in the next one (`Replica._write`).
        self.unsent: list[tuple[int, object]] = []
        self.sent_through = first_index - 1  # the highest slot sent in an Accept
        self.votes: dict[int, set[NodeId]] = {}
        self.ready_index = first_index
        self.pending: dict[int, Reply] = {}  # the answer each slot's client gets once chosen
        self.in_flight = in_flight  # what later writes are planned against (statemachine.py)
        self.membership_index: int | None = None
        # Until the recovered log is chosen: every configuration it passes through (proposer.py)
        self.configs: tuple[tuple[NodeId, ...], ...] = ()
        self.lease = LeaseHolder(lease_ms, drift)

    def propose(self) -> int:
        """Take the next free slot."""
        index = self.next_index
        self.next_index += 1
        self.votes[index] = set()
        return index

    def vote(self, index: int, member: NodeId) -> None:
        """`member` accepted slot `index` in this ballot."""
        voters = self.votes.get(index)
        if voters is not None:
            voters.add(member)

    # --8<-- [start:chosen]
    def chosen_through(self, commit_index: int, members: tuple[NodeId, ...], quorum: int) -> int:
        """The highest slot such that it and every slot below it is chosen."""
        index = commit_index
        while True:
            voters = self.votes.get(index + 1)
            if voters is None or sum(1 for m in voters if m in members) < quorum:
                return index
            index += 1
    # --8<-- [end:chosen]

    def forget_through(self, index: int) -> None:
        """Drop the votes of slots that are chosen."""
        for slot in [s for s in self.votes if s <= index]:
            del self.votes[slot]

    def missing(self, member: NodeId, commit_index: int) -> list[int]:
        """Unchosen slots `member` has not accepted (to send again)."""
        slots = range(commit_index + 1, min(self.sent_through + 1, commit_index + 1 + RESEND_BATCH))
        return [s for s in slots if member not in self.votes.get(s, ())]

    def heard(self, member: NodeId, sent_at: float) -> None:
        """`member` answered the heartbeat sent at `sent_at` (granting a lease or not)."""
        if sent_at > self.heard_at.get(member, float("-inf")):
            self.heard_at[member] = sent_at

    def report_applied(self, member: NodeId, commit_index: int) -> None:
        """`member` has applied (a log replica: learned) every slot up to `commit_index`."""
        self.applied[member] = max(commit_index, self.applied.get(member, 0))

    def in_touch_since(self, members: tuple[NodeId, ...], quorum: int) -> float:
        """The latest heartbeat a majority has answered (or when this ballot began)."""
        times = sorted((t for m, t in self.heard_at.items() if m in members), reverse=True)
        return times[quorum - 1] if len(times) >= quorum else self.since

    def is_ready(self, commit_index: int) -> bool:
        """The recovered log and the start-of-ballot no-op are chosen and applied."""
        return commit_index >= self.ready_index
