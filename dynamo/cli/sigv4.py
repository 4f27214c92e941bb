"""AWS Signature Version 4 for DynamoDB requests, fast enough for a load generator.

Every DynamoDB request is signed (SigV4, service `dynamodb`). botocore signs
correctly but spends ~75 µs a request on generality; a benchmark client that
shares two cores with the server cannot afford that. This signer does the
same computation for the one request shape the bench sends (POST / with a
JSON body) and caches the day's signing key. `tests/cli/test_sigv4.py` checks
it produces botocore's signature byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

SIGNED_HEADERS = "content-type;host;x-amz-date;x-amz-target"
CONTENT_TYPE = "application/x-amz-json-1.0"


class Signer:
    """Signs POST / requests for one key, region and host."""

    def __init__(self, access_key: str, secret_key: str, region: str, host: str) -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region
        self.host = host
        self._day = ""
        self._key = b""

    def headers(self, target: str, body: bytes, now: datetime | None = None) -> dict[str, str]:
        """The headers of a signed request: Content-Type, X-Amz-Target, X-Amz-Date, Authorization."""
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        day = stamp[:8]
        scope = f"{day}/{self.region}/dynamodb/aws4_request"
        canonical = "\n".join([
            "POST", "/", "",
            f"content-type:{CONTENT_TYPE}", f"host:{self.host}",
            f"x-amz-date:{stamp}", f"x-amz-target:{target}", "",
            SIGNED_HEADERS, hashlib.sha256(body).hexdigest(),
        ])
        to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        signature = hmac.new(self._signing_key(day), to_sign.encode(), hashlib.sha256).hexdigest()
        return {
            "Content-Type": CONTENT_TYPE,
            "X-Amz-Target": target,
            "X-Amz-Date": stamp,
            "Authorization": (f"AWS4-HMAC-SHA256 Credential={self.access_key}/{scope}, "
                              f"SignedHeaders={SIGNED_HEADERS}, Signature={signature}"),
        }

    def _signing_key(self, day: str) -> bytes:
        if day != self._day:
            key = ("AWS4" + self.secret_key).encode()
            for part in (day, self.region, "dynamodb", "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._day, self._key = day, key
        return self._key
