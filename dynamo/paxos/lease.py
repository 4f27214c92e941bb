"""Leader leases: how a leader may answer a strongly consistent read alone.

DynamoDB's leader serves strongly consistent reads from its own copy, with no
round trip to its peers, while it holds a *lease*, and a newly elected leader
serves no writes and no consistent reads until the previous leader's lease
has expired (§3, §6.2). Paxos alone cannot give that: a leader that has
been superseded without hearing of it would go on answering reads with a
stale copy. The lease is a promise, made on clocks, that no one else leads.

The rules (ε = `max_drift`, the bound on how fast any replica's clock runs
relative to real time: every clock advances between (1-ε) and (1+ε) times
real time; L = `lease_ms`):

1. **Grant.** A follower answers the leader's `Heartbeat(sent_at)` with a
   `LeaseGrant` and promises, for L·(1+ε) of *its own* clock from the moment
   it grants, to grant no lease to any other ballot (`LeaseGrantor`). The
   leader grants itself the same way each time it sends a heartbeat.
2. **Hold.** The leader holds a lease until T + L·(1-ε) of *its own* clock,
   where T is the latest `sent_at` for which a majority (itself included)
   has granted (`leader_lease_until`).
3. **Serve.** The leader answers consistent reads, and accepts writes, only
   while `now < lease_until`, and only once its own recovered log is applied.
4. **Restart.** Grants are not persisted (that would cost an fsync per
   heartbeat); instead a replica that restarts with any records grants no
   lease for L·(1+ε) after it starts.
5. **Release.** A grant to a ballot is dropped early only once that ballot's
   leader has provably given its lease up: in a planned handoff it steps down
   before it tells its successor to stand (handoff.py argues the case).

Why no two replicas ever both hold a lease (safety). Say leader A's lease
rests on grants for heartbeats sent at A-clock time T, i.e. at real time t₀.
Each grantor G received that heartbeat at real time t₁ ≥ t₀ and will grant no
other ballot until its clock has advanced L·(1+ε), which takes at least
L·(1+ε)/(1+ε) = L of real time: until t₁ + L ≥ t₀ + L. A's lease ends when its
clock has advanced L·(1-ε) past T, which takes at most L·(1-ε)/(1-ε) = L of
real time: by t₀ + L. So every grantor of A's lease refuses all other ballots
for as long as A's lease may last. Any other leader B needs grants from a
majority, which shares at least one replica G with A's majority (a restarted
grantor refuses everyone, rule 4). G grants B only after t₀ + L, so B
receives the last grant it needs, and first holds a lease, only after A's
lease has ended, and B serves nothing before (rule 3): the new leader waits
out the old lease. No clock is ever compared across machines; only rates are.

What the lease does not guard: the *log*. Writes are safe by Paxos alone, at
any clock drift; a wrong ε can at worst make a stale read possible, never
lose an acknowledged write.
"""

from __future__ import annotations

from collections.abc import Iterable

from dynamo.contract import NodeId
from dynamo.paxos.ballot import Ballot


def leader_lease_until(
    granted_sent_at: Iterable[float], quorum: int, lease_ms: float, drift: float
) -> float:
    """When the leader's lease ends, by its own clock (rule 2).

    `granted_sent_at` holds, per granting member (the leader included), the
    latest heartbeat send time that member granted. The lease rests on the
    quorum-th latest of them: a majority has granted at least that recently.
    Returns -inf when fewer than a quorum have granted anything.
    """
    # BEGIN ASSIGNMENT ch03-lease: a lease lasts lease_ms*(1-drift) from the send time a majority granted
    times = sorted(granted_sent_at, reverse=True)
    if len(times) < quorum:
        return float("-inf")
    return times[quorum - 1] + lease_ms * (1 - drift)
    # END ASSIGNMENT


def grant_until(now_ms: float, lease_ms: float, drift: float) -> float:
    """Until when a grantor, granting at `now_ms`, refuses other ballots (rule 1)."""
    # BEGIN ASSIGNMENT ch03-lease: a grantor waits lease_ms*(1+drift) of its own clock
    return now_ms + lease_ms * (1 + drift)
    # END ASSIGNMENT


# --8<-- [start:grantor]
class LeaseGrantor:
    """A replica's side of leases: to whom it has granted, and until when."""

    def __init__(self) -> None:
        self.granted_to: Ballot | None = None
        self.until = float("-inf")

    def may_grant(self, ballot: Ballot, now_ms: float) -> bool:
        """A lease may go to `ballot` if it holds the grant already or no grant is in force."""
        return self.granted_to == ballot or now_ms >= self.until

    def grant(self, ballot: Ballot, now_ms: float, lease_ms: float, drift: float) -> None:
        self.granted_to = ballot
        self.until = grant_until(now_ms, lease_ms, drift)

    def refuse_all(self, now_ms: float, lease_ms: float, drift: float) -> None:
        """After a restart: whatever was granted before the crash may still be in force."""
        self.granted_to = None
        self.until = grant_until(now_ms, lease_ms, drift)

    def release(self, ballot: Ballot) -> None:
        """`ballot`'s leader gave its lease up (a planned handoff, handoff.py): the grant
        to it protects nothing any more. A grant to any other ballot stays."""
        if self.granted_to == ballot:
            self.granted_to = None
            self.until = float("-inf")
# --8<-- [end:grantor]


class LeaseHolder:
    """A leader's side of leases: the grants it has collected for one ballot."""

    def __init__(self, lease_ms: float, drift: float) -> None:
        self.lease_ms = lease_ms
        self.drift = drift
        self.granted_sent_at: dict[NodeId, float] = {}
        self.until = float("-inf")

    def record(
        self, member: NodeId, sent_at: float, members: tuple[NodeId, ...], quorum: int
    ) -> None:
        """A member granted the heartbeat sent at `sent_at`; recompute the lease's end."""
        if sent_at <= self.granted_sent_at.get(member, float("-inf")):
            return
        self.granted_sent_at[member] = sent_at
        self.until = leader_lease_until(
            (t for m, t in self.granted_sent_at.items() if m in members),
            quorum, self.lease_ms, self.drift,
        )

    def holds(self, now_ms: float) -> bool:
        """The lease check (rule 3)."""
        return now_ms < self.until
