"""Issue #9 at the storage layer: limits, misused functions, legacy operators.

Each expectation is DynamoDB's answer (sources in tests/conformance/cases/fidelity.py).
"""

import pytest

from dynamo.storage.errors import ValidationException
from dynamo.storage.expressions import compile_request, evaluate
from dynamo.storage.expressions.envelope import ENVELOPE
from dynamo.storage.keys import KeyAttribute, KeySchema

SCHEMA = KeySchema(KeyAttribute("pk", "S"))
INVALID = "One or more parameter values were invalid: "


def refusal(operation, **params):
    with pytest.raises(ValidationException) as caught:
        compile_request(operation, params, SCHEMA)
    return caught.value.message


# ------------------------------------------------------------------ limits
def test_a_path_may_have_32_levels_and_no_more():
    """Developer Guide quotas: nested attribute depth 32."""
    compile_request("GetItem", {"ProjectionExpression": "a" + ".b" * 31}, SCHEMA)
    compile_request("GetItem", {"ProjectionExpression": "a" + "[0]" * 31}, SCHEMA)
    assert refusal("GetItem", ProjectionExpression="a" + ".b" * 32) == (
        "Invalid ProjectionExpression: The document path has too many nesting levels; "
        "nesting levels: 33")
    assert refusal("Scan", FilterExpression="attribute_exists(a" + "[1]" * 33 + ")") == (
        "Invalid FilterExpression: The document path has too many nesting levels; "
        "nesting levels: 34")
    assert refusal("UpdateItem", UpdateExpression="REMOVE a" + ".#b" * 32,
                   ExpressionAttributeNames={"#b": "b"}) == (
        ENVELOPE + "Invalid UpdateExpression: The document path has too many nesting levels; "
        "nesting levels: 33")


# ---------------------------------------------------------- misused functions
@pytest.mark.parametrize(("text", "name"), [
    ("if_not_exists(a, :v) = :v", "if_not_exists"),
    ("list_append(a, :v) = :v", "list_append"),
    ("attribute_exists(a) AND if_not_exists(a, :v) = :v", "if_not_exists"),
])
def test_update_functions_in_a_condition_are_misused(text, name):
    assert refusal("Scan", FilterExpression=text,
                   ExpressionAttributeValues={":v": {"S": "x"}}) == (
        "Invalid FilterExpression: The function is not allowed to be used this way in an "
        f"expression; function: {name}")


def test_unknown_functions_stay_unknown():
    assert refusal("Scan", FilterExpression="starts_with(a, :v)",
                   ExpressionAttributeValues={":v": {"S": "x"}}) == (
        "Invalid FilterExpression: Invalid function name; function: starts_with")


# ------------------------------------------------- legacy ConditionalOperator
@pytest.mark.parametrize(("params", "message"), [
    ({"Expected": {}, "ConditionalOperator": "AND"},
     "ConditionalOperator cannot be used without Filter or Expected"),
    ({"ConditionalOperator": "OR"}, "ConditionalOperator cannot be used without Filter or Expected"),
    ({"Expected": {"a": {"Exists": False}}, "ConditionalOperator": "OR"},
     "ConditionalOperator can only be used when Filter or Expected has two or more elements"),
    ({"Expected": {"a": {"Exists": False}}, "ConditionalOperator": "XOR"},
     "1 validation error detected: Value 'XOR' at 'conditionalOperator' failed to satisfy "
     "constraint: Member must satisfy enum value set: [OR, AND]"),
])
def test_conditional_operator_needs_two_conditions_to_join(params, message):
    assert refusal("PutItem", **params) == message


def test_conditional_operator_with_a_scan_filter():
    assert refusal("Scan", ConditionalOperator="AND") == (
        "ConditionalOperator cannot be used without Filter or Expected")
    two = {"a": {"ComparisonOperator": "NULL"}, "b": {"ComparisonOperator": "NULL"}}
    compiled = compile_request("Scan", {"ScanFilter": two, "ConditionalOperator": "OR"}, SCHEMA)
    assert evaluate(compiled.filter, {"a": {"S": "x"}}) is True


def test_an_empty_expected_alone_is_no_condition():
    assert compile_request("PutItem", {"Expected": {}}, SCHEMA).condition is None


# --------------------------------------------------------- legacy operators
def test_key_conditions_count_names_the_operator():
    for op, values in (("EQ", []), ("BETWEEN", [{"S": "a"}]), ("NULL", [{"S": "a"}])):
        assert refusal("Query", KeyConditions={"pk": {"ComparisonOperator": op,
                                                      "AttributeValueList": values}}) == (
            INVALID + f"Invalid number of argument(s) for the {op} ComparisonOperator")


def test_expected_checks_value_types_like_the_filters():
    assert refusal("PutItem", Expected={"a": {"ComparisonOperator": "LT",
                                              "AttributeValueList": [{"L": []}]}}) == (
        INVALID + "ComparisonOperator LT is not valid for L AttributeValue type")
    assert refusal("DeleteItem", Expected={"a": {"ComparisonOperator": "BEGINS_WITH",
                                                 "Value": {"N": "1"}}}) == (
        INVALID + "ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type")
