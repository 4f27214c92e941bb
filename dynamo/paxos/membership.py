"""Membership change through the log, one member at a time.

Autoadmin replaces unhealthy replicas and moves replicas between storage
nodes; the leader adds log replicas to heal a write quorum (§3, §4.3, §5.1).
All of these change *who is in the group*, and in Paxos that change must be
agreed on like any write, or two leaders could count quorums of different
groups. So a change is a command in the replicated log:

* `AddMember(id)` / `RemoveMember(id)` are proposed by the leader and take
  effect on each replica when that replica *applies* the entry (every replica
  applies the same log in the same order, so all agree on which configuration
  governs which part of the log).
* Only one change may be in flight: the leader refuses a second until the
  first has committed. Two configurations that differ by a single member
  always share a member in any pair of their majorities (for 3 → 4 members:
  2 of 3 and 3 of 4 must overlap), so a leader counting with the old
  configuration and one counting with the new can never both choose.
* A leader proposes a change only once it has committed an entry of its own
  ballot (its start-of-ballot no-op), the fix to Raft's single-server change
  bug (Ongaro, 2015), which applies here unchanged.

A removed leader steps down once the removal is applied; an added replica
starts passive (it votes and accepts but never runs an election) until it has
applied the entry that adds it.

Roles (§5.1). A member is a *full* replica (write-ahead log and B-tree) or a
*log* replica (write-ahead log only): `AddMember(id, role="log")` adds one,
`ChangeRole(id, "log")` turns a full replica into one. Both kinds are
acceptors and count alike in every quorum, so the quorum arithmetic above is
unchanged; what a log replica may not do is said in dynamo/logreplica.
"""

from __future__ import annotations

from dataclasses import dataclass

from dynamo.contract import NodeId

FULL, LOG = "full", "log"
ROLES = (FULL, LOG)


@dataclass(frozen=True)
class AddMember:
    """Add replica `id` to the group, as a full replica or a log replica (§5.1)."""

    id: NodeId
    role: str = FULL

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"a member's role is one of {ROLES}, not {self.role!r}")


@dataclass(frozen=True)
class RemoveMember:
    """Remove replica `id` from the group."""

    id: NodeId


@dataclass(frozen=True)
class ChangeRole:
    """Make member `id` a full replica or a log replica (§5.1)."""

    id: NodeId
    role: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"a member's role is one of {ROLES}, not {self.role!r}")


MembershipChange = AddMember | RemoveMember | ChangeRole
MEMBERSHIP_CHANGES = (AddMember, RemoveMember, ChangeRole)


def apply_change(members: tuple[NodeId, ...], change: MembershipChange) -> tuple[NodeId, ...]:
    """The members after `change` (sorted, so every replica has the same tuple)."""
    if isinstance(change, AddMember):
        return tuple(sorted(set(members) | {change.id}))
    if isinstance(change, ChangeRole):
        return members
    return tuple(sorted(set(members) - {change.id}))


def apply_roles(members: tuple[NodeId, ...], log_members: tuple[NodeId, ...],
                change: MembershipChange) -> tuple[NodeId, ...]:
    """The log replicas after `change` (sorted; always a subset of the members)."""
    logs = set(log_members)
    if isinstance(change, AddMember | ChangeRole):
        logs = logs | {change.id} if change.role == LOG else logs - {change.id}
    else:
        logs.discard(change.id)
    return tuple(sorted(logs & set(apply_change(members, change))))


def majority(members: tuple[NodeId, ...]) -> int:
    """How many members make a quorum: more than half (2 of 3, 3 of 4, 3 of 5)."""
    return len(members) // 2 + 1


def is_noop_change(members: tuple[NodeId, ...], change: MembershipChange,
                   log_members: tuple[NodeId, ...] = ()) -> bool:
    """True when the change would not change anything (already in / already out)."""
    return (apply_change(members, change) == tuple(sorted(members))
            and apply_roles(members, log_members, change) == tuple(sorted(log_members)))
