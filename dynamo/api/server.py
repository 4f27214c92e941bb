"""The front door: a raw ASGI application speaking DynamoDB's protocol.

The paper's request routers (§3) authenticate a call, find the table's
metadata and forward the call to the right storage node. Ours does the part
a client can see: it reads the HTTP request, checks its envelope
(`protocol`), checks its shape (`shapes`), runs the operation against the
node and writes the answer. No web framework sits in between: this is the
hot path of every benchmark, so per request there is one JSON decode, one
shape walk, the operation, one JSON encode.

Every failure has DynamoDB's form. A client mistake is a 4xx with a DynamoDB
error; anything unexpected is logged with its traceback and answered as
`InternalServerError` (500), and the server goes on serving.

    uvicorn.run(DynamoApp(SingleNode(None)), http="httptools", lifespan="off")
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from dynamo.api import batches, items, reads, tables
from dynamo.api.protocol import (
    MAX_REQUEST_BYTES,
    NOT_THIS_PROTOCOL,
    NotThisProtocol,
    encode,
    error_body,
    parse_request,
    response_headers,
)
from dynamo.api.shapes import Structure, require_table_name, validate
from dynamo.cluster.node import SingleNode
from dynamo.storage.errors import DynamoError, InternalServerError

log = logging.getLogger("dynamo.api")

Handler = Callable[[SingleNode, str, dict[str, Any]], Awaitable[dict[str, Any]]]
OPERATIONS: dict[str, tuple[Structure, Handler]] = {
    **tables.OPERATIONS, **items.OPERATIONS, **reads.OPERATIONS, **batches.OPERATIONS,
}

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class RequestTooLarge(Exception):
    """The body passed DynamoDB's 16 MB request limit."""


class DynamoApp:
    """The ASGI application: one DynamoDB endpoint in front of one node."""

    def __init__(self, node: SingleNode) -> None:
        self.node = node
        self.operation_names = frozenset(OPERATIONS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        try:
            body = await read_body(receive)
        except RequestTooLarge:
            await respond(send, 413, b"", [(b"content-length", b"0")])
            return
        status, payload, headers = await self.answer(
            scope["method"], scope["path"], dict(scope["headers"]), body)
        await respond(send, status, payload, headers)

    async def answer(self, method: str, path: str, headers: dict[bytes, bytes],
                     body: bytes) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        """(status, body, headers) for one HTTP request."""
        try:
            request = parse_request(method, path, headers, body, self.operation_names)
            shape, handler = OPERATIONS[request.operation]
            require_table_name(shape, request.params)
            validate(shape, request.params)
            payload = encode(await handler(self.node, request.region, request.params))
            return 200, payload, response_headers(payload)
        except NotThisProtocol:
            return 404, NOT_THIS_PROTOCOL, response_headers(NOT_THIS_PROTOCOL, b"text/xml")
        except DynamoError as error:
            payload = error_body(error)
            return error.status, payload, response_headers(payload)
        except Exception:
            log.exception("internal error answering %s", headers.get(b"x-amz-target", b"?"))
            payload = error_body(InternalServerError("Internal server error"))
            return 500, payload, response_headers(payload)


async def read_body(receive: Receive) -> bytes:
    """The whole request body, refusing more than 16 MB."""
    message = await receive()
    body = message.get("body", b"")
    chunks, size = [body], len(body)
    while message.get("more_body"):
        message = await receive()
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
    if size > MAX_REQUEST_BYTES:
        raise RequestTooLarge()
    return body if len(chunks) == 1 else b"".join(chunks)


async def respond(send: Send, status: int, body: bytes,
                  headers: list[tuple[bytes, bytes]]) -> None:
    """Send one complete HTTP response."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def serve(node: SingleNode, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the node on host:port until interrupted (uvicorn, httptools, no lifespan)."""
    import uvicorn

    config = uvicorn.Config(
        DynamoApp(node), host=host, port=port, http="httptools", lifespan="off",
        access_log=False, log_level="warning", server_header=False, date_header=False,
    )
    await uvicorn.Server(config).serve()
