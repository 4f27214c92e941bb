"""LoggedReplica: a storage replica's B-tree written through its write-ahead log
(DynamoDB ATC'22 §3, §5.1; ARIES).

A storage replica in DynamoDB holds a write-ahead log and a B-tree (§3, Fig. 2).
The rules that make the pair crash-safe, in the order a write meets them:

1. Log first. A write's changes (after-images, records.py) go into the log by
   group commit; nothing touches the B-tree before the record is fsynced.
2. Apply in LSN order. After each group commit the batch is applied to the
   B-tree in one SQLite transaction that also records the batch's last LSN
   (`applied_lsn`), so the B-tree says exactly how far it has caught up.
3. Acknowledge last. The caller's `write` returns the LSN only after 1 and 2,
   so a read after an acknowledged write sees it.
4. Recover by redo. `open` replays every record above `applied_lsn` (from the
   archive too, if the local log was truncated past it). Records hold whole
   after-images, so replaying one the B-tree already has is harmless.

Because the log is the durable record, the B-tree runs with SQLite's
synchronous=NORMAL: one fsync per group commit is the price of durability, a
second one per write would be waste (DESIGN "Storage and durability"). Before a
checkpoint drops log segments, the B-tree is synced explicitly. With an archive,
a checkpoint starts in the background whenever a segment has been sealed.

Read-modify-write (conditions, updates) must not compute an after-image from a
state another in-flight write is about to change: `locked(keys)` serialises
writers per key, while writes to different keys still share group commits.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from dynamo.storage.btree import BTree, Mutation
from dynamo.storage.keys import EncodedKey
from dynamo.wal.archive import Archiver, Store
from dynamo.wal.checkpoint import CheckpointReport, checkpoint
from dynamo.wal.group_commit import GroupCommit
from dynamo.wal.log import DEFAULT_SEGMENT_BYTES, FsyncPolicy, WriteAheadLog
from dynamo.wal.records import Change, DropTable, decode_record, encode_record, tables_of
from dynamo.wal.recovery import RecoveryReport

logger = logging.getLogger(__name__)
ItemKey = tuple[str, EncodedKey]  # (table, key): what `locked` serialises on
REDO_CHUNK = 512  # records applied per SQLite transaction during recovery


class ReplicaStateError(Exception):
    """The B-tree and the log disagree in a way no crash explains; the replica must not serve."""


@dataclass
class _KeyLock:
    lock: asyncio.Lock
    users: int = 0


class LoggedReplica:
    """A BTree whose every change is first made durable in a WriteAheadLog."""

    def __init__(
        self,
        btree: BTree,
        log: WriteAheadLog,
        recovery: RecoveryReport,
        *,
        archiver: Archiver | None = None,
        max_batch: int | None = None,
    ) -> None:
        self.btree = btree
        self.log = log
        self.recovery = recovery
        self.archiver = archiver
        self.group_commit = GroupCommit(log, max_batch=max_batch, on_durable=self._apply)
        self.replayed = 0  # records redone by recovery when the replica was opened
        self._locks: dict[ItemKey, _KeyLock] = {}
        self._checkpointing: asyncio.Task[None] | None = None
        self._checkpoint_lock = asyncio.Lock()
        self.checkpoint_error: str | None = None  # the last background checkpoint's failure

    @classmethod
    def open(
        cls,
        directory: str | os.PathLike[str],
        *,
        fsync: FsyncPolicy = "always",
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        archive: Store | None = None,
        max_batch: int | None = None,
        btree_path: str | os.PathLike[str] | None = None,
    ) -> LoggedReplica:
        """Open (creating) the replica in `directory`: the log in `wal/`, the B-tree in
        `btree.sqlite3` (or `btree_path`); recover it.

        Raises CorruptLogError or ReplicaStateError when it must not serve.
        """
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        log, report = WriteAheadLog.open(root / "wal", fsync=fsync, segment_bytes=segment_bytes)
        btree = BTree(btree_path or root / "btree.sqlite3", synchronous="NORMAL")
        archiver = None if archive is None else Archiver(archive, table_of=tables_of)
        replica = cls(btree, log, report, archiver=archiver, max_batch=max_batch)
        try:
            replica.replayed = replica._redo()
        except BaseException:
            replica.close_files()
            raise
        return replica

    # --- the write path ----------------------------------------------------------------

    # --8<-- [start:write-path]
    async def write(self, changes: Sequence[Change]) -> int:
        """Log the changes (one record), wait for its group commit, apply; return its LSN."""
        if not changes:
            raise ValueError("a write needs at least one change")
        lsn = await self.group_commit.submit(encode_record(changes))
        self._maybe_checkpoint()
        return lsn

    def _apply(self, records: Sequence[tuple[int, bytes]]) -> None:
        """Apply durable records to the B-tree in LSN order, recording the last LSN with them."""
        pending: list[Mutation] = []
        for _, payload in records:
            for change in decode_record(payload):
                if isinstance(change, DropTable):
                    self.btree.apply(pending)  # no LSN yet: a crash here redoes the whole batch
                    pending = []
                    self.btree.drop_table(change.tbl)
                else:
                    pending.append(change)
        self.btree.apply(pending, records[-1][0])
    # --8<-- [end:write-path]

    async def drop_table(self, tbl: str) -> int:
        """DeleteTable's effect on the items, logged so that redo keeps it in order."""
        return await self.write([DropTable(tbl)])

    @asynccontextmanager
    async def locked(self, keys: Iterable[ItemKey]) -> AsyncIterator[None]:
        """Hold the items' locks from reading the before-image until the write is applied.

        Locks are taken in key order, so two multi-item writes cannot deadlock.
        """
        taken: list[tuple[ItemKey, _KeyLock, bool]] = []
        try:
            for key in sorted(set(keys)):
                entry = self._locks.setdefault(key, _KeyLock(asyncio.Lock()))
                entry.users += 1
                taken.append((key, entry, False))
                await entry.lock.acquire()
                taken[-1] = (key, entry, True)
            yield
        finally:
            for key, entry, acquired in reversed(taken):
                if acquired:
                    entry.lock.release()
                entry.users -= 1
                if entry.users == 0:
                    del self._locks[key]

    # --- recovery ----------------------------------------------------------------------

    def _redo(self) -> int:
        """Replay every record above the B-tree's applied LSN; return how many."""
        applied = self.btree.applied_lsn()
        if applied > self.log.last_lsn:
            raise ReplicaStateError(
                f"the B-tree has applied LSN {applied} but the log ends at LSN "
                f"{self.log.last_lsn}: acknowledged writes are missing from the log"
            )
        records = self._records_after(applied)
        count, chunk = 0, []
        for lsn, payload in records:
            chunk.append((lsn, payload))
            if len(chunk) == REDO_CHUNK:
                self._apply(chunk)
                count, chunk = count + len(chunk), []
        if chunk:
            self._apply(chunk)
            count += len(chunk)
        return count

    def _records_after(self, applied: int) -> Iterable[tuple[int, bytes]]:
        """The log records above `applied`, fetching from the archive what is no longer local."""
        if self.log.first_lsn <= applied + 1:
            return self.log.replay(applied + 1)
        if self.archiver is None:
            raise ReplicaStateError(
                f"the B-tree has applied LSN {applied} but the local log starts at LSN "
                f"{self.log.first_lsn}; the records between are only in the archive"
            )
        return self._archive_then_log(applied)

    def _archive_then_log(self, applied: int) -> Iterable[tuple[int, bytes]]:
        assert self.archiver is not None
        expected = applied + 1
        for lsn, payload in self.archiver.records():
            if applied < lsn < self.log.first_lsn:
                if lsn != expected:
                    break
                expected += 1
                yield lsn, payload
        if expected != self.log.first_lsn:
            raise ReplicaStateError(
                f"the archive and the local log leave a hole between LSN {expected} and "
                f"{self.log.first_lsn}"
            )
        yield from self.log.replay(self.log.first_lsn)

    # --- checkpoint, observability, shutdown ---------------------------------------------

    def _maybe_checkpoint(self) -> None:
        """With an archive, start a background checkpoint whenever a segment has been sealed."""
        if self.archiver is None or not self.log.has_sealed():
            return
        if self._checkpointing is None or self._checkpointing.done():
            self._checkpointing = asyncio.get_running_loop().create_task(self._checkpoint_in_background())

    async def _checkpoint_in_background(self) -> None:
        try:
            await self.checkpoint()
            self.checkpoint_error = None
        except Exception as error:  # an unreachable archive must not stop writes; retried later
            self.checkpoint_error = f"{type(error).__name__}: {error}"
            logger.warning("checkpoint failed, segments stay local: %s", self.checkpoint_error)

    async def checkpoint(self) -> CheckpointReport:
        """Sync the B-tree, then archive and drop the log segments it has made redundant."""
        if self.archiver is None:
            raise ValueError("segments are removed only once archived: open the replica with an archive")
        async with self._checkpoint_lock:  # one at a time: both would archive the same segment
            applied = self.btree.applied_lsn()
            # synchronous=NORMAL commits are not fsynced; a full SQLite checkpoint is
            self.btree.sync()
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, checkpoint, self.log, applied, self.archiver)

    def snapshot(self) -> dict[str, object]:
        state = self.log.snapshot()
        state.update(
            applied_lsn=self.btree.applied_lsn(),
            replayed_at_open=self.replayed,
            group_commits=self.group_commit.batches,
            records_committed=self.group_commit.records,
            torn_tail=None if self.recovery.torn_tail is None else self.recovery.describe(),
            checkpoint_error=self.checkpoint_error,
        )
        return state

    async def close(self) -> None:
        await self.group_commit.close()
        if self._checkpointing is not None:
            await self._checkpointing
        self.close_files()

    def close_files(self) -> None:
        """Close without waiting for queued writes (their callers see no acknowledgement)."""
        self.group_commit.shutdown()
        self.log.close()
        self.btree.close()
