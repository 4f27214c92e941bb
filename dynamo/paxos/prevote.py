"""Peer confirmation: a follower asks its peers before it deposes a leader (§6.2).

A follower that stops hearing its leader may be the one at fault: a link of
its own is down, or it was cut off for a while and has just come back. If it
raised its ballot and ran phase 1 at once, its higher ballot would reach the
healthy leader (in a `Prepare`, or in the `Nack` it answers the leader's
next heartbeat with) and depose it, and the group would serve no writes and
no strongly consistent reads until a new leader had waited out the old lease.
DynamoDB guards against this: "a follower that wants to trigger a failover
sends a message to other replicas in the replication group asking if they can
communicate with the leader. If replicas respond with a healthy leader
message, the follower drops its attempt to trigger a leader election" (§6.2).
Raft calls the same step the *pre-vote* (Ongaro, 2014, §9.6).

The rules:

  P1  When its election timer expires, a follower does not raise its ballot.
      It sends `PreVote(b)` to its peers, b being the ballot it would stand
      with, and neither side promises or persists anything.
  P2  A replica grants a pre-vote only if it has heard no live leader within
      `patience`, the shortest election timeout. A follower counts the last
      message it had from a leader it followed; a leader counts the last
      heartbeat a majority answered (a leader in touch with a majority is
      live, whoever asks). A candidacy counts too: a replica that has just
      granted a pre-vote, promised a ballot or stood itself backs that one
      candidacy for the patience, and of two replicas asking at once only the
      one asking with the higher ballot is granted by the other. So elections
      do not duel when no leader exists yet.
  P3  The follower stands (runs phase 1 with b) once a majority of the
      members, itself included, has granted; otherwise it asks again at its
      next timeout. A leader it hears meanwhile ends the asking.
  P4  A successor that the leader itself asked to stand (`TimeoutNow`,
      handoff.py) skips the pre-vote: the leader has stepped down.

Why it is safe: a pre-vote changes no promise and no log, so it can delay an
election, never make two leaders choose differently; Paxos's safety never
rested on who stands. Why the group still fails over: when the leader is
really gone (crashed, or cut off from a majority), a majority stops hearing
it, each of them grants after `patience`, and the first to time out wins
their pre-votes. A leader that can send but not hear steps down after two
lease periods out of touch (R7 in replica.py), so the others stop hearing it
too.
"""

from __future__ import annotations

from collections.abc import Collection

from dynamo.contract import NodeId
from dynamo.paxos.ballot import Ballot
from dynamo.paxos.membership import majority


def grants_pre_vote(now_ms: float, leader_heard_ms: float, patience_ms: float) -> bool:
    """P2: grant only if no live leader has been heard from within `patience_ms`.

    `leader_heard_ms` is when this replica last had evidence of a live leader
    (-inf if never), on its own clock.
    """
    # BEGIN ASSIGNMENT ch03-prevote: grant only when no live leader was heard within patience_ms
    return now_ms - leader_heard_ms >= patience_ms
    # END ASSIGNMENT


def may_stand(granted: Collection[NodeId], members: tuple[NodeId, ...]) -> bool:
    """P3: stand for election only with grants from a majority of the members.

    `granted` holds who granted, the asking replica included; a grant from a
    replica that is not a member does not count.
    """
    # BEGIN ASSIGNMENT ch03-prevote: a majority of the members, the asker included, must grant
    return sum(1 for member in set(granted) if member in members) >= majority(members)
    # END ASSIGNMENT


# --8<-- [start:round]
class PreVoteRound:
    """One round of asking the peers (P1, P3), at the follower that asks."""

    def __init__(self, me: NodeId, ballot: Ballot, members: tuple[NodeId, ...]) -> None:
        self.ballot = ballot
        self.members = members
        self.granted: set[NodeId] = {me}

    def receive(self, member: NodeId, granted: bool) -> bool:
        """Count one answer; True once the follower may stand."""
        if granted:
            self.granted.add(member)
        return may_stand(self.granted, self.members)
# --8<-- [end:round]
