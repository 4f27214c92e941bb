"""`dynamo lab`: the paper's §4 as experiments, simulated and live.

    dynamo lab admission --quick                  # every era in the simulator (virtual time)
    dynamo lab run hot-key --quick                # static and gac, a real server, about a minute
    dynamo lab run burst --eras static,bursting   # bursts of traffic, one server per era

`admission` runs the simulated experiment (`dynamo.admission.experiment`):
the same skewed workload through the four eras of admission control, in
virtual time; its options are its own (`dynamo lab admission --help`).

`run` is the live experiment (`lab/admission_runs.py`): for each era it
starts `dynamo serve --in-memory --admission ERA`, drives it with the
project's Locust workload headless in a process of its own, samples
`/admin/state` every second, and writes a report folder: Locust's CSVs per
era, `summary.md`, `summary.json` and PNG plots over time. It needs the
repository checkout (the `lab/` and `workloads/` folders beside `dynamo/`).

Each experiment has its settings for a full run, and smaller ones for
`--quick`; an option given on the command line wins over both.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from pathlib import Path
from typing import Any

from dynamo.course import course_root

EXPERIMENTS = ("hot-key", "burst")
ALL_ERAS = "static,bursting,adaptive,gac"

# The settings of a full run. The hot-key table is split by size into a dozen or so
# partitions before the load (`preload` orders of ~280 bytes, `split_size` bytes a
# partition), so under static allocation each partition holds 1/8 or 1/16 of the
# table's `capacity`: the hot key (80 % of 100 requests/s, so ~40 WCU of writes) is
# far above its partition's share (6.25 to 12.5 WCU) and well below the table's 100.
# Its partition's burst bucket (300 s of its share) then lasts about a minute, so a
# full run of two minutes sees bursting run out and adaptive capacity react. A burst
# offers ten times the quiet load: 2 then 20 users at 10 requests/s of YCSB A on
# 900-byte items is 10 then 100 WCU of updates, against 40 provisioned.
DEFAULTS: dict[str, dict[str, Any]] = {
    "hot-key": {"eras": ALL_ERAS, "users": 10, "duration": 120.0, "user_rate": 10.0,
                "capacity": 100, "hot_keys": 1, "hot_share": 0.8, "preload": 1000,
                "split_size": 32_768, "seed": 7},
    "burst": {"eras": ALL_ERAS, "users": 2, "duration": 60.0, "user_rate": 10.0,
              "capacity": 40, "burst_users": 20, "burst_period": 20.0, "burst_seconds": 5.0,
              "seed": 7},
}
# What --quick changes: two eras, about a minute in all.
QUICK: dict[str, dict[str, Any]] = {
    "hot-key": {"eras": "static,gac", "duration": 15.0},
    "burst": {"eras": "static,gac", "duration": 20.0, "burst_period": 10.0,
              "burst_seconds": 4.0},
}


def register(subparsers: Any) -> None:
    """Add the `lab` subcommand and its `admission` and `run` commands."""
    parser = subparsers.add_parser(
        "lab", help="the paper's admission-control experiments (§4), simulated and live",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="lab_command", metavar="WHAT", required=True)
    # Everything after `admission` is the simulated experiment's own argv: "+" is no
    # option prefix there, so its --options (and --help) pass through untouched.
    admission = commands.add_parser(
        "admission", help="the simulated experiment: every era, virtual time",
        description="Run dynamo.admission.experiment with ARGS; "
                    "`dynamo lab admission --help` lists them.",
        add_help=False, prefix_chars="+")
    admission.add_argument("args", nargs="*", metavar="ARGS")
    admission.set_defaults(func=run_admission)
    # Likewise `run`: lab/admission_runs.py parses its own argv (`dynamo lab run --help`).
    live = commands.add_parser(
        "run", help="a live experiment: dynamo serve per era, driven by Locust",
        description="Run a live experiment (lab/admission_runs.py) once per era; "
                    "`dynamo lab run --help` lists its options.",
        add_help=False, prefix_chars="+")
    live.add_argument("args", nargs="*", metavar="ARGS")
    live.set_defaults(func=run_live)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `dynamo lab run`, which `python -m lab.admission_runs` parses."""
    parser.add_argument("experiment", choices=EXPERIMENTS)
    parser.add_argument("--eras", help=_default("eras", "eras to compare, in order"))
    parser.add_argument("--quick", action="store_true",
                        help="two eras (static, gac) and shorter runs: about a minute in all")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="report folder (default lab/out/EXPERIMENT)")
    parser.add_argument("--users", type=int,
                        help=_default("users", "Locust users (burst: between bursts)"))
    parser.add_argument("--duration", type=float,
                        help=_default("duration", "seconds of load per era (burst: rounded to "
                                                  "whole burst periods)"))
    parser.add_argument("--user-rate", type=float,
                        help=_default("user_rate", "requests a second of each user"))
    parser.add_argument("--capacity", type=int, metavar="UNITS",
                        help=_default("capacity", "provisioned RCU and WCU of the table"))
    parser.add_argument("--seed", type=int, help=_default("seed", "seed of the workload"))
    hot = parser.add_argument_group("hot-key")
    hot.add_argument("--hot-keys", type=int, help=_default("hot_keys", "hot customers"))
    hot.add_argument("--hot-share", type=float,
                     help=_default("hot_share", "share of the requests sent to the hot keys"))
    hot.add_argument("--preload", type=int, metavar="ORDERS",
                     help=_default("preload", "past orders written before the load, so the "
                                              "table splits by size"))
    hot.add_argument("--split-size", type=int, metavar="BYTES",
                     help=_default("split_size", "dynamo serve --split-size"))
    burst = parser.add_argument_group("burst")
    burst.add_argument("--burst-users", type=int,
                       help=_default("burst_users", "users during a burst"))
    burst.add_argument("--burst-period", type=float,
                       help=_default("burst_period", "seconds from one burst to the next"))
    burst.add_argument("--burst-seconds", type=float,
                       help=_default("burst_seconds", "length of a burst"))


def _default(setting: str, text: str) -> str:
    """Help text ending with each experiment's default, and --quick's where it differs."""
    shown = {}
    for name in EXPERIMENTS:
        if setting in DEFAULTS[name]:
            shown[name] = _shown(DEFAULTS[name][setting])
            if setting in QUICK[name]:
                shown[name] += f", --quick {_shown(QUICK[name][setting])}"
    if len(shown) == len(EXPERIMENTS) and len(set(shown.values())) == 1:
        return f"{text} (default: {shown[EXPERIMENTS[0]]})"
    return f"{text} (default: {'; '.join(f'{name} {value}' for name, value in shown.items())})"


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def run_admission(args: argparse.Namespace) -> int:
    # Imported here: `dynamo` works whether or not the simulated experiment is installed.
    experiment = importlib.import_module("dynamo.admission.experiment")
    return int(experiment.main(args.args) or 0)


def run_live(args: argparse.Namespace) -> int:
    # `lab` is a folder of the checkout, not part of the package: it runs as a program of
    # its own there, and it is the one that imports dynamo, never the other way round.
    return subprocess.call([sys.executable, "-m", "lab.admission_runs", *args.args],
                           cwd=course_root())
