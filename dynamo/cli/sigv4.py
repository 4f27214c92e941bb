"""AWS Signature Version 4 for DynamoDB requests, fast enough for a load generator.

Every DynamoDB request is signed (SigV4, service `dynamodb`). botocore signs
correctly but spends ~75 µs a request on generality; a benchmark client that
shares two cores with the server cannot afford that. This signer does the
same computation for the one request shape the bench sends (POST / with a
JSON body), derives the day's signing key once, and keeps that key's HMAC
pads already hashed, so signing a request costs three SHA-256 passes over
short strings (RFC 2104: HMAC(k, m) = H(k^opad || H(k^ipad || m))). `tests/cli/test_sigv4.py` checks it produces
botocore's signature byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

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
        self._pads = (hashlib.sha256(), hashlib.sha256())

    def headers(self, target: str, body: bytes, now: datetime | None = None) -> dict[str, str]:
        """The headers of a signed request: Content-Type, X-Amz-Target, X-Amz-Date, Authorization."""
        stamp = amz_date(now or datetime.now(UTC))
        return {
            "Content-Type": CONTENT_TYPE,
            "X-Amz-Target": target,
            "X-Amz-Date": stamp,
            "Authorization": self.authorization(target, hashlib.sha256(body).hexdigest(), stamp),
        }

    def authorization(self, target: str, body_sha256: str, stamp: str) -> str:
        """The Authorization header for a body whose SHA-256 hex digest is `body_sha256`,
        signed at `stamp` (X-Amz-Date, `YYYYMMDDTHHMMSSZ`)."""
        day = stamp[:8]
        scope = f"{day}/{self.region}/dynamodb/aws4_request"
        canonical = (f"POST\n/\n\ncontent-type:{CONTENT_TYPE}\nhost:{self.host}\n"
                     f"x-amz-date:{stamp}\nx-amz-target:{target}\n\n"
                     f"{SIGNED_HEADERS}\n{body_sha256}")
        to_sign = (f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n"
                   f"{hashlib.sha256(canonical.encode()).hexdigest()}")
        inner, outer = (pad.copy() for pad in self._signing_pads(day))
        inner.update(to_sign.encode())
        outer.update(inner.digest())
        signature = outer.hexdigest()  # HMAC-SHA256(signing key, string to sign)
        return (f"AWS4-HMAC-SHA256 Credential={self.access_key}/{scope}, "
                f"SignedHeaders={SIGNED_HEADERS}, Signature={signature}")

    def _signing_pads(self, day: str) -> tuple[Any, Any]:
        """SHA-256 already fed with the day's signing key XOR ipad, and XOR opad."""
        if day != self._day:
            key = ("AWS4" + self.secret_key).encode()
            for part in (day, self.region, "dynamodb", "aws4_request"):
                key = hmac.digest(key, part.encode(), "sha256")
            block = key.ljust(64, b"\0")  # SHA-256's block is 64 bytes; the key is 32
            self._pads = (hashlib.sha256(bytes(b ^ 0x36 for b in block)),
                          hashlib.sha256(bytes(b ^ 0x5C for b in block)))
            self._day = day
        return self._pads


def amz_date(now: datetime) -> str:
    """X-Amz-Date's form of an instant: `20240101T120000Z`."""
    return now.strftime("%Y%m%dT%H%M%SZ")
