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

Each case names the dynalite test it comes from (DYNALITE_COMMIT records the
version ported, NOT_PORTED what was left out and why). Tables are dynalite's test
tables without their secondary indexes: `HASH` (key `a`: S), `RANGE`
(`a`: S, `b`: S), `RANGE_N` (`b`: N) and `RANGE_B` (`b`: B). "abc" and
"aaa" are tables that do not exist, as in dynalite.

The message era rule (docs/api.md, "Which DynamoDB the messages match"): a
case expects what DynamoDB answers *today*. dynalite recorded its messages
between 2013 and 2020; where DynamoDB has reworded one since, the case is
wrapped in `reworded` (or `enveloped`, for the 2026 validation-framework
prefix), which keeps dynalite's message as `was` and names the evidence for
today's wording and its date in `evidence`. A case without `was` has kept
dynalite's wording, as far as any evidence shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

# The dynalite the cases come from: github.com/architect/dynalite, test/<operation>.js.
# The port did not record the commit it read. This is the newest commit of test/ (2025,
# "dependency modernization"); the files' own last changes are the per-file commits
# below. A sample of cases was checked against them; the whole set was not re-verified.
DYNALITE_REPOSITORY = "https://github.com/architect/dynalite"
DYNALITE_COMMIT = "fee509d78bb683f2676907afba5982fa4e80cc61"
DYNALITE_FILES = {
    "test/batchGetItem.js": "939ff088b830c66aabbaba3881362e6d7207fd28",
    "test/batchWriteItem.js": "8a4a8d1a568e1110da3a1f8b4ae18aeb323966db",
    "test/createTable.js": "939ff088b830c66aabbaba3881362e6d7207fd28",
    "test/deleteItem.js": "1b2b3291f87fb16f92232acf781a585822eeb794",
    "test/deleteTable.js": "2ec95131c2d2e63420d74d4e9d2055b850f40031",
    "test/describeTable.js": "5046e5921809da37e0438671c5583a36fb405f8b",
    "test/getItem.js": "8a4a8d1a568e1110da3a1f8b4ae18aeb323966db",
    "test/listTables.js": "fee509d78bb683f2676907afba5982fa4e80cc61",
    "test/putItem.js": "2107554d67b73bf8b6be15120bcc6bd3ce694096",
    "test/query.js": "939ff088b830c66aabbaba3881362e6d7207fd28",
    "test/scan.js": "8a4a8d1a568e1110da3a1f8b4ae18aeb323966db",
    "test/updateItem.js": "8a4a8d1a568e1110da3a1f8b4ae18aeb323966db",
    "test/updateTable.js": "ed24272b102b3f8dd9f4bad6fef016e14322403b",
    "test/connection.js": "fee509d78bb683f2676907afba5982fa4e80cc61",
}

# What was not ported, and why (docs/api.md, "Conformance", says the same in prose).
NOT_PORTED = {
    "test/describeStream.js, getRecords.js, getShardIterator.js, listStreams.js":
        "streams are not built yet",
    "test/tagResource.js, untagResource.js, listTagsOfResource.js": "tags are not built yet",
    "test/transactWriteItem.js": "transactions are not built yet",
    "test/describeTimeToLive.js, updateTimeToLive.js": "TTL is not built yet",
    "test/bench.js": "a benchmark, not a record of DynamoDB's answers",
    "IndexName, LSI and GSI cases of every file": "secondary indexes are not built yet",
    "serializations blocks (assertType on every member)":
        "covered by tests/api/test_protocol.py per JSON type rather than per member",
    "several faults inside one UpdateExpression": "DynamoDB's order among them differs from "
        "the lab's (docs/api.md, Known differences)",
    "two bad KeyConditions entries": "DynamoDB's order follows its hash map",
    "DescribeTable/DeleteTable without a valid TableName":
        "recorded from an older DynamoDB; the lab keeps Coral's standard message",
    "empty strings and binaries in non-key attributes, a required ProvisionedThroughput":
        "recorded before DynamoDB changed (2020, on-demand)",
    "test/connection.js: 404 for GET, UnknownOperationException before credentials":
        "DynamoDB changed both (issue #9): cases/fidelity.py holds today's answers",
    "test/connection.js: 413 and SSL": "tests/api/test_protocol.py checks the 16 MB limit; "
        "the lab serves plain HTTP",
}

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
    message: str | re.Pattern[str]  # today's wording
    was: str | re.Pattern[str] | None = None  # dynalite's wording, when DynamoDB changed it
    evidence: str | None = None  # where today's wording comes from, and its date


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


# The prefix DynamoDB's 2026 validation framework puts on request-validation
# messages of the write operations, region by region from June 2026; us-east-1,
# where these cases run, carries it since the 2026-08-12 capture.
ENVELOPE = "1 validation error detected: "
ENVELOPE_EVIDENCE = ("2026-06-09 and 2026-08-12 captures of real DynamoDB, "
                     "github.com/nubo-db/dynamodb-conformance captures/ and registry/splits.json")
ISSUE_9 = "issue #9: DynamoDB test suites verified against the real service, 2026"


def reworded(case: ErrorCase, message: str | re.Pattern[str], evidence: str) -> ErrorCase:
    """The case with today's wording, keeping dynalite's as `was`."""
    return replace(case, message=message, was=case.message, evidence=evidence)


def enveloped(case: ErrorCase) -> ErrorCase:
    """The case with the 2026 validation-framework prefix in front of dynalite's message."""
    if isinstance(case.message, re.Pattern):
        pattern = case.message.pattern.removeprefix("^")
        return reworded(case, re.compile("^" + re.escape(ENVELOPE) + pattern),
                        ENVELOPE_EVIDENCE)
    return reworded(case, ENVELOPE + case.message, ENVELOPE_EVIDENCE)


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
