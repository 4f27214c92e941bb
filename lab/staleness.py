"""How stale is an eventually consistent read? Strong and eventual reads under a writer.

DynamoDB serves a strongly consistent read from the partition's leader, under
its lease, and an eventually consistent one from any of the three replicas,
which "might not reflect the results of a recently completed write"; copies
converge "usually within one second or less" (§3; Developer Guide, Read
consistency). `dynamo serve` does the same: its router sends `ConsistentRead`
reads to the leader and the others to a random replica.

This experiment measures it. One writer overwrites one item with versions
1, 2, 3, ... as fast as the server acknowledges them. Readers read the item,
strongly or eventually, and compare the version they got with the newest
version acknowledged *before the read began*: a read that returns an older one
is stale, by that many versions. A strong read must never be stale (that is
linearizability, which the simulator checks too); an eventual read may be.

    python -m lab.staleness                       # 10 s, in memory
    python -m lab.staleness --duration 3 --on-disk --out /tmp/stale
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dynamo.cli.launch import running_server
from lab.server import REPO, dynamo_server

NAME = "staleness"
TABLE = "staleness"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m lab.{NAME}", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of reading")
    parser.add_argument("--readers", type=int, default=2, help="reader threads of each kind")
    parser.add_argument("--link-delay-ms", type=float, default=1.0,
                        help="message delay between replicas (default 1 ms, zones apart)")
    parser.add_argument("--on-disk", action="store_true",
                        help="replicas with write-ahead logs on disk (fsync) instead of memory")
    parser.add_argument("--out", type=Path, default=REPO / "lab" / "out",
                        help="directory for the results (default lab/out)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / f"{NAME}.server.log"
    with tempfile.TemporaryDirectory() as data:
        delay = ("--link-delay-ms", str(args.link_delay_ms))
        if args.on_disk:
            server = running_server("--data-dir", data, *delay, log_path=log)
        else:
            server = dynamo_server(log, *delay)
        with server as running:
            result = measure(running.url, args.duration, args.readers)
    result["storage"] = "on disk" if args.on_disk else "in memory"
    result["link_delay_ms"] = args.link_delay_ms
    (args.out / f"{NAME}.json").write_text(json.dumps(result, indent=2))
    plot(result, args.out / f"{NAME}.png")
    print(describe(result))
    print(f"results: {args.out / f'{NAME}.json'}, plot: {args.out / f'{NAME}.png'}")
    return 0


def client(url: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="lab", aws_secret_access_key="lab",
                        config=Config(retries={"max_attempts": 0}))


def measure(url: str, duration: float, readers: int) -> dict[str, Any]:
    """Run the writer and the readers for `duration` seconds; count versions behind."""
    setup = client(url)
    setup.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                       KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                       AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    setup.put_item(TableName=TABLE, Item={"pk": {"S": "x"}, "v": {"N": "0"}})
    acked = [0]  # the newest version the writer has been told is written
    stop = threading.Event()
    lags: dict[str, Counter[int]] = {"strong": Counter(), "eventual": Counter()}

    def write() -> None:
        writer, version = client(url), 0
        while not stop.is_set():
            version += 1
            writer.put_item(TableName=TABLE, Item={"pk": {"S": "x"}, "v": {"N": str(version)}})
            acked[0] = version

    def read(kind: str) -> None:
        reader, counts = client(url), Counter()
        while not stop.is_set():
            floor = acked[0]
            got = reader.get_item(TableName=TABLE, Key={"pk": {"S": "x"}},
                                  ConsistentRead=kind == "strong")
            counts[max(0, floor - int(got["Item"]["v"]["N"]))] += 1
        lags[kind].update(counts)

    threads = [threading.Thread(target=write)]
    threads += [threading.Thread(target=read, args=(kind,))
                for kind in ("strong", "eventual") for _ in range(readers)]
    for thread in threads:
        thread.start()
    time.sleep(duration)
    stop.set()
    for thread in threads:
        thread.join()
    return {"duration_s": duration, "writes": acked[0], **{
        kind: summary(counts) for kind, counts in lags.items()}}


def summary(lags: Counter[int]) -> dict[str, Any]:
    reads = sum(lags.values())
    stale = sum(n for lag, n in lags.items() if lag > 0)
    return {"reads": reads, "stale": stale, "stale_pct": round(100 * stale / max(reads, 1), 3),
            "max_versions_behind": max((lag for lag, n in lags.items() if n), default=0),
            "versions_behind": {str(lag): n for lag, n in sorted(lags.items())}}


def describe(result: dict[str, Any]) -> str:
    lines = [f"{result['writes']:,} versions written in {result['duration_s']:g} s "
             f"({result['storage']}, 3 replicas, {result['link_delay_ms']:g} ms between them)"]
    for kind in ("strong", "eventual"):
        r = result[kind]
        lines.append(f"{kind:>8} reads: {r['reads']:,}, stale {r['stale']:,} "
                     f"({r['stale_pct']} %), at most {r['max_versions_behind']} versions behind")
    return "\n".join(lines)


def plot(result: dict[str, Any], path: Path) -> None:
    figure = Figure(figsize=(7, 4))
    axes = figure.add_subplot()
    for offset, kind in ((-0.2, "strong"), (0.2, "eventual")):
        behind = result[kind]["versions_behind"]
        lags = [int(lag) for lag in behind]
        shares = [100 * behind[str(lag)] / max(result[kind]["reads"], 1) for lag in lags]
        axes.bar([lag + offset for lag in lags], shares, width=0.4, label=f"{kind} reads")
    axes.set_xlabel("versions behind the newest acknowledged write when the read began")
    axes.set_ylabel("% of reads")
    axes.set_yscale("log")
    axes.set_title(f"Read staleness, 3 replicas {result['storage']}")
    axes.legend()
    figure.tight_layout()
    FigureCanvasAgg(figure).print_png(str(path))


if __name__ == "__main__":
    raise SystemExit(main())
