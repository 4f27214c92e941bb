"""GetItem, from dynalite's test/getItem.js."""

from __future__ import annotations

from cases import (
    BIG_NUMBER,
    HASH,
    INVALID,
    NO_MATCH,
    RANGE,
    Call,
    Scenario,
    not_found,
    serialization,
    validation,
)

_NULL_KEY = "Value null at 'key' failed to satisfy constraint: Member must not be null"

ERRORS = [
    serialization("should return SerializationException when TableName is not a string",
                  {"TableName": 23, "Key": {}}, f"{BIG_NUMBER} can not be converted to an String"),
    serialization("should return SerializationException when Key is not a map",
                  {"TableName": "abc", "Key": []}, "Start of list found where not expected"),
    serialization("should return SerializationException when AttributesToGet is not a list",
                  {"TableName": "abc", "Key": {}, "AttributesToGet": {}},
                  "Start of structure or map found where not expected."),
    serialization("should return SerializationException when ConsistentRead is not a boolean",
                  {"TableName": "abc", "Key": {}, "ConsistentRead": []},
                  "Start of list found where not expected"),
    validation("should return ValidationException for no TableName", {},
               "2 validation errors detected: Value null at 'tableName' failed to satisfy "
               f"constraint: Member must not be null; {_NULL_KEY}"),
    validation("should return ValidationException for incorrect attributes",
               {"TableName": "abc;", "ReturnConsumedCapacity": "hi", "AttributesToGet": []},
               "4 validation errors detected: Value 'hi' at 'returnConsumedCapacity' failed to "
               "satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; "
               "Value '[]' at 'attributesToGet' failed to satisfy constraint: Member must have "
               "length greater than or equal to 1; Value 'abc;' at 'tableName' failed to satisfy "
               "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "
               f"{_NULL_KEY}"),
    *[validation("should return ValidationException for empty key type",
                 {"TableName": "abc", "Key": {"a": value}},
                 "Supplied AttributeValue is empty, must contain exactly one of the supported "
                 "datatypes") for value in ({}, {"a": ""})],
    validation("should return ValidationException for false null",
               {"TableName": "abc", "Key": {"a": {"NULL": False}}},
               INVALID + "Null attribute value types must have the value of true"),
    validation("should return ValidationException for empty set key",
               {"TableName": "abc", "Key": {"a": {"SS": []}}},
               INVALID + "An string set  may not be empty"),
    validation("should return ValidationException for duplicate number in set",
               {"TableName": "abc", "Key": {"a": {"NS": ["1", "1"]}}},
               "Input collection contains duplicates"),
    validation("should return ValidationException for multiple types",
               {"TableName": "abc", "Key": {"a": {"S": "a", "N": "1"}}},
               "Supplied AttributeValue has more than one datatypes set, must contain exactly "
               "one of the supported datatypes"),
    validation("should return ValidationException if key has incorrect numeric type",
               {"TableName": "abc", "Key": {"a": {"N": "b"}}},
               "The parameter cannot be converted to a numeric value: b"),
    validation("should return ValidationException if key has huge positive number",
               {"TableName": "aaa", "Key": {"a": {"N": "1e126"}}},
               "Number overflow. Attempting to store a number with magnitude larger than "
               "supported range"),
    validation("should return ValidationException if key has tiny negative number",
               {"TableName": "aaa", "Key": {"a": {"N": "-1e-131"}}},
               "Number underflow. Attempting to store a number with magnitude smaller than "
               "supported range"),
    validation("should return ValidationException duplicate values in AttributesToGet",
               {"TableName": "abc", "Key": {}, "AttributesToGet": ["a", "a"]},
               INVALID + "Duplicate value in attribute name: a"),
    not_found("should return ResourceNotFoundException if key is empty and table does not exist",
              {"TableName": "abc-does-not-exist", "Key": {}}),
    validation("should return ValidationException if key is empty and table does exist",
               {"TableName": HASH, "Key": {}}, NO_MATCH),
    *[validation("should return ValidationException if key has incorrect or extra attributes",
                 {"TableName": HASH, "Key": key}, NO_MATCH)
      for key in ({"b": {"S": "a"}}, {"a": {"S": "a"}, "b": {"S": "a"}}, {"a": {"B": "abcd"}},
                  {"a": {"N": "1"}}, {"a": {"SS": ["a"]}}, {"a": {"NS": ["1"]}},
                  {"a": {"BS": ["aaaa"]}})],
    validation("should return ValidationException if missing range key",
               {"TableName": RANGE, "Key": {"a": {"S": "a"}}}, NO_MATCH),
    validation("should return ValidationException if hash key is too big",
               {"TableName": HASH, "Key": {"a": {"S": "a" * 2049}}},
               INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes"),
    validation("should return ValidationException if range key is too big",
               {"TableName": RANGE, "Key": {"a": {"S": "a"}, "b": {"S": "b" * 1025}}},
               INVALID + "Aggregated size of all range keys has exceeded the size limit of "
               "1024 bytes"),
]

_ITEM = {"a": {"S": "get-item"}, "b": {"S": "a"}, "g": {"N": "23"}}

FUNCTIONAL = [
    Scenario("should return empty response if key does not exist", [
        Call("GetItem", {"TableName": HASH, "Key": {"a": {"S": "get-missing"}}}, {}),
    ]),
    Scenario("should return ConsumedCapacity if specified", [
        Call("GetItem", {"TableName": HASH, "Key": {"a": {"S": "get-missing"}},
                         "ReturnConsumedCapacity": "TOTAL"},
             {"ConsumedCapacity": {"CapacityUnits": 0.5, "TableName": HASH}}, partial=True),
        Call("GetItem", {"TableName": HASH, "Key": {"a": {"S": "get-missing"}},
                         "ReturnConsumedCapacity": "INDEXES"},
             {"ConsumedCapacity": {"CapacityUnits": 0.5, "Table": {"CapacityUnits": 0.5},
                                   "TableName": HASH}}, partial=True),
    ]),
    Scenario("should return full ConsumedCapacity if specified", [
        Call("GetItem", {"TableName": HASH, "Key": {"a": {"S": "get-missing"}},
                         "ReturnConsumedCapacity": "TOTAL", "ConsistentRead": True},
             {"ConsumedCapacity": {"CapacityUnits": 1, "TableName": HASH}}, partial=True),
    ]),
    Scenario("should return object by hash key", [
        Call("PutItem", {"TableName": HASH, "Item": _ITEM}, {}),
        Call("GetItem", {"TableName": HASH, "Key": {"a": _ITEM["a"]}, "ConsistentRead": True},
             {"Item": _ITEM}),
    ]),
    Scenario("should return object by range key", [
        Call("PutItem", {"TableName": RANGE, "Item": {
            "a": {"S": "get-range"}, "b": {"S": "r"}, "g": {"N": "23"}}}, {}),
        Call("GetItem", {"TableName": RANGE, "Key": {"a": {"S": "get-range"}, "b": {"S": "r"}},
                         "ConsistentRead": True},
             {"Item": {"a": {"S": "get-range"}, "b": {"S": "r"}, "g": {"N": "23"}}}),
    ]),
    Scenario("should only return requested attributes", [
        Call("PutItem", {"TableName": HASH, "Item": _ITEM}, {}),
        Call("GetItem", {"TableName": HASH, "Key": {"a": _ITEM["a"]},
                         "AttributesToGet": ["b", "g"], "ReturnConsumedCapacity": "TOTAL",
                         "ConsistentRead": True},
             {"Item": {"b": {"S": "a"}, "g": {"N": "23"}},
              "ConsumedCapacity": {"CapacityUnits": 1, "TableName": HASH}}, partial=True),
        Call("GetItem", {"TableName": HASH, "Key": {"a": _ITEM["a"]},
                         "ProjectionExpression": "b, g", "ConsistentRead": True},
             {"Item": {"b": {"S": "a"}, "g": {"N": "23"}}}),
        Call("GetItem", {"TableName": HASH, "Key": {"a": _ITEM["a"]},
                         "ProjectionExpression": "#b, g", "ExpressionAttributeNames": {"#b": "b"},
                         "ConsistentRead": True},
             {"Item": {"b": {"S": "a"}, "g": {"N": "23"}}}),
    ]),
    Scenario("should only return requested nested attributes", [
        Call("PutItem", {"TableName": HASH, "Item": {
            "a": {"S": "get-nested"}, "b": {"M": {"a": {"S": "a"}, "b": {"S": "b"}}},
            "c": {"L": [{"S": "x"}, {"S": "y"}, {"S": "z"}]}}}, {}),
        Call("GetItem", {"TableName": HASH, "Key": {"a": {"S": "get-nested"}},
                         "ProjectionExpression": "b.b, c[2], c[0]"},
             {"Item": {"b": {"M": {"b": {"S": "b"}}}, "c": {"L": [{"S": "x"}, {"S": "z"}]}}}),
    ]),
]
