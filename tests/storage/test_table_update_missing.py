"""UpdateItem on a missing item: which update actions create it (issue #9).

DynamoDB creates the item when an update writes something into it (SET, ADD,
or no action at all: the key alone), and creates nothing when every action
is a REMOVE or a DELETE, as they find nothing to act on (API Reference,
UpdateItem: "Edits an existing item's attributes, or adds a new item to the
table if it does not already exist").
"""

from __future__ import annotations

from typing import Any

import pytest

from dynamo.storage.btree import BTree
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.expressions import compile_request
from dynamo.storage.keys import KeyAttribute, KeySchema
from dynamo.storage.table import Table

SCHEMA = KeySchema(KeyAttribute("pk", "S"))
DEFINITION = TableDefinition("us-east-1", "Things", SCHEMA, [], created_at=0.0)
KEY = {"pk": {"S": "new"}}


@pytest.fixture
def table() -> Table:
    tree = BTree(None)
    yield Table(tree, DEFINITION)
    tree.close()


def update(table: Table, return_values: str = "ALL_NEW", **params: Any):
    compiled = compile_request("UpdateItem", params, SCHEMA) if params else None
    return table.update_item(KEY, compiled, return_values)


@pytest.mark.parametrize("params", [
    {"UpdateExpression": "REMOVE b"},
    {"UpdateExpression": "REMOVE b, c.d[2]"},
    {"UpdateExpression": "DELETE s :v", "ExpressionAttributeValues": {":v": {"SS": ["x"]}}},
    {"UpdateExpression": "REMOVE b DELETE s :v",
     "ExpressionAttributeValues": {":v": {"NS": ["1"]}}},
    {"AttributeUpdates": {"b": {"Action": "DELETE"}}},
    {"AttributeUpdates": {"s": {"Action": "DELETE", "Value": {"SS": ["x"]}}}},
    {"UpdateExpression": "REMOVE b", "ConditionExpression": "attribute_not_exists(pk)"},
], ids=["remove", "remove-nested", "delete", "remove-and-delete", "legacy-delete",
        "legacy-delete-value", "remove-with-condition"])
def test_remove_and_delete_alone_create_nothing(table, params):
    plan = update(table, **params)
    assert plan.mutation is None
    assert plan.attributes is None  # even with ReturnValues=ALL_NEW
    assert plan.capacity.write == 1  # still a write, and charged as one
    assert table.get_item(KEY, True)[0] is None


@pytest.mark.parametrize(("params", "created"), [
    ({"UpdateExpression": "SET a = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}},
     {"a": {"S": "x"}}),
    ({"UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}},
     {"n": {"N": "1"}}),
    ({"UpdateExpression": "ADD s :v", "ExpressionAttributeValues": {":v": {"SS": ["x"]}}},
     {"s": {"SS": ["x"]}}),
    ({"UpdateExpression": "REMOVE b SET a = :v", "ExpressionAttributeValues": {":v": {"N": "2"}}},
     {"a": {"N": "2"}}),
    ({"AttributeUpdates": {"a": {"Action": "PUT", "Value": {"S": "x"}}}}, {"a": {"S": "x"}}),
    ({"AttributeUpdates": {"n": {"Action": "ADD", "Value": {"N": "5"}}}}, {"n": {"N": "5"}}),
    ({"AttributeUpdates": {}}, {}),
    ({}, {}),
], ids=["set", "add-number", "add-set", "remove-and-set", "legacy-put", "legacy-add",
        "empty-attribute-updates", "no-update"])
def test_set_add_and_the_empty_update_create_the_item(table, params, created):
    plan = update(table, **params)
    assert table.get_item(KEY, True)[0] == {**KEY, **created}
    assert plan.attributes == {**KEY, **created}


def test_remove_on_an_existing_item_still_writes(table):
    table.put_item({**KEY, "b": {"S": "gone"}})
    plan = update(table, UpdateExpression="REMOVE b")
    assert plan.attributes == KEY
    assert table.get_item(KEY, True)[0] == KEY
