"""Evaluating conditions against items (ConditionExpression, FilterExpression).

Developer Guide, "Comparison operator and function reference". begins_with
and size have their own file (test_expr_functions.py): they are a course
assignment, so nothing here depends on them.
"""

import pytest

from dynamo.storage.expressions import compile_request, evaluate
from dynamo.storage.keys import KeyAttribute, KeySchema

SCHEMA = KeySchema(KeyAttribute("pk", "S"))

ITEM = {
    "pk": {"S": "k"},
    "n": {"N": "10"},
    "s": {"S": "hello"},
    "b": {"B": "AAEC"},
    "flag": {"BOOL": True},
    "nothing": {"NULL": True},
    "ss": {"SS": ["x", "y"]},
    "ns": {"NS": ["1", "2.5"]},
    "l": {"L": [{"N": "1"}, {"S": "two"}, {"M": {"deep": {"S": "d"}}}]},
    "m": {"M": {"inside": {"N": "-3"}, "lst": {"L": [{"S": "q"}]}}},
}


def holds(text, values=None, names=None, item=ITEM):
    params = {"ConditionExpression": text}
    if values:
        params["ExpressionAttributeValues"] = values
    if names:
        params["ExpressionAttributeNames"] = names
    return evaluate(compile_request("PutItem", params, SCHEMA).condition, item)


@pytest.mark.parametrize(("text", "values", "expected"), [
    ("n = :v", {":v": {"N": "10.0"}}, True),           # numbers compare by value
    ("n = :v", {":v": {"S": "10"}}, False),            # different types are never equal
    ("n <> :v", {":v": {"S": "10"}}, True),
    ("n < :v", {":v": {"N": "9"}}, False),
    ("n > :v", {":v": {"N": "9"}}, True),
    ("n >= :v", {":v": {"N": "10"}}, True),
    ("n <= :v", {":v": {"N": "1E+1"}}, True),
    ("s < :v", {":v": {"S": "help"}}, True),           # strings by UTF-8 bytes
    ("s > :v", {":v": {"S": "Z"}}, True),              # 'h' (0x68) > 'Z' (0x5A)
    ("b < :v", {":v": {"B": "AAED"}}, True),           # binaries bytewise
    ("n < :v", {":v": {"S": "zzz"}}, False),           # a type mismatch is false, no error
    ("ss < :v", {":v": {"S": "z"}}, False),            # a stored set is not ordered: false
    ("flag = :v", {":v": {"BOOL": True}}, True),
    ("nothing = :v", {":v": {"NULL": True}}, True),
    ("ss = :v", {":v": {"SS": ["y", "x"]}}, True),     # sets in any order
    ("ns = :v", {":v": {"NS": ["2.50", "1"]}}, True),
    ("l[1] = :v", {":v": {"S": "two"}}, True),
    ("l[2].deep = :v", {":v": {"S": "d"}}, True),
    ("m.inside = :v", {":v": {"N": "-3"}}, True),
    ("m.lst[0] = :v", {":v": {"S": "q"}}, True),
    ("m = :v", {":v": {"M": {"lst": {"L": [{"S": "q"}]}, "inside": {"N": "-3.0"}}}}, True),
])
def test_comparisons(text, values, expected):
    assert holds(text, values) is expected


@pytest.mark.parametrize("text", ["absent = :v", "absent < :v", "l[9] = :v", "s.x = :v",
                                  "n[0] = :v", "m.nope = :v"])
def test_a_path_leading_nowhere_has_no_value(text):
    assert holds(text, {":v": {"N": "1"}}) is False


def test_not_equal_is_true_when_the_attribute_is_absent():
    assert holds("absent <> :v", {":v": {"N": "1"}}) is True


def test_comparing_two_paths():
    assert holds("n > m.inside") is True
    assert holds("m.inside > n") is False


def test_between_includes_both_ends():
    values = {":lo": {"N": "10"}, ":hi": {"N": "20"}}
    assert holds("n BETWEEN :lo AND :hi", values) is True
    assert holds("n BETWEEN :lo AND :hi", {":lo": {"N": "11"}, ":hi": {"N": "20"}}) is False
    assert holds("s BETWEEN :lo AND :hi", values) is False  # wrong type


def test_in():
    assert holds("n IN (:a, :b)", {":a": {"S": "10"}, ":b": {"N": "10"}}) is True
    assert holds("n IN (:a)", {":a": {"S": "10"}}) is False
    assert holds("absent IN (:a)", {":a": {"S": "10"}}) is False


def test_attribute_exists_and_not_exists():
    assert holds("attribute_exists(m.inside)") is True
    assert holds("attribute_exists(m.elsewhere)") is False
    assert holds("attribute_not_exists(#p)", names={"#p": "pk"}) is False
    assert holds("attribute_not_exists(l[3])") is True


@pytest.mark.parametrize(("path", "kind"), [("n", "N"), ("s", "S"), ("b", "B"), ("flag", "BOOL"),
                                            ("nothing", "NULL"), ("ss", "SS"), ("ns", "NS"),
                                            ("l", "L"), ("m", "M")])
def test_attribute_type(path, kind):
    assert holds(f"attribute_type({path}, :t)", {":t": {"S": kind}}) is True
    other = "S" if kind != "S" else "N"
    assert holds(f"attribute_type({path}, :t)", {":t": {"S": other}}) is False


@pytest.mark.parametrize(("text", "value", "expected"), [
    ("contains(s, :v)", {"S": "ell"}, True),           # substring
    ("contains(s, :v)", {"S": "xyz"}, False),
    ("contains(ss, :v)", {"S": "y"}, True),            # set member
    ("contains(ss, :v)", {"S": "e"}, False),
    ("contains(ns, :v)", {"N": "2.50"}, True),         # numbers by value
    ("contains(l, :v)", {"S": "two"}, True),           # list element
    ("contains(l, :v)", {"N": "1.0"}, True),
    ("contains(b, :v)", {"B": "AQI="}, True),          # bytes 01 02 inside 00 01 02
    ("contains(n, :v)", {"N": "1"}, False),            # numbers contain nothing
    ("contains(absent, :v)", {"S": "x"}, False),
])
def test_contains(text, value, expected):
    assert holds(text, {":v": value}) is expected


def test_boolean_logic():
    values = {":t": {"N": "10"}, ":f": {"N": "11"}}
    assert holds("n = :t AND NOT n = :f", values) is True
    assert holds("n = :f OR n = :t", values) is True
    assert holds("n = :f OR (n = :t AND n = :f)", values) is False
    assert holds("NOT (n = :f OR n <> :t)", values) is True


def test_a_absent_item_is_the_empty_item():
    """A conditional put on a new key checks the condition against nothing."""
    condition = compile_request("PutItem", {"ConditionExpression": "attribute_not_exists(pk)"},
                                SCHEMA).condition
    assert evaluate(condition, None) is True
    assert evaluate(condition, ITEM) is False


def test_names_with_any_characters_through_placeholders():
    item = {"my-attr.x": {"S": "v"}}
    assert holds("#a = :v", {":v": {"S": "v"}}, {"#a": "my-attr.x"}, item=item) is True
