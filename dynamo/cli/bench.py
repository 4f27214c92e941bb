"""`dynamo bench`: drive a DynamoDB endpoint and print throughput and latency.

A closed-loop load generator: N concurrent workers each send a signed request,
wait for the answer, and send the next, for a fixed duration. It reports
operations per second and latency percentiles (p50, p95, p99, max), the
figures the paper's evaluation reports for YCSB workloads (§7: 900-byte items,
uniform keys). It works against any endpoint that speaks DynamoDB's protocol —
`dynamo serve`, DynamoDB Local, dynalite — so figures compare like for like.

    dynamo bench --endpoint http://127.0.0.1:8000 --mix get --concurrency 32 --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

import aiohttp
import orjson
import uvloop

from dynamo.cli.sigv4 import Signer

TARGET = "DynamoDB_20120810."
MIXES = {"get": 0.0, "put": 1.0, "mixed": 0.5}  # share of writes


@dataclass
class BenchResult:
    """What one run measured."""

    mix: str
    concurrency: int
    duration_s: float
    operations: int
    errors: int
    ops_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    client_cpu_us_per_op: float = 0.0
    server_cpu_us_per_op: float | None = None
    server_peak_rss_mb: float | None = None


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("bench", help="measure ops/s and latency of an endpoint",
                                   description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", default="http://127.0.0.1:8000")
    parser.add_argument("--mix", choices=sorted(MIXES), default="get")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds run but not measured")
    parser.add_argument("--keys", type=int, default=10_000, help="distinct keys, uniform")
    parser.add_argument("--item-bytes", type=int, default=900, help="payload per item (§7: 900)")
    parser.add_argument("--table", default="bench")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server-pid", type=int,
                        help="also report this process's CPU per operation and peak RSS (Linux)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    result = uvloop.run(run(args))  # the server's event loop too (docs/performance.md)
    if args.json:
        print(json.dumps(asdict(result)))
    else:
        print(format_result(result))
    return 0


async def run(args: argparse.Namespace) -> BenchResult:
    url = args.endpoint.rstrip("/") + "/"
    signer = Signer("bench", "bench", args.region, urlsplit(url).netloc)
    connector = aiohttp.TCPConnector(limit=args.concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        call = _Caller(session, url, signer)
        await _prepare(call, args)
        latencies: list[float] = []
        errors = [0]
        loop = asyncio.get_running_loop()
        start = loop.time()
        measure_from = start + args.warmup
        stop_at = measure_from + args.duration
        workers = [_worker(call, args, random.Random(args.seed * 1000 + i), measure_from,
                           stop_at, latencies, errors) for i in range(args.concurrency)]
        cpu = _CpuWindow(args.server_pid)
        await asyncio.gather(_progress(latencies, measure_from, stop_at),
                             cpu.measure(measure_from, stop_at), *workers)
    return _summarise(args, latencies, errors[0], cpu)


class _Caller:
    """Sends one signed DynamoDB request and returns (status, body)."""

    def __init__(self, session: aiohttp.ClientSession, url: str, signer: Signer) -> None:
        self.session, self.url, self.signer = session, url, signer

    async def __call__(self, operation: str, request: dict) -> tuple[int, bytes]:  # type: ignore[type-arg]
        body = orjson.dumps(request)
        headers = self.signer.headers(TARGET + operation, body)
        async with self.session.post(self.url, data=body, headers=headers) as response:
            return response.status, await response.read()


async def _prepare(call: _Caller, args: argparse.Namespace) -> None:
    """Create the table if needed and load every key once, so gets find items."""
    status, body = await call("CreateTable", {
        "TableName": args.table, "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]})
    if status != 200 and b"ResourceInUseException" not in body:
        raise SystemExit(f"cannot create table {args.table}: {body.decode(errors='replace')}")
    await _wait_active(call, args.table)
    print(f"loading {args.keys} items of {args.item_bytes} bytes ...", file=sys.stderr)
    for first in range(0, args.keys, 25):
        puts = [{"PutRequest": {"Item": _item(k, args.item_bytes)}}
                for k in range(first, min(first + 25, args.keys))]
        request = {"RequestItems": {args.table: puts}}
        while request["RequestItems"]:
            status, body = await call("BatchWriteItem", request)
            if status != 200:
                raise SystemExit(f"load failed: {body.decode(errors='replace')}")
            request = {"RequestItems": orjson.loads(body).get("UnprocessedItems", {})}


async def _wait_active(call: _Caller, table: str) -> None:
    for _ in range(100):
        status, body = await call("DescribeTable", {"TableName": table})
        if status == 200 and orjson.loads(body)["Table"]["TableStatus"] == "ACTIVE":
            return
        await asyncio.sleep(0.1)
    raise SystemExit(f"table {table} did not become ACTIVE")


def _item(key: int, size: int) -> dict:  # type: ignore[type-arg]
    return {"pk": {"S": f"user{key:08d}"}, "payload": {"S": "x" * size}}


async def _worker(call: _Caller, args: argparse.Namespace, rng: random.Random,
                  measure_from: float, stop_at: float, latencies: list[float],
                  errors: list[int]) -> None:
    loop = asyncio.get_running_loop()
    write_share = MIXES[args.mix]
    while (now := loop.time()) < stop_at:
        key = rng.randrange(args.keys)
        if rng.random() < write_share:
            operation, request = "PutItem", {"TableName": args.table,
                                             "Item": _item(key, args.item_bytes)}
        else:
            operation, request = "GetItem", {"TableName": args.table,
                                             "Key": {"pk": {"S": f"user{key:08d}"}}}
        began = time.perf_counter()
        status, _body = await call(operation, request)
        elapsed = time.perf_counter() - began
        if now >= measure_from:
            if status == 200:
                latencies.append(elapsed)
            else:
                errors[0] += 1


async def _progress(latencies: list[float], measure_from: float, stop_at: float) -> None:
    """One line a second on stderr, so a long run shows it is alive."""
    loop = asyncio.get_running_loop()
    while (now := loop.time()) < stop_at:
        await asyncio.sleep(min(1.0, stop_at - now))
        if now >= measure_from:
            elapsed = max(loop.time() - measure_from, 1e-9)
            print(f"  {elapsed:5.1f} s  {len(latencies):8d} ops  {len(latencies) / elapsed:8.0f} ops/s",
                  file=sys.stderr)


class _CpuWindow:
    """CPU seconds spent by this client and by the server during the measured window.

    CPU time per operation hardly moves with the machine's load, unlike wall-clock
    throughput, so it is the figure to compare two builds or event loops with.
    The server's comes from /proc/PID/stat (Linux), when --server-pid is given.
    """

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid
        self.client_s = 0.0
        self.server_s: float | None = None

    async def measure(self, start: float, stop: float) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, start - loop.time()))
        client0, server0 = time.process_time(), _cpu_seconds(self.server_pid)
        await asyncio.sleep(max(0.0, stop - loop.time()))
        self.client_s = time.process_time() - client0
        server1 = _cpu_seconds(self.server_pid)
        if server0 is not None and server1 is not None:
            self.server_s = server1 - server0


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of a process, from /proc/PID/stat."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # after the command name: state is field 3, utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _summarise(args: argparse.Namespace, latencies: list[float], errors: int,
               cpu: _CpuWindow) -> BenchResult:
    ordered = sorted(latencies)

    def percentile(p: float) -> float:
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    return BenchResult(
        mix=args.mix, concurrency=args.concurrency, duration_s=args.duration,
        operations=len(ordered), errors=errors, ops_per_s=len(ordered) / args.duration,
        p50_ms=percentile(0.50), p95_ms=percentile(0.95), p99_ms=percentile(0.99),
        max_ms=(ordered[-1] * 1000 if ordered else 0.0),
        client_cpu_us_per_op=_per_op(cpu.client_s, len(ordered)) or 0.0,
        server_cpu_us_per_op=_per_op(cpu.server_s, len(ordered)),
        server_peak_rss_mb=_peak_rss_mb(args.server_pid) if args.server_pid else None)


def _per_op(seconds: float | None, operations: int) -> float | None:
    if seconds is None or operations == 0:
        return None
    return seconds / operations * 1e6


def _peak_rss_mb(pid: int) -> float | None:
    """VmHWM of a process: its peak resident memory (Linux)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def format_result(result: BenchResult) -> str:
    lines = [
        f"mix={result.mix} concurrency={result.concurrency} duration={result.duration_s:.0f}s",
        f"  ops/s   {result.ops_per_s:10.0f}   ({result.operations} ok, {result.errors} errors)",
        f"  latency p50 {result.p50_ms:.2f} ms  p95 {result.p95_ms:.2f} ms  "
        f"p99 {result.p99_ms:.2f} ms  max {result.max_ms:.2f} ms",
    ]
    cpu = f"  CPU per operation: client {result.client_cpu_us_per_op:.0f} us"
    if result.server_cpu_us_per_op is not None:
        cpu += f", server {result.server_cpu_us_per_op:.0f} us"
    lines.append(cpu)
    if result.server_peak_rss_mb is not None:
        lines.append(f"  server peak RSS {result.server_peak_rss_mb:.1f} MB")
    return "\n".join(lines)
