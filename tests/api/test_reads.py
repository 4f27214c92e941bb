"""Query and Scan through boto3: key conditions, order, filters, Limit, 1 MB pages,
LastEvaluatedKey pagination and parallel scan segments (Developer Guide, "Paginating table query results")."""

from __future__ import annotations

import pytest
from apitools import create_table
from botocore.exceptions import ClientError


def error(excinfo) -> tuple[str, str]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["Error"]["Message"]


@pytest.fixture(scope="module")
def songs(client) -> str:
    """A table of 3 artists x 10 songs, sort key a number."""
    create_table(client, "songs", sort="n", sort_type="N")
    for artist in ("a", "b", "c"):
        for n in range(10):
            client.put_item(TableName="songs", Item={
                "pk": {"S": artist}, "n": {"N": str(n)}, "even": {"BOOL": n % 2 == 0}})
    return "songs"


def numbers(items) -> list[int]:
    return [int(item["n"]["N"]) for item in items]


def test_query_reads_one_collection_in_sort_key_order(client, songs):
    answer = client.query(TableName=songs, KeyConditionExpression="pk = :a",
                          ExpressionAttributeValues={":a": {"S": "b"}})
    assert numbers(answer["Items"]) == list(range(10))
    assert answer["Count"] == answer["ScannedCount"] == 10
    assert "LastEvaluatedKey" not in answer
    backwards = client.query(TableName=songs, KeyConditionExpression="pk = :a AND n >= :three",
                             ExpressionAttributeValues={":a": {"S": "b"}, ":three": {"N": "3"}},
                             ScanIndexForward=False)
    assert numbers(backwards["Items"]) == list(range(9, 2, -1))


def test_filter_applies_after_limit_counts_evaluated_items(client, songs):
    answer = client.query(TableName=songs, KeyConditionExpression="pk = :a",
                          FilterExpression="even = :t", Limit=4,
                          ExpressionAttributeValues={":a": {"S": "a"}, ":t": {"BOOL": True}})
    assert numbers(answer["Items"]) == [0, 2]
    assert answer["Count"] == 2 and answer["ScannedCount"] == 4
    assert answer["LastEvaluatedKey"] == {"pk": {"S": "a"}, "n": {"N": "3"}}


def test_query_pagination_with_exclusive_start_key_sees_every_item_once(client, songs):
    seen, start = [], None
    while True:
        kwargs = {"ExclusiveStartKey": start} if start else {}
        page = client.query(TableName=songs, KeyConditionExpression="pk = :a", Limit=3,
                            ExpressionAttributeValues={":a": {"S": "c"}}, **kwargs)
        seen += numbers(page["Items"])
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert seen == list(range(10))


def test_select_count_returns_no_items(client, songs):
    answer = client.query(TableName=songs, KeyConditionExpression="pk = :a", Select="COUNT",
                          ExpressionAttributeValues={":a": {"S": "a"}})
    assert answer["Count"] == 10
    assert "Items" not in answer


def test_query_without_key_condition_and_with_an_index_are_refused(client, songs):
    with pytest.raises(ClientError) as excinfo:
        client.query(TableName=songs)
    assert error(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        client.query(TableName=songs, IndexName="byN", KeyConditionExpression="pk = :a",
                     ExpressionAttributeValues={":a": {"S": "a"}})
    assert error(excinfo) == ("ValidationException",
                              "The table does not have the specified index: byN")


def test_scan_paginator_reads_the_whole_table(client, songs):
    pages = client.get_paginator("scan").paginate(TableName=songs, PaginationConfig={"PageSize": 7})
    items = [item for page in pages for item in page["Items"]]
    assert len(items) == 30
    assert {(i["pk"]["S"], i["n"]["N"]) for i in items} == {
        (a, str(n)) for a in "abc" for n in range(10)}


def test_parallel_scan_segments_partition_the_table(client, songs):
    found = []
    for segment in range(4):
        answer = client.scan(TableName=songs, Segment=segment, TotalSegments=4)
        found += [(i["pk"]["S"], i["n"]["N"]) for i in answer["Items"]]
    assert len(found) == len(set(found)) == 30
    with pytest.raises(ClientError) as excinfo:
        client.scan(TableName=songs, Segment=4, TotalSegments=4)
    assert "Segment: 4 is not less than TotalSegments: 4" in error(excinfo)[1]
    with pytest.raises(ClientError) as excinfo:
        client.scan(TableName=songs, Segment=1)
    assert error(excinfo)[1].startswith("The TotalSegments parameter is required")


def test_scan_consumed_capacity_is_reported(client, songs):
    answer = client.scan(TableName=songs, ReturnConsumedCapacity="TOTAL", ConsistentRead=True)
    assert answer["ConsumedCapacity"]["TableName"] == songs
    assert answer["ConsumedCapacity"]["CapacityUnits"] >= 1.0


def test_pages_stop_at_one_megabyte(client, table_name):
    # 2.4 MB of writes: more than a 5 WCU table's 300 s of burst (1,500 WCU) holds.
    create_table(client, table_name, sort="n", sort_type="N", capacity=1000)
    blob = "x" * (300 * 1024)
    for n in range(8):   # 8 x 300 KB = 2.4 MB in one item collection
        client.put_item(TableName=table_name,
                        Item={"pk": {"S": "big"}, "n": {"N": str(n)}, "v": {"S": blob}})
    first = client.query(TableName=table_name, KeyConditionExpression="pk = :p",
                         ExpressionAttributeValues={":p": {"S": "big"}})
    assert 3 <= first["Count"] <= 4
    assert "LastEvaluatedKey" in first
    pages = client.get_paginator("scan").paginate(TableName=table_name)
    counts = [page["Count"] for page in pages]
    assert sum(counts) == 8 and len(counts) >= 3
