"""Fixtures for the API tests: the real `dynamo serve`, as a subprocess, and boto3.

Every test in tests/api talks HTTP to a real server process, exactly as a user's
boto3 would. A server is started once per test file (module scope).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from apitools import Server, make_client, serve_args, start_server

from dynamo.cli.launch import report_splits


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """One in-memory server for the whole test file (or as DYNAMO_LAB_SERVE_ARGS says)."""
    running = start_server(*serve_args())
    yield running
    report_splits(running.url)
    running.stop()


@pytest.fixture(scope="module")
def client(server: Server):  # type: ignore[no-untyped-def]
    """boto3's low-level DynamoDB client, dummy credentials, us-east-1."""
    return make_client(server.url)


_names = iter(range(1_000_000))


@pytest.fixture
def table_name() -> str:
    """A fresh table name per test, so tests in one file never collide."""
    return f"t{os.getpid()}-{next(_names)}"
