"""`dynamo serve`: a DynamoDB endpoint that boto3, the AWS CLI and PynamoDB can use.

    dynamo serve                          # http://127.0.0.1:8000, data in ./data
    dynamo serve --port 8001 --in-memory  # nothing written to disk

With a data directory, tables and items survive a restart, and `kill -9`: every
write is fsynced in the write-ahead log (`wal/`) before it is acknowledged, then
applied to the B-tree, one SQLite file (`dynamo.db`); a restart replays the log.

    dynamo serve --fsync none                      # faster, loses recent writes on a power cut
    dynamo serve --archive backups/                # sealed log segments archived to a directory
    dynamo serve --archive s3://bucket/prefix --archive-endpoint http://127.0.0.1:9000
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import uvloop

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
    parser.add_argument("--fsync", choices=("always", "none"), default=None,
                        help="fsync the write-ahead log before acknowledging a write (always, "
                             "the default) or never (none: a power cut loses recent writes)")
    parser.add_argument("--archive", metavar="DIR|s3://BUCKET/PREFIX", default=None,
                        help="archive sealed write-ahead log segments to a directory or an "
                             "S3-compatible bucket (default: no archive)")
    parser.add_argument("--archive-endpoint", metavar="URL", default=None,
                        help="endpoint of the S3-compatible service for --archive s3://...")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Open the node and serve it until interrupted."""
    from dynamo.api.server import serve
    from dynamo.cluster.node import SingleNode
    from dynamo.wal import CorruptLogError, ReplicaStateError, open_store

    if args.in_memory and (args.fsync or args.archive):
        print("dynamo serve: --fsync and --archive need a data directory, not --in-memory",
              file=sys.stderr)
        return 2
    if args.archive_endpoint and not (args.archive or "").startswith("s3://"):
        print("dynamo serve: --archive-endpoint goes with --archive s3://BUCKET/PREFIX",
              file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    path = None
    if not args.in_memory:
        args.data_dir.mkdir(parents=True, exist_ok=True)
        path = str(args.data_dir / DATABASE_FILE)
    archive = None if args.archive is None else open_store(args.archive, args.archive_endpoint)
    try:
        node = SingleNode(path, activation_delay=args.activation_delay,
                          fsync=args.fsync or "always", archive=archive)
    except (CorruptLogError, ReplicaStateError) as error:  # serving would lose or invent writes
        print(f"dynamo serve: refusing to serve {args.data_dir}: {error}", file=sys.stderr)
        return 1
    where = "in memory" if path is None else f"{path}, log fsync {args.fsync or 'always'}"
    if node.replica is not None and node.replica.replayed:
        print(f"Recovered: replayed {node.replica.replayed} log records", flush=True)
    print(f"Dynamo Lab serving DynamoDB on http://{args.host}:{args.port} (data {where})",
          flush=True)
    try:
        # uvloop (libuv) cuts the server's CPU per GetItem by about 16 %
        # (docs/performance.md, "Event loop"); the node code is loop-agnostic.
        uvloop.run(serve(node, args.host, args.port))
    except KeyboardInterrupt:
        pass
    finally:
        node.close()
    return 0
