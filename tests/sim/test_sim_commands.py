"""`dynamo sim run` and `dynamo sim replay`: a failing seed is a bug report anyone can replay.

Runs the real command in fresh processes (different hash seeds), as a student
or CI would, and checks that the replay is exact, that failures print the one
command that replays them, and that --minimise shrinks the run.
"""

from __future__ import annotations

import os
import subprocess
import sys

from dynamo.cli.sim import fails
from dynamo.sim.minimise import ddmin, minimise
from dynamo.sim.scenarios import SCENARIOS, run


def dynamo(*args: str, hash_seed: str = "0") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    return subprocess.run([sys.executable, "-m", "dynamo.cli.main", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_replay_of_a_paxos_run_is_byte_identical_across_processes() -> None:
    args = ("sim", "replay", "--seed", "3", "--scenario", "paxos-faults", "--trace")
    first, second = dynamo(*args, hash_seed="1"), dynamo(*args, hash_seed="2")
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout == second.stdout
    assert len(first.stdout.splitlines()) > 1000
    assert "seed 3 scenario paxos-faults: ok" in first.stdout
    in_process = run(SCENARIOS["paxos-faults"], 3, trace=True)
    assert f"trace sha256 {in_process.trace.digest()}" in first.stdout
    other = run(SCENARIOS["paxos-faults"], 4, trace=True)
    assert other.trace.digest() != in_process.trace.digest()


def test_tracing_does_not_change_the_run() -> None:
    quiet = run(SCENARIOS["paxos-gray"], 5)
    traced = run(SCENARIOS["paxos-gray"], 5, trace=True)
    assert quiet.history == traced.history and quiet.stats.events == traced.stats.events


def test_run_prints_a_summary_with_progress() -> None:
    result = dynamo("sim", "run", "--seeds", "10", "--jobs", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for prefix in ("seeds: 10", "operations: ", "faults injected: ", "violations: 0",
                   "simulated events: ", "failover (leader crash -> next acked write"):
        assert any(line.startswith(prefix) for line in lines), (prefix, result.stdout)
    assert "[10/10]" in result.stderr


def test_a_failing_run_prints_its_replay_command() -> None:
    result = dynamo("sim", "run", "--seeds", "3", "--scenario", "paxos-isolation",
                    "--planted-bug", "commit_before_quorum")
    assert result.returncode == 1
    assert "FAIL seed 0 scenario paxos-isolation: committed entries never change" \
        in result.stdout
    assert "replay: dynamo sim replay --seed 0 --scenario paxos-isolation " \
           "--planted-bug commit_before_quorum" in result.stdout
    replay = dynamo("sim", "replay", "--seed", "0", "--scenario", "paxos-isolation",
                    "--planted-bug", "commit_before_quorum", "--minimise")
    assert replay.returncode == 1
    assert "seed 0 scenario paxos-isolation: violation" in replay.stdout
    assert "minimised in " in replay.stdout and "minimised trace (" in replay.stdout


def test_minimise_keeps_a_failure_with_fewer_choices() -> None:
    scenario = SCENARIOS["paxos-isolation"]
    original = run(scenario, 0, planted_bug="read_without_lease")
    shrunk = minimise(scenario, 0, fails, planted_bug="read_without_lease", max_runs=60)
    assert fails(shrunk.result)
    before = len(original.faults) + sum(map(len, original.operations.values()))
    after = len(shrunk.faults) + sum(map(len, shrunk.operations.values()))
    assert after < before / 2 and shrunk.removed == before - after
    assert shrunk.result.trace is not None and len(shrunk.result.trace) > 0


def test_ddmin_finds_a_one_minimal_subset() -> None:
    calls = []

    def needs_3_and_7(items: list[int]) -> bool:
        calls.append(items)
        return 3 in items and 7 in items

    assert ddmin(list(range(20)), needs_3_and_7, max_tests=500) == [3, 7]
    assert ddmin(list(range(20)), needs_3_and_7, max_tests=2) != [3, 7]  # budget respected
