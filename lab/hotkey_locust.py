"""A hot key under load: who gets served and who gets throttled, second by second.

Runs the Locust workload `workloads/hotkey.py` headless against a fresh
`dynamo serve`: `--users` closed-loop shoppers send `--hot-share` of their
requests (PutItem of an order, Query of recent orders) to `--hot-keys`
customers, the rest to everyone else. Locust labels each request "hot" or
"cold"; the plot shows requests/s and failures/s of each over time, from
Locust's `--csv-full-history`.

What it shows depends on the layers present (paper §4):

- On the default on-demand table (double its previous peak, §4.5), every
  request is served: failures/s is zero for hot and cold alike, and the hot
  keys simply get their 90%.
- With per-partition token buckets (§4), the hot partitions hit their
  allocation and are throttled (`ProvisionedThroughputExceededException`,
  failures/s of "hot" > 0) while cold keys — the same table! — are served:
  throttling protects the other tenants of the node.
- With bursting (§4.1.1) the first seconds of overload are absorbed; with
  global admission control (§4.2) a hot partition may use up to the maximum
  partition capacity before it is throttled.

    python -m lab.hotkey_locust                       # 20 users, 20 s
    python -m lab.hotkey_locust --users 50 --duration 60 --hot-share 0.99
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
)
from lab.server import REPO, Server, endpoint

NAME = "hotkey_locust"
COLOURS = {"all": "black", "hot": "tab:red", "cold": "tab:blue"}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m lab.{NAME}", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20, help="simulated shoppers")
    parser.add_argument("--duration", type=int, default=20, help="seconds of load")
    parser.add_argument("--customers", type=int, default=1000, help="distinct partition keys")
    parser.add_argument("--hot-keys", type=int, default=3, help="hot customers")
    parser.add_argument("--hot-share", type=float, default=0.9, help="share of hot requests")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--capacity", type=int, metavar="UNITS",
                        help="provisioned RCU and WCU of the table (default: on-demand)")
    parser.add_argument("--endpoint", help="drive this endpoint instead of a fresh server")
    parser.add_argument("--out", type=Path, default=REPO / "lab" / "out",
                        help="directory for the results (default lab/out)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    prefix = args.out / NAME
    with endpoint(args.endpoint, args.out / f"{NAME}.server.log") as server:
        print(f"endpoint {server.url}; {args.users} users for {args.duration} s, "
              f"{args.hot_share:.0%} of requests on {args.hot_keys} hot keys ...", flush=True)
        run_hotkey(server, prefix, args)
    stats = read_stats(Path(f"{prefix}_stats.csv"))
    rates = rates_by_type(read_history(Path(f"{prefix}_stats_history.csv")))
    print(format_stats(stats))
    summary = summarise(stats, args)
    print(f"hot keys took {summary['hot_share_measured']:.1%} of requests; "
          f"failures: hot {summary['failures']['hot']}, cold {summary['failures']['cold']}")
    (args.out / f"{NAME}.json").write_text(json.dumps(summary, indent=2) + "\n")
    plot(rates, args, args.out / f"{NAME}.png")
    print(f"wrote {prefix}_stats*.csv, {args.out / (NAME + '.json')} and "
          f"{args.out / (NAME + '.png')}")
    return 0


def run_hotkey(server: Server, prefix: Path, args: argparse.Namespace) -> None:
    options = ["-u", str(args.users), "-r", str(args.users), "-t", f"{args.duration}s",
               "--customers", str(args.customers), "--hot-keys", str(args.hot_keys),
               "--hot-share", str(args.hot_share), "--seed", str(args.seed)]
    if args.capacity is not None:
        options += ["--capacity", str(args.capacity)]
    run_locust("hotkey.py", server.url, prefix, options, args.out / f"{NAME}.locust.log",
               timeout=args.duration + 120)


def format_stats(stats: list[dict[str, str]]) -> str:
    """Locust's final statistics per Type and Name."""
    lines = [f"{'type':<6}{'operation':<12}{'requests':>10}{'failures':>10}{'req/s':>9}"
             f"{'p50 ms':>8}{'p99 ms':>8}"]
    for row in stats:
        lines.append(f"{row['Type']:<6}{row['Name']:<12}{int(row['Request Count']):>10}"
                     f"{int(row['Failure Count']):>10}{float(row['Requests/s']):>9.0f}"
                     f"{_ms(row['50%']):>8}{_ms(row['99%']):>8}")
    return "\n".join(lines)


def _ms(value: str) -> str:
    return value if value not in ("", "N/A") else "-"


def summarise(stats: list[dict[str, str]], args: argparse.Namespace) -> dict[str, Any]:
    """Requests and failures per Type, and the share of requests the hot keys received."""
    requests = {"hot": 0, "cold": 0}
    failures = {"hot": 0, "cold": 0}
    for row in stats:
        if row["Name"] != AGGREGATED and row["Type"] in requests:
            requests[row["Type"]] += int(row["Request Count"])
            failures[row["Type"]] += int(row["Failure Count"])
    total = sum(requests.values())
    aggregated = next((row for row in stats if row["Name"] == AGGREGATED), None)
    return {"users": args.users, "duration_s": args.duration, "hot_keys": args.hot_keys,
            "customers": args.customers, "capacity": args.capacity,
            "hot_share_configured": args.hot_share,
            "hot_share_measured": requests["hot"] / total if total else 0.0,
            "requests": requests, "failures": failures,
            "requests_per_s": float(aggregated["Requests/s"]) if aggregated else 0.0}


def plot(rates: dict[str, Rates], args: argparse.Namespace, path: Path) -> None:
    """Requests/s (top) and failures/s (bottom) over time, hot and cold."""
    figure = Figure(figsize=(10, 6.5))
    FigureCanvasAgg(figure)  # Agg: draw to a file, no display
    served, failed = figure.subplots(2, 1, sharex=True)
    for group in ("all", "hot", "cold"):
        if group not in rates:
            continue
        series = rates[group]
        served.plot(series.seconds, series.requests_per_s, color=COLOURS[group], label=group)
        failed.plot(series.seconds, series.failures_per_s, color=COLOURS[group], label=group)
    served.set_ylabel("requests / s")
    served.set_title(f"{args.users} users; {args.hot_share:.0%} of requests on "
                     f"{args.hot_keys} of {args.customers} partition keys")
    failed.set_ylabel("failures / s (throttles)")
    failed.set_xlabel("seconds since start")
    worst = max((max(r.failures_per_s, default=0.0) for r in rates.values()), default=0.0)
    top = max(1.0, worst * 1.1)
    failed.set_ylim(-0.03 * top, top)  # lift the axis so a flat zero line stays visible
    served.set_ylim(bottom=0)
    for axis in (served, failed):
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize="small", loc="upper right")
    figure.suptitle("Hot keys under load (paper §4: partition throttling, §4.2 GAC)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
