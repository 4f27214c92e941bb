"""The `dynamo` command line.

Each subcommand lives in its own module, `dynamo/cli/<name>.py`, exposing
`register(subparsers)`, which adds its parser and sets `func` to the function
that runs it:

    dynamo serve --data-dir ./data       # a DynamoDB endpoint on 127.0.0.1:8000
    dynamo demo                          # the guided walk-through (`make demo`)
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Every subcommand module; each must import.
COMMANDS = ("serve", "admin", "demo", "bench", "course", "sim", "walbench", "dashboard", "lab")


def build_parser() -> argparse.ArgumentParser:
    """The parser with every available subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="dynamo", description="Dynamo Lab: a teachable re-implementation of Amazon DynamoDB.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"dynamo.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `dynamo`; the exit status is the subcommand's."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
