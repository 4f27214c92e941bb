"""DynamoDB's answers, as recorded by dynalite's test suite, as data.

dynalite's tests (github.com/architect/dynalite, formerly mhart/dynalite,
`test/<operation>.js`) were written and checked against the real DynamoDB.
Each module here ports a selection of one operation's tests:

- `ERRORS`: (request, error type, message) triples, from dynalite's
  `assertValidation`, `assertType`, `assertNotFound` and `assertConditional`.
  A message is a string compared exactly, or a compiled pattern when dynalite
  matched a pattern too.
- `FUNCTIONAL`: short scenarios, each a list of calls and the exact answers
  DynamoDB gave (returned values, ordering, paging, capacity).

Each case names the dynalite test it comes from. Tables are dynalite's test
tables without their secondary indexes: `HASH` (key `a`: S), `RANGE`
(`a`: S, `b`: S), `RANGE_N` (`b`: N) and `RANGE_B` (`b`: B). "abc" and
"aaa" are tables that do not exist, as in dynalite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

HASH = "conformance-hash"
RANGE = "conformance-range"
RANGE_N = "conformance-rangeN"
RANGE_B = "conformance-rangeB"
MAX_SIZE = 409600  # DynamoDB's item size limit, dynalite's helpers.MAX_SIZE

VALIDATION = "com.amazon.coral.validate#ValidationException"
SERIALIZATION = "com.amazon.coral.service#SerializationException"
NOT_FOUND = "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
IN_USE = "com.amazonaws.dynamodb.v20120810#ResourceInUseException"
CONDITIONAL = "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"

REQUESTED_NOT_FOUND = "Requested resource not found"
CONDITION_FAILED = "The conditional request failed"
INVALID = "One or more parameter values were invalid: "
NO_MATCH = "The provided key element does not match the schema"
BIG_NUMBER = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber"


def _table(name: str, *keys: tuple[str, str]) -> dict[str, Any]:
    roles = ("HASH", "RANGE")
    return {
        "TableName": name,
        "KeySchema": [{"AttributeName": k, "KeyType": roles[i]} for i, (k, _) in enumerate(keys)],
        "AttributeDefinitions": [{"AttributeName": k, "AttributeType": t} for k, t in keys],
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    }


TABLES = [
    _table(HASH, ("a", "S")),
    _table(RANGE, ("a", "S"), ("b", "S")),
    _table(RANGE_N, ("a", "S"), ("b", "N")),
    _table(RANGE_B, ("a", "S"), ("b", "B")),
]


@dataclass(frozen=True)
class ErrorCase:
    """One request and the error DynamoDB answers it with."""

    source: str  # the dynalite test (`it(...)`) it comes from
    request: dict[str, Any]
    error: str  # the full `__type`
    message: str | re.Pattern[str]


@dataclass(frozen=True)
class Call:
    """One call of a scenario and DynamoDB's whole answer (an error: `error` and `message`)."""

    operation: str
    request: dict[str, Any]
    answer: dict[str, Any] | None = None
    error: str | None = None
    message: str | None = None
    # dynalite recorded ConsumedCapacity before DynamoDB added ReadCapacityUnits and
    # WriteCapacityUnits to it: `partial` answers must hold these members, maybe more.
    partial: bool = False


@dataclass(frozen=True)
class Scenario:
    """Calls made in order; every answer must be exactly DynamoDB's."""

    source: str
    calls: list[Call] = field(default_factory=list)


class Client(Protocol):
    def call(self, operation: str, request: dict[str, Any]) -> tuple[int, dict[str, Any]]: ...


def validation(source: str, request: dict[str, Any], message: str | re.Pattern[str]) -> ErrorCase:
    """dynalite's assertValidation."""
    return ErrorCase(source, request, VALIDATION, message)


def serialization(source: str, request: dict[str, Any], message: str) -> ErrorCase:
    """dynalite's assertType / assertSerialization."""
    return ErrorCase(source, request, SERIALIZATION, message)


def not_found(source: str, request: dict[str, Any]) -> ErrorCase:
    """dynalite's assertNotFound."""
    return ErrorCase(source, request, NOT_FOUND, REQUESTED_NOT_FOUND)


def conditional(source: str, request: dict[str, Any]) -> ErrorCase:
    """dynalite's assertConditional."""
    return ErrorCase(source, request, CONDITIONAL, CONDITION_FAILED)


def check_error(client: Client, operation: str, case: ErrorCase) -> None:
    """Send the case's request; the answer must be its error, type and message."""
    status, answer = client.call(operation, case.request)
    assert status == 400, (status, answer)
    assert answer.get("__type") == case.error, answer
    message = answer.get("message")
    if isinstance(case.message, re.Pattern):
        assert message is not None and case.message.search(message), (message, case.message)
    else:
        assert message == case.message


def run_scenario(client: Client, scenario: Scenario) -> None:
    """Make every call of a scenario in order and compare each whole answer."""
    for number, call in enumerate(scenario.calls, start=1):
        status, answer = client.call(call.operation, call.request)
        where = f"call {number} ({call.operation})"
        if call.error is not None:
            assert (status, answer.get("__type"), answer.get("message")) == (
                400, call.error, call.message), (where, answer)
        else:
            assert status == 200, (where, answer)
            if call.partial:
                assert _holds(answer, call.answer), (where, answer)
            else:
                assert answer == call.answer, where


def _holds(actual: Any, expected: Any) -> bool:
    """Whether `actual` has every member of `expected` (maps and lists compared inside)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            name in actual and _holds(actual[name], value) for name, value in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(
            _holds(a, e) for a, e in zip(actual, expected, strict=True))
    return bool(actual == expected)


def case_id(case: ErrorCase | Scenario) -> str:
    """A readable pytest id: the dynalite test name, shortened."""
    return case.source.removeprefix("should ")[:70]
