"""Legacy parameters mean what the equivalent expressions mean.

Developer Guide, "Legacy conditional parameters": Expected, ConditionalOperator,
QueryFilter, ScanFilter, KeyConditions, AttributeUpdates, AttributesToGet.
"""

import pytest

from dynamo.storage.errors import ValidationException
from dynamo.storage.expressions import KeyRange, apply_update, compile_request, evaluate, project
from dynamo.storage.keys import KeyAttribute, KeySchema

TABLE = KeySchema(KeyAttribute("pk", "S"), KeyAttribute("sk", "N"))
ITEM = {"pk": {"S": "k"}, "sk": {"N": "1"}, "n": {"N": "5"}, "s": {"S": "hello"},
        "ss": {"SS": ["a", "b"]}, "l": {"L": [{"S": "x"}]}}


def expected(spec, operator=None, item=ITEM):
    params = {"Expected": spec}
    if operator:
        params["ConditionalOperator"] = operator
    return evaluate(compile_request("PutItem", params, TABLE).condition, item)


def scan_filter(spec, operator=None, item=ITEM):
    params = {"ScanFilter": spec}
    if operator:
        params["ConditionalOperator"] = operator
    return evaluate(compile_request("Scan", params, TABLE).filter, item)


def refusal(operation, **params):
    with pytest.raises(ValidationException) as caught:
        compile_request(operation, params, TABLE)
    return caught.value.message


# ------------------------------------------------------------------ Expected
def test_expected_value_and_exists():
    assert expected({"n": {"Value": {"N": "5.0"}}}) is True
    assert expected({"n": {"Value": {"N": "6"}}}) is False
    assert expected({"n": {"Exists": True, "Value": {"N": "5"}}}) is True
    assert expected({"absent": {"Exists": False}}) is True
    assert expected({"n": {"Exists": False}}) is False
    assert expected({"absent": {"Exists": False}}, item=None) is True


@pytest.mark.parametrize(("op", "values", "result"), [
    ("EQ", [{"N": "5"}], True), ("NE", [{"N": "5"}], False), ("LT", [{"N": "6"}], True),
    ("LE", [{"N": "4"}], False), ("GT", [{"N": "4"}], True), ("GE", [{"N": "5"}], True),
    ("IN", [{"N": "1"}, {"N": "5"}], True), ("BETWEEN", [{"N": "5"}, {"N": "9"}], True),
    ("NOT_NULL", [], True), ("NULL", [], False),
])
def test_expected_comparison_operators(op, values, result):
    assert expected({"n": {"ComparisonOperator": op, "AttributeValueList": values}}) is result


def test_contains_and_not_contains():
    assert scan_filter({"ss": {"ComparisonOperator": "CONTAINS",
                               "AttributeValueList": [{"S": "a"}]}}) is True
    assert scan_filter({"s": {"ComparisonOperator": "NOT_CONTAINS",
                              "AttributeValueList": [{"S": "ell"}]}}) is False
    assert scan_filter({"s": {"ComparisonOperator": "NOT_CONTAINS",
                              "AttributeValueList": [{"S": "x"}]}}) is True


def test_not_contains_is_false_on_a_missing_attribute():
    """Issue #9: NOT_CONTAINS needs the attribute (unlike `NOT contains(...)`)."""
    spec = {"absent": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "x"}]}}
    assert scan_filter(spec) is False
    assert expected(spec) is False
    assert expected(spec, item=None) is False


def test_conditional_operator_or_and_and():
    spec = {"n": {"Value": {"N": "5"}}, "s": {"Value": {"S": "no"}}}
    assert expected(spec) is False
    assert expected(spec, "AND") is False
    assert expected(spec, "OR") is True


def test_ne_is_true_for_a_missing_attribute():
    assert scan_filter({"absent": {"ComparisonOperator": "NE",
                                   "AttributeValueList": [{"N": "1"}]}}) is True


@pytest.mark.parametrize(("spec", "message"), [
    ({"a": {"Exists": True}}, "Value must be provided when Exists is true for Attribute: a"),
    ({"a": {}}, "Value must be provided when Exists is null for Attribute: a"),
    ({"a": {"Exists": False, "Value": {"S": "x"}}},
     "Value cannot be used when Exists is false for Attribute: a"),
    ({"a": {"ComparisonOperator": "EQ", "Exists": True}},
     "Exists and ComparisonOperator cannot be used together for Attribute: a"),
    ({"a": {"ComparisonOperator": "EQ"}},
     "Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: a"),
    ({"a": {"AttributeValueList": [{"S": "x"}]}},
     "AttributeValueList can only be used with a ComparisonOperator for Attribute: a"),
    ({"a": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"S": "x"}]}},
     "Invalid number of argument(s) for the BETWEEN ComparisonOperator"),
    ({"a": {"ComparisonOperator": "IN", "AttributeValueList": [{"S": "x"}, {"N": "1"}]}},
     "AttributeValues inside AttributeValueList must be of same type"),
])
def test_expected_refusals(spec, message):
    assert refusal("PutItem", Expected=spec) == (
        "One or more parameter values were invalid: " + message)


def test_between_bounds_in_order():
    assert refusal("Scan", ScanFilter={"a": {"ComparisonOperator": "BETWEEN",
                                             "AttributeValueList": [{"N": "9"}, {"N": "1"}]}}) == (
        "The BETWEEN condition was provided a range where the lower bound is greater than the "
        "upper bound")


def test_filter_value_types_per_operator():
    assert refusal("Scan", ScanFilter={"a": {"ComparisonOperator": "LT",
                                             "AttributeValueList": [{"SS": ["x"]}]}}) == (
        "One or more parameter values were invalid: ComparisonOperator LT is not valid for SS "
        "AttributeValue type")


def test_query_filter_may_not_use_keys():
    assert refusal("Query", KeyConditions={
        "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "k"}]}},
        QueryFilter={"sk": {"ComparisonOperator": "NOT_NULL"}}) == (
        "QueryFilter can only contain non-primary key attributes: Primary key attribute: sk")


# ------------------------------------------------------------ KeyConditions
def test_key_conditions():
    compiled = compile_request("Query", {"KeyConditions": {
        "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "k"}]},
        "sk": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}, {"N": "3"}]},
    }}, TABLE)
    assert compiled.key_range == KeyRange({"S": "k"}, "BETWEEN", ({"N": "1"}, {"N": "3"}))


@pytest.mark.parametrize(("conditions", "message"), [
    ({"pk": {"ComparisonOperator": "NE", "AttributeValueList": [{"S": "k"}]}},
     "Attempted conditional constraint is not an indexable operation"),
    ({"sk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "1"}]}},
     "Query condition missed key schema element: pk"),
    ({}, "Conditions can be of length 1 or 2 only"),
    ({"pk": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "k"}]}},
     "Query key condition not supported"),
])
def test_key_condition_refusals(conditions, message):
    assert refusal("Query", KeyConditions=conditions) == message


# --------------------------------------------------------- AttributeUpdates
def test_attribute_updates():
    update = compile_request("UpdateItem", {"AttributeUpdates": {
        "n": {"Action": "ADD", "Value": {"N": "2"}},
        "s": {"Action": "DELETE"},
        "ss": {"Action": "DELETE", "Value": {"SS": ["a"]}},
        "l": {"Action": "ADD", "Value": {"L": [{"S": "y"}]}},
        "fresh": {"Value": {"BOOL": True}},
    }}, TABLE).update
    result = apply_update(update, ITEM).item
    assert result["n"] == {"N": "7"}
    assert "s" not in result
    assert result["ss"] == {"SS": ["b"]}
    assert result["l"] == {"L": [{"S": "x"}, {"S": "y"}]}
    assert result["fresh"] == {"BOOL": True}


@pytest.mark.parametrize(("updates", "message"), [
    ({"a": {"Action": "PUT"}}, "Only DELETE action is allowed when no attribute value is "
                               "specified"),
    ({"a": {"Action": "DELETE", "Value": {"S": "x"}}}, "DELETE action with value is not "
                                                      "supported for the type S"),
    ({"a": {"Action": "ADD", "Value": {"S": "x"}}}, "ADD action is not supported for the "
                                                   "type S"),
    ({"pk": {"Value": {"S": "x"}}}, "Cannot update attribute pk. This attribute is part of "
                                    "the key"),
])
def test_attribute_update_refusals(updates, message):
    assert refusal("UpdateItem", AttributeUpdates=updates) == (
        "One or more parameter values were invalid: " + message)


# ---------------------------------------------------------- AttributesToGet
def test_attributes_to_get():
    paths = compile_request("GetItem", {"AttributesToGet": ["s", "absent", "a.b"]},
                            TABLE).projection
    assert paths == (("s",), ("absent",), ("a.b",))   # names, not paths: dots are literal
    assert project({**ITEM, "a.b": {"N": "1"}}, paths) == {"s": {"S": "hello"},
                                                          "a.b": {"N": "1"}}


def test_attributes_to_get_without_duplicates():
    assert refusal("GetItem", AttributesToGet=["a", "a"]) == (
        "One or more parameter values were invalid: Duplicate value in attribute name: a")
