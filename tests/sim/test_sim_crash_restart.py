"""Crash and restart keep exactly what was persisted (contract rule 3, §5.1)."""

from __future__ import annotations

from sim_toys import CounterNode, ScriptClient, counter_factory, ping_sim

from dynamo.sim.faults import Fault
from dynamo.sim.network import NetworkConfig
from dynamo.sim.simulator import Simulator


def counter_sim(script, faults=()) -> tuple[Simulator, ScriptClient]:
    network = NetworkConfig(distribution="constant", latency_ms=1.0)
    sim = Simulator(0, {"n": counter_factory}, network=network, faults=faults, trace=True)
    client = ScriptClient("cl", script)
    sim.add_client(client)
    sim.start()
    return sim, client


def test_restart_rebuilds_from_exactly_the_persisted_records() -> None:
    script = [(10, "n", "incr"), (20, "n", "incr"), (30, "n", "remember"), (40, "n", "incr")]
    faults = [Fault(50, "crash", ("n",)), Fault(60, "restart", ("n",))]
    sim, client = counter_sim(script, faults)
    sim.run(100)
    assert [r for _, r in client.replies] == [1, 2, 3, 3]
    assert sim.records["n"] == [1, 2, 3]
    node = sim.nodes["n"]
    assert isinstance(node, CounterNode)
    assert node.count == 3  # rebuilt from its three records
    assert node.volatile == 0  # what was only in memory is gone
    assert sim.stats.crashes == 1 and sim.stats.restarts == 1


def test_requests_to_a_crashed_node_are_lost() -> None:
    script = [(10, "n", "incr"), (55, "n", "incr"), (70, "n", "incr")]
    faults = [Fault(50, "crash", ("n",)), Fault(60, "restart", ("n",))]
    sim, client = counter_sim(script, faults)
    sim.run(100)
    assert [r for _, r in client.replies] == [1, 2]
    assert sim.records["n"] == [1, 2]


def test_timers_do_not_survive_a_crash() -> None:
    script = [(10, "n", "timer:t:100"), (20, "n", "timer:u:5"), (30, "n", "timer:v:5"),
              (31, "n", "cancel:v")]
    faults = [Fault(50, "crash", ("n",)), Fault(60, "restart", ("n",))]
    sim, _ = counter_sim(script, faults)
    sim.run(500)
    node = sim.nodes["n"]
    assert isinstance(node, CounterNode)
    assert node.fired == []  # u fired before the crash, in the old incarnation; t never
    old_fires = [line for line in sim.trace.lines if "TimerFired(name='u')" in line]
    assert len(old_fires) == 1
    assert not any("TimerFired(name='v')" in line for line in sim.trace.lines)


def test_a_timer_set_again_replaces_the_pending_one() -> None:
    script = [(10, "n", "timer:t:100"), (20, "n", "timer:t:100")]
    sim, _ = counter_sim(script)
    sim.run(500)
    fires = [line for line in sim.trace.lines if "TimerFired(name='t')" in line]
    assert len(fires) == 1 and fires[0].startswith("121.000000")


def test_crashed_ping_node_keeps_its_pongs_and_forgets_the_rest() -> None:
    sim = ping_sim(4, faults=[Fault(300, "crash", ("b",)), Fault(400, "restart", ("b",))])
    sim.run(299)
    before = list(sim.nodes["b"].pongs)
    assert sim.nodes["b"].answered > 0
    sim.run(401)
    assert sim.records["b"][:len(before)] == before
    assert sim.nodes["b"].pongs == sim.records["b"]
    assert sim.nodes["b"].answered == 0
    sim.run(600)
    assert sim.nodes["b"].snapshot()["pongs"] > len(before)
