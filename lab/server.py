"""A fresh `dynamo serve` for an experiment: started on a port of its own, stopped afterwards.

Every experiment runs against a server of its own, started as a separate
process exactly as a user would start it, so that nothing the experiment
measures is shared with the process that measures it. Its log goes to a
file next to the experiment's results.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dynamo.cli.launch import running_server

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Server:
    """A running endpoint; `pid` is None when it is someone else's (--endpoint)."""

    url: str
    pid: int | None


@contextmanager
def dynamo_server(log_path: Path, *serve_args: str, timeout: float = 30.0) -> Iterator[Server]:
    """Run `dynamo serve --in-memory` on a port of its own for the duration of the `with` block."""
    with running_server("--in-memory", *serve_args, log_path=log_path,
                        timeout=timeout) as server:
        yield Server(server.url, server.pid)


@contextmanager
def endpoint(url: str | None, log_path: Path) -> Iterator[Server]:
    """An existing endpoint when `url` is given, else a fresh `dynamo serve`."""
    if url:
        yield Server(url.rstrip("/"), None)
    else:
        with dynamo_server(log_path) as server:
            yield server
