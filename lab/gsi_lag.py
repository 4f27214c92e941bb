"""How far behind is a global secondary index? Propagation lag under write load (§2).

A global index is eventually consistent: a write is acknowledged once its own
partition has logged it, with its outbox row, and the index has it only once
the propagator has read the row and shipped it (`dynamo.indexes`). DynamoDB
says the delay is "normally a fraction of a second" (Developer Guide, "Global
secondary indexes: read consistency"); this experiment measures the lab's.

For each load level, W writer threads put items as fast as the server
acknowledges them (each write changes the item's index key), while a prober
writes an item with a fresh index key, then queries the index until the item
shows, and records how long that took after the acknowledgement: the lag a
reader sees. The server's own view (`/admin/state`: outbox rows waiting and
the age of the oldest) is sampled beside it.

    python -m lab.gsi_lag                              # about 30 s
    python -m lab.gsi_lag --writers 0 4 --duration 2 --out /tmp/gsi
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from lab.server import REPO, dynamo_server

NAME = "gsi_lag"
TABLE = "gsi_lag"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m lab.{NAME}", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", type=int, nargs="+", default=[0, 1, 4, 16],
                        help="closed-loop writer threads per run (default 0 1 4 16)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per run")
    parser.add_argument("--out", type=Path, default=REPO / "lab" / "out",
                        help="directory for the results (default lab/out)")
    parser.add_argument("--figure", type=Path, default=REPO / "docs" / "img" / "gsi-lag.png")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with dynamo_server(args.out / f"{NAME}.log") as server:
        client = _client(server.url)
        _create(client)
        runs = [measure(server.url, writers, args.duration) for writers in args.writers]
    (args.out / f"{NAME}.json").write_text(json.dumps(runs, indent=2))
    for run in runs:
        print(f"writers {run['writers']:3}: {run['writes_per_s']:7.0f} writes/s, lag p50 "
              f"{run['p50_ms']:6.1f} ms, p99 {run['p99_ms']:6.1f} ms, max {run['max_ms']:6.1f} "
              f"ms; outbox rows waiting at most {run['pending_max']}")
    draw(runs, args.figure)
    print(f"figure: {args.figure}")
    return 0


def measure(url: str, writers: int, duration: float) -> dict[str, Any]:
    """One load level: writers busy for `duration`, the prober timing the index."""
    stop = threading.Event()
    written = [0] * writers
    threads = [threading.Thread(target=_write, args=(url, i, written, stop))
               for i in range(writers)]
    for thread in threads:
        thread.start()
    client, lags, pending = _client(url), [], []
    started = time.monotonic()
    probe = 0
    while time.monotonic() - started < duration:
        probe += 1
        lags.append(_probe(client, f"probe-{writers}-{probe}"))
        pending.append(_state(url)["lag"]["pending"])
    stop.set()
    for thread in threads:
        thread.join()
    lags.sort()
    return {"writers": writers, "writes_per_s": sum(written) / duration, "probes": len(lags),
            "p50_ms": statistics.median(lags),
            "p99_ms": lags[min(len(lags) - 1, int(0.99 * len(lags)))], "max_ms": lags[-1],
            "pending_max": max(pending)}


def _write(url: str, writer: int, written: list[int], stop: threading.Event) -> None:
    client = _client(url)
    while not stop.is_set():
        n = written[writer]
        client.put_item(TableName=TABLE, Item={"id": {"S": f"w{writer}-{n % 100}"},
                                               "g": {"S": f"g{writer}-{n}"}})
        written[writer] += 1


def _probe(client: Any, key: str) -> float:
    """Write an item with a fresh index key; ms from the acknowledgement until the index
    shows it."""
    client.put_item(TableName=TABLE, Item={"id": {"S": key}, "g": {"S": key}})
    acknowledged = time.perf_counter()
    while True:
        found = client.query(TableName=TABLE, IndexName="by-g", KeyConditionExpression="g = :g",
                             ExpressionAttributeValues={":g": {"S": key}})
        if found["Count"]:
            return (time.perf_counter() - acknowledged) * 1000.0


def _state(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/admin/state") as response:
        return json.load(response)["indexes"][f"us-east-1/{TABLE}"]


def _client(url: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="AKIDLAB", aws_secret_access_key="secret",
                        config=Config(retries={"total_max_attempts": 1}))


def _create(client: Any) -> None:
    client.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-g", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}])


def draw(runs: list[dict[str, Any]], path: Path) -> None:
    """Lag percentiles against the write rate the writers achieved."""
    figure = Figure(figsize=(7, 4))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    rates = [run["writes_per_s"] for run in runs]
    for key, label in (("p50_ms", "p50"), ("p99_ms", "p99"), ("max_ms", "max")):
        axes.plot(rates, [run[key] for run in runs], marker="o", label=label)
    axes.set_xlabel("base-table writes per second (closed-loop writers)")
    axes.set_ylabel("propagation lag seen by a reader (ms)")
    axes.set_title("Global secondary index lag under write load")
    axes.grid(alpha=0.3)
    axes.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


if __name__ == "__main__":
    raise SystemExit(main())
