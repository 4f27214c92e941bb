"""Run the simulator's Paxos scenarios for the graded tests; print the replay command on failure."""

from __future__ import annotations

import os

from dynamo.checker.durability import no_lost_acknowledged_writes
from dynamo.checker.history import as_history
from dynamo.checker.linearizability import check
from dynamo.sim.scenarios import SCENARIOS, run


def problems_in(scenario: str, seed: int) -> list[str]:
    """What went wrong in one simulated run: invariants, linearizability, durability."""
    try:
        result = run(SCENARIOS[scenario], seed)
    except NotImplementedError:
        raise  # an unwritten assignment says so itself
    except Exception as error:  # a replica that raises is a failed run, not a test crash
        return [f"a replica raised {error!r}"]
    history = as_history(result.history)
    problems = [v.describe() for v in result.violations]
    verdict = check(history)
    if verdict.result == "violation":
        problems.append(f"not linearizable: {verdict.details}")
    problems += no_lost_acknowledged_writes(history, result.final_state)
    return problems


def seeds(count: int) -> range:
    """`count` seeds, from DYNAMO_LAB_SEED if the grader sets it (instructors grade on
    seeds students have not seen), else from 0."""
    first = int(os.environ.get("DYNAMO_LAB_SEED", "0"))
    return range(first, first + count)


def assert_safe(scenario: str, seeds: range) -> None:
    """Fail on the first seed with a problem, printing the command that replays it."""
    for seed in seeds:
        problems = problems_in(scenario, seed)
        if problems:
            print(f"replay: dynamo sim replay --seed {seed} --scenario {scenario}")
            raise AssertionError(f"seed {seed} of {scenario}: " + "; ".join(problems[:3]))
