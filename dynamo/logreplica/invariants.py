"""The log-replica role's safety checks, asserted after every step of a simulated run.

Beside the simulator's own invariants (one leader per ballot, committed
entries never change, leases never overlap) a healing group must keep three
more, read from each replica's state (layer 3's `Replica`: its role, its
members, whether it is a log replica), its effects, and the records it has
persisted, which the driver holds:

* a log replica never leads (L3): checked whenever a replica announces an
  election or a commit, the two things only a leader does;
* a log replica never serves a read (L4): it answers a client only with a
  refusal (`NotLeader`, `Unavailable`);
* an acknowledged write is on a write quorum (L2, §3): when a leader commits
  a slot, a majority of its members have that slot's command in their
  persisted records. This is what "counts toward the quorum" means, checked
  against the disks rather than against the leader's own tally.

The same checks hold for every partition of a partitioned fleet, where a
storage node hosts replicas of many groups (§3): it keeps them by partition
(`replicas`), its records and announcements name their partition, and it
answers a router's `Forward` with a `Forwarded` message rather than a
`Reply`. Those are layer 5's types, above this layer, so they are read by
their shape: a message with a `partition` and an `operation` asks, one with a
`result` answers, and a record with a `partition` and an inner `record` is
one replica's.

It is an observer of the simulator (`after_step(sim, node_id, effects)`),
written against the simulator's interface only (nodes, records, now, stop),
since this layer sits below dynamo.sim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dynamo.contract import Announce, Effect, NodeId, Reply, Send
from dynamo.paxos.log import AcceptedEntry
from dynamo.paxos.membership import majority
from dynamo.paxos.operations import NotLeader, Unavailable

INVARIANTS = ("a log replica never leads", "a log replica never serves a read",
              "acknowledged writes are on a write quorum")
REFUSALS = (NotLeader, Unavailable)

Group = str | None  # a partition's id in a fleet; None for a lone replication group
Slots = dict[int, list[Any]]  # slot -> the commands persisted for it


@dataclass(frozen=True)
class RoleViolation:
    """An invariant of the role that failed, where and when."""

    invariant: str
    at_ms: float
    node: NodeId
    details: str

    def describe(self) -> str:
        return f"{self.invariant} violated at {self.at_ms:.3f}ms on {self.node}: {self.details}"


@dataclass
class LogReplicaInvariants:
    """The role's per-step checks, as a simulator observer."""

    violations: list[RoleViolation] = field(default_factory=list)
    accepted: dict[tuple[NodeId, Group], Slots] = field(default_factory=dict)
    incarnations: dict[tuple[NodeId, Group], Any] = field(default_factory=dict)
    read_upto: dict[NodeId, int] = field(default_factory=dict)
    members_before: dict[tuple[NodeId, Group], tuple[NodeId, ...]] = field(default_factory=dict)
    forwarded: dict[tuple[NodeId, int], str] = field(default_factory=dict)  # router's asks

    def after_step(self, sim: Any, node_id: NodeId, effects: Sequence[Effect]) -> None:
        node = sim.nodes.get(node_id)
        if node is None:
            return
        for effect in effects:
            kind = type(effect)
            if kind is Announce and effect.kind in ("elected", "committed"):
                self._on_leading(sim, node, node_id, dict(effect.detail), effect.kind)
            elif kind is Reply:
                self._on_answer(sim, node_id, _replica(node, None), None, effect.result)
            elif kind is Send and _answers(effect.message):
                group = self.forwarded.pop((effect.dst, effect.message.request_id), None)
                if group is not None:
                    self._on_answer(sim, node_id, _replica(node, group), group,
                                    effect.message.result)
            elif kind is Send and _asks(effect.message):
                self.forwarded[(node_id, effect.message.request_id)] = effect.message.partition

    def _on_leading(self, sim: Any, node: Any, node_id: NodeId, detail: dict[str, Any],
                    kind: str) -> None:
        group: Group = detail.get("partition")
        replica = _replica(node, group)
        if replica is None or getattr(replica, "leader", None) is None:
            return  # a follower applying what its leader committed
        if replica.is_log_replica:
            self._fail(sim, "a log replica never leads", node_id,
                       f"{node_id} leads in ballot {replica.leader.ballot}{_of(group)}")
        if kind == "committed":
            key = (node_id, group)
            members = tuple(replica.members)
            before = self.members_before.get(key, members)
            self._on_quorum(sim, node_id, group, before, members, detail)
            self.members_before[key] = members

    def _on_answer(self, sim: Any, node_id: NodeId, replica: Any, group: Group,
                   result: Any) -> None:
        if (replica is not None and getattr(replica, "is_log_replica", False)
                and type(result) not in REFUSALS):
            self._fail(sim, "a log replica never serves a read", node_id,
                       f"{node_id} answered {result!r}{_of(group)}")

    def _on_quorum(self, sim: Any, node_id: NodeId, group: Group, before: tuple[NodeId, ...],
                   after: tuple[NodeId, ...], detail: dict[str, Any]) -> None:
        """Each committed slot must be in the records of a majority of the members."""
        needed = min(majority(before), majority(after))
        everyone = set(before) | set(after)
        for member in everyone:
            self._read_records(sim, member)
        for index, command in enumerate(detail["commands"], start=detail["first"]):
            holders = [m for m in sorted(everyone)
                       if command in self.accepted.get((m, group), {}).get(index, ())]
            if len(holders) < needed:
                self._fail(sim, "acknowledged writes are on a write quorum", node_id,
                           f"slot {index} committed with copies on {holders} only; "
                           f"a quorum of {after} is {needed}{_of(group)}")
                return

    def _read_records(self, sim: Any, member: NodeId) -> None:
        """Fold a node's new records into the slots it holds, per group. A storage node's
        replica of a partition hosted anew (a new incarnation) starts with an empty log."""
        records = sim.records.get(member, ())
        start = self.read_upto.get(member, 0)
        for record in records[start:]:
            group: Group = getattr(record, "partition", None)
            inner = getattr(record, "record", record)
            if group is not None:
                incarnation = getattr(record, "incarnation", None)
                if self.incarnations.get((member, group)) != incarnation:
                    self.incarnations[(member, group)] = incarnation
                    self.accepted[(member, group)] = {}
            if type(inner) is AcceptedEntry:
                slots = self.accepted.setdefault((member, group), {})
                slots.setdefault(inner.index, []).append(inner.command)  # items: unhashable
        self.read_upto[member] = len(records)

    def _fail(self, sim: Any, invariant: str, node_id: NodeId, details: str) -> None:
        violation = RoleViolation(invariant, sim.now, node_id, details)
        self.violations.append(violation)
        sim.stop(violation.describe())


def _replica(node: Any, group: Group) -> Any:
    """The replica of `group` a node holds: a storage node's, by partition; or the node
    itself, the replica of its one group. None if the node does not hold it (any more)."""
    return node if group is None else getattr(node, "replicas", {}).get(group)


def _asks(message: Any) -> bool:
    """A router's request to a partition's replica (layer 5's `Forward`)."""
    return hasattr(message, "partition") and hasattr(message, "operation")


def _answers(message: Any) -> bool:
    """A storage node's answer to a router (layer 5's `Forwarded`)."""
    return hasattr(message, "request_id") and hasattr(message, "result")


def _of(group: Group) -> str:
    return "" if group is None else f" of partition {group}"
