"""What do partitions cost? `dynamo bench` on a table of 16+ partitions beside one partition.

A DynamoDB table is divided into partitions, each a replication group of
three replicas with a leader elected by Multi-Paxos, which keeps its
leadership with leases and heartbeats (§3); a partition splits once it grows
past its size limit (§4, §4.4). The paper scales out by placing those groups on
many storage nodes. `dynamo serve` runs three storage nodes in one Python
process, so every partition's replicas, heartbeats and leases share the same
two cores: this experiment measures what that costs a client.

For each round it starts two fresh servers, one after the other:

* one partition: `dynamo serve --in-memory --split-rate 0` (the default split
  size is DynamoDB's 10 GB, so the bench's table never splits);
* partitioned: `dynamo serve --in-memory --split-size 524288 --split-rate 0`
  (the bench's 9 MB load splits the table into 16 partitions or more).

`--split-rate 0` turns off split for consumption on both, so that the bench's
own traffic cannot split either table while it is measured: the partition
count is the one thing that differs. Each server is loaded by `dynamo bench`
(10,000 items of 900 bytes), left to settle (GET /admin/state until the
table's partition count has not changed for `--settle` seconds, every
partition has a leader and split parents' replicas are gone), measured idle
for `--idle` seconds (its CPU with no request at all), then measured by
`dynamo bench --no-load` for each mix at `--concurrency` 32. The two servers
take turns, in the opposite order each round, because this machine's speed
drifts: compare a round's pair, not single figures.

    python -m lab.partition_bench                 # 3 rounds, get put mixed: about 3.5 minutes
    python -m lab.partition_bench --on-disk       # --data-dir (fsynced log): 7 minutes or more
    python -m lab.partition_bench --quick         # 1 round, 2 s runs, 1,000 keys: about 25 s

`--compare admission` asks a different question with the same machinery: what
admission control costs on the request path (§4). It compares one partition
served with `--admission off` against the same with `--admission gac` (the
default: the router's GAC tokens, the storage node's partition and node
buckets) and `--admission bursting` (the storage node's buckets alone). The
bench's table is on-demand and its load fits in a partition's burst capacity, so
nothing is throttled; the difference is the cost of admitting and charging. (Not
`static`: with no burst, one partition's 1,000 WCU cap throttles the load itself.)

The figures and what they say are in docs/performance.md ("A partitioned table").
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dynamo.cli.launch import Server, running_server
from lab.server import REPO

NAME = "partition_bench"
TABLE = "bench"
REGION = "us-east-1"
# One round, short runs, a small load and a split size that still divides it
# into several partitions: the smoke test's settings (explicit flags still win).
QUICK = {"rounds": 1, "duration": 2.0, "warmup": 0.5, "keys": 1000, "split_size": 131072,
         "mixes": ["get", "put"], "settle": 1.0, "idle": 1.0}
POLL_S = 0.25
SETTLE_TIMEOUT_S = 120.0
# A load whose BatchWriteItem is answered with an error is run again (it only puts the
# same items again), and the failure is printed and counted: on disk, splitting under
# the load has deposed leaders, and a write caught by that is a 500 (an outcome unknown).
LOAD_ATTEMPTS = 10


@dataclass(frozen=True)
class Setup:
    """One of the two servers compared: a name and its `dynamo serve` arguments."""

    name: str
    serve_args: tuple[str, ...]


@dataclass
class Boot:
    """What one server did before it was measured: its load, its settling, its idle CPU."""

    round: int
    server: str
    partitions: int
    leaders: dict[str, int]  # partitions led by each storage node
    load_s: float  # every attempt's time, failed ones included
    failed_loads: int
    settle_s: float
    idle_cpu_pct: float  # of one core, with no request in flight
    deposed_loading: int  # leaders that stepped down while the table was loaded and split
    deposed_measured: int  # ... and while the mixes were measured


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m lab.{NAME}", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--mixes", nargs="+", choices=("get", "put", "mixed"),
                        default=["get", "put", "mixed"], help="operation mixes")
    parser.add_argument("--concurrency", type=int, default=32, help="closed-loop workers")
    parser.add_argument("--duration", type=float, default=4.0, help="seconds measured per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds run, not measured")
    parser.add_argument("--keys", type=int, default=10_000, help="items loaded, keys used")
    parser.add_argument("--item-bytes", type=int, default=900, help="item payload (§7: 900)")
    parser.add_argument("--split-size", type=int, default=524288, metavar="BYTES",
                        help="the partitioned server's --split-size (default 512 KiB)")
    parser.add_argument("--settle", type=float, default=2.0,
                        help="seconds the partition count must hold still after the load")
    parser.add_argument("--idle", type=float, default=2.0,
                        help="seconds the settled server's idle CPU is measured")
    parser.add_argument("--on-disk", action="store_true",
                        help="each server with a fresh --data-dir (fsynced write-ahead log) "
                             "instead of --in-memory")
    parser.add_argument("--compare", choices=("partitions", "admission"), default="partitions",
                        help="what the servers differ in: the partition count (default), or "
                             "admission control off, gac and bursting")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: " + ", ".join(f"{k}={v}" for k, v in QUICK.items()))
    parser.add_argument("--out", type=Path, default=REPO / "lab" / "out",
                        help="directory for the results and server logs (default lab/out)")
    args = parser.parse_args(argv)
    if args.quick:
        parser.set_defaults(**QUICK)
        args = parser.parse_args(argv)
    return args


def setups(args: argparse.Namespace) -> list[Setup]:
    if args.compare == "admission":
        return [Setup(f"admission-{era}", ("--split-rate", "0", "--admission", era))
                for era in ("off", "gac", "bursting")]
    return [Setup("one-partition", ("--split-rate", "0")),
            Setup("partitioned", ("--split-size", str(args.split_size), "--split-rate", "0"))]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    storage = "on disk (--data-dir)" if args.on_disk else "in memory"
    print(f"{args.rounds} round(s), {storage}; {args.keys:,} items of {args.item_bytes} bytes; "
          f"mixes {' '.join(args.mixes)} at concurrency {args.concurrency}, "
          f"{args.warmup:g}+{args.duration:g} s each", flush=True)
    boots: list[Boot] = []
    runs: list[dict[str, Any]] = []
    for round_ in range(1, args.rounds + 1):
        order = setups(args) if round_ % 2 else setups(args)[::-1]
        for setup in order:
            boot, results = measure_server(round_, setup, args)
            boots.append(boot)
            runs += results
    print()
    print(format_boots(boots))
    print()
    print(format_runs(runs))
    print()
    print(format_summary(runs, args.mixes, [setup.name for setup in setups(args)]))
    path = args.out / f"{NAME}.json"
    path.write_text(json.dumps({"storage": storage, "settings": vars(args) | {"out": str(args.out)},
                                "servers": [asdict(b) for b in boots], "runs": runs}, indent=2))
    print(f"\nwrote {path}")
    return 0


def measure_server(round_: int, setup: Setup, args: argparse.Namespace
                   ) -> tuple[Boot, list[dict[str, Any]]]:
    """Start one server, load it, let it settle, then bench every mix against it."""
    print(f"[round {round_}/{args.rounds}] {setup.name}: dynamo serve "
          f"{' '.join(setup.serve_args)}", flush=True)
    with tempfile.TemporaryDirectory(prefix="dynamo-partition-bench-") as data:
        storage = ("--data-dir", data) if args.on_disk else ("--in-memory",)
        log = args.out / f"{NAME}.{setup.name}.server.log"
        with running_server(*storage, *setup.serve_args, log_path=log, timeout=60) as server:
            load_s, failed_loads = load(server, args)
            print(f"  loaded {args.keys:,} items in {load_s:.1f} s", flush=True)
            partitions, leaders, settle_s = settle(server.url, args.settle)
            deposed = count_events(server.url, "stepped_down")
            print(f"  settled in {settle_s:.1f} s: {partitions} partition(s), leaders "
                  + " ".join(f"{n}:{c}" for n, c in sorted(leaders.items())), flush=True)
            idle = idle_cpu_pct(server.pid, args.idle)
            print(f"  idle: {idle:.1f} % of a core", flush=True)
            boot = Boot(round_, setup.name, partitions, leaders, round(load_s, 2),
                        failed_loads, round(settle_s, 2), round(idle, 1), deposed, 0)
            results = []
            for mix in args.mixes:
                result = bench(server, args, mix, load=False)
                result |= {"round": round_, "server": setup.name, "partitions": partitions,
                           "load_avg": os.getloadavg()[0]}
                results.append(result)
                print(f"  {mix:<5} {result['ops_per_s']:8,.0f} ops/s  p50 {result['p50_ms']:6.2f}"
                      f" ms  p99 {result['p99_ms']:6.2f} ms  server "
                      f"{result['server_cpu_us_per_op'] or 0:4.0f} µs/op  errors "
                      f"{result['errors']}", flush=True)
            boot.deposed_measured = count_events(server.url, "stepped_down") - deposed
            after = count_partitions(fetch_state(server.url))
            if after != partitions:  # the comparison assumes a fixed count
                raise RuntimeError(f"{setup.name}: the table went from {partitions} to "
                                   f"{after} partitions while it was measured")
    return boot, results


def bench(server: Server, args: argparse.Namespace, mix: str, *, load: bool) -> dict[str, Any]:
    """Run `dynamo bench` once: with `load`, only create the table and load the items."""
    command = [sys.executable, "-m", "dynamo.cli.main", "bench", "--endpoint", server.url,
               "--mix", mix, "--keys", str(args.keys), "--item-bytes", str(args.item_bytes),
               "--table", TABLE, "--region", REGION, "--json"]
    if load:
        command += ["--concurrency", "1", "--duration", "0", "--warmup", "0"]
    else:
        command += ["--no-load", "--concurrency", str(args.concurrency),
                    "--duration", str(args.duration), "--warmup", str(args.warmup),
                    "--server-pid", str(server.pid)]
    completed = subprocess.run(command, capture_output=True, text=True, cwd=REPO,
                               timeout=args.warmup + args.duration + 600)
    if completed.returncode != 0:
        raise RuntimeError(f"dynamo bench failed ({completed.returncode}):\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def load(server: Server, args: argparse.Namespace) -> tuple[float, int]:
    """Create the table and load every item; the seconds it took and the failed attempts."""
    began = time.monotonic()
    for failed in range(LOAD_ATTEMPTS):
        try:
            bench(server, args, "get", load=True)
            return time.monotonic() - began, failed
        except RuntimeError as error:
            print(f"  attempt {failed + 1}: {str(error).strip().splitlines()[-1][:160]}",
                  flush=True)
    raise RuntimeError(f"the load failed {LOAD_ATTEMPTS} times")


def count_events(url: str, kind: str) -> int:
    """How many events of `kind` the server has logged (GET /admin/events)."""
    with urllib.request.urlopen(f"{url}/admin/events", timeout=10) as answer:
        return sum(json.loads(line)["kind"] == kind for line in answer.read().splitlines())


def fetch_state(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/admin/state", timeout=10) as answer:
        return json.loads(answer.read())


def table_partitions(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in state["partitions"] if p["table"] == f"{REGION}/{TABLE}"]


def count_partitions(state: dict[str, Any]) -> int:
    return len(table_partitions(state))


def settled(state: dict[str, Any]) -> bool:
    """Every partition has a leader, and the nodes host no replica beyond the map's:
    retired split parents have been removed."""
    partitions = table_partitions(state)
    hosted = sum(node["replicas"] for node in state["nodes"])
    return (all(p["leader"] is not None for p in partitions)
            and hosted == sum(len(p["replicas"]) for p in partitions))


def settle(url: str, hold_s: float) -> tuple[int, dict[str, int], float]:
    """Poll the state until the partition count has held for `hold_s` and `settled` is true;
    the count, the partitions each node leads, and how long it took."""
    began = time.monotonic()
    count, since = -1, began
    while True:
        state = fetch_state(url)
        now = time.monotonic()
        if count_partitions(state) != count:
            count, since = count_partitions(state), now
        if now - since >= hold_s and settled(state):
            leaders = Counter(p["leader"] for p in table_partitions(state))
            return count, dict(leaders), now - began
        if now - began > SETTLE_TIMEOUT_S:
            raise RuntimeError(f"the table did not settle within {SETTLE_TIMEOUT_S:.0f} s")
        time.sleep(POLL_S)


def idle_cpu_pct(pid: int, seconds: float) -> float:
    """The server's CPU time over `seconds` with no request, as a percentage of one core:
    what its replicas' heartbeats, leases and periodic checks cost on their own."""
    cpu0, wall0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return 100 * (cpu_seconds(pid) - cpu0) / (time.monotonic() - wall0)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc/PID/stat (Linux)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def format_boots(boots: list[Boot]) -> str:
    """Each server's load and settling; deposed: leaders that stepped down while loading,
    then while measured."""
    lines = [f"{'round':>5}  {'server':<14}{'partitions':>11}{'load s':>8}{'failed':>8}"
             f"{'settle s':>10}{'idle CPU %':>12}{'deposed':>9}  leaders"]
    for b in boots:
        leaders = " ".join(f"{n}:{c}" for n, c in sorted(b.leaders.items()))
        deposed = f"{b.deposed_loading}/{b.deposed_measured}"
        lines.append(f"{b.round:>5}  {b.server:<14}{b.partitions:>11}{b.load_s:>8.1f}"
                     f"{b.failed_loads:>8}{b.settle_s:>10.1f}{b.idle_cpu_pct:>12.1f}"
                     f"{deposed:>9}  {leaders}")
    return "\n".join(lines)


def format_runs(runs: list[dict[str, Any]]) -> str:
    """Every run, in the order it ran: the table the smoke test reads."""
    lines = [f"{'round':>5}  {'mix':<6}{'server':<14}{'partitions':>11}{'ops/s':>9}"
             f"{'p50 ms':>9}{'p99 ms':>9}{'server µs/op':>14}{'client µs/op':>14}"
             f"{'peak RSS MB':>13}{'load avg':>10}"]
    for r in runs:
        lines.append(f"{r['round']:>5}  {r['mix']:<6}{r['server']:<14}{r['partitions']:>11}"
                     f"{r['ops_per_s']:>9.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}"
                     f"{r['server_cpu_us_per_op'] or 0:>14.0f}{r['client_cpu_us_per_op']:>14.0f}"
                     f"{r['server_peak_rss_mb'] or 0:>13.0f}{r['load_avg']:>10.2f}")
    return "\n".join(lines)


def format_summary(runs: list[dict[str, Any]], mixes: list[str], names: list[str]) -> str:
    """Per mix and server: medians over the rounds, and each server ÷ the first (the
    baseline), round by round."""
    base = names[0]
    lines = [f"median over rounds; ops/s ÷ {base}'s, per round",
             f"{'mix':<6}{'server':<20}{'ops/s':>9}{'µs/op':>8}  ops/s ratio per round"]
    for mix in mixes:
        by_round = {r["round"]: r for r in runs if r["mix"] == mix and r["server"] == base}
        for name in names:
            mine = [r for r in runs if r["mix"] == mix and r["server"] == name]
            ratios = [r["ops_per_s"] / by_round[r["round"]]["ops_per_s"] for r in mine
                      if by_round[r["round"]]["ops_per_s"]]
            lines.append(f"{mix:<6}{name:<20}{median(mine, 'ops_per_s'):>9.0f}"
                         f"{median(mine, 'server_cpu_us_per_op'):>8.0f}  "
                         + ("" if name == base else ", ".join(f"{x:.2f}" for x in ratios)))
    return "\n".join(lines)


def median(runs: list[dict[str, Any]], field: str) -> float:
    values = [r[field] for r in runs if r[field] is not None]
    return statistics.median(values) if values else 0.0


if __name__ == "__main__":
    sys.exit(main())
