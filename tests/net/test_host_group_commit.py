"""A process's host makes records durable by group commit, off the event loop (§5.1).

`NodeHost` is what runs a replica as a process of its own (`dynamo serve
--processes`). Its rules (DESIGN "One request's path", contract rule 2): a
reply that follows a `Persist` leaves only once the record is fsynced; the
fsync never runs on the event loop; and the records of requests that arrive
while one fsync runs share the next one, so many concurrent writes cost few
fsyncs.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dynamo.contract import ClientRequest, Effect, Event, Persist, Reply, Rng
from dynamo.net.client import GroupClient
from dynamo.net.codec import Codec
from dynamo.net.group import free_ports
from dynamo.net.host import NodeHost
from dynamo.wal import WriteAheadLog

CLIENTS = 64


@dataclass(frozen=True)
class Remember:
    """Ask the node to remember `value` durably."""

    value: int


@dataclass(frozen=True)
class Remembered:
    """The persisted record of one `Remember`."""

    value: int


class Notebook:
    """A node that persists each request and answers it after the record."""

    def __init__(self, id: str, records: list[Any], rng: Rng) -> None:
        self._id = id
        self.values = [record.value for record in records]

    @property
    def id(self) -> str:
        return self._id

    def step(self, now_ms: float, event: Event) -> list[Effect]:
        if isinstance(event, ClientRequest):
            value = event.operation.value
            return [Persist(Remembered(value)), Reply(event.client, event.request_id, value)]
        return []

    def snapshot(self) -> dict[str, Any]:
        return {"values": len(self.values)}


def codec() -> Codec:
    codec = Codec()
    for cls in (Remember, Remembered, ClientRequest, Reply):
        codec.register(cls)
    return codec


def test_concurrent_writes_share_fsyncs_that_run_off_the_event_loop(tmp_path: Path) -> None:
    wal_dir = tmp_path / "wal"
    threads: set[int] = set()

    def persisted(log: WriteAheadLog, lsn: int, record: Any, recovered: bool) -> None:
        threads.add(threading.get_ident())

    async def run() -> tuple[list[Any], int, int]:
        addresses = {"a": ("127.0.0.1", free_ports(1)[0])}
        host = NodeHost("a", Notebook, addresses, wal_dir, codec(), on_persisted=persisted)
        fsync_threads: set[int] = set()
        serving = asyncio.ensure_future(host.serve())
        await asyncio.sleep(0.2)
        append = host._log.append_batch

        def watched(payloads: list[bytes]) -> list[int]:
            fsync_threads.add(threading.get_ident())
            return append(payloads)

        host._log.append_batch = watched  # type: ignore[method-assign]
        clients = [GroupClient(f"c{i}", addresses, codec()) for i in range(CLIENTS)]
        try:
            answers = await asyncio.gather(
                *(c.call(Remember(i), timeout_s=10) for i, c in enumerate(clients)))
            fsyncs = host._log.fsyncs
        finally:
            for client in clients:
                await client.close()
            serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serving
        loop_thread = threading.get_ident()
        assert fsync_threads and loop_thread not in fsync_threads, "an fsync ran on the loop"
        return answers, fsyncs, len(fsync_threads)

    answers, fsyncs, _ = asyncio.run(run())
    assert sorted(answers) == list(range(CLIENTS))
    assert 1 <= fsyncs < CLIENTS, f"{fsyncs} fsyncs for {CLIENTS} concurrent writes"
    log, _report = WriteAheadLog.open(wal_dir)
    try:
        durable = sorted(codec().loads(payload).value for _lsn, payload in log.replay())
    finally:
        log.close()
    assert durable == list(range(CLIENTS)), "a write was answered before it was durable"
