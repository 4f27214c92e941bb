"""Helpers for the API tests: start the real `dynamo serve`, make boto3 clients, tables."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "AKIDLAB", "aws_secret_access_key": "secret"}


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running `dynamo serve` process."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(*args: str) -> Server:
    """Start `dynamo serve` on a free port and wait until it accepts connections."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "dynamo.cli.main", "serve", "--port", str(port), *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2], env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dynamo serve exited: {process.stderr.read().decode()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return Server(process, port)
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("dynamo serve did not start listening within 20 s")


def make_client(url: str, region: str = REGION):  # type: ignore[no-untyped-def]
    """A boto3 DynamoDB client for `url`, without retries so errors surface at once."""
    return boto3.client(
        "dynamodb", endpoint_url=url, region_name=region, **CREDENTIALS,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def create_table(client, name: str, sort: str | None = None, sort_type: str = "S",  # type: ignore[no-untyped-def]
                 partition_type: str = "S") -> None:
    """Create a provisioned table with key `pk` (and optionally a sort key)."""
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    definitions = [{"AttributeName": "pk", "AttributeType": partition_type}]
    if sort:
        keys.append({"AttributeName": sort, "KeyType": "RANGE"})
        definitions.append({"AttributeName": sort, "AttributeType": sort_type})
    client.create_table(
        TableName=name, KeySchema=keys, AttributeDefinitions=definitions,
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
