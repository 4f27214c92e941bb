"""The control plane through boto3: CreateTable, DescribeTable, ListTables, UpdateTable,
DeleteTable, and the table lifecycle boto3's waiters depend on."""

from __future__ import annotations

import time

import pytest
from apitools import create_table, make_client, start_server
from botocore.exceptions import ClientError

KEYS = [{"AttributeName": "pk", "KeyType": "HASH"}]
DEFINITIONS = [{"AttributeName": "pk", "AttributeType": "S"}]
THROUGHPUT = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}


def error(excinfo) -> tuple[str, str]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["Error"]["Message"]


def test_create_answers_creating_then_describe_shows_active(client, table_name):
    answer = client.create_table(TableName=table_name, KeySchema=KEYS,
                                 AttributeDefinitions=DEFINITIONS, ProvisionedThroughput=THROUGHPUT)
    description = answer["TableDescription"]
    assert description["TableStatus"] == "CREATING"
    assert description["TableArn"] == f"arn:aws:dynamodb:us-east-1:000000000000:table/{table_name}"
    client.get_waiter("table_exists").wait(TableName=table_name,
                                           WaiterConfig={"Delay": 0.1, "MaxAttempts": 20})
    table = client.describe_table(TableName=table_name)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"] == KEYS
    assert table["AttributeDefinitions"] == DEFINITIONS
    assert table["ProvisionedThroughput"] == {**THROUGHPUT, "NumberOfDecreasesToday": 0}
    assert table["ItemCount"] == 0 and table["TableSizeBytes"] == 0
    assert table["TableId"] == description["TableId"]
    assert table["CreationDateTime"].year >= 2024
    assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"


def test_item_count_and_size_follow_the_items(client, table_name):
    create_table(client, table_name)
    client.put_item(TableName=table_name, Item={"pk": {"S": "a"}, "v": {"S": "xyz"}})
    client.put_item(TableName=table_name, Item={"pk": {"S": "b"}})
    table = client.describe_table(TableName=table_name)["Table"]
    assert table["ItemCount"] == 2
    assert table["TableSizeBytes"] == (3 + 4) + 3   # "pk"+"a", "v"+"xyz"; "pk"+"b"


def test_creating_an_existing_table_is_resource_in_use(client, table_name):
    create_table(client, table_name)
    with pytest.raises(ClientError) as excinfo:
        create_table(client, table_name)
    assert error(excinfo) == ("ResourceInUseException", f"Table already exists: {table_name}")


def test_describing_a_missing_table_is_resource_not_found(client):
    with pytest.raises(ClientError) as excinfo:
        client.describe_table(TableName="Nothing")
    assert error(excinfo) == ("ResourceNotFoundException",
                              "Requested resource not found: Table: Nothing not found")


@pytest.mark.parametrize("keys, definitions, message", [
    (KEYS, [{"AttributeName": "other", "AttributeType": "S"}],
     "One or more parameter values were invalid: Some index key attributes are not defined in "
     "AttributeDefinitions. Keys: [pk], AttributeDefinitions: [other]"),
    ([{"AttributeName": "pk", "KeyType": "RANGE"}], DEFINITIONS,
     "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"),
    (KEYS, DEFINITIONS + [{"AttributeName": "extra", "AttributeType": "N"}],
     "One or more parameter values were invalid: Number of attributes in KeySchema does not "
     "exactly match number of attributes defined in AttributeDefinitions"),
    (KEYS + [{"AttributeName": "pk", "KeyType": "RANGE"}],
     DEFINITIONS + [{"AttributeName": "sk", "AttributeType": "S"}],
     "Both the Hash Key and the Range Key element in the KeySchema have the same name"),
])
def test_key_schema_mistakes_are_validation_errors(client, table_name, keys, definitions, message):
    with pytest.raises(ClientError) as excinfo:
        client.create_table(TableName=table_name, KeySchema=keys, AttributeDefinitions=definitions,
                            ProvisionedThroughput=THROUGHPUT)
    assert error(excinfo) == ("ValidationException", message)
    assert table_name not in client.list_tables()["TableNames"]


def test_billing_mode_and_throughput_must_agree(client, table_name):
    with pytest.raises(ClientError) as excinfo:
        client.create_table(TableName=table_name, KeySchema=KEYS, AttributeDefinitions=DEFINITIONS)
    assert "ReadCapacityUnits and WriteCapacityUnits must both be specified" in error(excinfo)[1]
    with pytest.raises(ClientError) as excinfo:
        client.create_table(TableName=table_name, KeySchema=KEYS, AttributeDefinitions=DEFINITIONS,
                            BillingMode="PAY_PER_REQUEST", ProvisionedThroughput=THROUGHPUT)
    assert "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified" in error(excinfo)[1]
    client.create_table(TableName=table_name, KeySchema=KEYS, AttributeDefinitions=DEFINITIONS,
                        BillingMode="PAY_PER_REQUEST")
    table = client.describe_table(TableName=table_name)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 0


def test_a_global_index_takes_its_throughput_from_the_billing_mode(client, table_name):
    """A provisioned table's global index needs throughput of its own; an on-demand
    table's may not have any. Either mistake creates nothing."""
    index = {"IndexName": "byPk", "KeySchema": KEYS, "Projection": {"ProjectionType": "ALL"}}
    with pytest.raises(ClientError) as excinfo:
        client.create_table(TableName=table_name, KeySchema=KEYS,
                            AttributeDefinitions=DEFINITIONS, ProvisionedThroughput=THROUGHPUT,
                            GlobalSecondaryIndexes=[index])
    assert error(excinfo) == ("ValidationException", "One or more parameter values were "
                              "invalid: ProvisionedThroughput is not specified for index: byPk")
    with pytest.raises(ClientError) as excinfo:
        client.create_table(TableName=table_name, KeySchema=KEYS,
                            AttributeDefinitions=DEFINITIONS, BillingMode="PAY_PER_REQUEST",
                            GlobalSecondaryIndexes=[{**index, "ProvisionedThroughput": THROUGHPUT}])
    assert error(excinfo) == ("ValidationException", "One or more parameter values were "
                              "invalid: ProvisionedThroughput should not be specified for "
                              "index: byPk when BillingMode is PAY_PER_REQUEST")
    assert table_name not in client.list_tables()["TableNames"]


def test_describe_counts_each_local_index_entries(client, table_name):
    """A local index's ItemCount and IndexSizeBytes: its entries, in the table's partitions
    (an item without the index's sort key has none: sparse)."""
    client.create_table(
        TableName=table_name, ProvisionedThroughput=THROUGHPUT,
        KeySchema=[*KEYS, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[*DEFINITIONS, {"AttributeName": "sk", "AttributeType": "S"},
                              {"AttributeName": "title", "AttributeType": "S"}],
        LocalSecondaryIndexes=[{"IndexName": "byTitle", "Projection": {"ProjectionType": "ALL"},
                                "KeySchema": [*KEYS, {"AttributeName": "title",
                                                      "KeyType": "RANGE"}]}])
    for sk, title in (("a", "T1"), ("b", "T2"), ("c", None)):
        item = {"pk": {"S": "p"}, "sk": {"S": sk}} | ({"title": {"S": title}} if title else {})
        client.put_item(TableName=table_name, Item=item)
    # Counted at once by the embedded fleet; `--processes` reports them a poll later.
    deadline = time.monotonic() + 5
    while (table := client.describe_table(TableName=table_name)["Table"])["ItemCount"] < 3 \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    [index] = table["LocalSecondaryIndexes"]
    assert (table["ItemCount"], index["ItemCount"]) == (3, 2)
    assert 0 < index["IndexSizeBytes"] < table["TableSizeBytes"]


def test_list_tables_pages_with_limit_and_exclusive_start(client):
    names = [f"page-{i:02d}" for i in range(7)]
    for name in names:
        create_table(client, name)
    seen, start = [], None
    while True:
        kwargs = {"Limit": 3, **({"ExclusiveStartTableName": start} if start else {})}
        page = client.list_tables(**kwargs)
        assert len(page["TableNames"]) <= 3
        seen += page["TableNames"]
        start = page.get("LastEvaluatedTableName")
        if start is None:
            break
        assert start == page["TableNames"][-1]
    assert [name for name in seen if name.startswith("page-")] == names
    assert seen == sorted(seen)
    paginated = [n for p in client.get_paginator("list_tables").paginate(
        PaginationConfig={"PageSize": 2}) for n in p["TableNames"]]
    assert paginated == seen


def test_update_table_changes_throughput_and_billing_mode(client, table_name):
    create_table(client, table_name)
    answer = client.update_table(TableName=table_name,
                                 ProvisionedThroughput={"ReadCapacityUnits": 7,
                                                        "WriteCapacityUnits": 9})
    assert answer["TableDescription"]["TableStatus"] == "UPDATING"
    table = client.describe_table(TableName=table_name)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 9
    with pytest.raises(ClientError) as excinfo:
        client.update_table(TableName=table_name, ProvisionedThroughput={
            "ReadCapacityUnits": 7, "WriteCapacityUnits": 9})
    assert error(excinfo)[1].startswith("The provisioned throughput for the table will not change.")
    client.update_table(TableName=table_name, BillingMode="PAY_PER_REQUEST")
    table = client.describe_table(TableName=table_name)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    with pytest.raises(ClientError) as excinfo:
        client.update_table(TableName=table_name)
    assert error(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        client.update_table(TableName="Nothing", BillingMode="PAY_PER_REQUEST")
    assert error(excinfo)[0] == "ResourceNotFoundException"


def test_delete_answers_deleting_and_the_table_and_items_are_gone(client, table_name):
    create_table(client, table_name)
    client.put_item(TableName=table_name, Item={"pk": {"S": "a"}})
    answer = client.delete_table(TableName=table_name)
    assert answer["TableDescription"]["TableStatus"] == "DELETING"
    assert answer["TableDescription"]["ItemCount"] == 1
    client.get_waiter("table_not_exists").wait(TableName=table_name,
                                               WaiterConfig={"Delay": 0.1, "MaxAttempts": 20})
    with pytest.raises(ClientError) as excinfo:
        client.get_item(TableName=table_name, Key={"pk": {"S": "a"}})
    assert error(excinfo) == ("ResourceNotFoundException", "Requested resource not found")
    create_table(client, table_name)
    assert "Item" not in client.get_item(TableName=table_name, Key={"pk": {"S": "a"}})
    with pytest.raises(ClientError) as excinfo:
        client.delete_table(TableName="Nothing")
    assert error(excinfo) == ("ResourceNotFoundException",
                              "Requested resource not found: Table: Nothing not found")


def test_with_an_activation_delay_the_table_is_creating_until_it_is_active(table_name):
    slow = start_server("--in-memory", "--activation-delay", "0.6")
    try:
        client = make_client(slow.url)
        create_table(client, table_name)
        assert client.describe_table(TableName=table_name)["Table"]["TableStatus"] == "CREATING"
        with pytest.raises(ClientError) as excinfo:
            client.put_item(TableName=table_name, Item={"pk": {"S": "early"}})
        assert error(excinfo) == ("ResourceNotFoundException", "Requested resource not found")
        client.get_waiter("table_exists").wait(TableName=table_name,
                                               WaiterConfig={"Delay": 0.2, "MaxAttempts": 30})
        assert client.describe_table(TableName=table_name)["Table"]["TableStatus"] == "ACTIVE"
        client.put_item(TableName=table_name, Item={"pk": {"S": "later"}})
    finally:
        slow.stop()
