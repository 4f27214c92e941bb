"""Group commit: many concurrent appends share one write and one fsync (ATC'22 §5.1).

An fsync costs the same whether it covers one record or a hundred, so a replica
that fsynced every write separately would spend its life waiting on the disk.
Group commit turns that around. Theory of operation:

- `submit(payload)` queues the record and awaits a future.
- One flusher task at a time takes *everything* queued (up to `max_batch`), hands
  it to `WriteAheadLog.append_batch` on a dedicated thread (the event loop keeps
  accepting requests meanwhile, which become the next batch), and waits.
- After the fsync returns, `on_durable` (if given) sees the batch's records in
  LSN order on the event-loop thread — a replica applies them to its B-tree there —
  and only then are the futures resolved: an append is acknowledged after its fsync.
- If the append fails, every future of the batch fails: none was acknowledged.
- If `on_durable` fails, the batch is durable but not applied; applying a later
  batch would move the replica's applied LSN past it, so group commit stops
  (LogFailedError) and recovery redoes the batch when the replica is reopened.

`max_batch=1` turns group commit off (one fsync per record), for the benchmark.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from dynamo.wal.log import LogFailedError, WriteAheadLog

DurableHook = Callable[[Sequence[tuple[int, bytes]]], None]


class GroupCommit:
    """Batches concurrent `submit` calls into group commits on one WriteAheadLog."""

    def __init__(
        self,
        log: WriteAheadLog,
        *,
        max_batch: int | None = None,
        on_durable: DurableHook | None = None,
    ) -> None:
        self.log = log
        self.max_batch = max_batch
        self.on_durable = on_durable
        self._queue: list[tuple[bytes, asyncio.Future[int]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wal-fsync")
        self._failure: Exception | None = None
        self.batches = 0  # counted for the benchmark: records / batches = mean batch size
        self.records = 0

    async def submit(self, payload: bytes) -> int:
        """Append one record; return its LSN once the batch holding it is durable.

        If the caller is cancelled after submitting, the record may still be written:
        like a timed-out request, its outcome is unknown, not failed.
        """
        if self._failure is not None:
            raise LogFailedError("applying a durable batch failed; reopen to redo it") from self._failure
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        self._queue.append((payload, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush())
        return await future

    # --8<-- [start:flush]
    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queue:
            size = len(self._queue) if self.max_batch is None else self.max_batch
            batch, self._queue = self._queue[:size], self._queue[size:]
            payloads = [payload for payload, _ in batch]
            futures = [future for _, future in batch]
            try:
                lsns = await loop.run_in_executor(self._executor, self.log.append_batch, payloads)
            except Exception as error:  # not durable: the log has failed stop
                _fail(futures, error)
                continue
            if self.on_durable is not None:
                try:
                    self.on_durable(list(zip(lsns, payloads, strict=True)))
                except Exception as error:
                    # durable but not applied: later batches must not be applied past it
                    self._failure = error
                    _fail(futures + [f for _, f in self._queue], error)
                    self._queue = []
                    return
            self.batches += 1
            self.records += len(batch)
            for future, lsn in zip(futures, lsns, strict=True):
                if not future.done():
                    future.set_result(lsn)
    # --8<-- [end:flush]

    async def close(self) -> None:
        """Wait for queued records to be written, then stop the fsync thread."""
        if self._flusher is not None:
            await self._flusher
        self.shutdown()

    def shutdown(self) -> None:
        """Stop the fsync thread (after close, or when the event loop is already gone)."""
        self._executor.shutdown(wait=True)


def _fail(futures: list[asyncio.Future[int]], error: Exception) -> None:
    for future in futures:
        if not future.done():
            future.set_exception(error)
