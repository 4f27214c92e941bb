"""HTTP/1.1 for the front door: an asyncio protocol around httptools' parser.

Every DynamoDB call is one HTTP POST (paper §3: a request router receives
it), so the transport is on the path of every request and its cost is paid
every time. This module is the whole of it: bytes from the socket go into
httptools (llhttp, the parser Node.js uses), and each complete request
becomes one call of the application's `answer(method, path, headers, body)`,
whose (status, body, headers) are written back as one response.

It replaced uvicorn behind `dynamo serve`: an ASGI server wraps every
request in a scope dict, a header list, receive/send message dicts and a
response cycle object, which cost more CPU than GetItem's own work did
(docs/performance.md, "The request path"). What is left is what HTTP/1.1
asks of a server:

* **keep-alive**: a connection carries request after request until the
  client closes it or asks to (`Connection: close`, or HTTP/1.0 without
  keep-alive);
* **pipelining**: a client may send several requests without waiting;
  answers go out in the order the requests came, one request at a time;
* **`Expect: 100-continue`**: curl and some SDKs wait for it before a large body;
* **limits**: a body over DynamoDB's 16 MB limit gets 413; bytes that are
  not HTTP, or a request to upgrade to another protocol, get 400 and the
  connection is closed.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import NamedTuple, cast
from urllib.parse import unquote_to_bytes

import httptools

Answer = Callable[[str, str, dict[bytes, bytes], bytes],
                  Awaitable[tuple[int, bytes, list[tuple[bytes, bytes]]]]]

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
PEER = b":peer"  # the client's address, as the connection saw it
BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
MAX_PIPELINED = 16  # requests queued on one connection before it stops reading


class Request(NamedTuple):
    """One complete HTTP request, as the application sees it."""

    method: str
    path: str
    headers: dict[bytes, bytes]  # names lower-cased
    body: bytes
    too_large: bool
    keep_alive: bool


class HttpConnection(asyncio.Protocol):
    """One client connection: parse requests, answer them in order."""

    def __init__(self, answer: Answer, max_body: int) -> None:
        self.answer, self.max_body = answer, max_body
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.queue: deque[Request] = deque()
        self.busy = False  # a request is being answered
        self._url = b""
        self._headers: dict[bytes, bytes] = {}
        self._body: list[bytes] = []
        self._size = 0

    # -- the socket ------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        peer = transport.get_extra_info("peername")
        self.peer = (peer[0] if peer else "").encode()

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):  # no upgrades either
            assert self.transport is not None
            self.transport.write(BAD_REQUEST)
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.queue.clear()

    # -- httptools' callbacks, in the order it makes them -------------------------------------------

    def on_message_begin(self) -> None:
        self._url, self._headers, self._body, self._size = b"", {}, [], 0

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.lower()] = value

    def on_headers_complete(self) -> None:
        if self._headers.get(b"expect", b"").lower() == b"100-continue":
            assert self.transport is not None
            self.transport.write(CONTINUE)

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size <= self.max_body:  # past the limit, count but do not keep
            self._body.append(body)

    def on_message_complete(self) -> None:
        body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        self.queue.append(Request(
            self.parser.get_method().decode("latin-1"), _path(self._url), self._headers, body,
            self._size > self.max_body, self.parser.should_keep_alive()))
        if len(self.queue) >= MAX_PIPELINED:
            assert self.transport is not None
            self.transport.pause_reading()
        if not self.busy:
            self._answer_next()

    # -- answering --------------------------------------------------------------------------------

    def _answer_next(self) -> None:
        """Start answering the oldest queued request (one at a time keeps them in order)."""
        self.busy = True
        asyncio.get_running_loop().create_task(self._answer(self.queue.popleft()))

    async def _answer(self, request: Request) -> None:
        if request.too_large:
            status, body, headers = 413, b"", [(b"content-length", b"0")]
        else:
            # ":peer" cannot be sent by a client (":" ends a header name): the app may
            # trust it, e.g. to serve the admin endpoint to loopback clients only.
            request.headers[PEER] = self.peer
            status, body, headers = await self.answer(request.method, request.path,
                                                      request.headers, request.body)
        transport = self.transport
        assert transport is not None
        if transport.is_closing():
            return
        transport.write(response(status, headers, body, request.keep_alive))
        if not request.keep_alive:
            transport.close()
            return
        if self.queue:
            transport.resume_reading()
            self._answer_next()
        else:
            self.busy = False


def response(status: int, headers: list[tuple[bytes, bytes]], body: bytes,
             keep_alive: bool = True) -> bytes:
    """A whole HTTP/1.1 response as bytes (headers must include content-length)."""
    lines = [_STATUS_LINES.get(status) or b"HTTP/1.1 %d %s\r\n" % (status, _reason(status))]
    lines += [b"%s: %s\r\n" % header for header in headers]
    if not keep_alive:
        lines.append(b"connection: close\r\n")
    lines += [b"\r\n", body]
    return b"".join(lines)


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


_STATUS_LINES = {status: b"HTTP/1.1 %d %s\r\n" % (status, _reason(status))
                 for status in (200, 400, 404, 413, 500)}


def _path(url: bytes) -> str:
    """The decoded path of a request target, without its query string."""
    path = url.split(b"?", 1)[0]
    if b"%" in path:
        path = unquote_to_bytes(path)
    return path.decode("latin-1")


async def serve(answer: Answer, max_body: int, *, host: str = "127.0.0.1", port: int = 8000,
                sock: object | None = None, stop: asyncio.Event | None = None) -> None:
    """Accept connections on host:port (or an already bound socket) until `stop` is set."""
    loop = asyncio.get_running_loop()

    def connection() -> HttpConnection:
        return HttpConnection(answer, max_body)

    if sock is not None:
        server = await loop.create_server(connection, sock=sock)  # type: ignore[arg-type]
    else:
        server = await loop.create_server(connection, host, port, backlog=2048)
    async with server:
        await (stop or asyncio.Event()).wait()
