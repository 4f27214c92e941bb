"""`dynamo serve --processes`: each storage node its own process, talking TCP (§3, §6.1).

Real boto3 against a real server whose storage nodes are real processes: typed requests,
results and DynamoDB's errors cross the wire (`dynamo.net`'s codec) from the request
router in the server's process to the partitions' leaders in theirs. A storage node
killed with SIGKILL in the middle of a split is tests/cluster/test_process_fleet.py's.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from apitools import Server, create_table, make_client, start_server
from botocore.exceptions import ClientError


def state(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/admin/state", timeout=10) as answer:
        return json.loads(answer.read())


def replicas(url: str, table: str) -> list[dict[str, Any]]:
    """The replicas of the table's (first) partition, as each process reports itself."""
    (partition,) = [p for p in state(url)["partitions"] if p["table"] == f"us-east-1/{table}"]
    return partition["replicas"]


def wait_for(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return value


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = start_server("--in-memory", "--processes")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(server: Server):  # type: ignore[no-untyped-def]
    return make_client(server.url)


def test_each_storage_node_is_a_process_of_its_own(server: Server, client) -> None:  # type: ignore[no-untyped-def]
    """§3: a partition's three replicas on storage nodes in three zones; here three
    processes, none of them the server, each reporting its replica's role itself."""
    create_table(client, "procs-state")
    client.put_item(TableName="procs-state", Item={"pk": {"S": "a"}})
    shown = state(server.url)
    assert shown["mode"] == "processes"
    pids = [n["pid"] for n in shown["nodes"]]
    assert len(set(pids)) == 3 and server.pid not in pids
    for pid in pids:
        os.kill(pid, 0)  # a live process (raises if not)
    wait_for(lambda: sorted(r["role"] for r in replicas(server.url, "procs-state"))
             == ["follower", "follower", "leader"])


def test_typed_requests_and_results_cross_the_wire(client) -> None:  # type: ignore[no-untyped-def]
    """PutItem, UpdateItem (an expression AST), GetItem, Query with a filter, Scan, batches."""
    create_table(client, "procs-items", sort="sk")
    key = {"pk": {"S": "p"}, "sk": {"S": "1"}}
    client.put_item(TableName="procs-items", Item={**key, "n": {"N": "1"}, "tags": {"SS": ["x"]}})
    updated = client.update_item(
        TableName="procs-items", Key=key, UpdateExpression="ADD n :two SET note = :note",
        ExpressionAttributeValues={":two": {"N": "2"}, ":note": {"S": "hi"}},
        ReturnValues="ALL_NEW", ReturnConsumedCapacity="TOTAL")
    assert updated["Attributes"]["n"] == {"N": "3"}
    assert updated["ConsumedCapacity"]["CapacityUnits"] == 1.0
    got = client.get_item(TableName="procs-items", Key=key, ConsistentRead=True)
    assert got["Item"] == {**key, "n": {"N": "3"}, "tags": {"SS": ["x"]}, "note": {"S": "hi"}}
    client.batch_write_item(RequestItems={"procs-items": [
        {"PutRequest": {"Item": {"pk": {"S": "p"}, "sk": {"S": str(i)}, "n": {"N": str(i)}}}}
        for i in range(2, 6)]})
    page = client.query(TableName="procs-items", KeyConditionExpression="pk = :p AND sk > :s",
                        FilterExpression="n >= :min", ConsistentRead=True,
                        ExpressionAttributeValues={":p": {"S": "p"}, ":s": {"S": "1"},
                                                   ":min": {"N": "3"}})
    assert [i["sk"]["S"] for i in page["Items"]] == ["3", "4", "5"]
    assert page["ScannedCount"] == 4
    scanned = client.scan(TableName="procs-items", Limit=2, ConsistentRead=True)
    assert scanned["Count"] == 2 and "LastEvaluatedKey" in scanned
    batch = client.batch_get_item(RequestItems={"procs-items": {
        "Keys": [key, {"pk": {"S": "p"}, "sk": {"S": "5"}}], "ConsistentRead": True}})
    assert len(batch["Responses"]["procs-items"]) == 2


def test_errors_cross_the_wire_as_dynamodb_errors(client) -> None:  # type: ignore[no-untyped-def]
    """A rejected write comes back from the leader as DynamoDB's error, with ALL_OLD's item;
    an update that is invalid against the stored item is the replica's ValidationException."""
    create_table(client, "procs-errors")
    item = {"pk": {"S": "a"}, "v": {"S": "old"}}
    client.put_item(TableName="procs-errors", Item=item)
    with pytest.raises(ClientError) as failed:
        client.put_item(TableName="procs-errors", Item={"pk": {"S": "a"}},
                        ConditionExpression="attribute_not_exists(pk)",
                        ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert failed.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert failed.value.response["Item"] == item
    with pytest.raises(ClientError) as invalid:
        client.update_item(TableName="procs-errors", Key={"pk": {"S": "a"}},
                           UpdateExpression="ADD v :one",
                           ExpressionAttributeValues={":one": {"N": "1"}})
    assert invalid.value.response["Error"]["Code"] == "ValidationException"
    got = client.get_item(TableName="procs-errors", Key={"pk": {"S": "a"}}, ConsistentRead=True)
    assert got["Item"] == item  # neither rejected write changed anything
