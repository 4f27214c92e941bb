"""UpdateItem, from dynalite's test/updateItem.js."""

from __future__ import annotations

import re

from cases import HASH, INVALID, NO_MATCH, RANGE, Call, Scenario, enveloped, not_found, validation

_VALUES = {":a": {"S": "a"}, ":b": {"S": "a"}}
_NAMES = {"#a": "a", "#b": "b"}


def _update(expression: str, **extra: object) -> dict[str, object]:
    return {"TableName": "abc", "Key": {}, "UpdateExpression": expression, **extra}


ERRORS = [
    validation("should return ValidationException for incorrect attributes",
               {"TableName": "abc;", "ReturnConsumedCapacity": "hi",
                "ReturnItemCollectionMetrics": "hi", "ReturnValues": "hi"},
               "5 validation errors detected: Value 'hi' at 'returnConsumedCapacity' failed to "
               "satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; "
               "Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy "
               "regular expression pattern: [a-zA-Z0-9_.-]+; Value 'hi' at "
               "'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy "
               "enum value set: [SIZE, NONE]; Value 'hi' at 'returnValues' failed to satisfy "
               "constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, "
               "NONE, UPDATED_NEW]; Value null at 'key' failed to satisfy constraint: Member must "
               "not be null"),
    enveloped(validation("should return ValidationException if expression and non-expression",
               {"TableName": "abc", "Key": {"a": {}}, "Expected": {"a": {}},
                "AttributeUpdates": {}, "ExpressionAttributeNames": {},
                "ExpressionAttributeValues": {}, "ConditionExpression": "",
                "UpdateExpression": ""},
               "Can not use both expression and non-expression parameters in the same request: "
               "Non-expression parameters: {AttributeUpdates, Expected} Expression parameters: "
               "{UpdateExpression, ConditionExpression}")),
    enveloped(validation("should return ValidationException if ExpressionAttributeValues but no "
               "ConditionExpression",
               {"TableName": "abc", "Key": {"a": {}}, "Expected": {"a": {}},
                "ExpressionAttributeValues": {}},
               "ExpressionAttributeValues can only be specified when using expressions: "
               "UpdateExpression and ConditionExpression are null")),
    validation("should return ValidationException for empty/invalid numbers in Key",
               {"TableName": "abc", "Key": {"a": {"N": "1e126"}}},
               "Number overflow. Attempting to store a number with magnitude larger than "
               "supported range"),
    validation("should return ValidationException if update has no value",
               {"TableName": "abc", "Key": {}, "Expected": {"a": {}},
                "AttributeUpdates": {"a": {"x": "whatever"}}},
               INVALID + "Only DELETE action is allowed when no attribute value is specified"),
    *[validation("should return ValidationException if trying to delete incorrect types",
                 {"TableName": "abc", "Key": {},
                  "AttributeUpdates": {"a": {"Action": "DELETE", "Value": value}}},
                 INVALID + "DELETE action with value is not supported for the type "
                 + next(iter(value)))
      for value in ({"S": "1"}, {"N": "1"}, {"B": "Yg=="}, {"NULL": True}, {"BOOL": True},
                    {"M": {}}, {"L": []})],
    *[validation("should return ValidationException if trying to add incorrect types",
                 {"TableName": "abc", "Key": {},
                  "AttributeUpdates": {"a": {"Action": "ADD", "Value": value}}},
                 INVALID + "ADD action is not supported for the type " + next(iter(value)))
      for value in ({"S": "1"}, {"B": "Yg=="}, {"NULL": True}, {"BOOL": True}, {"M": {}})],
    validation("should return ValidationException for invalid keys in ExpressionAttributeValues",
               _update("", ExpressionAttributeValues={":b": {"a": ""}, "b": {"S": "a"}},
                       ConditionExpression=""),
               'ExpressionAttributeValues contains invalid key: Syntax error; key: "b"'),
    enveloped(validation("should return ValidationException for unsupported datatype in "
               "ExpressionAttributeValues",
               _update("", ExpressionAttributeValues={":b": {}}, ConditionExpression=""),
               "ExpressionAttributeValues contains invalid value: Supplied AttributeValue is "
               "empty, must contain exactly one of the supported datatypes for key :b")),
    enveloped(validation("should return ValidationException for invalid values in ExpressionAttributeValues",
               _update("", ExpressionAttributeValues={":b": {"SS": ["a", "a"]}},
                       ConditionExpression=""),
               "ExpressionAttributeValues contains invalid value: One or more parameter values "
               "were invalid: Input collection [a, a] contains duplicates. for key :b")),
    enveloped(validation("should return ValidationException for empty/invalid numbers in "
               "ExpressionAttributeValues",
               _update("", ExpressionAttributeValues={":b": {"NS": ["1", "b"]}},
                       ConditionExpression=""),
               "ExpressionAttributeValues contains invalid value: The parameter cannot be "
               "converted to a numeric value: b for key :b")),
    enveloped(validation("should return ValidationException for empty UpdateExpression",
               _update("", ConditionExpression=""),
               "Invalid UpdateExpression: The expression can not be empty;")),
    *[enveloped(validation("should return ValidationException for syntax errors in UpdateExpression",
                 _update(expression), re.compile(r"^Invalid UpdateExpression: Syntax error; ")))
      for expression in ("whatever", "add a", "delete a", "remove a = b",
                         "add a = b", "delete a b", "remove a b", "set a b", "set :a = b",
                         "remove :a", "set a = b / c", "set a = b * c", 'set a[1] = "eight"',
                         "SET a = if_not_exist(a, 100)", "set (a = (b + c))",
                         "set a = b + c + d")],
    *[enveloped(validation("should return ValidationException for reserved keywords",
                 _update(expression, ExpressionAttributeValues=_VALUES,
                         ExpressionAttributeNames=_NAMES),
                 "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved "
                 f"keyword: {word}"))
      for expression, word in ((" set #c = :c set abOrt = true ", "abOrt"),
                               (" remove Absolute ", "Absolute"))],
    enveloped(validation("should return ValidationException for invalid functions in UpdateExpression",
               _update("set #c = if_not_exist(:c) set c = d", ExpressionAttributeValues=_VALUES,
                       ExpressionAttributeNames=_NAMES),
               re.compile(r"^Invalid UpdateExpression: Invalid function name; function: "))),
    *[enveloped(validation("should return ValidationException for multiple sections",
                 _update(expression, ExpressionAttributeValues=_VALUES,
                         ExpressionAttributeNames=_NAMES),
                 f'Invalid UpdateExpression: The "{section}" section can only be used once in '
                 "an update expression;"))
      for expression, section in (("set a = #c set c = :d", "SET"),
                                  ("remove #d set a = b remove e", "REMOVE"),
                                  ("add #d :e set a = b add e :f", "ADD"),
                                  ("delete #d :e set a = b delete #e :f", "DELETE"))],
    *[enveloped(validation("should return ValidationException for overlapping paths in UpdateExpression",
                 _update(expression, ExpressionAttributeNames={"#c": "c", "#d": "[3]"}),
                 "Invalid UpdateExpression: Two document paths overlap with each other; must "
                 f"remove or rewrite one of these paths; path one: {one}, path two: {two}"))
      for expression, one, two in (
          ("set c.b.#c = a, c = a, #d = a", "[c, b, c]", "[c]"),
          ("set a = b remove a, #c, #d", "[a]", "[a]"),
          ("set #c[3].#d = a, #c[3] = a", "[c, [3], [3]]", "[c, [3]]"),
          ("remove c, #c.a, #d", "[c]", "[c, a]"),
          ("remove a, #c, a, #d", "[a]", "[a]"))],
    *[enveloped(validation("should return ValidationException for conflicting paths in UpdateExpression",
                 _update(expression, ExpressionAttributeNames={"#b": "b", "#c": "c",
                                                               "#d": "[3]"}),
                 "Invalid UpdateExpression: Two document paths conflict with each other; must "
                 f"remove or rewrite one of these paths; path one: {one}, path two: {two}"))
      for expression, one, two in (
          ("remove a.#c set a[1] = #d", "[a, c]", "[a, [1]]"),)],
    *[enveloped(validation("should return ValidationException for incorrect types in UpdateExpression",
                 _update(expression, ExpressionAttributeValues={":a": value, ":b": {"S": "a"}}),
                 "Invalid UpdateExpression: Incorrect operand type for operator or function; "
                 f"operator: {operator}, operand type: {kind}"))
      for expression, value, operator, kind in (
          ("delete a.b :a", {"S": "a"}, "DELETE", "STRING"),
          ("add a.b :a", {"NULL": "1"}, "ADD", "NULL"),
          ("add a.b :a", {"BOOL": "0"}, "ADD", "BOOLEAN"),
          ("delete a.b :a", {"B": "YQ=="}, "DELETE", "BINARY"),
          ("add a.b :a", {"M": {"a": {"L": [{"N": "1"}]}}}, "ADD", "MAP"),
          ("add a.b :a", {"L": [{"N": "1"}]}, "ADD", "LIST"),
          ("delete a.b :a", {"N": "1"}, "DELETE", "NUMBER"))],
    not_found("should return ResourceNotFoundException if key is empty and table does not exist",
              {"TableName": "abc-does-not-exist", "Key": {}}),
    validation("should return ValidationException if key is empty and table does exist",
               {"TableName": HASH, "Key": {}}, NO_MATCH),
    validation("should return ValidationException if missing range key",
               {"TableName": RANGE, "Key": {"a": {"S": "a"}}}, NO_MATCH),
    validation("should return ValidationException if trying to update key",
               {"TableName": HASH, "Key": {"a": {"S": "a"}},
                "AttributeUpdates": {"a": {"Value": {"S": "b"}}}},
               INVALID + "Cannot update attribute a. This attribute is part of the key"),
    validation("should return ValidationException if trying to update key with expression",
               {"TableName": HASH, "Key": {"a": {"S": "a"}}, "UpdateExpression": "set a = :b",
                "ExpressionAttributeValues": {":b": {"S": "b"}}},
               INVALID + "Cannot update attribute a. This attribute is part of the key"),
]

_KEY = {"a": {"S": "update-item"}}

FUNCTIONAL = [
    Scenario("should create item if it does not exist", [
        Call("UpdateItem", {"TableName": HASH, "Key": {"a": {"S": "update-new"}},
                            "AttributeUpdates": {"b": {"Value": {"S": "b"}}},
                            "ReturnValues": "ALL_NEW"},
             {"Attributes": {"a": {"S": "update-new"}, "b": {"S": "b"}}}),
    ]),
    Scenario("should return no old values if no ReturnValues and item does not exist", [
        Call("UpdateItem", {"TableName": HASH, "Key": {"a": {"S": "update-none"}},
                            "AttributeUpdates": {"b": {"Value": {"S": "b"}}},
                            "ReturnValues": "UPDATED_OLD"}, {}),
    ]),
    Scenario("should update existing item with expression: SET, REMOVE, ADD, DELETE", [
        Call("PutItem", {"TableName": HASH, "Item": {
            **_KEY, "b": {"S": "b"}, "c": {"N": "1"}, "d": {"SS": ["x", "y"]},
            "e": {"L": [{"S": "l0"}, {"S": "l1"}, {"S": "l2"}]}}}, {}),
        Call("UpdateItem", {"TableName": HASH, "Key": _KEY,
                            "UpdateExpression": "SET f = :f, e[1] = :e REMOVE b ADD c :one "
                                                "DELETE d :x",
                            "ExpressionAttributeValues": {":f": {"N": "-0012.50"},
                                                          ":e": {"S": "new"}, ":one": {"N": "1"},
                                                          ":x": {"SS": ["x"]}},
                            "ReturnValues": "UPDATED_NEW"},
             {"Attributes": {"f": {"N": "-12.5"}, "e": {"L": [{"S": "new"}]}, "c": {"N": "2"},
                             "d": {"SS": ["y"]}}}),
        Call("GetItem", {"TableName": HASH, "Key": _KEY, "ConsistentRead": True},
             {"Item": {**_KEY, "c": {"N": "2"}, "d": {"SS": ["y"]},
                       "e": {"L": [{"S": "l0"}, {"S": "new"}, {"S": "l2"}]},
                       "f": {"N": "-12.5"}}}),
        Call("UpdateItem", {"TableName": HASH, "Key": _KEY,
                            "UpdateExpression": "SET c = c + :n, g = if_not_exists(g, :n), "
                                                "e = list_append(e, :l)",
                            "ExpressionAttributeValues": {":n": {"N": "10"},
                                                          ":l": {"L": [{"S": "l3"}]}},
                            "ReturnValues": "UPDATED_OLD"},
             {"Attributes": {"c": {"N": "2"},
                             "e": {"L": [{"S": "l0"}, {"S": "new"}, {"S": "l2"}]}}}),
    ]),
    Scenario("should return ConditionalCheckFailedException if expecting non-existent key to "
             "exist", [
        Call("UpdateItem", {"TableName": HASH, "Key": {"a": {"S": "update-cond"}},
                            "UpdateExpression": "set b = :b",
                            "ConditionExpression": "attribute_exists(a)",
                            "ExpressionAttributeValues": {":b": {"S": "b"}}},
             error="com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
             message="The conditional request failed"),
        Call("GetItem", {"TableName": HASH, "Key": {"a": {"S": "update-cond"}},
                         "ConsistentRead": True}, {}),
    ]),
    Scenario("should return ValidationException when adding to a string", [
        Call("PutItem", {"TableName": HASH, "Item": {"a": {"S": "update-add-s"},
                                                     "b": {"S": "s"}}}, {}),
        Call("UpdateItem", {"TableName": HASH, "Key": {"a": {"S": "update-add-s"}},
                            "UpdateExpression": "ADD b :n",
                            "ExpressionAttributeValues": {":n": {"N": "1"}}},
             error="com.amazon.coral.validate#ValidationException",
             message="An operand in the update expression has an incorrect data type"),
    ]),
]
