"""Helpers for the workload tests: a real `dynamo serve`, and headless Locust runs."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dynamo.cli.launch import running_server

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def dynamo_serve(log_path: Path) -> Iterator[str]:
    """An in-memory `dynamo serve` on a port of its own; yields its URL."""
    with running_server("--in-memory", log_path=log_path) as server:
        yield server.url


def run_locust(locustfile: str, host: str, csv_prefix: Path, *options: str,
               timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """A headless Locust run of `workloads/<locustfile>` in its own process.

    Locust never runs inside the test process: it patches the standard library
    with gevent.
    """
    command = [sys.executable, "-m", "locust", "-f", str(REPO / "workloads" / locustfile),
               "--headless", "--host", host, "--csv", str(csv_prefix), "--only-summary",
               *options]
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=timeout)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def stats_row(rows: list[dict[str, str]], name: str) -> dict[str, str]:
    """The row of Locust's PREFIX_stats.csv for one request name (or "Aggregated")."""
    matches = [row for row in rows if row["Name"] == name]
    assert len(matches) == 1, f"expected one {name} row in {rows}"
    return matches[0]
