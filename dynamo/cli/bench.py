"""`dynamo bench`: drive a DynamoDB endpoint and print throughput and latency.

A closed-loop load generator: N concurrent workers each send a signed request,
wait for the answer, and send the next, for a fixed duration. It reports
operations per second and latency percentiles (p50, p95, p99, max), the
figures the paper's evaluation reports for YCSB workloads (§7: 900-byte items,
uniform keys). It works against any endpoint that speaks DynamoDB's protocol —
`dynamo serve`, DynamoDB Local, dynalite — so figures compare like for like.

    dynamo bench --endpoint http://127.0.0.1:8000 --mix get --concurrency 32 --duration 10
    dynamo bench --target instant --concurrency 32     # the client's own ceiling

The client shares the machine with the server it measures, so it must cost
little per request, or the figures describe the client. Each worker owns one
keep-alive HTTP/1.1 connection (an asyncio protocol, no HTTP library); a
request's JSON body is a template serialised once with the key spliced in;
the SigV4 signing key is derived once a day and the date stamp once a second
(`dynamo.cli.sigv4`). `--target instant` runs it against a server that
answers at once (`dynamo.cli.bench_target`) and so shows how many operations
a second the client itself can drive.

Operations per second are the operations that completed inside the measured
window divided by that window's length as the clock measured it, not as
requested: on a loaded machine the two differ.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urlsplit

import orjson
import uvloop

from dynamo.cli.sigv4 import CONTENT_TYPE, Signer, amz_date

TARGET = "DynamoDB_20120810."
MIXES = {"get": 0.0, "put": 1.0, "mixed": 0.5}  # share of writes
KEY_SLOT = "\x00key\x00"  # where a request template takes its key


@dataclass
class BenchResult:
    """What one run measured."""

    mix: str
    concurrency: int
    duration_s: float  # the measured window, by the clock
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
    parser.add_argument("--target", choices=("endpoint", "instant"), default="endpoint",
                        help="instant: start a server that answers at once and measure the "
                             "client's own ceiling (--endpoint is ignored)")
    parser.add_argument("--mix", choices=sorted(MIXES), default="get")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds run but not measured")
    parser.add_argument("--keys", type=int, default=10_000, help="distinct keys, uniform")
    parser.add_argument("--item-bytes", type=int, default=900, help="payload per item (§7: 900)")
    parser.add_argument("--consistent", action="store_true",
                        help="strongly consistent GetItems (ConsistentRead): the leader serves "
                             "them; by default any replica may")
    parser.add_argument("--no-load", action="store_true",
                        help="do not load the keys first: an earlier run against this table did")
    parser.add_argument("--table", default="bench")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server-pid", type=int,
                        help="also report this process's CPU per operation and peak RSS (Linux)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    with _target(args):
        result = uvloop.run(run(args))  # the server's event loop too (docs/performance.md)
    if args.json:
        print(json.dumps(asdict(result)))
    else:
        print(format_result(result))
    return 0


@contextmanager
def _target(args: argparse.Namespace) -> Iterator[None]:
    """With `--target instant`, start the instant-answer server and point the run at it."""
    if args.target != "instant":
        yield
        return
    server = subprocess.Popen([sys.executable, "-m", "dynamo.cli.bench_target", "--port", "0"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        args.endpoint, args.server_pid = server.stdout.readline().strip(), server.pid
        yield
    finally:
        server.terminate()
        server.wait()


async def run(args: argparse.Namespace) -> BenchResult:
    url = urlsplit(args.endpoint)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    loop = asyncio.get_running_loop()
    try:
        connections = [(await loop.create_connection(Connection, host, port))[1]
                       for _ in range(args.concurrency)]
    except OSError as error:
        raise SystemExit(f"cannot connect to {args.endpoint}: {error}") from None
    try:
        requests = Requests(Signer("bench", "bench", args.region, url.netloc), url.netloc)
        workload = Workload(args.table, args.item_bytes, args.consistent)
        await _prepare(connections[0], requests, args)
        window = Window(loop.time() + args.warmup, args.duration, args.server_pid)
        workers = [_worker(connection, requests, workload, args, random.Random(args.seed * 1000 + i),
                           window) for i, connection in enumerate(connections)]
        await asyncio.gather(window.measure(), *workers)
    finally:
        for connection in connections:
            connection.close()
    return _summarise(args, window)


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection with one request in flight at a time.

    A response is complete when its head (up to the blank line) and
    Content-Length bytes of body have arrived; every DynamoDB endpoint sends
    Content-Length.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def send(self, request: bytes) -> asyncio.Future[tuple[int, bytes]]:
        """Write a whole request; the future resolves to (status, body)."""
        assert self.transport is not None and self.waiter is None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self.waiter

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return
        length = _content_length(self.buffer[:head_end])
        end = head_end + 4 + length
        if len(self.buffer) < end:
            return
        status, body = int(self.buffer[9:12]), self.buffer[head_end + 4:end]
        self.buffer = self.buffer[end:]
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((status, body))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("the server closed the connection"))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _content_length(head: bytes) -> int:
    lowered = head.lower()
    start = lowered.find(b"\r\ncontent-length:")
    if start < 0:
        raise ConnectionError("the server's response has no Content-Length")
    start += len(b"\r\ncontent-length:")
    end = lowered.find(b"\r\n", start)
    return int(lowered[start:] if end < 0 else lowered[start:end])


class Requests:
    """Builds whole signed HTTP requests, as bytes ready to write."""

    def __init__(self, signer: Signer, host: str) -> None:
        self.signer, self.host = signer, host
        self._second, self._stamp = 0, ""

    def build(self, operation: str, body: bytes) -> bytes:
        target = TARGET + operation
        stamp = self._date_stamp()
        authorization = self.signer.authorization(target, hashlib.sha256(body).hexdigest(), stamp)
        head = (f"POST / HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: {CONTENT_TYPE}\r\n"
                f"X-Amz-Target: {target}\r\nX-Amz-Date: {stamp}\r\n"
                f"Authorization: {authorization}\r\nContent-Length: {len(body)}\r\n\r\n")
        return head.encode() + body

    def _date_stamp(self) -> str:
        """X-Amz-Date, formatted once a second rather than once a request."""
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._stamp = amz_date(datetime.fromtimestamp(second, UTC))
        return self._stamp


class Workload:
    """The bench's request bodies: templates serialised once, a key spliced into each."""

    def __init__(self, table: str, item_bytes: int, consistent: bool = False) -> None:
        self.table, self.item_bytes = table, item_bytes
        get: dict[str, Any] = {"TableName": table, "Key": {"pk": {"S": KEY_SLOT}}}
        if consistent:
            get["ConsistentRead"] = True
        self._get = _template(get)
        self._put = _template({"TableName": table, "Item": _item(KEY_SLOT, item_bytes)})

    def get(self, key: int) -> bytes:
        return self._get[0] + b"user%08d" % key + self._get[1]

    def put(self, key: int) -> bytes:
        return self._put[0] + b"user%08d" % key + self._put[1]


def _template(request: dict) -> tuple[bytes, bytes]:  # type: ignore[type-arg]
    before, after = orjson.dumps(request).split(orjson.dumps(KEY_SLOT)[1:-1])
    return before, after


def _item(key: str, size: int) -> dict:  # type: ignore[type-arg]
    return {"pk": {"S": key}, "payload": {"S": "x" * size}}


async def _call(connection: Connection, requests: Requests, operation: str,
                request: dict) -> tuple[int, bytes]:  # type: ignore[type-arg]
    return await connection.send(requests.build(operation, orjson.dumps(request)))


async def _prepare(connection: Connection, requests: Requests,
                   args: argparse.Namespace) -> None:
    """Create the table if needed and load every key once (unless --no-load), so gets
    find items."""
    status, body = await _call(connection, requests, "CreateTable", {
        "TableName": args.table, "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]})
    if status != 200 and b"ResourceInUseException" not in body:
        raise SystemExit(f"cannot create table {args.table}: {body.decode(errors='replace')}")
    await _wait_active(connection, requests, args.table)
    if args.no_load:
        return
    print(f"loading {args.keys} items of {args.item_bytes} bytes ...", file=sys.stderr)
    for first in range(0, args.keys, 25):
        puts = [{"PutRequest": {"Item": _item(f"user{k:08d}", args.item_bytes)}}
                for k in range(first, min(first + 25, args.keys))]
        request = {"RequestItems": {args.table: puts}}
        while request["RequestItems"]:
            status, body = await _call(connection, requests, "BatchWriteItem", request)
            if status != 200:
                raise SystemExit(f"load failed: {body.decode(errors='replace')}")
            request = {"RequestItems": orjson.loads(body).get("UnprocessedItems", {})}


async def _wait_active(connection: Connection, requests: Requests, table: str) -> None:
    for _ in range(100):
        status, body = await _call(connection, requests, "DescribeTable", {"TableName": table})
        if status == 200 and orjson.loads(body)["Table"]["TableStatus"] == "ACTIVE":
            return
        await asyncio.sleep(0.1)
    raise SystemExit(f"table {table} did not become ACTIVE")


@dataclass
class Window:
    """The measured window: its bounds by the clock, what completed in it, the CPU spent.

    Workers record every completion with its time; only those inside the
    window, as `measure` observed its start and end, count. CPU time per
    operation hardly moves with the machine's load, unlike wall-clock
    throughput, so it is the figure to compare two builds or event loops
    with; the server's comes from /proc/PID/stat (Linux), when a pid is given.
    """

    starts_at: float  # loop time at which measuring begins
    duration: float
    server_pid: int | None
    done: list[float] = field(default_factory=list)  # completion times (perf_counter)
    latencies: list[float] = field(default_factory=list)
    failed: list[float] = field(default_factory=list)  # completion times of errors
    began: float = 0.0  # the window as measured (perf_counter)
    ended: float = 0.0
    client_s: float = 0.0
    server_s: float | None = None

    @property
    def stops_at(self) -> float:
        return self.starts_at + self.duration

    async def measure(self) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, self.starts_at - loop.time()))
        self.began = time.perf_counter()
        client0, server0 = time.process_time(), _cpu_seconds(self.server_pid)
        done_before = len(self.done)
        while (now := loop.time()) < self.stops_at:  # a line a second: a long run is alive
            await asyncio.sleep(min(1.0, self.stops_at - now))
            print(f"  {time.perf_counter() - self.began:5.1f} s  "
                  f"{len(self.done) - done_before:8d} ops", file=sys.stderr)
        self.ended = time.perf_counter()
        self.client_s = time.process_time() - client0
        server1 = _cpu_seconds(self.server_pid)
        if server0 is not None and server1 is not None:
            self.server_s = server1 - server0

    def counted(self) -> list[float]:
        """Latencies of the successful operations that completed inside the window."""
        return [latency for done, latency in zip(self.done, self.latencies, strict=True)
                if self.began <= done <= self.ended]

    def errors(self) -> int:
        return sum(1 for done in self.failed if self.began <= done <= self.ended)


async def _worker(connection: Connection, requests: Requests, workload: Workload,
                  args: argparse.Namespace, rng: random.Random, window: Window) -> None:
    loop = asyncio.get_running_loop()
    write_share, keys = MIXES[args.mix], args.keys
    done, latencies, failed = window.done, window.latencies, window.failed
    perf_counter = time.perf_counter
    while loop.time() < window.stops_at:
        key = rng.randrange(keys)
        if rng.random() < write_share:
            request = requests.build("PutItem", workload.put(key))
        else:
            request = requests.build("GetItem", workload.get(key))
        began = perf_counter()
        status, _body = await connection.send(request)
        finished = perf_counter()
        if status == 200:
            done.append(finished)
            latencies.append(finished - began)
        else:
            failed.append(finished)


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


def _summarise(args: argparse.Namespace, window: Window) -> BenchResult:
    ordered = sorted(window.counted())
    measured = window.ended - window.began

    def percentile(p: float) -> float:
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    return BenchResult(
        mix=args.mix, concurrency=args.concurrency, duration_s=measured,
        operations=len(ordered), errors=window.errors(),
        ops_per_s=len(ordered) / measured if measured > 0 else 0.0,
        p50_ms=percentile(0.50), p95_ms=percentile(0.95), p99_ms=percentile(0.99),
        max_ms=(ordered[-1] * 1000 if ordered else 0.0),
        client_cpu_us_per_op=_per_op(window.client_s, len(ordered)) or 0.0,
        server_cpu_us_per_op=_per_op(window.server_s, len(ordered)),
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
        f"mix={result.mix} concurrency={result.concurrency} measured={result.duration_s:.2f}s",
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
