"""What a DynamoDB endpoint says about its tables: ListTables, then DescribeTable for each.

The server view of the dashboard shows a running `dynamo serve` (or any
endpoint that speaks DynamoDB's protocol) only through the public API, as a
client would see it: table names from ListTables (following its pages), and
for each table its status, key schema, item count, size and billing mode from
DescribeTable. Whatever the API does not return, such as request rates
(CloudWatch's business in AWS, not the DynamoDB API's), the dashboard does
not show rather than guess.

Requests are signed (SigV4) by a signer the caller hands in, so this module
needs no credentials of its own; `dynamo dashboard` hands it the one
`dynamo bench` uses.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

TARGET = "DynamoDB_20120810."
TIMEOUT_S = 5.0


class RequestSigner(Protocol):
    """Signs one POST / request: returns its headers (Content-Type, X-Amz-*, Authorization)."""

    def headers(self, target: str, body: bytes) -> dict[str, str]: ...


class PollError(Exception):
    """The endpoint could not be reached, or refused a request."""


@dataclass(frozen=True)
class TableInfo:
    """One table as DescribeTable describes it."""

    name: str
    status: str
    keys: str  # "pk (HASH), sk (RANGE)"
    items: int
    size_bytes: int
    billing: str  # "PAY_PER_REQUEST", or "PROVISIONED (R 5, W 5)"


class TablePoller:
    """Asks an endpoint for every table's description."""

    def __init__(self, endpoint: str, signer: RequestSigner,
                 session: aiohttp.ClientSession) -> None:
        self.url = endpoint.rstrip("/") + "/"
        self.signer = signer
        self.session = session

    async def tables(self) -> list[TableInfo]:
        """Every table the endpoint lists, described, in name order.

        A table deleted between the listing and its description is left out.
        """
        names = await self.table_names()
        described = await asyncio.gather(*(self.describe(name) for name in names))
        return [table for table in described if table is not None]

    async def table_names(self) -> list[str]:
        names: list[str] = []
        request: dict[str, Any] = {}
        while True:
            page = await self.call("ListTables", request)
            names += page.get("TableNames", [])
            last = page.get("LastEvaluatedTableName")
            if last is None:
                return names
            request = {"ExclusiveStartTableName": last}

    async def describe(self, name: str) -> TableInfo | None:
        try:
            table = (await self.call("DescribeTable", {"TableName": name}))["Table"]
        except PollError as error:
            if "ResourceNotFoundException" in str(error):
                return None
            raise
        return table_info(table)

    async def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """One signed request; its JSON answer, or PollError with DynamoDB's error."""
        body = json.dumps(request).encode()
        headers = self.signer.headers(TARGET + operation, body)
        try:
            async with self.session.post(self.url, data=body, headers=headers,
                                         timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as reply:
                status, payload = reply.status, await reply.read()
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise PollError(f"cannot reach {self.url}: {error or type(error).__name__}") from None
        try:
            answer = json.loads(payload) if payload else {}
        except ValueError:
            raise PollError(f"{operation}: HTTP {status}, not a DynamoDB answer") from None
        if status != 200:
            kind = str(answer.get("__type", "")).rsplit("#", 1)[-1] or f"HTTP {status}"
            message = answer.get("message") or answer.get("Message") or ""
            raise PollError(f"{operation}: {kind}: {message}".rstrip(": "))
        return answer


def table_info(table: dict[str, Any]) -> TableInfo:
    """The fields the dashboard shows, from a TableDescription."""
    keys = ", ".join(f"{k['AttributeName']} ({k['KeyType']})" for k in table.get("KeySchema", []))
    billing = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    if billing == "PROVISIONED":
        throughput = table.get("ProvisionedThroughput", {})
        billing += (f" (R {throughput.get('ReadCapacityUnits', '?')}, "
                    f"W {throughput.get('WriteCapacityUnits', '?')})")
    return TableInfo(table["TableName"], table.get("TableStatus", "?"), keys,
                     int(table.get("ItemCount", 0)), int(table.get("TableSizeBytes", 0)), billing)


def human_bytes(size: int) -> str:
    """1234567 -> '1.2 MB' (decimal units, as the AWS console shows table sizes)."""
    value, unit = float(size), "bytes"
    for bigger in ("kB", "MB", "GB"):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
