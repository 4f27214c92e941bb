"""Start `dynamo serve` in a process of its own and learn the port it bound.

The tests, the lab and `dynamo demo` all need a real server, started exactly
as a user starts one. They share this one helper. It runs
`dynamo serve --port 0 ...`: the kernel picks a free port and the server
prints `dynamo serve listening on port N` once it accepts connections, so
there is nothing to poll and no race between choosing a free port and
binding it.

    with running_server("--in-memory") as server:
        boto3.client("dynamodb", endpoint_url=server.url, ...)

The server's output (stdout and stderr) goes to a log file, so that a chatty
server never blocks on a full pipe and a failed start can show why.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dynamo.cli.serve import LISTENING

SERVE_ARGS_VARIABLE = "DYNAMO_LAB_SERVE_ARGS"
SPLIT_COUNT_VARIABLE = "DYNAMO_LAB_SPLIT_COUNT"

HOST = "127.0.0.1"


class ServerStartError(RuntimeError):
    """`dynamo serve` exited, or did not listen in time; the message carries its log."""


@dataclass
class Server:
    """A running `dynamo serve` process."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    temporary_log: bool = False  # made by start_server, removed by stop

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        """Everything the server has printed so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within 10 s."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.temporary_log:
            self.log_path.unlink(missing_ok=True)


def start_server(*serve_args: str, log_path: Path | None = None, timeout: float = 30.0,
                 cwd: Path | None = None) -> Server:
    """Run `dynamo serve --host 127.0.0.1 --port 0 SERVE_ARGS...` and wait until it listens.

    Raises:
        ServerStartError: the server exited first, or printed no port within `timeout`.
    """
    temporary_log = log_path is None
    if log_path is None:
        handle, name = tempfile.mkstemp(prefix="dynamo-serve-", suffix=".log")
        os.close(handle)
        log_path = Path(name)
    command = [sys.executable, "-m", "dynamo.cli.main", "serve", "--host", HOST, "--port", "0",
               *serve_args]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=cwd,
                                   stdin=subprocess.DEVNULL,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        port = wait_for_port(process, log_path, timeout)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return Server(process, port, log_path, temporary_log)


@contextmanager
def running_server(*serve_args: str, log_path: Path | None = None,
                   timeout: float = 30.0) -> Iterator[Server]:
    """A `dynamo serve` for the duration of a `with` block."""
    server = start_server(*serve_args, log_path=log_path, timeout=timeout)
    try:
        yield server
    finally:
        server.stop()


def wait_for_port(process: subprocess.Popen[bytes], log_path: Path, timeout: float) -> int:
    """The port from the server's listening line, read from its log as it appears."""
    deadline = time.monotonic() + timeout
    while True:
        for line in log_path.read_text(errors="replace").splitlines():
            if line.startswith(LISTENING):
                return int(line[len(LISTENING):])
        if process.poll() is not None:
            raise ServerStartError(f"dynamo serve exited with {process.returncode}; its log:\n"
                                   f"{log_path.read_text(errors='replace')}")
        if time.monotonic() > deadline:
            raise ServerStartError(f"dynamo serve printed no port within {timeout:.0f} s; "
                                   f"its log:\n{log_path.read_text(errors='replace')}")
        time.sleep(0.02)


def report_splits(url: str) -> None:
    """Add how many partitions a test suite's server split to the file DYNAMO_LAB_SPLIT_COUNT
    names, if it names one: how a suite run against `--split-size` shows tables did split."""
    path = os.environ.get(SPLIT_COUNT_VARIABLE)
    if path is None:
        return
    with urllib.request.urlopen(f"{url}/admin/events") as answer:
        events = [json.loads(line) for line in answer.read().splitlines()]
    splits = {e["partition"] for e in events if e["kind"] == "partition_split"}
    with open(path, "a") as out:
        out.write(f"{len(splits)}\n")


def serve_args() -> list[str]:
    """How the test suites' shared servers run: `--in-memory` (the default three replicas),
    or what DYNAMO_LAB_SERVE_ARGS says, e.g. "--data-dir {tmp}", "--nodes 1 --in-memory" or
    "--processes --in-memory"; each {tmp} becomes a fresh directory of its own."""
    text = os.environ.get(SERVE_ARGS_VARIABLE, "--in-memory")
    return [tempfile.mkdtemp(prefix="dynamo-lab-") if arg == "{tmp}" else arg
            for arg in text.split()]
