"""TCP links between real processes: a node's links to its peers, a client's to its nodes.

Two kinds of connection carry the versioned, checksummed frames of
`dynamo.net.codec`, each opened with a `Hello` saying who calls:

* `PeerLinks`: one node's outgoing connections to its peers. A message is put
  on the peer's queue and written when the link is up; while it is down the
  queue is dropped, as a lossy network would (contract rule 4): the protocols
  retry what matters. A link reconnects by itself, so a restarted peer is
  reached again without anyone noticing it had died.
* `NodeClient`: a client's connections to nodes, on which it sends
  `ClientRequest`s and the node sends back `Reply`s. A request whose
  connection breaks (the node died) is answered `None` at once: the caller
  cannot tell whether it was carried out.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable, Coroutine
from typing import Any

from dynamo.contract import ClientRequest, NodeId, Reply
from dynamo.net.codec import HEADER, Codec, FrameError, read_header

Address = tuple[str, int]
Spawn = Callable[[Coroutine[Any, Any, None]], None]
LINK_QUEUE_LIMIT = 10_000
RECONNECT_DELAY_S = 0.05
CONNECT_S = 1.0


async def read_frame(reader: asyncio.StreamReader, codec: Codec) -> Any:
    """Read one frame; raises FrameError for a corrupt one, EOF errors at the end."""
    header = await reader.readexactly(HEADER.size)
    length, version, checksum = read_header(header)
    payload = await reader.readexactly(length)
    return codec.unframe(version, checksum, payload)


class PeerLinks:
    """One node's outgoing connections to its peers, one per peer, opened on first use."""

    def __init__(self, src: NodeId, addresses: dict[NodeId, Address], hello: bytes,
                 spawn: Spawn) -> None:
        self.src = src
        self.addresses = addresses
        self._hello = hello  # the framed Hello("peer", src) each connection opens with
        self._spawn = spawn
        self._queues: dict[NodeId, asyncio.Queue[bytes]] = {}

    def send(self, dst: NodeId, frame: bytes) -> None:
        queue = self._queues.get(dst)
        if queue is None:
            queue = self._queues[dst] = asyncio.Queue()
            self._spawn(self._link(dst, queue))
        if queue.qsize() < LINK_QUEUE_LIMIT:
            queue.put_nowait(frame)

    async def _link(self, dst: NodeId, queue: asyncio.Queue[bytes]) -> None:
        """Keep one outgoing connection to a peer; drop frames while it is down."""
        host, port = self.addresses[dst]
        while True:
            try:
                _reader, writer = await asyncio.open_connection(host, port)
            except OSError:
                _drain(queue)
                await asyncio.sleep(RECONNECT_DELAY_S)
                continue
            try:
                writer.write(self._hello)
                while True:
                    writer.write(await queue.get())
                    await writer.drain()
            except (OSError, ConnectionError):
                with contextlib.suppress(Exception):
                    writer.close()


class NodeClient:
    """Sends client requests to nodes over TCP and matches their replies."""

    def __init__(self, client_id: str, addresses: dict[NodeId, Address], codec: Codec,
                 hello: bytes, spawn: Spawn) -> None:
        self.id = client_id
        self.addresses = addresses
        self.codec = codec
        self._hello = hello  # the framed Hello("client", client_id)
        self._spawn = spawn
        self._requests = itertools.count(1)
        self._futures: dict[int, asyncio.Future[Any]] = {}
        self._asked: dict[NodeId, set[int]] = {}
        self._writers: dict[NodeId, asyncio.StreamWriter] = {}
        self._locks: dict[NodeId, asyncio.Lock] = {}

    async def ask(self, target: NodeId, operation: Any, timeout_s: float) -> Any:
        """One attempt: the node's answer, or None if none came (refused, broken, late)."""
        try:
            writer = await self._connect(target)
        except (OSError, TimeoutError):
            return None
        request_id = next(self._requests)
        future = asyncio.get_running_loop().create_future()
        self._futures[request_id] = future
        asked = self._asked.setdefault(target, set())
        asked.add(request_id)
        try:
            writer.write(self.codec.frame(ClientRequest(self.id, request_id, operation)))
            return await asyncio.wait_for(future, timeout_s)
        except (TimeoutError, OSError):
            return None
        finally:
            self._futures.pop(request_id, None)
            asked.discard(request_id)

    def disconnect(self, target: NodeId) -> None:
        """Drop the connection to a node (it was killed): its requests go unanswered."""
        writer = self._writers.pop(target, None)
        if writer is not None:
            writer.close()

    def close(self) -> None:
        for writer in self._writers.values():
            with contextlib.suppress(Exception):  # the loop may already be closed
                writer.close()

    async def _connect(self, target: NodeId) -> asyncio.StreamWriter:
        lock = self._locks.setdefault(target, asyncio.Lock())
        async with lock:  # one connection per node: its replies come back on it
            writer = self._writers.get(target)
            if writer is not None and not writer.is_closing():
                return writer
            host, port = self.addresses[target]
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port),
                                                    CONNECT_S)
            writer.write(self._hello)
            self._writers[target] = writer
            self._spawn(self._read_replies(target, reader, writer))
            return writer

    async def _read_replies(self, target: NodeId, reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError, FrameError,
                                 OSError):
            while True:
                reply = await read_frame(reader, self.codec)
                future = self._futures.get(reply.request_id) if type(reply) is Reply else None
                if future is not None and not future.done():
                    future.set_result(reply.result)
        if self._writers.get(target) is writer:
            del self._writers[target]
        for request_id in list(self._asked.get(target, ())):
            future = self._futures.get(request_id)
            if future is not None and not future.done():
                future.set_result(None)


def _drain(queue: asyncio.Queue[bytes]) -> None:
    while not queue.empty():
        queue.get_nowait()
