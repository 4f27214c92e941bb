"""The per-step invariants catch what they promise (§3 Multi-Paxos safety, §6.2 leases).

A puppet node does whatever its client tells it (claim leadership in a ballot
with a lease, announce a commit), so each invariant can be broken on purpose.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sim_toys import ScriptClient

from dynamo.contract import Announce, ClientRequest, Effect, MemberView, Reply, Rng
from dynamo.sim.invariants import Invariants
from dynamo.sim.network import NetworkConfig
from dynamo.sim.simulator import Simulator


class Puppet:
    def __init__(self, node_id: str) -> None:
        self._id = node_id
        self.view: dict[str, Any] = {"role": "follower", "ballot": "0", "lease_until": None}

    @property
    def id(self) -> str:
        return self._id

    def step(self, now_ms: float, event: Any) -> list[Effect]:
        if not isinstance(event, ClientRequest):
            return []
        kind, *args = event.operation
        effects: list[Effect] = [Reply(event.client, event.request_id, "done")]
        if kind == "lead":
            ballot, lease_ms = args
            self.view = {"role": "leader", "ballot": ballot,
                         "lease_until": None if lease_ms is None else now_ms + lease_ms}
        elif kind == "follow":
            self.view = {"role": "follower", "ballot": self.view["ballot"], "lease_until": None}
        elif kind == "commit":
            first, commands = args
            effects.append(Announce("committed", (("first", first), ("last", first + len(commands)
                                                                     - 1),
                                                  ("commands", tuple(commands)))))
        return effects

    def member_views(self) -> tuple[MemberView, ...]:
        return (MemberView(None, self.view["role"], self.view["ballot"],
                           self.view["lease_until"]),)

    def snapshot(self) -> dict[str, Any]:
        return dict(self.view)


def puppet(node_id: str, records: Sequence[Any], rng: Rng) -> Puppet:
    return Puppet(node_id)


def run_script(script: list[tuple[float, str, Any]], max_drift: float = 0.0,
               seed: int = 0) -> Invariants:
    sim = Simulator(seed, {"a": puppet, "b": puppet},
                    network=NetworkConfig(distribution="constant", latency_ms=1.0),
                    max_drift=max_drift, trace=True)
    invariants = Invariants()
    sim.add_observer(invariants)
    sim.add_client(ScriptClient("cl", script))
    sim.start()
    sim.run(10_000)
    if invariants.violations:
        assert sim.stopped is not None and sim.trace.lines[-1].split()[1] == "stop"
    return invariants


def test_a_healthy_handover_violates_nothing() -> None:
    invariants = run_script([(0, "a", ("lead", "1.a", 100.0)), (50, "a", ("commit", 1, ["x"])),
                             (200, "b", ("lead", "2.b", 100.0)), (210, "a", ("follow",)),
                             (250, "b", ("commit", 2, ["y"])), (260, "a", ("commit", 1, ["x"]))])
    assert invariants.violations == []
    assert invariants.checks >= 6


def test_two_leaders_in_one_ballot() -> None:
    invariants = run_script([(0, "a", ("lead", "1.a", None)), (10, "b", ("lead", "1.a", None))])
    assert [v.invariant for v in invariants.violations] == ["one leader per ballot"]
    assert "b and a both lead in ballot 1.a" in invariants.violations[0].details


def test_overlapping_leases() -> None:
    invariants = run_script([(0, "a", ("lead", "1.a", 500.0)), (100, "b", ("lead", "2.b", 500.0))])
    assert [v.invariant for v in invariants.violations] == ["leases never overlap"]
    assert invariants.violations[0].at_ms == pytest.approx(101.0)


def seed_where_a_runs(slow: bool) -> int:
    for seed in range(100):
        rate = Simulator(seed, {"a": puppet, "b": puppet}, max_drift=0.02).clocks["a"].rate
        if (rate < 1) == slow:
            return seed
    raise AssertionError("no such seed")


def test_leases_are_compared_in_real_time_not_on_drifting_clocks() -> None:
    """a's lease of 495 ms on its own clock lasts past 502 ms of real time when
    that clock runs 2% slow, and ends before it when it runs 2% fast."""
    script = [(0, "a", ("lead", "1.a", 495.0)), (502, "b", ("lead", "2.b", 500.0))]
    assert run_script(script).violations == []
    slow = run_script(script, max_drift=0.02, seed=seed_where_a_runs(slow=True))
    assert [v.invariant for v in slow.violations] == ["leases never overlap"]
    fast = run_script(script, max_drift=0.02, seed=seed_where_a_runs(slow=False))
    assert fast.violations == []


def test_a_committed_slot_that_changes() -> None:
    invariants = run_script([(0, "a", ("commit", 1, ["x", "y"])), (10, "b", ("commit", 2, ["z"]))])
    assert [v.invariant for v in invariants.violations] == ["committed entries never change"]
    assert "slot 2" in invariants.violations[0].details
