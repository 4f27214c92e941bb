"""The replicated state machine: a storage replica's B-tree, changed only by the log.

In DynamoDB a partition's replicas each hold "a write-ahead log and a B-tree"
(§3): the leader turns a write into a log record, Paxos replicates the record,
and every replica applies committed records to its B-tree in log order. This
module is the two halves of that, for one replica:

* **Planning, at the leader.** `StorageReplica.plan` evaluates a write's
  condition and update expression against the item as it will be when the
  write takes its slot: the applied B-tree, overlaid with the writes still in
  flight ahead of it (`InFlight`). The outcome is a `WriteRecord`, the
  after-images of the request's mutations (`dynamo.wal.records`' redo
  information), or a definite refusal (ConditionalCheckFailedException,
  ValidationException) that never enters the log. A write's record holds the
  item and, beside it, its secondary index entries and outbox rows
  (`WritePlan.mutations`): they are replicated and applied as one.
* **Applying, at every replica.** `apply(slot, command)` applies one chosen
  record to the layer-1 B-tree (SQLite) and records `slot` as the applied LSN
  in the same transaction: the paper's LSN *is* the log slot. Applying is
  deterministic, so all replicas hold the same items.

Why a record may carry `expects`. A write planned against another write still
in flight assumed that write would be chosen first. Usually it is (a leader
fills its slots in order), but a leader deposed mid-flight may see a
successor choose the later slot and fill the earlier one with a no-op. So a
record planned on in-flight state names the before-images it assumed
(digests), and `apply` skips it, on every replica alike, if the item is not
as assumed. Its client was never answered (the deposed leader does not
answer), so skipping it is the indefinite outcome the client already has.
A record planned only against applied state needs no such check: a leader
serves only once every earlier leader's writes are applied. The same holds
for a refusal: a condition found false against an in-flight write is only
false if that write is chosen, so such a refusal goes through the log too,
as a record with no changes and its `expects`, and is answered once applied.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from dynamo.paxos.operations import (
    DeleteItem,
    DropItems,
    GetItem,
    Ok,
    PutItem,
    Query,
    Rejected,
    Scan,
    UpdateItem,
)
from dynamo.storage.attributes import Item, item_size
from dynamo.storage.btree import BTree, Mutation
from dynamo.storage.errors import DynamoError
from dynamo.storage.keys import EncodedKey
from dynamo.storage.table import Table, WritePlan

ItemKey = tuple[str, EncodedKey]
MEMBERS = "members"
LOG_MEMBERS = "log_members"


@dataclass(frozen=True)
class Noop:
    """A command that changes nothing.

    A new leader proposes it to fill holes in the log it recovered, and once
    at the start of its ballot, so that it commits something of its own.
    """


@dataclass(frozen=True)
class WriteRecord:
    """One request's changes, as a log entry: after-images, and what they assumed.

    `changes` are whole after-images (None deletes), so applying a record twice
    is harmless. `expects` pairs an item with the digest of the before-image
    the leader planned against, for items planned on in-flight state. `service`
    marks a system deletion (a `DeleteItem`'s, e.g. Time to Live's): applying
    ignores it; it is there for whoever reads the log, as DynamoDB Streams
    shows such a delete with the service as its user identity.
    """

    changes: tuple[Mutation, ...]
    expects: tuple[tuple[str, EncodedKey, str], ...] = ()
    service: str | None = None


@dataclass(frozen=True)
class DropRecord:
    """DeleteTable's effect on the items, as a log entry."""

    tbl: str


class InFlight:
    """The leader's view of items: the applied B-tree under the writes in flight.

    It offers the methods `Table` plans with (`get`, `get_with_size`), so the
    very code that plans a PutItem on one node plans it here.
    """

    def __init__(self, btree: BTree) -> None:
        self.btree = btree
        self.pending: dict[ItemKey, tuple[int, Item | None]] = {}
        self.used: dict[ItemKey, Item | None] = {}

    def get(self, tbl: str, key: EncodedKey) -> Item | None:
        return self.get_with_size(tbl, key)[0]

    def get_with_size(self, tbl: str, key: EncodedKey) -> tuple[Item | None, int]:
        """The item as the next write will find it, and its size."""
        entry = self.pending.get((tbl, key))
        if entry is None:
            return self.btree.get_with_size(tbl, key)
        self.used[(tbl, key)] = item = entry[1]
        return item, 0 if item is None else item_size(item)

    def collection_usage(self, tbl: str, key: EncodedKey) -> tuple[int, int]:
        """An item collection's rows and bytes in `tbl`, as applied (an estimate:
        the writes in flight are not counted, as DynamoDB's size is an estimate)."""
        return self.btree.collection_usage(tbl, key)

    def add(self, slot: int, record: WriteRecord) -> None:
        """The record has taken `slot`: later plans see its after-images."""
        for change in record.changes:
            self.pending[(change.tbl, change.key)] = (slot, change.item)

    def chosen(self, slot: int, record: Any) -> None:
        """Slot `slot` is applied: its after-images are in the B-tree now."""
        if isinstance(record, WriteRecord):
            for change in record.changes:
                entry = self.pending.get((change.tbl, change.key))
                if entry is not None and entry[0] == slot:
                    del self.pending[(change.tbl, change.key)]


class StorageReplica:
    """One replica's items: planned against at the leader, applied everywhere."""

    def __init__(self, btree: BTree) -> None:
        self.btree = btree
        self._tables: dict[str, Table] = {}

    @property
    def applied_lsn(self) -> int:
        return self.btree.applied_lsn()

    def members(self) -> tuple[str, ...] | None:
        """The group's members as of the applied LSN, if a change was ever applied."""
        members = self.btree.meta(MEMBERS)
        return None if members is None else tuple(members)  # type: ignore[arg-type]

    # --- planning (the leader) ------------------------------------------------

    def plans(self, request: Any) -> bool:
        """Whether this store plans `request`, an operation beyond the item operations.

        A layer above may log operations of its own through the group (a partition's
        split, §4.4); a store that knows them says so here and plans them in `plan`.
        """
        return False

    def plan(self, request: Any, in_flight: InFlight) -> tuple[Any, Any]:
        """(log command, answer) for a write, or (None, Rejected) if it is refused."""
        if type(request) is DropItems:
            return DropRecord(request.tbl), Ok()
        table = Table(in_flight, request.table)  # type: ignore[arg-type]
        in_flight.used = {}
        try:
            plan = plan_write(table, request)
        except DynamoError as error:
            if not in_flight.used:
                return None, Rejected(error)
            # Refused on the strength of writes not chosen yet: the refusal is only true
            # if they are. A record with no changes checks that, in log order.
            return WriteRecord((), _expects(in_flight)), Rejected(error)
        service = request.service if type(request) is DeleteItem else None
        return WriteRecord(plan.mutations, _expects(in_flight), service), Ok(plan)

    # --- applying (every replica) -------------------------------------------------

    # --8<-- [start:apply]
    def apply(self, slot: int, command: Any) -> bool:
        """Apply one chosen command at `slot`; False if a record's assumptions failed."""
        kind = type(command)
        if kind is WriteRecord:
            if not all(digest(self.btree.get(t, k)) == d for t, k, d in command.expects):
                self.btree.apply([], slot)
                return False
            self.btree.apply(command.changes, slot)
        elif kind is DropRecord:
            self.btree.drop_table(command.tbl)
            self.btree.apply([], slot)
        else:  # Noop; membership changes record their members with `set_members`
            self.btree.apply([], slot)
        return True
    # --8<-- [end:apply]

    def log_members(self) -> tuple[str, ...]:
        """Which of the members are log replicas (§5.1), as of the applied LSN."""
        logs = self.btree.meta(LOG_MEMBERS)
        return () if logs is None else tuple(logs)  # type: ignore[arg-type]

    def set_members(self, slot: int, members: tuple[str, ...],
                    log_members: tuple[str, ...] = ()) -> None:
        self.btree.set_meta(LOG_MEMBERS, list(log_members), slot)
        self.btree.set_meta(MEMBERS, list(members), slot)

    # --- reading (the leader under its lease, or any replica) ----------------------

    def read(self, request: Any) -> Ok | Rejected:
        """Serve a read from the applied items."""
        table = self._table(request.table)
        try:
            if type(request) is GetItem:
                return Ok(table.get_item(request.key, request.consistent, request.projection))
            if type(request) is Query:
                return Ok(table.query(**dict(request.arguments), consistent=request.consistent))
            return Ok(table.scan(**dict(request.arguments), consistent=request.consistent))
        except DynamoError as error:
            return Rejected(error)

    def items(self, tbl: str) -> list[Item]:
        """Every item of one table, in B-tree order (tests, dashboards)."""
        return [m.item for m in self.btree.dump() if m.tbl == tbl and m.item is not None]

    # --- snapshots: a whole replica's items ---------------------------------------

    def dump(self) -> tuple[Mutation, ...]:
        return tuple(self.btree.dump())

    def restore(self, index: int, items: tuple[Mutation, ...], members: tuple[str, ...],
                log_members: tuple[str, ...] = ()) -> None:
        """Become the state as of slot `index` (an installed snapshot)."""
        self.btree.replace_all(items, index)
        self.set_members(index, members, log_members)

    def _table(self, definition: Any) -> Table:
        table = self._tables.get(definition.table_id)
        if table is None or table.definition is not definition:
            table = self._tables[definition.table_id] = Table(self.btree, definition)
        return table


def plan_write(table: Table, request: Any) -> WritePlan:
    """A table's plan for one write: its condition checked, its after-image computed."""
    kind = type(request)
    if kind is PutItem:  # the API validated the item when it built the request
        return table.plan_put(request.item, request.compiled, request.return_values,
                              request.on_failure, validated=True,
                              collection_limit=request.collection_limit)
    if kind is UpdateItem:
        return table.plan_update(request.key, request.compiled, request.return_values,
                                 request.on_failure, collection_limit=request.collection_limit)
    if kind is DeleteItem:
        return table.plan_delete(request.key, request.compiled, request.return_values,
                                 request.on_failure, collection_limit=request.collection_limit)
    raise TypeError(f"not a write: {request!r}")


def _expects(in_flight: InFlight) -> tuple[tuple[str, EncodedKey, str], ...]:
    return tuple((tbl, key, digest(item)) for (tbl, key), item in in_flight.used.items())


def digest(item: Item | None) -> str:
    """A short fingerprint of an item's value (None: no item)."""
    if item is None:
        return "-"
    return hashlib.blake2b(orjson.dumps(item, option=orjson.OPT_SORT_KEYS),
                           digest_size=12).hexdigest()


def is_read(request: Any) -> bool:
    return type(request) in (GetItem, Query, Scan)
