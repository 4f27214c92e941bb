"""DynamoDB's wire protocol: AWS JSON 1.0 over HTTP POST.

Every DynamoDB call is one HTTP POST to `/` (PAPER-NOTES §9, "Wire protocol"):

    X-Amz-Target: DynamoDB_20120810.GetItem
    Content-Type: application/x-amz-json-1.0
    Authorization: AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/dynamodb/aws4_request, ...
    {"TableName": "Music", "Key": {"Artist": {"S": "Arturus"}}}

and every answer is a JSON body with an `x-amzn-RequestId` header and an
`x-amz-crc32` header (the CRC32 of the body, which botocore verifies). An
error is HTTP 400 (or 500) with `{"__type": "<namespace>#<Name>", "message": ...}`.

This module is the envelope only: it checks the request in the order DynamoDB
does (method and content type, then JSON, then target, then authentication)
and frames answers. What the operations mean lives in the sibling modules.

The lab does not verify signatures (there are no real credentials), but it
reads the region from the SigV4 credential scope, because a DynamoDB table
lives in one region: `us-east-1` and `eu-west-1` may each have a table `Music`.
"""

from __future__ import annotations

import itertools
import os
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
        UnknownOperationException: `X-Amz-Target` names no operation we serve.
        MissingAuthenticationTokenException: no SigV4 `Authorization` header.
    """
    content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    if method != "POST" or path != "/" or (body and content_type not in CONTENT_TYPES):
        raise NotThisProtocol()
    params = decode_json(body) if body else None
    operation = parse_target(headers.get(b"x-amz-target", b""), operations)
    region = region_of(headers.get(b"authorization"))
    if params is None:
        raise SerializationException("The request body is empty: expected a JSON object")
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


def error_body(error: DynamoError) -> bytes:
    """The JSON body of an error answer."""
    return encode(error.body())
