"""Time to Live through boto3 and PynamoDB, against a real `dynamo serve`.

UpdateTimeToLive and DescribeTimeToLive with DynamoDB's answers and errors (API
Reference; dynalite's recorded answers), and the sweeper behind them
(`dynamo.cluster.ttl`): an item whose TTL attribute is a Number earlier than
now is deleted within a few `--ttl-interval`s; any other item stays; an
expired item not yet swept is still read, as DynamoDB's are. Two servers: one
sweeping every half second, one that waits an hour between sweeps.
"""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from apitools import REGION, Server, create_table, make_client, start_server
from botocore.exceptions import ClientError

from dynamo.cli.sigv4 import Signer

INTERVAL_S = 0.5


@pytest.fixture(scope="module")
def sweeping() -> Iterator[Server]:
    """A server that sweeps expired items every half second."""
    running = start_server("--in-memory", "--ttl-interval", str(INTERVAL_S))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def waiting() -> Iterator[Server]:
    """A server whose sweeper waits an hour: what expires stays until then."""
    running = start_server("--in-memory", "--ttl-interval", "3600")
    yield running
    running.stop()


_names = iter(range(1_000_000))


@pytest.fixture
def table() -> str:
    return f"ttl{os.getpid()}-{next(_names)}"


def enable(client: Any, table: str, attribute: str = "expires") -> dict[str, Any]:
    return client.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute})


def refused(call: Callable[[], Any]) -> tuple[str, str]:
    """The (error code, message) a call is refused with."""
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def raw_call(server: Server, operation: str, request: dict[str, Any]) -> tuple[int, Any]:
    """A signed call that no client library checks first (boto3 refuses bad shapes)."""
    body = orjson.dumps(request)
    signer = Signer("AKIDLAB", "secret", REGION, f"127.0.0.1:{server.port}")
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("POST", "/", body=body,
                           headers=signer.headers(f"DynamoDB_20120810.{operation}", body))
        answer = connection.getresponse()
        return answer.status, orjson.loads(answer.read())
    finally:
        connection.close()


def wait_for(condition: Callable[[], bool], seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def events(server: Server) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{server.url}/admin/events") as answer:
        return [json.loads(line) for line in answer.read().splitlines()]


def keys(client: Any, table: str) -> set[str]:
    items = client.scan(TableName=table, ConsistentRead=True)["Items"]
    return {item["pk"]["S"] for item in items}


# --- the two operations ------------------------------------------------------------------

def test_ttl_is_enabled_described_and_disabled(waiting: Server, table: str) -> None:
    client = make_client(waiting.url)
    create_table(client, table)
    assert client.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"}
    assert enable(client, table)["TimeToLiveSpecification"] == {
        "AttributeName": "expires", "Enabled": True}
    assert client.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    disabled = client.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"})
    assert disabled["TimeToLiveSpecification"] == {"Enabled": False}
    assert client.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"}


def test_a_change_that_changes_nothing_is_refused(waiting: Server, table: str) -> None:
    client = make_client(waiting.url)
    create_table(client, table)
    disable = {"Enabled": False, "AttributeName": "expires"}
    assert refused(lambda: client.update_time_to_live(
        TableName=table, TimeToLiveSpecification=disable)) == (
        "ValidationException", "TimeToLive is already disabled")
    enable(client, table)
    assert refused(lambda: enable(client, table)) == (
        "ValidationException", "TimeToLive is already enabled")


def test_another_attribute_is_refused_while_ttl_is_enabled(waiting: Server, table: str) -> None:
    """The attribute changes only through a disable, then an enable."""
    client = make_client(waiting.url)
    create_table(client, table)
    enable(client, table)
    message = ("TimeToLive is active on a different AttributeName: current AttributeName "
               "is expires")
    assert refused(lambda: enable(client, table, "other")) == ("ValidationException", message)
    assert refused(lambda: client.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": False, "AttributeName": "other"})
    ) == ("ValidationException", message)
    client.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"})
    enable(client, table, "other")
    assert client.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "other"}


def test_a_missing_table_is_resource_not_found(waiting: Server, table: str) -> None:
    client = make_client(waiting.url)
    expected = ("ResourceNotFoundException", f"Requested resource not found: Table: {table} not found")
    assert refused(lambda: enable(client, table)) == expected
    assert refused(lambda: client.describe_time_to_live(TableName=table)) == expected


@pytest.mark.parametrize(("operation", "request_", "message"), [
    ("UpdateTimeToLive", {"TableName": "abc", "TimeToLiveSpecification": {}},
     "2 validation errors detected: Value null at 'timeToLiveSpecification.enabled' failed to "
     "satisfy constraint: Member must not be null; Value null at "
     "'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must not "
     "be null"),
    ("UpdateTimeToLive", {"TableName": "abc"},
     "1 validation error detected: Value null at 'timeToLiveSpecification' failed to satisfy "
     "constraint: Member must not be null"),
    ("UpdateTimeToLive",
     {"TableName": "abc", "TimeToLiveSpecification": {"AttributeName": "", "Enabled": True}},
     "TimeToLiveSpecification.AttributeName must be non empty"),
    ("UpdateTimeToLive", {}, "The parameter 'TableName' is required but was not present in "
     "the request"),
    ("DescribeTimeToLive", {"TableName": "a;"},
     "TableName must be at least 3 characters long and at most 255 characters long"),
    ("DescribeTimeToLive", {"TableName": "abc;"},
     "1 validation error detected: Value 'abc;' at 'tableName' failed to satisfy constraint: "
     "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"),
])
def test_malformed_requests_get_dynamodbs_validation_messages(
        waiting: Server, operation: str, request_: dict[str, Any], message: str) -> None:
    """dynalite's recorded answers, checked before any table is looked up."""
    status, answer = raw_call(waiting, operation, request_)
    assert status == 400
    assert answer["__type"].endswith("#ValidationException")
    assert answer["message"] == message


# --- the sweeper ---------------------------------------------------------------------------

def test_expired_items_are_deleted_and_every_other_item_stays(sweeping: Server,
                                                              table: str) -> None:
    """An item expires when its TTL attribute is a Number (epoch seconds) earlier than
    now; a String, a Number set, a time more than five years ago, or no attribute at all
    never expires. ItemCount drops with the deletes."""
    client = make_client(sweeping.url)
    create_table(client, table)
    enable(client, table)
    now = int(time.time())
    items = {
        "expired": {"N": str(now - 60)},
        "expired-long-ago": {"N": str(now - 3 * 365 * 24 * 3600)},
        "future": {"N": str(now + 3600)},
        "string": {"S": str(now - 60)},
        "number-set": {"NS": [str(now - 60)]},
        "five-years-and-more": {"N": str(now - 6 * 365 * 24 * 3600)},
    }
    for key, expires in items.items():
        client.put_item(TableName=table, Item={"pk": {"S": key}, "expires": expires})
    client.put_item(TableName=table, Item={"pk": {"S": "no-attribute"}})
    staying = {"future", "string", "number-set", "five-years-and-more", "no-attribute"}
    assert wait_for(lambda: keys(client, table) == staying), keys(client, table)
    assert wait_for(lambda: client.describe_table(TableName=table)["Table"]["ItemCount"] == 5)
    time.sleep(4 * INTERVAL_S)  # more sweeps delete nothing more
    assert keys(client, table) == staying
    swept = [e for e in events(sweeping) if e["kind"] == "ttl_deleted"
             and e["table"] == f"{REGION}/{table}"]
    assert sum(e["items"] for e in swept) == 2  # the event stream says what TTL did


def test_an_item_expires_once_its_time_passes(sweeping: Server, table: str) -> None:
    client = make_client(sweeping.url)
    create_table(client, table)
    enable(client, table)
    client.put_item(TableName=table, Item={"pk": {"S": "soon"},
                                           "expires": {"N": str(int(time.time()) + 2)}})
    assert keys(client, table) == {"soon"}
    assert wait_for(lambda: keys(client, table) == set())


def test_a_table_without_ttl_is_never_swept(sweeping: Server, table: str) -> None:
    client = make_client(sweeping.url)
    create_table(client, table)
    client.put_item(TableName=table, Item={"pk": {"S": "old"},
                                           "expires": {"N": str(int(time.time()) - 60)}})
    time.sleep(4 * INTERVAL_S)
    assert keys(client, table) == {"old"}


def test_an_expired_item_is_still_returned_until_it_is_swept(waiting: Server,
                                                             table: str) -> None:
    """DynamoDB: "Items that have expired and not been deleted will still show up in
    reads, queries, and scans"."""
    client = make_client(waiting.url)
    create_table(client, table)
    enable(client, table)
    item = {"pk": {"S": "expired"}, "expires": {"N": str(int(time.time()) - 60)}}
    client.put_item(TableName=table, Item=item)
    assert client.get_item(TableName=table, Key={"pk": item["pk"]})["Item"] == item
    queried = client.query(TableName=table, KeyConditionExpression="pk = :pk",
                           ExpressionAttributeValues={":pk": item["pk"]})
    assert queried["Items"] == [item]
    assert client.scan(TableName=table)["Items"] == [item]


def test_a_pynamodb_model_with_a_ttl_attribute(sweeping: Server, table: str) -> None:
    """PynamoDB's `create_table` enables TTL on the model's TTLAttribute; an item saved
    with a past expiry is deleted by the sweeper, one with a future expiry stays."""
    from pynamodb.attributes import TTLAttribute, UnicodeAttribute
    from pynamodb.models import Model

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "AKIDLAB")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "secret")
    sessions_table, url = table, sweeping.url

    class Session(Model):
        class Meta:
            table_name = sessions_table
            region = REGION
            host = url
            read_capacity_units = 5
            write_capacity_units = 5

        token = UnicodeAttribute(hash_key=True)
        expires = TTLAttribute()

    Session.create_table(wait=True)
    assert make_client(url).describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    Session("old", expires=datetime.now(UTC) - timedelta(minutes=5)).save()
    Session("fresh", expires=timedelta(hours=1)).save()

    def old_is_gone() -> bool:
        try:
            Session.get("old", consistent_read=True)
        except Session.DoesNotExist:
            return True
        return False

    assert wait_for(old_is_gone)
    assert Session.get("fresh", consistent_read=True).expires > datetime.now(UTC)
