"""Replica moves, in the simulator and alone: autoadmin evens out the nodes (§4.3).

The scenario `partition-moves`: five storage nodes in three zones; a table
starts on the first three and splits, and autoadmin's balancer moves replicas
to the other two (add the new replica, let it copy the snapshot and the log
tail, remove the old one) while nodes crash, links partition one way or both,
and messages are lost, duplicated and reordered. The seed sweep of tests/sim
runs seeds 0-111; this runs 100 more, every one linearizable with no
acknowledged write lost, and shows a planted bug that the scenario found
(children started from slot 0) is caught. Then `next_move`'s rules, alone.
"""

from __future__ import annotations

from dynamo.cli.sim import check_seed, judge
from dynamo.partitioning.autoadmin import next_move
from dynamo.partitioning.messages import PlacedPartition, Placement
from dynamo.sim.scenarios import SCENARIOS, run

SCENARIO = "partition-moves"
FIRST_SEED, SEEDS = 112, 100
ZONES = {"n1": "az1", "n2": "az2", "n3": "az3", "n4": "az1", "n5": "az2"}


def test_no_violation_in_100_more_seeds_while_replicas_move() -> None:
    results = [run(SCENARIOS[SCENARIO], seed) for seed in range(FIRST_SEED, FIRST_SEED + SEEDS)]
    problems = []
    for result in results:
        status, found = judge(result)
        assert status != "unknown", f"seed {result.seed}: the checker ran out of budget"
        if status == "violation":
            problems.append(f"seed {result.seed}: {found[0]}")
    assert problems == [], "\n".join(problems)
    # Moves take a few seconds of simulated time between the faults: a third or more
    # of the runs finish at least one, and some several.
    assert sum(r.moves >= 1 for r in results) >= 0.3 * SEEDS
    assert sum(r.moves >= 2 for r in results) >= 0.1 * SEEDS
    assert sum(r.splits >= 1 for r in results) >= 0.9 * SEEDS


def test_children_started_from_slot_zero_are_caught() -> None:
    """The bug the scenario found: a moved-in replica never received the seeded items."""
    for seed in range(40):
        report = check_seed(SCENARIO, seed, planted_bug="children_start_at_slot_zero")
        if report.status == "violation":
            return
    raise AssertionError("children_start_at_slot_zero not caught in 40 seeds")


def placed(name: str, members: tuple[str, ...], leader: str | None = None) -> PlacedPartition:
    return PlacedPartition(name, "t", 0, 1, members, members, leader or members[0])


def test_even_nodes_need_no_move() -> None:
    placement = Placement((placed("a", ("n1", "n2", "n3")), placed("b", ("n4", "n5", "n6"))))
    assert next_move(placement, {"n1": "az1", "n2": "az2", "n3": "az3", "n4": "az1",
                                 "n5": "az2", "n6": "az3"}) is None


def test_a_move_goes_from_the_most_to_the_least_loaded_node_and_keeps_three_zones() -> None:
    """§4.3: replicas move off the busiest node; §3: a partition keeps three zones."""
    placement = Placement(tuple(placed(f"p{i}", ("n1", "n2", "n3"), "n1" if i < 2 else "n2")
                                for i in range(4)))
    partition, source, target = next_move(placement, ZONES)  # type: ignore[misc]
    assert target in ("n4", "n5") and ZONES[source] == ZONES[target]
    assert partition.leader != source  # a follower moves first: no election needed


def test_no_move_would_put_two_replicas_in_one_zone() -> None:
    zones = {"n1": "az1", "n2": "az2", "n3": "az3", "n4": "az3"}
    placement = Placement(tuple(placed(f"p{i}", ("n1", "n2", "n3")) for i in range(3)))
    _, source, target = next_move(placement, zones)  # type: ignore[misc]
    assert (source, target) == ("n3", "n4")  # only n3's replicas may go to az3's other node
