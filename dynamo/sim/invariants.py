"""Safety invariants asserted after every step of every node.

A history checker judges a run at its end, from the outside. These checks
look inside, at every step, using what each node shows of itself (its
`member_views()`) and what it announces, and the simulator's *real* clock, which
no node can read:

* at most one leader per ballot: two replicas never both lead in one ballot;
* committed entries never change: once any replica announces that slot i
  holds command c, no replica ever commits anything else in slot i (the
  Multi-Paxos safety property, §3; what DynamoDB model-checks in TLA+, §5.4);
* leases never overlap: at no real instant do two replicas both believe they
  hold the leader's lease (§3, §6.2: a new leader waits out the old lease).
  A lease's end is the node's `lease_until`, on its own drifting clock,
  converted to real time.

A violation stops the run at once, so the trace ends where things went wrong.
The checks read only what the contract types: a replica's `MemberView`s (its
role, ballot and lease in each group it is a member of) and the "committed"
announcement, never a protocol's own types. A "committed" announcement carries
("first", i), ("last", j) and ("commands", (c_i, ..., c_j)): the slots it
applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dynamo.contract import Announce, Effect, NodeId, views_of

if TYPE_CHECKING:
    from dynamo.sim.simulator import Simulator

INVARIANTS = ("one leader per ballot", "committed entries never change", "leases never overlap")

@dataclass(frozen=True)
class Violation:
    """An invariant that failed, where and when."""

    invariant: str
    at_ms: float
    node: NodeId
    details: str

    def describe(self) -> str:
        return f"{self.invariant} violated at {self.at_ms:.3f}ms on {self.node}: {self.details}"


@dataclass
class Invariants:
    """The per-step checks, as a simulator observer."""

    enabled: frozenset[str] = frozenset(INVARIANTS)
    stop_on_violation: bool = True
    violations: list[Violation] = field(default_factory=list)
    leaders: dict[tuple[Any, Any], NodeId] = field(default_factory=dict)
    committed: dict[tuple[Any, int], tuple[Any, NodeId]] = field(default_factory=dict)
    lease_end: dict[tuple[Any, NodeId], float] = field(default_factory=dict)
    checks: int = 0

    def after_step(self, sim: Simulator, node_id: NodeId, effects: Sequence[Effect]) -> None:
        self.checks += 1
        # A storage node hosting many partitions shows one view per partition: each
        # partition is a replication group of its own, checked on its own (§3).
        for view in views_of(sim.nodes[node_id]):
            if view.role == "leader":
                self._one_leader_per_ballot(sim, node_id, view.group, view.ballot)
                self._leases_never_overlap(sim, node_id, view.group, view.lease_until)
            else:  # a follower serves nothing under a lease
                self.lease_end.pop((view.group, node_id), None)
        for effect in effects:
            if type(effect) is Announce and effect.kind == "committed":
                self._committed_never_changes(sim, node_id, dict(effect.detail))

    def _one_leader_per_ballot(self, sim: Simulator, node_id: NodeId, group: str | None,
                               ballot: str) -> None:
        holder = self.leaders.setdefault((group, ballot), node_id)
        if holder != node_id:
            self._fail(sim, "one leader per ballot", node_id,
                       f"{node_id} and {holder} both lead in ballot {ballot}{_of(group)}")

    def _leases_never_overlap(self, sim: Simulator, node_id: NodeId, group: str | None,
                              lease_until: float | None) -> None:
        if lease_until is None or lease_until <= sim.local_time(node_id):
            self.lease_end.pop((group, node_id), None)
            return
        ends = sim.clocks[node_id].to_global(lease_until)
        self.lease_end[(group, node_id)] = ends
        for (other_group, other), other_end in self.lease_end.items():
            if (other_group == group and other != node_id and sim.nodes[other] is not None
                    and other_end > sim.now):
                self._fail(sim, "leases never overlap", node_id,
                           f"{node_id} holds a lease until {ends:.3f}ms (real time) while "
                           f"{other}'s lasts until {other_end:.3f}ms{_of(group)}")

    def _committed_never_changes(self, sim: Simulator, node_id: NodeId,
                                 detail: dict[str, Any]) -> None:
        first, commands = detail.get("first"), detail.get("commands")
        if first is None or commands is None:
            return
        group = detail.get("partition")
        for index, command in enumerate(commands, start=first):
            chosen = self.committed.setdefault((group, index), (command, node_id))
            if chosen[0] != command:
                self._fail(sim, "committed entries never change", node_id,
                           f"slot {index}: {node_id} committed {command!r}, "
                           f"but {chosen[1]} had committed {chosen[0]!r}")
                return

    def _fail(self, sim: Simulator, invariant: str, node_id: NodeId, details: str) -> None:
        if invariant not in self.enabled:
            return
        violation = Violation(invariant, sim.now, node_id, details)
        self.violations.append(violation)
        if self.stop_on_violation:
            sim.stop(violation.describe())


def _of(group: Any) -> str:
    return "" if group is None else f" of partition {group}"
