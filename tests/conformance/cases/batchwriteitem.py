"""BatchWriteItem, from dynalite's test/batchWriteItem.js."""

from __future__ import annotations

import re

from cases import HASH, INVALID, MAX_SIZE, RANGE, Call, Scenario, not_found, validation

_EMPTY_VALUE = ("Supplied AttributeValue is empty, must contain exactly one of the supported "
                "datatypes")
_KEYS_CONSTRAINT = (r"Map keys must satisfy constraint: \[Member must have length less than or "
                    r"equal to 255, Member must have length greater than or equal to 3, Member "
                    r"must satisfy regular expression pattern: \[a-zA-Z0-9_.-\]\+\]")
_VALUES_CONSTRAINT = (r"Map value must satisfy constraint: \[Member must have length less than "
                      r"or equal to 25, Member must have length greater than or equal to 1\]")


def _put(item: dict[str, object], table: str = "abc") -> dict[str, object]:
    return {"RequestItems": {table: [{"PutRequest": {"Item": item}}]}}


def _mixed(count: int) -> list[dict[str, object]]:
    """dynalite's alternating puts and deletes of keys "0", "1", ..."""
    return [{"DeleteRequest": {"Key": {"a": {"S": str(i)}}}} if i % 2 else
            {"PutRequest": {"Item": {"a": {"S": str(i)}}}} for i in range(count)]


_KEY = "batch-write-key"

ERRORS = [
    validation("should return ValidationException for missing RequestItems",
               {"ReturnConsumedCapacity": "hi", "ReturnItemCollectionMetrics": "hi"},
               "3 validation errors detected: Value 'hi' at 'returnConsumedCapacity' failed to "
               "satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; "
               "Value 'hi' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member "
               "must satisfy enum value set: [SIZE, NONE]; Value null at 'requestItems' failed "
               "to satisfy constraint: Member must not be null"),
    validation("should return ValidationException for empty RequestItems", {"RequestItems": {}},
               "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy "
               "constraint: Member must have length greater than or equal to 1"),
    validation("should return ValidationException for empty list in RequestItems",
               {"RequestItems": {"a": []}},
               re.compile(r"2 validation errors detected: Value '\{.+\}' at 'requestItems' failed "
                          rf"to satisfy constraint: {_KEYS_CONSTRAINT}; Value '\{{.+\}}' at "
                          rf"'requestItems' failed to satisfy constraint: {_VALUES_CONSTRAINT}")),
    validation("should return ValidationException for incorrect attributes",
               {"RequestItems": {"aa;": [{"PutRequest": {}, "DeleteRequest": {}}]},
                "ReturnConsumedCapacity": "hi", "ReturnItemCollectionMetrics": "hi"},
               re.compile(r"5 validation errors detected: Value 'hi' at 'returnConsumedCapacity' "
                          r"failed to satisfy constraint: Member must satisfy enum value set: "
                          r"\[INDEXES, TOTAL, NONE\]; Value 'hi' at 'returnItemCollectionMetrics' "
                          r"failed to satisfy constraint: Member must satisfy enum value set: "
                          r"\[SIZE, NONE\]; Value '\{.+\}' at 'requestItems' failed to satisfy "
                          rf"constraint: {_KEYS_CONSTRAINT}; Value null at "
                          r"'requestItems.aa;.member.1.member.deleteRequest.key' failed to "
                          r"satisfy constraint: Member must not be null; Value null at "
                          r"'requestItems.aa;.member.1.member.putRequest.item' failed to satisfy "
                          r"constraint: Member must not be null")),
    validation("should return ValidationException when putting more than 25 items",
               {"RequestItems": {"abc": _mixed(26)}},
               re.compile(r"1 validation error detected: Value '\{.+\}' at 'requestItems' failed "
                          rf"to satisfy constraint: {_VALUES_CONSTRAINT}")),
    not_found("should return ResourceNotFoundException when fetching exactly 25 items and table "
              "does not exist", {"RequestItems": {"abc": _mixed(25)}}),
    validation("should return ValidationException for puts and deletes of the same item with put "
               "first", {"RequestItems": {HASH: [
                   {"PutRequest": {"Item": {"a": {"S": _KEY}, "c": {"S": "c"}}}},
                   {"DeleteRequest": {"Key": {"a": {"S": _KEY}}}}]}},
               "Provided list of item keys contains duplicates"),
    validation("should return ValidationException for puts and deletes of the same item with "
               "delete first", {"RequestItems": {HASH: [
                   {"DeleteRequest": {"Key": {"a": {"S": _KEY}}}},
                   {"PutRequest": {"Item": {"a": {"S": _KEY}, "c": {"S": "c"}}}}]}},
               "Provided list of item keys contains duplicates"),
    validation("should return ValidationException for short table name",
               _put({"a": {"S": "a"}}, table="a"),
               re.compile(r"1 validation error detected: Value '\{.+\}' at 'requestItems' failed "
                          rf"to satisfy constraint: {_KEYS_CONSTRAINT}")),
    *[validation("should return ValidationException for empty or bad key type",
                 _put({"a": value}), _EMPTY_VALUE) for value in ({}, {"a": ""})],
    *[validation("should return ValidationException for invalid values",
                 _put({"a": value}), message)
      for value, message in (
          ({"NULL": False}, INVALID + "Null attribute value types must have the value of true"),
          ({"SS": []}, INVALID + "An string set  may not be empty"),
          ({"SS": ["a", "a"]}, INVALID + "Input collection [a, a] contains duplicates."),
          ({"NS": ["1", "1"]}, "Input collection contains duplicates"),
          ({"BS": ["Yg==", "Yg=="]}, INVALID + "Input collection [Yg==, Yg==]of type BS "
                                               "contains duplicates."),
          ({"S": "a", "N": "1"}, "Supplied AttributeValue has more than one datatypes set, "
                                 "must contain exactly one of the supported datatypes"),
          ({"N": ""}, "The parameter cannot be converted to a numeric value"),
          ({"NS": ["1", "b", "a"]}, "The parameter cannot be converted to a numeric value: b"),
          ({"N": "123456789012345678901234567890123456789"},
           "Attempting to store more than 38 significant digits in a Number"),
          ({"N": "-1e126"}, "Number overflow. Attempting to store a number with magnitude larger "
                            "than supported range"),
          ({"N": "1e-131"}, "Number underflow. Attempting to store a number with magnitude "
                            "smaller than supported range"))],
    validation("should return ValidationException if item is too big with small attribute",
               _put({"a": {"S": _KEY}, "b": {"S": "a" * (MAX_SIZE - len(_KEY) - 1)}}),
               "Item size has exceeded the maximum allowed size"),
    not_found("should return ResourceNotFoundException if item is just small enough with small "
              "attribute", _put({"a": {"S": _KEY}, "b": {"S": "a" * (MAX_SIZE - len(_KEY) - 2)}})),
    validation("should return ValidationException if key type is wrong for the table",
               _put({"a": {"N": "1"}}, table=HASH),
               INVALID + "Type mismatch for key a expected: S actual: N"),
    validation("should return ValidationException if missing range key",
               _put({"a": {"S": "a"}}, table=RANGE), INVALID + "Missing the key b in the item"),
    validation("should return ValidationException if deleting with an incomplete key",
               {"RequestItems": {RANGE: [{"DeleteRequest": {"Key": {"a": {"S": "a"}}}}]}},
               "The provided key element does not match the schema"),
]

FUNCTIONAL = [
    Scenario("should write a single item to each table", [
        Call("BatchWriteItem", {"RequestItems": {
            HASH: [{"PutRequest": {"Item": {"a": {"S": "bw-1"}, "c": {"S": "c"}}}}],
            RANGE: [{"PutRequest": {"Item": {"a": {"S": "bw-1"}, "b": {"S": "b"}}}}]}},
             {"UnprocessedItems": {}}),
        Call("GetItem", {"TableName": HASH, "Key": {"a": {"S": "bw-1"}}, "ConsistentRead": True},
             {"Item": {"a": {"S": "bw-1"}, "c": {"S": "c"}}}),
        Call("GetItem", {"TableName": RANGE, "Key": {"a": {"S": "bw-1"}, "b": {"S": "b"}},
                         "ConsistentRead": True},
             {"Item": {"a": {"S": "bw-1"}, "b": {"S": "b"}}}),
    ]),
    Scenario("should delete an item from each table", [
        Call("PutItem", {"TableName": HASH, "Item": {"a": {"S": "bw-2"}}}, {}),
        Call("BatchWriteItem", {"RequestItems": {
            HASH: [{"DeleteRequest": {"Key": {"a": {"S": "bw-2"}}}}],
            RANGE: [{"DeleteRequest": {"Key": {"a": {"S": "bw-2"}, "b": {"S": "b"}}}}]}},
             {"UnprocessedItems": {}}),
        Call("GetItem", {"TableName": HASH, "Key": {"a": {"S": "bw-2"}}, "ConsistentRead": True},
             {}),
    ]),
    Scenario("should return ConsumedCapacity from each specified table when putting and deleting "
             "small item", [
        Call("BatchWriteItem", {"RequestItems": {
            HASH: [{"PutRequest": {"Item": {"a": {"S": "bw-3"}}}},
                   {"DeleteRequest": {"Key": {"a": {"S": "bw-4"}}}}],
            RANGE: [{"PutRequest": {"Item": {"a": {"S": "bw-3"}, "b": {"S": "b"}}}}]},
            "ReturnConsumedCapacity": "TOTAL"},
             {"UnprocessedItems": {}, "ConsumedCapacity": [
                 {"CapacityUnits": 2, "TableName": HASH},
                 {"CapacityUnits": 1, "TableName": RANGE}]}, partial=True),
    ]),
]
