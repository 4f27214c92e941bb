"""`dynamo serve`: a DynamoDB endpoint that boto3, the AWS CLI and PynamoDB can use.

    dynamo serve                          # http://127.0.0.1:8000, data in ./data
    dynamo serve --port 8001 --in-memory  # nothing written to disk
    dynamo serve --processes              # each storage node its own process, over TCP

With a data directory, tables and items survive a restart, and `kill -9`: every
write is fsynced in the write-ahead log (`wal/`) before it is acknowledged, then
applied to the B-tree, one SQLite file (`dynamo.db`); a restart replays the log.

    dynamo serve --fsync none                      # faster, loses recent writes on a power cut
    dynamo serve --archive backups/                # sealed log segments archived to a directory
    dynamo serve --archive s3://bucket/prefix --archive-endpoint http://127.0.0.1:9000

Any signature is accepted by default, as by DynamoDB Local; `--auth strict`
checks every request's SigV4 signature against the keys of an AWS
shared-credentials file, with DynamoDB's errors (`dynamo.api.auth`):

    dynamo serve --auth strict --credentials ~/.aws/credentials

`--port 0` binds a free port; a line `dynamo serve listening on port N` says
which, once the server accepts connections (`dynamo.cli.launch` reads it).

Time to Live's sweeper deletes expired items every `--ttl-interval` seconds
(60; DynamoDB takes up to a few days, tests a fraction of a second):

    dynamo serve --in-memory --ttl-interval 0.5
"""

from __future__ import annotations

import argparse
import gc
import logging
import socket
import sys
from pathlib import Path
from typing import Any

import uvloop

from dynamo.admission.eras import DEFAULT_ERA, ERAS, Era

DATABASE_FILE = "dynamo.db"
SPLIT_SIZE = 10 * 1024 ** 3  # DynamoDB's partition size limit
# A partition "will strive to deliver the full capacity of 3,000 RCU and 1,000 WCU"
# (DynamoDB Developer Guide, partition key design): past that, split for consumption.
SPLIT_RATE = 1000.0
# Seconds between Time to Live's sweeps (dynamo.cluster.ttl; DynamoDB: up to a few days).
TTL_INTERVAL = 60.0
# The young generation is collected every 50,000 allocations, not 700 (Python's default):
# requests make garbage fast, and almost none of it is cyclic.
GC_THRESHOLDS = (50_000, 20, 100)
LISTENING = "dynamo serve listening on port "  # + the bound port: what scripts wait for


def era_to_run(chosen: str) -> Era | None:
    """The admission era to serve under (None: off).

    A course handout of chapter 06 or an earlier one has chapter 06's token buckets
    stubbed (`dynamo course handout`); every request passes through them, so the
    server runs without admission control until the student has written them.
    """
    if chosen == "off":
        return None
    from dynamo.admission.bursting import PartitionBuckets
    try:
        PartitionBuckets.for_allocation(1.0, True, 0.0).admit(0.0, None)
    except NotImplementedError:
        print("dynamo serve: the token buckets of chapter 06 are not written yet in this "
              "copy: admission control is off", file=sys.stderr)
        return None
    return Era(chosen)


def paxos_written() -> bool:
    """Whether this copy's Multi-Paxos core is there: a course handout of chapter 03, or
    of an earlier one, has its acceptor, leases and pre-vote stubbed (`dynamo course
    handout`), and a replicated fleet cannot elect a leader without them."""
    from dynamo.paxos.acceptor import Acceptor
    from dynamo.paxos.ballot import ZERO, Ballot
    from dynamo.paxos.lease import grant_until, leader_lease_until
    from dynamo.paxos.log import ReplicatedLog, Snapshot
    from dynamo.paxos.messages import Accept, Prepare
    from dynamo.paxos.prevote import grants_pre_vote, may_stand
    try:
        leader_lease_until([0.0], 1, 1.0, 0.0)
        grant_until(0.0, 1.0, 0.0)
        grants_pre_vote(0.0, 0.0, 1.0)
        may_stand(("n1",), ("n1",))
        acceptor = Acceptor(ZERO, ReplicatedLog(Snapshot(0, None, ("n1",))))
        acceptor.on_prepare(Prepare(Ballot(1, "n1"), 1))
        acceptor.on_accept(Accept(Ballot(1, "n1"), (), 0))
    except NotImplementedError:
        return False
    return True


def register(subparsers: Any) -> None:
    """Add the `serve` subcommand."""
    parser = subparsers.add_parser(
        "serve", help="serve the DynamoDB API over HTTP",
        description="Serve DynamoDB's JSON API (boto3, AWS CLI, PynamoDB work unchanged).")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000,
                        help="port to listen on (0: any free port, printed once bound)")
    storage = parser.add_mutually_exclusive_group()
    storage.add_argument("--data-dir", default="data", type=Path,
                         help="directory for the database file (default ./data)")
    storage.add_argument("--in-memory", action="store_true",
                         help="keep everything in memory; nothing survives exit")
    parser.add_argument("--nodes", type=int, default=3, metavar="N",
                        help="storage nodes of the partitioned fleet (default 3); each "
                             "partition has three replicas on nodes in distinct zones; "
                             "1 runs a single unreplicated node, for comparison")
    parser.add_argument("--split-rate", type=float, default=SPLIT_RATE, metavar="REQUESTS",
                        help="split a partition whose traffic stays above this many requests "
                             "a second, where its traffic divides (default 1000; 0: never)")
    parser.add_argument("--admission", choices=(*ERAS, "off"), default=DEFAULT_ERA.value,
                        help="admission control, by the paper's eras (§4): static per-partition "
                             "buckets, bursting, adaptive capacity, or global admission control "
                             "(default gac); off throttles nothing (the partitioned fleet only)")
    parser.add_argument("--zones", type=int, default=3, metavar="Z",
                        help="availability zones the storage nodes are spread over (default 3)")
    parser.add_argument("--split-size", type=int, default=SPLIT_SIZE, metavar="BYTES",
                        help="split a partition once its items pass this size (default "
                             "10 GB, DynamoDB's; tests and the lab use a few KB)")
    parser.add_argument("--item-collection-limit", type=int, default=None, metavar="BYTES",
                        help="refuse writes that grow an item collection of a table with local "
                             "secondary indexes past this size (default 10 GB, DynamoDB's)")
    parser.add_argument("--link-delay-ms", type=float, default=0.0, metavar="MS",
                        help="how long a message takes between replicas (default 0; zones "
                             "of a region are about a millisecond apart)")
    parser.add_argument("--processes", action="store_true",
                        help="run each storage node as its own process (python -m dynamo.net "
                             "storage-node) talking TCP; this process keeps the API, catalog, "
                             "router, metadata service and the rest of the front end")
    parser.add_argument("--allow-faults", action="store_true",
                        help="accept POST /admin/fault (kill, restart, cut links) from loopback")
    parser.add_argument("--activation-delay", type=float, default=0.0, metavar="SECONDS",
                        help="how long a new table stays CREATING (default 0)")
    parser.add_argument("--ttl-interval", type=float, default=TTL_INTERVAL, metavar="SECONDS",
                        help="how often Time to Live's sweeper deletes expired items (default "
                             "60; 0: never; DynamoDB takes up to a few days)")
    parser.add_argument("--fsync", choices=("always", "none"), default=None,
                        help="fsync the write-ahead log before acknowledging a write (always, "
                             "the default) or never (none: a power cut loses recent writes)")
    parser.add_argument("--archive", metavar="DIR|s3://BUCKET/PREFIX", default=None,
                        help="archive sealed write-ahead log segments to a directory or an "
                             "S3-compatible bucket (default: no archive)")
    parser.add_argument("--archive-endpoint", metavar="URL", default=None,
                        help="endpoint of the S3-compatible service for --archive s3://...")
    parser.add_argument("--auth", choices=("none", "strict"), default="none",
                        help="check SigV4 signatures (strict) or accept any (none, the default, "
                             "as DynamoDB Local does)")
    parser.add_argument("--credentials", metavar="FILE", type=Path, default=None,
                        help="the keys --auth strict accepts, in the AWS shared-credentials "
                             "format (~/.aws/credentials)")
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
    if args.nodes < 1 or args.nodes == 2 or args.processes and args.nodes == 1:
        print("dynamo serve: --nodes must be 1, or 3 or more (a partition has three "
              "replicas); --processes needs 3 or more", file=sys.stderr)
        return 2
    if args.zones < 1 or args.split_size < 1:
        print("dynamo serve: --zones and --split-size must be at least 1", file=sys.stderr)
        return 2
    if args.item_collection_limit is not None and args.item_collection_limit < 1:
        print("dynamo serve: --item-collection-limit must be at least 1", file=sys.stderr)
        return 2
    if args.ttl_interval < 0:
        print("dynamo serve: --ttl-interval must be 0 (never) or more", file=sys.stderr)
        return 2
    if args.processes and args.link_delay_ms:
        print("dynamo serve: --link-delay-ms is for the embedded fleet, not --processes",
              file=sys.stderr)
        return 2
    if args.archive and (args.nodes != 1 or args.processes):
        print("dynamo serve: --archive is for the single node (--nodes 1) so far",
              file=sys.stderr)
        return 2
    if args.archive_endpoint and not (args.archive or "").startswith("s3://"):
        print("dynamo serve: --archive-endpoint goes with --archive s3://BUCKET/PREFIX",
              file=sys.stderr)
        return 2
    if (args.auth == "strict") != (args.credentials is not None):
        print("dynamo serve: --auth strict and --credentials FILE go together", file=sys.stderr)
        return 2
    verifier = None
    if args.auth == "strict":
        from dynamo.api.auth import SignatureVerifier, load_credentials
        try:
            verifier = SignatureVerifier(load_credentials(args.credentials))
        except ValueError as error:
            print(f"dynamo serve: {error}", file=sys.stderr)
            return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    path = None
    if not args.in_memory:
        args.data_dir.mkdir(parents=True, exist_ok=True)
        path = str(args.data_dir / DATABASE_FILE)
    archive = None if args.archive is None else open_store(args.archive, args.archive_endpoint)
    try:
        node: Any
        if not args.processes and (args.nodes == 1 or not paxos_written()):
            if args.nodes != 1:
                print("dynamo serve: the Paxos core of chapter 03 is not written yet in this "
                      "copy: serving one unreplicated node (--nodes 1)", file=sys.stderr)
            node = SingleNode(path, activation_delay=args.activation_delay,
                              fsync=args.fsync or "always", archive=archive,
                              ttl_interval=args.ttl_interval)
        else:
            from dynamo.cluster.fleet import FleetSettings
            from dynamo.cluster.partitioned import PartitionedNode
            from dynamo.cluster.processes import ProcessFleetNode
            settings = FleetSettings(nodes=args.nodes, zones=args.zones,
                                     split_size=args.split_size,
                                     split_rate=args.split_rate or None,
                                     fsync=args.fsync or "always",
                                     link_delay_ms=args.link_delay_ms,
                                     admission=era_to_run(args.admission))
            fleet = ProcessFleetNode if args.processes else PartitionedNode
            node = fleet(None if args.in_memory else args.data_dir, settings=settings,
                         activation_delay=args.activation_delay, ttl_interval=args.ttl_interval)
        if args.item_collection_limit is not None:
            node.item_collection_limit = args.item_collection_limit
    except (CorruptLogError, ReplicaStateError) as error:  # serving would lose or invent writes
        print(f"dynamo serve: refusing to serve {args.data_dir}: {error}", file=sys.stderr)
        return 1
    try:
        sock = listen(args.host, args.port)
    except OSError as error:
        print(f"dynamo serve: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        node.close()
        return 1
    where = "in memory" if path is None else f"{path}, log fsync {args.fsync or 'always'}"
    if not isinstance(node, SingleNode):
        where = (f"{args.nodes} storage nodes in {min(args.zones, args.nodes)} zones, "
                 + ("each its own process, " if args.processes else "")
                 + ("in memory" if args.in_memory else f"in {args.data_dir}"))
    if getattr(node, "replica", None) is not None and node.replica.replayed:
        print(f"Recovered: replayed {node.replica.replayed} log records", flush=True)
    port = sock.getsockname()[1]
    checked = ", signatures checked" if verifier else ""
    print(f"Dynamo Lab serving DynamoDB on http://{args.host}:{port} (data {where}{checked})")
    print(f"{LISTENING}{port}", flush=True)
    # Every request allocates many short-lived objects (messages, effects, items); with
    # the collector's default thresholds it ran every few requests and cost 13-18 % of
    # the server's CPU per request (docs/performance.md, "Three replicas against one,
    # on today's default fleet").
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        # uvloop (libuv) cuts the server's CPU per GetItem by up to 5 %
        # (docs/performance.md, "Event loop"); the node code is loop-agnostic.
        uvloop.run(serve(node, verifier=verifier, sock=sock, allow_faults=args.allow_faults))
    except KeyboardInterrupt:
        pass
    finally:
        node.close()
    return 0


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: one the kernel picks).

    Bound here, before serving, so the port is known and connections queue
    from the moment the listening line is printed.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock
