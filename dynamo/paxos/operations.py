"""Client operations on one partition's items, and their results.

A replication group stores a key→value map: the model of DynamoDB items that
the simulator's clients drive and the history checker understands. The
operations are those of §3's request path: writes (`Put`, `ConditionalPut`,
`Delete`) go through the leader and the log; a `Get` is strongly consistent
(served by the leader under its lease) or eventually consistent (any replica,
[DG: HowItWorks.ReadConsistency]).

Results are definite or indefinite as in DynamoDB: `Ok` and `ConditionFailed`
say what happened; `NotLeader` and `Unavailable` say the operation was *not*
carried out (so a client may retry it elsewhere). An operation that gets no
answer at all may or may not have happened.
"""

from __future__ import annotations

from dataclasses import dataclass

from dynamo.contract import NodeId


@dataclass(frozen=True)
class Put:
    """Write `value` under `key` (PutItem)."""

    key: str
    value: str


@dataclass(frozen=True)
class Get:
    """Read `key` (GetItem); `consistent=False` may be served by any replica."""

    key: str
    consistent: bool = True


@dataclass(frozen=True)
class ConditionalPut:
    """Write `value` only if the current value is `expected`.

    `expected=None` is DynamoDB's `attribute_not_exists(key)`.
    """

    key: str
    value: str
    expected: str | None


@dataclass(frozen=True)
class Delete:
    """Remove `key` (DeleteItem); deleting a missing item succeeds."""

    key: str


Operation = Put | Get | ConditionalPut | Delete


@dataclass(frozen=True)
class Ok:
    """The operation happened; a read carries the value (None = no such item)."""

    value: str | None = None


@dataclass(frozen=True)
class ConditionFailed:
    """A ConditionalPut's condition was false (ConditionalCheckFailedException)."""

    current: str | None


@dataclass(frozen=True)
class NotLeader:
    """This replica does not lead the group; try `leader_hint` (None = unknown)."""

    leader_hint: NodeId | None


@dataclass(frozen=True)
class Unavailable:
    """The leader cannot serve yet (recovering, no lease, membership change)."""

    reason: str


Result = Ok | ConditionFailed | NotLeader | Unavailable
