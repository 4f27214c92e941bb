"""Shrinking a failing run: the fewest faults and operations that still fail.

A failing seed from a sweep is a bug report, but a noisy one: a dozen faults
and a hundred operations, of which two or three matter. Delta debugging
(Zeller & Hildebrandt's ddmin, as DSLabs' trace minimiser and Jepsen's
shrinking use it) removes chunks of the run's *choices*, here the nemesis
faults and the clients' operations, keeps any smaller run that still fails,
and stops when no single choice can go. Runs stay deterministic: the same
seed drives every attempt, so "still fails" is a pure function of the choices.

Whether a run fails is decided by a predicate the caller gives (the history
checkers live beside the simulator, not inside it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dynamo.sim.faults import Fault
from dynamo.sim.scenarios import RunResult, Scenario, run

Choice = tuple[str, Any, Any]  # ("fault", fault, None) or ("op", client, (index, operation))


@dataclass
class Minimised:
    """The smallest failing run found, and how much it took to find it."""

    faults: list[Fault]
    operations: dict[str, list[Any]]
    result: RunResult
    runs: int
    removed: int


def ddmin(items: Sequence[Any], fails: Callable[[list[Any]], bool], max_tests: int) -> list[Any]:
    """A 1-minimal failing subsequence of `items` (or the smallest found in max_tests).

    Split the current failing list into n chunks; if one chunk alone fails,
    keep it (n back to 2); else if the list without one chunk fails, keep
    that (n one less); else split finer (n doubled) until chunks are single
    items, when no one item can be removed: 1-minimal.
    """
    current = list(items)
    granularity = 2
    tests = 0
    while len(current) >= 2:
        size = -(-len(current) // granularity)
        chunks = [current[i:i + size] for i in range(0, len(current), size)]
        complements = [[x for c in chunks if c is not chunk for x in c] for chunk in chunks]
        candidates = [(c, 2) for c in chunks] + [(c, max(granularity - 1, 2)) for c in complements]
        for candidate, next_granularity in candidates:
            if tests >= max_tests:
                return current
            tests += 1
            if fails(candidate):
                current, granularity = candidate, next_granularity
                break
        else:
            if granularity >= len(current):
                break
            granularity = min(len(current), granularity * 2)
    return current


def minimise(scenario: Scenario, seed: int, fails: Callable[[RunResult], bool], *,
             planted_bug: str | None = None, max_runs: int = 200) -> Minimised:
    """Shrink a failing (scenario, seed) to the fewest faults and operations."""
    original = run(scenario, seed, planted_bug=planted_bug)
    if not fails(original):
        raise ValueError(f"seed {seed} of {scenario.name} does not fail; nothing to minimise")
    runs = 1
    cache: dict[tuple[Choice, ...], bool] = {}

    def attempt(choices: list[Choice]) -> bool:
        nonlocal runs
        key = tuple((kind, a, b[0] if kind == "op" else None) for kind, a, b in choices)
        if key not in cache:
            runs += 1
            faults, ops = _split(choices, original.operations)
            cache[key] = fails(run(scenario, seed, planted_bug=planted_bug, faults=faults,
                                   operations=ops))
        return cache[key]

    everything: list[Choice] = [("fault", f, None) for f in original.faults]
    everything += [("op", client, (i, op)) for client, ops in original.operations.items()
                   for i, op in enumerate(ops)]
    # faults first (few, and usually the cause), then the workload
    faults_only = [c for c in everything if c[0] == "fault"]
    ops_only = [c for c in everything if c[0] == "op"]
    if attempt(ops_only):
        kept_faults: list[Choice] = []
    else:
        kept_faults = ddmin(faults_only, lambda fs: attempt(fs + ops_only), max_runs // 3)
    kept_ops = ddmin(ops_only, lambda os: attempt(kept_faults + os), max_runs - runs)
    faults, ops = _split(kept_faults + kept_ops, original.operations)
    final = run(scenario, seed, planted_bug=planted_bug, faults=faults, operations=ops,
                trace=True)
    removed = len(everything) - len(kept_faults) - len(kept_ops)
    return Minimised(faults, ops, final, runs, removed)


def _split(choices: Sequence[Choice],
           all_operations: dict[str, list[Any]]) -> tuple[list[Fault], dict[str, list[Any]]]:
    faults = [c[1] for c in choices if c[0] == "fault"]
    ops: dict[str, list[Any]] = {client: [] for client in all_operations}
    for _kind, client, payload in sorted((c for c in choices if c[0] == "op"),
                                        key=lambda c: (c[1], c[2][0])):
        ops[client].append(payload[1])
    return faults, ops
