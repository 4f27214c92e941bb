"""Bursts: quiet periods, then short spikes of traffic, second by second.

Runs the Locust workload `workloads/burst.py` headless against a fresh
`dynamo serve`. Its `LoadTestShape` holds `--quiet-users` users for most of
each `--burst-period` and `--burst-users` for its last `--burst-seconds`;
every user sends `--user-rate` requests per second (YCSB workload A on
900-byte profiles), so a burst multiplies the offered load. The plot shows
users, requests/s and failures/s over time, from Locust's
`--csv-full-history`.

What it shows depends on the layers present (paper §4.1.1):

- On the default on-demand table the server serves every burst: requests/s
  follows the user count step by step, and failures/s stays zero.
- With per-partition token buckets, a burst above the partition's allocation
  is throttled at once (failures/s rises during each burst).
- With bursting, the capacity a partition left unused during the quiet
  period (kept for up to 300 s) pays for the burst: the first bursts are
  served; only when the saved tokens run out do throttles appear.

    python -m lab.burst_locust                        # 3 cycles of 20 s
    python -m lab.burst_locust --burst-users 40 --burst-period 10 --cycles 6
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from lab.locust_runs import (
    AGGREGATED,
    Rates,
    rates_by_type,
    read_history,
    read_stats,
    run_locust,
    users_over_time,
)
from lab.server import REPO, Server, endpoint

NAME = "burst_locust"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m lab.{NAME}", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quiet-users", type=int, default=2, help="users between bursts")
    parser.add_argument("--burst-users", type=int, default=20, help="users during a burst")
    parser.add_argument("--burst-period", type=float, default=20.0,
                        help="seconds from one quiet period to the next")
    parser.add_argument("--burst-seconds", type=float, default=5.0, help="burst length")
    parser.add_argument("--cycles", type=int, default=3, help="quiet+burst periods")
    parser.add_argument("--user-rate", type=float, default=10.0, help="requests/s per user")
    parser.add_argument("--keys", type=int, default=1000, help="profiles loaded and used")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--endpoint", help="drive this endpoint instead of a fresh server")
    parser.add_argument("--out", type=Path, default=REPO / "lab" / "out",
                        help="directory for the results (default lab/out)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    prefix = args.out / NAME
    length = args.cycles * args.burst_period
    with endpoint(args.endpoint, args.out / f"{NAME}.server.log") as server:
        print(f"endpoint {server.url}; {args.cycles} x ({args.burst_period - args.burst_seconds:g} s "
              f"of {args.quiet_users} users, {args.burst_seconds:g} s of {args.burst_users}), "
              f"{args.user_rate:g} requests/s per user ...", flush=True)
        run_bursts(server, prefix, args, timeout=length + 120)
    history = read_history(Path(f"{prefix}_stats_history.csv"))
    rates = rates_by_type(history).get("all", Rates([], [], []))
    seconds, users = users_over_time(history)
    summary = summarise(read_stats(Path(f"{prefix}_stats.csv")), rates, seconds, users, args)
    print(f"requests/s: quiet {summary['quiet_requests_per_s']:.0f}, "
          f"burst {summary['burst_requests_per_s']:.0f} (offered: "
          f"{args.quiet_users * args.user_rate:g}, {args.burst_users * args.user_rate:g}); "
          f"requests {summary['requests']}, failures {summary['failures']}")
    (args.out / f"{NAME}.json").write_text(json.dumps(summary, indent=2) + "\n")
    plot(rates, seconds, users, args, args.out / f"{NAME}.png")
    print(f"wrote {prefix}_stats*.csv, {args.out / (NAME + '.json')} and "
          f"{args.out / (NAME + '.png')}")
    return 0


def run_bursts(server: Server, prefix: Path, args: argparse.Namespace, timeout: float) -> None:
    options = ["--quiet-users", str(args.quiet_users), "--burst-users", str(args.burst_users),
               "--burst-period", str(args.burst_period),
               "--burst-seconds", str(args.burst_seconds), "--cycles", str(args.cycles),
               "--user-rate", str(args.user_rate), "--keys", str(args.keys),
               "--seed", str(args.seed)]
    run_locust("burst.py", server.url, prefix, options, args.out / f"{NAME}.locust.log",
               timeout=timeout)


def summarise(stats: list[dict[str, str]], rates: Rates, seconds: list[float],
              users: list[int], args: argparse.Namespace) -> dict[str, Any]:
    """Totals, and the mean requests/s in seconds that ran quiet and burst user counts."""
    users_at = dict(zip(seconds, users, strict=True))
    quiet, burst = [], []
    for second, rate in zip(rates.seconds, rates.requests_per_s, strict=True):
        # A rate covers the second before `second`; count it where the user count held.
        if users_at.get(second) == users_at.get(second - 1) == args.quiet_users:
            quiet.append(rate)
        elif users_at.get(second) == users_at.get(second - 1) == args.burst_users:
            burst.append(rate)
    total = next((row for row in stats if row["Name"] == AGGREGATED), None)
    return {
        "quiet_users": args.quiet_users, "burst_users": args.burst_users,
        "user_rate": args.user_rate, "burst_period_s": args.burst_period,
        "burst_seconds": args.burst_seconds, "cycles": args.cycles,
        "requests": int(total["Request Count"]) if total else 0,
        "failures": int(total["Failure Count"]) if total else 0,
        "quiet_requests_per_s": sum(quiet) / len(quiet) if quiet else 0.0,
        "burst_requests_per_s": sum(burst) / len(burst) if burst else 0.0,
    }


def plot(rates: Rates, seconds: list[float], users: list[int], args: argparse.Namespace,
         path: Path) -> None:
    """Users, requests/s and failures/s over time, one above the other."""
    figure = Figure(figsize=(10, 8))
    FigureCanvasAgg(figure)  # Agg: draw to a file, no display
    crowd, served, failed = figure.subplots(3, 1, sharex=True)
    crowd.step(seconds, users, where="post", color="tab:gray")
    crowd.set_ylabel("users")
    crowd.set_title(f"{args.quiet_users} users, bursts of {args.burst_users} for "
                    f"{args.burst_seconds:g} s every {args.burst_period:g} s; "
                    f"{args.user_rate:g} requests/s per user")
    served.plot(rates.seconds, rates.requests_per_s, color="black")
    served.set_ylabel("requests / s")
    failed.plot(rates.seconds, rates.failures_per_s, color="tab:red")
    top = max(1.0, max(rates.failures_per_s, default=0.0) * 1.1)
    failed.set_ylim(-0.03 * top, top)  # lift the axis so a flat zero line stays visible
    failed.set_ylabel("failures / s (throttles)")
    failed.set_xlabel("seconds since start")
    for axis in (crowd, served):
        axis.set_ylim(bottom=0)
    for axis in (crowd, served, failed):
        axis.grid(True, alpha=0.3)
    figure.suptitle("Bursty traffic (paper §4.1.1: bursting)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
