"""Helpers for the workload tests: a real `dynamo serve`, and headless Locust runs."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def dynamo_serve(log_path: Path) -> Iterator[str]:
    """An in-memory `dynamo serve` on a free port; yields its URL."""
    port = free_port()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "dynamo.cli.main", "serve", "--port", str(port), "--in-memory"],
            stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            _wait_listening(process, port, log_path)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_listening(process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dynamo serve exited: {log_path.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("dynamo serve did not start listening within 20 s")


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
