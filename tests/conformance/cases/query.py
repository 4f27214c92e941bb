"""Query, from dynalite's test/query.js."""

from __future__ import annotations

from cases import (
    HASH,
    INVALID,
    ISSUE_9,
    RANGE,
    RANGE_N,
    Call,
    Scenario,
    not_found,
    reworded,
    validation,
)

# dynalite's wording for a wrong number of KeyConditions values; DynamoDB now
# names the operator, as it does for Expected (issue #9).
_ARGUMENT_COUNT = ("The attempted filter operation is not supported for the provided filter "
                   "argument count")


def _count(op: str) -> str:
    return INVALID + f"Invalid number of argument(s) for the {op} ComparisonOperator"

_NOT_INDEXABLE = "Attempted conditional constraint is not an indexable operation"
_START_INVALID = "The provided starting key is invalid"
_NULL_A = {"a": {"ComparisonOperator": "NULL"}}
_EQ_A = {"a": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]}}


def _query(**members: object) -> dict[str, object]:
    return {"TableName": "abc", **members}


ERRORS = [
    validation("should return ValidationException for no TableName", {},
               "1 validation error detected: Value null at 'tableName' failed to satisfy "
               "constraint: Member must not be null"),
    validation("should return ValidationException for short IndexName",
               _query(IndexName="a;"),
               "2 validation errors detected: Value 'a;' at 'indexName' failed to satisfy "
               "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "
               "Value 'a;' at 'indexName' failed to satisfy constraint: Member must have length "
               "greater than or equal to 3"),
    validation("should return ValidationException for null conditions", _query(),
               "Either the KeyConditions or KeyConditionExpression parameter must be specified "
               "in the request."),
    validation("should return ValidationException for empty conditions",
               _query(KeyConditions={}), "Conditions can be of length 1 or 2 only"),
    reworded(validation("should return ValidationException for incorrect number of filter "
                        "arguments",
                        _query(KeyConditions={"a": {"ComparisonOperator": "EQ"},
                                              "b": {"ComparisonOperator": "NULL"},
                                              "c": {"ComparisonOperator": "NULL"}}),
                        _ARGUMENT_COUNT), _count("EQ"), ISSUE_9),
    validation("should return ValidationException for bad key type",
               _query(KeyConditions={"a": {"ComparisonOperator": "EQ",
                                           "AttributeValueList": [{}]},
                                     "b": {"ComparisonOperator": "NULL"},
                                     "c": {"ComparisonOperator": "NULL"}}),
               "Supplied AttributeValue is empty, must contain exactly one of the supported "
               "datatypes"),
    validation("should return empty response if key has incorrect numeric type",
               _query(KeyConditions={"a": {"ComparisonOperator": "EQ",
                                           "AttributeValueList": [{"N": "b"}]},
                                     "b": {"ComparisonOperator": "NULL"},
                                     "c": {"ComparisonOperator": "NULL"}}),
               "The parameter cannot be converted to a numeric value: b"),
    *[reworded(validation(f"should return ValidationException for {count} args to {op}",
                          _query(KeyConditions={"a": {"ComparisonOperator": op, **(
                              {"AttributeValueList": [{"S": "a"}] * count} if count else {})}}),
                          _ARGUMENT_COUNT), _count(op), ISSUE_9)
      for op, count in (("NULL", 1), ("NOT_NULL", 1), ("NE", 0), ("NE", 2), ("LE", 0),
                        ("LT", 2), ("GE", 0), ("GT", 2), ("CONTAINS", 0),
                        ("NOT_CONTAINS", 2), ("BEGINS_WITH", 0), ("BEGINS_WITH", 2),
                        ("IN", 0), ("BETWEEN", 0), ("BETWEEN", 3))],
    validation("should return ValidationException for too many conditions",
               _query(ExclusiveStartKey={}, KeyConditions={
                   "a": {"ComparisonOperator": "NULL"}, "b": {"ComparisonOperator": "NULL"},
                   "c": {"ComparisonOperator": "NULL"}}),
               "Conditions can be of length 1 or 2 only"),
    *[validation("should return ValidationException for invalid ExclusiveStartKey values",
                 _query(ExclusiveStartKey={"a": value}, KeyConditions=_NULL_A),
                 f"{_START_INVALID}: {message}")
      for value, message in (
          ({}, "Supplied AttributeValue is empty, must contain exactly one of the supported "
               "datatypes"),
          ({"a": ""}, "Supplied AttributeValue is empty, must contain exactly one of the "
                      "supported datatypes"),
          ({"S": "a", "N": "1"}, "Supplied AttributeValue has more than one datatypes set, "
                                 "must contain exactly one of the supported datatypes"),
          ({"N": ""}, "The parameter cannot be converted to a numeric value"),
          ({"N": "b"}, "The parameter cannot be converted to a numeric value: b"),
          ({"NS": ["1", "b", "a"]}, "The parameter cannot be converted to a numeric value: b"),
      )],
    validation("should return ValidationException duplicate values in AttributesToGet",
               _query(KeyConditions=_NULL_A, AttributesToGet=["a", "a"]),
               INVALID + "Duplicate value in attribute name: a"),
    not_found("should return ResourceNotFoundException if table does not exist",
              _query(KeyConditions=_EQ_A)),
    *[validation(f"should return ValidationException if querying with {op}",
                 {"TableName": HASH, "KeyConditions": {"a": {"ComparisonOperator": op, **(
                     {"AttributeValueList": [{"S": "a"}]} if op not in ("NULL", "NOT_NULL")
                     else {})}}}, _NOT_INDEXABLE)
      for op in ("NULL", "NOT_NULL", "CONTAINS", "NOT_CONTAINS", "IN")],
    *[validation(f"should return ValidationException if querying with {op}",
                 {"TableName": HASH, "KeyConditions": {"a": {"ComparisonOperator": op,
                                                             "AttributeValueList": values}}},
                 "Query key condition not supported")
      for op, values in (("LE", [{"S": "a"}]), ("LT", [{"S": "a"}]), ("GE", [{"S": "a"}]),
                         ("GT", [{"S": "a"}]), ("BEGINS_WITH", [{"S": "a"}]),
                         ("BETWEEN", [{"S": "a"}, {"S": "b"}]))],
    validation("should return ValidationException if querying hash table with extra param",
               {"TableName": HASH, "KeyConditions": {
                   "a": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "x"}]},
                   "b": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "y"}]}}},
               "Query key condition not supported"),
    validation("should return ValidationException for unsupported comparison",
               {"TableName": RANGE, "KeyConditions": {
                   "a": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "a"}]},
                   "b": {"ComparisonOperator": "NULL"}}}, _NOT_INDEXABLE),
    validation("should return ValidationException for empty ExclusiveStartKey",
               {"TableName": RANGE, "ExclusiveStartKey": {}, "KeyConditions": _NULL_A},
               _START_INVALID),
    *[validation("should return ValidationException for ExclusiveStartKey not a full key",
                 {"TableName": RANGE, "ExclusiveStartKey": start, "KeyConditions": _EQ_A},
                 _START_INVALID)
      for start in ({"a": {"S": "b"}}, {"b": {"S": "b"}}, {"a": {"S": "a"}})],
    validation("should return ValidationException for ExclusiveStartKey with incorrect hash key",
               {"TableName": RANGE, "ExclusiveStartKey": {"a": {"S": "b"}, "b": {"S": "a"}},
                "KeyConditions": _EQ_A},
               "The provided starting key is outside query boundaries based on provided "
               "conditions"),
    validation("should return ValidationException for ExclusiveStartKey with incorrect range key",
               {"TableName": RANGE, "ExclusiveStartKey": {"a": {"S": "a"}, "b": {"S": "a"}},
                "KeyConditions": {**_EQ_A, "b": {"ComparisonOperator": "GT",
                                                 "AttributeValueList": [{"S": "a"}]}}},
               "The provided starting key does not match the range key predicate"),
    validation("should return ValidationException for no hash key",
               {"TableName": RANGE, "KeyConditions": {"c": {"ComparisonOperator": "NULL"}}},
               "Query condition missed key schema element: a"),
    validation("should return ValidationException for missing index name",
               {"TableName": RANGE, "KeyConditions": {**_EQ_A,
                                                      "c": {"ComparisonOperator": "NULL"}}},
               "Query condition missed key schema element: b"),
    validation("should return ValidationException for non-existent index name",
               {"TableName": RANGE, "IndexName": "whatever", "KeyConditions": _EQ_A},
               "The table does not have the specified index: whatever"),
    # KeyConditionExpression: the mistakes people make most.
    *[validation("should return ValidationException for invalid KeyConditionExpression",
                 {"TableName": RANGE, "KeyConditionExpression": expression,
                  "ExpressionAttributeValues": {
                      name: {"S": name[1:]} for name in (":a", ":b") if name in expression}},
                 message)
      for expression, message in (
          ("a = :a OR b = :b", "Invalid operator used in KeyConditionExpression: OR"),
          ("NOT a = :a", "Invalid operator used in KeyConditionExpression: NOT"),
          ("a IN (:a, :b)", "Invalid operator used in KeyConditionExpression: IN"),
          ("a <> :a", "Invalid operator used in KeyConditionExpression: <>"),
          ("a = :a AND b = :b AND a = :b",
           "KeyConditionExpressions must only contain one condition per key"),
          ("b = :b", "Query condition missed key schema element: a"),
          ("a > :a", "Query key condition not supported"),
      )],
    validation("should return ValidationException for reserved word in KeyConditionExpression",
               {"TableName": RANGE, "KeyConditionExpression": "a = :a AND size = :b",
                "ExpressionAttributeValues": {":a": {"S": "a"}, ":b": {"S": "b"}}},
               "Invalid KeyConditionExpression: Attribute name is a reserved keyword; reserved "
               "keyword: size"),
    validation("should return ValidationException for a filter on a key attribute",
               {"TableName": RANGE, "KeyConditionExpression": "a = :a",
                "FilterExpression": "b = :b",
                "ExpressionAttributeValues": {":a": {"S": "a"}, ":b": {"S": "b"}}},
               "Filter Expression can only contain non-primary key attributes: Primary key "
               "attribute: b"),
    validation("should return ValidationException for a key value of the wrong type",
               {"TableName": RANGE_N, "KeyConditionExpression": "a = :a AND b > :b",
                "ExpressionAttributeValues": {":a": {"S": "a"}, ":b": {"S": "1"}}},
               INVALID + "Condition parameter type does not match schema type"),
]

_P = {"S": "query-range"}
_ITEMS = [{"a": _P, "b": {"S": b}} for b in ("1", "2", "3")]


def _put_all(table: str, items: list[dict[str, object]]) -> Call:
    return Call("BatchWriteItem", {"RequestItems": {table: [
        {"PutRequest": {"Item": item}} for item in items]}}, {"UnprocessedItems": {}})


def _range(op: str, *values: str, **extra: object) -> dict[str, object]:
    return {"TableName": RANGE, "KeyConditions": {
        "a": {"ComparisonOperator": "EQ", "AttributeValueList": [_P]},
        "b": {"ComparisonOperator": op, "AttributeValueList": [{"S": v} for v in values]}},
        **extra}


FUNCTIONAL = [
    Scenario("should query a hash table when empty", [
        Call("Query", {"TableName": HASH, "KeyConditions": {"a": {
            "ComparisonOperator": "EQ", "AttributeValueList": [{"S": "query-none"}]}}},
             {"Count": 0, "ScannedCount": 0, "Items": []}),
    ]),
    Scenario("should query a hash table with items", [
        _put_all(HASH, [{"a": {"S": f"query-hash-{i}"}, "b": {"N": "1"}} for i in range(3)]),
        Call("Query", {"TableName": HASH, "KeyConditionExpression": "a = :a",
                       "ExpressionAttributeValues": {":a": {"S": "query-hash-1"}}},
             {"Count": 1, "ScannedCount": 1,
              "Items": [{"a": {"S": "query-hash-1"}, "b": {"N": "1"}}]}),
    ]),
    Scenario("should query a range table with EQ, LE, LT, GE, GT", [
        _put_all(RANGE, _ITEMS),
        Call("Query", _range("EQ", "2"), {"Count": 1, "ScannedCount": 1, "Items": [_ITEMS[1]]}),
        Call("Query", _range("LE", "2"), {"Count": 2, "ScannedCount": 2, "Items": _ITEMS[:2]}),
        Call("Query", _range("LT", "2"), {"Count": 1, "ScannedCount": 1, "Items": _ITEMS[:1]}),
        Call("Query", _range("GE", "2"), {"Count": 2, "ScannedCount": 2, "Items": _ITEMS[1:]}),
        Call("Query", _range("GT", "2"), {"Count": 1, "ScannedCount": 1, "Items": _ITEMS[2:]}),
    ]),
    Scenario("should query a range table with BEGINS_WITH and BETWEEN", [
        _put_all(RANGE, [{"a": {"S": "query-bw"}, "b": {"S": b}}
                         for b in ("aa", "aaa", "aab", "ab", "abc", "ac", "aca")]),
        Call("Query", {"TableName": RANGE, "KeyConditionExpression":
                       "a = :a AND begins_with(b, :p)",
                       "ExpressionAttributeValues": {":a": {"S": "query-bw"}, ":p": {"S": "aa"}}},
             {"Count": 3, "ScannedCount": 3, "Items": [
                 {"a": {"S": "query-bw"}, "b": {"S": b}} for b in ("aa", "aaa", "aab")]}),
        Call("Query", {"TableName": RANGE, "KeyConditionExpression":
                       "a = :a AND b BETWEEN :x AND :y",
                       "ExpressionAttributeValues": {":a": {"S": "query-bw"}, ":x": {"S": "ab"},
                                                     ":y": {"S": "ac"}}},
             {"Count": 3, "ScannedCount": 3, "Items": [
                 {"a": {"S": "query-bw"}, "b": {"S": b}} for b in ("ab", "abc", "ac")]}),
    ]),
    Scenario("should only return requested attributes", [
        _put_all(RANGE, [{"a": {"S": "query-attrs"}, "b": {"S": "b1"}, "d": {"S": "d1"}},
                         {"a": {"S": "query-attrs"}, "b": {"S": "b2"}},
                         {"a": {"S": "query-attrs"}, "b": {"S": "b3"}, "d": {"S": "d3"},
                          "e": {"S": "e3"}}]),
        Call("Query", {"TableName": RANGE, "KeyConditions": {"a": {
            "ComparisonOperator": "EQ", "AttributeValueList": [{"S": "query-attrs"}]}},
                       "AttributesToGet": ["b", "d"]},
             {"Count": 3, "ScannedCount": 3, "Items": [
                 {"b": {"S": "b1"}, "d": {"S": "d1"}}, {"b": {"S": "b2"}},
                 {"b": {"S": "b3"}, "d": {"S": "d3"}}]}),
    ]),
    Scenario("should return COUNT if requested", [
        _put_all(RANGE, [{"a": {"S": "query-count"}, "b": {"S": b}} for b in "12345"]),
        Call("Query", {"TableName": RANGE, "KeyConditions": {
            "a": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "query-count"}]},
            "b": {"ComparisonOperator": "GE", "AttributeValueList": [{"S": "2"}]}},
            "Select": "COUNT"}, {"Count": 4, "ScannedCount": 4}),
    ]),
    Scenario("should only return Limit items if requested", [
        _put_all(RANGE, [{"a": {"S": "query-limit"}, "b": {"S": b}, "c": {"S": "c"}}
                         for b in "12345"]),
        Call("Query", {"TableName": RANGE, "KeyConditions": {
            "a": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "query-limit"}]},
            "b": {"ComparisonOperator": "GE", "AttributeValueList": [{"S": "2"}]}}, "Limit": 2},
             {"Count": 2, "ScannedCount": 2, "Items": [
                 {"a": {"S": "query-limit"}, "b": {"S": b}, "c": {"S": "c"}} for b in "23"],
              "LastEvaluatedKey": {"a": {"S": "query-limit"}, "b": {"S": "3"}}}),
        Call("Query", {"TableName": RANGE, "KeyConditions": {
            "a": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "query-limit"}]},
            "b": {"ComparisonOperator": "GE", "AttributeValueList": [{"S": "2"}]}}, "Limit": 2,
            "Select": "COUNT"},
             {"Count": 2, "ScannedCount": 2,
              "LastEvaluatedKey": {"a": {"S": "query-limit"}, "b": {"S": "3"}}}),
        Call("Query", {"TableName": RANGE, "KeyConditions": {
            "a": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "query-limit"}]}},
            "Limit": 2, "ExclusiveStartKey": {"a": {"S": "query-limit"}, "b": {"S": "3"}}},
             {"Count": 2, "ScannedCount": 2, "Items": [
                 {"a": {"S": "query-limit"}, "b": {"S": b}, "c": {"S": "c"}} for b in "45"],
              "LastEvaluatedKey": {"a": {"S": "query-limit"}, "b": {"S": "5"}}}),
    ]),
    Scenario("should return items in order for strings, numbers and in reverse", [
        _put_all(RANGE_N, [{"a": {"S": "query-order"}, "b": {"N": n}}
                           for n in ("10", "9", "-1", "0.5", "100")]),
        Call("Query", {"TableName": RANGE_N, "KeyConditionExpression": "a = :a",
                       "ExpressionAttributeValues": {":a": {"S": "query-order"}}},
             {"Count": 5, "ScannedCount": 5, "Items": [
                 {"a": {"S": "query-order"}, "b": {"N": n}}
                 for n in ("-1", "0.5", "9", "10", "100")]}),
        Call("Query", {"TableName": RANGE_N, "KeyConditionExpression": "a = :a",
                       "ScanIndexForward": False,
                       "ExpressionAttributeValues": {":a": {"S": "query-order"}}},
             {"Count": 5, "ScannedCount": 5, "Items": [
                 {"a": {"S": "query-order"}, "b": {"N": n}}
                 for n in ("100", "10", "9", "0.5", "-1")]}),
    ]),
    Scenario("should filter items after Limit, counting those scanned", [
        _put_all(RANGE, [{"a": {"S": "query-filter"}, "b": {"S": b}, "c": {"S": c}}
                         for b, c in (("1", "x"), ("2", "y"), ("3", "x"))]),
        Call("Query", {"TableName": RANGE, "KeyConditionExpression": "a = :a",
                       "FilterExpression": "c = :c", "Limit": 2,
                       "ExpressionAttributeValues": {":a": {"S": "query-filter"},
                                                     ":c": {"S": "y"}}},
             {"Count": 1, "ScannedCount": 2, "Items": [
                 {"a": {"S": "query-filter"}, "b": {"S": "2"}, "c": {"S": "y"}}],
              "LastEvaluatedKey": {"a": {"S": "query-filter"}, "b": {"S": "2"}}}),
    ]),
]
