"""`dynamo sim`: run simulation seeds through the checkers; replay and shrink a failure.

    dynamo sim run --seeds 10000 --jobs 2            # every scenario, seeds 0..9999
    dynamo sim run --seeds 200 --scenario paxos-failover
    dynamo sim replay --seed 17 --scenario paxos-faults --minimise

Each seed of a scenario (dynamo.sim.scenarios) is judged three ways: the
invariants asserted at every step (one leader per ballot, committed entries
never change, leases never overlap), linearizability of the clients' history
per key, and no lost acknowledged writes (dynamo.checker). A failing seed
prints the one command that replays it; `replay --minimise` shrinks it to the
fewest faults and operations that still fail and prints that run's trace.
This is where the simulator and the checkers meet: neither imports the other.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from dynamo.checker import as_history, check, no_lost_acknowledged_writes
from dynamo.sim.minimise import minimise
from dynamo.sim.scenarios import (
    PLANTED_BUGS,
    SCENARIOS,
    RunResult,
    Scenario,
    run,
    scenario_named,
)

CHECK_BUDGET = 200_000  # search steps per key before the verdict is "unknown"


@dataclass
class SeedReport:
    """The verdict on one seed of one scenario."""

    scenario: str
    seed: int
    planted_bug: str | None
    status: str  # "ok", "violation" or "unknown"
    problems: list[str]
    operations: int
    faults: int
    events: int
    failover_ms: float | None
    elections: int = 0  # "elected" announcements, the first election included

    def replay_command(self) -> str:
        command = f"dynamo sim replay --seed {self.seed} --scenario {self.scenario}"
        if self.planted_bug:
            command += f" --planted-bug {self.planted_bug}"
        return command


def judge(result: RunResult, budget: int = CHECK_BUDGET) -> tuple[str, list[str]]:
    """Invariants, linearizability and durability of one run: (status, problems)."""
    problems = [v.describe() for v in result.violations]
    history = as_history(result.history)
    verdict = check(history, budget) if "linearizable per key" in result.invariants else None
    if verdict is not None and verdict.result == "violation":
        problems.append("history is not linearizable: " + verdict.details)
    if "no lost acknowledged writes" in result.invariants:
        problems += ["acknowledged write lost: " + p
                     for p in no_lost_acknowledged_writes(history, result.final_state)]
    if problems:
        return "violation", problems
    if verdict is not None and verdict.result == "unknown":
        return "unknown", [verdict.details]
    return "ok", []


def check_seed(scenario: str, seed: int, planted_bug: str | None = None) -> SeedReport:
    """Run and judge one seed."""
    result = run(scenario_named(scenario), seed, planted_bug=planted_bug)
    status, problems = judge(result)
    return SeedReport(scenario, seed, planted_bug, status, problems, len(result.history),
                      len(result.faults), result.stats.events, result.failover_ms,
                      result.elections)


def fails(result: RunResult) -> bool:
    return judge(result)[0] == "violation"


@dataclass
class Summary:
    """What a sweep found."""

    seeds: int = 0
    operations: int = 0
    faults: int = 0
    events: int = 0
    unknown: int = 0
    failures: list[SeedReport] = field(default_factory=list)
    failovers: list[float] = field(default_factory=list)
    reelections: int = 0  # elections after each seed's first
    reelected_seeds: int = 0
    wall_s: float = 0.0

    def add(self, report: SeedReport) -> None:
        self.seeds += 1
        self.operations += report.operations
        self.faults += report.faults
        self.events += report.events
        self.unknown += report.status == "unknown"
        if report.status == "violation":
            self.failures.append(report)
        if report.failover_ms is not None:
            self.failovers.append(report.failover_ms)
        self.reelections += max(0, report.elections - 1)
        self.reelected_seeds += report.elections > 1

    def lines(self) -> list[str]:
        rate = self.events / self.wall_s if self.wall_s else 0.0
        out = [f"seeds: {self.seeds}", f"operations: {self.operations}",
               f"faults injected: {self.faults}", f"violations: {len(self.failures)}",
               f"unknown (checker budget ran out): {self.unknown}",
               f"simulated events: {self.events} in {self.wall_s:.1f} s wall "
               f"= {rate:,.0f} events/s",
               f"elections after the first: {self.reelections} "
               f"(in {self.reelected_seeds} of {self.seeds} seeds)"]
        if self.failovers:
            ordered = sorted(self.failovers)
            p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
            out.append(f"failover (leader crash -> next acked write, simulated ms) over "
                       f"{len(ordered)} seeds: median {statistics.median(ordered):.0f}, "
                       f"p99 {p99:.0f}, max {ordered[-1]:.0f}")
        return out


def _task(job: tuple[str, int, str | None]) -> SeedReport:
    return check_seed(*job)


def sweep(jobs: Sequence[tuple[str, int, str | None]], workers: int = 1,
          progress: Callable[[Summary, int], None] | None = None) -> Summary:
    """Check many (scenario, seed, planted_bug) jobs, in `workers` processes."""
    summary = Summary()
    started = time.perf_counter()
    for report in _reports(jobs, workers):
        summary.add(report)
        summary.wall_s = time.perf_counter() - started
        if progress is not None:
            progress(summary, len(jobs))
    return summary


def _reports(jobs: Sequence[tuple[str, int, str | None]], workers: int) -> Iterator[SeedReport]:
    if workers <= 1:
        yield from map(_task, jobs)
        return
    with ProcessPoolExecutor(workers) as pool:
        yield from pool.map(_task, jobs, chunksize=8)


# --- the command ---------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("sim", help="deterministic simulation: run seeds, replay",
                                   description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="sim_command", metavar="SUBCOMMAND", required=True)
    names = ["all", *SCENARIOS]
    run_parser = commands.add_parser("run", help="run many seeds through the checkers")
    run_parser.add_argument("--seeds", type=int, default=100, help="how many seeds")
    run_parser.add_argument("--first-seed", type=int, default=0)
    run_parser.add_argument("--scenario", choices=names, default="all",
                            help="one scenario, or all of them in turn")
    run_parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    run_parser.add_argument("--planted-bug", choices=PLANTED_BUGS,
                            help="break one Paxos rule on purpose: the checkers must notice")
    run_parser.set_defaults(func=run_command)
    replay = commands.add_parser("replay", help="replay one seed, print its verdict and trace")
    replay.add_argument("--seed", type=int, required=True)
    replay.add_argument("--scenario", choices=list(SCENARIOS), required=True)
    replay.add_argument("--planted-bug", choices=PLANTED_BUGS)
    replay.add_argument("--minimise", action="store_true",
                        help="shrink a failing run to the fewest faults and operations")
    replay.add_argument("--trace", action="store_true", help="print the full trace")
    replay.set_defaults(func=replay_command)


def run_command(args: argparse.Namespace) -> int:
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    jobs = [(names[seed % len(names)], seed, args.planted_bug) for seed in seeds]
    shown = 0

    def progress(summary: Summary, total: int) -> None:
        nonlocal shown
        for report in summary.failures[shown:]:
            print(f"FAIL seed {report.seed} scenario {report.scenario}: "
                  f"{report.problems[0].splitlines()[0]}")
            print(f"  replay: {report.replay_command()}")
        shown = len(summary.failures)
        if summary.seeds % max(1, total // 50) == 0 or summary.seeds == total:
            rate = summary.events / summary.wall_s if summary.wall_s else 0.0
            print(f"\r[{summary.seeds}/{total}] violations {len(summary.failures)}  "
                  f"{rate:,.0f} events/s", end="", file=sys.stderr, flush=True)

    summary = sweep(jobs, args.jobs, progress)
    print(file=sys.stderr)
    print("\n".join(summary.lines()))
    return 1 if summary.failures else 0


def replay_command(args: argparse.Namespace) -> int:
    scenario = scenario_named(args.scenario)
    result = run(scenario, args.seed, planted_bug=args.planted_bug, trace=True)
    status, problems = judge(result)
    report = SeedReport(args.scenario, args.seed, args.planted_bug, status, problems,
                        len(result.history), len(result.faults), result.stats.events,
                        result.failover_ms)
    print(f"seed {args.seed} scenario {args.scenario}: {status}")
    print(f"  {len(result.history)} operations, {len(result.faults)} faults, "
          f"{result.stats.events} events, trace sha256 {result.trace.digest()}")
    for problem in problems:
        print(problem)
    if status == "violation":
        print(f"replay: {report.replay_command()}")
    if args.minimise and status == "violation":
        print_minimised(scenario, args.seed, args.planted_bug)
    elif args.trace:
        print(result.trace.text(), end="")
    return 1 if status == "violation" else 0


def print_minimised(scenario: Scenario, seed: int, planted_bug: str | None) -> None:
    shrunk = minimise(scenario, seed, fails, planted_bug=planted_bug)
    result = shrunk.result
    print(f"minimised in {shrunk.runs} runs: removed {shrunk.removed} choices; "
          f"{len(shrunk.faults)} faults and "
          f"{sum(map(len, shrunk.operations.values()))} operations still fail")
    for fault in shrunk.faults:
        print(f"  fault {fault.describe()}")
    for client, ops in shrunk.operations.items():
        for op in ops:
            print(f"  {client}: {op}")
    for problem in judge(result)[1]:
        print(problem)
    print(f"minimised trace ({len(result.trace)} events):")
    print(result.trace.text(), end="")
