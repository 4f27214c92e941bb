"""Run the simulator's Paxos scenarios for the graded tests, and explain a failure.

A failing seed prints what a student needs to debug it (DSLabs-style): the
command that replays the run exactly, then the run shrunk by delta debugging
to the fewest faults and client operations that still fail, and that small
run's trace.
"""

from __future__ import annotations

import os

from dynamo.checker.durability import no_lost_acknowledged_writes
from dynamo.checker.history import as_history
from dynamo.checker.linearizability import check
from dynamo.sim.minimise import minimise
from dynamo.sim.scenarios import SCENARIOS, RunResult, run

MINIMISE_RUNS = 60  # reruns spent shrinking a failure: a few seconds at most
TRACE_LINES = 40


def problems_of(result: RunResult) -> list[str]:
    """What went wrong in a finished run: invariants, linearizability, durability."""
    history = as_history(result.history)
    problems = [v.describe() for v in result.violations]
    verdict = check(history)
    if verdict.result == "violation":
        problems.append(f"not linearizable: {verdict.details}")
    return problems + no_lost_acknowledged_writes(history, result.final_state)


def problems_in(scenario: str, seed: int, planted_bug: str | None = None) -> list[str]:
    """What went wrong in one simulated run of a scenario."""
    try:
        result = run(SCENARIOS[scenario], seed, planted_bug=planted_bug)
    except NotImplementedError:
        raise  # an unwritten assignment says so itself
    except Exception as error:  # a replica that raises is a failed run, not a test crash
        return [f"a replica raised {error!r}"]
    return problems_of(result)


def seeds(count: int) -> range:
    """`count` seeds, from DYNAMO_LAB_SEED if the grader sets it (instructors grade on
    seeds students have not seen), else from 0."""
    first = int(os.environ.get("DYNAMO_LAB_SEED", "0"))
    return range(first, first + count)


def assert_safe(scenario: str, seeds: range, planted_bug: str | None = None) -> None:
    """Fail on the first seed with a problem, printing its replay command and minimised trace.

    `planted_bug` runs the reference replicas with one of their planted bugs, to see
    what a failure report looks like.
    """
    for seed in seeds:
        problems = problems_in(scenario, seed, planted_bug)
        if problems:
            bug = f" --planted-bug {planted_bug}" if planted_bug else ""
            print(f"replay: dynamo sim replay --seed {seed} --scenario {scenario}{bug} --minimise")
            if not os.environ.get("DYNAMO_LAB_QUICK_FAILURE"):  # set by `dynamo course mutants`
                print_minimised(scenario, seed, planted_bug)
            raise AssertionError(f"seed {seed} of {scenario}: " + "; ".join(problems[:3]))


def print_minimised(scenario: str, seed: int, planted_bug: str | None) -> None:
    """The smallest failing variant of the run, and the tail of its trace."""
    try:
        shrunk = minimise(SCENARIOS[scenario], seed, lambda r: bool(problems_of(r)),
                          planted_bug=planted_bug, max_runs=MINIMISE_RUNS)
    except Exception as error:  # a replica that raises while shrinking: the replay still works
        print(f"(the run could not be minimised: {error!r})")
        return
    operations = [(client, op) for client, ops in shrunk.operations.items() for op in ops]
    print(f"minimised in {shrunk.runs} runs: {len(shrunk.faults)} fault(s) and "
          f"{len(operations)} operation(s) still fail")
    for fault in shrunk.faults:
        print(f"  fault {fault.describe()}")
    for client, op in operations:
        print(f"  {client}: {op}")
    lines = shrunk.result.trace.text().splitlines()
    print(f"minimised trace ({len(lines)} events; the last {min(len(lines), TRACE_LINES)}):")
    print("\n".join(lines[-TRACE_LINES:]))
