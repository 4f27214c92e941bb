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
"""

from __future__ import annotations

from dataclasses import dataclass

from dynamo.contract import NodeId


@dataclass(frozen=True)
class AddMember:
    """Add replica `id` to the group."""

    id: NodeId


@dataclass(frozen=True)
class RemoveMember:
    """Remove replica `id` from the group."""

    id: NodeId


MembershipChange = AddMember | RemoveMember


def apply_change(members: tuple[NodeId, ...], change: MembershipChange) -> tuple[NodeId, ...]:
    """The members after `change` (sorted, so every replica has the same tuple)."""
    if isinstance(change, AddMember):
        return tuple(sorted(set(members) | {change.id}))
    return tuple(sorted(set(members) - {change.id}))


def majority(members: tuple[NodeId, ...]) -> int:
    """How many members make a quorum: more than half (2 of 3, 3 of 4, 3 of 5)."""
    return len(members) // 2 + 1


def is_noop_change(members: tuple[NodeId, ...], change: MembershipChange) -> bool:
    """True when the change would not change anything (already in / already out)."""
    return apply_change(members, change) == tuple(sorted(members))
