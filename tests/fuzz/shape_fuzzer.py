"""A shape fuzzer for the front door: every member path of every operation, every bad shape.

DynamoDB answers a client's mistake with a 4xx and a `__type` (Developer
Guide, "Error handling with DynamoDB": `SerializationException` for a member of the
wrong JSON type, `ValidationException` for a broken constraint), never with a
500, and a request that fails changes nothing. This module checks that claim
for `dynamo serve` the way a fuzzer would, but built from the operations' own
shape tables (`dynamo.api.shapes`), so every member the model knows is reached:

1. each operation has one or more valid *base* requests (below);
2. `member_paths` walks the operation's shape alongside a base request and
   yields every member path: structure members (present or not), the first
   element of each list, one key of each map, the type members of attribute
   values;
3. `apply` puts, at one path, one of the `MUTATIONS`, a value of a bad shape: null, each wrong
   JSON type, empty and oversized values, deep nesting, unknown members,
   numbers JSON allows but Coral cannot read, and the same key twice in one
   JSON object (an `orjson.Fragment` of raw JSON, since a dict cannot hold it);
4. `check_answer` says what the answer must be: always a 200 or a 400 with a
   `__type` and a message; a `SerializationException` for a member of the
   wrong JSON type; a `ValidationException` for a null required member. After
   the run the server must be alive and a sentinel item exactly as it was.

Two modes: `sweep()` is every (operation, base, path, mutation) once, in
order, for the test suite; `random_cases(seed)` stacks one to three mutations
per request, for the ≥ 100,000-case run on demand:

    .venv/bin/python tests/fuzz/shape_fuzzer.py --cases 100000            # in-process
    .venv/bin/python tests/fuzz/shape_fuzzer.py --cases 20000 --http      # a real server

Each run prints the case count, the time, the answers by status and type,
and every case that broke the rules (with its seed and index, to replay it).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from dynamo.api import shapes
from dynamo.api.protocol import MAX_REQUEST_BYTES
from dynamo.api.server import OPERATIONS, DynamoApp
from dynamo.cli.launch import start_server
from dynamo.cli.sigv4 import Signer
from dynamo.cluster.node import SingleNode

REGION = "us-east-1"
TABLE = "fuzz"          # the data table every data-plane base request reads or writes
CONTROL_TABLE = "fuzzctl"  # the control-plane bases create, update and delete this one
GLOBAL_TABLE = "fuzzgsi"   # a table with a global secondary index (the fleet's only)
LOCAL_INDEX = "bylsk"      # TABLE's and CONTROL_TABLE's local secondary index
SENTINEL_KEY = {"pk": {"S": "sentinel-0b7c"}, "sk": {"N": "0"}}
SENTINEL = {**SENTINEL_KEY, "data": {"S": "must never change"}, "n": {"N": "42"},
            "tags": {"SS": ["a", "b"]}, "doc": {"M": {"x": {"L": [{"N": "1"}, {"BOOL": True}]}}}}

# Every error `__type` a client mistake may get, without its namespace.
CLIENT_ERRORS = frozenset({
    "SerializationException", "ValidationException", "ResourceNotFoundException",
    "ResourceInUseException", "ConditionalCheckFailedException", "LimitExceededException",
    "UnknownOperationException", "MissingAuthenticationTokenException",
    "ItemCollectionSizeLimitExceededException", "TransactionCanceledException",
    "IdempotentParameterMismatchException",
})


# -- JSON with what a dict cannot say ------------------------------------------------------------

def raw(text: str) -> orjson.Fragment:
    """JSON text sent exactly as written (numbers orjson would not produce, bad escapes)."""
    return orjson.Fragment(text.encode("utf-8", "surrogatepass"))


def twice(members: dict[str, Any], key: str, first: Any, last: Any) -> orjson.Fragment:
    """A JSON object in which `key` appears twice, `first` then `last` (a dict cannot say it)."""
    others = orjson.dumps({k: v for k, v in members.items() if k != key})[1:-1]
    name = orjson.dumps(key)
    parts = [others] if others else []
    parts += [name + b":" + orjson.dumps(first), name + b":" + orjson.dumps(last)]
    return orjson.Fragment(b"{" + b",".join(parts) + b"}")


# -- valid requests, one or more per operation ---------------------------------------------------

def _key_of(pk: str, sk: int = 1) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}}


_ITEM = {**_key_of("base"), "lsk": {"S": "c"}, "a": {"S": "x"}, "n": {"N": "1.5"}, "b": {"B": "AAEC"},
         "l": {"L": [{"S": "y"}, {"NULL": True}]}, "m": {"M": {"k": {"BOOL": False}}},
         "ss": {"SS": ["p", "q"]}, "ns": {"NS": ["1", "2"]}, "bs": {"BS": ["AQ=="]}}
_NAMES = {"#a": "a", "#n": "n"}
_THROUGHPUT = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
_SCHEMA = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
_DEFINITIONS = [{"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"}]
_LSK = {"AttributeName": "lsk", "AttributeType": "S"}
_GPK = {"AttributeName": "gpk", "AttributeType": "S"}
_LOCAL_INDEXES = [{"IndexName": LOCAL_INDEX, "KeySchema": [
    {"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "lsk", "KeyType": "RANGE"}],
    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a", "n"]}}]
_GLOBAL_INDEX = {"IndexName": "bygpk", "KeySchema": [
    {"AttributeName": "gpk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "Projection": {"ProjectionType": "KEYS_ONLY"}, "ProvisionedThroughput": _THROUGHPUT}
# Global secondary indexes live in partitions of their own (dynamo.indexes), which one
# node has not: the in-process SingleNode refuses these bases with this message (CreateTable
# after checking every member of the index, UpdateTable before), and the fleet over HTTP
# answers them 200.
FLEET_ONLY = "Global secondary indexes are served by the partitioned fleet only"


def needs_fleet(base: dict[str, Any]) -> bool:
    """Whether a base request makes a global secondary index (refused by one node)."""
    return "GlobalSecondaryIndexes" in base or "GlobalSecondaryIndexUpdates" in base


def _condition_values(**values: str) -> dict[str, Any]:
    return {f":{name}": {"S": value} for name, value in values.items()}

BASES: dict[str, list[dict[str, Any]]] = {
    "CreateTable": [
        {"TableName": CONTROL_TABLE, "KeySchema": _SCHEMA,
         "AttributeDefinitions": [*_DEFINITIONS, _LSK], "ProvisionedThroughput": _THROUGHPUT,
         "BillingMode": "PROVISIONED", "LocalSecondaryIndexes": _LOCAL_INDEXES,
         "StreamSpecification": {"StreamEnabled": False}, "Tags": [{"Key": "k", "Value": "v"}],
         "DeletionProtectionEnabled": False},
        {"TableName": GLOBAL_TABLE, "KeySchema": _SCHEMA,
         "AttributeDefinitions": [*_DEFINITIONS, _GPK], "ProvisionedThroughput": _THROUGHPUT,
         "GlobalSecondaryIndexes": [_GLOBAL_INDEX]},
    ],
    "DescribeTable": [{"TableName": TABLE}],
    "ListTables": [{"Limit": 5, "ExclusiveStartTableName": "aaa"}],
    "UpdateTable": [
        {"TableName": CONTROL_TABLE,
         "ProvisionedThroughput": {"ReadCapacityUnits": 6, "WriteCapacityUnits": 7},
         "AttributeDefinitions": _DEFINITIONS, "BillingMode": "PROVISIONED",
         "StreamSpecification": {"StreamEnabled": False}},
        {"TableName": CONTROL_TABLE, "AttributeDefinitions": [*_DEFINITIONS, _GPK],
         "GlobalSecondaryIndexUpdates": [{"Create": _GLOBAL_INDEX}]},
    ],
    "DeleteTable": [{"TableName": CONTROL_TABLE}],
    "UpdateTimeToLive": [{"TableName": CONTROL_TABLE, "TimeToLiveSpecification": {
        "Enabled": True, "AttributeName": "expires"}}],
    "DescribeTimeToLive": [{"TableName": CONTROL_TABLE}],
    "PutItem": [
        {"TableName": TABLE, "Item": _ITEM, "ConditionExpression": "attribute_exists(#a) OR #n < :one",
         "ExpressionAttributeNames": _NAMES, "ExpressionAttributeValues": {":one": {"N": "1"}},
         "ReturnValues": "ALL_OLD", "ReturnConsumedCapacity": "TOTAL",
         "ReturnItemCollectionMetrics": "SIZE", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
        {"TableName": TABLE, "Item": _ITEM, "ConditionalOperator": "OR",
         "Expected": {"a": {"Value": {"S": "x"}, "Exists": True},
                      "n": {"ComparisonOperator": "BETWEEN",
                            "AttributeValueList": [{"N": "0"}, {"N": "9"}]}}},
    ],
    "GetItem": [
        {"TableName": TABLE, "Key": _key_of("base"), "ConsistentRead": True,
         "ProjectionExpression": "#a, l[0], m.k", "ExpressionAttributeNames": {"#a": "a"},
         "ReturnConsumedCapacity": "INDEXES"},
        {"TableName": TABLE, "Key": _key_of("base"), "AttributesToGet": ["a", "n"]},
    ],
    "UpdateItem": [
        {"TableName": TABLE, "Key": _key_of("base"),
         "UpdateExpression": "SET #a = :v, n = n + :one REMOVE l[1] ADD ns :ns DELETE ss :ss",
         "ConditionExpression": "size(#a) > :zero", "ExpressionAttributeNames": {"#a": "a"},
         "ExpressionAttributeValues": {":v": {"S": "x"}, ":one": {"N": "1"}, ":zero": {"N": "0"},
                                       ":ns": {"NS": ["3"]}, ":ss": {"SS": ["p"]}},
         "ReturnValues": "UPDATED_NEW", "ReturnConsumedCapacity": "TOTAL"},
        {"TableName": TABLE, "Key": _key_of("base"),
         "AttributeUpdates": {"a": {"Action": "PUT", "Value": {"S": "z"}},
                              "n": {"Action": "ADD", "Value": {"N": "1"}}},
         "Expected": {"a": {"ComparisonOperator": "NOT_NULL"}, "zz": {"Exists": False}},
         "ConditionalOperator": "AND"},
    ],
    "DeleteItem": [
        {"TableName": TABLE, "Key": _key_of("gone"), "ConditionExpression": "attribute_not_exists(pk)",
         "ReturnValues": "ALL_OLD", "ReturnConsumedCapacity": "TOTAL",
         "ReturnItemCollectionMetrics": "SIZE"},
        {"TableName": TABLE, "Key": _key_of("gone"), "Expected": {"a": {"Exists": False}}},
    ],
    "Query": [
        {"TableName": TABLE, "KeyConditionExpression": "pk = :p AND sk BETWEEN :lo AND :hi",
         "FilterExpression": "contains(#a, :v)", "ProjectionExpression": "#a, n",
         "ExpressionAttributeNames": {"#a": "a"},
         "ExpressionAttributeValues": {":p": {"S": "base"}, ":lo": {"N": "0"}, ":hi": {"N": "9"},
                                       ":v": {"S": "x"}},
         "Limit": 10, "ScanIndexForward": False, "ConsistentRead": True, "Select": "SPECIFIC_ATTRIBUTES",
         "ExclusiveStartKey": _key_of("base", 0), "ReturnConsumedCapacity": "TOTAL"},
        {"TableName": TABLE, "KeyConditions": {
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "base"}]},
            "sk": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "0"}]}},
         "QueryFilter": {"a": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "x"}]},
                         "n": {"ComparisonOperator": "NOT_NULL"}},
         "ConditionalOperator": "AND", "AttributesToGet": ["a", "pk"], "Select": "SPECIFIC_ATTRIBUTES"},
        {"TableName": TABLE, "IndexName": LOCAL_INDEX, "KeyConditionExpression": "pk = :p AND lsk > :l",
         "ExpressionAttributeValues": _condition_values(p="base", l="a"), "Select": "ALL_PROJECTED_ATTRIBUTES",
         "ExclusiveStartKey": {**_key_of("base", 0), "lsk": {"S": "b"}}},
    ],
    "Scan": [
        {"TableName": TABLE, "FilterExpression": "#n >= :one OR attribute_type(#a, :s)",
         "ProjectionExpression": "pk, sk, #a", "ExpressionAttributeNames": _NAMES,
         "ExpressionAttributeValues": {":one": {"N": "1"}, ":s": {"S": "S"}},
         "Limit": 3, "Segment": 0, "TotalSegments": 2, "ConsistentRead": False,
         "ExclusiveStartKey": _key_of("base", 0), "ReturnConsumedCapacity": "INDEXES"},
        {"TableName": TABLE, "ScanFilter": {"n": {"ComparisonOperator": "IN",
                                                   "AttributeValueList": [{"N": "1"}, {"N": "2"}]},
                                             "a": {"ComparisonOperator": "NULL"}},
         "ConditionalOperator": "OR", "AttributesToGet": ["n"], "Select": "SPECIFIC_ATTRIBUTES"},
        {"TableName": TABLE, "IndexName": LOCAL_INDEX, "Select": "COUNT", "ConsistentRead": True},
    ],
    "BatchGetItem": [
        {"RequestItems": {TABLE: {"Keys": [_key_of("base"), _key_of("base", 2)],
                                  "ProjectionExpression": "#a, pk", "ExpressionAttributeNames": {"#a": "a"},
                                  "ConsistentRead": True}},
         "ReturnConsumedCapacity": "TOTAL"},
        {"RequestItems": {TABLE: {"Keys": [_key_of("base")], "AttributesToGet": ["a"]}}},
    ],
    "BatchWriteItem": [
        {"RequestItems": {TABLE: [{"PutRequest": {"Item": _ITEM}},
                                  {"DeleteRequest": {"Key": _key_of("gone")}}]},
         "ReturnConsumedCapacity": "TOTAL", "ReturnItemCollectionMetrics": "SIZE"},
    ],
    # Each action's condition holds however often the base runs: a mutated request that is
    # still valid commits again, and a cancellation would hide the actions behind it.
    "TransactWriteItems": [
        {"TransactItems": [
            {"Put": {"TableName": TABLE, "Item": {**_ITEM, **_key_of("txn-put")},
                     "ConditionExpression": "attribute_not_exists(pk) OR #a = :v",
                     "ExpressionAttributeNames": {"#a": "a"},
                     "ExpressionAttributeValues": _condition_values(v="x"),
                     "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            {"Update": {"TableName": TABLE, "Key": _key_of("txn-update"),
                        "UpdateExpression": "SET #a = :v, lsk = :l ADD n :one",
                        "ConditionExpression": "attribute_not_exists(#a) OR #a = :v",
                        "ExpressionAttributeNames": {"#a": "a"},
                        "ExpressionAttributeValues": {**_condition_values(v="x", l="c"),
                                                      ":one": {"N": "1"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            {"Delete": {"TableName": TABLE, "Key": _key_of("gone"),
                        "ConditionExpression": "attribute_not_exists(#p)",
                        "ExpressionAttributeNames": {"#p": "pk"},
                        "ReturnValuesOnConditionCheckFailure": "NONE"}},
            {"ConditionCheck": {"TableName": TABLE, "Key": _key_of("base"),
                                "ConditionExpression": "attribute_type(#a, :s)",
                                "ExpressionAttributeNames": {"#a": "a"},
                                "ExpressionAttributeValues": _condition_values(s="S"),
                                "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
         ], "ReturnConsumedCapacity": "INDEXES", "ReturnItemCollectionMetrics": "SIZE"},
        # A token only in a base of its own: with it, every still-valid mutation of the
        # actions would be IdempotentParameterMismatchException instead of a transaction.
        {"TransactItems": [{"ConditionCheck": {"TableName": TABLE, "Key": _key_of("base"),
                                               "ConditionExpression": "attribute_exists(pk)"}}],
         "ClientRequestToken": "fuzz-token-1"},
    ],
    "TransactGetItems": [
        {"TransactItems": [
            {"Get": {"TableName": TABLE, "Key": _key_of("base"), "ProjectionExpression": "#a, l[0]",
                     "ExpressionAttributeNames": {"#a": "a"}}},
            {"Get": {"TableName": TABLE, "Key": _key_of("nobody")}},
         ], "ReturnConsumedCapacity": "TOTAL"},
    ],
}


# -- member paths --------------------------------------------------------------------------------

PathPart = str | int


@dataclass(frozen=True)
class MemberPath:
    """Where in a request a mutation goes, and the shape the model gives that member."""

    parts: tuple[PathPart, ...]
    shape: shapes.Shape | None   # None inside an attribute value (storage checks those)
    required: bool
    containers: tuple[Any, ...]  # the (base or skeleton) value holding each part, outermost first

    def __str__(self) -> str:
        return ".".join(str(part) for part in self.parts)


ATTRIBUTE_TYPES = ("S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M")


def member_paths(shape: shapes.Shape, value: Any, parts: tuple[PathPart, ...] = (),
                 containers: tuple[Any, ...] = ()) -> Iterator[MemberPath]:
    """Every member path below `value`, read with `shape`, in the model's order."""
    inner = (*containers, value)
    if isinstance(shape, shapes.Structure):
        for name, member in shape.members.items():
            present = isinstance(value, dict) and name in value
            child = value[name] if present else skeleton(member)
            yield MemberPath((*parts, name), member, member.required, inner)
            yield from member_paths(member, child, (*parts, name), inner)
    elif isinstance(shape, shapes.ListOf):
        child = value[0] if isinstance(value, list) and value else skeleton(shape.member)
        yield MemberPath((*parts, 0), shape.member, False, inner)
        yield from member_paths(shape.member, child, (*parts, 0), inner)
    elif isinstance(shape, shapes.MapOf):
        key = next(iter(value)) if isinstance(value, dict) and value else "k"
        child = value[key] if isinstance(value, dict) and value else skeleton(shape.value)
        yield MemberPath((*parts, key), shape.value, False, inner)
        yield from member_paths(shape.value, child, (*parts, key), inner)
    elif isinstance(shape, shapes.AttributeValueShape):
        kind = next(iter(value)) if isinstance(value, dict) and value else "S"
        for name in dict.fromkeys((kind, *ATTRIBUTE_TYPES)):
            yield MemberPath((*parts, name), None, False, inner)


def skeleton(shape: shapes.Shape) -> Any:
    """A small valid value of `shape`, to stand where a base request has none."""
    if isinstance(shape, shapes.String):
        return shape.enum[0] if shape.enum else "abc"
    if isinstance(shape, shapes.Integer):
        return shape.low if shape.low is not None else 1
    if isinstance(shape, shapes.Boolean):
        return True
    if isinstance(shape, shapes.ListOf):
        return [skeleton(shape.member)]
    if isinstance(shape, shapes.MapOf):
        return {"k": skeleton(shape.value)}
    if isinstance(shape, shapes.Structure):
        return {name: skeleton(m) for name, m in shape.members.items() if m.required}
    return {"S": "v"}  # an AttributeValue


# -- mutations -----------------------------------------------------------------------------------

DEPTH = 40              # nesting a JSON reader takes in its stride
TOO_DEEP = 5_000        # nesting past any sane reader's limit
BIG_STRING = 409_601    # one byte past the 400 KB item limit


@dataclass(frozen=True)
class Mutation:
    """One bad shape: its name, and the JSON kind of what it puts (for the expected answer)."""

    name: str
    kind: str  # null, string, number, raw-number, bool, list, object, raw, unknown, twice


def _nested(depth: int, leaf: Any, as_list: bool) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value] if as_list else {"a": value}
    return value


MUTATIONS: tuple[Mutation, ...] = (
    Mutation("null", "null"),
    Mutation("string", "string"),
    Mutation("empty-string", "string"),
    Mutation("oversized-string", "string"),
    Mutation("control-chars", "string"),
    Mutation("number-text-out-of-reach", "string"),
    Mutation("number-text-nan", "string"),
    Mutation("integer", "number"),
    Mutation("negative", "number"),
    Mutation("fraction", "number"),
    Mutation("huge-integer", "raw-number"),
    Mutation("exponent-overflow", "raw-number"),
    Mutation("true", "bool"),
    Mutation("false", "bool"),
    Mutation("list", "list"),
    Mutation("empty-list", "list"),
    Mutation("oversized-list", "list"),
    Mutation("deep-list", "list"),
    Mutation("object", "object"),
    Mutation("empty-object", "object"),
    Mutation("oversized-object", "object"),
    Mutation("deep-object", "object"),
    Mutation("too-deep", "raw"),
    Mutation("lone-surrogate", "raw"),
    Mutation("unknown-member", "unknown"),
    Mutation("duplicate-key-bad-last", "twice"),
    Mutation("duplicate-key-bad-first", "twice"),
)


_FIXED: dict[str, Any] = {
    "null": None, "string": "x", "empty-string": "", "oversized-string": "x" * BIG_STRING,
    "control-chars": "\x00\x1f\u2028\ufeff", "number-text-out-of-reach": "9e9999999999999999999",
    "number-text-nan": "NaN", "integer": 7, "negative": -1, "fraction": 1.5,
    "huge-integer": raw("123456789012345678901234567890123456789012"),
    "exponent-overflow": raw("1e400"), "true": True, "false": False,
    "list": ["x"], "empty-list": [], "deep-list": _nested(DEPTH, "x", True),
    "object": {"x": "y"}, "empty-object": {}, "deep-object": _nested(DEPTH, "x", False),
    "too-deep": raw("[" * TOO_DEEP + "]" * TOO_DEEP), "lone-surrogate": raw('"\\ud800x"'),
}


def mutant_value(mutation: Mutation, original: Any) -> Any:
    """The value `mutation` puts where `original` was."""
    name = mutation.name
    if name in _FIXED:
        return _FIXED[name]
    element = original[0] if isinstance(original, list) and original else original
    if len(orjson.dumps(element)) > 1000:
        element = "x"  # a thousand copies must stay under the 16 MB request limit
    if name == "oversized-list":
        return [element] * 1001
    if name == "oversized-object":
        return {f"k{i}": element for i in range(1001)}
    if name == "unknown-member":
        return {**original, "UnknownMember": {"x": [1]}} if isinstance(original, dict) else original
    raise ValueError(name)


def apply(request: Any, path: MemberPath, mutation: Mutation) -> Any:
    """`request` with `mutation` at `path`, sharing all but the containers on the path.

    A container the request lacks is taken from the path's (skeleton) containers,
    so the mutation lands inside an otherwise valid member.
    """
    return _put(request, path, 0, mutation)


def _put(node: Any, path: MemberPath, depth: int, mutation: Mutation) -> Any:
    part = path.parts[depth]
    if isinstance(part, int):
        node = list(node if isinstance(node, list) else path.containers[depth])
        part = min(part, len(node))
        if part == len(node):
            node.append(None)
    else:
        node = dict(node if isinstance(node, dict) else path.containers[depth])
    if depth + 1 < len(path.parts):
        child = node[part] if isinstance(node, list) else node.get(part)
        node[part] = _put(child, path, depth + 1, mutation)
        return node
    original = node[part] if isinstance(node, list) else node.get(part)
    if mutation.kind != "twice":
        node[part] = mutant_value(mutation, original)
        return node
    if isinstance(node, list):
        return node  # a list element has no key to repeat
    good = original if original is not None else "x"
    first, last = (good, None) if mutation.name.endswith("last") else (None, good)
    return twice(node, str(part), first, last)


# -- what the answer must be ---------------------------------------------------------------------

def expected_type(path: MemberPath, mutation: Mutation) -> str | None:
    """The one error this mutation must get, when the model alone decides it; else None."""
    shape = path.shape
    if shape is None or mutation.kind in ("unknown", "twice", "raw"):
        return None
    if mutation.kind == "null":
        return "ValidationException" if path.required else None
    if mutation.kind == "raw-number":
        return None
    if _wrong_json_type(shape, mutation.kind):
        return "SerializationException"
    return None


def _wrong_json_type(shape: shapes.Shape, kind: str) -> bool:
    """Whether Coral's JSON reader refuses a value of this JSON kind for this shape."""
    if isinstance(shape, shapes.String):
        return kind != "string"
    if isinstance(shape, shapes.Integer):
        return kind != "number"
    if isinstance(shape, shapes.Boolean):
        return kind in ("number", "list", "object")
    if isinstance(shape, shapes.ListOf):
        return kind != "list"
    if isinstance(shape, shapes.Structure | shapes.MapOf | shapes.AttributeValueShape):
        return kind != "object"
    return False


def check_answer(status: int, body: bytes, expected: str | None) -> str | None:
    """What is wrong with an answer (None when it keeps the rules)."""
    if status == 200:
        return None if expected is None else f"200 where {expected} was due"
    if status != 400:
        return f"HTTP {status}: {body[:300]!r}"
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        return f"a 400 whose body is not JSON: {body[:300]!r}"
    error = str(answer.get("__type", "")).rpartition("#")[2]
    if error not in CLIENT_ERRORS or not isinstance(answer.get("message"), str):
        return f"a 400 without a client error's __type and message: {answer}"
    if expected is not None and error != expected:
        return f"{error} where {expected} was due: {answer.get('message', '')[:200]}"
    return None


# -- the cases -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One request to send: the operation, its JSON body, the error it must get (if known)."""

    operation: str
    body: bytes
    expected: str | None
    label: str


def sweep(stride: int = 1, offset: int = 0) -> Iterator[Case]:
    """Every (operation, base request, member path, mutation) once, in that order.

    `stride` > 1 keeps every stride-th case from `offset` on: mutations vary
    fastest, so each path still gets a rotating share of them (the test suite's run).
    """
    index = -1
    for operation, bases in BASES.items():
        shape = OPERATIONS[operation][0]
        for number, base in enumerate(bases):
            for path in member_paths(shape, base):
                for mutation in MUTATIONS:
                    if mutation.kind == "unknown" and not _is_structure(path.shape):
                        continue
                    index += 1
                    if index % stride != offset:
                        continue
                    request = apply(base, path, mutation)
                    yield Case(operation, orjson.dumps(request), expected_type(path, mutation),
                               f"{operation}[{number}] {path} <- {mutation.name}")


def random_cases(seed: int) -> Iterator[Case]:
    """An endless seeded stream: one to three mutations stacked on a random base."""
    rng = random.Random(seed)
    plans = [(operation, number, base, list(member_paths(OPERATIONS[operation][0], base)))
             for operation, bases in BASES.items() for number, base in enumerate(bases)]
    while True:
        operation, number, base, paths = rng.choice(plans)
        request: Any = base
        chosen = []
        for _ in range(rng.choice((1, 1, 2, 3))):
            path, mutation = rng.choice(paths), rng.choice(MUTATIONS)
            if isinstance(request, orjson.Fragment):
                break  # a request that is already one repeated key is sent as it is
            request = apply(request, path, mutation)
            chosen.append((path, mutation))
        body = orjson.dumps(request)
        if len(body) > MAX_REQUEST_BYTES:
            continue  # refused with a 413 before any JSON is read: nothing to learn
        expected = expected_type(*chosen[0]) if len(chosen) == 1 else None
        label = f"{operation}[{number}] " + " + ".join(f"{p} <- {m.name}" for p, m in chosen)
        yield Case(operation, body, expected, label)


def _is_structure(shape: shapes.Shape | None) -> bool:
    return isinstance(shape, shapes.Structure | shapes.AttributeValueShape)


# -- where the cases go --------------------------------------------------------------------------

class InProcess:
    """The ASGI application's `answer()` in this process, over a fresh in-memory node."""

    def __init__(self) -> None:
        self.node = SingleNode(None)
        self.app = DynamoApp(self.node)
        self.loop = asyncio.new_event_loop()
        self.signer = Signer("AKIDFUZZ", "secret", REGION, "localhost")

    def call(self, operation: str, body: bytes) -> tuple[int, bytes]:
        headers = {name.lower().encode(): value.encode() for name, value in
                   self.signer.headers(f"DynamoDB_20120810.{operation}", body).items()}
        status, payload, _ = self.loop.run_until_complete(
            self.app.answer("POST", "/", headers, body))
        return status, payload

    def alive(self) -> bool:
        return True

    def close(self) -> None:
        self.loop.close()
        self.node.close()


class OverHttp:
    """A real `dynamo serve --in-memory` process, spoken to over keep-alive HTTP."""

    def __init__(self) -> None:
        import http.client

        self.server = start_server("--in-memory")
        self.signer = Signer("AKIDFUZZ", "secret", REGION, f"127.0.0.1:{self.server.port}")
        self._connect = lambda: http.client.HTTPConnection("127.0.0.1", self.server.port,
                                                           timeout=60)
        self.connection = self._connect()

    def call(self, operation: str, body: bytes) -> tuple[int, bytes]:
        headers = self.signer.headers(f"DynamoDB_20120810.{operation}", body)
        self.connection.request("POST", "/", body=body, headers=headers)
        response = self.connection.getresponse()
        payload = response.read()
        if response.getheader("connection", "").lower() == "close":
            self.connection.close()
            self.connection = self._connect()
        return response.status, payload

    def alive(self) -> bool:
        return self.server.alive()

    def close(self) -> None:
        self.connection.close()
        self.server.stop()


Target = InProcess | OverHttp


def prepare(target: Target) -> None:
    """The data table (with a local secondary index) and its sentinel item, in place before
    any case runs."""
    for operation, request in (
        ("CreateTable", {"TableName": TABLE, "KeySchema": _SCHEMA,
                         "AttributeDefinitions": [*_DEFINITIONS, _LSK],
                         "LocalSecondaryIndexes": _LOCAL_INDEXES, "BillingMode": "PAY_PER_REQUEST"}),
        ("PutItem", {"TableName": TABLE, "Item": SENTINEL}),
        ("PutItem", {"TableName": TABLE, "Item": _ITEM}),
    ):
        status, body = target.call(operation, orjson.dumps(request))
        assert status == 200, (operation, body)


def sentinel_problems(target: Target) -> list[str]:
    """What is wrong after the run: a dead server, or a sentinel item not as it was."""
    if not target.alive():
        return ["the server died"]
    status, body = target.call("GetItem", orjson.dumps(
        {"TableName": TABLE, "Key": SENTINEL_KEY, "ConsistentRead": True}))
    if status != 200:
        return [f"GetItem of the sentinel answered {status}: {body[:300]!r}"]
    item = orjson.loads(body).get("Item")
    return [] if item == SENTINEL else [f"the sentinel item changed: {item}"]


@dataclass
class Report:
    """What a run saw."""

    cases: int = 0
    seconds: float = 0.0
    answers: Counter[str] | None = None
    failures: list[str] | None = None


def run(target: Target, cases: Iterator[Case], limit: int | None = None) -> Report:
    """Send `cases` (at most `limit`) and check every answer; the sentinel is checked after."""
    answers: Counter[str] = Counter()
    failures: list[str] = []
    started = time.perf_counter()
    count = 0
    for case in cases:
        if limit is not None and count >= limit:
            break
        count += 1
        status, body = target.call(case.operation, case.body)
        answers[_summary(status, body)] += 1
        problem = check_answer(status, body, case.expected)
        if problem is not None:
            failures.append(f"#{count - 1} {case.label}: {problem}")
    failures.extend(sentinel_problems(target))
    return Report(count, time.perf_counter() - started, answers, failures)


def _summary(status: int, body: bytes) -> str:
    if status != 400:
        return str(status)
    try:
        return "400 " + str(orjson.loads(body).get("__type", "?")).rpartition("#")[2]
    except orjson.JSONDecodeError:
        return "400 ?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="how many requests to send")
    parser.add_argument("--seed", type=int, default=1, help="the seed of the random cases")
    parser.add_argument("--http", action="store_true",
                        help="send to a real `dynamo serve --in-memory` over HTTP, not in-process")
    parser.add_argument("--sweep", action="store_true",
                        help="first every single mutation at every path once (the test suite's run)")
    args = parser.parse_args(argv)
    target: Target = OverHttp() if args.http else InProcess()
    try:
        prepare(target)
        stream: Iterator[Case] = random_cases(args.seed)
        if args.sweep:
            stream = _chain(sweep(), stream)
        report = run(target, stream, args.cases)
    finally:
        target.close()
    where = "over HTTP to dynamo serve" if args.http else "in-process (DynamoApp.answer)"
    print(f"{report.cases} cases {where}, seed {args.seed}, in {report.seconds:.1f} s "
          f"({report.cases / report.seconds:.0f} cases/s)")
    for answer, count in sorted((report.answers or Counter()).items()):
        print(f"  {count:>8}  {answer}")
    failures = report.failures or []
    print(f"{len(failures)} broke the rules")
    for failure in failures[:50]:
        print("  " + failure)
    return 1 if failures else 0


def _chain(*streams: Iterator[Case]) -> Iterator[Case]:
    for stream in streams:
        yield from stream


if __name__ == "__main__":
    sys.exit(main())
