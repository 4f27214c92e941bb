"""The front door: the application speaking DynamoDB's protocol, and its server.

The paper's request routers (§3) authenticate a call, find the table's
metadata and forward the call to the right storage node. Ours does the part
a client can see: it reads the HTTP request, checks its envelope
(`protocol`), checks its shape (`shapes`), runs the operation against the
node and writes the answer. No web framework sits in between: this is the
hot path of every benchmark, so per request there is one JSON decode, one
shape walk, the operation, one JSON encode. `serve` puts `DynamoApp.answer`
behind a bare HTTP/1.1 protocol (`dynamo.api.http`); `DynamoApp` is also an
ASGI application, for any ASGI server:

    uvicorn.run(DynamoApp(SingleNode(None)), http="httptools", lifespan="off")

Every failure has DynamoDB's form. A client mistake is a 4xx with a DynamoDB
error; anything unexpected is logged with its traceback and answered as
`InternalServerError` (500), and the server goes on serving.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from dynamo.api import admin, batches, http, items, reads, tables, transactions, ttl
from dynamo.api.auth import SignatureVerifier
from dynamo.api.http import PEER
from dynamo.api.protocol import (
    MAX_REQUEST_BYTES,
    NOT_THIS_PROTOCOL,
    NotThisProtocol,
    cors_headers,
    encode,
    error_body,
    parse_request,
    plain_http_answer,
    response_headers,
)
from dynamo.api.shapes import Structure, require_table_name, validate
from dynamo.cluster import Database
from dynamo.storage.errors import DynamoError, InternalServerError

log = logging.getLogger("dynamo.api")

Handler = Callable[[Database, str, dict[str, Any]], Awaitable[dict[str, Any]]]
OPERATIONS: dict[str, tuple[Structure, Handler]] = {
    **tables.OPERATIONS, **items.OPERATIONS, **reads.OPERATIONS, **batches.OPERATIONS,
    **ttl.OPERATIONS, **transactions.OPERATIONS,
}

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class RequestTooLarge(Exception):
    """The body passed DynamoDB's 16 MB request limit."""


class DynamoApp:
    """The ASGI application: one DynamoDB endpoint in front of one node."""

    def __init__(self, node: Database, verifier: SignatureVerifier | None = None, *,
                 allow_faults: bool = False) -> None:
        self.node = node
        self.verifier = verifier  # None: any signature will do, as in DynamoDB Local
        self.allow_faults = allow_faults  # POST /admin/fault (dynamo serve --allow-faults)
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
        if admin.is_admin(path):
            return self.answer_admin(method, path, headers, body)
        if method != "POST":  # GET / health check, CORS preflight (protocol.py)
            plain = plain_http_answer(method, path, headers)
            if plain is not None:
                return plain
        status, payload, answer_headers = await self.answer_call(method, path, headers, body)
        if b"origin" in headers:  # a browser's call (protocol.cors_headers)
            answer_headers += cors_headers()
        return status, payload, answer_headers

    async def answer_call(self, method: str, path: str, headers: dict[bytes, bytes],
                          body: bytes) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        """(status, body, headers) for one DynamoDB call."""
        try:
            request = parse_request(method, path, headers, body, self.operation_names)
            if self.verifier is not None:  # dynamo serve --auth strict
                self.verifier.verify(method, path, headers, body)
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


    def answer_admin(self, method: str, path: str, headers: dict[bytes, bytes],
                     body: bytes) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        """The admin endpoint for loopback clients; DynamoDB's 404 for anyone else."""
        if admin.is_loopback(headers.get(PEER)):
            reply = admin.answer(self.node, method, path, body, self.allow_faults)
            if reply is not None:
                return reply
        return 404, NOT_THIS_PROTOCOL, response_headers(NOT_THIS_PROTOCOL, b"text/xml")


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


async def serve(node: Database, host: str = "127.0.0.1", port: int = 8000,
                verifier: SignatureVerifier | None = None,
                sock: socket.socket | None = None, *, allow_faults: bool = False) -> None:
    """Serve the node on host:port, or on a socket already bound, until SIGINT or SIGTERM
    (then return, so the caller can close the node: the log's files are closed cleanly)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread, or not Unix
            pass
    await node.start()  # a replication group boots its replicas on this loop
    await http.serve(DynamoApp(node, verifier, allow_faults=allow_faults).answer, MAX_REQUEST_BYTES,
                     host=host, port=port, sock=sock, stop=stop)
