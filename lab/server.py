"""A fresh `dynamo serve` for an experiment: started on a free port, stopped afterwards.

Every experiment runs against a server of its own, started as a separate
process exactly as a user would start it, so that nothing the experiment
measures is shared with the process that measures it. Its log goes to a
file next to the experiment's results.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Server:
    """A running endpoint; `pid` is None when it is someone else's (--endpoint)."""

    url: str
    pid: int | None


@contextmanager
def dynamo_server(log_path: Path, *serve_args: str, timeout: float = 30.0) -> Iterator[Server]:
    """Run `dynamo serve --in-memory` on a free port for the duration of the `with` block."""
    port = free_port()
    command = [sys.executable, "-m", "dynamo.cli.main", "serve", "--port", str(port),
               "--in-memory", *serve_args]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            _wait_listening(process, port, timeout, log_path)
            yield Server(f"http://127.0.0.1:{port}", process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def endpoint(url: str | None, log_path: Path) -> Iterator[Server]:
    """An existing endpoint when `url` is given, else a fresh `dynamo serve`."""
    if url:
        yield Server(url.rstrip("/"), None)
    else:
        with dynamo_server(log_path) as server:
            yield server


def _wait_listening(process: subprocess.Popen[bytes], port: int, timeout: float,
                    log_path: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dynamo serve exited with {process.returncode}; "
                               f"its log:\n{log_path.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"dynamo serve did not listen on port {port} within {timeout:.0f} s")
