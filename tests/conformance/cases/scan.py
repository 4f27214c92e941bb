"""Scan, from dynalite's test/scan.js."""

from __future__ import annotations

from cases import HASH, INVALID, RANGE, Call, Scenario, not_found, validation

_START = "The provided starting key is invalid: "
_EMPTY_VALUE = ("Supplied AttributeValue is empty, must contain exactly one of the supported "
                "datatypes")


def _scan(**members: object) -> dict[str, object]:
    """dynalite's usual Scan: a missing table, Segment without TotalSegments, a bad start key."""
    return {"TableName": "abc", "Segment": 1, "ExclusiveStartKey": {"a": {}}, **members}


def _expressions(**members: object) -> dict[str, object]:
    return {"TableName": "abc", "Segment": 1, "FilterExpression": "",
            "ExpressionAttributeNames": {}, "ExpressionAttributeValues": {}, **members}


ERRORS = [
    validation("should return ValidationException if ExpressionAttributeValues but no "
               "FilterExpression",
               _scan(ScanFilter={"a": {"ComparisonOperator": "EQ", "AttributeValueList": [{}]}},
                     Limit=1, AttributesToGet=["a", "a"], ConditionalOperator="OR",
                     Select="SPECIFIC_ATTRIBUTES", ExpressionAttributeValues={}),
               "ExpressionAttributeValues can only be specified when using expressions: "
               "FilterExpression is null"),
    validation("should return ValidationException for duplicate values in AttributesToGet",
               {"TableName": "abc", "AttributesToGet": ["a", "a"]},
               INVALID + "Duplicate value in attribute name: a"),
    *[validation("should return ValidationException for bad attribute values in ScanFilter",
                 _scan(ScanFilter={"a": {"ComparisonOperator": "EQ",
                                         "AttributeValueList": [value, {"S": ""}]}}),
                 _EMPTY_VALUE) for value in ({}, {"a": ""})],
    *[validation("should return ValidationException for invalid values in ScanFilter",
                 _scan(ScanFilter={"a": {"ComparisonOperator": "EQ",
                                         "AttributeValueList": [{"N": "1"}, value, {}]}}),
                 INVALID + message)
      for value, message in (
          ({"NULL": "no"}, "Null attribute value types must have the value of true"),
          ({"SS": []}, "An string set  may not be empty"),
          ({"BS": []}, "Binary sets should not be empty"),
          ({"SS": ["a", "a"]}, "Input collection [a, a] contains duplicates."))],
    *[validation("should return ValidationException for empty/invalid numbers in ScanFilter",
                 _scan(ScanFilter={"a": {"ComparisonOperator": "EQ",
                                         "AttributeValueList": [{"N": "1"}, value]}}), message)
      for value, message in (
          ({"S": "a", "N": "b"}, "The parameter cannot be converted to a numeric value: b"),
          ({"NS": ["1", "1"]}, "Input collection contains duplicates"),
          ({"N": "-1e126"}, "Number overflow. Attempting to store a number with magnitude "
                            "larger than supported range"))],
    *[validation("should return ValidationException for incorrect number of ScanFilter arguments",
                 _scan(ScanFilter=condition),
                 INVALID + "Invalid number of argument(s) for the "
                 f"{condition['a']['ComparisonOperator']} ComparisonOperator")
      for condition in (
          {"a": {"ComparisonOperator": "EQ"}},
          {"a": {"ComparisonOperator": "EQ", "AttributeValueList": []}},
          {"a": {"ComparisonOperator": "IN"}},
          {"a": {"ComparisonOperator": "NULL", "AttributeValueList": [{"S": "a"}]}},
          {"a": {"ComparisonOperator": "GT", "AttributeValueList": [{"S": "a"}, {"S": "a"}]}},
          {"a": {"ComparisonOperator": "BETWEEN",
                 "AttributeValueList": [{"S": "a"}, {"S": "a"}, {"S": "a"}]}})],
    *[validation("should return ValidationException for invalid ComparisonOperator types",
                 _scan(ScanFilter={"a": {"ComparisonOperator": op, "AttributeValueList": [value]}}),
                 INVALID + f"ComparisonOperator {op} is not valid for {next(iter(value))} "
                 "AttributeValue type")
      for op, value in (("LT", {"BOOL": True}), ("GE", {"SS": ["a"]}), ("IN", {"M": {}}),
                        ("CONTAINS", {"NS": ["1"]}), ("NOT_CONTAINS", {"L": []}),
                        ("BEGINS_WITH", {"N": "1"}))],
    validation("should return ValidationException on ExclusiveStartKey if ScanFilter ok with EQ "
               "on type SS when table does not exist",
               _scan(ScanFilter={"a": {"ComparisonOperator": "EQ",
                                       "AttributeValueList": [{"SS": ["a"]}]}}),
               _START + _EMPTY_VALUE),
    *[validation("should return ValidationException for unsupported datatype in "
                 "ExclusiveStartKey", _expressions(ExclusiveStartKey={"a": value}),
                 _START + _EMPTY_VALUE)
      for value in ({}, {"a": ""}, {"M": {"a": {}}}, {"L": [{}]}, {"L": [{"a": {}}]})],
    *[validation("should return ValidationException for invalid values in ExclusiveStartKey",
                 _expressions(ExclusiveStartKey={"a": value}), _START + INVALID + message)
      for value, message in (
          ({"NULL": "no"}, "Null attribute value types must have the value of true"),
          ({"NS": []}, "An number set  may not be empty"),
          ({"BS": ["Yg==", "Yg=="]}, "Input collection [Yg==, Yg==]of type BS contains "
                                     "duplicates."))],
    validation("should return ValidationException for empty/invalid numbers in ExclusiveStartKey",
               _expressions(ExclusiveStartKey={"a": {"N": "1e-131"}}),
               _START + "Number underflow. Attempting to store a number with magnitude smaller "
               "than supported range"),
    validation("should return ValidationException for missing TotalSegments", _expressions(),
               "The TotalSegments parameter is required but was not present in the request when "
               "Segment parameter is present"),
    validation("should return ValidationException for missing Segment",
               {**_expressions(TotalSegments=1), "Segment": None},
               "The Segment parameter is required but was not present in the request when "
               "parameter TotalSegments is present"),
    validation("should return ValidationException for Segment more than TotalSegments",
               _expressions(TotalSegments=1),
               "The Segment parameter is zero-based and must be less than parameter "
               "TotalSegments: Segment: 1 is not less than TotalSegments: 1"),
    validation("should return ValidationException for empty ExpressionAttributeNames",
               {"TableName": "abc", "FilterExpression": "", "ExpressionAttributeNames": {},
                "ExpressionAttributeValues": {}},
               "ExpressionAttributeNames must not be empty"),
    validation("should return ValidationException for empty FilterExpression",
               {"TableName": "abc", "FilterExpression": ""},
               "Invalid FilterExpression: The expression can not be empty;"),
    validation("should return ValidationException for syntax error in FilterExpression",
               {"TableName": "abc", "FilterExpression": "a = = :a",
                "ExpressionAttributeValues": {":a": {"S": "a"}}},
               'Invalid FilterExpression: Syntax error; token: "=", near: "= = :a"'),
    validation("should return ValidationException for reserved word in FilterExpression",
               {"TableName": "abc", "FilterExpression": "name = :a",
                "ExpressionAttributeValues": {":a": {"S": "a"}}},
               "Invalid FilterExpression: Attribute name is a reserved keyword; reserved "
               "keyword: name"),
    validation("should return ValidationException for undefined attribute value",
               {"TableName": "abc", "FilterExpression": "a = :b",
                "ExpressionAttributeValues": {":a": {"S": "a"}}},
               "Invalid FilterExpression: An expression attribute value used in expression is "
               "not defined; attribute value: :b"),
    validation("should return ValidationException for unused attribute names",
               {"TableName": "abc", "FilterExpression": "a = :a",
                "ExpressionAttributeNames": {"#b": "b"},
                "ExpressionAttributeValues": {":a": {"S": "a"}}},
               "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}"),
    not_found("should return ResourceNotFoundException if table does not exist",
              {"TableName": "abc-does-not-exist"}),
    validation("should return ValidationException for ExclusiveStartKey with a wrong key",
               {"TableName": HASH, "ExclusiveStartKey": {"b": {"S": "a"}}},
               _START + "The provided key element does not match the schema"),
    validation("should return ValidationException for non-existent index name",
               {"TableName": RANGE, "IndexName": "whatever"},
               "The table does not have the specified index: whatever"),
]

_SCAN_ITEMS = [{"a": {"S": f"scan-{i}"}, "b": {"N": str(i)}, "c": {"S": "x" if i % 2 else "y"}}
               for i in range(6)]

FUNCTIONAL = [
    Scenario("should scan with ScanFilter and FilterExpression alike", [
        Call("BatchWriteItem", {"RequestItems": {RANGE: [
            {"PutRequest": {"Item": {"a": {"S": "scan-only"}, "b": {"S": "1"},
                                     "c": {"N": "42"}}}}]}}, {"UnprocessedItems": {}}),
        Call("Scan", {"TableName": RANGE, "ScanFilter": {"c": {
            "ComparisonOperator": "EQ", "AttributeValueList": [{"N": "42"}]}}},
             {"Count": 1, "ScannedCount": 1, "Items": [
                 {"a": {"S": "scan-only"}, "b": {"S": "1"}, "c": {"N": "42"}}]}),
        Call("Scan", {"TableName": RANGE, "FilterExpression": "c = :c",
                      "ExpressionAttributeValues": {":c": {"N": "42.0"}}},
             {"Count": 1, "ScannedCount": 1, "Items": [
                 {"a": {"S": "scan-only"}, "b": {"S": "1"}, "c": {"N": "42"}}]}),
        Call("Scan", {"TableName": RANGE, "Select": "COUNT", "FilterExpression": "c > :c",
                      "ExpressionAttributeValues": {":c": {"N": "42"}}},
             {"Count": 0, "ScannedCount": 1}),
        Call("Scan", {"TableName": RANGE, "ProjectionExpression": "c"},
             {"Count": 1, "ScannedCount": 1, "Items": [{"c": {"N": "42"}}]}),
    ]),
]
