"""DeleteItem, from dynalite's test/deleteItem.js."""

from __future__ import annotations

from cases import (
    CONDITION_FAILED,
    CONDITIONAL,
    HASH,
    INVALID,
    NO_MATCH,
    RANGE,
    Call,
    Scenario,
    conditional,
    enveloped,
    not_found,
    validation,
)

ERRORS = [
    validation("should return ValidationException for no TableName", {},
               "2 validation errors detected: Value null at 'tableName' failed to satisfy "
               "constraint: Member must not be null; Value null at 'key' failed to satisfy "
               "constraint: Member must not be null"),
    enveloped(validation("should return ValidationException if expression and non-expression",
               {"TableName": "abc", "Key": {"a": {}}, "Expected": {"a": {}},
                "ExpressionAttributeNames": {}, "ExpressionAttributeValues": {},
                "ConditionExpression": ""},
               "Can not use both expression and non-expression parameters in the same request: "
               "Non-expression parameters: {Expected} Expression parameters: "
               "{ConditionExpression}")),
    validation("should return ValidationException for unsupported datatype in Key",
               {"TableName": "abc", "Key": {"a": {}}, "Expected": {"a": {}}},
               "Supplied AttributeValue is empty, must contain exactly one of the supported "
               "datatypes"),
    validation("should return ValidationException for invalid values in Key",
               {"TableName": "abc", "Key": {"a": {"SS": ["a", "a"]}}},
               INVALID + "Input collection [a, a] contains duplicates."),
    validation("should return ValidationException for empty/invalid numbers in Key",
               {"TableName": "abc", "Key": {"a": {"NS": ["1", "b"]}}},
               "The parameter cannot be converted to a numeric value: b"),
    *[validation("should return ValidationException for incorrect ReturnValues",
                 {"TableName": "abc", "Key": {}, "ReturnValues": value},
                 "ReturnValues can only be ALL_OLD or NONE")
      for value in ("UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")],
    validation("should return ValidationException if no value and no exists",
               {"TableName": "abc", "Key": {}, "Expected": {"a": {}}},
               INVALID + "Value must be provided when Exists is null for Attribute: a"),
    enveloped(validation("should return ValidationException for empty ConditionExpression",
               {"TableName": "abc", "Key": {}, "ConditionExpression": ""},
               "Invalid ConditionExpression: The expression can not be empty;")),
    not_found("should return ResourceNotFoundException if key is empty and table does not exist",
              {"TableName": "abc-does-not-exist", "Key": {}}),
    validation("should return ValidationException if key is empty and table does exist",
               {"TableName": HASH, "Key": {}}, NO_MATCH),
    validation("should return ValidationException if key has extra attributes",
               {"TableName": HASH, "Key": {"a": {"S": "a"}, "b": {"S": "a"}}}, NO_MATCH),
    validation("should return ValidationException if key is incorrect numeric type",
               {"TableName": HASH, "Key": {"a": {"N": "1"}}}, NO_MATCH),
    validation("should return ValidationException if missing range key",
               {"TableName": RANGE, "Key": {"a": {"S": "a"}}}, NO_MATCH),
    conditional("should return ConditionalCheckFailedException if expecting non-existent key "
                "to exist", {"TableName": HASH, "Key": {"a": {"S": "delete-missing"}},
                             "Expected": {"a": {"Value": {"S": "delete-missing"}}}}),
    conditional("should return ConditionalCheckFailedException if expecting non-existent key "
                "to exist", {"TableName": HASH, "Key": {"a": {"S": "delete-missing"}},
                             "ConditionExpression": "attribute_exists(a)"}),
]

FUNCTIONAL = [
    Scenario("should return nothing if item does not exist", [
        Call("DeleteItem", {"TableName": HASH, "Key": {"a": {"S": "delete-none"}}}, {}),
    ]),
    Scenario("should return ConsumedCapacity if specified and item does not exist", [
        Call("DeleteItem", {"TableName": HASH, "Key": {"a": {"S": "delete-none"}},
                            "ReturnConsumedCapacity": "TOTAL"},
             {"ConsumedCapacity": {"CapacityUnits": 1, "TableName": HASH}}, partial=True),
    ]),
    Scenario("should delete item successfully", [
        Call("PutItem", {"TableName": HASH, "Item": {"a": {"S": "delete-me"}}}, {}),
        Call("DeleteItem", {"TableName": HASH, "Key": {"a": {"S": "delete-me"}}}, {}),
        Call("GetItem", {"TableName": HASH, "Key": {"a": {"S": "delete-me"}},
                         "ConsistentRead": True}, {}),
    ]),
    Scenario("should delete item successfully and return old values", [
        Call("PutItem", {"TableName": HASH, "Item": {"a": {"S": "delete-old"}, "b": {"S": "b"}}},
             {}),
        Call("DeleteItem", {"TableName": HASH, "Key": {"a": {"S": "delete-old"}},
                            "ReturnValues": "ALL_OLD"},
             {"Attributes": {"a": {"S": "delete-old"}, "b": {"S": "b"}}}),
    ]),
    Scenario("should return ConditionalCheckFailedException if expecting existing key to not "
             "exist", [
        Call("PutItem", {"TableName": HASH, "Item": {"a": {"S": "delete-cond"}}}, {}),
        Call("DeleteItem", {"TableName": HASH, "Key": {"a": {"S": "delete-cond"}},
                            "Expected": {"a": {"Exists": False}}},
             error=CONDITIONAL, message=CONDITION_FAILED),
        Call("DeleteItem", {"TableName": HASH, "Key": {"a": {"S": "delete-cond"}},
                            "ConditionExpression": "attribute_not_exists(a)"},
             error=CONDITIONAL, message=CONDITION_FAILED),
    ]),
    Scenario("should succeed if conditional key is same", [
        Call("PutItem", {"TableName": HASH, "Item": {"a": {"S": "delete-same"}}}, {}),
        Call("DeleteItem", {"TableName": HASH, "Key": {"a": {"S": "delete-same"}},
                            "ConditionExpression": "a = :a",
                            "ExpressionAttributeValues": {":a": {"S": "delete-same"}}}, {}),
    ]),
]
