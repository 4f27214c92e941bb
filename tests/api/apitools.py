"""Helpers for the API tests: start the real `dynamo serve`, make boto3 clients, tables."""

from __future__ import annotations

import boto3
from botocore.config import Config

from dynamo.cli.launch import Server, serve_args, start_server

__all__ = ["Server", "serve_args", "start_server"]

__all__ = ["REGION", "CREDENTIALS", "Server", "start_server", "make_client", "create_table"]

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "AKIDLAB", "aws_secret_access_key": "secret"}


def make_client(url: str, region: str = REGION):  # type: ignore[no-untyped-def]
    """A boto3 DynamoDB client for `url`, without retries so errors surface at once."""
    return boto3.client(
        "dynamodb", endpoint_url=url, region_name=region, **CREDENTIALS,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def create_table(client, name: str, sort: str | None = None, sort_type: str = "S",  # type: ignore[no-untyped-def]
                 partition_type: str = "S", capacity: int = 5) -> None:
    """Create a provisioned table with key `pk` (and optionally a sort key), of `capacity`
    RCU and WCU: a test that writes megabytes needs the throughput to write them (§4)."""
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    definitions = [{"AttributeName": "pk", "AttributeType": partition_type}]
    if sort:
        keys.append({"AttributeName": sort, "KeyType": "RANGE"})
        definitions.append({"AttributeName": sort, "AttributeType": sort_type})
    client.create_table(
        TableName=name, KeySchema=keys, AttributeDefinitions=definitions,
        ProvisionedThroughput={"ReadCapacityUnits": capacity, "WriteCapacityUnits": capacity},
    )
