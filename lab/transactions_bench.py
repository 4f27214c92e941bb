"""What does a transaction cost? TransactGetItems and TransactWriteItems beside GetItem and PutItem.

The ATC'23 paper compares transactions with the single-item operations on
the same service, at 100k requests/s (§5): a TransactGetItems takes a little
under twice a strongly consistent GetItem (it reads every item twice), and a
TransactWriteItems about four times a PutItem (two phases, each a replicated
write per item, plus the coordinator's ledger writes). This experiment asks
the same of `dynamo serve`, in one run, against one fresh server:

* GetItem (ConsistentRead) and PutItem of one 900-byte item (the paper's size);
* TransactGetItems and TransactWriteItems (Puts) of 1 item and of 3 items (the
  paper's transactions have 3 operations).

One client sends one request at a time, so each figure is a latency; the
operations take turns in short slices, round after round, so that the
machine's drift touches them all alike. It prints, for each, requests per
second and the median and 99th percentile milliseconds, and the ratios the
paper gives.

    python -m lab.transactions_bench                 # --in-memory, 3 rounds of 2 s slices
    python -m lab.transactions_bench --on-disk       # --data-dir: every log write fsynced
    python -m lab.transactions_bench --quick         # 1 round of 1 s slices

The figures and what they say are in docs/performance.md ("Transactions").
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from dynamo.cli.launch import start_server

TABLE = "bench-transactions"
ITEMS = 300
PAD = "x" * 880  # with its key, a 900-byte item


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lab.transactions_bench",
                                     description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--slice", type=float, default=2.0, help="seconds per operation per round")
    parser.add_argument("--on-disk", action="store_true", help="--data-dir instead of --in-memory")
    parser.add_argument("--quick", action="store_true", help="1 round of 1 s slices")
    args = parser.parse_args(argv)
    rounds, slice_s = (1, 1.0) if args.quick else (args.rounds, args.slice)
    storage = ["--data-dir", tempfile.mkdtemp(prefix="txbench-")] if args.on_disk \
        else ["--in-memory"]
    server = start_server(*storage)
    try:
        client = boto3.client("dynamodb", endpoint_url=server.url, region_name="us-east-1",
                              aws_access_key_id="AKIDLAB", aws_secret_access_key="secret",
                              config=Config(retries={"total_max_attempts": 1}))
        load(client)
        latencies = measure(operations(client), rounds, slice_s)
    finally:
        server.stop()
    report(latencies, " ".join(storage[:1]))


def load(client: Any) -> None:
    client.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        BillingMode="PAY_PER_REQUEST")
    for i in range(ITEMS):
        client.put_item(TableName=TABLE, Item=item(i))


def item(i: int) -> dict[str, Any]:
    return {"pk": {"S": f"k{i:05d}"}, "pad": {"S": PAD}}


def key(i: int) -> dict[str, Any]:
    return {"pk": {"S": f"k{i:05d}"}}


def operations(client: Any) -> dict[str, Callable[[int], Any]]:
    """Each measured operation, as a call on the n-th request."""
    def keys(n: int, count: int) -> list[int]:
        return [(n * count + j) % ITEMS for j in range(count)]

    return {
        "GetItem (consistent)": lambda n: client.get_item(
            TableName=TABLE, Key=key(n % ITEMS), ConsistentRead=True),
        "PutItem": lambda n: client.put_item(TableName=TABLE, Item=item(n % ITEMS)),
        "TransactGetItems, 1 item": lambda n: client.transact_get_items(TransactItems=[
            {"Get": {"TableName": TABLE, "Key": key(i)}} for i in keys(n, 1)]),
        "TransactGetItems, 3 items": lambda n: client.transact_get_items(TransactItems=[
            {"Get": {"TableName": TABLE, "Key": key(i)}} for i in keys(n, 3)]),
        "TransactWriteItems, 1 item": lambda n: client.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": item(i)}} for i in keys(n, 1)]),
        "TransactWriteItems, 3 items": lambda n: client.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": item(i)}} for i in keys(n, 3)]),
    }


def measure(calls: dict[str, Callable[[int], Any]], rounds: int,
            slice_s: float) -> dict[str, list[float]]:
    """Seconds per request of each operation, slices taking turns round after round."""
    latencies: dict[str, list[float]] = {name: [] for name in calls}
    n = 0
    for _ in range(rounds):
        for name, call in calls.items():
            end = time.perf_counter() + slice_s
            while (start := time.perf_counter()) < end:
                call(n)
                latencies[name].append(time.perf_counter() - start)
                n += 1
    return latencies


def report(latencies: dict[str, list[float]], storage: str) -> None:
    medians = {name: statistics.median(times) * 1000 for name, times in latencies.items()}
    print(f"one client, one request at a time, dynamo serve {storage}\n")
    print(f"{'operation':30} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for name, times in latencies.items():
        p99 = sorted(times)[int(len(times) * 0.99) - 1] * 1000
        print(f"{name:30} {len(times) / sum(times):8.0f} {medians[name]:8.2f} {p99:8.2f}")
    get, put = medians["GetItem (consistent)"], medians["PutItem"]
    print("\nmedian latency, as a multiple of the single-item operation (ATC'23: ~2x, ~4x)")
    for size in ("1 item", "3 items"):
        print(f"  TransactGetItems, {size}:   {medians[f'TransactGetItems, {size}'] / get:4.1f}x "
              f"GetItem;  TransactWriteItems, {size}: "
              f"{medians[f'TransactWriteItems, {size}'] / put:4.1f}x PutItem")


if __name__ == "__main__":
    main()
