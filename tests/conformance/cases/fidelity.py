"""Issue #9: behaviours outside test suites found to differ from DynamoDB, as cases.

Three DynamoDB test suites written or verified against the real service (run
against `dynamo serve` in 2026) found these; each case names the behaviour
(`source`) and where DynamoDB's answer comes from, with its date (`evidence`).
Where the wording itself is not known, docs/api.md says so.
"""

from __future__ import annotations

from typing import Any

from cases import (
    ENVELOPE,
    ENVELOPE_EVIDENCE,
    HASH,
    INVALID,
    VALIDATION,
    Call,
    ErrorCase,
    Scenario,
)

CONDITIONAL = "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"
SUITES = "issue #9 (outside DynamoDB test suites, 2026)"
DOCS = "Developer Guide, Comparison operator and function reference (2026)"
LEGACY_DOCS = "API Reference, Condition / ExpectedAttributeValue (2026)"
DAX = "AWS DAX client RequestValidator, which mirrors DynamoDB's messages"
ALTERNATOR = "ScyllaDB Alternator test_projection_expression.py, quoting DynamoDB (2024)"


def case(source: str, request: dict[str, Any], message: str, evidence: str) -> ErrorCase:
    return ErrorCase(source, request, VALIDATION, message, evidence=evidence)


def _put(**members: Any) -> dict[str, Any]:
    return {"TableName": HASH, "Item": {"a": {"S": "fidelity"}}, **members}


def _incorrect(name: str, kind: str) -> str:
    return (ENVELOPE + "Invalid ConditionExpression: Incorrect operand type for operator or "
            f"function; operator or function: {name}, operand type: {kind}")


def _legacy(op: str, kind: str) -> str:
    return INVALID + f"ComparisonOperator {op} is not valid for {kind} AttributeValue type"


ERRORS = [
    # -- operand types in conditions
    *[case(f"a {kind} operand with {op} in a ConditionExpression is refused",
           _put(ConditionExpression=f"b {op} :v", ExpressionAttributeValues={":v": value}),
           _incorrect(op, kind), f"{SUITES}; {DOCS}")
      for op in ("<", "<=", ">", ">=")
      for kind, value in (("L", {"L": []}), ("M", {"M": {}}), ("SS", {"SS": ["x"]}))],
    *[case(f"BETWEEN with {kind} bounds is refused",
           _put(ConditionExpression="b BETWEEN :v AND :w",
                ExpressionAttributeValues={":v": value, ":w": value}),
           _incorrect("BETWEEN", kind), f"{SUITES}; {DOCS}")
      for kind, value in (("NS", {"NS": ["1"]}), ("L", {"L": [{"N": "1"}]}))],
    case("IN with a list value is refused",
         _put(ConditionExpression="b IN (:v, :w)",
              ExpressionAttributeValues={":v": {"S": "x"}, ":w": {"L": []}}),
         _incorrect("IN", "L"), f"{SUITES}; {LEGACY_DOCS} (IN: String, Number or Binary)"),
    case("begins_with with a number is refused",
         _put(ConditionExpression="begins_with(b, :v)", ExpressionAttributeValues={":v": {"N": "1"}}),
         _incorrect("begins_with", "N"), f"{SUITES}; {DOCS}"),
    case("contains with a map is refused",
         _put(ConditionExpression="contains(b, :v)", ExpressionAttributeValues={":v": {"M": {}}}),
         _incorrect("contains", "M"),
         f"{SUITES}; {LEGACY_DOCS} (CONTAINS: 'b cannot be a set, a map, or a list')"),
    *[case(f"legacy Expected {op} with a {kind} value is refused",
           _put(Expected={"b": {"ComparisonOperator": op, "AttributeValueList": values}}),
           _legacy(op, kind), f"{SUITES}; message as dynalite recorded it for ScanFilter")
      for op, kind, values in (("LT", "L", [{"L": []}]), ("GE", "M", [{"M": {}}]),
                               ("BETWEEN", "SS", [{"SS": ["a"]}, {"SS": ["b"]}]),
                               ("IN", "L", [{"L": []}]), ("BEGINS_WITH", "N", [{"N": "1"}]),
                               ("CONTAINS", "NS", [{"NS": ["1"]}]))],
    # -- legacy Expected with ConditionalOperator
    case("Expected={} with ConditionalOperator names ConditionalOperator",
         _put(Expected={}, ConditionalOperator="AND"),
         "ConditionalOperator cannot be used without Filter or Expected", f"{SUITES}; {DAX}"),
    case("ConditionalOperator without Expected is refused",
         _put(ConditionalOperator="OR"),
         "ConditionalOperator cannot be used without Filter or Expected", f"{SUITES}; {DAX}"),
    case("ConditionalOperator with one Expected condition is refused",
         _put(Expected={"b": {"Exists": False}}, ConditionalOperator="OR"),
         "ConditionalOperator can only be used when Filter or Expected has two or more elements",
         f"{DAX}; nubo-db/dynamodb-conformance tests/tier3 (deep-requests ScanFilter, 2026)"),
    # -- limits
    case("a document path 33 levels deep is refused",
         {"TableName": HASH, "Key": {"a": {"S": "x"}}, "ProjectionExpression": "b" + ".c" * 32},
         "Invalid ProjectionExpression: The document path has too many nesting levels; "
         "nesting levels: 33", ALTERNATOR),
    case("a document path 33 levels deep is refused in an update",
         {"TableName": HASH, "Key": {"a": {"S": "x"}}, "UpdateExpression": "REMOVE b" + ".c" * 32},
         ENVELOPE + "Invalid UpdateExpression: The document path has too many nesting levels; "
         "nesting levels: 33", f"{ALTERNATOR}; {ENVELOPE_EVIDENCE}"),
    # -- today's messages
    case("if_not_exists in a condition is misused, not unknown",
         _put(ConditionExpression="if_not_exists(b, :v) = :v",
              ExpressionAttributeValues={":v": {"S": "x"}}),
         ENVELOPE + "Invalid ConditionExpression: The function is not allowed to be used this "
         "way in an expression; function: if_not_exists", SUITES),
    case("an empty set in ExpressionAttributeValues is enveloped",
         {"TableName": HASH, "Key": {"a": {"S": "x"}}, "UpdateExpression": "SET b = :v",
          "ExpressionAttributeValues": {":v": {"SS": []}}},
         ENVELOPE + "ExpressionAttributeValues contains invalid value: " + INVALID
         + "An string set  may not be empty for key :v",
         f"{SUITES}; {ENVELOPE_EVIDENCE}; dynoxide tests (eu-west-2, 2026)"),
    case("unused ExpressionAttributeValues are enveloped",
         {"TableName": HASH, "Key": {"a": {"S": "x"}}, "UpdateExpression": "SET b = :v",
          "ExpressionAttributeValues": {":v": {"S": "x"}, ":unused": {"S": "y"}}},
         ENVELOPE + "Value provided in ExpressionAttributeValues unused in expressions: "
         "keys: {:unused}", ENVELOPE_EVIDENCE),
    case("duplicate paths in SET are enveloped",
         {"TableName": HASH, "Key": {"a": {"S": "x"}}, "UpdateExpression": "SET b = :v, b = :v",
          "ExpressionAttributeValues": {":v": {"S": "x"}}},
         ENVELOPE + "Invalid UpdateExpression: Two document paths overlap with each other; must "
         "remove or rewrite one of these paths; path one: [b], path two: [b]", SUITES),
    case("the KeyConditions argument count names the operator",
         {"TableName": HASH, "KeyConditions": {"a": {"ComparisonOperator": "EQ"}}},
         INVALID + "Invalid number of argument(s) for the EQ ComparisonOperator", SUITES),
    # -- table ARNs
    case("CreateTable takes a name, not an ARN",
         {"TableName": "arn:aws:dynamodb:us-east-1:000000000000:table/fresh",
          "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}],
          "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
          "BillingMode": "PAY_PER_REQUEST"},
         "1 validation error detected: Value 'arn:aws:dynamodb:us-east-1:000000000000:table/"
         "fresh' at 'tableName' failed to satisfy constraint: Member must satisfy regular "
         "expression pattern: [a-zA-Z0-9_.-]+",
         "tflint-ruleset-aws #1170 (2026): the name pattern applies to creating a table"),
    case("an index ARN is not a table name",
         {"TableName": f"arn:aws:dynamodb:us-east-1:000000000000:table/{HASH}/index/i"},
         f"1 validation error detected: Value 'arn:aws:dynamodb:us-east-1:000000000000:table/"
         f"{HASH}/index/i' at 'tableName' failed to satisfy constraint: Member must satisfy "
         "regular expression pattern: [a-zA-Z0-9_.-]+",
         "ExtendDB #200, captured from DynamoDB (2026): a ValidationException"),
]

# Which operation each error case is sent to (the default is PutItem).
OPERATIONS = {
    "a document path 33 levels deep is refused": "GetItem",
    "a document path 33 levels deep is refused in an update": "UpdateItem",
    "an empty set in ExpressionAttributeValues is enveloped": "UpdateItem",
    "unused ExpressionAttributeValues are enveloped": "UpdateItem",
    "duplicate paths in SET are enveloped": "UpdateItem",
    "the KeyConditions argument count names the operator": "Query",
    "CreateTable takes a name, not an ARN": "CreateTable",
    "an index ARN is not a table name": "DescribeTable",
}

_KEY = {"a": {"S": "fidelity-missing"}}
_ARN = f"arn:aws:dynamodb:us-east-1:000000000000:table/{HASH}"
_ITEM = {"a": {"S": "fidelity-arn"}, "b": {"N": "1"}}

FUNCTIONAL = [
    Scenario(f"{SUITES}: REMOVE on a missing item creates nothing, returns no Attributes", [
        Call("UpdateItem", {"TableName": HASH, "Key": _KEY, "UpdateExpression": "REMOVE b",
                            "ReturnValues": "ALL_NEW"}, {}),
        Call("GetItem", {"TableName": HASH, "Key": _KEY, "ConsistentRead": True}, {}),
    ]),
    Scenario(f"{SUITES}: AttributeUpdates DELETE on a missing item creates nothing", [
        Call("UpdateItem", {"TableName": HASH, "Key": _KEY,
                            "AttributeUpdates": {"b": {"Action": "DELETE"},
                                                 "c": {"Action": "DELETE",
                                                       "Value": {"SS": ["x"]}}},
                            "ReturnValues": "ALL_NEW"}, {}),
        Call("GetItem", {"TableName": HASH, "Key": _KEY, "ConsistentRead": True}, {}),
    ]),
    Scenario(f"{SUITES}: SET or ADD on a missing item creates it", [
        Call("UpdateItem", {"TableName": HASH, "Key": _KEY, "UpdateExpression": "ADD n :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                            "ReturnValues": "ALL_NEW"},
             {"Attributes": {**_KEY, "n": {"N": "1"}}}),
        Call("DeleteItem", {"TableName": HASH, "Key": _KEY}, {}),
    ]),
    Scenario(f"{SUITES}: NOT_CONTAINS on a missing attribute fails the condition", [
        Call("PutItem", {"TableName": HASH, "Item": _KEY,
                         "Expected": {"b": {"ComparisonOperator": "NOT_CONTAINS",
                                            "AttributeValueList": [{"S": "x"}]}}},
             error=CONDITIONAL, message="The conditional request failed"),
        Call("GetItem", {"TableName": HASH, "Key": _KEY, "ConsistentRead": True}, {}),
    ]),
    Scenario(f"{SUITES}: a table's ARN goes wherever its name does", [
        Call("PutItem", {"TableName": _ARN, "Item": _ITEM}, {}),
        Call("GetItem", {"TableName": _ARN, "Key": {"a": _ITEM["a"]}, "ConsistentRead": True},
             {"Item": _ITEM}),
        Call("BatchGetItem", {"RequestItems": {_ARN: {"Keys": [{"a": _ITEM["a"]}],
                                                      "ConsistentRead": True}}},
             {"Responses": {HASH: [_ITEM]}, "UnprocessedKeys": {}}),
        Call("UpdateItem", {"TableName": _ARN, "Key": {"a": _ITEM["a"]},
                            "UpdateExpression": "SET b = :two",
                            "ExpressionAttributeValues": {":two": {"N": "2"}},
                            "ReturnValues": "UPDATED_NEW"}, {"Attributes": {"b": {"N": "2"}}}),
        Call("DeleteItem", {"TableName": _ARN, "Key": {"a": _ITEM["a"]}}, {}),
    ]),
]
