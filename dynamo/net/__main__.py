"""`python -m dynamo.net`: run a Paxos replica process, or the failover demo.

    python -m dynamo.net node --id a --cluster a=127.0.0.1:7101,b=...,c=... --data-dir DIR
        [--fsync always|none]
    python -m dynamo.net demo
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from dynamo.net.demo import main as run_demo
from dynamo.net.group import parse_cluster, run_node


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m dynamo.net")
    commands = parser.add_subparsers(dest="command", required=True)
    node = commands.add_parser("node", help="run one Paxos replica process")
    node.add_argument("--id", required=True)
    node.add_argument("--cluster", required=True, help="a=HOST:PORT,b=HOST:PORT,...")
    node.add_argument("--data-dir", required=True, type=Path,
                      help="the replica's disk: DIR/wal/ and DIR/btree.sqlite3")
    node.add_argument("--fsync", choices=("always", "none"), default="always")
    commands.add_parser("demo", help="three processes on loopback; kill the leader; no write lost")
    args = parser.parse_args()
    if args.command == "node":
        asyncio.run(run_node(args.id, parse_cluster(args.cluster), args.data_dir, args.fsync))
    else:
        raise SystemExit(run_demo())


if __name__ == "__main__":
    main()
