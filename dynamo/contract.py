"""The node contract: what a sans-IO node is and what it may ask of its driver.

Every distributed component of Dynamo Lab (a Paxos replica, a request router,
the metadata service, a GAC server, a stream replicator) is a *node*: a state
machine that is handed one event at a time and answers with a list of effects.
A node never reads the wall clock, sleeps, opens a socket or draws from the
global random generator. The time of each event and a seeded random generator
are handed to it, and its effects are carried out by a *driver*:

* `dynamo.sim` drives nodes deterministically, on a virtual clock, through a
  network that can lose, delay, duplicate and reorder messages;
* `dynamo.net` drives the very same nodes on asyncio, over TCP.

Rules of the contract (every driver keeps them, every node may rely on them):

1. `step(now_ms, event)` is called for one event at a time; `now_ms` never
   goes backwards for a node (it is the node's own clock, which may drift
   from other nodes' within the bound the driver promises).
2. The effects of one step are carried out in order. A `Persist` is durable
   before any effect after it runs: a node may `Persist` its promise and
   then `Send` the reply that depends on it.
3. A crash loses everything but what was persisted. On restart the driver
   rebuilds the node from its persisted records, in order, then steps `Start`.
4. Messages may be lost, delayed, duplicated or reordered, never corrupted
   (drivers check checksums and drop what fails them).
5. A `SetTimer` with a name already pending replaces it; a timer fires as a
   `TimerFired` event no earlier than its delay after it was set.
6. Each step's `Announce` effects form an event stream (elections, lease
   changes, commits) that dashboards, the lab and tests watch; they never
   change what the node does.

Paper: the DynamoDB paper credits formal methods and failure injection for
the replication protocol's safety (§5.4, §6); this contract is what makes the
lab's own version of that, deterministic simulation, possible.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

NodeId = str


class Message:
    """Base of every message one node sends another.

    Subclasses are frozen dataclasses, so messages compare, hash and print
    by value, which is what traces, replays and model checking need.
    """


# --- events: what a driver hands a node ------------------------------------


@dataclass(frozen=True)
class Start:
    """The node has (re)started; its persisted records are already loaded."""


@dataclass(frozen=True)
class Receive:
    """A message from another node has arrived."""

    src: NodeId
    message: Message


@dataclass(frozen=True)
class TimerFired:
    """A timer the node set has expired."""

    name: str


@dataclass(frozen=True)
class ClientRequest:
    """A client asks the node to do something; answered by a `Reply`."""

    client: str
    request_id: int
    operation: Any


Event = Start | Receive | TimerFired | ClientRequest


# --- effects: what a node asks its driver to do ----------------------------


@dataclass(frozen=True)
class Send:
    """Send a message to another node (it may be lost)."""

    dst: NodeId
    message: Message


@dataclass(frozen=True)
class SetTimer:
    """Fire `TimerFired(name)` after `delay_ms` of the node's own time."""

    name: str
    delay_ms: float


@dataclass(frozen=True)
class CancelTimer:
    """Forget a pending timer (no-op if none is pending)."""

    name: str


@dataclass(frozen=True)
class Persist:
    """Make a record durable before any later effect of this step runs."""

    record: Any


@dataclass(frozen=True)
class Reply:
    """Answer a `ClientRequest`."""

    client: str
    request_id: int
    result: Any


@dataclass(frozen=True)
class Announce:
    """Tell observers something happened (an election, a commit, a heal)."""

    kind: str
    detail: tuple[tuple[str, Any], ...] = ()


Effect = Send | SetTimer | CancelTimer | Persist | Reply | Announce


# --- what a node is, and what it is handed -----------------------------------


class Rng(Protocol):
    """The random choices a node may make, from a generator it is handed.

    `random.Random(seed)` satisfies this; a node never imports `random`.
    """

    def random(self) -> float: ...

    def uniform(self, a: float, b: float) -> float: ...

    def randrange(self, start: int, stop: int | None = ..., step: int = ...) -> int: ...


class Node(Protocol):
    """A sans-IO state machine driven by `step`."""

    @property
    def id(self) -> NodeId: ...

    def step(self, now_ms: float, event: Event) -> list[Effect]:
        """React to one event; return the effects to carry out, in order."""
        ...

    def snapshot(self) -> dict[str, Any]:
        """A read-only view of the node's state, for dashboards and tests."""
        ...


@dataclass(frozen=True)
class MemberView:
    """What a replica shows of itself in one replication group: what safety is judged on.

    The simulator's invariants read these, after every step, to check that at
    most one replica leads per ballot and that leases never overlap (§3, §5.4).
    `group` names the group when one node holds replicas of many (a storage
    node's partitions, §3); None when the node is the replica of one group.
    `lease_until` is the end of the leader's lease on the node's own clock.
    """

    group: str | None
    role: str  # "leader", "follower", "candidate" or "log"
    ballot: str
    lease_until: float | None = None


@runtime_checkable
class GroupMember(Protocol):
    """A node that is a member of replication groups: it shows a `MemberView` per group."""

    def member_views(self) -> tuple[MemberView, ...]:
        """One view per replication group this node is a member of."""
        ...


_MEMBER_CLASSES: dict[type, bool] = {}


def views_of(node: object) -> tuple[MemberView, ...]:
    """A node's member views: none if it is down (None) or not a replica (a router, ...).

    Whether a class is a `GroupMember` is worked out once per class: a check against a
    protocol costs a few microseconds, and the simulator asks after every step.
    """
    kind = type(node)
    member = _MEMBER_CLASSES.get(kind)
    if member is None:
        member = _MEMBER_CLASSES[kind] = isinstance(node, GroupMember)
    return node.member_views() if member else ()  # type: ignore[attr-defined]


# Builds a node from its id, its persisted records (oldest first) and an RNG:
# how a driver starts a node the first time (no records) and after a crash.
NodeFactory = Callable[[NodeId, Sequence[Any], Rng], Node]
