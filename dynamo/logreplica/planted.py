"""Planted bugs of the log-replica role, so that its checks are shown to have teeth.

Like dynamo/paxos/planted.py, each is one small deviation from one rule, as a
subclass, kept out of the code students read:

    log_replica_serves_reads  L4: a log replica answers reads from its B-tree,
                              which it never applies to (§5.1), so a client
                              that asks it reads a stale value
    log_replica_counts_twice  L2: the leader counts a log replica's accept
                              as two votes, so a write is acknowledged with
                              fewer copies than a quorum (§3, §5.1)
"""

from __future__ import annotations

from typing import Any

from dynamo.logreplica.healing import HealingReplica
from dynamo.paxos.messages import Accepted
from dynamo.paxos.operations import READS, NotLeader, Unavailable, item_operation


class LogReplicaServesReads(HealingReplica):
    """A log replica that serves reads as if it were a full replica."""

    def _refusal(self, op: Any) -> NotLeader | Unavailable | None:
        refusal = super()._refusal(op)
        item_op = item_operation(op)
        if self.is_log_replica and type(item_op) in READS:
            return None  # the bug: L4 forgotten for reads
        return refusal


class LogReplicaCountsTwice(HealingReplica):
    """A leader that counts a log replica's accept twice toward the write quorum."""

    def _on_accepted(self, src: str, accepted: Accepted) -> list[Any]:
        leader = self.leader
        if leader is not None and accepted.ballot == leader.ballot and src in self.log_members:
            for index in accepted.indices:
                voters = leader.votes.get(index, set())
                others = [m for m in self.members if m not in voters and m != src]
                if others:
                    leader.vote(index, others[0])  # the bug: a second vote in another's name
        return super()._on_accepted(src, accepted)


PLANTED_BUGS: dict[str, type[HealingReplica]] = {
    "log_replica_counts_twice": LogReplicaCountsTwice,
    "log_replica_serves_reads": LogReplicaServesReads,
}
