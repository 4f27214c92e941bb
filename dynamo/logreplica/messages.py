"""What autoadmin, a group's leader and a spare node say to each other (§5.1, healing).

Autoadmin is a node of its own: it asks every node of the group for the
group's state, the leader alone answers, and autoadmin asks the leader for
one membership change at a time. A lost message costs only a poll period:
the next poll asks again, and a change already made is a no-op.

Before the leader adds a log replica it asks the spare whether it is there
(`StandIn`, answered `StandingBy`): a member added on a node that is down
would make the group one member larger and no member stronger, so a second
failure would then cost the write quorum.
"""

from __future__ import annotations

from dataclasses import dataclass

from dynamo.contract import Message, NodeId
from dynamo.paxos.ballot import Ballot
from dynamo.paxos.membership import MembershipChange


@dataclass(frozen=True)
class StatusRequest(Message):
    """Autoadmin to any node: the leader, tell me how the group is."""


@dataclass(frozen=True)
class GroupStatus(Message):
    """The leader's view of its group (H3).

    `unresponsive`: members that have not answered for the detection period
    (H1); `caught_up`: members whose applied index is close to the commit
    index; `pending`: a membership change is in flight.
    """

    ballot: str
    members: tuple[NodeId, ...]
    log_members: tuple[NodeId, ...]
    unresponsive: tuple[NodeId, ...]
    caught_up: tuple[NodeId, ...]
    pending: bool
    commit_index: int


@dataclass(frozen=True)
class Reconfigure(Message):
    """Autoadmin to the leader: propose this membership change."""

    change: MembershipChange


@dataclass(frozen=True)
class StandIn(Message):
    """The leader to a spare: are you there to stand in as a log replica?"""

    ballot: Ballot


@dataclass(frozen=True)
class StandingBy(Message):
    """A spare to the leader that asked: here, ready to be added."""

    ballot: Ballot
