"""`dynamo wal-bench`: appends/s and p50/p99 append latency of the write-ahead log, with group
commit and with one fsync per record, at several concurrencies (DynamoDB ATC'22 §5.1).

    dynamo wal-bench                                  # concurrency 1, 8, 64; 3 s per run
    dynamo wal-bench --seconds 5 --json docs/img/wal-bench.json --plot docs/img/wal-group-commit.png

The log is written in a temporary directory under --dir (default: the system's),
so the figures are those of that file system's fsync.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dynamo.wal.bench import MODES, as_json, format_table, plot, run_benchmark, speedups


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `wal-bench` subcommand."""
    parser = subparsers.add_parser(
        "wal-bench", help="measure the write-ahead log: group commit vs fsync per record",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", default="1,8,64", help="comma-separated client counts")
    parser.add_argument("--modes", default="group,per-record", help=f"comma-separated, of {MODES}")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per run")
    parser.add_argument("--payload-bytes", type=int, default=256, help="bytes per record")
    parser.add_argument("--dir", type=Path, default=None, help="where the logs are written")
    parser.add_argument("--json", type=Path, default=None, help="save the figures as JSON")
    parser.add_argument("--plot", type=Path, default=None, help="save a PNG plot")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    modes = [m for m in args.modes.split(",") if m]
    unknown = set(modes) - set(MODES)
    if unknown:
        raise SystemExit(f"unknown mode(s) {sorted(unknown)}; choose from {MODES}")
    concurrencies = [int(c) for c in args.concurrency.split(",") if c]
    results = run_benchmark(concurrencies, modes, args.seconds, args.payload_bytes, args.dir)
    print(format_table(results))
    for concurrency, ratio in speedups(results).items():
        print(f"group commit at concurrency {concurrency}: {ratio}x fsync-per-record throughput")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(as_json(results), indent=2) + "\n")
    if args.plot:
        plot(results, args.plot)
        print(f"plot saved to {args.plot}")
    return 0
