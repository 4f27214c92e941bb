"""The 2026 validation framework's "1 validation error detected: " envelope.

DynamoDB's write operations answer expression and placeholder mistakes
inside the envelope since its 2026 rewording (captures of the real service,
2026-06-09 and 2026-08-12); other families, and the reads, keep the bare
wording (envelope.py, docs/api.md "Which DynamoDB the messages match").
"""

import pytest

from dynamo.storage.errors import ValidationException
from dynamo.storage.expressions import check_style, compile_request
from dynamo.storage.keys import KeyAttribute, KeySchema

TABLE = KeySchema(KeyAttribute("pk", "S"))
V = {":v": {"S": "x"}}


def message(operation, **params):
    with pytest.raises(ValidationException) as caught:
        compile_request(operation, params, TABLE)
    return caught.value.message


@pytest.mark.parametrize(("operation", "params", "expected"), [
    ("UpdateItem", {"UpdateExpression": ""},
     "1 validation error detected: Invalid UpdateExpression: The expression can not be empty;"),
    ("PutItem", {"ConditionExpression": "((a = :v))", "ExpressionAttributeValues": V},
     "1 validation error detected: Invalid ConditionExpression: The expression has redundant "
     "parentheses;"),
    ("PutItem", {"ConditionExpression": "contains(pk, pk)"},
     "1 validation error detected: Invalid ConditionExpression: The first operand must be "
     "distinct from the remaining operands for this operator or function; operator: "
     "contains, first operand: [pk]"),
    ("UpdateItem", {"UpdateExpression": "SET a = :v", "ExpressionAttributeValues": V,
                    "ExpressionAttributeNames": {"#unused": "x"}},
     "1 validation error detected: Value provided in ExpressionAttributeNames unused in "
     "expressions: keys: {#unused}"),
    ("UpdateItem", {"UpdateExpression": "SET a = :v",
                    "ExpressionAttributeValues": {**V, ":unused": {"N": "1"}}},
     "1 validation error detected: Value provided in ExpressionAttributeValues unused in "
     "expressions: keys: {:unused}"),
    ("UpdateItem", {"UpdateExpression": "SET a = :v", "ExpressionAttributeValues": {}},
     "ExpressionAttributeValues must not be empty"),
    ("UpdateItem", {"UpdateExpression": "SET a = :v",
                    "ExpressionAttributeValues": {":v": {"SS": []}}},
     "1 validation error detected: ExpressionAttributeValues contains invalid value: One or "
     "more parameter values were invalid: An string set  may not be empty for key :v"),
    ("UpdateItem", {"UpdateExpression": "SET a = :v, a = :v", "ExpressionAttributeValues": V},
     "1 validation error detected: Invalid UpdateExpression: Two document paths overlap with "
     "each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"),
    ("DeleteItem", {"ConditionExpression": "a = :v"},
     "1 validation error detected: Invalid ConditionExpression: An expression attribute value "
     "used in expression is not defined; attribute value: :v"),
])
def test_write_operations_envelope_expression_mistakes(operation, params, expected):
    assert message(operation, **params) == expected


@pytest.mark.parametrize(("operation", "params", "expected"), [
    # Captured bare: a key attribute in an update, names without an expression.
    ("UpdateItem", {"UpdateExpression": "SET pk = :v", "ExpressionAttributeValues": V},
     "One or more parameter values were invalid: Cannot update attribute pk. This attribute "
     "is part of the key"),
    ("PutItem", {"ExpressionAttributeNames": {"#a": "a"}},
     "ExpressionAttributeNames can only be specified when using expressions"),
    # Reads: no evidence of the envelope, so the bare wording stays.
    ("Scan", {"FilterExpression": ""}, "Invalid FilterExpression: The expression can not be empty;"),
    ("GetItem", {"ProjectionExpression": "a, a"},
     "Invalid ProjectionExpression: Two document paths overlap with each other; must remove "
     "or rewrite one of these paths; path one: [a], path two: [a]"),
])
def test_other_families_and_reads_stay_bare(operation, params, expected):
    assert message(operation, **params) == expected


def test_the_style_check_alone_is_enveloped_too():
    with pytest.raises(ValidationException) as caught:
        check_style("PutItem", {"ConditionExpression": "a = :v", "Expected": {"a": {}}})
    assert caught.value.message == (
        "1 validation error detected: Can not use both expression and non-expression parameters "
        "in the same request: Non-expression parameters: {Expected} Expression parameters: "
        "{ConditionExpression}")
