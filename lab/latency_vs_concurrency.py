"""Does latency stay flat as throughput grows? Latency and ops/s against concurrency.

The paper's evaluation (§7, Figs. 5 and 6) runs YCSB against DynamoDB at
100k to 1M operations per second and finds p50 and p99 read and write
latencies "identical even as the throughput of the workload is increased":
DynamoDB grows by adding partitions and nodes, so each request sees the same
path whatever the total load.

This experiment asks the same question of one `dynamo serve` process. It
starts a fresh in-memory server, then runs `dynamo bench` (a closed-loop
client: each of C workers sends its next request when the last one is
answered) for every concurrency C and mix (all GetItem, all PutItem of
900-byte items, uniform keys), and plots ops/s and p50/p99 latency against C.

What to expect on one process: while the server has idle time, ops/s grows
with C and latency stays flat — the paper's picture. Once the server is
saturated, ops/s stops growing and, by Little's law (C = X * W), latency
grows in proportion to C: the table's `C/X` column is that prediction. The
knee is where one process stops being enough and DynamoDB would add
partitions.

    python -m lab.latency_vs_concurrency                      # about 2 minutes
    python -m lab.latency_vs_concurrency --concurrency 1 4 16 --duration 2 --out /tmp/lat
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from lab.server import REPO, Server, endpoint

NAME = "latency_vs_concurrency"
COLUMNS = ("mix", "concurrency", "operations", "errors", "ops_per_s",
           "p50_ms", "p95_ms", "p99_ms", "max_ms", "server_peak_rss_mb")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m lab.{NAME}", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32],
                        help="closed-loop workers per run (default 1 2 4 8 16 32)")
    parser.add_argument("--mixes", nargs="+", choices=("get", "put", "mixed"),
                        default=["get", "put"], help="operation mixes (default get put)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds measured per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds run, not measured")
    parser.add_argument("--keys", type=int, default=2000, help="distinct keys, uniform")
    parser.add_argument("--item-bytes", type=int, default=900, help="item payload (§7: 900)")
    parser.add_argument("--endpoint", help="measure this endpoint instead of a fresh server")
    parser.add_argument("--out", type=Path, default=REPO / "lab" / "out",
                        help="directory for the results (default lab/out)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with endpoint(args.endpoint, args.out / f"{NAME}.server.log") as server:
        print(f"endpoint {server.url}; {len(args.mixes) * len(args.concurrency)} runs of "
              f"{args.warmup:g}+{args.duration:g} s", flush=True)
        results = sweep(server, args)
    print()
    print(format_table(results))
    paths = write_results(results, args.out)
    plot(results, args.out / f"{NAME}.png")
    print(f"\nwrote {', '.join(str(p) for p in paths)} and {args.out / (NAME + '.png')}")
    return 0


def sweep(server: Server, args: argparse.Namespace) -> list[dict[str, Any]]:
    """One `dynamo bench` run per (mix, concurrency), printing each as it finishes."""
    runs = [(mix, c) for mix in args.mixes for c in args.concurrency]
    results = []
    for index, (mix, concurrency) in enumerate(runs, start=1):
        print(f"[{index:2d}/{len(runs)}] mix={mix:<5} concurrency={concurrency:<3} ...",
              end=" ", flush=True)
        result = run_bench(server, mix, concurrency, args)
        results.append(result)
        print(f"{result['ops_per_s']:8.0f} ops/s  p50 {result['p50_ms']:6.2f} ms  "
              f"p99 {result['p99_ms']:6.2f} ms  errors {result['errors']}", flush=True)
    return results


def run_bench(server: Server, mix: str, concurrency: int,
              args: argparse.Namespace) -> dict[str, Any]:
    """Run the `dynamo bench` command once and return its JSON result."""
    command = [sys.executable, "-m", "dynamo.cli.main", "bench", "--endpoint", server.url,
               "--mix", mix, "--concurrency", str(concurrency),
               "--duration", str(args.duration), "--warmup", str(args.warmup),
               "--keys", str(args.keys), "--item-bytes", str(args.item_bytes),
               "--table", f"lab_{mix}", "--json"]
    if server.pid is not None:
        command += ["--server-pid", str(server.pid)]
    completed = subprocess.run(command, capture_output=True, text=True, cwd=REPO,
                               timeout=args.warmup + args.duration + 300)
    if completed.returncode != 0:
        raise RuntimeError(f"dynamo bench failed ({completed.returncode}):\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def format_table(results: list[dict[str, Any]]) -> str:
    """The results as a fixed-width table; C/X is Little's law's mean latency."""
    lines = [f"{'mix':<6}{'C':>4}{'ops/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
             f"{'C/X ms':>9}{'errors':>8}"]
    for r in results:
        little = 1000 * r["concurrency"] / r["ops_per_s"] if r["ops_per_s"] else float("nan")
        lines.append(f"{r['mix']:<6}{r['concurrency']:>4}{r['ops_per_s']:>10.0f}"
                     f"{r['p50_ms']:>9.2f}{r['p95_ms']:>9.2f}{r['p99_ms']:>9.2f}"
                     f"{little:>9.2f}{r['errors']:>8}")
    return "\n".join(lines)


def write_results(results: list[dict[str, Any]], out: Path) -> list[Path]:
    """The results as JSON (every field bench reported) and as CSV (the main columns)."""
    json_path, csv_path = out / f"{NAME}.json", out / f"{NAME}.csv"
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    with open(csv_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(results)
    return [json_path, csv_path]


def plot(results: list[dict[str, Any]], path: Path) -> None:
    """Three panels: ops/s vs C, latency vs C, and latency vs ops/s (the paper's axes)."""
    # The Agg canvas draws to a file; no display, no pyplot global state.
    figure = Figure(figsize=(15, 4.5))
    FigureCanvasAgg(figure)
    rate, latency, curve = figure.subplots(1, 3)
    for mix in dict.fromkeys(r["mix"] for r in results):
        runs = sorted((r for r in results if r["mix"] == mix), key=lambda r: r["concurrency"])
        c = [r["concurrency"] for r in runs]
        ops = [r["ops_per_s"] for r in runs]
        p50 = [r["p50_ms"] for r in runs]
        p99 = [r["p99_ms"] for r in runs]
        line, = rate.plot(c, ops, marker="o", label=mix)
        colour = line.get_color()
        latency.plot(c, p50, marker="o", color=colour, label=f"{mix} p50")
        latency.plot(c, p99, marker="s", linestyle="--", color=colour, label=f"{mix} p99")
        # Points, not lines: on a busy machine ops/s need not rise with C, and a line
        # joining the runs in order of C would zigzag.
        curve.plot(ops, p50, marker="o", linestyle="none", color=colour, label=f"{mix} p50")
        for x, y, workers in zip(ops, p50, c, strict=True):
            curve.annotate(f"C={workers}", (x, y), textcoords="offset points", xytext=(4, -10),
                           fontsize="x-small", color=colour)
        curve.plot(ops, p99, marker="s", linestyle="none", color=colour, fillstyle="none",
                   label=f"{mix} p99")
    ticks = sorted({r["concurrency"] for r in results})
    for axis in (rate, latency):
        axis.set_xscale("log", base=2)
        axis.set_xticks(ticks, [str(t) for t in ticks])
        axis.set_xlabel("concurrency (closed-loop workers)")
    rate.set_ylabel("operations / s")
    rate.set_title("Throughput")
    latency.set_ylabel("latency (ms)")
    latency.set_title("Latency")
    curve.set_xlabel("operations / s")
    curve.set_ylabel("latency (ms)")
    curve.set_title("Latency vs throughput (cf. paper Figs. 5, 6)")
    for axis in (rate, latency, curve):
        axis.set_ylim(bottom=0)
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize="small")
    figure.suptitle("dynamo serve, one process: 900-byte items, uniform keys (§7)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
