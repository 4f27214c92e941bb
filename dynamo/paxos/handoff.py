"""Planned leadership handoff: the leader steps aside before a deployment (§6.4).

DynamoDB deploys software to its storage nodes continuously, and a node that
is about to be stopped may lead replication groups. §6.4 has the leader on
such a node relinquish its leadership before the node goes down, so that
the group does not sit through a failover: without a handoff the others
would notice the silence only after an election timeout, and the new leader
would then wait out the old lease (R4 in replica.py): a second or two with
no writes and no strongly consistent reads.

The handoff, driven by a client operation `HandOff(to)` sent to the leader:

  H1  The leader picks a successor: `to`, or else the peer that answered its
      heartbeats most recently. It stops taking requests (it answers
      `Unavailable`, which clients retry), so that nothing new is proposed.
  H2  It waits until every slot it proposed is chosen and the successor has
      applied all of them (its `LeaseGrant`s and `Learned`s report how far it
      has applied; the leader ships what it lacks, as usual).
  H3  It then steps down, releasing its own lease grant, and sends the
      successor `TimeoutNow(ballot)`.
  H4  The successor releases its grant to that ballot and runs phase 1 at
      once, skipping the pre-vote (prevote.py, P4); its `Prepare` says it was
      asked to stand, so peers that still hear the old leader promise anyway.
      The old leader answers the client `Ok` once it has granted the
      successor's first heartbeat: from then on its node may be stopped, as
      the successor's lease already rests on that grant.
  H5  If the successor has not caught up within one lease period, the leader
      gives up: it answers `Unavailable` and goes on leading. A leader
      superseded meanwhile answers `Unavailable` too, as it steps down.

The lease (why the successor may serve at once, and still no two leases
overlap). A new leader normally waits out the old lease because it cannot
know whether the old leader is still serving. Here it can: the old leader
stepped down *before* it sent `TimeoutNow`, and a replica that steps down
drops its whole ballot's state; it never leads that ballot again (ballots are
never reused, ballot.py), so no lease on that ballot is held after the step
down, in real time. A grant to a ballot protects only that ballot's lease, so
once the lease is given up the grant protects nothing, and releasing it is
safe. The old leader releases its own grant when it steps down; the successor
releases its grant to that ballot when `TimeoutNow` arrives, which is after
the step down. The two released grants are a majority of three: the
successor's first heartbeat collects them and it holds a lease within a
round trip. (That is why the old leader answers the operator only after it
has granted: a node stopped the moment it stepped down would take its grant
with it, and the successor would wait out the third replica's grant.) The
third replica keeps its grant to the old ballot until it runs out, as
lease.py's rule 1 says; it simply is not needed. A replica that released on
any other ground, or before the holder gave up, would break lease.py's
safety argument; nothing here does.

What the handoff does not change: the log. The successor still runs phase 1
and recovers the log from a majority; if `TimeoutNow` is lost, the group
fails over as after a crash (the pre-vote succeeds once the old leader's
heartbeats stop).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dynamo.contract import NodeId


@dataclass(frozen=True)
class HandOff:
    """Client operation for the leader: hand leadership to `to` (None: the leader picks)."""

    to: NodeId | None = None


@dataclass
class Handoff:
    """A handoff in progress at the leader (H1-H3)."""

    successor: NodeId
    client: str
    request_id: int
    deadline_ms: float
    successor_applied: int = -1

    def ready(self, commit_index: int, last_proposed: int) -> bool:
        """H2: every proposed slot is chosen and the successor has applied them all."""
        return last_proposed <= commit_index <= self.successor_applied


def choose_successor(to: NodeId | None, peers: tuple[NodeId, ...],
                     heard_at: Mapping[NodeId, float]) -> NodeId | None:
    """H1: the named peer, or the one heard from most recently; None if there is none."""
    if to is not None:
        return to if to in peers else None
    heard = [(heard_at.get(peer, float("-inf")), peer) for peer in peers]
    return max(heard)[1] if heard else None
