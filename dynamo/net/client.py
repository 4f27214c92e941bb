"""A client of a replication group over TCP: follows redirects, admits doubt.

A request goes to the node the client believes leads; a `NotLeader` answer
names a better guess and the client tries there, as DynamoDB's request
routers retry a strongly consistent read that missed the leader. When no
answer comes before the deadline the outcome is *indefinite*: the write may
or may not have happened (Maelstrom's and DynamoDB's 500 "may have
happened"), and the client says so with `Indefinite` rather than guessing.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from typing import Any

from dynamo.contract import ClientRequest, NodeId, Reply
from dynamo.net.codec import Codec, FrameError
from dynamo.net.host import Address, Hello, read_frame

RETRY_PAUSE_S = 0.05


class Indefinite(Exception):
    """No answer before the deadline: the operation may or may not have happened."""


class GroupClient:
    """Sends operations to a group of nodes and waits for their replies."""

    def __init__(self, client_id: str, addresses: dict[NodeId, Address], codec: Codec) -> None:
        codec.register(Hello)
        self.id = client_id
        self.addresses = addresses
        self.codec = codec
        self.leader_hint: NodeId | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._writers: dict[NodeId, asyncio.StreamWriter] = {}
        self._readers: set[asyncio.Task[None]] = set()

    async def call(self, operation: Any, *, timeout_s: float = 5.0,
                   redirect_types: tuple[type, ...] = ()) -> Any:
        """Run one operation; raise `Indefinite` if the deadline passes.

        `redirect_types` are result types that mean "ask someone else" (the
        layer's NotLeader and Unavailable); they are retried, anything else
        is the answer.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        targets = itertools.cycle(sorted(self.addresses))
        target = self.leader_hint or next(targets)
        while (remaining := deadline - loop.time()) > 0:
            result = await self._ask(target, operation, remaining)
            if result is not None and not isinstance(result, redirect_types):
                self.leader_hint = target
                return result
            hint = getattr(result, "leader_hint", None)
            target = hint if hint in self.addresses else next(targets)
            await asyncio.sleep(RETRY_PAUSE_S)
        raise Indefinite(f"no answer to {operation!r} within {timeout_s} s")

    async def _ask(self, target: NodeId, operation: Any, timeout_s: float) -> Any:
        """One attempt at one node; None when the node did not answer in time."""
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        try:
            writer = await self._connect(target)
            writer.write(self.codec.frame(ClientRequest(self.id, request_id, operation)))
            return await asyncio.wait_for(future, min(timeout_s, 1.0))
        except (TimeoutError, OSError, ConnectionError):
            self._writers.pop(target, None)
            return None
        finally:
            self._waiting.pop(request_id, None)

    async def _connect(self, target: NodeId) -> asyncio.StreamWriter:
        writer = self._writers.get(target)
        if writer is not None and not writer.is_closing():
            return writer
        host, port = self.addresses[target]
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1.0)
        writer.write(self.codec.frame(Hello("client", self.id)))
        self._writers[target] = writer
        task = asyncio.get_running_loop().create_task(self._read_replies(reader))
        self._readers.add(task)
        task.add_done_callback(self._readers.discard)
        return writer

    async def _read_replies(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError, FrameError, OSError):
            while True:
                reply = await read_frame(reader, self.codec)
                if isinstance(reply, Reply):
                    future = self._waiting.get(reply.request_id)
                    if future is not None and not future.done():
                        future.set_result(reply.result)

    async def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        for task in list(self._readers):
            task.cancel()
