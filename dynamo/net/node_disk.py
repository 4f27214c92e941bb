"""A storage node's disk: one log for all its replicas, a B-tree each, its placement (§3, §5.1).

A storage node hosts replicas of many partitions (§4.3). What it keeps across
a crash is this disk, whoever drives the node: the embedded fleet
(`dynamo.cluster.fleet`) or a storage-node process of its own
(`dynamo.net.storage_process`). Both write it the same way:

* **one write-ahead log** (`DIR/wal/`, `dynamo.wal`) shared by every replica
  the node hosts, so one fsync makes a whole batch of their records durable
  (group commit across partitions). Each replica's records are `Tagged` with
  its partition and incarnation;
* **a B-tree per hosted replica** (`DIR/partitions/<partition>.sqlite3`),
  which records the last slot it applied in the same transaction as the
  items, so it is a cache of the log, as in ARIES;
* **the placement file** (`DIR/placement.json`): the `Hosted` record of each
  partition hosted here, replaced atomically (written, fsynced, renamed).

The log is dropped behind the B-trees: a replica needs its accepted slots
since its last snapshot marker and its latest promise; once no replica needs
a sealed segment and the B-trees are synced, the segment is removed. The
transaction coordinator's disk holds its ledger, and is dropped the same way
behind the ledger's latest `Checkpoint` (ATC'23 §5): every record before it
is redundant.

Without a directory (`--in-memory`) the same records are kept in memory,
where a restart within the process rebuilds from them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dynamo.net.codec import Codec
from dynamo.partitioning.partition_map import PartitionId
from dynamo.partitioning.storage_node import Hosted, Tagged, Unhosted
from dynamo.paxos.log import AcceptedEntry, Promised, Snapshot
from dynamo.storage.btree import BTree
from dynamo.transactions.ledger import Checkpoint
from dynamo.wal import WriteAheadLog
from dynamo.wal.log import FsyncPolicy

PLACEMENT = (Hosted, Unhosted)  # records that go to the placement file, not the log


@dataclass
class NodeDisk:
    """What a node keeps across a crash: its log, placement and B-trees."""

    codec: Codec
    root: Path | None = None
    log: WriteAheadLog | None = None
    btrees: dict[PartitionId, BTree] = field(default_factory=dict)
    hosted: dict[PartitionId, Hosted] = field(default_factory=dict)
    # In memory: each replica's records since its last mark, what a restart rebuilds from.
    tagged: dict[PartitionId, list[Tagged]] = field(default_factory=dict)
    # Which log positions each replica still needs (on disk): its accepted slots since
    # its last mark, and its latest promise.
    slots: dict[PartitionId, dict[int, int]] = field(default_factory=dict)
    promises: dict[PartitionId, int] = field(default_factory=dict)
    # In memory: the records of a node that is not a storage node (the TC's ledger).
    records: list[Any] = field(default_factory=list)
    # On disk: the log position of the ledger's latest checkpoint, which the TC needs.
    checkpoint: int | None = None

    @classmethod
    def open(cls, codec: Codec, root: Path | None, fsync: FsyncPolicy,
             segment_bytes: int) -> NodeDisk:
        """The disk under `root` (its log recovered, its placement read); None: in memory."""
        if root is None:
            return cls(codec)
        root.mkdir(parents=True, exist_ok=True)
        log, _report = WriteAheadLog.open(root / "wal", fsync=fsync, segment_bytes=segment_bytes)
        disk = cls(codec, root, log)
        placement = root / "placement.json"
        if placement.exists():
            for tree in json.loads(placement.read_text()):
                hosted = codec.from_tree(tree)
                disk.hosted[hosted.partition] = hosted
        return disk

    def btree(self, node: str, partition: PartitionId) -> BTree:
        """The B-tree of the replica of `partition` here (a `StorageNode`'s disk callable)."""
        found = self.btrees.get(partition)
        if found is None:
            path = None
            if self.root is not None:
                (self.root / "partitions").mkdir(exist_ok=True)
                path = self.root / "partitions" / f"{partition}.sqlite3"
            found = self.btrees[partition] = BTree(path, synchronous="NORMAL")
        return found

    def close(self) -> None:
        for btree in self.btrees.values():
            btree.close()
        if self.log is not None:
            self.log.close()

    # --- recovery ------------------------------------------------------------------

    def recovered_records(self) -> list[Any]:
        """What a restarting node is rebuilt from: its placement, then its replicas'
        records of their current hostings (an earlier hosting's are garbage)."""
        records: list[Any] = list(self.hosted.values())
        if self.log is None:
            return records + [r for kept in self.tagged.values() for r in kept] + self.records
        ledger: list[Any] = []  # not a storage node's: the TC's, from its latest checkpoint
        for lsn, payload in self.log.replay():
            record = self.codec.loads(payload)
            if type(record) is Checkpoint:
                ledger.clear()
                self.note_position(record, lsn)
            if type(record) is not Tagged:
                ledger.append(record)
                continue
            hosted = self.hosted.get(record.partition)
            if hosted is not None and record.incarnation == hosted.incarnation:
                self.note_position(record, lsn)
                records.append(record)
        return records + ledger

    # --- writing -------------------------------------------------------------------

    def write(self, records: list[Any]) -> list[tuple[Any, int]]:
        """Make `records` durable: placement first, then one log append and fsync.

        Returns the logged records with their log positions. Runs on a thread of its
        own (group commit off the event loop); `logged` is then called on the loop.
        """
        assert self.log is not None
        placement = [r for r in records if type(r) in PLACEMENT]
        logged = [r for r in records if type(r) not in PLACEMENT]
        if placement:
            self.place(placement)
        lsns = self.log.append_batch([self.codec.dumps(r) for r in logged])
        return list(zip(logged, lsns, strict=True))

    def logged(self, written: list[tuple[Any, int]]) -> None:
        """Note where each replica's records went, and drop the log behind any new mark."""
        for record, lsn in written:
            self.note_position(record, lsn)
        if any(_is_mark(record) for record, _ in written):
            self.truncate()

    def place(self, records: list[Any]) -> None:
        """Record hosted partitions durably: a new placement file, fsynced, then renamed."""
        assert self.root is not None
        for record in records:
            if type(record) is Hosted:
                self.hosted[record.partition] = record
            else:
                self.hosted.pop(record.partition, None)
                self.drop_btree(record.partition)
        path, scratch = self.root / "placement.json", self.root / "placement.json.new"
        with open(scratch, "w") as out:
            json.dump([self.codec.to_tree(h) for h in self.hosted.values()], out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(scratch, path)
        directory = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def drop_btree(self, partition: PartitionId) -> None:
        btree = self.btrees.pop(partition, None)
        if btree is not None:
            btree.close()
        if self.root is not None:
            for path in (self.root / "partitions").glob(f"{partition}.sqlite3*"):
                path.unlink()
        self.slots.pop(partition, None)
        self.promises.pop(partition, None)

    def keep_in_memory(self, records: list[Any]) -> None:
        """Without a directory: keep what a restart needs, and forget what a mark covers."""
        for record in records:
            kind = type(record)
            if kind is Hosted:
                self.hosted[record.partition] = record
            elif kind is Unhosted:
                self.hosted.pop(record.partition, None)
                self.tagged.pop(record.partition, None)
                self.drop_btree(record.partition)
            elif kind is Checkpoint:
                self.records[:] = [record]
            elif kind is not Tagged:
                self.records.append(record)
            elif type(record.record) is Snapshot:
                # The B-tree holds the slots behind the mark: keep neither them nor the mark.
                kept = self.tagged.get(record.partition, [])
                kept[:] = [r for r in kept if not _behind(r.record, record.record.index)]
            else:
                self.tagged.setdefault(record.partition, []).append(record)

    # --- dropping the log behind the B-trees ------------------------------------------

    def note_position(self, record: Any, lsn: int) -> None:
        if type(record) is Checkpoint:
            self.checkpoint = lsn
        if type(record) is not Tagged:
            return
        inner, partition = record.record, record.partition
        if type(inner) is AcceptedEntry:
            self.slots.setdefault(partition, {})[inner.index] = lsn
        elif type(inner) is Promised:
            self.promises[partition] = lsn
        elif type(inner) is Snapshot:
            slots = self.slots.get(partition, {})
            for slot in [s for s in slots if s <= inner.index]:
                del slots[slot]

    def truncate(self) -> None:
        """Drop sealed log segments no hosted replica needs any more.

        A replica needs its accepted slots since its last mark and its latest
        promise; everything older is in its B-tree, made durable first. The TC
        needs its latest checkpoint and what follows it.
        """
        assert self.log is not None
        needed = [lsn for slots in self.slots.values() for lsn in slots.values()]
        needed += list(self.promises.values())
        if self.checkpoint is not None:
            needed.append(self.checkpoint)
        oldest = min(needed, default=self.log.last_lsn + 1)
        removable = [s for s in self.log.segments() if s.sealed and s.last_lsn < oldest]
        if not removable:
            return
        for btree in self.btrees.values():
            btree.sync()
        for segment in removable:
            self.log.remove_segment(segment)


def _is_mark(record: Any) -> bool:
    return type(record) is Checkpoint or (type(record) is Tagged
                                          and type(record.record) is Snapshot)


def _behind(record: Any, mark: int) -> bool:
    """A replica's record its B-tree now holds: a slot up to `mark`, or an old promise
    (the replica persists its promise again after every mark)."""
    return (type(record) is AcceptedEntry and record.index <= mark) or type(record) is Promised
