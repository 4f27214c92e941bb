"""The bench's SigV4 signer agrees with botocore's, byte for byte."""

from datetime import UTC, datetime

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from dynamo.cli.sigv4 import Signer

TARGET = "DynamoDB_20120810.GetItem"


def botocore_signed(body: bytes) -> tuple[datetime, str]:
    """botocore's Authorization header, and the instant it signed for."""
    request = AWSRequest(method="POST", url="http://127.0.0.1:8000/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": TARGET})
    SigV4Auth(Credentials("AKID", "secret"), "dynamodb", "eu-west-1").add_auth(request)
    when = datetime.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return when, request.headers["Authorization"]


def test_signature_matches_botocore() -> None:
    signer = Signer("AKID", "secret", "eu-west-1", "127.0.0.1:8000")
    for body in (b"{}", '{"TableName":"t","Key":{"pk":{"S":"é"}}}'.encode()):
        when, theirs = botocore_signed(body)
        assert signer.headers(TARGET, body, now=when)["Authorization"] == theirs


def test_signature_depends_on_body_and_target() -> None:
    signer = Signer("AKID", "secret", "eu-west-1", "127.0.0.1:8000")
    when = datetime(2026, 11, 27, tzinfo=UTC)
    a = signer.headers(TARGET, b"{}", now=when)["Authorization"]
    b = signer.headers(TARGET, b"{ }", now=when)["Authorization"]
    c = signer.headers("DynamoDB_20120810.PutItem", b"{}", now=when)["Authorization"]
    assert len({a, b, c}) == 3
