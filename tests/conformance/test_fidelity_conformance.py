"""Issue #9's behaviours answer as DynamoDB's (cases/fidelity.py), over raw signed HTTP,
and the HTTP-level ones (health check, CORS, missing credentials) over raw HTTP."""

from __future__ import annotations

import http.client

import orjson
import pytest
from cases import HASH, case_id, check_error, run_scenario
from cases.fidelity import ERRORS, FUNCTIONAL, OPERATIONS


@pytest.mark.parametrize("case", ERRORS, ids=case_id)
def test_error(dynamo, case) -> None:  # type: ignore[no-untyped-def]
    check_error(dynamo, OPERATIONS.get(case.source, "PutItem"), case)


@pytest.mark.parametrize("scenario", FUNCTIONAL, ids=case_id)
def test_functional(dynamo, scenario) -> None:  # type: ignore[no-untyped-def]
    run_scenario(dynamo, scenario)


def test_describe_table_by_its_arn(dynamo) -> None:  # type: ignore[no-untyped-def]
    """A table's ARN is what DescribeTable calls it, and finds it (issue #9)."""
    status, answer = dynamo.call("DescribeTable", {"TableName": HASH})
    arn = answer["Table"]["TableArn"]
    status, by_arn = dynamo.call("DescribeTable", {"TableName": arn})
    assert status == 200 and by_arn["Table"]["TableName"] == HASH
    other_region = arn.replace(":us-east-1:", ":eu-west-1:")
    status, answer = dynamo.call("DescribeTable", {"TableName": other_region})
    assert status == 400 and answer["__type"].endswith("#ValidationException")


def raw(port: int, method: str, headers: dict[str, str], body: bytes = b""):  # type: ignore[no-untyped-def]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(method, "/", body=body, headers=headers)
    response = connection.getresponse()
    answer = response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    connection.close()
    return answer


def test_get_is_the_health_check(dynamo) -> None:  # type: ignore[no-untyped-def]
    """GET / answers 200 `healthy: <host> ` (dynalite test/connection.js at fee509d, which
    follows DynamoDB; issue #9: load balancers rely on it)."""
    status, headers, body = raw(dynamo.port, "GET", {"Host": "dynamodb.local"})
    assert status == 200
    assert body == b"healthy: dynamodb.local "
    assert headers["content-length"] == str(len(body))
    assert headers["x-amz-crc32"].isdigit() and headers["x-amzn-requestid"]


def test_cors_preflight_echoes_what_was_asked(dynamo) -> None:  # type: ignore[no-untyped-def]
    """should set CORS if OPTIONS and Origin and Headers and Method (dynalite connection.js)."""
    status, headers, body = raw(dynamo.port, "OPTIONS", {
        "Origin": "whatever", "Access-Control-Request-Headers": "a, b, c",
        "Access-Control-Request-Method": "d"})
    assert (status, body) == (200, b"")
    assert headers["access-control-allow-origin"] == "*"
    assert headers["access-control-allow-headers"] == "a, b, c"
    assert headers["access-control-allow-methods"] == "d"
    assert headers["access-control-max-age"] == "172800"
    assert headers["content-length"] == "0"
    # should return 404 if OPTIONS with no auth (and no Origin): not a preflight
    assert raw(dynamo.port, "OPTIONS", {})[0] == 404


def test_calls_from_a_browser_are_allowed(dynamo) -> None:  # type: ignore[no-untyped-def]
    """should return UnknownOperationException and set CORS if using Origin (connection.js)."""
    status, headers, body = raw(dynamo.port, "POST", {
        "Origin": "whatever", "Content-Type": "application/x-amz-json-1.0"}, b"{}")
    assert status == 400
    assert headers["access-control-allow-origin"] == "*"


def test_missing_credentials_come_before_the_operation(dynamo) -> None:  # type: ignore[no-untyped-def]
    """issue #9: no Authorization header is MissingAuthenticationTokenException even for an
    unknown target (dynalite's "UnknownOperationException if no target", recorded before
    2020, answered the target first)."""
    for target in ("DynamoDB_20120810.Frobnicate", None):
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        if target:
            headers["X-Amz-Target"] = target
        status, _, body = raw(dynamo.port, "POST", headers, b"{}")
        assert status == 400
        assert orjson.loads(body) == {
            "__type": "com.amazon.coral.service#MissingAuthenticationTokenException",
            "message": "Request is missing Authentication Token"}
