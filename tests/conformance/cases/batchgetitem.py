"""BatchGetItem, from dynalite's test/batchGetItem.js."""

from __future__ import annotations

import re

from cases import HASH, INVALID, RANGE, Call, Scenario, not_found, validation

_KEYS_CONSTRAINT = (r"Map keys must satisfy constraint: \[Member must have length less than or "
                    r"equal to 255, Member must have length greater than or equal to 3, Member "
                    r"must satisfy regular expression pattern: \[a-zA-Z0-9_.-\]\+\]")
_EMPTY_VALUE = ("Supplied AttributeValue is empty, must contain exactly one of the supported "
                "datatypes")


def _get(*keys: dict[str, object], table: str = "abc", **extra: object) -> dict[str, object]:
    return {"RequestItems": {table: {"Keys": list(keys), **extra}}}


ERRORS = [
    validation("should return ValidationException for empty RequestItems", {"RequestItems": {}},
               "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy "
               "constraint: Member must have length greater than or equal to 1"),
    validation("should return ValidationException for short table name with no keys",
               {"RequestItems": {"a": {}}, "ReturnConsumedCapacity": "hi"},
               re.compile(r"^3 validation errors detected: Value 'hi' at 'returnConsumedCapacity' "
                          r"failed to satisfy constraint: Member must satisfy enum value set: "
                          rf"\[INDEXES, TOTAL, NONE\]; Value '\{{.+\}}' at 'requestItems' failed "
                          rf"to satisfy constraint: {_KEYS_CONSTRAINT}; Value null at "
                          r"'requestItems.a.member.keys' failed to satisfy constraint: Member "
                          r"must not be null$")),
    validation("should return ValidationException for empty keys",
               {"RequestItems": {"a": {"Keys": []}}},
               re.compile(r"^2 validation errors detected: Value '\{.+\}' at 'requestItems' "
                          rf"failed to satisfy constraint: {_KEYS_CONSTRAINT}; Value '\[\]' at "
                          r"'requestItems.a.member.keys' failed to satisfy constraint: Member "
                          r"must have length greater than or equal to 1$")),
    validation("should return ValidationException for short table name with keys",
               {"RequestItems": {"a": {"Keys": [{"a": {"S": "a"}}]}}},
               re.compile(r"^1 validation error detected: Value '\{.+\}' at 'requestItems' "
                          rf"failed to satisfy constraint: {_KEYS_CONSTRAINT}$")),
    validation("should return ValidationException for empty Keys",
               {"RequestItems": {"abc": {"Keys": []}}},
               re.compile(r"^1 validation error detected: Value '\[\]' at "
                          r"'requestItems.abc.member.keys' failed to satisfy constraint: Member "
                          r"must have length greater than or equal to 1$")),
    *[validation("should return ValidationException for empty or bad key type",
                 _get({"a": value}), _EMPTY_VALUE) for value in ({}, {"a": ""})],
    *[validation("should return ValidationException for invalid values in Keys",
                 _get({"a": value}), message)
      for value, message in (
          ({"NULL": False}, INVALID + "Null attribute value types must have the value of true"),
          ({"SS": ["a", "a"]}, INVALID + "Input collection [a, a] contains duplicates."),
          ({"N": "b"}, "The parameter cannot be converted to a numeric value: b"),
          ({"N": "1e126"}, "Number overflow. Attempting to store a number with magnitude larger "
                           "than supported range"))],
    validation("should return ValidationException duplicate values in AttributesToGet",
               _get({}, AttributesToGet=["a", "a"]),
               INVALID + "Duplicate value in attribute name: a"),
    validation("should return ValidationException for more than 100 keys",
               _get(*[{"a": {"S": str(i)}} for i in range(101)]),
               re.compile(r"^1 validation error detected: Value '\[.+\]' at "
                          r"'requestItems.abc.member.keys' failed to satisfy constraint: Member "
                          r"must have length less than or equal to 100$")),
    validation("should return ValidationException if filter expression and non-expression",
               _get({"a": {"S": "a"}}, AttributesToGet=["a"], ProjectionExpression="a"),
               "Can not use both expression and non-expression parameters in the same request: "
               "Non-expression parameters: {AttributesToGet} Expression parameters: "
               "{ProjectionExpression}"),
    not_found("should return ResourceNotFoundException if key is empty and table does not exist",
              _get({})),
    validation("should return ValidationException for duplicated keys",
               _get({"a": {"S": "x"}}, {"a": {"S": "x"}}, table=HASH),
               "Provided list of item keys contains duplicates"),
    validation("should return ValidationException if key does not match the schema",
               _get({"b": {"S": "a"}}, table=HASH),
               "The provided key element does not match the schema"),
    validation("should return ValidationException if missing range key",
               _get({"a": {"S": "a"}}, table=RANGE),
               "The provided key element does not match the schema"),
    validation("should return ValidationException when fetching more than 100 keys over multiple "
               "tables", {"RequestItems": {
                   "abc": {"Keys": [{"a": {"S": str(i)}} for i in range(100)]},
                   "abd": {"Keys": [{"a": {"S": "100"}}]}}},
               "Too many items requested for the BatchGetItem call"),
    not_found("should return ResourceNotFoundException when fetching exactly 100 keys and table "
              "does not exist", _get(*[{"a": {"S": str(i)}} for i in range(100)])),
    validation("should return ValidationException for duplicated mixed up keys",
               _get({"a": {"S": "x"}}, {"a": {"S": "y"}}, {"a": {"S": "x"}}, table=HASH),
               "Provided list of item keys contains duplicates"),
    validation("should return ValidationException if hash key is too big",
               _get({"a": {"S": "a" * 2049}}, table=HASH),
               INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes"),
]

FUNCTIONAL = [
    Scenario("should return empty responses if keys do not exist", [
        Call("BatchGetItem", {"RequestItems": {
            HASH: {"Keys": [{"a": {"S": "bg-missing"}}]},
            RANGE: {"Keys": [{"a": {"S": "bg-missing"}, "b": {"S": "b"}}]}}},
             {"Responses": {HASH: [], RANGE: []}, "UnprocessedKeys": {}}),
    ]),
    Scenario("should return ConsumedCapacity from each specified table with no consistent read "
             "and small item", [
        Call("BatchGetItem", {"RequestItems": {
            HASH: {"Keys": [{"a": {"S": "bg-1"}}, {"a": {"S": "bg-2"}}]},
            RANGE: {"Keys": [{"a": {"S": "bg-1"}, "b": {"S": "b"}}], "ConsistentRead": True}},
            "ReturnConsumedCapacity": "TOTAL"},
             {"Responses": {HASH: [], RANGE: []}, "UnprocessedKeys": {},
              "ConsumedCapacity": [{"CapacityUnits": 1, "TableName": HASH},
                                   {"CapacityUnits": 1, "TableName": RANGE}]}, partial=True),
    ]),
    Scenario("should return items from each table, projected", [
        Call("PutItem", {"TableName": HASH, "Item": {"a": {"S": "bg-3"}, "c": {"S": "c"},
                                                     "d": {"N": "1"}}}, {}),
        Call("BatchGetItem", {"RequestItems": {HASH: {
            "Keys": [{"a": {"S": "bg-3"}}], "ProjectionExpression": "#c",
            "ExpressionAttributeNames": {"#c": "c"}}}},
             {"Responses": {HASH: [{"c": {"S": "c"}}]}, "UnprocessedKeys": {}}),
        Call("BatchGetItem", {"RequestItems": {HASH: {
            "Keys": [{"a": {"S": "bg-3"}}], "AttributesToGet": ["a", "d"]}}},
             {"Responses": {HASH: [{"a": {"S": "bg-3"}, "d": {"N": "1"}}]},
              "UnprocessedKeys": {}}),
    ]),
]
