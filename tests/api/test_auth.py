"""`dynamo serve --auth strict`: SigV4 signatures checked with DynamoDB's errors and messages.

The paper's request routers authenticate every call (§3); DynamoDB does it with
AWS Signature Version 4 (AWS General Reference, "Signing AWS API requests").
Against a real strict server: boto3, the AWS CLI and raw HTTP, with keys from an
AWS shared-credentials file; a request that fails any check is refused with
DynamoDB's error and changes nothing. The verifier itself is also checked
against botocore's signer, in-process, for the request shapes boto3 does not send.
"""

from __future__ import annotations

import datetime
import http.client
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import boto3
import botocore.auth
import pytest
from apitools import REGION, Server, create_table, make_client, start_server
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from dynamo.api.auth import Credentials, InvalidSignatureException, SignatureVerifier
from dynamo.cli.main import main
from dynamo.storage.errors import DynamoError

KEY, SECRET = "AKIDSTRICT", "strict-secret"
TEMP_KEY, TEMP_SECRET, TOKEN = "ASIATEMP", "temp-secret", "session-token-1"
CREDENTIALS_FILE = f"""\
[default]
aws_access_key_id = {KEY}
aws_secret_access_key = {SECRET}

[temporary]
aws_access_key_id = {TEMP_KEY}
aws_secret_access_key = {TEMP_SECRET}
aws_session_token = {TOKEN}
"""
MISMATCH = ("The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. "
            "Consult the service documentation for details.")
STAMP = r"(\d{8}T\d{6}Z)"


@pytest.fixture(scope="module")
def credentials_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("aws") / "credentials"
    path.write_text(CREDENTIALS_FILE, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def strict(credentials_file: Path) -> Iterator[Server]:
    """An in-memory server that checks signatures against `credentials_file`."""
    running = start_server("--in-memory", "--auth", "strict", "--credentials",
                           str(credentials_file))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def table(strict: Server) -> str:
    create_table(client_for(strict, KEY, SECRET), "signed")
    return "signed"


def client_for(server: Server, key: str, secret: str, token: str | None = None):  # type: ignore[no-untyped-def]
    return boto3.client("dynamodb", endpoint_url=server.url, region_name=REGION,
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        aws_session_token=token,
                        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))


def refusal(call) -> tuple[str, str, int]:  # type: ignore[no-untyped-def]
    """(error code, message, HTTP status) of a call that must fail."""
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response
    return error["Error"]["Code"], error["Error"]["Message"], error["ResponseMetadata"]["HTTPStatusCode"]


# -- boto3 -------------------------------------------------------------------------------------

def test_a_request_signed_with_a_known_key_is_served(strict: Server, table: str) -> None:
    client = client_for(strict, KEY, SECRET)
    client.put_item(TableName=table, Item={"pk": {"S": "known"}, "v": {"N": "1"}})
    assert client.get_item(TableName=table, Key={"pk": {"S": "known"}},
                           ConsistentRead=True)["Item"]["v"] == {"N": "1"}


def test_an_unknown_access_key_is_an_unrecognized_client(strict: Server, table: str) -> None:
    client = client_for(strict, "AKIDNOBODY", SECRET)
    assert refusal(lambda: client.list_tables()) == (
        "UnrecognizedClientException", "The security token included in the request is invalid.",
        400)


def test_a_wrong_secret_is_an_invalid_signature_and_writes_nothing(strict: Server,
                                                                   table: str) -> None:
    forger = client_for(strict, KEY, "not-the-secret")
    code, message, status = refusal(lambda: forger.put_item(
        TableName=table, Item={"pk": {"S": "forged"}}))
    assert (code, status) == ("InvalidSignatureException", 400)
    assert message.startswith(MISMATCH)
    # DynamoDB shows what it computed, so a client author can find their mistake.
    assert "The Canonical String for this request should have been\n'POST\n/\n" in message
    assert f"/{REGION}/dynamodb/aws4_request\n" in message
    assert stored(strict, table, "forged") is None


def test_a_session_token_must_match_the_keys(strict: Server, table: str) -> None:
    assert client_for(strict, TEMP_KEY, TEMP_SECRET, TOKEN).describe_table(
        TableName=table)["Table"]["TableName"] == table
    for token in ("another-token", None):
        client = client_for(strict, TEMP_KEY, TEMP_SECRET, token)
        assert refusal(lambda c=client: c.describe_table(TableName=table)) == (
            "UnrecognizedClientException",
            "The security token included in the request is invalid", 400)


# -- the AWS CLI -------------------------------------------------------------------------------

def aws_cli(server: Server, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    cli = Path(sys.executable).with_name("aws")
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith("AWS_")}
    environment.update({"AWS_DEFAULT_REGION": REGION, "AWS_CONFIG_FILE": os.devnull, **env})
    return subprocess.run([str(cli), "dynamodb", *args, "--endpoint-url", server.url],
                          capture_output=True, text=True, env=environment, timeout=60)


def test_the_aws_cli_reads_the_same_credentials_file(strict: Server, table: str,
                                                     credentials_file: Path) -> None:
    done = aws_cli(strict, "list-tables", AWS_SHARED_CREDENTIALS_FILE=str(credentials_file))
    assert done.returncode == 0, done.stderr
    assert table in json.loads(done.stdout)["TableNames"]
    refused = aws_cli(strict, "list-tables", AWS_ACCESS_KEY_ID=KEY,
                      AWS_SECRET_ACCESS_KEY="wrong", AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    assert refused.returncode != 0
    assert "(InvalidSignatureException)" in refused.stderr
    assert MISMATCH in refused.stderr


# -- raw requests: malformed Authorization headers ---------------------------------------------

def post(server: Server, headers: dict[str, str], body: bytes = b"{}") -> tuple[int, dict]:
    """A raw POST / with exactly these headers; (status, JSON answer)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("POST", "/", body=body, headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.ListTables", **headers})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def now_stamp(offset: datetime.timedelta = datetime.timedelta()) -> str:
    return (datetime.datetime.now(datetime.UTC) + offset).strftime("%Y%m%dT%H%M%SZ")


def authorization(credential: str, signed: str = "host;x-amz-date",
                  algorithm: str = "AWS4-HMAC-SHA256") -> str:
    return f"{algorithm} Credential={credential}, SignedHeaders={signed}, Signature={'0' * 64}"


def test_no_authorization_header_is_a_missing_token(strict: Server) -> None:
    assert post(strict, {"X-Amz-Date": now_stamp()}) == (400, {
        "__type": "com.amazon.coral.service#MissingAuthenticationTokenException",
        "message": "Request is missing Authentication Token"})


def test_missing_parts_of_the_header_are_all_named(strict: Server) -> None:
    header = f"AWS4-HMAC-SHA256 Credential={KEY}/20240101/{REGION}/dynamodb/aws4_request"
    assert post(strict, {"Authorization": header}) == (400, {
        "__type": "com.amazon.coral.service#IncompleteSignatureException",
        "message": "Authorization header requires 'Signature' parameter. "
                   "Authorization header requires 'SignedHeaders' parameter. "
                   "Authorization header requires existence of either a 'X-Amz-Date' or a "
                   f"'Date' header. Authorization={header}"})


def scoped(day: str | None = None, region: str = REGION, service: str = "dynamodb",
           terminator: str = "aws4_request", key: str = KEY) -> str:
    return f"{key}/{day or now_stamp()[:8]}/{region}/{service}/{terminator}"


@pytest.mark.parametrize(("headers", "error", "message"), [
    ({"X-Amz-Date": "2024", "Authorization": authorization(scoped())},
     "IncompleteSignatureException",
     "Date must be in ISO-8601 'basic format'. Got '2024'. See http://en.wikipedia.org/wiki/ISO_8601"),
    ({"Authorization": authorization(scoped(), signed="x-amz-date")},
     "InvalidSignatureException", "'Host' must be a 'SignedHeader' in the AWS Authorization."),
    ({"Authorization": authorization(scoped(), algorithm="AWS4-HMAC-SHA512")},
     "IncompleteSignatureException",
     "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now). "),
    ({"Authorization": authorization(scoped(region="nowhere", service="s3", terminator="end"))},
     "InvalidSignatureException",
     "Credential should be scoped to a valid region, not 'nowhere'. "
     "Credential should be scoped to correct service: 'dynamodb'. "
     "Credential should be scoped with a valid terminator: 'aws4_request', not 'end'."),
    ({"Authorization": authorization(scoped(day="20200101"))},
     "InvalidSignatureException",
     "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
     "HTTP: '20200101' != '{day}', from '{stamp}'."),
    ({"Authorization": authorization(scoped(key="AKIDNOBODY"))},
     "UnrecognizedClientException", "The security token included in the request is invalid."),
], ids=["bad-date", "host-unsigned", "algorithm", "scope", "scope-day", "unknown-key"])
def test_a_malformed_authorization_gets_dynamodbs_error(strict: Server, headers: dict[str, str],
                                                       error: str, message: str) -> None:
    stamp = headers.get("X-Amz-Date") or now_stamp()
    status, answer = post(strict, {"X-Amz-Date": stamp, **headers})
    assert status == 400
    assert answer == {"__type": f"com.amazon.coral.service#{error}",
                      "message": message.format(day=stamp[:8], stamp=stamp)}


# -- raw requests: replays ---------------------------------------------------------------------

def signed_request(server: Server, body: bytes, at: datetime.datetime | None = None,
                   ) -> dict[str, str]:
    """The headers botocore sends for `body` (a PutItem), signed as of `at` (default: now).

    Signing as of a past instant gives the very bytes a request recorded then
    would have: that is what replaying a stale request means.
    """
    request = AWSRequest(method="POST", url=server.url + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.PutItem"})
    signer = botocore.auth.SigV4Auth(BotoCredentials(KEY, SECRET), "dynamodb", REGION)
    if at is None:
        signer.add_auth(request)
    else:
        with mock.patch.object(botocore.auth, "get_current_datetime", return_value=at):
            signer.add_auth(request)
    return dict(request.headers)


def put_body(table: str, key: str, value: str) -> bytes:
    return json.dumps({"TableName": table,
                       "Item": {"pk": {"S": key}, "v": {"S": value}}}).encode()


def stored(server: Server, table: str, key: str) -> dict | None:
    return client_for(server, KEY, SECRET).get_item(
        TableName=table, Key={"pk": {"S": key}}, ConsistentRead=True).get("Item")


def send(server: Server, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("POST", "/", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_a_replay_within_five_minutes_is_accepted_but_not_a_tampered_one(
        strict: Server, table: str) -> None:
    body = put_body(table, "replayed", "first")
    headers = signed_request(strict, body)
    assert send(strict, headers, body) == (200, {})
    # SigV4 proves who signed and that nothing changed, not that the request is
    # new: a replay inside the window is served, as by DynamoDB.
    assert send(strict, headers, body) == (200, {})
    tampered = put_body(table, "replayed", "other")
    status, answer = send(strict, headers, tampered)
    assert (status, answer["__type"]) == (400, "com.amazon.coral.service#InvalidSignatureException")
    assert stored(strict, table, "replayed") == {"pk": {"S": "replayed"}, "v": {"S": "first"}}


def test_a_replayed_stale_request_is_expired_and_writes_nothing(strict: Server, table: str) -> None:
    six_minutes_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=6)
    body = put_body(table, "stale", "x")
    headers = signed_request(strict, body, at=six_minutes_ago)
    status, answer = send(strict, headers, body)
    assert (status, answer["__type"]) == (400, "com.amazon.coral.service#InvalidSignatureException")
    match = re.fullmatch(f"Signature expired: {STAMP} is now earlier than {STAMP} "
                         rf"\({STAMP} - 5 min\.\)", answer["message"])
    assert match, answer["message"]
    signed_at, limit, now = (datetime.datetime.strptime(s, "%Y%m%dT%H%M%SZ") for s in match.groups())
    assert match[1] == headers["X-Amz-Date"]
    assert now - limit == datetime.timedelta(minutes=5)
    assert abs((now - signed_at) - datetime.timedelta(minutes=6)) < datetime.timedelta(seconds=30)
    assert stored(strict, table, "stale") is None


def test_a_request_from_a_fast_clock_is_not_yet_current(strict: Server, table: str) -> None:
    body = put_body(table, "future", "x")
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=6)
    status, answer = send(strict, signed_request(strict, body, at=later), body)
    assert status == 400
    assert re.fullmatch(f"Signature not yet current: {STAMP} is still later than {STAMP} "
                        rf"\({STAMP} \+ 5 min\.\)", answer["message"]), answer["message"]


def test_a_four_minute_old_request_is_still_served(strict: Server, table: str) -> None:
    body = put_body(table, "recent", "x")
    four_minutes_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=4)
    assert send(strict, signed_request(strict, body, at=four_minutes_ago), body) == (200, {})


# -- default mode and the command line ---------------------------------------------------------

def test_by_default_any_signature_is_accepted(server: Server) -> None:
    client = make_client(server.url)  # a key in no credentials file
    assert "TableNames" in client.list_tables()
    body = b"{}"
    headers = {"Content-Type": "application/x-amz-json-1.0",
               "X-Amz-Target": "DynamoDB_20120810.ListTables",
               "Authorization": authorization(scoped(key="ANYONE"))}
    assert send(server, headers, body)[0] == 200


def test_strict_needs_a_readable_credentials_file_with_a_key(tmp_path: Path) -> None:
    no_keys = tmp_path / "credentials"
    no_keys.write_text("[default]\nregion = us-east-1\n", encoding="utf-8")
    assert main(["serve", "--in-memory", "--auth", "strict"]) == 2
    assert main(["serve", "--in-memory", "--credentials", str(no_keys)]) == 2
    assert main(["serve", "--in-memory", "--auth", "strict", "--credentials",
                 str(tmp_path / "missing")]) == 2
    assert main(["serve", "--in-memory", "--auth", "strict", "--credentials", str(no_keys)]) == 2


# -- the verifier against botocore, in-process -------------------------------------------------

def botocore_signed(url: str, body: bytes, headers: dict[str, str], region: str = REGION,
                    ) -> tuple[dict[bytes, bytes], str]:
    """(headers as a server receives them, query) of a request botocore signed."""
    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    botocore.auth.SigV4Auth(BotoCredentials(KEY, SECRET), "dynamodb", region).add_auth(request)
    prepared = request.prepare()
    received = {name.lower().encode(): value.encode() for name, value in prepared.headers.items()}
    received[b"host"] = url.split("//", 1)[1].split("/", 1)[0].encode()
    return received, url.partition("?")[2]


@pytest.mark.parametrize(("url", "extra", "region"), [
    ("http://127.0.0.1:8000/", {}, REGION),
    ("http://localhost/", {"X-Custom": "  spaced    out  value "}, "eu-west-1"),
    ("http://127.0.0.1:8000/?b=2&a=1&a=0", {}, "ap-southeast-2"),
    ("http://127.0.0.1:8000/", {"Date": "Mon, 01 Jan 2024 00:00:00 GMT"}, REGION),
], ids=["plain", "header-spaces", "query", "date-header"])
def test_the_verifier_accepts_what_botocore_signs_and_nothing_else(url: str, extra: dict[str, str],
                                                                  region: str) -> None:
    body = b'{"TableName": "t"}'
    headers, query = botocore_signed(url, body, {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.DescribeTable", **extra}, region)
    verifier = SignatureVerifier({KEY: Credentials(SECRET)})
    verifier.verify("POST", "/", headers, body, query.encode())
    with pytest.raises(InvalidSignatureException):
        verifier.verify("POST", "/", headers, body + b" ", query.encode())
    with pytest.raises(InvalidSignatureException):
        verifier.verify("POST", "/", {**headers, b"x-amz-target": b"DynamoDB_20120810.DeleteTable"},
                        body, query.encode())


def test_the_five_minute_window_is_measured_on_the_servers_clock() -> None:
    body = b"{}"
    headers, _ = botocore_signed("http://127.0.0.1:8000/", body, {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.ListTables"})
    signed_at = datetime.datetime.strptime(headers[b"x-amz-date"].decode(), "%Y%m%dT%H%M%SZ")
    signed_epoch = signed_at.replace(tzinfo=datetime.UTC).timestamp()
    keys = {KEY: Credentials(SECRET)}
    for offset in (-300, 0, 300):
        SignatureVerifier(keys, clock=lambda o=offset: signed_epoch + o).verify(
            "POST", "/", headers, body)
    for offset in (-301, 301):
        with pytest.raises(InvalidSignatureException, match="Signature (expired|not yet current)"):
            SignatureVerifier(keys, clock=lambda o=offset: signed_epoch + o).verify(
                "POST", "/", headers, body)
    assert time.time() - signed_epoch < 60


header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=80)


@settings(max_examples=300, deadline=None)
@given(authorization=st.one_of(header_text, header_text.map(lambda s: "AWS4-HMAC-SHA256 " + s),
                               st.builds(lambda c, s, h: f"AWS4-HMAC-SHA256 Credential={c}, "
                                         f"SignedHeaders={h}, Signature={s}",
                                         header_text, header_text, header_text),
                               header_text.map(lambda s: authorization(scoped()).replace(
                                   "0" * 64, s))),
       date=st.one_of(st.none(), header_text, st.just(now_stamp())),
       use_date_header=st.booleans())
def test_any_authorization_header_gets_a_dynamodb_error_never_a_crash(
        authorization: str, date: str | None, use_date_header: bool) -> None:
    headers = {b"authorization": authorization.encode("latin-1"), b"host": b"127.0.0.1:8000"}
    if date is not None:
        headers[b"date" if use_date_header else b"x-amz-date"] = date.encode("latin-1")
    verifier = SignatureVerifier({KEY: Credentials(SECRET)})
    with pytest.raises(DynamoError) as caught:
        verifier.verify("POST", "/", headers, b"{}")
    assert caught.value.status == 400
    assert caught.value.type_name() in {
        "MissingAuthenticationTokenException", "IncompleteSignatureException",
        "InvalidSignatureException", "UnrecognizedClientException"}


def test_the_admin_endpoint_answers_loopback_whatever_auth_says(strict: Server) -> None:
    """The admin endpoint is not DynamoDB's API: loopback is its only gate, with or without
    --auth strict, so an unsigned GET /admin/state from 127.0.0.1 is answered."""
    connection = http.client.HTTPConnection("127.0.0.1", strict.port, timeout=10)
    try:
        connection.request("GET", "/admin/state")
        response = connection.getresponse()
        status, body = response.status, response.read()
    finally:
        connection.close()
    assert status == 200, body
    assert isinstance(json.loads(body), dict)
