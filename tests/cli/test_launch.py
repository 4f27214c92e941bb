"""`dynamo serve --port 0` and `dynamo.cli.launch`, the one way tests, the lab and the demo
start a server: the kernel picks the port, the server says which, nothing is polled."""

from __future__ import annotations

import boto3
import pytest

from dynamo.cli.launch import ServerStartError, running_server, start_server
from dynamo.cli.main import main
from dynamo.cli.serve import LISTENING


def list_tables(url: str) -> list[str]:
    client = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="x")
    return client.list_tables()["TableNames"]


def test_servers_started_together_each_report_the_port_they_bound() -> None:
    first, second = start_server("--in-memory"), start_server("--in-memory")
    try:
        assert first.port != second.port and 0 not in (first.port, second.port)
        for server in (first, second):
            assert list_tables(server.url) == []
            lines = server.log().splitlines()
            assert f"{LISTENING}{server.port}" in lines
            assert any(f"serving DynamoDB on {server.url} (data " in line for line in lines)
    finally:
        first.stop()
        second.stop()
    assert not first.alive() and not second.alive()


def test_a_server_that_cannot_start_is_reported_with_its_own_words() -> None:
    with pytest.raises(ServerStartError, match="need a data directory, not --in-memory"):
        start_server("--in-memory", "--fsync", "none")


def test_a_port_in_use_is_refused_not_shared() -> None:
    with running_server("--in-memory") as server:
        assert main(["serve", "--in-memory", "--port", str(server.port)]) == 1
        assert list_tables(server.url) == []
