"""The replicated log: what a replica has accepted, chosen and made durable.

Each slot (index 1, 2, ...) of the log holds at most one accepted command and
the ballot it was accepted in. Slots up to `commit_index` are *chosen*: a
quorum accepted them, so no leader will ever put anything else there, and the
replica has applied them to its items in order. Slots above it may still
change when a new leader recovers the log.

What a replica writes to its write-ahead log (§3, §5.1) are the *records*
below, each a `Persist` effect; a replica that restarts rebuilds its acceptor
state and its log from them, oldest first (`rebuild`):

* `Promised(ballot)` — the acceptor promised to ignore lower ballots;
* `AcceptedEntry(index, ballot, command)` — the acceptor accepted a command;
* `Snapshot(index, None, members)` — everything up to `index` is applied to
  the replica's B-tree and made durable there, so the log entries it covers
  may be dropped ("truncated"): a replica that fell behind that far must be
  sent a copy of the B-tree instead, a `Snapshot` whose `items` are the
  B-tree's contents (§5.1, where the WAL is archived and truncated).

Which slots are chosen is *not* persisted in the log: after a restart a
replica knows that what its B-tree has applied is chosen (the B-tree records
its applied LSN, which is the slot), and the leader tells it the rest again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dynamo.contract import NodeId
from dynamo.paxos.ballot import ZERO, Ballot


@dataclass(frozen=True)
class Promised:
    """Record: the acceptor has promised `ballot`."""

    ballot: Ballot


@dataclass(frozen=True)
class AcceptedEntry:
    """Record (and message payload): slot `index` holds `command`, accepted in `ballot`."""

    index: int
    ballot: Ballot
    command: Any


@dataclass(frozen=True)
class Snapshot:
    """Record (and message payload): the state after applying slots 1..index.

    As a record, `items` is None: the items are in the B-tree. As a message
    payload, `items` is a copy of the B-tree (the mutations that rebuild it).
    """

    index: int
    items: tuple[Any, ...] | None
    members: tuple[NodeId, ...]
    log_members: tuple[NodeId, ...] = ()  # which members are log replicas (§5.1)


class ReplicatedLog:
    """One replica's view of the log: accepted entries above its snapshot."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.entries: dict[int, AcceptedEntry] = {}
        self.commit_index = snapshot.index
        self.last_index = snapshot.index

    def entry(self, index: int) -> AcceptedEntry | None:
        return self.entries.get(index)

    def accept(self, entry: AcceptedEntry) -> None:
        """Store an accepted entry (slots covered by the snapshot are already chosen)."""
        if entry.index <= self.snapshot.index:
            return
        self.entries[entry.index] = entry
        if entry.index > self.last_index:
            self.last_index = entry.index

    def entries_from(self, index: int) -> tuple[AcceptedEntry, ...]:
        """The accepted entries at `index` and above, in slot order."""
        start = max(index, self.snapshot.index + 1)
        return tuple(self.entries[i] for i in range(start, self.last_index + 1) if i in self.entries)

    def install(self, snapshot: Snapshot) -> None:
        """Adopt a snapshot: everything up to its index is chosen and applied."""
        for index in [i for i in self.entries if i <= snapshot.index]:
            del self.entries[index]
        self.snapshot = snapshot
        self.commit_index = max(self.commit_index, snapshot.index)
        self.last_index = max(self.last_index, snapshot.index)


@dataclass
class RebuiltState:
    """What a replica recovers from its records after a crash."""

    promised: Ballot
    log: ReplicatedLog


def rebuild(records: Iterable[Any], base: Snapshot) -> RebuiltState:
    """Replay persisted records, oldest first, into a promise and a log.

    `base` is what the replica's B-tree has applied (its LSN and members):
    entries at or below it are chosen and applied already.
    """
    promised = ZERO
    log = ReplicatedLog(base)
    for record in records:
        if isinstance(record, Promised):
            promised = max(promised, record.ballot)
        elif isinstance(record, AcceptedEntry):
            log.accept(record)
    return RebuiltState(promised, log)
