"""An endpoint that answers every DynamoDB call at once: the yardstick for `dynamo bench`.

A load generator that shares the machine with the server it measures must
cost far less per request than that server, or its figures describe the
client. This target does no work at all: it reads each HTTP request, finds
the end of its body, and writes back a canned DynamoDB answer (DescribeTable
says the table is ACTIVE, everything else gets `{}`). So the ops/s that
`dynamo bench --target instant` reaches against it is the client's ceiling
on this machine, and the CPU it reports per operation is mostly the client's.

    python -m dynamo.cli.bench_target --port 0     # prints the URL it listens on
"""

from __future__ import annotations

import argparse
import asyncio
import zlib
from typing import cast

import uvloop

ACTIVE_TABLE = b'{"Table":{"TableName":"bench","TableStatus":"ACTIVE"}}'
EMPTY = b"{}"


def answer(body: bytes) -> bytes:
    """A complete HTTP/1.1 200 response carrying a DynamoDB JSON body."""
    return (b"HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\n"
            b"content-length: %d\r\nx-amzn-requestid: instant\r\nx-amz-crc32: %d\r\n\r\n%s"
            % (len(body), zlib.crc32(body), body))


DESCRIBE_ANSWER = answer(ACTIVE_TABLE)
EMPTY_ANSWER = answer(EMPTY)


class InstantTarget(asyncio.Protocol):
    """One client connection: every complete request gets its canned answer at once."""

    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (head_end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:head_end].lower()
            length = _content_length(head)
            end = head_end + 4 + length
            if len(self.buffer) < end:
                return  # the rest of the body is still on its way
            self.buffer = self.buffer[end:]
            assert self.transport is not None
            self.transport.write(DESCRIBE_ANSWER if b".describetable" in head else EMPTY_ANSWER)


def _content_length(head: bytes) -> int:
    start = head.find(b"\r\ncontent-length:")
    if start < 0:
        return 0
    start += len(b"\r\ncontent-length:")
    end = head.find(b"\r\n", start)
    return int(head[start:] if end < 0 else head[start:end])


async def serve(host: str, port: int) -> None:
    """Listen on host:port (0: any free port), print the URL, answer until killed."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(InstantTarget, host, port)
    bound = server.sockets[0].getsockname()[1]
    print(f"http://{host}:{bound}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    args = parser.parse_args()
    try:
        uvloop.run(serve(args.host, args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
