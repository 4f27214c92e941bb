"""The log-replica role's safety checks, asserted after every step of a simulated run.

Beside the simulator's own invariants (one leader per ballot, committed
entries never change, leases never overlap) a healing group must keep three
more, read from the outside (each node's `snapshot()`, its effects, and the
records it has persisted, which the driver holds):

* a log replica never leads (L3);
* a log replica never serves a read (L4): it answers a client only with a
  refusal (`NotLeader`, `Unavailable`);
* an acknowledged write is on a write quorum (L2, §3): when a leader commits
  a slot, a majority of its members have that slot's command in their
  persisted records. This is what "counts toward the quorum" means, checked
  against the disks rather than against the leader's own tally.

It is an observer of the simulator (`after_step(sim, node_id, effects)`),
written against the simulator's interface only (nodes, records, now, stop),
since this layer sits below dynamo.sim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dynamo.contract import Announce, Effect, NodeId, Reply
from dynamo.paxos.log import AcceptedEntry
from dynamo.paxos.membership import majority
from dynamo.paxos.operations import NotLeader, Unavailable

INVARIANTS = ("a log replica never leads", "a log replica never serves a read",
              "acknowledged writes are on a write quorum")


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
    accepted: dict[NodeId, dict[int, list[Any]]] = field(default_factory=dict)
    read_upto: dict[NodeId, int] = field(default_factory=dict)
    members_before: dict[NodeId, tuple[NodeId, ...]] = field(default_factory=dict)

    def after_step(self, sim: Any, node_id: NodeId, effects: Sequence[Effect]) -> None:
        node = sim.nodes.get(node_id)
        if node is None:
            return
        view = node.snapshot()
        if view.get("replica_role") == "log":
            if view.get("role") == "leader":
                self._fail(sim, "a log replica never leads", node_id,
                           f"{node_id} leads in ballot {view.get('ballot')}")
            for effect in effects:
                if type(effect) is Reply and type(effect.result) not in (NotLeader, Unavailable):
                    self._fail(sim, "a log replica never serves a read", node_id,
                               f"{node_id} answered {effect.result!r}")
        members = tuple(view.get("members", ()))
        if view.get("role") == "leader":
            before = self.members_before.get(node_id, members)
            for effect in effects:
                if type(effect) is Announce and effect.kind == "committed":
                    self._on_quorum(sim, node_id, before, members, dict(effect.detail))
        self.members_before[node_id] = members

    def _on_quorum(self, sim: Any, node_id: NodeId, before: tuple[NodeId, ...],
                   after: tuple[NodeId, ...], detail: dict[str, Any]) -> None:
        """Each committed slot must be in the records of a majority of the members."""
        needed = min(majority(before), majority(after))
        everyone = set(before) | set(after)
        for member in everyone:
            self._read_records(sim, member)
        for index, command in enumerate(detail["commands"], start=detail["first"]):
            holders = [m for m in sorted(everyone)
                       if command in self.accepted.get(m, {}).get(index, ())]
            if len(holders) < needed:
                self._fail(sim, "acknowledged writes are on a write quorum", node_id,
                           f"slot {index} committed with copies on {holders} only; "
                           f"a quorum of {after} is {needed}")
                return

    def _read_records(self, sim: Any, member: NodeId) -> None:
        records = sim.records.get(member, ())
        start = self.read_upto.get(member, 0)
        slots = self.accepted.setdefault(member, {})
        for record in records[start:]:
            if type(record) is AcceptedEntry:
                slots.setdefault(record.index, []).append(record.command)  # items: unhashable
        self.read_upto[member] = len(records)

    def _fail(self, sim: Any, invariant: str, node_id: NodeId, details: str) -> None:
        violation = RoleViolation(invariant, sim.now, node_id, details)
        self.violations.append(violation)
        sim.stop(violation.describe())
