"""A node's host on a real machine: asyncio, TCP, a durable log, a real clock.

`dynamo.sim` drives nodes on a virtual clock through a simulated network; a
`NodeHost` drives the very same node code for real. It keeps the contract of
`dynamo.contract` with real parts:

* time is the process's monotonic clock, in milliseconds since start;
* timers are `loop.call_later` handles, one per name;
* `Persist` records are appended to a write-ahead log (`dynamo.wal`) and
  fsynced before any later effect of the step runs — so a promise is on disk
  before the message that depends on it leaves (contract rule 2). The fsync
  runs on a thread of its own, never on the event loop, and is a group
  commit: the records of every step taken while one fsync runs share the
  next one (§5.1), and the effects that follow them wait for it, in order;
* `Send` puts a frame on an outgoing TCP link; a link that is down drops
  messages, which is exactly what the protocol must survive anyway;
* on start the node is rebuilt from its log's records (contract rule 3);
  `on_persisted` sees each record with its log position, recovered or new
  (how a storage replica drops the log behind its B-tree).

Each connection opens with a `Hello` saying who is calling: a peer node,
whose frames become `Receive` events, or a client, whose frames are
`ClientRequest`s answered on the same connection.

Two requests are the host's own, never the node's (DESIGN "Observability is
a feature"): `AdminQuery` answers with the node's `snapshot()`, the process
id and whatever the host's `describe` adds (a storage replica's applied LSN
and table sizes); `CutLink` drops this host's messages to a peer, one way,
until healed — the teaching fault of a gray failure (§6.2) on real sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dynamo.contract import (
    Announce,
    CancelTimer,
    ClientRequest,
    Effect,
    Event,
    NodeFactory,
    NodeId,
    Persist,
    Receive,
    Reply,
    Send,
    SetTimer,
    Start,
    TimerFired,
)
from dynamo.net.codec import Codec, FrameError
from dynamo.net.links import Address, PeerLinks, read_frame
from dynamo.wal import WriteAheadLog
from dynamo.wal.log import DEFAULT_SEGMENT_BYTES, FsyncPolicy, LogFailedError

__all__ = ["Address", "AdminQuery", "CutLink", "Hello", "NodeHost", "read_frame"]


@dataclass(frozen=True)
class Hello:
    """The first frame on every connection: who is calling."""

    kind: str  # "peer" or "client"
    id: str


@dataclass(frozen=True)
class AdminQuery:
    """Ask a host for its node's state; `tables` are the tables whose sizes to report."""

    tables: tuple[str, ...] = ()


@dataclass(frozen=True)
class CutLink:
    """Drop this host's messages to `dst` until healed; `dst=None` heals every link."""

    dst: NodeId | None


class NodeHost:
    """Runs one sans-IO node on an asyncio loop."""

    def __init__(self, node_id: NodeId, factory: NodeFactory, addresses: dict[NodeId, Address],
                 data_dir: Path, codec: Codec, *,
                 on_announce: Callable[[NodeId, Announce], None] | None = None,
                 describe: Callable[[AdminQuery], dict[str, Any]] | None = None,
                 on_persisted: Callable[[WriteAheadLog, int, Any, bool], None] | None = None,
                 fsync: FsyncPolicy = "always", segment_bytes: int = DEFAULT_SEGMENT_BYTES,
                 ) -> None:
        for cls in (Hello, AdminQuery, CutLink):
            codec.register(cls)
        self.id = node_id
        self.codec = codec
        self.addresses = addresses
        self._factory = factory
        self._data_dir = data_dir
        self._on_announce = on_announce or (lambda _id, _a: None)
        self._describe = describe or (lambda _query: {})
        self._on_persisted = on_persisted or (lambda _log, _lsn, _record, _recovered: None)
        self._fsync: FsyncPolicy = fsync
        self._segment_bytes = segment_bytes
        self._cut: set[NodeId] = set()
        self._epoch = time.monotonic()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._links = PeerLinks(node_id, addresses, codec.frame(Hello("peer", node_id)),
                                self._spawn)
        self._clients: dict[str, asyncio.StreamWriter] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # Group commit: (records, the effects that wait for them), oldest first.
        self._waiting: list[tuple[list[Any], list[Effect]]] = []
        self._flushing = False
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"wal-{node_id}")

    async def serve(self) -> None:
        """Recover the node from its disk, listen, and run until cancelled."""
        self.node = self._factory(self.id, self._recover(), random.Random())
        host, port = self.addresses[self.id]
        server = await asyncio.start_server(self._accept, host, port)
        self.step(Start())
        async with server:
            await server.serve_forever()

    # --- the node's disk (a subclass may keep another) --------------------------

    def _recover(self) -> list[Any]:
        """Open the log and read back every record, in order (contract rule 3)."""
        self._log, _report = WriteAheadLog.open(self._data_dir, fsync=self._fsync,
                                                segment_bytes=self._segment_bytes)
        records = []
        for wal_lsn, payload in self._log.replay():
            records.append(self.codec.loads(payload))
            self._on_persisted(self._log, wal_lsn, records[-1], True)
        return records

    async def _write(self, records: list[Any]) -> None:
        """Append and fsync `records` in one batch on the log's thread, off the loop."""
        payloads = [self.codec.dumps(record) for record in records]
        wal_lsns = await asyncio.get_running_loop().run_in_executor(
            self._executor, self._log.append_batch, payloads)
        for wal_lsn, record in zip(wal_lsns, records, strict=True):
            self._on_persisted(self._log, wal_lsn, record, False)

    # --- stepping the node ---------------------------------------------------

    def now_ms(self) -> float:
        return (time.monotonic() - self._epoch) * 1000.0

    def step(self, event: Event) -> None:
        """Hand the node one event and carry out its effects in order (contract rule 2)."""
        records: list[Any] = []
        after: list[Effect] = []
        for effect in self.node.step(self.now_ms(), event):
            if isinstance(effect, Persist):
                if after:  # effects before this record need not wait for it
                    self._carry_out_or_queue(records, after)
                    records, after = [], []
                records.append(effect.record)
            else:
                after.append(effect)
        self._carry_out_or_queue(records, after)

    def _carry_out_or_queue(self, records: list[Any], effects: list[Effect]) -> None:
        """Carry out `effects` now if nothing waits to be durable; else queue them behind it."""
        if not records and not self._waiting:
            for effect in effects:
                self._carry_out(effect)
            return
        self._waiting.append((records, effects))
        if not self._flushing:
            self._flushing = True
            self._spawn(self._flush())

    async def _flush(self) -> None:
        """Write and fsync everything queued in one batch (off the loop), then carry out
        the effects that waited for it; repeat while more was queued meanwhile."""
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                await self._write([record for records, _ in batch for record in records])
                for _, effects in batch:
                    for effect in effects:
                        self._carry_out(effect)
        except (OSError, LogFailedError) as error:  # the disk failed: stop, as a crash would
            print(f"{self.id}: write-ahead log failed: {error}", file=sys.stderr, flush=True)
            os._exit(1)
        finally:
            self._flushing = False

    def _carry_out(self, effect: Effect) -> None:
        if isinstance(effect, Send):
            self._send(effect.dst, self.codec.frame(effect.message))
        elif isinstance(effect, SetTimer):
            self._cancel(effect.name)
            loop = asyncio.get_running_loop()
            self._timers[effect.name] = loop.call_later(
                effect.delay_ms / 1000.0, self._fire, effect.name)
        elif isinstance(effect, CancelTimer):
            self._cancel(effect.name)
        elif isinstance(effect, Reply):
            self._reply(effect)
        elif isinstance(effect, Announce):
            self._on_announce(self.id, effect)

    def _fire(self, name: str) -> None:
        self._timers.pop(name, None)
        self.step(TimerFired(name))

    def _cancel(self, name: str) -> None:
        handle = self._timers.pop(name, None)
        if handle is not None:
            handle.cancel()

    def _reply(self, reply: Reply) -> None:
        writer = self._clients.get(reply.client)
        if writer is not None and not writer.is_closing():
            writer.write(self.codec.frame(reply))

    # --- links to peers --------------------------------------------------------

    def _send(self, dst: NodeId, frame: bytes) -> None:
        if dst not in self._cut:
            self._links.send(dst, frame)

    # --- incoming connections --------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            hello = await read_frame(reader, self.codec)
            if not isinstance(hello, Hello):
                return
            if hello.kind == "client":
                self._clients[hello.id] = writer
            while True:
                frame = await read_frame(reader, self.codec)
                self._deliver(hello, frame)
        except (asyncio.IncompleteReadError, ConnectionError, FrameError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    def _deliver(self, hello: Hello, frame: Any) -> None:
        if hello.kind == "peer":
            self.step(Receive(hello.id, frame))
        elif isinstance(frame, ClientRequest) and type(frame.operation) is AdminQuery:
            self._reply(Reply(frame.client, frame.request_id, self.view(frame.operation)))
        elif isinstance(frame, ClientRequest) and type(frame.operation) is CutLink:
            dst = frame.operation.dst
            self._cut = set() if dst is None else self._cut | {dst}
            self._reply(Reply(frame.client, frame.request_id, sorted(self._cut)))
        elif isinstance(frame, ClientRequest):
            self.step(frame)

    def view(self, query: AdminQuery) -> dict[str, Any]:
        """What `AdminQuery` answers: the node's snapshot, the process, the host's extras."""
        return {**self.node.snapshot(), "pid": os.getpid(), "cut": sorted(self._cut),
                **self._describe(query)}

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
