"""Fixtures for the conformance suite: the real `dynamo serve`, spoken to in raw, signed HTTP.

The cases under `cases/` come from dynalite's test suite, which was written
against the real DynamoDB, and from newer suites and captures of the service
(`cases/fidelity.py`): each records what the service answers to one request,
and where that answer comes from. They are sent here exactly as written, signed with SigV4 but not
checked by any client library (boto3 would refuse many of them before they
left the machine, hiding what the server does).

One server per test file (module scope); the tables every case file uses are
created once per server.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from cases import TABLES

from dynamo.cli.launch import report_splits, serve_args, start_server
from dynamo.cli.sigv4 import Signer

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


@pytest.fixture(scope="module")
def dynamo() -> Iterator[RawClient]:
    """A fresh in-memory server for this file (or as DYNAMO_LAB_SERVE_ARGS says), with the
    cases' tables ACTIVE."""
    server = start_server(*serve_args())
    client = RawClient(server.port)
    try:
        for definition in TABLES:
            status, answer = client.call("CreateTable", definition)
            assert status == 200, answer
            status, answer = client.call("DescribeTable", {"TableName": definition["TableName"]})
            assert answer["Table"]["TableStatus"] == "ACTIVE", answer
        yield client
        report_splits(server.url)
    finally:
        client.close()
        server.stop()

