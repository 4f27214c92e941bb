"""`dynamo dashboard`: watch a simulated replication group, or a running server, live.

    dynamo dashboard                                   # the paxos-failover simulation
    dynamo dashboard --sim paxos-gray --seed 7 --speed 0.5
    dynamo dashboard --endpoint http://127.0.0.1:8000  # a running `dynamo serve`

With --sim it runs a seeded simulation of a three-replica Paxos group in
simulated time and shows each replica's role, ballot, leader, lease, commit
index and log, the events (elections, leases, commits, faults) and the
clients' acknowledged operations. Keys: space pause/run, n step one frame
while paused, c crash the leader, r restart crashed replicas, p cut the
leader off both ways for 3 s, g cut it off one way (it stops hearing the
others), + and - change the speed, q quit. The same seed and keys, pressed
at the same frames, replay the same run.

With --endpoint it polls the server every second through the DynamoDB API
(signed ListTables and DescribeTable) and shows its tables: status, key
schema, item count, size and billing mode, and what changed between polls.
"""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit

from dynamo.cli.sigv4 import Signer
from dynamo.sim.scenarios import PLANTED_BUGS, SCENARIOS

DEFAULT_SCENARIO = "paxos-failover"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "dashboard", help="watch a simulated replication group or a running server, live",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--sim", metavar="SCENARIO", choices=sorted(SCENARIOS),
                        help=f"simulate this scenario (the default, {DEFAULT_SCENARIO}); one of "
                             f"{', '.join(sorted(SCENARIOS))}")
    source.add_argument("--endpoint", metavar="URL",
                        help="watch the tables of the server at URL instead")
    parser.add_argument("--seed", type=int, default=1, help="the simulation's seed (default 1)")
    parser.add_argument("--speed", type=_positive, default=1.0,
                        help="simulated seconds per second of wall time (default 1)")
    parser.add_argument("--planted-bug", choices=PLANTED_BUGS,
                        help="break one rule of the protocol on purpose: the invariants "
                             "checked at every step stop the run when they catch it "
                             "(read_without_lease shows only in `dynamo sim`'s history check)")
    parser.add_argument("--region", default="us-east-1", help="the server's region to watch")
    parser.add_argument("--interval", type=_positive, default=1.0,
                        help="seconds between polls of the server (default 1)")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    # Textual loads only when the dashboard runs, not for every `dynamo` command.
    from dynamo.tui import ServerDashboard, SimulationDashboard

    if args.endpoint:
        url = urlsplit(args.endpoint)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise SystemExit(f"--endpoint must be an http(s) URL, got {args.endpoint!r}")
        signer = Signer("dashboard", "dashboard", args.region, url.netloc)
        ServerDashboard(args.endpoint, signer, region=args.region, interval=args.interval).run()
    else:
        SimulationDashboard(args.sim or DEFAULT_SCENARIO, args.seed, args.speed,
                            planted_bug=args.planted_bug).run()
    return 0


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value
