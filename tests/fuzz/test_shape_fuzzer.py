"""No 500 for any shape of request: the shape fuzzer's share of the test suite.

DynamoDB answers a client's mistake with a 4xx naming its `__type` (Developer
Guide, "Error handling with DynamoDB"; `SerializationException` for a wrong JSON type,
`ValidationException` for a broken constraint), and a failed request changes
nothing. `shape_fuzzer.py` builds the bad requests from the operations' shape
tables; here a few thousand of them go to the ASGI application in-process and
a few hundred to a real `dynamo serve` over HTTP, and the requests that once
got a 500 are kept as regressions.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

import orjson
import pytest
import shape_fuzzer as fuzz

from dynamo.api.server import OPERATIONS

# Requests that got HTTP 500 InternalServerError before they were fixed, with the
# error and message they get now. Found by the shape fuzzer (the first is issue #8's).
REGRESSIONS = [
    ("BatchGetItem", {"RequestItems": {fuzz.TABLE: None}}, "ValidationException",
     "1 validation error detected: Value null at 'requestItems.fuzz.member' failed to "
     "satisfy constraint: Member must not be null"),
    ("BatchGetItem", {"RequestItems": {fuzz.TABLE: {"Keys": [None]}}}, "ValidationException",
     "1 validation error detected: Value null at 'requestItems.fuzz.member.keys.1.member' "
     "failed to satisfy constraint: Member must not be null"),
    ("BatchWriteItem", {"RequestItems": {fuzz.TABLE: None}}, "ValidationException",
     "1 validation error detected: Value null at 'requestItems.fuzz.member' failed to "
     "satisfy constraint: Member must not be null"),
    ("BatchWriteItem", {"RequestItems": {fuzz.TABLE: [None]}}, "ValidationException",
     "1 validation error detected: Value null at 'requestItems.fuzz.member.1.member' "
     "failed to satisfy constraint: Member must not be null"),
    ("CreateTable", {"TableName": "abc", "KeySchema": [None],
                     "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]},
     "ValidationException",
     "1 validation error detected: Value null at 'keySchema.1.member' failed to satisfy "
     "constraint: Member must not be null"),
    ("CreateTable", {"TableName": "abc", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                     "AttributeDefinitions": [None]}, "ValidationException",
     "1 validation error detected: Value null at 'attributeDefinitions.1.member' failed to "
     "satisfy constraint: Member must not be null"),
    ("UpdateTable", {"TableName": None, "BillingMode": "PAY_PER_REQUEST"}, "ValidationException",
     "The parameter 'TableName' is required but was not present in the request"),
    ("PutItem", {"TableName": fuzz.TABLE, "Item": {**fuzz.SENTINEL_KEY,
                                                   "n": {"N": "9e9999999999999999999"}}},
     "ValidationException",
     "The parameter cannot be converted to a numeric value: 9e9999999999999999999"),
]


# The bases in an order that works: the control plane's act on a table of their own, in
# its lifecycle's order; the data plane's on the fuzz table.
ORDER = ["CreateTable", "DescribeTable", "ListTables", "UpdateTable", "UpdateTimeToLive",
         "DescribeTimeToLive", "PutItem", "GetItem", "UpdateItem", "DeleteItem", "Query", "Scan",
         "BatchGetItem", "BatchWriteItem", "TransactWriteItems", "TransactGetItems",
         "DeleteTable"]


def answers_to_bases(target: fuzz.Target) -> list[tuple[str, dict, int, dict]]:
    """Every base request sent in `ORDER`: (operation, base, status, answer)."""
    answers = []
    for operation in ORDER:
        for base in fuzz.BASES[operation]:
            status, body = target.call(operation, orjson.dumps(base))
            answers.append((operation, base, status, orjson.loads(body)))
    return answers


@pytest.fixture(scope="module")
def in_process() -> Iterator[fuzz.InProcess]:
    """The real DynamoApp over a real in-memory node, with the fuzz table and its sentinel."""
    target = fuzz.InProcess()
    fuzz.prepare(target)
    yield target
    target.close()


def test_the_fuzzer_reaches_every_member_of_every_operation() -> None:
    """Every operation served has base requests, and every member of its shape is a path."""
    assert set(fuzz.BASES) == set(OPERATIONS)
    for operation, (shape, _) in OPERATIONS.items():
        reached = {path.parts[0] for base in fuzz.BASES[operation]
                   for path in fuzz.member_paths(shape, base)}
        assert reached == set(shape.members), operation


def test_every_base_request_is_valid(in_process: fuzz.InProcess) -> None:
    """A mutation is the only thing wrong with a case: each base alone is answered 200, but
    for a global secondary index, which one node refuses by name once all else passed."""
    assert sorted(ORDER) == sorted(fuzz.BASES)
    for operation, base, status, answer in answers_to_bases(in_process):
        if fuzz.needs_fleet(base):
            assert status == 400 and answer["message"].startswith(fuzz.FLEET_ONLY), answer
        else:
            assert status == 200 or "ConditionalCheckFailed" in answer.get("__type", ""), \
                (operation, answer)


def test_every_base_request_is_valid_on_the_partitioned_fleet() -> None:
    """`dynamo serve`'s fleet answers every base 200, those with global indexes too."""
    target = fuzz.OverHttp()
    try:
        fuzz.prepare(target)
        answers = answers_to_bases(target)
    finally:
        target.close()
    assert [(op, answer) for op, _, status, answer in answers
            if status != 200 and "ConditionalCheckFailed" not in answer.get("__type", "")] == []


def test_a_few_thousand_bad_shapes_in_process_get_client_errors(
        in_process: fuzz.InProcess) -> None:
    """Every sixth case of the full sweep: a 4xx with `__type` (or a 200), never a 500."""
    report = fuzz.run(in_process, fuzz.sweep(stride=6))
    assert report.failures == []
    assert report.cases > 3000
    answers = report.answers or {}
    # The sweep reaches both of Coral's checks and, past them, the operations themselves.
    assert answers["400 SerializationException"] > 500
    assert answers["400 ValidationException"] > 500
    assert answers["200"] > 10


@pytest.mark.parametrize(("operation", "request_", "error", "message"), REGRESSIONS,
                         ids=[f"{op}-{i}" for i, (op, *_) in enumerate(REGRESSIONS)])
def test_requests_that_once_got_a_500_get_a_client_error(
        in_process: fuzz.InProcess, operation: str, request_: dict, error: str,
        message: str) -> None:
    status, body = in_process.call(operation, orjson.dumps(request_))
    answer = orjson.loads(body)
    assert (status, answer["__type"].rpartition("#")[2], answer["message"]) == (400, error, message)


def test_a_repeated_json_key_takes_its_last_value(in_process: fuzz.InProcess) -> None:
    """Duplicate keys: the last one counts (as in dynalite's JSON.parse and orjson)."""
    body = (b'{"TableName": "nope-no-such-table", "TableName": "fuzz", '
            b'"Key": {"pk": {"S": "sentinel-0b7c"}, "sk": {"N": "0"}}}')
    status, answer = in_process.call("GetItem", body)
    assert status == 200 and orjson.loads(answer)["Item"] == fuzz.SENTINEL


def test_unknown_members_are_ignored(in_process: fuzz.InProcess) -> None:
    """A member the model does not know is skipped, at the top and inside structures."""
    request = {"TableName": fuzz.TABLE, "Key": fuzz.SENTINEL_KEY, "Unknown": [1, {"x": None}]}
    status, answer = in_process.call("GetItem", orjson.dumps(request))
    assert status == 200 and orjson.loads(answer)["Item"] == fuzz.SENTINEL
    batch = {"RequestItems": {fuzz.TABLE: {"Keys": [fuzz.SENTINEL_KEY], "Unknown": "x"}}}
    status, answer = in_process.call("BatchGetItem", orjson.dumps(batch))
    assert status == 200 and orjson.loads(answer)["Responses"][fuzz.TABLE] == [fuzz.SENTINEL]


def test_bad_shapes_over_http_leave_the_server_alive_and_the_sentinel_unchanged() -> None:
    """A real `dynamo serve` process: a slice of the sweep, stacked random cases, the regressions."""
    target = fuzz.OverHttp()
    try:
        fuzz.prepare(target)
        regressions = [fuzz.Case(op, orjson.dumps(request), error, f"regression {op}")
                       for op, request, error, _ in REGRESSIONS]
        cases = [*regressions, *fuzz.sweep(stride=150, offset=5),
                 *islice(fuzz.random_cases(seed=8), 100)]
        report = fuzz.run(target, iter(cases))
        assert report.failures == []
        assert report.cases == len(cases) > 200
        assert target.alive()
    finally:
        target.close()
