"""DynamoDB's wire protocol: AWS JSON 1.0 over HTTP POST.

Every DynamoDB call is one HTTP POST to `/` (Developer Guide, "DynamoDB low-level API"):

    X-Amz-Target: DynamoDB_20120810.GetItem
    Content-Type: application/x-amz-json-1.0
    Authorization: AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/dynamodb/aws4_request, ...
    {"TableName": "Music", "Key": {"Artist": {"S": "Arturus"}}}

and every answer is a JSON body with an `x-amzn-RequestId` header and an
`x-amz-crc32` header (the CRC32 of the body, which botocore verifies). An
error is HTTP 400 (or 500) with `{"__type": "<namespace>#<Name>", "message": ...}`.

This module is the envelope only: it checks the request in the order DynamoDB
does (method and content type, then JSON, then authentication, then target)
and frames answers. What the operations mean lives in the sibling modules.

Two answers need no operation at all: `GET /` is DynamoDB's health check
(`200 healthy: <host>`, what load balancers poll), and a browser's CORS
preflight (`OPTIONS` with an `Origin`) is allowed, as DynamoDB allows it, so
that browser apps and NoSQL Workbench-style tools can call the lab; every
answer to a request with an `Origin` carries `Access-Control-Allow-Origin: *`.

Signatures are checked only under `dynamo serve --auth strict` (`auth.py`); the region
is always read from the SigV4 credential scope, because a DynamoDB table
lives in one region: `us-east-1` and `eu-west-1` may each have a table `Music`.
"""

from __future__ import annotations

import itertools
import os
import re
import zlib
from dataclasses import dataclass
from typing import Any

import orjson

from dynamo.storage.errors import (
    CORAL_SERVICE,
    DynamoError,
    MissingAuthenticationTokenException,
    SerializationException,
    UnknownOperationException,
)

API_VERSION = "DynamoDB_20120810"
CONTENT_TYPES = (b"application/x-amz-json-1.0", b"application/json")
MAX_REQUEST_BYTES = 16 * 1024 * 1024

# What DynamoDB answers when the method or content type is not its protocol:
# a 404 with a bare XML element, before it even looks at the JSON.
NOT_THIS_PROTOCOL = b"<UnknownOperationException/>\n"


class IncompleteSignatureException(DynamoError):
    """The Authorization header is present but is not a well-formed SigV4 header."""

    namespace = CORAL_SERVICE


@dataclass(frozen=True, slots=True)
class Request:
    """One parsed DynamoDB call: which operation, in which region, with what input."""

    operation: str
    region: str
    params: dict[str, Any]


class NotThisProtocol(Exception):
    """The HTTP request is not a DynamoDB call at all (wrong method, path or type)."""


def parse_request(method: str, path: str, headers: dict[bytes, bytes], body: bytes,
                  operations: frozenset[str]) -> Request:
    """Check the envelope of a call, in DynamoDB's order, and decode its JSON.

    Raises:
        NotThisProtocol: not a POST to `/`, or a body with a foreign content type.
        SerializationException: the body is not a JSON object.
        MissingAuthenticationTokenException: no SigV4 `Authorization` header
            (checked before the operation is looked at, as DynamoDB does today).
        UnknownOperationException: `X-Amz-Target` names no operation we serve.
    """
    content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    if method != "POST" or path != "/" or (body and content_type not in CONTENT_TYPES):
        raise NotThisProtocol()
    params = decode_json(body) if body else None
    region = region_of(headers.get(b"authorization"))
    operation = parse_target(headers.get(b"x-amz-target", b""), operations)
    if params is None:
        raise SerializationException("The request body is empty: expected a JSON object")
    if operation != "CreateTable":  # a new table has a name, not yet an ARN
        resolve_table_arns(region, params)
    return Request(operation, region, params)


def decode_json(body: bytes) -> dict[str, Any]:
    """Decode a request body that must be one JSON object."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise SerializationException(f"Malformed JSON in request body: {error}") from None
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        raise SerializationException("Start of list found where not expected")
    raise SerializationException("Expected a JSON object as the request body")


def parse_target(target: bytes, operations: frozenset[str]) -> str:
    """`DynamoDB_20120810.PutItem` -> `PutItem`, for the operations we serve."""
    version, _, operation = target.decode("latin-1").partition(".")
    if version != API_VERSION or operation not in operations:
        raise UnknownOperationException(
            f"Unknown operation: {target.decode('latin-1') or '(no X-Amz-Target header)'}")
    return operation


def region_of(authorization: bytes | None) -> str:
    """The region named in a SigV4 credential scope.

    `Credential=AKID/20240101/us-east-1/dynamodb/aws4_request` -> `us-east-1`.
    """
    if not authorization or not authorization.lstrip().startswith(b"AWS4-"):
        raise MissingAuthenticationTokenException("Request is missing Authentication Token")
    header = authorization.decode("latin-1")
    start = header.find("Credential=")
    if start < 0:
        raise IncompleteSignatureException(
            f"Authorization header requires 'Credential' parameter. Authorization={header}")
    credential = header[start + len("Credential="):].split(",", 1)[0].strip()
    scope = credential.split("/")
    if len(scope) != 5 or not scope[2]:
        raise IncompleteSignatureException(
            "Credential must have exactly 5 slash-delimited elements, "
            f"e.g. keyid/date/region/service/term, got '{credential}'")
    return scope[2]


# A table's ARN, as DescribeTable gives it: arn:aws:dynamodb:<region>:<account>:table/<name>.
TABLE_ARN = re.compile(
    r"arn:aws(?:-[a-z]+)*:dynamodb:(?P<region>[a-z0-9-]+):\d{12}:table/(?P<name>[a-zA-Z0-9_.-]+)")


def resolve_table_arns(region: str, params: dict[str, Any]) -> None:
    """Table ARNs where a table name goes (TableName, RequestItems keys) become the names.

    DynamoDB accepts "the Amazon Resource Name (ARN) of the table" in place of
    its name (API Reference, e.g. GetItem's TableName). The lab has one
    account, so the ARN's account is not compared; its region must be the
    request's (the credential scope's). An ARN of another region, of an
    index or stream, or malformed, is left as it is, and the name check
    refuses it ("Member must satisfy regular expression pattern").
    """
    name = params.get("TableName")
    if isinstance(name, str) and name.startswith("arn:"):
        params["TableName"] = table_of(name, region)
    items = params.get("RequestItems")
    if isinstance(items, dict) and any(isinstance(k, str) and k.startswith("arn:")
                                       for k in items):
        resolved = {table_of(key, region): value for key, value in items.items()}
        if len(resolved) == len(items):  # an ARN and the name of one table: refused as given
            params["RequestItems"] = resolved


def table_of(name_or_arn: str, region: str) -> str:
    """The table name an ARN of this region names, or the value unchanged."""
    match = TABLE_ARN.fullmatch(name_or_arn)
    if match is None or match["region"] != region:
        return name_or_arn
    return match["name"]


# -- answers ---------------------------------------------------------------------------------

_ids = itertools.count()
_id_prefix = os.urandom(12).hex().upper()


def request_id() -> str:
    """A request id unique to this server process (DynamoDB's are 52 characters)."""
    return f"{_id_prefix}{next(_ids):028d}"


def encode(payload: dict[str, Any]) -> bytes:
    """A response body as compact JSON."""
    return orjson.dumps(payload)


def response_headers(body: bytes, content_type: bytes = CONTENT_TYPES[0]) -> list[tuple[bytes, bytes]]:
    """The headers every answer carries, including the CRC32 botocore checks."""
    return [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"x-amzn-requestid", request_id().encode()),
        (b"x-amz-crc32", str(zlib.crc32(body)).encode()),
    ]


# -- answers that need no operation -----------------------------------------------------------

# What DynamoDB answers a GET when no Host header says otherwise.
DEFAULT_HOST = b"dynamodb.us-east-1.amazonaws.com"
PREFLIGHT_MAX_AGE = b"172800"  # seconds a browser may cache a preflight: two days
# Answer headers a browser's script may read: the request id and error details,
# and the checksum SDKs verify.
EXPOSED_HEADERS = b"x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,x-amz-crc32,Date"


def plain_http_answer(method: str, path: str, headers: dict[bytes, bytes]
                      ) -> tuple[int, bytes, list[tuple[bytes, bytes]]] | None:
    """The health check (`GET /`) or a CORS preflight; None for anything else."""
    if method == "GET" and path == "/":
        return health_answer(headers)
    if method == "OPTIONS" and b"origin" in headers:
        return preflight_answer(headers)
    return None


def health_answer(headers: dict[bytes, bytes]) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """`200 healthy: <host> `, DynamoDB's answer to `GET /` (note its trailing space)."""
    body = b"healthy: " + headers.get(b"host", DEFAULT_HOST) + b" "
    answer = response_headers(body, b"text/plain")
    if b"origin" in headers:
        answer += cors_headers()
    return 200, body, answer


def preflight_answer(headers: dict[bytes, bytes]
                     ) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """A CORS preflight allowed: the requested method and headers, echoed back."""
    answer = [(b"content-length", b"0"), (b"x-amzn-requestid", request_id().encode()),
              *cors_headers(), (b"access-control-max-age", PREFLIGHT_MAX_AGE)]
    for asked, allowed in ((b"access-control-request-headers", b"access-control-allow-headers"),
                           (b"access-control-request-method", b"access-control-allow-methods")):
        if asked in headers:
            answer.append((allowed, headers[asked]))
    return 200, b"", answer


def cors_headers() -> list[tuple[bytes, bytes]]:
    """What every answer to a browser (a request with an `Origin`) carries."""
    return [(b"access-control-allow-origin", b"*"),
            (b"access-control-expose-headers", EXPOSED_HEADERS)]


def error_body(error: DynamoError) -> bytes:
    """The JSON body of an error answer."""
    return encode(error.body())
