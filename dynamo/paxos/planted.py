"""Planted bugs: replicas that break one rule on purpose, so the checkers are tested too.

A simulator that never finds a bug proves nothing until it is shown one it
must find (§5.4: DynamoDB checks its protocols with formal methods *and* with
failure injection; a check is only as good as the bugs it catches). Each
planted bug here is one small, real deviation from one rule of replica.py, as
a subclass, so that the code students read and write stays free of them:

    read_without_lease    R4: the leader answers strongly consistent reads
                          without checking its lease, so a deposed leader that
                          does not know it yet serves stale reads (§3, §6.2)
    commit_before_quorum  R3: the leader counts a slot chosen on its own
                          accept, acknowledging a write only it has (§3)
    accept_stale_ballot   R2: an acceptor accepts in a ballot below its
                          promise, so a superseded leader can still get a
                          value chosen (Paxos phase 2b)

`planted_factory(members, config, bug)` builds a group with one of them; the
simulator's scenarios, the dashboard and `dynamo sim run --planted-bug` use
it. The tests in tests/paxos and tests/sim check that each is caught.
"""

from __future__ import annotations

from typing import Any

from dynamo.contract import NodeFactory, NodeId
from dynamo.paxos.acceptor import Acceptor
from dynamo.paxos.log import AcceptedEntry
from dynamo.paxos.messages import Accept, Accepted, Nack
from dynamo.paxos.operations import NotLeader, Unavailable
from dynamo.paxos.replica import PaxosConfig, Replica, replica_factory


class AcceptStaleBallot(Acceptor):
    """Phase 2b that forgets to compare ballots: it accepts below its promise."""

    def on_accept(self, accept: Accept) -> tuple[Accepted | Nack, list[Any]]:
        if accept.ballot >= self.promised:
            return super().on_accept(accept)
        entries = [AcceptedEntry(index, accept.ballot, command)
                   for index, command in accept.entries]
        for entry in entries:
            self.log.accept(entry)
        return Accepted(accept.ballot, tuple(e.index for e in entries)), list(entries)


class AcceptStaleBallotReplica(Replica):
    """A replica whose acceptor is `AcceptStaleBallot`."""

    acceptor_class = AcceptStaleBallot


class CommitBeforeQuorum(Replica):
    """A leader that counts a slot chosen as soon as it has accepted it itself."""

    def _write_quorum(self) -> int:
        return 1


class ReadWithoutLease(Replica):
    """A leader that serves strongly consistent reads whether or not it holds its lease."""

    def _refusal(self, op: Any) -> NotLeader | Unavailable | None:
        refusal = super()._refusal(op)
        leader = self.leader
        is_read = getattr(op, "consistent", None) is True  # strongly consistent reads only
        if (is_read and isinstance(refusal, Unavailable) and leader is not None
                and leader.is_ready(self.log.commit_index) and not leader.lease.holds(self.now)):
            return None  # the bug: the lease check is skipped for reads
        return refusal


PLANTED_BUGS: dict[str, type[Replica]] = {
    "accept_stale_ballot": AcceptStaleBallotReplica,
    "commit_before_quorum": CommitBeforeQuorum,
    "read_without_lease": ReadWithoutLease,
}


def planted_factory(members: tuple[NodeId, ...], config: PaxosConfig,
                    bug: str | None) -> NodeFactory:
    """The group's factory, with planted bug `bug` in every replica (None: no bug)."""
    if bug is None:
        return replica_factory(members, config)
    if bug not in PLANTED_BUGS:
        raise ValueError(f"unknown planted bug {bug!r}; known: {', '.join(sorted(PLANTED_BUGS))}")
    return replica_factory(members, config, PLANTED_BUGS[bug])
