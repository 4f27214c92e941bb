"""`dynamo serve`: a DynamoDB endpoint that boto3, the AWS CLI and PynamoDB can use.

    dynamo serve                          # http://127.0.0.1:8000, data in ./data
    dynamo serve --port 8001 --in-memory  # nothing written to disk

With a data directory, tables and items survive a restart: they live in one
SQLite file, `dynamo.db`, inside it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path
from typing import Any

DATABASE_FILE = "dynamo.db"


def register(subparsers: Any) -> None:
    """Add the `serve` subcommand."""
    parser = subparsers.add_parser(
        "serve", help="serve the DynamoDB API over HTTP",
        description="Serve DynamoDB's JSON API (boto3, AWS CLI, PynamoDB work unchanged).")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    storage = parser.add_mutually_exclusive_group()
    storage.add_argument("--data-dir", default="data", type=Path,
                         help="directory for the database file (default ./data)")
    storage.add_argument("--in-memory", action="store_true",
                         help="keep everything in memory; nothing survives exit")
    parser.add_argument("--activation-delay", type=float, default=0.0, metavar="SECONDS",
                        help="how long a new table stays CREATING (default 0)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Open the node and serve it until interrupted."""
    from dynamo.api.server import serve
    from dynamo.cluster.node import SingleNode

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    path = None
    if not args.in_memory:
        args.data_dir.mkdir(parents=True, exist_ok=True)
        path = str(args.data_dir / DATABASE_FILE)
    node = SingleNode(path, activation_delay=args.activation_delay)
    where = "in memory" if path is None else path
    print(f"Dynamo Lab serving DynamoDB on http://{args.host}:{args.port} (data {where})",
          flush=True)
    try:
        asyncio.run(serve(node, args.host, args.port))
    except KeyboardInterrupt:
        pass
    finally:
        node.close()
    return 0
