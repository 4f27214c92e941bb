"""compile_request: a request's expressions checked as a whole, as DynamoDB does.

Developer Guide, "Using expressions in DynamoDB" and "Key condition
expressions for query"; messages as DynamoDB answers them.
"""

import pytest

from dynamo.storage.errors import ValidationException
from dynamo.storage.expressions import KeyRange, compile_request
from dynamo.storage.expressions.ast import Comparison, Literal, PathRef
from dynamo.storage.expressions.envelope import ENVELOPE
from dynamo.storage.keys import KeyAttribute, KeySchema, encode_value

TABLE = KeySchema(KeyAttribute("pk", "S"), KeyAttribute("sk", "N"))
HASH_ONLY = KeySchema(KeyAttribute("pk", "S"))
S, N = {"S": "x"}, {"N": "1"}


def refusal(operation, schema=TABLE, **params):
    """DynamoDB's reason, without the envelope of the write operations (test_expr_envelope.py)."""
    with pytest.raises(ValidationException) as caught:
        compile_request(operation, params, schema)
    return caught.value.message.removeprefix(ENVELOPE)


def key_range(text, values, schema=TABLE):
    return compile_request("Query", {"KeyConditionExpression": text,
                                     "ExpressionAttributeValues": values}, schema).key_range


# --------------------------------------------------------------- one style
def test_expression_and_legacy_parameters_do_not_mix():
    assert refusal("PutItem", ConditionExpression="attribute_not_exists(pk)",
                   Expected={"pk": {"Exists": False}}) == (
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}")
    assert refusal("Query", KeyConditionExpression="pk = :p", QueryFilter={},
                   AttributesToGet=["a"], ExpressionAttributeValues={":p": S}) == (
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {AttributesToGet, QueryFilter} "
        "Expression parameters: {KeyConditionExpression}")


def test_key_conditions_may_go_with_a_filter_expression():
    compiled = compile_request("Query", {
        "KeyConditions": {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [S]}},
        "FilterExpression": "a = :v", "ExpressionAttributeValues": {":v": N}}, TABLE)
    assert compiled.key_range == KeyRange(S)
    assert compiled.filter == Comparison("=", PathRef(("a",)), Literal(N))


def test_placeholder_maps_need_expressions():
    assert refusal("GetItem", ExpressionAttributeNames={"#a": "a"}) == (
        "ExpressionAttributeNames can only be specified when using expressions")
    assert refusal("UpdateItem", ExpressionAttributeValues={":v": S}) == (
        "ExpressionAttributeValues can only be specified when using expressions: "
        "UpdateExpression and ConditionExpression are null")
    assert refusal("Scan", ProjectionExpression="a", ExpressionAttributeValues={":v": S}) == (
        "ExpressionAttributeValues can only be specified when using expressions: "
        "FilterExpression is null")


# ------------------------------------------------------------- placeholders
def test_placeholder_maps_are_checked():
    assert refusal("GetItem", ProjectionExpression="a", ExpressionAttributeNames={}) == (
        "ExpressionAttributeNames must not be empty")
    assert refusal("GetItem", ProjectionExpression="a",
                   ExpressionAttributeNames={"a": "a"}) == (
        'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"')
    assert refusal("Scan", FilterExpression="a = :v", ExpressionAttributeValues={"v": S}) == (
        'ExpressionAttributeValues contains invalid key: Syntax error; key: "v"')
    assert refusal("Scan", FilterExpression="a = :v",
                   ExpressionAttributeValues={":v": {"SS": []}}).startswith(
        "ExpressionAttributeValues contains invalid value: ")
    assert refusal("Scan", FilterExpression="a = :v",
                   ExpressionAttributeValues={":v": {"SS": []}}).endswith(" for key :v")
    assert refusal("GetItem", ProjectionExpression="#a", ExpressionAttributeNames={"#a": ""}) == (
        "ExpressionAttributeNames contains invalid value: Empty attribute name for key #a")


def test_undefined_placeholders():
    assert refusal("PutItem", ConditionExpression="#a = :v",
                   ExpressionAttributeValues={":v": S}) == (
        "Invalid ConditionExpression: An expression attribute name used in the document path "
        "is not defined; attribute name: #a")
    assert refusal("PutItem", ConditionExpression="a = :v") == (
        "Invalid ConditionExpression: An expression attribute value used in expression is not "
        "defined; attribute value: :v")


def test_every_placeholder_must_be_used_by_some_expression_of_the_request():
    params = {"UpdateExpression": "SET #a = :v", "ConditionExpression": "#b = :w",
              "ExpressionAttributeNames": {"#a": "a", "#b": "b"},
              "ExpressionAttributeValues": {":v": S, ":w": S}}
    compile_request("UpdateItem", params, TABLE)   # each used once, across two expressions
    assert refusal("UpdateItem", **{**params, "ExpressionAttributeNames": {
        "#a": "a", "#b": "b", "#c": "c", "#d": "d"}}) == (
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#c, #d}")
    assert refusal("UpdateItem", **{**params, "ExpressionAttributeValues": {
        ":v": S, ":w": S, ":z": S}}) == (
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:z}")


@pytest.mark.parametrize("parameter", ["ConditionExpression", "UpdateExpression",
                                       "ProjectionExpression"])
def test_errors_name_the_parameter(parameter):
    operation = {"ConditionExpression": "PutItem", "UpdateExpression": "UpdateItem",
                 "ProjectionExpression": "GetItem"}[parameter]
    assert refusal(operation, **{parameter: ", a"}) == (
        f'Invalid {parameter}: Syntax error; token: ",", near: ", a"')


# ------------------------------------------------------ checks with values
@pytest.mark.parametrize(("text", "values", "message"), [
    ("a = a", {}, "The first operand must be distinct from the remaining operands for this "
                  "operator or function; operator: =, first operand: [a]"),
    ("begins_with(a, :v)", {":v": N}, "Incorrect operand type for operator or function; "
                                      "operator or function: begins_with, operand type: N"),
    ("size(:v) > :w", {":v": N, ":w": N}, "Incorrect operand type for operator or function; "
                                          "operator or function: size, operand type: N"),
    ("size(size(a)) > :w", {":w": N}, "Incorrect operand type for operator or function; "
                                      "operator or function: size, operand type: N"),
    ("attribute_type(a, :v)", {":v": N}, "Incorrect operand type for operator or function; "
                                         "operator or function: attribute_type, operand type: N"),
    ("attribute_type(a, :v)", {":v": {"S": "STRING"}},
     "Invalid attribute type name found; type: STRING, valid types: "
     "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}"),
    ("a BETWEEN :v AND :w", {":v": N, ":w": S},
     "The BETWEEN operator requires same data type for lower and upper bounds; lower bound "
     "operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:x}"),
    ("a BETWEEN :v AND :w", {":v": {"N": "5"}, ":w": N},
     "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; "
     "lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {N:1}"),
])
def test_conditions_impossible_by_their_own_values(text, values, message):
    params = {"FilterExpression": text}
    if values:
        params["ExpressionAttributeValues"] = values
    assert refusal("Scan", **params) == f"Invalid FilterExpression: {message}"


@pytest.mark.parametrize(("text", "values", "message"), [
    ("SET a = :v, a.b = :v", {":v": S}, "Two document paths overlap with each other; must "
     "remove or rewrite one of these paths; path one: [a], path two: [a, b]"),
    ("SET a[1] = :v REMOVE a.b", {":v": S}, "Two document paths conflict with each other; "
     "must remove or rewrite one of these paths; path one: [a, [1]], path two: [a, b]"),
    ("SET a = :v REMOVE a", {":v": S}, "Two document paths overlap with each other; must "
     "remove or rewrite one of these paths; path one: [a], path two: [a]"),
    ("ADD a :v", {":v": S}, "Incorrect operand type for operator or function; operator: ADD, "
                            "operand type: STRING"),
    ("DELETE a :v", {":v": N}, "Incorrect operand type for operator or function; operator: "
                               "DELETE, operand type: NUMBER"),
    ("SET a = b + :v", {":v": S}, "Incorrect operand type for operator or function; operator "
                                  "or function: +, operand type: S"),
    ("SET a = list_append(a, :v)", {":v": S}, "Incorrect operand type for operator or "
     "function; operator or function: list_append, operand type: S"),
])
def test_updates_impossible_by_their_own_values(text, values, message):
    assert refusal("UpdateItem", UpdateExpression=text, ExpressionAttributeValues=values) == (
        f"Invalid UpdateExpression: {message}")


def test_projection_paths_may_not_overlap():
    assert refusal("GetItem", ProjectionExpression="a.b, a") == (
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove "
        "or rewrite one of these paths; path one: [a, b], path two: [a]")


def test_key_attributes_cannot_be_updated():
    assert refusal("UpdateItem", UpdateExpression="SET a = :v, sk = :v",
                   ExpressionAttributeValues={":v": N}) == (
        "One or more parameter values were invalid: Cannot update attribute sk. "
        "This attribute is part of the key")
    assert refusal("UpdateItem", UpdateExpression="SET #k = :v", ExpressionAttributeNames={
        "#k": "pk"}, ExpressionAttributeValues={":v": S}) == (
        "One or more parameter values were invalid: Cannot update attribute pk. "
        "This attribute is part of the key")
    assert refusal("UpdateItem", UpdateExpression="REMOVE pk.x") == (
        "One or more parameter values were invalid: Cannot update attribute pk. "
        "This attribute is part of the key")


# ---------------------------------------------------------- key conditions
@pytest.mark.parametrize(("text", "op", "values"), [
    ("pk = :p", None, ()),
    ("pk = :p AND sk = :a", "=", ({"N": "1"},)),
    ("sk < :a AND pk = :p", "<", ({"N": "1"},)),
    (":a < sk AND :p = pk", ">", ({"N": "1"},)),      # value first: the operator flips
    ("pk = :p AND sk >= :a", ">=", ({"N": "1"},)),
    ("pk = :p AND sk BETWEEN :a AND :b", "BETWEEN", ({"N": "1"}, {"N": "9"})),
])
def test_key_conditions_become_a_key_range(text, op, values):
    values_map = {":p": S, ":a": {"N": "1"}, ":b": {"N": "9"}}
    used = {k: v for k, v in values_map.items() if k in text}
    assert key_range(text, used) == KeyRange(S, op, values)


def test_begins_with_on_a_string_sort_key():
    schema = KeySchema(KeyAttribute("pk", "S"), KeyAttribute("sk", "S"))
    assert key_range("pk = :p AND begins_with(sk, :s)", {":p": S, ":s": {"S": "ab"}},
                     schema) == KeyRange(S, "begins_with", ({"S": "ab"},))


@pytest.mark.parametrize(("text", "values", "message"), [
    ("sk = :a", {":a": N}, "Query condition missed key schema element: pk"),
    ("pk = :p AND other_attr = :a", {":p": S, ":a": N},
     "Query condition missed key schema element: sk"),
    ("pk > :p", {":p": S}, "Query key condition not supported"),
    ("pk = :a", {":a": N}, "One or more parameter values were invalid: Condition parameter "
                           "type does not match schema type"),
    ("pk = :p AND sk = :p", {":p": S}, "One or more parameter values were invalid: Condition "
                                       "parameter type does not match schema type"),
    ("pk = :p OR sk = :a", {":p": S, ":a": N}, "Invalid operator used in "
                                               "KeyConditionExpression: OR"),
    ("pk = :p AND NOT sk = :a", {":p": S, ":a": N}, "Invalid operator used in "
                                                    "KeyConditionExpression: NOT"),
    ("pk = :p AND sk IN (:a)", {":p": S, ":a": N}, "Invalid operator used in "
                                                   "KeyConditionExpression: IN"),
    ("pk = :p AND sk <> :a", {":p": S, ":a": N}, "Invalid operator used in "
                                                 "KeyConditionExpression: <>"),
    ("pk = :p AND attribute_exists(sk)", {":p": S}, "Invalid operator used in "
                                                    "KeyConditionExpression: attribute_exists"),
    ("pk = :p AND size(sk) > :a", {":p": S, ":a": N}, "KeyConditionExpressions cannot contain "
                                                      "nested operations"),
    ("pk = :p AND sk = pk", {":p": S}, "Invalid condition in KeyConditionExpression: Multiple "
                                       "attribute names used in one condition"),
    ("pk.x = :p", {":p": S}, "KeyConditionExpressions cannot have conditions on nested "
                             "attributes"),
    ("pk = :p AND pk = :p", {":p": S}, "KeyConditionExpressions must only contain one "
                                       "condition per key"),
    ("pk = :p AND sk > :a AND sk < :a", {":p": S, ":a": N},
     "KeyConditionExpressions must only contain one condition per key"),
    ("pk = :p AND a = :a AND b = :a", {":p": S, ":a": N},
     "Conditions can be of length 1 or 2 only"),
    (":a BETWEEN sk AND :a", {":a": N}, "Invalid condition in KeyConditionExpression: "
                                        "BETWEEN operator must have the key attribute as its "
                                        "first operand"),
])
def test_key_condition_refusals(text, values, message):
    assert refusal("Query", KeyConditionExpression=text, ExpressionAttributeValues=values) == (
        message)


def test_begins_with_a_number_is_refused():
    assert refusal("Query", KeyConditionExpression="pk = :p AND begins_with(sk, :a)",
                   ExpressionAttributeValues={":p": S, ":a": N}) == (
        "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
        "operator or function: begins_with, operand type: N")


def test_hash_only_tables_take_one_condition():
    assert refusal("Query", HASH_ONLY, KeyConditionExpression="pk = :p AND sk = :a",
                   ExpressionAttributeValues={":p": S, ":a": N}) == (
        "Query key condition not supported")


def test_empty_partition_key_value():
    assert refusal("Query", KeyConditionExpression="pk = :p",
                   ExpressionAttributeValues={":p": {"S": ""}}) == (
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: pk")


def test_a_query_needs_a_key_condition():
    assert refusal("Query", FilterExpression="a = :v", ExpressionAttributeValues={":v": S}) == (
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in "
        "the request.")


def test_a_query_filter_may_not_use_key_attributes():
    assert refusal("Query", KeyConditionExpression="pk = :p",
                   FilterExpression="a = :p OR size(sk) > :n",
                   ExpressionAttributeValues={":p": S, ":n": N}) == (
        "Filter Expression can only contain non-primary key attributes: "
        "Primary key attribute: sk")
    # A scan's filter may.
    compile_request("Scan", {"FilterExpression": "sk > :n",
                             "ExpressionAttributeValues": {":n": N}}, TABLE)


# --------------------------------------------------------------- KeyRange
def bounds(op, *values, schema=TABLE):
    return KeyRange(S, op, tuple(values)).bounds(schema)


def test_bounds_of_each_operator():
    one, nine = {"N": "1"}, {"N": "9"}
    e1, e9 = encode_value(one), encode_value(nine)
    assert bounds(None) == (None, True, None, True)
    assert bounds("=", one) == (e1, True, e1, True)
    assert bounds("<", one) == (None, True, e1, False)
    assert bounds("<=", one) == (None, True, e1, True)
    assert bounds(">", one) == (e1, False, None, True)
    assert bounds(">=", one) == (e1, True, None, True)
    assert bounds("BETWEEN", one, nine) == (e1, True, e9, True)


def test_begins_with_is_a_prefix_range():
    """Every string starting with "ab" encodes between b"ab" (in) and b"ac" (out)."""
    assert bounds("begins_with", {"S": "ab"}) == (b"ab", True, b"ac", False)
    assert bounds("begins_with", {"B": "AP8="}) == (b"\x00\xff", True, b"\x01", False)
    assert bounds("begins_with", {"B": "//8="}) == (b"\xff\xff", True, None, False)
    low, _, high, _ = bounds("begins_with", {"S": "é"})
    for inside in ("é", "éa", "é\U0010ffff"):
        assert low <= inside.encode() < high
    for outside in ("e", "ê", "f"):
        assert not low <= outside.encode() < high
