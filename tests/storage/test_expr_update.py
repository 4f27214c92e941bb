"""Applying UpdateExpressions: SET, REMOVE, ADD, DELETE.

Developer Guide, "Update expressions". Runtime refusals use DynamoDB's
messages and never change the stored item.
"""

import copy

import pytest

from dynamo.storage.errors import ValidationException
from dynamo.storage.expressions import apply_update, compile_request
from dynamo.storage.keys import KeyAttribute, KeySchema

SCHEMA = KeySchema(KeyAttribute("pk", "S"), KeyAttribute("sk", "N"))
ITEM = {
    "pk": {"S": "k"},
    "sk": {"N": "1"},
    "n": {"N": "5"},
    "s": {"S": "text"},
    "l": {"L": [{"S": "a"}, {"S": "b"}, {"S": "c"}, {"S": "d"}]},
    "m": {"M": {"x": {"N": "1"}, "l": {"L": [{"N": "0"}]}}},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
}


def compiled(text, values=None, names=None):
    params = {"UpdateExpression": text}
    if values:
        params["ExpressionAttributeValues"] = values
    if names:
        params["ExpressionAttributeNames"] = names
    return compile_request("UpdateItem", params, SCHEMA).update


def updated(text, values=None, names=None, item=ITEM):
    return apply_update(compiled(text, values, names), item).item


def refused(text, values=None, item=ITEM):
    before = copy.deepcopy(item)
    with pytest.raises(ValidationException) as caught:
        apply_update(compiled(text, values), item)
    assert item == before, "a refused update must not touch the item"
    return caught.value.message


# ---------------------------------------------------------------------- SET
def test_set_new_and_existing_attributes():
    result = updated("SET n = :v, fresh = :w", {":v": {"S": "now text"}, ":w": {"BOOL": False}})
    assert result["n"] == {"S": "now text"}
    assert result["fresh"] == {"BOOL": False}
    assert ITEM["n"] == {"N": "5"}, "the original item is never modified"


def test_set_nested_map_key_and_list_index():
    result = updated("SET m.y = :v, m.l[0] = :w, l[1] = :w",
                     {":v": {"S": "new"}, ":w": {"N": "9"}})
    assert result["m"]["M"]["y"] == {"S": "new"}
    assert result["m"]["M"]["l"] == {"L": [{"N": "9"}]}
    assert result["l"]["L"][1] == {"N": "9"}


def test_set_past_the_end_of_a_list_appends_in_index_order():
    result = updated("SET l[20] = :y, l[10] = :x", {":x": {"S": "x"}, ":y": {"S": "y"}})
    assert [e["S"] for e in result["l"]["L"]] == ["a", "b", "c", "d", "x", "y"]


def test_operands_read_the_item_before_the_update():
    """`SET a = b, b = a` swaps: both right-hand sides see the old item."""
    result = updated("SET n = s, s = n")
    assert result["n"] == {"S": "text"} and result["s"] == {"N": "5"}


def test_arithmetic():
    assert updated("SET n = n + :d", {":d": {"N": "2.5"}})["n"] == {"N": "7.5"}
    assert updated("SET n = :d - n", {":d": {"N": "2"}})["n"] == {"N": "-3"}
    assert updated("SET fresh = m.x + n")["fresh"] == {"N": "6"}


def test_arithmetic_keeps_38_digits_exactly():
    big = "9" * 38
    with pytest.raises(ValidationException):
        updated("SET n = :a + :b", {":a": {"N": big}, ":b": {"N": "0.1"}})


def test_if_not_exists():
    values = {":d": {"N": "0"}}
    assert updated("SET n = if_not_exists(n, :d)", values)["n"] == {"N": "5"}
    assert updated("SET c = if_not_exists(c, :d) + :d", values)["c"] == {"N": "0"}


def test_list_append_either_side():
    values = {":e": {"L": [{"S": "e"}]}}
    assert updated("SET l = list_append(l, :e)", values)["l"]["L"][-1] == {"S": "e"}
    assert updated("SET l = list_append(:e, l)", values)["l"]["L"][0] == {"S": "e"}


def test_set_copies_values_so_the_new_item_shares_nothing():
    result = updated("SET duplicate = m")
    result["duplicate"]["M"]["x"]["N"] = "changed"
    assert ITEM["m"]["M"]["x"] == {"N": "1"}


@pytest.mark.parametrize(("text", "values", "message"), [
    ("SET n = s + :v", {":v": {"N": "1"}},
     "An operand in the update expression has an incorrect data type"),
    ("SET l = list_append(n, l)", None,
     "An operand in the update expression has an incorrect data type"),
    ("SET n = absent", None,
     "The provided expression refers to an attribute that does not exist in the item"),
    ("SET absent.x = :v", {":v": {"N": "1"}},
     "The document path provided in the update expression is invalid for update"),
    ("SET s[0] = :v", {":v": {"N": "1"}},
     "The document path provided in the update expression is invalid for update"),
    ("SET l.x = :v", {":v": {"N": "1"}},
     "The document path provided in the update expression is invalid for update"),
])
def test_runtime_refusals(text, values, message):
    assert refused(text, values) == message


def test_an_update_may_not_grow_an_item_past_400_kb():
    big = {":big": {"S": "x" * 300_000}}
    item = updated("SET a = :big", big)
    assert refused("SET b = :big", big, item=item) == (
        "Item size to update has exceeded the maximum allowed size")


# ------------------------------------------------------------------- REMOVE
def test_remove_attributes_and_map_keys():
    result = updated("REMOVE s, m.x, absent")
    assert "s" not in result and "absent" not in result
    assert result["m"] == {"M": {"l": {"L": [{"N": "0"}]}}}


def test_remove_list_elements_by_original_index():
    """Indexes name elements of the list before the update; the rest shift left."""
    result = updated("REMOVE l[1], l[3], l[9]")
    assert result["l"] == {"L": [{"S": "a"}, {"S": "c"}]}


def test_set_and_remove_in_one_list_use_original_indexes():
    result = updated("SET l[1] = :x REMOVE l[0]", {":x": {"S": "x"}})
    assert result["l"] == {"L": [{"S": "x"}, {"S": "c"}, {"S": "d"}]}


def test_remove_under_a_missing_parent_is_refused():
    assert refused("REMOVE absent.x") == (
        "The document path provided in the update expression is invalid for update")


# ---------------------------------------------------------------------- ADD
def test_add_numbers():
    assert updated("ADD n :d", {":d": {"N": "-5"}})["n"] == {"N": "0"}
    assert updated("ADD tally :d", {":d": {"N": "3"}})["tally"] == {"N": "3"}


def test_add_set_members():
    result = updated("ADD ss :v, ns :w, fresh :v",
                     {":v": {"SS": ["b", "c"]}, ":w": {"NS": ["2.0", "3"]}})
    assert sorted(result["ss"]["SS"]) == ["a", "b", "c"]
    assert sorted(result["ns"]["NS"]) == ["1", "2", "3"]
    assert result["fresh"] == {"SS": ["b", "c"]}


def test_add_to_the_wrong_type_is_refused():
    assert refused("ADD s :d", {":d": {"N": "1"}}) == (
        "An operand in the update expression has an incorrect data type")
    assert refused("ADD ss :d", {":d": {"NS": ["1"]}}) == (
        "An operand in the update expression has an incorrect data type")


# ------------------------------------------------------------------- DELETE
def test_delete_set_members():
    assert updated("DELETE ss :v", {":v": {"SS": ["a", "zz"]}})["ss"] == {"SS": ["b"]}
    assert updated("DELETE ns :v", {":v": {"NS": ["1.0"]}})["ns"] == {"NS": ["2"]}


def test_delete_the_last_members_removes_the_attribute():
    """DynamoDB has no empty sets."""
    assert "ss" not in updated("DELETE ss :v", {":v": {"SS": ["a", "b"]}})


def test_delete_from_a_missing_attribute_is_nothing():
    assert updated("DELETE absent :v", {":v": {"SS": ["a"]}}) == ITEM


def test_delete_from_the_wrong_type_is_refused():
    assert refused("DELETE ss :v", {":v": {"NS": ["1"]}}) == (
        "An operand in the update expression has an incorrect data type")


# ------------------------------------------------------------------ changed
def test_changed_lists_every_touched_path():
    result = apply_update(compiled("SET a = :v, m.x = :v REMOVE l[0] ADD n :v",
                                   {":v": {"N": "1"}}), ITEM)
    assert result.changed == (("a",), ("m", "x"), ("l", 0), ("n",))


def test_names_through_placeholders():
    result = updated("SET #a.#b = :v", {":v": {"N": "1"}}, {"#a": "m", "#b": "odd-name"})
    assert result["m"]["M"]["odd-name"] == {"N": "1"}
