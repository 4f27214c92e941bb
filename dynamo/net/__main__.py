"""`python -m dynamo.net`: run a Paxos replica process, a storage-node process, or the demo.

    python -m dynamo.net node --id a --cluster a=127.0.0.1:7101,b=...,c=... --data-dir DIR
        [--fsync always|none]
    python -m dynamo.net storage-node --id n1 --cluster n1=HOST:PORT,...,router=HOST:PORT,...
        --zones n1=az1,n2=az2,n3=az3 --data-dir DIR [--split-size BYTES] [--split-rate R]
        [--admission ERA|off] [--fsync always|none]
    python -m dynamo.net demo

`storage-node` is what `dynamo serve --processes` starts for each storage node: `--cluster`
names every storage node and every front-end node of the serve process.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from dynamo.admission.eras import ERAS, Era
from dynamo.net.demo import main as run_demo
from dynamo.net.group import parse_cluster, run_node
from dynamo.net.storage_process import fleet_node_config, run_storage_node
from dynamo.partitioning.storage_node import NodeConfig


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m dynamo.net")
    commands = parser.add_subparsers(dest="command", required=True)
    node = commands.add_parser("node", help="run one Paxos replica process")
    node.add_argument("--id", required=True)
    node.add_argument("--cluster", required=True, help="a=HOST:PORT,b=HOST:PORT,...")
    node.add_argument("--data-dir", required=True, type=Path,
                      help="the replica's disk: DIR/wal/ and DIR/btree.sqlite3")
    node.add_argument("--fsync", choices=("always", "none"), default="always")
    storage = commands.add_parser("storage-node", help="run one storage node of the fleet")
    storage.add_argument("--id", required=True)
    storage.add_argument("--cluster", required=True, help="n1=HOST:PORT,router=HOST:PORT,...")
    storage.add_argument("--zones", required=True, help="n1=az1,n2=az2,... every storage node")
    storage.add_argument("--data-dir", required=True, type=Path,
                         help="the node's disk: DIR/wal/, DIR/partitions/, DIR/placement.json")
    storage.add_argument("--split-size", type=int, default=None, metavar="BYTES")
    storage.add_argument("--split-rate", type=float, default=None, metavar="REQUESTS")
    storage.add_argument("--admission", choices=(*ERAS, "off"), default="off")
    storage.add_argument("--unresponsive-heartbeats", type=int, default=20)
    storage.add_argument("--fsync", choices=("always", "none"), default="always")
    commands.add_parser("demo", help="three processes on loopback; kill the leader; no write lost")
    args = parser.parse_args()
    if args.command == "node":
        asyncio.run(run_node(args.id, parse_cluster(args.cluster), args.data_dir, args.fsync))
    elif args.command == "storage-node":
        zones = dict(part.split("=") for part in args.zones.split(","))
        config = fleet_node_config(NodeConfig(), zones, args.split_size, args.split_rate,
                                   args.unresponsive_heartbeats)
        era = None if args.admission == "off" else Era(args.admission)
        asyncio.run(run_storage_node(args.id, parse_cluster(args.cluster), args.data_dir,
                                     config, era, args.fsync))
    else:
        raise SystemExit(run_demo())


if __name__ == "__main__":
    main()
