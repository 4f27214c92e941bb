"""begins_with and size: the course assignment ch01-functions.

Developer Guide, "Comparison operator and function reference". These are the
only tests that depend on the two functions' bodies (the assignment region).
"""

from dynamo.storage.expressions import compile_request, evaluate
from dynamo.storage.expressions.conditions import begins_with, size
from dynamo.storage.keys import KeyAttribute, KeySchema

SCHEMA = KeySchema(KeyAttribute("pk", "S"))
ITEM = {
    "pk": {"S": "k"},
    "s": {"S": "hello"},
    "b": {"B": "AAEC"},
    "n": {"N": "123"},
    "ss": {"SS": ["a", "b", "c"]},
    "l": {"L": [{"N": "1"}, {"N": "2"}]},
    "m": {"M": {"x": {"N": "1"}}},
    "accent": {"S": "é𝄞"},
}


def holds(text, values=None, item=ITEM):
    params = {"ConditionExpression": text}
    if values:
        params["ExpressionAttributeValues"] = values
    return evaluate(compile_request("PutItem", params, SCHEMA).condition, item)


def test_begins_with_a_string_prefix():
    assert begins_with({"S": "hello"}, {"S": "he"}) is True
    assert begins_with({"S": "hello"}, {"S": "lo"}) is False
    assert begins_with({"S": "hello"}, {"S": ""}) is True


def test_begins_with_binary_prefix():
    assert begins_with({"B": "AAEC"}, {"B": "AAE="}) is True   # 00 01 02 starts with 00 01
    assert begins_with({"B": "AAEC"}, {"B": "AQ=="}) is False


def test_begins_with_other_types_is_false():
    assert begins_with({"N": "123"}, {"S": "1"}) is False
    assert begins_with({"S": "123"}, {"B": "MQ=="}) is False
    assert begins_with({"SS": ["abc"]}, {"S": "a"}) is False


def test_begins_with_in_a_condition():
    assert holds("begins_with(s, :p)", {":p": {"S": "hel"}}) is True
    assert holds("NOT begins_with(s, :p)", {":p": {"S": "x"}}) is True
    assert holds("begins_with(absent, :p)", {":p": {"S": "x"}}) is False


def test_size_of_each_type():
    assert size({"S": "hello"}) == {"N": "5"}
    assert size({"B": "AAEC"}) == {"N": "3"}
    assert size({"SS": ["a", "b", "c"]}) == {"N": "3"}
    assert size({"L": []}) == {"N": "0"}
    assert size({"M": {"x": {"N": "1"}}}) == {"N": "1"}
    assert size({"N": "1"}) is None
    assert size({"BOOL": True}) is None


def test_size_counts_utf16_code_units():
    """DynamoDB counts é as 1 and 𝄞 (outside the BMP) as 2: size("é𝄞") is 3."""
    assert size({"S": "é𝄞"}) == {"N": "3"}


def test_size_in_a_condition():
    assert holds("size(s) = :n", {":n": {"N": "5"}}) is True
    assert holds("size(accent) = :n", {":n": {"N": "3"}}) is True
    assert holds("size(l) < size(ss)") is True
    assert holds("size(n) = :n", {":n": {"N": "3"}}) is False   # no size for a number
    assert holds("size(absent) = :n", {":n": {"N": "0"}}) is False
