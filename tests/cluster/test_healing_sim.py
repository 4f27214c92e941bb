"""Healing in the partitioned fleet, in the simulator (§3, §5.1).

The scenario `partition-heal`: six storage nodes, two per zone; a table
starts on the first three and splits as it grows. One of the three is lost
for the rest of the faults, so every partition loses a replica at once, and
each group heals on its own: its leader adds a log replica on the lost
zone's other node, autoadmin builds a full replacement and retires the log
replica and the dead replica. While the groups heal a second failure
strikes (another member crashes, the stand-in log replica's node crashes,
the node leading a partition crashes for good or is cut off, a member is
partitioned away). Every seed is judged for linearizability per key and no
lost acknowledged write, with every group's invariants checked at every
step, the log replica's among them: a log replica never leads, never serves
a read, and an acknowledged write is on the disks of a write quorum. The seed
sweep of tests/sim runs seeds 0-111; this runs 200 more.

Then one run told in detail: the node lost, every partition it held gets its
log replica in the lost zone within seconds and is healed onto live nodes,
with every acknowledged write still there.
"""

from __future__ import annotations

from dynamo.checker import as_history, no_lost_acknowledged_writes
from dynamo.cli.sim import judge
from dynamo.logreplica.invariants import INVARIANTS as ROLE_INVARIANTS
from dynamo.logreplica.invariants import LogReplicaInvariants
from dynamo.partitioning.fleet import METADATA, FleetConfig, fleet_factories
from dynamo.paxos.operations import KV_TABLE, Get, Put
from dynamo.paxos.replica import PaxosConfig
from dynamo.sim.clients import Client, ClientConfig
from dynamo.sim.scenarios import SCENARIOS, SIX, PaxosAdapter, run
from dynamo.sim.simulator import Simulator

SCENARIO = "partition-heal"
FIRST_SEED, SEEDS = 112, 200


def test_no_violation_in_200_seeds_while_every_partition_heals() -> None:
    results = [run(SCENARIOS[SCENARIO], seed) for seed in range(FIRST_SEED, FIRST_SEED + SEEDS)]
    problems = []
    for result in results:
        status, found = judge(result)
        assert status != "unknown", f"seed {result.seed}: the checker ran out of budget"
        if status == "violation":
            problems.append(f"seed {result.seed}: {found[0]}")
    assert problems == [], "\n".join(problems)
    assert set(ROLE_INVARIANTS) <= set(results[0].invariants)  # the role's checks ran
    assert all(len(r.faults) >= 2 for r in results)  # a node lost, and a second failure
    added = sum("log_replica_added" in r.healing for r in results)
    healed = sum("healed" in r.healing for r in results)
    assert added >= 0.85 * SEEDS and healed >= 0.8 * SEEDS
    assert sum(r.splits >= 1 for r in results) >= 0.25 * SEEDS  # several groups, too
    # The quorum first, then the replacement; a group whose stand-in is down too (the
    # second failure) gets its full replacement at once.
    assert sum(first(r.healing, "log_replica_added") < first(r.healing, "replacement_added")
               for r in results) >= 0.8 * SEEDS


def first(steps: tuple[str, ...], kind: str) -> float:
    return steps.index(kind) if kind in steps else float("inf")


CRASH_MS, END_MS = 2500.0, 9000.0
LOST = "n2"  # az2: its zone's other node is n5


def test_every_partition_the_lost_node_held_heals_on_its_own() -> None:
    """§5.1 in a fleet: each group the lost node was in gets a log replica in the lost zone
    within seconds, then three full replicas on live nodes, and no write is lost."""
    config = PaxosConfig()
    fleet = FleetConfig(storage_nodes=SIX, split_size=60, heal=True)
    sim = Simulator(5, fleet_factories(fleet, config), max_drift=config.max_drift)
    roles = LogReplicaInvariants()
    sim.add_observer(roles)
    writes = [Put(f"k{i % 12}", f"v{i}") for i in range(160)]
    writer = Client("writer", writes, PaxosAdapter(), list(fleet.routers), sim.derive_rng(),
                    ClientConfig(timeout_ms=1900.0, think_ms=(10.0, 30.0), wander=0.0,
                                 stop_ms=END_MS - 2000.0))
    reader = Client("reader", [Get(f"k{i}") for i in range(12)], PaxosAdapter(),
                    list(fleet.routers), sim.derive_rng(),
                    ClientConfig(timeout_ms=1900.0, start_ms=END_MS))
    sim.add_client(writer)
    sim.add_client(reader)
    sim.start()
    sim.run(CRASH_MS)
    held = set(sim.nodes[LOST].replicas)  # type: ignore[union-attr]
    sim.crash(LOST)
    sim.run(END_MS)
    assert roles.violations == [] and sim.stopped is None

    steps: dict[str, dict[str, list[tuple[float, str]]]] = {}
    for at, _, announce in sim.announcements:
        detail = dict(announce.detail)
        if "replica" in detail and "partition" in detail:
            steps.setdefault(detail["partition"], {}).setdefault(announce.kind, []).append(
                (at, detail["replica"]))
    live = sim.nodes[METADATA].maps[KV_TABLE.tbl].partitions  # type: ignore[union-attr]
    assert len(live) >= 2  # the table had split: several groups healed
    healed = [partition for partition in live if partition.id in held]
    assert healed, "no live partition had a replica on the lost node: nothing was checked"
    for partition in healed:  # (a child made after the loss is on live members only)
        [(at, stand_in)] = steps[partition.id]["log_replica_added"]
        # within a second, or two where the lost node led: an election and its lease first
        assert stand_in == "n5" and at - CRASH_MS < 2000.0
        assert LOST not in partition.replicas and "n5" not in partition.replicas
        assert len(partition.replicas) == 3
        for member in partition.replicas:
            replica = sim.nodes[member].replicas[partition.id]  # type: ignore[union-attr]
            assert not replica.is_log_replica and replica.members == partition.replicas
    sim.run(END_MS + 5000.0)
    final = {r.key: r.read_value for r in reader.records if r.outcome == "ok"}
    assert len(final) == 12
    assert no_lost_acknowledged_writes(as_history(writer.records), final) == []
