"""Fixtures for the conformance suite: the real `dynamo serve`, spoken to in raw, signed HTTP.

The cases under `cases/` come from dynalite's test suite, which was written
against the real DynamoDB: each records what the service answers to one
request. They are sent here exactly as written, signed with SigV4 but not
checked by any client library (boto3 would refuse many of them before they
left the machine, hiding what the server does).

One server per test file (module scope); the tables every case file uses are
created once per server.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from cases import TABLES

from dynamo.cli.sigv4 import Signer

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


class RawClient:
    """Signed DynamoDB calls over one keep-alive HTTP connection, answers as (status, JSON)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.signer = Signer("AKIDCONFORMANCE", "secret", REGION, f"127.0.0.1:{port}")
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, operation: str, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        body = orjson.dumps(request)
        headers = self.signer.headers(f"DynamoDB_20120810.{operation}", body)
        self.connection.request("POST", "/", body=body, headers=headers)
        response = self.connection.getresponse()
        return response.status, orjson.loads(response.read())

    def close(self) -> None:
        self.connection.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server() -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "dynamo.cli.main", "serve", "--port", str(port), "--in-memory"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dynamo serve exited: {process.stderr.read().decode()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("dynamo serve did not start listening within 20 s")


@pytest.fixture(scope="module")
def dynamo() -> Iterator[RawClient]:
    """A fresh in-memory server for this file, with the cases' tables ACTIVE."""
    process, port = _start_server()
    client = RawClient(port)
    try:
        for definition in TABLES:
            status, answer = client.call("CreateTable", definition)
            assert status == 200, answer
            status, answer = client.call("DescribeTable", {"TableName": definition["TableName"]})
            assert answer["Table"]["TableStatus"] == "ACTIVE", answer
        yield client
    finally:
        client.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
