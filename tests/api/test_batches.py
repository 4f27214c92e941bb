"""BatchGetItem and BatchWriteItem through boto3: limits, duplicates, UnprocessedKeys
past 16 MB, and that a bad request anywhere in a batch writes nothing (API Reference, "BatchWriteItem")."""

from __future__ import annotations

import time

import pytest
from apitools import create_table
from botocore.exceptions import ClientError


def error(excinfo) -> tuple[str, str]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["Error"]["Message"]


def put(item):
    return {"PutRequest": {"Item": item}}


def test_batch_write_then_batch_get_across_two_tables(client, table_name):
    other = table_name + "-other"
    create_table(client, table_name)
    create_table(client, other)
    answer = client.batch_write_item(RequestItems={
        table_name: [put({"pk": {"S": f"k{i}"}, "v": {"N": str(i)}}) for i in range(20)],
        other: [put({"pk": {"S": "only"}})],
    }, ReturnConsumedCapacity="TOTAL")
    assert answer["UnprocessedItems"] == {}
    assert {c["TableName"]: c["CapacityUnits"] for c in answer["ConsumedCapacity"]} == {
        table_name: 20.0, other: 1.0}
    got = client.batch_get_item(RequestItems={
        table_name: {"Keys": [{"pk": {"S": f"k{i}"}} for i in range(0, 20, 2)] + [
            {"pk": {"S": "absent"}}]},
        other: {"Keys": [{"pk": {"S": "only"}}], "ConsistentRead": True},
    })
    assert sorted(int(i["v"]["N"]) for i in got["Responses"][table_name]) == list(range(0, 20, 2))
    assert got["Responses"][other] == [{"pk": {"S": "only"}}]
    assert got["UnprocessedKeys"] == {}


def test_batch_write_deletes(client, table_name):
    create_table(client, table_name)
    client.put_item(TableName=table_name, Item={"pk": {"S": "gone"}})
    client.batch_write_item(RequestItems={table_name: [
        {"DeleteRequest": {"Key": {"pk": {"S": "gone"}}}}, put({"pk": {"S": "new"}})]})
    assert "Item" not in client.get_item(TableName=table_name, Key={"pk": {"S": "gone"}})
    assert "Item" in client.get_item(TableName=table_name, Key={"pk": {"S": "new"}})


def test_batch_limits(client, table_name):
    create_table(client, table_name)
    with pytest.raises(ClientError) as excinfo:
        client.batch_write_item(RequestItems={
            table_name: [put({"pk": {"S": str(i)}}) for i in range(26)]})
    assert error(excinfo)[0] == "ValidationException"
    assert "Member must have length less than or equal to 25" in error(excinfo)[1]
    with pytest.raises(ClientError) as excinfo:
        client.batch_get_item(RequestItems={
            table_name: {"Keys": [{"pk": {"S": str(i)}} for i in range(101)]}})
    assert error(excinfo)[0] == "ValidationException"
    assert "Scan" not in error(excinfo)[1]
    assert client.scan(TableName=table_name)["Count"] == 0


def test_duplicate_keys_are_refused_and_nothing_is_written(client, table_name):
    create_table(client, table_name)
    with pytest.raises(ClientError) as excinfo:
        client.batch_write_item(RequestItems={table_name: [
            put({"pk": {"S": "a"}}), put({"pk": {"S": "b"}}), put({"pk": {"S": "a"}})]})
    assert error(excinfo) == ("ValidationException",
                              "Provided list of item keys contains duplicates")
    assert client.scan(TableName=table_name)["Count"] == 0
    with pytest.raises(ClientError) as excinfo:
        client.batch_get_item(RequestItems={table_name: {"Keys": [{"pk": {"S": "a"}}] * 2}})
    assert error(excinfo) == ("ValidationException",
                              "Provided list of item keys contains duplicates")


def test_one_bad_item_fails_the_whole_batch(client, table_name):
    create_table(client, table_name)
    with pytest.raises(ClientError) as excinfo:
        client.batch_write_item(RequestItems={table_name: [
            put({"pk": {"S": "fine"}}), put({"pk": {"N": "1"}})]})
    assert error(excinfo)[0] == "ValidationException"
    assert client.scan(TableName=table_name)["Count"] == 0
    with pytest.raises(ClientError) as excinfo:
        client.batch_write_item(RequestItems={"Nothing": [put({"pk": {"S": "x"}})]})
    assert error(excinfo) == ("ResourceNotFoundException", "Requested resource not found")


def test_batch_get_past_16_mb_returns_unprocessed_keys(client, table_name):
    # 19 MB of writes: more than a 5 WCU table's 300 s of burst (1,500 WCU) holds.
    create_table(client, table_name, capacity=100)
    blob = "x" * (390 * 1024)
    keys = [{"pk": {"S": f"k{i:02d}"}} for i in range(50)]   # 50 x 390 KB = 19 MB
    for start in range(0, 50, 25):
        write_all(client, table_name, [put({**key, "v": {"S": blob}})
                                       for key in keys[start:start + 25]])
    answer = client.batch_get_item(RequestItems={
        table_name: {"Keys": keys, "ProjectionExpression": "pk, v"}})
    returned = answer["Responses"][table_name]
    unprocessed = answer["UnprocessedKeys"][table_name]["Keys"]
    assert 30 <= len(returned) < 50
    assert unprocessed[0] not in [{"pk": item["pk"]} for item in returned]
    assert answer["UnprocessedKeys"][table_name]["ProjectionExpression"] == "pk, v"
    assert {i["pk"]["S"] for i in returned} | {k["pk"]["S"] for k in unprocessed} == {
        k["pk"]["S"] for k in keys}


def write_all(client, table_name, writes, attempts=50):
    """BatchWriteItem until every write is made, as an SDK does: 9.75 MB in one batch is
    more than a storage node admits in a second (§4), so some writes come back
    unprocessed or throttled, and are sent again a moment later."""
    for _ in range(attempts):
        try:
            answer = client.batch_write_item(RequestItems={table_name: writes})
        except client.exceptions.ProvisionedThroughputExceededException:
            time.sleep(0.2)
            continue
        writes = answer["UnprocessedItems"].get(table_name, [])
        if not writes:
            return
        time.sleep(0.2)
    raise AssertionError(f"{len(writes)} writes still unprocessed")
