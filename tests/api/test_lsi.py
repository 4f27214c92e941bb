"""Local secondary indexes through boto3 and PynamoDB, against a real `dynamo serve`.

An LSI shares its table's partition key and sorts each item collection by
another attribute (Developer Guide, "Local secondary indexes"); it is kept in
the base partition, in the same replicated write as the item (paper §2), so it
can be read strongly consistently, and it keeps answering across splits.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from apitools import REGION, Server, make_client, start_server
from botocore.exceptions import ClientError

THROUGHPUT = {"ReadCapacityUnits": 1000, "WriteCapacityUnits": 1000}
KEYS = [{"AttributeName": "user", "KeyType": "HASH"}, {"AttributeName": "ts", "KeyType": "RANGE"}]
DEFINITIONS = [{"AttributeName": "user", "AttributeType": "S"},
               {"AttributeName": "ts", "AttributeType": "N"},
               {"AttributeName": "title", "AttributeType": "S"}]
BY_TITLE = {"IndexName": "byTitle",
            "KeySchema": [{"AttributeName": "user", "KeyType": "HASH"},
                          {"AttributeName": "title", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    body = excinfo.value.response["Error"]
    return body["Code"], body["Message"]


def create(client: Any, name: str, **extra: Any) -> None:
    params: dict[str, Any] = {"TableName": name, "KeySchema": KEYS,
                              "AttributeDefinitions": DEFINITIONS,
                              "ProvisionedThroughput": THROUGHPUT,
                              "LocalSecondaryIndexes": [BY_TITLE], **extra}
    client.create_table(**params)


def post(user: str, ts: int, title: str | None = None, **more: str) -> dict[str, Any]:
    item: dict[str, Any] = {"user": {"S": user}, "ts": {"N": str(ts)}}
    if title is not None:
        item["title"] = {"S": title}
    item.update({name: {"S": value} for name, value in more.items()})
    return item


def titles(client: Any, table: str, user: str = "ann", **kw: Any) -> list[str]:
    answer = client.query(TableName=table, IndexName="byTitle",
                          KeyConditionExpression="#u = :u",
                          ExpressionAttributeNames={"#u": "user"},
                          ExpressionAttributeValues={":u": {"S": user}}, **kw)
    return [item["title"]["S"] for item in answer["Items"]]


@pytest.fixture
def posts(client: Any, table_name: str) -> str:
    create(client, table_name)
    for ts, title in enumerate(["c", "a", "d", "b"]):
        client.put_item(TableName=table_name, Item=post("ann", ts, title, body="x" * 100))
    client.put_item(TableName=table_name, Item=post("ann", 9))  # no title: not in the index
    return table_name


# -- reads ------------------------------------------------------------------------------


def test_describe_table_lists_the_local_index(client: Any, table_name: str) -> None:
    create(client, table_name)
    [index] = client.describe_table(TableName=table_name)["Table"]["LocalSecondaryIndexes"]
    assert index["IndexName"] == "byTitle"
    assert index["KeySchema"] == BY_TITLE["KeySchema"]
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert index["IndexArn"].endswith(f":table/{table_name}/index/byTitle")


def test_a_query_on_the_index_reads_the_collection_in_index_order(client: Any,
                                                                  posts: str) -> None:
    """The item without the index's sort key is absent: indexes are sparse."""
    assert titles(client, posts) == ["a", "b", "c", "d"]
    assert titles(client, posts, ScanIndexForward=False) == ["d", "c", "b", "a"]


def test_a_local_index_reads_strongly_consistently_right_after_a_write(client: Any,
                                                                       posts: str) -> None:
    client.put_item(TableName=posts, Item=post("ann", 20, "aa"))
    assert titles(client, posts, ConsistentRead=True) == ["a", "aa", "b", "c", "d"]


def test_pages_carry_the_index_and_table_keys(client: Any, posts: str) -> None:
    first = client.query(TableName=posts, IndexName="byTitle", Limit=2,
                         KeyConditionExpression="#u = :u AND title > :t",
                         ExpressionAttributeNames={"#u": "user"},
                         ExpressionAttributeValues={":u": {"S": "ann"}, ":t": {"S": "a"}})
    assert first["LastEvaluatedKey"] == {"user": {"S": "ann"}, "ts": {"N": "0"},
                                         "title": {"S": "c"}}
    pages = client.get_paginator("query").paginate(
        TableName=posts, IndexName="byTitle", KeyConditionExpression="#u = :u",
        ExpressionAttributeNames={"#u": "user"},
        ExpressionAttributeValues={":u": {"S": "ann"}}, PaginationConfig={"PageSize": 1})
    assert [i["title"]["S"] for page in pages for i in page["Items"]] == ["a", "b", "c", "d"]


def test_select_all_attributes_fetches_from_the_table_and_costs_more(client: Any,
                                                                     posts: str) -> None:
    projected = client.query(TableName=posts, IndexName="byTitle", ConsistentRead=True,
                             KeyConditionExpression="#u = :u",
                             ExpressionAttributeNames={"#u": "user"},
                             ExpressionAttributeValues={":u": {"S": "ann"}},
                             ReturnConsumedCapacity="INDEXES")
    # --8<-- [start:fetch-cost]
    fetched = client.query(TableName=posts, IndexName="byTitle", ConsistentRead=True,
                           Select="ALL_ATTRIBUTES", KeyConditionExpression="#u = :u",
                           ExpressionAttributeNames={"#u": "user"},
                           ExpressionAttributeValues={":u": {"S": "ann"}},
                           ReturnConsumedCapacity="INDEXES")
    assert set(projected["Items"][0]) == {"user", "ts", "title"}
    assert all(item["body"] == {"S": "x" * 100} for item in fetched["Items"])
    index_units = projected["ConsumedCapacity"]["LocalSecondaryIndexes"]["byTitle"]
    assert fetched["ConsumedCapacity"]["LocalSecondaryIndexes"]["byTitle"] == index_units
    # Four items fetched, each under 4 KB: one read unit each, beside the entries'.
    assert fetched["ConsumedCapacity"]["CapacityUnits"] == index_units["CapacityUnits"] + 4
    # --8<-- [end:fetch-cost]


def test_a_scan_of_the_index_reads_every_entry(client: Any, posts: str) -> None:
    answer = client.scan(TableName=posts, IndexName="byTitle")
    assert sorted(i["title"]["S"] for i in answer["Items"]) == ["a", "b", "c", "d"]


def test_entries_follow_updates_and_deletes(client: Any, posts: str) -> None:
    key = {"user": {"S": "ann"}, "ts": {"N": "1"}}
    client.update_item(TableName=posts, Key=key, UpdateExpression="SET title = :t",
                       ExpressionAttributeValues={":t": {"S": "z"}})
    assert titles(client, posts) == ["b", "c", "d", "z"]
    client.update_item(TableName=posts, Key={**key, "ts": {"N": "0"}},
                       UpdateExpression="REMOVE title")
    assert titles(client, posts) == ["b", "d", "z"]
    client.delete_item(TableName=posts, Key=key)
    client.batch_write_item(RequestItems={posts: [
        {"DeleteRequest": {"Key": {**key, "ts": {"N": "2"}}}},
        {"PutRequest": {"Item": post("ann", 30, "q")}}]})
    assert titles(client, posts) == ["b", "q"]


def test_an_index_key_of_the_wrong_type_is_refused(client: Any, posts: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.put_item(TableName=posts, Item={**post("ann", 40), "title": {"N": "1"}})
    assert error(excinfo) == (
        "ValidationException", "One or more parameter values were invalid: Type mismatch for "
        "Index Key title Expected: S Actual: N IndexName: byTitle")
    assert client.get_item(TableName=posts, Key=post("ann", 40)).get("Item") is None


def test_delete_table_drops_the_entries_with_the_items(client: Any, posts: str) -> None:
    client.delete_table(TableName=posts)
    create(client, posts)
    assert titles(client, posts) == []


@pytest.mark.parametrize("kwargs, message", [
    ({"IndexName": "nope"}, "The table does not have the specified index: nope"),
    ({"IndexName": "byTitle", "ExclusiveStartKey": {"user": {"S": "ann"}, "ts": {"N": "1"}}},
     "The provided starting key is invalid"),
    ({"Select": "ALL_PROJECTED_ATTRIBUTES"},
     "1 validation error detected: ALL_PROJECTED_ATTRIBUTES can be used only when Querying "
     "using an IndexName"),
])
def test_query_refusals(client: Any, posts: str, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.query(TableName=posts, KeyConditionExpression="#u = :u",
                     ExpressionAttributeNames={"#u": "user"},
                     ExpressionAttributeValues={":u": {"S": "ann"}}, **kwargs)
    assert error(excinfo) == ("ValidationException", message)


def test_a_global_index_refuses_consistent_reads_and_all_attributes(client: Any,
                                                                   table_name: str) -> None:
    client.create_table(
        TableName=table_name, KeySchema=KEYS, AttributeDefinitions=DEFINITIONS,
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[{**BY_TITLE, "IndexName": "gsi",
                                 "KeySchema": [{"AttributeName": "title", "KeyType": "HASH"}]}])
    query = {"TableName": table_name, "IndexName": "gsi", "KeyConditionExpression": "title = :t",
             "ExpressionAttributeValues": {":t": {"S": "a"}}}
    with pytest.raises(ClientError) as excinfo:
        client.query(**query, ConsistentRead=True)
    assert error(excinfo) == ("ValidationException",
                              "Consistent reads are not supported on global secondary indexes")
    with pytest.raises(ClientError) as excinfo:
        client.query(**query, Select="ALL_ATTRIBUTES")
    assert error(excinfo) == (
        "ValidationException", "One or more parameter values were invalid: Select type "
        "ALL_ATTRIBUTES is not supported for global secondary index gsi because its projection "
        "type is not ALL")
    [index] = client.describe_table(TableName=table_name)["Table"]["GlobalSecondaryIndexes"]
    assert index["IndexStatus"] == "ACTIVE"
    assert index["ProvisionedThroughput"]["ReadCapacityUnits"] == 0


# -- CreateTable's checks -----------------------------------------------------------------

INVALID = "One or more parameter values were invalid: "


def lsi(**changes: Any) -> dict[str, Any]:
    return {**BY_TITLE, **changes}


GSI = {"IndexName": "gsi", "KeySchema": [{"AttributeName": "title", "KeyType": "HASH"}],
       "Projection": {"ProjectionType": "ALL"}}


@pytest.mark.parametrize("extra, message", [
    ({"LocalSecondaryIndexes": []}, INVALID + "List of LocalSecondaryIndexes is empty"),
    ({"GlobalSecondaryIndexes": []}, INVALID + "List of GlobalSecondaryIndexes is empty"),
    ({"LocalSecondaryIndexes": [lsi(KeySchema=[{"AttributeName": "user", "KeyType": "HASH"},
                                               {"AttributeName": "nope", "KeyType": "RANGE"}])]},
     INVALID + "Some index key attributes are not defined in AttributeDefinitions. Keys: "
     "[user, nope], AttributeDefinitions: [user, ts, title]"),
    ({"LocalSecondaryIndexes": [lsi(KeySchema=[{"AttributeName": "user", "KeyType": "HASH"}])]},
     INVALID + "Index KeySchema does not have a range key for index: byTitle"),
    ({"LocalSecondaryIndexes": [lsi(KeySchema=[{"AttributeName": "title", "KeyType": "HASH"},
                                               {"AttributeName": "ts", "KeyType": "RANGE"}])]},
     INVALID + "Index KeySchema does not have the same leading hash key as table KeySchema "
     "for index: byTitle. index hash key: title, table hash key: user"),
    ({"LocalSecondaryIndexes": [lsi(KeySchema=[{"AttributeName": "user", "KeyType": "RANGE"},
                                               {"AttributeName": "title", "KeyType": "HASH"}])]},
     "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"),
    ({"LocalSecondaryIndexes": [lsi(KeySchema=[{"AttributeName": "user", "KeyType": "HASH"},
                                               {"AttributeName": "user", "KeyType": "RANGE"}])]},
     "Both the Hash Key and the Range Key element in the KeySchema have the same name"),
    ({"LocalSecondaryIndexes": [lsi(Projection={})]}, INVALID + "Unknown ProjectionType: null"),
    ({"LocalSecondaryIndexes": [lsi(Projection={"ProjectionType": "ALL",
                                                "NonKeyAttributes": ["a"]})]},
     INVALID + "ProjectionType is ALL, but NonKeyAttributes is specified"),
    ({"LocalSecondaryIndexes": [lsi(Projection={"ProjectionType": "INCLUDE"})]},
     INVALID + "ProjectionType is INCLUDE, but NonKeyAttributes is not specified"),
    ({"LocalSecondaryIndexes": [lsi(), lsi()]}, INVALID + "Duplicate index name: byTitle"),
    ({"LocalSecondaryIndexes": [lsi(IndexName=f"i{n:02d}") for n in range(6)]},
     INVALID + "Number of LocalSecondaryIndexes exceeds per-table limit of 5"),
    ({"GlobalSecondaryIndexes": [{**GSI, "IndexName": f"g{n:02d}",
                                  "ProvisionedThroughput": THROUGHPUT} for n in range(21)]},
     INVALID + "GlobalSecondaryIndex count exceeds the per-table limit of 20"),
    ({"LocalSecondaryIndexes": [lsi()], "GlobalSecondaryIndexes": [{**GSI, "IndexName":
                                                                    "byTitle"}]},
     INVALID + "Duplicate index name: byTitle"),
    ({"GlobalSecondaryIndexes": [GSI]},
     INVALID + "ProvisionedThroughput is not specified for index: gsi"),
    ({"GlobalSecondaryIndexes": [{**GSI, "ProvisionedThroughput": THROUGHPUT}],
      "BillingMode": "PAY_PER_REQUEST", "ProvisionedThroughput": None},
     INVALID + "ProvisionedThroughput should not be specified for index: gsi when BillingMode "
     "is PAY_PER_REQUEST"),
    ({"AttributeDefinitions": [*DEFINITIONS, {"AttributeName": "extra", "AttributeType": "S"}]},
     INVALID + "Some AttributeDefinitions are not used. AttributeDefinitions: [user, ts, "
     "title, extra], keys used: [user, ts, title]"),
])
def test_create_table_refuses_bad_indexes(client: Any, table_name: str, extra: dict[str, Any],
                                          message: str) -> None:
    params: dict[str, Any] = {"TableName": table_name, "KeySchema": KEYS,
                              "AttributeDefinitions": DEFINITIONS,
                              "ProvisionedThroughput": THROUGHPUT,
                              "LocalSecondaryIndexes": [BY_TITLE], **extra}
    params = {name: value for name, value in params.items() if value is not None}
    with pytest.raises(ClientError) as excinfo:
        client.create_table(**params)
    assert error(excinfo) == ("ValidationException", message)
    assert table_name not in client.list_tables()["TableNames"]


def test_a_table_without_a_sort_key_cannot_have_a_local_index(client: Any,
                                                              table_name: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.create_table(TableName=table_name,
                            KeySchema=[{"AttributeName": "user", "KeyType": "HASH"}],
                            AttributeDefinitions=[DEFINITIONS[0], DEFINITIONS[2]],
                            ProvisionedThroughput=THROUGHPUT, LocalSecondaryIndexes=[BY_TITLE])
    assert error(excinfo) == ("ValidationException", INVALID + "Table KeySchema does not have a "
                              "range key, which is required when specifying a "
                              "LocalSecondaryIndex")


def test_an_index_name_is_checked_by_the_request_shape(client: Any, table_name: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        create(client, table_name, LocalSecondaryIndexes=[lsi(IndexName="a;b")])
    code, message = error(excinfo)
    assert code == "ValidationException"
    assert "localSecondaryIndexes.1.member.indexName" in message


# -- the item collection limit ----------------------------------------------------------

LIMIT = 2048


@pytest.fixture(scope="module")
def small() -> Any:
    running = start_server("--in-memory", "--item-collection-limit", str(LIMIT))
    yield make_client(running.url)
    running.stop()


def test_an_item_collection_may_not_grow_past_its_limit(small: Any, table_name: str) -> None:
    """Developer Guide: past 10 GB (here 2 KB), writes that add to the collection fail."""
    create(small, table_name)
    body = "x" * 1000
    small.put_item(TableName=table_name, Item=post("ann", 1, "a", body=body))
    with pytest.raises(ClientError) as excinfo:
        small.put_item(TableName=table_name, Item=post("ann", 2, "b", body=body))
    assert error(excinfo) == ("ItemCollectionSizeLimitExceededException",
                              "Item collection size limit exceeded")
    small.put_item(TableName=table_name, Item=post("bob", 2, "b", body=body))
    small.delete_item(TableName=table_name, Key=post("ann", 1))  # shrinking is always allowed


def test_return_item_collection_metrics_reports_the_collection(small: Any,
                                                               table_name: str) -> None:
    create(small, table_name)
    answers = [
        small.put_item(TableName=table_name, Item=post("ann", 1, "a"),
                       ReturnItemCollectionMetrics="SIZE"),
        small.update_item(TableName=table_name, Key=post("ann", 1), UpdateExpression="SET b = :b",
                          ExpressionAttributeValues={":b": {"S": "b"}},
                          ReturnItemCollectionMetrics="SIZE"),
        small.delete_item(TableName=table_name, Key=post("ann", 1),
                          ReturnItemCollectionMetrics="SIZE"),
    ]
    for answer in answers:
        assert answer["ItemCollectionMetrics"] == {"ItemCollectionKey": {"user": {"S": "ann"}},
                                                   "SizeEstimateRangeGB": [0.0, 1.0]}
    batch = small.batch_write_item(RequestItems={table_name: [
        {"PutRequest": {"Item": post("bob", 1, "a")}}]}, ReturnItemCollectionMetrics="SIZE")
    assert batch["ItemCollectionMetrics"][table_name] == [
        {"ItemCollectionKey": {"user": {"S": "bob"}}, "SizeEstimateRangeGB": [0.0, 1.0]}]
    plain = small.put_item(TableName=table_name, Item=post("cy", 1, "a"))
    assert "ItemCollectionMetrics" not in plain


# -- splits -----------------------------------------------------------------------------

USERS, PER_USER = 6, 60


@pytest.fixture(scope="module")
def splitting() -> Any:
    running = start_server("--in-memory", "--split-size", "4096", "--nodes", "5")
    yield running
    running.stop()


def test_an_indexed_table_split_while_writing_answers_index_queries_completely(
        splitting: Server) -> None:
    """§4.4: a split carries each item's entries with it, so no index query loses one."""
    client = make_client(splitting.url)
    create(client, "grown")
    errors: list[Exception] = []

    def writer(user: int) -> None:
        own = make_client(splitting.url)
        for ts in range(PER_USER):
            try:
                own.put_item(TableName="grown",
                             Item=post(f"u{user}", ts, f"t{PER_USER - ts:03d}", body="y" * 40))
            except ClientError as caught:  # counted: the test fails on any
                errors.append(caught)

    threads = [threading.Thread(target=writer, args=(user,)) for user in range(USERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _partition_count(splitting.url, "grown") > 1, "the table did not split"
    for user in range(USERS):
        pages = client.get_paginator("query").paginate(
            TableName="grown", IndexName="byTitle", ConsistentRead=True,
            KeyConditionExpression="#u = :u", ExpressionAttributeNames={"#u": "user"},
            ExpressionAttributeValues={":u": {"S": f"u{user}"}},
            PaginationConfig={"PageSize": 25})
        found = [i["title"]["S"] for page in pages for i in page["Items"]]
        assert found == [f"t{n:03d}" for n in range(1, PER_USER + 1)]
    scanned = client.get_paginator("scan").paginate(
        TableName="grown", IndexName="byTitle", PaginationConfig={"PageSize": 7})
    entries = [(i["user"]["S"], i["ts"]["N"]) for page in scanned for i in page["Items"]]
    assert len(entries) == len(set(entries)) == USERS * PER_USER


def _partition_count(url: str, table: str) -> int:
    import json
    import urllib.request

    deadline = time.monotonic() + 10
    count = 0
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{url}/admin/state") as answer:
            state = json.loads(answer.read())
        count = sum(1 for p in state["partitions"] if p["table"] == f"{REGION}/{table}")
        if count > 1:
            break
        time.sleep(0.2)
    return count


# -- PynamoDB -----------------------------------------------------------------------------


def test_a_pynamodb_model_with_a_local_index_is_created_written_and_queried(
        server: Server) -> None:
    from pynamodb.attributes import NumberAttribute, UnicodeAttribute
    from pynamodb.indexes import AllProjection, LocalSecondaryIndex
    from pynamodb.models import Model

    # --8<-- [start:pynamodb]
    class ByScore(LocalSecondaryIndex):
        class Meta:
            index_name = "byScore"
            projection = AllProjection()

        user = UnicodeAttribute(hash_key=True)
        score = NumberAttribute(range_key=True)

    class Game(Model):
        class Meta:
            table_name = "pynamo-games"
            host = server.url
            region = REGION
            aws_access_key_id = "AKIDLAB"
            aws_secret_access_key = "secret"
            read_capacity_units = 5
            write_capacity_units = 5

        user = UnicodeAttribute(hash_key=True)
        game = UnicodeAttribute(range_key=True)
        score = NumberAttribute()
        by_score = ByScore()

    Game.create_table(wait=True)
    for game, score in (("g1", 30), ("g2", 10), ("g3", 20)):
        Game(user="ann", game=game, score=score).save()
    ranked = list(Game.by_score.query("ann", Game.score > 15, scan_index_forward=False))
    assert [(g.game, g.score) for g in ranked] == [("g1", 30), ("g3", 20)]
    # --8<-- [end:pynamodb]
