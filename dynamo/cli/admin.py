"""`dynamo admin`: read a running server's state and events, or inject a fault.

A thin client of the admin endpoint (`dynamo.api.admin`), which a server
serves to loopback clients on its own port:

    dynamo admin state                       # nodes, partitions, leader, ballot, LSNs
    dynamo admin events                      # elections, lease changes, crashes (NDJSON)
    dynamo admin fault kill n1               # needs dynamo serve --allow-faults
    dynamo admin fault restart n1
    dynamo admin fault deploy n1             # its leaders hand off, then it restarts (§6.4)
    dynamo admin fault cut n1 n2             # drop messages from n1 to n2 (one way)
    dynamo admin fault heal
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from typing import Any

DEFAULT_ENDPOINT = "http://127.0.0.1:8000"


def register(subparsers: Any) -> None:
    """Add the `admin` subcommand."""
    parser = subparsers.add_parser(
        "admin", help="a running server's state, events and faults",
        description="Read /admin/state and /admin/events, or POST /admin/fault.")
    parser.add_argument("--endpoint", default=DEFAULT_ENDPOINT,
                        help=f"the server (default {DEFAULT_ENDPOINT})")
    commands = parser.add_subparsers(dest="admin_command", metavar="WHAT", required=True)
    commands.add_parser("state", help="the cluster's state as JSON")
    commands.add_parser("events", help="what happened, one JSON object per line")
    fault = commands.add_parser("fault", help="kill, restart, deploy, cut or heal "
                                               "(--allow-faults)")
    fault.add_argument("action", choices=("kill", "restart", "deploy", "cut", "heal"))
    fault.add_argument("node", nargs="?", help="the node to kill or restart, or to cut from")
    fault.add_argument("to", nargs="?", help="with cut: the node it can no longer reach")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    base = args.endpoint.rstrip("/")
    try:
        if args.admin_command == "state":
            print(json.dumps(json.loads(_get(f"{base}/admin/state")), indent=2))
        elif args.admin_command == "events":
            sys.stdout.write(_get(f"{base}/admin/events").decode())
        else:
            fault = {"action": args.action, "node": args.node, "to": args.to}
            print(_post(f"{base}/admin/fault", {k: v for k, v in fault.items() if v}).decode())
    except urllib.error.HTTPError as error:
        print(f"dynamo admin: {error.code}: {error.read().decode(errors='replace')}",
              file=sys.stderr)
        return 1
    except urllib.error.URLError as error:
        print(f"dynamo admin: cannot reach {base}: {error.reason}", file=sys.stderr)
        return 1
    return 0


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read()


def _post(url: str, payload: dict[str, Any]) -> bytes:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.read()
