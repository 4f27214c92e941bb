"""Simulator proof of the log-replica role and healing (§5.1, §5.4).

The scenario `logreplica-heal`: a replica is lost for the rest of the run and,
while the group heals, a second failure strikes (another crash, the stand-in
log replica's crash, the leader's crash or isolation, a partition). Every
seed is judged for linearizability, no lost acknowledged write, one leader
per ballot, committed entries never changing, and the role's invariants: a
log replica never leads or serves a read, and an acknowledged write is in
the records of a write quorum. Then the two planted bugs must be caught.
"""

from __future__ import annotations

import pytest

from dynamo.cli.sim import check_seed, judge
from dynamo.sim.scenarios import SCENARIOS, run

SCENARIO = "logreplica-heal"
FIRST_SEED, SEEDS = 112, 200  # the seed sweep of tests/sim runs seeds 0-111 already
MAX_SEEDS_TO_CATCH = 20


def test_no_violation_in_200_seeds_and_the_groups_heal() -> None:
    results = [run(SCENARIOS[SCENARIO], seed) for seed in range(FIRST_SEED, FIRST_SEED + SEEDS)]
    problems = []
    for result in results:
        status, found = judge(result)
        assert status != "unknown", f"seed {result.seed}: the checker ran out of budget"
        if status == "violation":
            problems.append(f"seed {result.seed}: {found[0]}")
    assert problems == [], "\n".join(problems)
    assert sum(len(r.faults) >= 2 for r in results) == SEEDS  # a loss and a second failure
    added = sum("log_replica_added" in r.healing for r in results)
    healed = sum("healed" in r.healing for r in results)
    assert added >= 0.9 * SEEDS and healed >= 0.8 * SEEDS
    for result in results:  # the steps come in order: quorum first, then the replacement
        steps = result.healing
        if "log_replica_added" in steps and "replacement_added" in steps:
            assert steps.index("log_replica_added") < steps.index("replacement_added")


EXPECTED = {
    "log_replica_serves_reads": "a log replica never serves a read",
    "log_replica_counts_twice": "acknowledged writes are on a write quorum",
}


@pytest.mark.parametrize("bug", sorted(EXPECTED))
def test_planted_bug_is_caught_within_bounded_seeds(bug: str) -> None:
    for seed in range(MAX_SEEDS_TO_CATCH):
        report = check_seed(SCENARIO, seed, planted_bug=bug)
        if report.status == "violation":
            assert any(EXPECTED[bug] in problem for problem in report.problems), report.problems
            return
    pytest.fail(f"{bug} not caught in {MAX_SEEDS_TO_CATCH} seeds of {SCENARIO}")

