"""Global secondary indexes through boto3 and PynamoDB, against a real `dynamo serve` (§2).

A global index is eventually consistent (Developer Guide, "Global secondary
indexes: read consistency"): a write is acknowledged before the index has
it, so every test reads the index until it shows what was written, within a
deadline (`eventually`). Items without the index's key attributes are not in
it (sparse indexes); it holds what its projection says; UpdateTable adds an
index with a visible backfill and deletes one. An index has throughput of its
own: its reads are throttled on it, and a write to the table is throttled when
an index is short of write capacity (back-pressure, §4.2).
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from apitools import REGION, Server, make_client, serve_args, start_server
from botocore.exceptions import ClientError

DEADLINE_S = 10.0
INDEX_THROTTLED = ("The level of configured provisioned throughput for one or more global "
                   "secondary indexes of the table was exceeded.")


@pytest.fixture(scope="module")
def server() -> Any:
    """The shared server, unless the suite runs one without partitions (`--nodes 1`): it
    refuses global indexes (`test_one_node_refuses_global_indexes`)."""
    args = serve_args()
    if "--nodes" in args and args[args.index("--nodes") + 1] == "1":
        pytest.skip("global secondary indexes are served by the partitioned fleet only")
    running = start_server(*args)
    yield running
    running.stop()


def eventually(read: Callable[[], Any], done: Callable[[Any], bool]) -> Any:
    """Read until `done` says the answer is the awaited one (the index converged)."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        answer = read()
        if done(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.02)


def create_with_index(client: Any, name: str, projection: dict[str, Any],
                      **table: Any) -> None:
    """A table keyed by `id`, with a global index `by-genre` on (genre, year)."""
    client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                              {"AttributeName": "genre", "AttributeType": "S"},
                              {"AttributeName": "year", "AttributeType": "N"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "by-genre", "Projection": projection,
            "KeySchema": [{"AttributeName": "genre", "KeyType": "HASH"},
                          {"AttributeName": "year", "KeyType": "RANGE"}]}],
        **table)


def song(id: str, genre: str | None, year: int, **more: str) -> dict[str, Any]:
    item: dict[str, Any] = {"id": {"S": id}, "year": {"N": str(year)}}
    if genre is not None:
        item["genre"] = {"S": genre}
    return item | {name: {"S": value} for name, value in more.items()}


def query_genre(client: Any, table: str, genre: str, **more: Any) -> dict[str, Any]:
    return client.query(TableName=table, IndexName="by-genre",
                        KeyConditionExpression="genre = :g",
                        ExpressionAttributeValues={":g": {"S": genre}}, **more)


def ids(answer: dict[str, Any]) -> list[str]:
    return [item["id"]["S"] for item in answer["Items"]]


def test_a_write_reaches_the_index_and_a_moved_key_leaves_its_old_place(
        client: Any, table_name: str) -> None:
    create_with_index(client, table_name, {"ProjectionType": "ALL"})
    for i, genre in enumerate(("rock", "jazz", "rock")):
        client.put_item(TableName=table_name, Item=song(f"s{i}", genre, 1990 + i))
    rock = eventually(lambda: query_genre(client, table_name, "rock"),
                      lambda a: ids(a) == ["s0", "s2"])
    assert ids(rock) == ["s0", "s2"]  # in the index's sort key order: by year
    client.update_item(TableName=table_name, Key={"id": {"S": "s0"}},
                       UpdateExpression="SET genre = :g",
                       ExpressionAttributeValues={":g": {"S": "jazz"}})
    client.delete_item(TableName=table_name, Key={"id": {"S": "s2"}})
    jazz = eventually(lambda: query_genre(client, table_name, "jazz"),
                      lambda a: ids(a) == ["s0", "s1"])
    assert ids(jazz) == ["s0", "s1"]
    assert ids(eventually(lambda: query_genre(client, table_name, "rock"),
                          lambda a: a["Count"] == 0)) == []


def test_an_item_without_the_index_key_is_not_in_the_index(
        client: Any, table_name: str) -> None:
    """Sparse indexes: an item with no genre is not there."""
    create_with_index(client, table_name, {"ProjectionType": "ALL"})
    client.put_item(TableName=table_name, Item=song("s1", "rock", 2001))
    client.put_item(TableName=table_name, Item=song("s2", None, 2002))
    client.put_item(TableName=table_name, Item=song("s3", "pop", 2003))
    client.update_item(TableName=table_name, Key={"id": {"S": "s3"}},
                       UpdateExpression="REMOVE genre")  # it leaves the index
    scan = eventually(lambda: client.scan(TableName=table_name, IndexName="by-genre"),
                      lambda a: ids(a) == ["s1"])
    assert ids(scan) == ["s1"]
    time.sleep(0.3)  # a few propagation rounds: nothing more may arrive
    assert ids(client.scan(TableName=table_name, IndexName="by-genre")) == ["s1"]


@pytest.mark.parametrize(("projection", "attributes"), [
    ({"ProjectionType": "KEYS_ONLY"}, {"id", "genre", "year"}),
    ({"ProjectionType": "INCLUDE", "NonKeyAttributes": ["title"]},
     {"id", "genre", "year", "title"}),
    ({"ProjectionType": "ALL"}, {"id", "genre", "year", "title", "label"}),
])
def test_the_index_holds_what_its_projection_says(
        client: Any, table_name: str, projection: dict[str, Any], attributes: set[str]) -> None:
    create_with_index(client, table_name, projection)
    client.put_item(TableName=table_name, Item=song("s1", "rock", 1999, title="T", label="L"))
    answer = eventually(lambda: query_genre(client, table_name, "rock"),
                        lambda a: a["Count"] == 1)
    assert set(answer["Items"][0]) == attributes


def test_a_strongly_consistent_read_of_a_global_index_is_refused(
        client: Any, table_name: str) -> None:
    create_with_index(client, table_name, {"ProjectionType": "ALL"})
    with pytest.raises(ClientError) as raised:
        query_genre(client, table_name, "rock", ConsistentRead=True)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "Consistent reads are not supported on global secondary indexes" in str(raised.value)


def test_a_read_of_the_index_reports_the_index_units(client: Any, table_name: str) -> None:
    """ReturnConsumedCapacity=INDEXES: a global index's reads are its own, not the table's."""
    create_with_index(client, table_name, {"ProjectionType": "ALL"})
    client.put_item(TableName=table_name, Item=song("s1", "rock", 1999))
    answer = eventually(lambda: query_genre(client, table_name, "rock",
                                            ReturnConsumedCapacity="INDEXES"),
                        lambda a: a["Count"] == 1)
    capacity = answer["ConsumedCapacity"]
    assert capacity["GlobalSecondaryIndexes"] == {"by-genre": {"CapacityUnits": 0.5}}
    assert capacity["Table"] == {"CapacityUnits": 0.0}


def index_states(client: Any, table: str) -> dict[str, tuple[str, bool]]:
    described = client.describe_table(TableName=table)["Table"]
    return {index["IndexName"]: (index["IndexStatus"], index.get("Backfilling", False))
            for index in described.get("GlobalSecondaryIndexes", [])}


def test_update_table_creates_an_index_with_a_backfill_then_deletes_it(
        client: Any, table_name: str) -> None:
    client.create_table(TableName=table_name, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    for i in range(30):
        client.put_item(TableName=table_name, Item=song(f"s{i:02}", "rock", 1990 + i % 3))
    answer = client.update_table(
        TableName=table_name, AttributeDefinitions=[{"AttributeName": "year",
                                                     "AttributeType": "N"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "by-year", "Projection": {"ProjectionType": "KEYS_ONLY"},
            "KeySchema": [{"AttributeName": "year", "KeyType": "HASH"}]}}])
    created = answer["TableDescription"]["GlobalSecondaryIndexes"][0]
    assert (created["IndexStatus"], created["Backfilling"]) == ("CREATING", True)
    seen = [index_states(client, table_name)["by-year"]]
    while seen[-1][0] != "ACTIVE" and len(seen) < 500:
        time.sleep(0.02)
        seen.append(index_states(client, table_name)["by-year"])
    assert seen[0] == ("CREATING", True) and seen[-1] == ("ACTIVE", False)
    assert query_year(client, table_name)["Count"] == 10  # every existing item was backfilled
    client.update_table(TableName=table_name,
                        GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-year"}}])
    gone = eventually(lambda: index_states(client, table_name), lambda s: not s)
    assert gone == {}
    with pytest.raises(ClientError) as raised:
        query_year(client, table_name)
    assert "The table does not have the specified index: by-year" in str(raised.value)


def query_year(client: Any, table: str) -> dict[str, Any]:
    return client.query(TableName=table, IndexName="by-year",
                        KeyConditionExpression="#y = :y", ExpressionAttributeNames={"#y": "year"},
                        ExpressionAttributeValues={":y": {"N": "1991"}})


def create_year_index(client: Any, table: str) -> None:
    client.update_table(
        TableName=table, AttributeDefinitions=[{"AttributeName": "year", "AttributeType": "N"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "by-year", "Projection": {"ProjectionType": "KEYS_ONLY"},
            "KeySchema": [{"AttributeName": "year", "KeyType": "HASH"}]}}])


def test_an_index_being_backfilled_cannot_be_read_and_describes_its_entries_once_active(
        client: Any, table_name: str) -> None:
    """DynamoDB refuses to read an index still backfilling: it would miss items. Once
    ACTIVE, DescribeTable counts its entries (ItemCount, IndexSizeBytes)."""
    client.create_table(TableName=table_name, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    for i in range(30):
        client.put_item(TableName=table_name, Item=song(f"s{i:02}", "rock", 1990 + i % 3))
    client.put_item(TableName=table_name, Item={"id": {"S": "no-year"}})  # not in the index
    create_year_index(client, table_name)
    with pytest.raises(ClientError) as raised:
        query_year(client, table_name)
    assert raised.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "Cannot read from backfilling global secondary index: by-year"}
    eventually(lambda: index_states(client, table_name), lambda s: s["by-year"][0] == "ACTIVE")
    [index] = client.describe_table(TableName=table_name)["Table"]["GlobalSecondaryIndexes"]
    assert index["ItemCount"] == 30
    assert index["IndexSizeBytes"] > 30 * len("s00")


def test_an_index_deleted_and_created_again_under_its_name_starts_afresh(
        client: Any, table_name: str) -> None:
    """The new index's partitions are its own (named after the index's id), so it holds
    exactly the entries of the items there are now."""
    client.create_table(TableName=table_name, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    for i in range(6):
        client.put_item(TableName=table_name, Item=song(f"s{i}", "rock", 1991))
    create_year_index(client, table_name)
    eventually(lambda: index_states(client, table_name), lambda s: s["by-year"][0] == "ACTIVE")
    client.update_table(TableName=table_name,
                        GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-year"}}])
    eventually(lambda: index_states(client, table_name), lambda s: not s)
    for i in range(3):
        client.delete_item(TableName=table_name, Key={"id": {"S": f"s{i}"}})
    create_year_index(client, table_name)
    eventually(lambda: index_states(client, table_name), lambda s: s["by-year"][0] == "ACTIVE")
    assert sorted(ids(query_year(client, table_name))) == ["s3", "s4", "s5"]


def test_update_table_refuses_two_index_changes_and_unknown_indexes(
        client: Any, table_name: str) -> None:
    create_with_index(client, table_name, {"ProjectionType": "ALL"})

    def refused(updates: list[dict[str, Any]], **more: Any) -> ClientError:
        with pytest.raises(ClientError) as raised:
            client.update_table(TableName=table_name, GlobalSecondaryIndexUpdates=updates,
                                **more)
        return raised.value

    new = {"Create": {"IndexName": "by-label", "Projection": {"ProjectionType": "ALL"},
                      "KeySchema": [{"AttributeName": "label", "KeyType": "HASH"}]}}
    two = refused([new, {"Delete": {"IndexName": "by-genre"}}],
                  AttributeDefinitions=[{"AttributeName": "label", "AttributeType": "S"}])
    assert two.response["Error"]["Code"] == "LimitExceededException"
    undefined = refused([new])
    assert "Some index key attributes are not defined in AttributeDefinitions" in str(undefined)
    missing = refused([{"Delete": {"IndexName": "nope"}}])
    assert missing.response["Error"]["Code"] == "ResourceNotFoundException"
    duplicate = refused([{"Create": {**new["Create"], "IndexName": "by-genre"}}],
                        AttributeDefinitions=[{"AttributeName": "label", "AttributeType": "S"}])
    assert "Duplicate index name: by-genre" in str(duplicate)


def test_admin_state_shows_each_index_and_the_propagation_lag(
        server: Server, client: Any, table_name: str) -> None:
    create_with_index(client, table_name, {"ProjectionType": "ALL"})
    client.put_item(TableName=table_name, Item=song("s1", "rock", 1999))
    with urllib.request.urlopen(f"{server.url}/admin/state") as response:
        state = json.load(response)["indexes"][f"{REGION}/{table_name}"]
    assert state["indexes"] == {"by-genre": {"status": "ACTIVE", "backfilling": False}}
    assert set(state["lag"]) == {"pending", "oldest_ms"}


def test_a_pynamodb_model_with_a_global_index_is_created_written_and_queried(
        server: Server) -> None:
    from pynamodb.attributes import NumberAttribute, UnicodeAttribute
    from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
    from pynamodb.models import Model

    # --8<-- [start:pynamodb]
    class ByCity(GlobalSecondaryIndex):
        class Meta:
            index_name = "byCity"
            projection = IncludeProjection(["name"])
            read_capacity_units = 5
            write_capacity_units = 5

        city = UnicodeAttribute(hash_key=True)
        age = NumberAttribute(range_key=True)

    class Person(Model):
        class Meta:
            table_name = "pynamo-people"
            host = server.url
            region = REGION
            aws_access_key_id = "AKIDLAB"
            aws_secret_access_key = "secret"
            read_capacity_units = 5
            write_capacity_units = 5

        id = UnicodeAttribute(hash_key=True)
        name = UnicodeAttribute()
        city = UnicodeAttribute(null=True)
        age = NumberAttribute()
        by_city = ByCity()

    Person.create_table(wait=True)
    for id, name, city, age in (("p1", "Ann", "Oslo", 30), ("p2", "Bo", "Oslo", 25),
                                ("p3", "Cy", None, 40)):
        Person(id, name=name, city=city, age=age).save()
    # --8<-- [end:pynamodb]
    found = eventually(lambda: [(p.name, p.age) for p in Person.by_city.query("Oslo")],
                       lambda people: len(people) == 2)
    assert found == [("Bo", 25), ("Ann", 30)]


# --- a global index's capacity: its own units, its own throughput -------------------------

def test_a_write_reports_what_it_cost_each_global_index(client: Any, table_name: str) -> None:
    """ReturnConsumedCapacity=INDEXES: one write unit per KB of the entry put or deleted,
    two when the index key moves (a delete and a put), none when nothing the index keeps
    changed; TOTAL counts them with the table's."""
    create_with_index(client, table_name, {"ProjectionType": "KEYS_ONLY"})

    def cost(write: Callable[..., Any], **request: Any) -> dict[str, Any]:
        answer = write(TableName=table_name, ReturnConsumedCapacity="INDEXES", **request)
        return answer["ConsumedCapacity"]

    key = {"id": {"S": "s1"}}
    # --8<-- [start:write-units]
    put = cost(client.put_item, Item=song("s1", "rock", 1999))
    assert put["GlobalSecondaryIndexes"] == {"by-genre": {"CapacityUnits": 1.0}}
    assert (put["CapacityUnits"], put["Table"]["CapacityUnits"]) == (2.0, 1.0)
    moved = cost(client.update_item, Key=key, UpdateExpression="SET genre = :g",
                 ExpressionAttributeValues={":g": {"S": "jazz"}})
    assert moved["GlobalSecondaryIndexes"] == {"by-genre": {"CapacityUnits": 2.0}}
    assert moved["CapacityUnits"] == 3.0
    # --8<-- [end:write-units]
    unprojected = cost(client.update_item, Key=key, UpdateExpression="SET label = :l",
                       ExpressionAttributeValues={":l": {"S": "L"}})
    assert "GlobalSecondaryIndexes" not in unprojected and unprojected["CapacityUnits"] == 1.0
    deleted = cost(client.delete_item, Key=key)
    assert deleted["GlobalSecondaryIndexes"] == {"by-genre": {"CapacityUnits": 1.0}}
    total = client.put_item(TableName=table_name, Item=song("s2", "pop", 2000),
                            ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
    assert total == {"TableName": table_name, "CapacityUnits": 2.0, "WriteCapacityUnits": 2.0}


def create_provisioned(client: Any, name: str, table: tuple[int, int],
                       index: tuple[int, int]) -> None:
    """A provisioned table (RCU, WCU) keyed by `id`, with `by-genre` (RCU, WCU) of its own."""
    def units(read: int, write: int) -> dict[str, int]:
        return {"ReadCapacityUnits": read, "WriteCapacityUnits": write}

    client.create_table(
        TableName=name, ProvisionedThroughput=units(*table),
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                              {"AttributeName": "genre", "AttributeType": "S"},
                              {"AttributeName": "year", "AttributeType": "N"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "by-genre", "Projection": {"ProjectionType": "ALL"},
            "ProvisionedThroughput": units(*index),
            "KeySchema": [{"AttributeName": "genre", "KeyType": "HASH"},
                          {"AttributeName": "year", "KeyType": "RANGE"}]}])


def puts_until_throttled(client: Any, table: str, most: int, first: int = 0) -> int:
    """PutItems of new indexed songs until one is throttled; how many went through."""
    for done in range(most):
        try:
            client.put_item(TableName=table, Item=song(f"s{first + done}", "rock", 2000))
        except client.exceptions.ProvisionedThroughputExceededException as error:
            assert INDEX_THROTTLED in str(error)
            return done
    return most


def test_an_index_short_of_write_capacity_throttles_the_writes_to_its_table(
        client: Any, table_name: str) -> None:
    """§4.2 with DynamoDB's rule for GSIs: a table write succeeds only if the table and its
    global indexes have the write capacity for it. A 1 WCU index under a 1000 WCU table
    absorbs its 300 seconds of burst, then holds the table's writes back, until
    UpdateTable gives the index more."""
    create_provisioned(client, table_name, table=(1000, 1000), index=(5, 1))
    absorbed = puts_until_throttled(client, table_name, 400)
    assert 250 <= absorbed <= 330, absorbed
    with pytest.raises(client.exceptions.ProvisionedThroughputExceededException):
        client.put_item(TableName=table_name, Item=song("refused", "rock", 2000))
    assert "Item" not in client.get_item(TableName=table_name, Key={"id": {"S": "refused"}},
                                         ConsistentRead=True)
    client.update_table(TableName=table_name, GlobalSecondaryIndexUpdates=[{"Update": {
        "IndexName": "by-genre",
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 1000}}}])
    deadline = time.monotonic() + 5  # the router's next grant from GAC (≤ 2 s)
    while puts_until_throttled(client, table_name, 1, first=1000) == 0:
        assert time.monotonic() < deadline, "the index's new throughput never arrived"
        time.sleep(0.1)
    assert puts_until_throttled(client, table_name, 100, first=2000) == 100


def test_reads_of_an_index_spend_its_read_capacity_not_the_tables(
        client: Any, table_name: str) -> None:
    """A Query of a 1 RCU index is throttled once the index's burst is spent, with the
    index's message, while the table itself still reads: "when a GSI has insufficient
    read capacity, throttling doesn't affect the base table"."""
    create_provisioned(client, table_name, table=(1000, 1000), index=(1, 1000))
    blob = "x" * 3900  # each entry about 4 KB: a Query of 30 costs 15 RCU (eventual)
    for i in range(30):
        client.put_item(TableName=table_name, Item=song(f"s{i:02}", "rock", 2000, blob=blob))

    def index_count() -> int:
        [index] = client.describe_table(TableName=table_name)["Table"]["GlobalSecondaryIndexes"]
        return int(index["ItemCount"])

    assert eventually(index_count, lambda count: count == 30) == 30  # costs no reads
    consumed = 0.0
    with pytest.raises(client.exceptions.ProvisionedThroughputExceededException) as raised:
        for _ in range(60):
            answer = query_genre(client, table_name, "rock", ReturnConsumedCapacity="INDEXES")
            consumed += answer["ConsumedCapacity"]["GlobalSecondaryIndexes"]["by-genre"][
                "CapacityUnits"]
    assert INDEX_THROTTLED in str(raised.value)
    assert 250 <= consumed <= 400, consumed  # the index's 300 seconds of 1 RCU, and a grant
    assert client.scan(TableName=table_name)["Count"] == 30


def test_one_node_refuses_global_indexes() -> None:
    """`dynamo serve --nodes 1` has no partitions to keep a global index in: CreateTable
    and UpdateTable say so."""
    running = start_server("--in-memory", "--nodes", "1")
    try:
        client = make_client(running.url)
        with pytest.raises(ClientError) as raised:
            create_with_index(client, "songs", {"ProjectionType": "ALL"})
        assert raised.value.response["Error"]["Code"] == "ValidationException"
        assert "served by the partitioned fleet only" in str(raised.value)
        assert client.list_tables()["TableNames"] == []
        client.create_table(TableName="plain", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
        with pytest.raises(ClientError) as raised:
            create_year_index(client, "plain")
        assert "served by the partitioned fleet only" in str(raised.value)
    finally:
        running.stop()
