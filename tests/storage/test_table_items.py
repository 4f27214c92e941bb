"""Per-item semantics: PutItem, GetItem, UpdateItem, DeleteItem on one replica.

Developer Guide "Working with items", "Condition expressions", "Capacity unit
consumption"; paper §4 (capacity units are what admission control spends).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dynamo.storage.attributes import item_size
from dynamo.storage.btree import BTree
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.errors import ConditionalCheckFailedException, ValidationException
from dynamo.storage.expressions import compile_request
from dynamo.storage.keys import KeyAttribute, KeySchema
from dynamo.storage.table import Table

SCHEMA = KeySchema(KeyAttribute("pk", "S"), KeyAttribute("sk", "N"))
DEFINITION = TableDefinition("us-east-1", "Things", SCHEMA, [], created_at=0.0)
KEY = {"pk": {"S": "a"}, "sk": {"N": "1"}}


@pytest.fixture(params=["file", "memory"])
def table(request: pytest.FixtureRequest, tmp_path: Path) -> Table:
    tree = BTree(tmp_path / "replica.db" if request.param == "file" else None)
    yield Table(tree, DEFINITION)
    tree.close()


def compiled(operation: str, **params: Any):
    return compile_request(operation, params, SCHEMA)


def everything(table: Table) -> list[dict]:
    return table.scan(consistent=True).items


def item(**extra: Any) -> dict:
    return {**KEY, **extra}


# -- PutItem / GetItem ------------------------------------------------------------


def test_put_then_get_returns_the_normalised_item(table: Table) -> None:
    table.put_item(item(n={"N": "0012.50"}, s={"SS": ["x", "y"]}))
    got, _ = table.get_item({"pk": {"S": "a"}, "sk": {"N": "1.0"}}, consistent=True)
    assert got == item(n={"N": "12.5"}, s={"SS": ["x", "y"]})


def test_put_replaces_the_whole_item(table: Table) -> None:
    table.put_item(item(a={"S": "1"}, b={"S": "2"}))
    table.put_item(item(c={"S": "3"}))
    assert table.get_item(KEY)[0] == item(c={"S": "3"})


def test_get_missing_item_and_projection(table: Table) -> None:
    assert table.get_item(KEY)[0] is None
    table.put_item(item(a={"M": {"b": {"S": "x"}, "c": {"S": "y"}}}, d={"S": "z"}))
    projection = compiled("GetItem", ProjectionExpression="a.b, d").projection
    got, _ = table.get_item(KEY, projection=projection)
    assert got == {"a": {"M": {"b": {"S": "x"}}}, "d": {"S": "z"}}


def test_get_with_a_wrong_key_is_a_validation_error(table: Table) -> None:
    for bad in ({"pk": {"S": "a"}}, {**KEY, "extra": {"S": "x"}}, {"pk": {"S": "a"}, "sk": {"S": "1"}}):
        with pytest.raises(ValidationException) as caught:
            table.get_item(bad)
        assert caught.value.message == "The provided key element does not match the schema"


def test_key_values_are_validated_before_use(table: Table) -> None:
    table.put_item(item(v={"S": "kept"}))
    bad_number = {"pk": {"S": "a"}, "sk": {"N": "abc"}}
    for call in (lambda: table.get_item(bad_number), lambda: table.delete_item(bad_number),
                 lambda: table.update_item(bad_number)):
        with pytest.raises(ValidationException) as caught:
            call()
        assert caught.value.message == "The parameter cannot be converted to a numeric value: abc"
    with pytest.raises(ValidationException) as caught:
        table.get_item({"pk": {"S": ""}, "sk": {"N": "1"}})
    assert caught.value.message == (
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: pk")
    assert everything(table) == [item(v={"S": "kept"})]


@pytest.mark.parametrize("size, strong, eventual", [
    (100, 1.0, 0.5), (4096, 1.0, 0.5), (4097, 2.0, 1.0), (9000, 3.0, 1.5)])
def test_get_item_read_units(table: Table, size: int, strong: float, eventual: float) -> None:
    """A read costs 1 RCU per started 4 KB, strongly consistent; half when eventual (§4)."""
    table.put_item(item(v={"S": "x" * (size - item_size(item(v={"S": ""})))}))
    assert table.get_item(KEY, consistent=True)[1].read == strong
    assert table.get_item(KEY, consistent=False)[1].read == eventual


def test_reading_a_missing_item_still_costs(table: Table) -> None:
    assert table.get_item(KEY, consistent=True)[1].read == 1.0
    assert table.get_item(KEY)[1].read == 0.5
    assert table.get_item(KEY)[1].table == "Things"


def test_write_units_are_the_larger_of_old_and_new(table: Table) -> None:
    """1 WCU per started KB of the larger image (Developer Guide, capacity units)."""
    assert table.put_item(item(v={"S": "x" * 100})).capacity.write == 1.0
    assert table.put_item(item(v={"S": "x" * 3000})).capacity.write == 3.0
    assert table.put_item(item(v={"S": "x"})).capacity.write == 3.0  # old image is 3 KB
    assert table.put_item(item()).capacity.write == 1.0
    assert table.delete_item(KEY).capacity.write == 1.0
    assert table.delete_item(KEY).capacity.write == 1.0  # deleting nothing still costs 1


def test_put_validation_failures_change_nothing(table: Table) -> None:
    table.put_item(item(v={"S": "before"}))
    before = everything(table)
    cases = [
        ({"sk": {"N": "1"}, "v": {"S": "x"}},
         "One or more parameter values were invalid: Missing the key pk in the item"),
        ({"pk": {"N": "1"}, "sk": {"N": "1"}},
         "One or more parameter values were invalid: Type mismatch for key pk expected: S "
         "actual: N"),
        (item(v={"S": "x" * (400 * 1024)}), "Item size has exceeded the maximum allowed size"),
        (item(v={"N": "1" * 39}),
         "Attempting to store more than 38 significant digits in a Number"),
    ]
    for bad, message in cases:
        with pytest.raises(ValidationException) as caught:
            table.put_item(bad)
        assert caught.value.message == message
    assert everything(table) == before


def test_put_and_delete_return_values(table: Table) -> None:
    assert table.put_item(item(v={"S": "1"}), return_values="ALL_OLD").attributes is None
    assert table.put_item(item(v={"S": "2"}), return_values="ALL_OLD").attributes == \
        item(v={"S": "1"})
    assert table.put_item(item(v={"S": "3"})).attributes is None
    assert table.delete_item(KEY, return_values="ALL_OLD").attributes == item(v={"S": "3"})
    assert table.delete_item(KEY, return_values="ALL_OLD").attributes is None


@pytest.mark.parametrize("operation", ["put", "delete"])
def test_put_and_delete_refuse_update_only_return_values(table: Table, operation: str) -> None:
    table.put_item(item(v={"S": "kept"}))
    for value in ("ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"):
        with pytest.raises(ValidationException) as caught:
            if operation == "put":
                table.put_item(item(v={"S": "changed"}), return_values=value)
            else:
                table.delete_item(KEY, return_values=value)
        assert caught.value.message == "ReturnValues can only be ALL_OLD or NONE"
    with pytest.raises(ValidationException) as caught:
        table.put_item(item(), return_values="GARBAGE")
    assert caught.value.message == (
        "1 validation error detected: Value 'GARBAGE' at 'returnValues' failed to satisfy "
        "constraint: Member must satisfy enum value set: "
        "[ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]")
    assert everything(table) == [item(v={"S": "kept"})]


# -- conditions -------------------------------------------------------------------


def test_condition_is_checked_against_the_current_item(table: Table) -> None:
    only_new = compiled("PutItem", ConditionExpression="attribute_not_exists(pk)")
    table.put_item(item(v={"S": "first"}), only_new)
    with pytest.raises(ConditionalCheckFailedException) as caught:
        table.put_item(item(v={"S": "second"}), only_new)
    assert caught.value.message == "The conditional request failed"
    assert caught.value.item is None
    assert everything(table) == [item(v={"S": "first"})]


def test_failed_condition_returns_the_item_when_asked(table: Table) -> None:
    table.put_item(item(v={"N": "1"}))
    stale = compiled("DeleteItem", ConditionExpression="v = :v",
                     ExpressionAttributeValues={":v": {"N": "2"}})
    with pytest.raises(ConditionalCheckFailedException) as caught:
        table.delete_item(KEY, stale, return_on_ccf="ALL_OLD")
    assert caught.value.item == item(v={"N": "1"})
    assert caught.value.body()["Item"] == item(v={"N": "1"})
    assert everything(table) == [item(v={"N": "1"})]


def test_failed_conditional_write_still_costs(table: Table) -> None:
    """A write whose condition fails consumes WCU all the same (Developer Guide)."""
    table.put_item(item(v={"S": "x" * 2500}))
    never = compiled("PutItem", ConditionExpression="attribute_not_exists(pk)")
    with pytest.raises(ConditionalCheckFailedException) as caught:
        table.put_item(item(), never)
    assert caught.value.capacity.write == 3.0
    missing = {"pk": {"S": "nobody"}, "sk": {"N": "1"}}
    exists = compiled("DeleteItem", ConditionExpression="attribute_exists(pk)")
    with pytest.raises(ConditionalCheckFailedException) as caught:
        table.delete_item(missing, exists)
    assert caught.value.capacity.write == 1.0


# -- UpdateItem ---------------------------------------------------------------------


def update(table: Table, expression: str, values: dict | None = None, key: dict = KEY,
           **kw: Any):
    params: dict[str, Any] = {"UpdateExpression": expression}
    if values:
        params["ExpressionAttributeValues"] = values
    condition = kw.pop("condition", None)
    if condition:
        params["ConditionExpression"] = condition
    return table.update_item(key, compiled("UpdateItem", **params), **kw)


def test_update_creates_a_missing_item_from_its_key(table: Table) -> None:
    plan = update(table, "SET v = :v", {":v": {"S": "new"}}, return_values="ALL_NEW")
    assert plan.attributes == item(v={"S": "new"})
    assert everything(table) == [item(v={"S": "new"})]


def test_update_without_expression_writes_the_key_alone(table: Table) -> None:
    table.update_item({"pk": {"S": "a"}, "sk": {"N": "01.0"}})
    assert everything(table) == [KEY]


def test_update_return_values(table: Table) -> None:
    table.put_item(item(a={"N": "1"}, b={"S": "keep"}, gone={"S": "old"}))
    expression = "SET a = a + :one REMOVE gone"
    values = {":one": {"N": "1"}}
    assert update(table, expression, values).attributes is None
    assert update(table, expression, values, return_values="UPDATED_OLD").attributes == \
        {"a": {"N": "2"}}  # "gone" was already removed by the first update
    assert update(table, "SET a = a + :one, gone = :one", values,
                  return_values="UPDATED_NEW").attributes == {"a": {"N": "4"}, "gone": {"N": "1"}}
    assert update(table, "REMOVE gone", None, return_values="UPDATED_OLD").attributes == \
        {"gone": {"N": "1"}}
    assert update(table, "REMOVE gone", None, return_values="UPDATED_NEW").attributes is None
    assert update(table, "SET b = :one", values, return_values="ALL_OLD").attributes == \
        item(a={"N": "4"}, b={"S": "keep"})
    assert update(table, "SET a = :one", values, return_values="ALL_NEW").attributes == \
        item(a={"N": "1"}, b={"N": "1"})


def test_update_nested_paths_return_only_what_changed(table: Table) -> None:
    table.put_item(item(m={"M": {"x": {"N": "1"}, "y": {"N": "2"}}}))
    plan = update(table, "SET m.x = :v", {":v": {"N": "9"}}, return_values="UPDATED_NEW")
    assert plan.attributes == {"m": {"M": {"x": {"N": "9"}}}}
    assert table.get_item(KEY)[0]["m"] == {"M": {"x": {"N": "9"}, "y": {"N": "2"}}}


def test_update_capacity_is_the_larger_image(table: Table) -> None:
    table.put_item(item(v={"S": "x" * 2000}))
    assert update(table, "REMOVE v").capacity.write == 2.0
    assert update(table, "SET v = :v", {":v": {"S": "y" * 5000}}).capacity.write == 5.0


def test_update_that_fails_changes_nothing(table: Table) -> None:
    table.put_item(item(s={"S": "text"}, big={"S": "x" * (399 * 1024)}))
    before = everything(table)
    with pytest.raises(ValidationException) as caught:
        update(table, "SET big2 = :v", {":v": {"S": "y" * 2048}})
    assert caught.value.message == "Item size to update has exceeded the maximum allowed size"
    with pytest.raises(ValidationException):  # adding a number to a string
        update(table, "SET s = s + :one", {":one": {"N": "1"}})
    with pytest.raises(ConditionalCheckFailedException):
        update(table, "SET v = :one", {":one": {"N": "1"}}, condition="attribute_not_exists(s)")
    with pytest.raises(ValidationException):
        update(table, "SET v = :one", {":one": {"N": "1"}}, return_values="EVERYTHING")
    with pytest.raises(ValidationException) as caught:
        update(table, "SET sk = :one", {":one": {"N": "1"}})
    assert caught.value.message == ("One or more parameter values were invalid: Cannot update "
                                    "attribute sk. This attribute is part of the key")
    assert everything(table) == before


# -- plan, commit, durability ----------------------------------------------------------


def test_plan_changes_nothing_until_commit(table: Table) -> None:
    plan = table.plan_put(item(v={"S": "planned"}))
    assert everything(table) == []
    table.commit(plan, lsn=11)
    assert everything(table) == [item(v={"S": "planned"})]
    assert table.btree.applied_lsn() == 11
    plan = table.plan_delete({"pk": {"S": "missing"}, "sk": {"N": "1"}})
    assert plan.mutation is None
    table.commit(plan, lsn=12)  # nothing to change, but the log position still moves
    assert table.btree.applied_lsn() == 12


def test_items_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "replica.db"
    with BTree(path) as tree:
        Table(tree, DEFINITION).put_item(item(v={"B": "AAEC"}))
    with BTree(path) as tree:
        assert Table(tree, DEFINITION).get_item(KEY)[0] == item(v={"B": "AAEC"})
