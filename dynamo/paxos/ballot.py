"""Ballots: the numbers that order Paxos leaders.

A ballot is a pair (round, node). Rounds grow; the node's id breaks ties, so
no two replicas ever propose in the same ballot and every two ballots compare.
A replica that wants to lead picks a round higher than any it has seen. In
DynamoDB's words, "any replica can trigger a round of the election", and a peer
that detects the leader as failed may propose an election to elect itself
(§3, §6.2).
"""

from __future__ import annotations

from dataclasses import dataclass

from dynamo.contract import NodeId


@dataclass(frozen=True, order=True)
class Ballot:
    """A leader's ballot number; compares by round, then by node id."""

    round: int
    node: NodeId

    def __str__(self) -> str:
        return f"{self.round}.{self.node}" if self.round else "0"


ZERO = Ballot(0, "")
"""The ballot every replica has promised before it has promised anything."""


def next_ballot(highest_seen: Ballot, node: NodeId) -> Ballot:
    """The ballot `node` runs an election with: one round above any it has seen."""
    return Ballot(highest_seen.round + 1, node)
