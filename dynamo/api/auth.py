"""SigV4 signatures, checked: what `dynamo serve --auth strict` adds to the front door.

The paper's request routers authenticate every call before they route it (§3).
DynamoDB authenticates with AWS Signature Version 4 (AWS General Reference,
"Signing AWS API requests"): the client hashes a *canonical request* (method,
path, query, the headers it chose to sign, the body), signs a *string to sign*
built from that hash, the time and the *credential scope*
(`DAY/REGION/dynamodb/aws4_request`), with a key derived from its secret for
that day, region and service, and sends the signature in the `Authorization`
header:

    Authorization: AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/dynamodb/aws4_request,
                   SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=5d67...

The server knows the secret of every access key, so it repeats the client's
computation and compares. By default `dynamo serve` does not (as DynamoDB
Local does not: any key will do). With `--auth strict` it checks, in the
order DynamoDB checks (recorded from the service in dynalite's `index.js`),
and answers each failure with DynamoDB's error and message:

| what is wrong                                   | error                          |
|-------------------------------------------------|--------------------------------|
| no `Authorization` header, or not `AWS4-...`    | MissingAuthenticationTokenException |
| no Credential, Signature, SignedHeaders or date | IncompleteSignatureException   |
| a date that is not ISO 8601 basic format        | IncompleteSignatureException   |
| signed more than 5 minutes before (or after) now| InvalidSignatureException ("Signature expired: ...") |
| `host` not among the signed headers             | InvalidSignatureException      |
| an algorithm other than AWS4-HMAC-SHA256        | IncompleteSignatureException   |
| a credential scope without 5 parts              | IncompleteSignatureException   |
| a scope with a bad region, service, terminator or day | InvalidSignatureException |
| an access key the server does not know          | UnrecognizedClientException    |
| a signature that does not match                 | InvalidSignatureException (with the canonical request the server computed) |
| a session token that does not match the key's   | UnrecognizedClientException    |

The 5-minute window bounds how long a captured request can be replayed; within
it a replay is accepted, as by DynamoDB: SigV4 proves who signed a request and
that nothing in it changed, not that it is new.

The keys come from a file in the AWS shared-credentials format
(`~/.aws/credentials`), so the same file configures the server and its clients.
"""

from __future__ import annotations

import configparser
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from dynamo.api.protocol import IncompleteSignatureException
from dynamo.storage.errors import CORAL_SERVICE, DynamoError, MissingAuthenticationTokenException

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "dynamodb"
TERMINATOR = "aws4_request"
MAX_SKEW = timedelta(minutes=5)
MAX_SKEW_S = MAX_SKEW.total_seconds()
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"  # ISO 8601 basic format, as X-Amz-Date carries it
STAMP = re.compile(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z")
REGION_NAME = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")  # us-east-1, eu-central-2, us-gov-west-1

MISMATCH = ("The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. "
            "Consult the service documentation for details.")


class InvalidSignatureException(DynamoError):
    """The signature, its date or its credential scope is wrong."""

    namespace = CORAL_SERVICE


class UnrecognizedClientException(DynamoError):
    """The access key (or its session token) is not one the service knows."""

    namespace = CORAL_SERVICE


@dataclass(frozen=True, slots=True)
class Credentials:
    """What the server knows about one access key."""

    secret_key: str
    session_token: str | None = None


def load_credentials(path: Path) -> dict[str, Credentials]:
    """The keys of an AWS shared-credentials file, by access key id.

    Every profile (`[default]`, `[alice]`, ...) with `aws_access_key_id` and
    `aws_secret_access_key` contributes one key; `aws_session_token`, if set,
    must then come with each request (`X-Amz-Security-Token`).

    Raises:
        ValueError: the file cannot be read, or names no key.
    """
    parser = configparser.ConfigParser(interpolation=None)
    try:
        if not parser.read(path, encoding="utf-8"):
            raise ValueError(f"cannot read credentials file {path}")
    except configparser.Error as error:
        raise ValueError(f"{path} is not an AWS credentials file: {error}") from None
    keys = {}
    for name in parser.sections():
        profile = parser[name]
        if "aws_access_key_id" in profile and "aws_secret_access_key" in profile:
            keys[profile["aws_access_key_id"]] = Credentials(
                profile["aws_secret_access_key"], profile.get("aws_session_token"))
    if not keys:
        raise ValueError(f"{path} has no profile with aws_access_key_id and aws_secret_access_key")
    return keys


class SignatureVerifier:
    """Checks the SigV4 signature of DynamoDB requests against known keys.

    `clock` returns the time in seconds since the epoch; it is handed in so
    that the freshness rule can be tested without waiting five minutes.
    """

    def __init__(self, keys: Mapping[str, Credentials],
                 clock: Callable[[], float] = time.time) -> None:
        self.keys = dict(keys)
        self.clock = clock

    def verify(self, method: str, path: str, headers: Mapping[bytes, bytes], body: bytes,
               query: bytes = b"") -> None:
        """Return if the request is signed by a known key; raise DynamoDB's error if not.

        `headers` maps lower-case header names to their values, as HTTP
        servers hand them over.
        """
        header = authorization_header(headers)
        fields = authorization_fields(header, headers)
        stamp, signed_at = request_time(headers)
        self.check_fresh(stamp, signed_at)
        signed = fields["SignedHeaders"]
        if "host" not in signed.lower().split(";"):
            raise InvalidSignatureException(
                "'Host' must be a 'SignedHeader' in the AWS Authorization.")
        algorithm = header.split(None, 1)[0]
        if algorithm != ALGORITHM:
            # The trailing space is DynamoDB's.
            raise IncompleteSignatureException(
                f"Unsupported AWS 'algorithm': '{algorithm}' (only {ALGORITHM} for now). ")
        key_id, scope = credential_scope(fields["Credential"], stamp)
        credentials = self.keys.get(key_id)
        if credentials is None:
            raise UnrecognizedClientException(
                "The security token included in the request is invalid.")
        canonical = canonical_request(method, path, query, headers, signed, body)
        to_sign = string_to_sign(stamp, scope, canonical)
        key = signing_key(credentials.secret_key, *scope.split("/")[:3])
        expected = hmac.digest(key, to_sign.encode(), "sha256").hex()
        if not hmac.compare_digest(expected.encode(), fields["Signature"].encode("latin-1")):
            raise InvalidSignatureException(
                f"{MISMATCH}\n\nThe Canonical String for this request should have been\n"
                f"'{canonical}'\n\nThe String-to-Sign should have been\n'{to_sign}'\n")
        token = headers.get(b"x-amz-security-token")
        if (token.decode("latin-1") if token else None) != credentials.session_token:
            raise UnrecognizedClientException(
                "The security token included in the request is invalid")

    def check_fresh(self, stamp: str, signed_at: float) -> None:
        """Refuse a request signed (at `signed_at`, seconds since the epoch) more than five
        minutes from now, either way."""
        now_s = int(self.clock())
        if now_s - MAX_SKEW_S <= signed_at <= now_s + MAX_SKEW_S:
            return
        now = datetime.fromtimestamp(now_s, UTC)
        if signed_at < now_s:
            raise InvalidSignatureException(
                f"Signature expired: {stamp} is now earlier than {compact(now - MAX_SKEW)} "
                f"({compact(now)} - 5 min.)")
        raise InvalidSignatureException(
            f"Signature not yet current: {stamp} is still later than "
            f"{compact(now + MAX_SKEW)} ({compact(now)} + 5 min.)")


# -- reading the Authorization header ------------------------------------------------------

def authorization_header(headers: Mapping[bytes, bytes]) -> str:
    """The Authorization header, which must at least announce a SigV4 algorithm."""
    raw = headers.get(b"authorization")
    if not raw or not raw.lstrip().startswith(b"AWS4-"):
        raise MissingAuthenticationTokenException("Request is missing Authentication Token")
    return raw.decode("latin-1").strip()


def authorization_fields(header: str, headers: Mapping[bytes, bytes]) -> dict[str, str]:
    """`Credential`, `SignedHeaders` and `Signature` from the header, all required,
    and a date header beside it; everything missing is named in one message."""
    fields = {}
    for part in "".join(header.split(" ")[1:]).split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    missing = "".join(f"Authorization header requires '{name}' parameter. "
                      for name in ("Credential", "Signature", "SignedHeaders")
                      if not fields.get(name))
    if b"x-amz-date" not in headers and b"date" not in headers:
        missing += ("Authorization header requires existence of either a 'X-Amz-Date' or "
                    "a 'Date' header. ")
    if missing:
        raise IncompleteSignatureException(f"{missing}Authorization={header}")
    return fields


def request_time(headers: Mapping[bytes, bytes]) -> tuple[str, float]:
    """When the request was signed: as `YYYYMMDDTHHMMSSZ`, and in seconds since the epoch.
    From X-Amz-Date, else Date.

    botocore sends X-Amz-Date; given a Date header of its own it signs with
    that instead (RFC 1123 form), and so may any SigV4 client.
    """
    amz_date = headers.get(b"x-amz-date")
    value = (amz_date if amz_date is not None else headers[b"date"]).decode("latin-1")
    try:
        if amz_date is not None:
            return value, parse_stamp(value).timestamp()
        moment = parsedate_to_datetime(value).astimezone(UTC)
        return compact(moment), moment.timestamp()
    except (ValueError, TypeError, OverflowError):
        raise IncompleteSignatureException(
            f"Date must be in ISO-8601 'basic format'. Got '{value}'. "
            "See http://en.wikipedia.org/wiki/ISO_8601") from None


def credential_scope(credential: str, stamp: str) -> tuple[str, str]:
    """(access key id, `DAY/REGION/dynamodb/aws4_request`) from a well-formed Credential."""
    parts = credential.rstrip("/").split("/")
    if len(parts) != 5:
        raise IncompleteSignatureException(
            "Credential must have exactly 5 slash-delimited elements, "
            f"e.g. keyid/date/region/service/term, got '{credential}'")
    key_id, day, region, service, terminator = parts
    problems = []
    if not REGION_NAME.fullmatch(region):
        problems.append(f"Credential should be scoped to a valid region, not '{region}'.")
    if service != SERVICE:
        problems.append(f"Credential should be scoped to correct service: '{SERVICE}'.")
    if terminator != TERMINATOR:
        problems.append(
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', "
            f"not '{terminator}'.")
    if day != stamp[:8]:
        problems.append(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{day}' != '{stamp[:8]}', from '{stamp}'.")
    if problems:
        raise InvalidSignatureException(" ".join(problems))
    return key_id, "/".join(parts[1:])


# -- the computation the client did --------------------------------------------------------

def canonical_request(method: str, path: str, query: bytes, headers: Mapping[bytes, bytes],
                      signed_headers: str, body: bytes) -> str:
    """The canonical form of a request that SigV4 hashes.

    Each signed header appears as `name:value`, the value trimmed and its runs
    of spaces collapsed; the body enters as its SHA-256.
    """
    lines = [f"{name}:{' '.join(headers.get(name.encode(), b'').decode('latin-1').split())}"
             for name in signed_headers.lower().split(";")]
    return "\n".join([method.upper(), quote(path or "/", safe="/~"), canonical_query(query),
                      "\n".join(lines) + "\n", signed_headers,
                      hashlib.sha256(body).hexdigest()])


def canonical_query(query: bytes) -> str:
    """The query string's `name=value` pairs, sorted (as sent: already URI-encoded)."""
    if not query:
        return ""
    pairs = [pair.partition("=")[::2] for pair in query.decode("latin-1").split("&")]
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def string_to_sign(stamp: str, scope: str, canonical: str) -> str:
    """What the signature is an HMAC of."""
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{ALGORITHM}\n{stamp}\n{scope}\n{digest}"


@lru_cache(maxsize=256)
def signing_key(secret_key: str, day: str, region: str, service: str) -> bytes:
    """The key for one secret, day, region and service: four HMACs, so cached."""
    key = f"AWS4{secret_key}".encode()
    for part in (day, region, service, TERMINATOR):
        key = hmac.digest(key, part.encode(), "sha256")
    return key


def parse_stamp(text: str) -> datetime:
    """`20240101T120000Z` as a UTC datetime (a regex: strptime costs 10x more)."""
    match = STAMP.fullmatch(text)
    if match is None:
        raise ValueError(f"not an ISO 8601 basic date: {text!r}")
    return datetime(*map(int, match.groups()), tzinfo=UTC)


def compact(moment: datetime) -> str:
    """A UTC instant in X-Amz-Date's form: `20240101T120000Z`."""
    return moment.strftime(STAMP_FORMAT)
