"""Spares that are scarce, down or gone for a while (§5.1, §6.1): rules P5 and H2-H3's edges.

A fleet of two storage nodes per zone has one spare in each zone: the lost
zone's spare takes the log replica, so the full replacement goes elsewhere
(P5). A spare that does not answer is never added: the leader asks it first
(`StandIn`), and an added member that is down would cost the write quorum
at the next failure. A node seen silent is avoided for `suspect_ms`, then
tried again. When no spare can take a log replica, autoadmin does not wait
for one.
"""

from __future__ import annotations

from dynamo.logreplica import HealingConfig, next_change
from dynamo.logreplica.group import healing_factories
from dynamo.logreplica.healing import still_suspected
from dynamo.logreplica.messages import GroupStatus
from dynamo.logreplica.placement import choose_any_spare, choose_spare
from dynamo.paxos import AddMember
from dynamo.paxos.operations import Put
from dynamo.paxos.replica import PaxosConfig
from dynamo.sim.clients import Client, ClientConfig
from dynamo.sim.faults import Fault
from dynamo.sim.scenarios import PaxosAdapter
from dynamo.sim.simulator import Simulator

TWO_PER_ZONE = (("n1", "az1"), ("n2", "az2"), ("n3", "az3"),
                ("n4", "az1"), ("n5", "az2"), ("n6", "az3"))


def status(members: tuple[str, ...], logs: tuple[str, ...], silent: tuple[str, ...]) -> GroupStatus:
    live = tuple(m for m in members if m not in silent)
    return GroupStatus("1.n1", members, logs, silent, live, False, 10)


def test_with_two_nodes_a_zone_the_replacement_goes_to_another_zone() -> None:
    """P5: n5, az2's other node, holds the log replica; three full replicas in two zones
    beat a group that never heals."""
    config = HealingConfig(TWO_PER_ZONE)
    members = ("n1", "n2", "n3", "n5")
    assert choose_spare(TWO_PER_ZONE, members, {"n2"}, ("n5",), for_log_replica=False) is None
    assert choose_any_spare(TWO_PER_ZONE, members, {"n2"}) == "n4"
    assert next_change(status(members, ("n5",), ("n2",)), config) == AddMember("n4")


def test_autoadmin_does_not_wait_for_a_log_replica_no_spare_can_take() -> None:
    """H2 first, unless the lost zone has no healthy spare: then the full replacement now."""
    config = HealingConfig(TWO_PER_ZONE)
    three = ("n1", "n2", "n3")
    assert next_change(status(three, (), ("n2",)), config) is None  # n5 can stand in
    assert next_change(status(three, (), ("n2",)), config, {"n5"}) == AddMember("n4")


def test_a_node_seen_silent_is_avoided_for_a_while_then_tried_again() -> None:
    config = HealingConfig(TWO_PER_ZONE, suspect_ms=5000.0)
    seen = {"n2": 1000.0, "n5": 4000.0}
    assert still_suspected(seen, 5500.0, config) == {"n2", "n5"}
    assert still_suspected(seen, 6500.0, config) == {"n5"}  # n2: five seconds ago


ZONES = (("n1", "az1"), ("n2", "az2"), ("n3", "az3"), ("s1", "az1"), ("s2", "az2"),
         ("s3", "az3"), ("s4", "az1"), ("s5", "az2"), ("s6", "az3"))


def test_a_spare_that_does_not_answer_is_never_added() -> None:
    """§5.1 with a spare down: the leader asks s2 to stand in, hears nothing, and adds s5."""
    config = PaxosConfig()
    sim = Simulator(7, healing_factories(("n1", "n2", "n3"), config, HealingConfig(ZONES)),
                    max_drift=config.max_drift)
    writes = [Put(f"k{i % 4}", f"v{i}") for i in range(60)]
    sim.add_client(Client("c", writes, PaxosAdapter(), ["n1", "n2", "n3"], sim.derive_rng(),
                          ClientConfig(timeout_ms=250.0, think_ms=(30.0, 60.0), wander=0.0)))
    sim.schedule_fault(Fault(500.0, "crash", ("s2",)))
    sim.schedule_fault(Fault(1000.0, "crash", ("n2",)))
    sim.start()
    sim.run(5000.0)
    added = [dict(a.detail)["replica"] for _, _, a in sim.announcements
             if a.kind == "log_replica_added"]
    assert added == ["s5"]
    leader = sim.current_leader()
    assert leader is not None
    members = sim.nodes[leader].members  # type: ignore[union-attr]
    assert "s2" not in members and "n2" not in members and len(members) == 3
