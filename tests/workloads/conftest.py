"""Fixtures for the workload tests: a real `dynamo serve` process and boto3."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config
from locusttools import dynamo_serve


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An in-memory `dynamo serve` on a free port, for the whole test file."""
    with dynamo_serve(tmp_path_factory.mktemp("server") / "serve.log") as url:
        yield url


@pytest.fixture(scope="module")
def client(server_url: str):  # type: ignore[no-untyped-def]
    """boto3's DynamoDB client for the server, dummy credentials, no retries."""
    return boto3.client("dynamodb", endpoint_url=server_url, region_name="us-east-1",
                        aws_access_key_id="AKIDTEST", aws_secret_access_key="secret",
                        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
