"""PutItem, from dynalite's test/putItem.js."""

from __future__ import annotations

import re

from cases import (
    BIG_NUMBER,
    HASH,
    INVALID,
    MAX_SIZE,
    RANGE,
    RANGE_B,
    Call,
    Scenario,
    conditional,
    enveloped,
    not_found,
    serialization,
    validation,
)

KEY = "pk-putitem"  # dynalite's helpers.randomString(): any key will do
_NULL_ITEM = "Value null at 'item' failed to satisfy constraint: Member must not be null"
_EMPTY_VALUE = ("Supplied AttributeValue is empty, must contain exactly one of the supported "
                "datatypes")
_TOO_BIG = "Item size has exceeded the maximum allowed size"


def _filler(extra: int) -> str:
    """dynalite's `new Array(MAX_SIZE + 1 - keyStr.length - extra).join('a')`."""
    return "a" * (MAX_SIZE - len(KEY) - extra)


ERRORS = [
    # serializations
    serialization("should return SerializationException when TableName is not a string",
                  {"TableName": True, "Item": {}},
                  "class java.lang.Boolean can not be converted to an String"),
    serialization("should return SerializationException when TableName is not a string",
                  {"TableName": 23, "Item": {}}, f"{BIG_NUMBER} can not be converted to an String"),
    serialization("should return SerializationException when Item is not a map",
                  {"TableName": "abc", "Item": []}, "Start of list found where not expected"),
    serialization("should return SerializationException when Item.Attr is not an attr struct",
                  {"TableName": "abc", "Item": {"a": {"S": 23}}},
                  f"{BIG_NUMBER} can not be converted to an String"),
    serialization("should return SerializationException when ReturnValues is not a string",
                  {"TableName": "abc", "Item": {}, "ReturnValues": {}},
                  "Start of structure or map found where not expected."),
    serialization("should return SerializationException when Expected.Attr.Exists is not a boolean",
                  {"TableName": "abc", "Item": {}, "Expected": {"a": {"Exists": "23"}}},
                  "'23' can not be converted to an Boolean"),
    # validations
    validation("should return ValidationException for no TableName", {},
               "2 validation errors detected: Value null at 'tableName' failed to satisfy "
               f"constraint: Member must not be null; {_NULL_ITEM}"),
    validation("should return ValidationException for empty TableName", {"TableName": ""},
               "3 validation errors detected: Value '' at 'tableName' failed to satisfy "
               "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "
               "Value '' at 'tableName' failed to satisfy constraint: Member must have length "
               f"greater than or equal to 3; {_NULL_ITEM}"),
    validation("should return ValidationException for short TableName", {"TableName": "a;"},
               "3 validation errors detected: Value 'a;' at 'tableName' failed to satisfy "
               "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "
               "Value 'a;' at 'tableName' failed to satisfy constraint: Member must have length "
               f"greater than or equal to 3; {_NULL_ITEM}"),
    validation("should return ValidationException for long TableName", {"TableName": "a" * 256},
               f"2 validation errors detected: Value '{'a' * 256}' at 'tableName' failed to "
               "satisfy constraint: Member must have length less than or equal to 255; "
               f"{_NULL_ITEM}"),
    validation("should return ValidationException for incorrect attributes",
               {"TableName": "abc;", "ReturnConsumedCapacity": "hi",
                "ReturnItemCollectionMetrics": "hi", "ReturnValues": "hi"},
               "5 validation errors detected: Value 'hi' at 'returnConsumedCapacity' failed to "
               "satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; "
               "Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy "
               f"regular expression pattern: [a-zA-Z0-9_.-]+; {_NULL_ITEM}; Value 'hi' at "
               "'returnValues' failed to satisfy constraint: Member must satisfy enum value set: "
               "[ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]; Value 'hi' at "
               "'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy "
               "enum value set: [SIZE, NONE]"),
    enveloped(validation("should return ValidationException if expression and non-expression",
               {"TableName": "abc", "Item": {"a": {}}, "Expected": {"a": {}},
                "ExpressionAttributeNames": {}, "ExpressionAttributeValues": {},
                "ConditionExpression": ""},
               "Can not use both expression and non-expression parameters in the same request: "
               "Non-expression parameters: {Expected} Expression parameters: "
               "{ConditionExpression}")),
    validation("should return ValidationException if ExpressionAttributeNames but no "
               "ConditionExpression",
               {"TableName": "abc", "Item": {"a": {}}, "Expected": {"a": {}},
                "ExpressionAttributeNames": {}, "ExpressionAttributeValues": {}},
               "ExpressionAttributeNames can only be specified when using expressions"),
    enveloped(validation("should return ValidationException if ExpressionAttributeValues but no "
               "ConditionExpression",
               {"TableName": "abc", "Item": {"a": {}}, "Expected": {"a": {}},
                "ExpressionAttributeValues": {}},
               "ExpressionAttributeValues can only be specified when using expressions: "
               "ConditionExpression is null")),
    *[validation("should return ValidationException for unsupported datatype in Item",
                 {"TableName": "abc", "Item": {"a": value}, "Expected": {"a": {}}}, _EMPTY_VALUE)
      for value in ({}, {"a": ""}, {"M": {"a": {}}}, {"L": [{}]}, {"L": [{"a": {}}]})],
    *[validation("should return ValidationException for invalid values in Item",
                 {"TableName": "abc", "Item": {"a": value}, "ExpressionAttributeNames": {},
                  "ExpressionAttributeValues": {}, "ConditionExpression": ""},
                 INVALID + message)
      for value, message in (
          ({"NULL": "no"}, "Null attribute value types must have the value of true"),
          ({"SS": []}, "An string set  may not be empty"),
          ({"NS": []}, "An number set  may not be empty"),
          ({"BS": []}, "Binary sets should not be empty"),
          ({"SS": ["a", "a"]}, "Input collection [a, a] contains duplicates."),
          ({"BS": ["Yg==", "Yg=="]}, "Input collection [Yg==, Yg==]of type BS contains duplicates."),
      )],
    *[validation("should return ValidationException for empty/invalid numbers in Item",
                 {"TableName": "abc", "Item": {"a": value}}, message)
      for value, message in (
          ({"S": "a", "N": ""}, "The parameter cannot be converted to a numeric value"),
          ({"S": "a", "N": "b"}, "The parameter cannot be converted to a numeric value: b"),
          ({"NS": ["1", ""]}, "The parameter cannot be converted to a numeric value"),
          ({"NS": ["1", "b"]}, "The parameter cannot be converted to a numeric value: b"),
          ({"NS": ["1", "1"]}, "Input collection contains duplicates"),
          ({"N": "123456789012345678901234567890123456789"},
           "Attempting to store more than 38 significant digits in a Number"),
          ({"N": "-1.23456789012345678901234567890123456789"},
           "Attempting to store more than 38 significant digits in a Number"),
          ({"N": "1e126"},
           "Number overflow. Attempting to store a number with magnitude larger than supported "
           "range"),
          ({"N": "-1e-131"},
           "Number underflow. Attempting to store a number with magnitude smaller than "
           "supported range"),
      )],
    validation("should return ValidationException for multiple datatypes in Item",
               {"TableName": "abc", "Item": {"a": {"S": "a", "N": "1"}}},
               "Supplied AttributeValue has more than one datatypes set, must contain exactly "
               "one of the supported datatypes"),
    validation("should return ValidationException if item is too big with small attribute",
               {"TableName": "aaa", "Item": {"a": {"S": KEY}, "b": {"S": _filler(1)}},
                "Expected": {"a": {}}}, _TOO_BIG),
    not_found("should return ResourceNotFoundException if item is just small enough with small "
              "attribute", {"TableName": "aaa", "Item": {"a": {"S": KEY}, "b": {"S": _filler(2)}}}),
    validation("should return ValidationException if item is too big with larger attribute",
               {"TableName": "aaa", "Item": {"a": {"S": KEY}, "b" * 27: {"S": _filler(27)}}},
               _TOO_BIG),
    not_found("should return ResourceNotFoundException if item is just small enough with larger "
              "attribute", {"TableName": "aaa",
                            "Item": {"a": {"S": KEY}, "b" * 27: {"S": _filler(28)}}}),
    validation("should return ValidationException if item is too big with multi attributes",
               {"TableName": "aaa", "Item": {"a": {"S": KEY}, "bb": {"S": _filler(7)},
                                             "ccc": {"S": "cc"}}}, _TOO_BIG),
    validation("should return ValidationException if item is too big with big number attribute",
               {"TableName": "aaa", "Item": {"a": {"S": KEY}, "b": {"S": _filler(1 + 1 + 20)},
                                             "c": {"N": "1" * 38 + "0" * 88}}}, _TOO_BIG),
    validation("should return ValidationException if item is too big with multi number attribute",
               {"TableName": "aaa", "Item": {
                   "a": {"S": KEY}, "b": {"S": _filler(1 + 1 + 5 + 1 + 5)},
                   "c": {"N": "1111111" + "0" * 119}, "d": {"N": "1111111" + "0" * 119}}},
               _TOO_BIG),
    not_found("should return ResourceNotFoundException if item is just small enough with multi "
              "number attribute", {"TableName": "aaa", "Item": {
                  "a": {"S": KEY}, "b": {"S": _filler(1 + 1 + 5 + 1 + 6)},
                  "c": {"N": "1111111" + "0" * 119}, "d": {"N": "1111111" + "0" * 119}}}),
    validation("should return ValidationException if no value and no exists",
               {"TableName": "abc", "Item": {}, "Expected": {"a": {}}},
               INVALID + "Value must be provided when Exists is null for Attribute: a"),
    validation("should return ValidationException for Exists true with no value",
               {"TableName": "abc", "Item": {}, "Expected": {"a": {"Exists": True}}},
               INVALID + "Value must be provided when Exists is true for Attribute: a"),
    validation("should return ValidationException for Exists false with value",
               {"TableName": "abc", "Item": {},
                "Expected": {"a": {"Exists": False, "Value": {"S": "a"}}}},
               INVALID + "Value cannot be used when Exists is false for Attribute: a"),
    *[validation("should return ValidationException for incorrect ReturnValues",
                 {"TableName": "abc", "Item": {}, "ReturnValues": value},
                 "ReturnValues can only be ALL_OLD or NONE")
      for value in ("UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")],
    validation("should return ValidationException if ComparisonOperator used alone",
               {"TableName": "aaa", "Item": {}, "Expected": {"a": {"ComparisonOperator": "LT"}}},
               INVALID + "Value or AttributeValueList must be used with ComparisonOperator: LT "
               "for Attribute: a"),
    validation("should return ValidationException if ComparisonOperator and Exists are used "
               "together",
               {"TableName": "aaa", "Item": {},
                "Expected": {"a": {"Exists": True, "ComparisonOperator": "LT"}}},
               INVALID + "Exists and ComparisonOperator cannot be used together for Attribute: a"),
    validation("should return ValidationException if AttributeValueList and Value are used "
               "together",
               {"TableName": "aaa", "Item": {}, "Expected": {"a": {
                   "AttributeValueList": [{"S": "a"}], "Value": {"S": "a"},
                   "ComparisonOperator": "LT"}}},
               INVALID + "Value and AttributeValueList cannot be used together for Attribute: a"),
    validation("should return ValidationException if AttributeValueList used without "
               "ComparisonOperator",
               {"TableName": "aaa", "Item": {},
                "Expected": {"a": {"AttributeValueList": [{"S": "a"}]}}},
               INVALID + "AttributeValueList can only be used with a ComparisonOperator for "
               "Attribute: a"),
    *[validation(f"should return ValidationException if AttributeValueList is incorrect length: "
                 f"{op}", {"TableName": "aaa", "Item": {}, "Expected": {"a": {
                     "AttributeValueList": values, "ComparisonOperator": op}}},
                 INVALID + f"Invalid number of argument(s) for the {op} ComparisonOperator")
      for op, values in (("EQ", []), ("NULL", [{"S": "a"}]), ("IN", []),
                         ("BETWEEN", [{"N": "1"}, {"N": "10"}, {"N": "12"}]))],
    validation("should return ValidationException for empty ExpressionAttributeNames",
               {"TableName": "abc", "Item": {}, "ExpressionAttributeNames": {},
                "ExpressionAttributeValues": {}, "ConditionExpression": ""},
               "ExpressionAttributeNames must not be empty"),
    validation("should return ValidationException for invalid ExpressionAttributeNames",
               {"TableName": "abc", "Item": {}, "ExpressionAttributeNames": {"a": "a"},
                "ExpressionAttributeValues": {}, "ConditionExpression": ""},
               'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"'),
    validation("should return ValidationException for empty ExpressionAttributeValues",
               {"TableName": "abc", "Item": {}, "ExpressionAttributeValues": {},
                "ConditionExpression": ""},
               "ExpressionAttributeValues must not be empty"),
    validation("should return ValidationException for invalid ExpressionAttributeValues",
               {"TableName": "abc", "Item": {}, "ExpressionAttributeValues": {"a": {"S": "a"}},
                "ConditionExpression": ""},
               'ExpressionAttributeValues contains invalid key: Syntax error; key: "a"'),
    enveloped(validation("should return ValidationException for empty ConditionExpression",
               {"TableName": "abc", "Item": {}, "ConditionExpression": ""},
               "Invalid ConditionExpression: The expression can not be empty;")),
    not_found("should return ResourceNotFoundException if key is empty and table does not exist",
              {"TableName": "abc-does-not-exist", "Item": {}}),
    *[validation("should return ValidationException if missing key",
                 {"TableName": HASH, "Item": item}, INVALID + "Missing the key a in the item")
      for item in ({}, {"b": {"S": "a"}})],
    *[validation("should return ValidationException if type mismatch for key",
                 {"TableName": HASH, "Item": {"a": value}},
                 INVALID + f"Type mismatch for key a expected: S actual: {next(iter(value))}")
      for value in ({"B": "abcd"}, {"N": "1"}, {"BOOL": True}, {"NULL": True}, {"SS": ["a"]},
                    {"M": {}}, {"L": []})],
    validation("should return ValidationException if empty string key",
               {"TableName": HASH, "Item": {"a": {"S": ""}}},
               "One or more parameter values are not valid. The AttributeValue for a key "
               "attribute cannot contain an empty string value. Key: a"),
    validation("should return ValidationException if empty binary key",
               {"TableName": RANGE_B, "Item": {"a": {"S": "a"}, "b": {"B": ""}}},
               "One or more parameter values are not valid. The AttributeValue for a key "
               "attribute cannot contain an empty binary value. Key: b"),
    validation("should return ValidationException if missing range key",
               {"TableName": RANGE, "Item": {"a": {"S": "a"}}},
               INVALID + "Missing the key b in the item"),
    validation("should return ValidationException if hash key is too big",
               {"TableName": HASH, "Item": {"a": {"S": "a" * 2049}}},
               INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes"),
    validation("should return ValidationException if range key is too big",
               {"TableName": RANGE, "Item": {"a": {"S": "a"}, "b": {"S": "b" * 1025}}},
               INVALID + "Aggregated size of all range keys has exceeded the size limit of "
               "1024 bytes"),
    *[enveloped(validation("should return ValidationException if path token starts with underscore",
                 {"TableName": RANGE, "Item": {"a": {"S": "a"}, "b": {"S": "b"}},
                  "ConditionExpression": expression},
                 re.compile(r"^Invalid ConditionExpression: Syntax error;")))
      for expression in ("attribute_not_exists(_c)", "attribute_not_exists(c._d)")],
    *[conditional("should return ConditionalCheckFailedException if expecting non-existent key "
                  "to exist", {"TableName": HASH, "Item": {"a": {"S": "missing-put"}}, **extra})
      for extra in (
          {"Expected": {"a": {"Value": {"S": "missing-put-2"}}}},
          {"Expected": {"a": {"ComparisonOperator": "NOT_NULL"}}},
          {"ConditionExpression": "a = :a",
           "ExpressionAttributeValues": {":a": {"S": "missing-put-2"}}},
          {"ConditionExpression": "attribute_exists(#a)", "ExpressionAttributeNames": {"#a": "a"}},
      )],
]

_ITEM = {"a": {"S": "put-same"}}
_ORDERED = {"a": {"S": "b"}}


def _conditions(comparator: str, op: str, value: str) -> list[dict[str, object]]:
    """The three ways dynalite states one comparison: Expected, an expression, with #names."""
    return [
        {"Expected": {"a": {"ComparisonOperator": op, "AttributeValueList": [{"S": value}]}}},
        {"ConditionExpression": f"a {comparator} :a", "ExpressionAttributeValues": {
            ":a": {"S": value}}},
        {"ConditionExpression": f"#a {comparator} :a", "ExpressionAttributeValues": {
            ":a": {"S": value}}, "ExpressionAttributeNames": {"#a": "a"}},
    ]


FUNCTIONAL = [
    Scenario("should put basic item", [
        Call("PutItem", {"TableName": HASH, "Item": {"a": {"S": "put-basic"}}}, {}),
        Call("GetItem", {"TableName": HASH, "Key": {"a": {"S": "put-basic"}},
                         "ConsistentRead": True}, {"Item": {"a": {"S": "put-basic"}}}),
    ]),
    Scenario("should put empty values", [
        Call("PutItem", {"TableName": HASH, "Item": {
            "a": {"S": "put-empty"}, "b": {"S": ""}, "c": {"B": ""}, "d": {"SS": [""]},
            "e": {"BS": [""]}}}, {}),
        Call("GetItem", {"TableName": HASH, "Key": {"a": {"S": "put-empty"}},
                         "ConsistentRead": True}, {"Item": {
            "a": {"S": "put-empty"}, "b": {"S": ""}, "c": {"B": ""}, "d": {"SS": [""]},
            "e": {"BS": [""]}}}),
    ]),
    Scenario("should put really long numbers", [
        Call("PutItem", {"TableName": HASH, "Item": {
            "a": {"S": "put-long-numbers"},
            "b": {"N": "0000012345678901234567890123456789012345678"},
            "c": {"N": "-00001.23456789012345678901234567890123456780000"},
            "d": {"N": "0009.99999999999999999999999999999999999990000e125"},
            "e": {"N": "-0009.99999999999999999999999999999999999990000e125"},
            "f": {"N": "0001.000e-130"},
            "g": {"N": "-0001.000e-130"}}}, {}),
        Call("GetItem", {"TableName": HASH, "Key": {"a": {"S": "put-long-numbers"}},
                         "ConsistentRead": True}, {"Item": {
            "a": {"S": "put-long-numbers"},
            "b": {"N": "12345678901234567890123456789012345678"},
            "c": {"N": "-1.2345678901234567890123456789012345678"},
            "d": {"N": "9" * 38 + "0" * 88},
            "e": {"N": "-" + "9" * 38 + "0" * 88},
            "f": {"N": "0." + "0" * 129 + "1"},
            "g": {"N": "-0." + "0" * 129 + "1"}}}),
    ]),
    Scenario("should put multi attribute item", [
        Call("PutItem", {"TableName": HASH, "Item": (multi := {
            "a": {"S": "put-multi"}, "b": {"N": "-56.789"}, "c": {"B": "Yg=="},
            "d": {"BOOL": False}, "e": {"NULL": True}, "f": {"SS": ["a"]},
            "g": {"NS": ["-56.789"]}, "h": {"BS": ["Yg=="]},
            "i": {"L": [{"S": "a"}, {"N": "-56.789"}, {"B": "Yg=="}, {"BOOL": True},
                        {"NULL": True}, {"SS": ["a"]}, {"NS": ["-56.789"]}, {"BS": ["Yg=="]},
                        {"L": []}, {"M": {}}]},
            "j": {"M": {"a": {"S": "a"}, "b": {"N": "-56.789"}, "c": {"B": "Yg=="},
                        "d": {"BOOL": True}, "e": {"NULL": True}, "f": {"SS": ["a"]},
                        "g": {"NS": ["-56.789"]}, "h": {"BS": ["Yg=="]}, "i": {"L": []},
                        "j": {"M": {"a": {"M": {}}, "b": {"L": []}}}}}})}, {}),
        Call("GetItem", {"TableName": HASH, "Key": {"a": {"S": "put-multi"}},
                         "ConsistentRead": True}, {"Item": multi}),
    ]),
    Scenario("should return empty when there are no old values", [
        Call("PutItem", {"TableName": HASH, "Item": {"a": {"S": "put-no-old"}, "b": {"S": "a"}},
                         "ReturnValues": "ALL_OLD"}, {}),
    ]),
    Scenario("should return correct old values when they exist", [
        Call("PutItem", {"TableName": HASH, "Item": {
            "a": {"S": "put-old"}, "b": {"N": "-0015.789e6"}, "c": {"S": "a"}}}, {}),
        Call("PutItem", {"TableName": HASH, "Item": {
            "a": {"S": "put-old"}, "b": {"S": "b"}, "c": {"S": "a"}}, "ReturnValues": "ALL_OLD"},
             {"Attributes": {"a": {"S": "put-old"}, "b": {"N": "-15789000"}, "c": {"S": "a"}}}),
    ]),
    Scenario("should put basic range item", [
        Call("PutItem", {"TableName": RANGE, "Item": {
            "a": {"S": "put-range"}, "b": {"S": "a"}, "c": {"S": "a"}}}, {}),
        Call("PutItem", {"TableName": RANGE, "Item": {"a": {"S": "put-range"}, "b": {"S": "b"}}},
             {}),
        Call("GetItem", {"TableName": RANGE, "Key": {"a": {"S": "put-range"}, "b": {"S": "a"}},
                         "ConsistentRead": True},
             {"Item": {"a": {"S": "put-range"}, "b": {"S": "a"}, "c": {"S": "a"}}}),
    ]),
    Scenario("should return ConditionalCheckFailedException if expecting existing key to not "
             "exist", [
        Call("PutItem", {"TableName": HASH, "Item": {"a": {"S": "put-exists"}}}, {}),
        *[Call("PutItem", {"TableName": HASH, "Item": {"a": {"S": "put-exists"}}, **extra},
               error="com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
               message="The conditional request failed")
          for extra in ({"Expected": {"a": {"Exists": False}}},
                        {"Expected": {"a": {"ComparisonOperator": "NULL"}}},
                        {"ConditionExpression": "attribute_not_exists(a)"},
                        {"ConditionExpression": "attribute_not_exists(#a)",
                         "ExpressionAttributeNames": {"#a": "a"}})],
    ]),
    Scenario("should succeed if conditional key is same", [
        Call("PutItem", {"TableName": HASH, "Item": _ITEM}, {}),
        *[Call("PutItem", {"TableName": HASH, "Item": _ITEM, **extra}, {})
          for extra in (
              {"Expected": {"a": {"Value": _ITEM["a"]}}},
              {"Expected": {"a": {"ComparisonOperator": "EQ", "AttributeValueList": [_ITEM["a"]]}}},
              {"Expected": {"a": {"Value": _ITEM["a"], "ComparisonOperator": "EQ"}}},
              {"Expected": {"b": {"Exists": False}}},
              {"Expected": {"b": {"ComparisonOperator": "NULL"}}},
              {"ConditionExpression": "a = :a", "ExpressionAttributeValues": {":a": _ITEM["a"]}},
              {"ConditionExpression": "attribute_not_exists(b)"},
          )],
    ]),
    Scenario("should succeed for multiple conditional checks if one is invalid and OR is "
             "specified", [
        Call("PutItem", {"TableName": HASH, "Item": {"a": {"S": "put-or"}, "c": {"S": "c"}}}, {}),
        Call("PutItem", {"TableName": HASH, "Item": {"a": {"S": "put-or"}, "c": {"S": "c"}},
                         "Expected": {
                             "a": {"ComparisonOperator": "EQ",
                                   "AttributeValueList": [{"S": "put-or"}]},
                             "b": {"ComparisonOperator": "NULL"},
                             "c": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "x"}]}},
                         "ConditionalOperator": "OR"}, {}),
        Call("PutItem", {"TableName": HASH, "Item": {"a": {"S": "put-or"}, "c": {"S": "c"}},
                         "ConditionExpression": "a = :a AND attribute_not_exists(#b) AND c = :c",
                         "ExpressionAttributeValues": {":a": {"S": "put-or"}, ":c": {"S": "x"}},
                         "ExpressionAttributeNames": {"#b": "b"}},
             error="com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
             message="The conditional request failed"),
    ]),
    # "should succeed if condition is valid: LE / LT / GE / GT" and "should fail if ...": an
    # item {a: "b"} against "c" and "a".
    Scenario("should succeed if condition is valid: LE, LT, GE, GT", [
        Call("PutItem", {"TableName": HASH, "Item": _ORDERED}, {}),
        *[Call("PutItem", {"TableName": HASH, "Item": _ORDERED, **condition}, {})
          for comparator, op, value in (("<=", "LE", "c"), ("<", "LT", "c"), (">=", "GE", "a"),
                                        (">", "GT", "a"), ("<>", "NE", "x"))
          for condition in _conditions(comparator, op, value)],
    ]),
    Scenario("should fail if condition is invalid: LE, LT, GE, GT", [
        Call("PutItem", {"TableName": HASH, "Item": _ORDERED}, {}),
        *[Call("PutItem", {"TableName": HASH, "Item": _ORDERED, **condition},
               error="com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
               message="The conditional request failed")
          for comparator, op, value in (("<=", "LE", "a"), ("<", "LT", "b"), (">=", "GE", "c"),
                                        (">", "GT", "b"), ("<>", "NE", "b"))
          for condition in _conditions(comparator, op, value)],
    ]),
    Scenario("should succeed if condition is valid: CONTAINS", [
        Call("PutItem", {"TableName": HASH, "Item": {"a": {"S": "hello"}}}, {}),
        Call("PutItem", {"TableName": HASH, "Item": {"a": {"S": "hello"}},
                         "ConditionExpression": "contains(a, :a)",
                         "ExpressionAttributeValues": {":a": {"S": "ell"}}}, {}),
        Call("PutItem", {"TableName": HASH, "Item": {"a": {"S": "hello"}},
                         "Expected": {"a": {"ComparisonOperator": "CONTAINS",
                                            "AttributeValueList": [{"S": "goodbye"}]}}},
             error="com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
             message="The conditional request failed"),
    ]),
    Scenario("should return ConsumedCapacity for small item", [
        Call("PutItem", {"TableName": HASH, "Item": {"a": {"S": "put-capacity"}},
                         "ReturnConsumedCapacity": "TOTAL"},
             {"ConsumedCapacity": {"CapacityUnits": 1, "TableName": HASH}}, partial=True),
        Call("PutItem", {"TableName": HASH, "Item": {"a": {"S": "put-capacity"},
                                                     "b": {"S": "x" * 1100}},
                         "ReturnConsumedCapacity": "INDEXES"},
             {"ConsumedCapacity": {"CapacityUnits": 2, "Table": {"CapacityUnits": 2},
                                   "TableName": HASH}}, partial=True),
    ]),
]
