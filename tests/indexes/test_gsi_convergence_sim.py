"""Simulator proof of global secondary indexes: they converge under faults (§2, indexes).

The scenario `gsi-convergence`: a table with two global indexes on its value
splits while clients put (a new index key every time), delete, and turn values
into numbers (which takes the item out of the string-keyed indexes: a sparse
index), through two request routers; storage nodes and the propagator crash,
links partition both ways and one way, and lose, duplicate and reorder
messages. The propagator ships each item's outbox row to the index partitions
and marks it propagated. Once the writes stop and the faults heal, every
index must equal the projection of its table, with no outbox row left; the
base table's history is judged too (linearizable, nothing acknowledged lost).
"""

from __future__ import annotations

import pytest

from dynamo.cli.sim import check_seed, judge
from dynamo.sim.scenarios import SCENARIOS, run

SCENARIO = "gsi-convergence"
SEEDS = 200
MAX_SEEDS_TO_CATCH = 40


def test_every_index_equals_its_tables_projection_after_faults_in_200_seeds() -> None:
    results = [run(SCENARIOS[SCENARIO], seed) for seed in range(SEEDS)]
    problems = []
    for result in results:
        status, found = judge(result)
        assert status != "unknown", f"seed {result.seed}: the checker ran out of budget"
        if status == "violation":
            problems.append(f"seed {result.seed}: {found[0]}\n  replay: dynamo sim replay "
                            f"--seed {result.seed} --scenario {SCENARIO}")
    assert problems == [], "\n".join(problems)
    assert all(result.faults for result in results)  # every seed had faults injected
    assert sum(result.splits >= 1 for result in results) >= SEEDS // 2  # tables split
    writes = sum(1 for r in results for op in r.history
                 if op.outcome == "ok" and op.kind in ("put", "cas", "delete", "add"))
    assert writes > 8 * SEEDS


def test_a_mark_that_ignores_the_sequence_is_caught() -> None:
    """The planted bug drops an outbox row that a later write folded into: that write
    never reaches the index, and the convergence check says so."""
    for seed in range(MAX_SEEDS_TO_CATCH):
        report = check_seed(SCENARIO, seed, planted_bug="mark_ignores_sequence")
        if report.status == "violation":
            assert any("indexes converge" in problem for problem in report.problems)
            return
    pytest.fail(f"mark_ignores_sequence not caught in {MAX_SEEDS_TO_CATCH} seeds")
