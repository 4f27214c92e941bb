"""Single-item operations through boto3: PutItem, GetItem, UpdateItem, DeleteItem,
conditions, ReturnValues, capacity units and the 400 KB item limit (Developer Guide, "Service, account, and table quotas")."""

from __future__ import annotations

import pytest
from apitools import create_table
from botocore.exceptions import ClientError


def error(excinfo) -> tuple[str, str]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["Error"]["Message"]


@pytest.fixture
def table(client, table_name) -> str:
    create_table(client, table_name)
    return table_name


def test_put_then_get_returns_the_item_with_canonical_numbers(client, table):
    item = {"pk": {"S": "a"}, "n": {"N": "0012.50"}, "b": {"B": b"\x00\x01"},
            "ss": {"SS": ["x", "y"]}, "m": {"M": {"l": {"L": [{"BOOL": True}, {"NULL": True}]}}}}
    client.put_item(TableName=table, Item=item)
    got = client.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"]
    assert got["n"] == {"N": "12.5"}
    assert got["b"] == {"B": b"\x00\x01"}
    assert sorted(got["ss"]["SS"]) == ["x", "y"]
    assert got["m"] == item["m"]


def test_get_of_a_missing_item_has_no_item_member(client, table):
    assert "Item" not in client.get_item(TableName=table, Key={"pk": {"S": "nothing"}})


def test_projection_expression_returns_only_named_attributes(client, table):
    client.put_item(TableName=table, Item={"pk": {"S": "a"}, "x": {"N": "1"}, "y": {"N": "2"}})
    got = client.get_item(TableName=table, Key={"pk": {"S": "a"}}, ProjectionExpression="#x",
                          ExpressionAttributeNames={"#x": "x"})["Item"]
    assert got == {"x": {"N": "1"}}


def test_item_operations_on_a_missing_table_are_resource_not_found(client):
    for call in (lambda: client.get_item(TableName="Nothing", Key={"pk": {"S": "a"}}),
                 lambda: client.put_item(TableName="Nothing", Item={"pk": {"S": "a"}})):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error(excinfo) == ("ResourceNotFoundException", "Requested resource not found")


def test_key_that_does_not_match_the_schema_is_a_validation_error(client, table):
    with pytest.raises(ClientError) as excinfo:
        client.get_item(TableName=table, Key={"other": {"S": "a"}})
    assert error(excinfo) == ("ValidationException",
                              "The provided key element does not match the schema")
    with pytest.raises(ClientError) as excinfo:
        client.put_item(TableName=table, Item={"pk": {"N": "1"}})
    assert error(excinfo)[0] == "ValidationException"


def test_update_with_a_condition_and_return_values(client, table):
    key = {"pk": {"S": "counter"}}
    client.put_item(TableName=table, Item={**key, "hits": {"N": "1"}})
    answer = client.update_item(
        TableName=table, Key=key, UpdateExpression="SET hits = hits + :one",
        ConditionExpression="hits < :max", ReturnValues="UPDATED_NEW",
        ExpressionAttributeValues={":one": {"N": "1"}, ":max": {"N": "10"}})
    assert answer["Attributes"] == {"hits": {"N": "2"}}
    answer = client.update_item(TableName=table, Key=key, UpdateExpression="REMOVE hits",
                                ReturnValues="ALL_OLD")
    assert answer["Attributes"] == {**key, "hits": {"N": "2"}}
    assert client.get_item(TableName=table, Key=key)["Item"] == key


def test_update_creates_a_missing_item(client, table):
    key = {"pk": {"S": "new"}}
    client.update_item(TableName=table, Key=key, UpdateExpression="SET v = :v",
                       ExpressionAttributeValues={":v": {"S": "x"}})
    assert client.get_item(TableName=table, Key=key)["Item"] == {**key, "v": {"S": "x"}}


def test_conditional_check_failure_returns_the_item_when_asked(client, table):
    item = {"pk": {"S": "a"}, "v": {"N": "1"}}
    client.put_item(TableName=table, Item=item)
    with pytest.raises(ClientError) as excinfo:
        client.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "2"}},
                        ConditionExpression="attribute_not_exists(pk)",
                        ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert error(excinfo) == ("ConditionalCheckFailedException", "The conditional request failed")
    assert excinfo.value.response["Item"] == item
    with pytest.raises(ClientError) as excinfo:
        client.delete_item(TableName=table, Key={"pk": {"S": "a"}},
                           ConditionExpression="v = :two",
                           ExpressionAttributeValues={":two": {"N": "2"}})
    assert error(excinfo)[0] == "ConditionalCheckFailedException"
    assert "Item" not in excinfo.value.response
    assert client.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"] == item


def test_delete_returns_the_old_item_and_removes_it(client, table):
    item = {"pk": {"S": "a"}, "v": {"S": "x"}}
    client.put_item(TableName=table, Item=item)
    answer = client.delete_item(TableName=table, Key={"pk": {"S": "a"}}, ReturnValues="ALL_OLD")
    assert answer["Attributes"] == item
    assert "Item" not in client.get_item(TableName=table, Key={"pk": {"S": "a"}})
    assert "Attributes" not in client.delete_item(TableName=table, Key={"pk": {"S": "a"}},
                                                  ReturnValues="ALL_OLD")


def test_put_may_not_ask_for_updated_values(client, table):
    with pytest.raises(ClientError) as excinfo:
        client.put_item(TableName=table, Item={"pk": {"S": "a"}}, ReturnValues="ALL_NEW")
    assert error(excinfo)[0] == "ValidationException"


def test_expression_mistakes_are_validation_errors(client, table):
    with pytest.raises(ClientError) as excinfo:
        client.update_item(TableName=table, Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :v")
    assert error(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        client.put_item(TableName=table, Item={"pk": {"S": "a"}}, ConditionExpression="v = = 1")
    assert error(excinfo)[0] == "ValidationException"
    assert "Syntax error" in error(excinfo)[1]


def test_capacity_units_follow_item_size(client, table):
    five_kb = {"pk": {"S": "big"}, "blob": {"S": "x" * 5000}}
    put = client.put_item(TableName=table, Item=five_kb, ReturnConsumedCapacity="TOTAL")
    assert put["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 5.0,
                                       "WriteCapacityUnits": 5.0}
    strong = client.get_item(TableName=table, Key={"pk": {"S": "big"}}, ConsistentRead=True,
                             ReturnConsumedCapacity="TOTAL")
    assert strong["ConsumedCapacity"]["CapacityUnits"] == 2.0
    eventual = client.get_item(TableName=table, Key={"pk": {"S": "big"}},
                               ReturnConsumedCapacity="INDEXES")
    assert eventual["ConsumedCapacity"]["CapacityUnits"] == 1.0
    assert eventual["ConsumedCapacity"]["Table"]["CapacityUnits"] == 1.0
    assert "ConsumedCapacity" not in client.get_item(TableName=table, Key={"pk": {"S": "big"}})


def test_items_over_400_kb_are_refused(client, table):
    name_bytes = len("pk") + 1 + len("v")
    limit = 400 * 1024
    client.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"S": "x" * (limit - name_bytes)}})
    with pytest.raises(ClientError) as excinfo:
        client.put_item(TableName=table,
                        Item={"pk": {"S": "b"}, "v": {"S": "x" * (limit - name_bytes + 1)}})
    assert error(excinfo) == ("ValidationException",
                              "Item size has exceeded the maximum allowed size")
    assert "Item" not in client.get_item(TableName=table, Key={"pk": {"S": "b"}})
