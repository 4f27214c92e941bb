"""A transaction's participant: a partition that prepares, commits and cancels (ATC'23 §3.3).

A transaction coordinator asks the leader of each item's partition to
*prepare* the item's part of a transaction, then to *commit* or *cancel* it.
The participant's side of that, as the paper lays it out (Listings 2-4):

* **Every item carries a timestamp**: that of the last transaction committed
  on it. Transactions are ordered by their timestamps, which their
  coordinators draw from their own clocks (§3.2).
* **A prepare is accepted only if** its condition holds, no other prepared
  transaction holds the item, and the timestamp order allows it: the item's
  timestamp is older than the transaction's. An item that does not exist has
  no timestamp; the paper keeps no tombstones, so the partition keeps one
  *max delete timestamp*, raised by every transactional delete, and a prepare
  that would create an item must be later than it (`may_prepare`).
* **Commit** applies what was prepared, sets the item's timestamp and releases
  it; **cancel** releases it unchanged. Both may arrive more than once (a
  coordinator re-drives them until answered), so both are idempotent.
* **Single-item writes** (PutItem, UpdateItem, DeleteItem) never wait: on an
  item a prepared transaction holds, they are refused with
  TransactionConflictException (§4 discusses letting them through; the lab
  takes the plain rule). Singleton GetItem reads the last committed value and
  never conflicts.

Everything is decided in log order, as a split is (`partition_store.py`): a
prepare, commit or cancel is a record of the partition's replicated log, and
its effect is applied at the same slot on every replica. What an item's
transaction state is lives in a system table of the partition's B-tree
(`TRANSACTIONS_TABLE`), one row per item, keyed so that it hashes exactly as
the item does: it commits with the applied LSN, survives a crash, travels in
every snapshot, and goes with its item's half when the partition splits. The
leader plans against that state, and every replica checks it again at apply
(the leader may have planned two prepares of one item before either applied:
the second is then skipped, its client told to retry, as layer 3 skips a
write whose assumptions failed).

The lab's own choices, beside the paper:

* A cancel leaves the transaction's timestamp on the item (when it is later
  than the item's), so that a copy of the transaction's prepare that arrives
  after its cancel (the network delays it, a router gave up on it) is refused
  by the timestamp order, instead of holding the item forever.
* A prepare waits for the item's single-item writes in flight (it answers
  Unavailable, which its router retries): its condition is evaluated against
  the item as applied, never against a write that might not be chosen.
* `ItemRead.version` (§3.4's LSN): the slot of the item's last write, kept
  in memory since the replica opened; an item not written since reads as the
  slot the replica opened at. Two reads agree only if no write came between.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from dynamo.partitioning.keyspace import KeyRange
from dynamo.partitioning.partition_map import PartitionId
from dynamo.partitioning.partition_store import PartitionStore, WrongPartition
from dynamo.partitioning.router import key_of
from dynamo.paxos.operations import (
    DeleteItem,
    Ok,
    PutItem,
    Rejected,
    Unavailable,
    UpdateItem,
)
from dynamo.paxos.statemachine import DropRecord, InFlight, WriteRecord, digest, plan_write
from dynamo.storage.attributes import Item
from dynamo.storage.btree import BTree, Mutation
from dynamo.storage.capacity import ConsumedCapacity, read_units
from dynamo.storage.errors import (
    ConditionalCheckFailedException,
    DynamoError,
    TransactionConflictException,
)
from dynamo.storage.expressions import evaluate
from dynamo.storage.keys import EncodedKey
from dynamo.storage.table import Table, WritePlan
from dynamo.transactions.operations import (
    Action,
    Cancel,
    Commit,
    ConditionCheck,
    Finished,
    ItemRead,
    Prepare,
    Prepared,
    ReadForTransaction,
    action_key,
)

TRANSACTIONS_TABLE = "__transactions__"
_MAX_DELETE_KEY = EncodedKey(b"", b"\x00max_delete_ts", b"")
ONGOING = "Transaction is ongoing for the item"  # DynamoDB's words for a conflict
ItemKey = tuple[str, EncodedKey]

# --- what the system table holds ---------------------------------------------------------


@dataclass(frozen=True)
class PreparedWrite:
    """What a prepared transaction will do to an item when it commits.

    `changes` are the after-images (the item's, and its index entries'), empty
    for a ConditionCheck or a write that changes nothing; `deletes` says the
    item itself goes, which raises the partition's max delete timestamp.
    """

    txn: str
    ts: int
    changes: tuple[Mutation, ...] = ()
    deletes: bool = False


@dataclass(frozen=True)
class ItemState:
    """An item's transaction state: its timestamp, and the transaction holding it."""

    ts: int = 0
    prepared: PreparedWrite | None = None


# --- the log records -------------------------------------------------------------------


@dataclass(frozen=True)
class PrepareRecord:
    """A prepare, accepted at the leader: the item is held from this slot on.

    `expects` is the digest of the item the leader planned against: every
    replica skips the record if the item is not that any more.
    """

    tbl: str
    key: EncodedKey
    write: PreparedWrite
    expects: str


@dataclass(frozen=True)
class CommitRecord:
    tbl: str
    key: EncodedKey
    txn: str
    ts: int


@dataclass(frozen=True)
class CancelRecord:
    tbl: str
    key: EncodedKey
    txn: str
    ts: int


def may_prepare(state: ItemState | None, ts: int, exists: bool, max_delete_ts: int) -> bool:
    """Whether timestamp ordering lets a transaction at `ts` prepare an item (ATC'23 §3.3).

    `state` is the item's transaction state (None: no transaction ever touched
    it, or its last one deleted it); `exists` whether the item is stored now.
    """
    # BEGIN ASSIGNMENT ch08-prepare: a held item refuses; else the item's timestamp, or the max delete one, must be older
    if state is not None and state.prepared is not None:
        return False  # another transaction holds the item until it commits or cancels
    if state is not None:
        return state.ts < ts  # only a later transaction may follow the last one
    if not exists:
        return max_delete_ts < ts  # no tombstones: the partition's max delete timestamp
    return True  # an item no transaction has touched
    # END ASSIGNMENT


class Participant(PartitionStore):
    """A partition's items, and the transaction state of each, on one replica."""

    def __init__(self, btree: BTree, partition: PartitionId, key_range: KeyRange) -> None:
        super().__init__(btree, partition, key_range)
        self._load()

    def _load(self) -> None:
        """Read the system table into memory, where every plan and apply looks first."""
        self.states: dict[ItemKey, ItemState] = {}
        for entry in self.btree.scan(TRANSACTIONS_TABLE):
            tbl, key = _item_of(entry.key)
            self.states[(tbl, key)] = _state_of(entry.item)
        marker = self.btree.get(TRANSACTIONS_TABLE, _MAX_DELETE_KEY)
        self.max_delete_ts = 0 if marker is None else int(marker["ts"]["N"])
        self.opened_at = self.btree.applied_lsn()
        self.versions: dict[ItemKey, int] = {}

    def held(self) -> dict[ItemKey, str]:
        """The items a prepared transaction holds, and which one (tests, dashboards)."""
        return {k: s.prepared.txn for k, s in self.states.items() if s.prepared is not None}

    # --- planning, at the leader -------------------------------------------------------

    def plans(self, request: Any) -> bool:
        return type(request) in _PLANNERS or super().plans(request)

    def plan(self, request: Any, in_flight: InFlight) -> tuple[Any, Any]:
        kind = type(request)
        planner = _PLANNERS.get(kind)
        if planner is not None:
            if self.split is not None:
                return None, WrongPartition(self.partition, self.split)
            return planner(self, request, in_flight)
        if (kind in (PutItem, UpdateItem, DeleteItem) and self.split is None
                and self._holder(request) is not None):
            return None, Rejected(TransactionConflictException(ONGOING))
        return super().plan(request, in_flight)

    def _plan_prepare(self, request: Prepare, in_flight: InFlight) -> tuple[Any, Any]:
        action = request.action
        tbl, key = action.table.tbl, action_key(action)
        if (tbl, key) in in_flight.pending:
            return None, Unavailable("a write of the item is in flight")
        state = self.states.get((tbl, key))
        item = self.btree.get(tbl, key)
        again = self._held_by(tbl, key, request.txn)  # the coordinator asked again
        if not again and not may_prepare(state, request.ts, item is not None,
                                         self.max_delete_ts):
            return None, Rejected(TransactionConflictException(ONGOING))
        try:
            plan = plan_action(Table(self.btree, action.table), action)
        except DynamoError as error:
            return None, Rejected(error)
        if again:
            return None, Ok(Prepared(plan.capacity))
        deletes = type(action) is DeleteItem and item is not None
        changes = () if type(action) is ConditionCheck else plan.mutations
        write = PreparedWrite(request.txn, request.ts, changes, deletes)
        return PrepareRecord(tbl, key, write, digest(item)), Ok(Prepared(plan.capacity))

    def _plan_commit(self, request: Commit, in_flight: InFlight) -> tuple[Any, Any]:
        if not self._held_by(request.tbl, request.key, request.txn):
            return None, Ok(Finished())  # committed before: the coordinator asked again
        return CommitRecord(request.tbl, request.key, request.txn, request.ts), Ok(Finished())

    def _plan_cancel(self, request: Cancel, in_flight: InFlight) -> tuple[Any, Any]:
        state = self.states.get((request.tbl, request.key))
        if (state is not None and state.ts >= request.ts
                and not self._held_by(request.tbl, request.key, request.txn)):
            return None, Ok(Finished())  # nothing to release, and a late prepare is refused
        return CancelRecord(request.tbl, request.key, request.txn, request.ts), Ok(Finished())

    def _plan_read(self, request: ReadForTransaction, in_flight: InFlight) -> tuple[Any, Any]:
        """A TransactGet's read: from the applied items, at the leader, never logged."""
        get = request.get
        key = key_of(get)
        assert key is not None
        if self._holder_of(get.table.tbl, key) is not None:
            return None, Rejected(TransactionConflictException(ONGOING))
        try:
            item, capacity = Table(self.btree, get.table).get_item(get.key, True, get.projection,
                                                                   validated=True)
        except DynamoError as error:
            return None, Rejected(error)
        version = (self.partition, self.versions.get((get.table.tbl, key), self.opened_at))
        return None, Ok(ItemRead(item, capacity, version))

    # --- applying, at every replica ------------------------------------------------------

    def apply(self, slot: int, command: Any) -> bool:
        kind = type(command)
        if self.split is not None:
            return super().apply(slot, command)
        if kind is PrepareRecord:
            return self._apply_prepare(slot, command)
        if kind is CommitRecord:
            return self._apply_commit(slot, command)
        if kind is CancelRecord:
            return self._apply_cancel(slot, command)
        if kind is WriteRecord and any(self._holder_of(c.tbl, c.key) for c in command.changes):
            # Planned before a prepare of the item applied: it would write under the
            # transaction. Skipped on every replica; its client is told to retry.
            self.btree.apply([], slot)
            return False
        applied = super().apply(slot, command)
        if applied and kind is WriteRecord:
            for change in command.changes:
                self.versions[(change.tbl, change.key)] = slot
        elif kind is DropRecord:
            self.versions.clear()
            self.opened_at = slot  # every item of the table changed here
        return applied

    def _apply_prepare(self, slot: int, record: PrepareRecord) -> bool:
        state = self.states.get((record.tbl, record.key))
        if self._held_by(record.tbl, record.key, record.write.txn):
            self.btree.apply([], slot)
            return True  # the same prepare, applied already
        item = self.btree.get(record.tbl, record.key)
        if (digest(item) != record.expects
                or not may_prepare(state, record.write.ts, item is not None, self.max_delete_ts)):
            self.btree.apply([], slot)
            return False
        ts = 0 if state is None else state.ts
        self._set_state(slot, record.tbl, record.key, ItemState(ts, record.write))
        return True

    def _apply_commit(self, slot: int, record: CommitRecord) -> bool:
        state = self.states.get((record.tbl, record.key))
        if state is None or not self._held_by(record.tbl, record.key, record.txn):
            self.btree.apply([], slot)
            return True
        write = state.prepared
        assert write is not None
        ts = max(state.ts, record.ts)
        changes = list(write.changes)
        if write.deletes:  # no tombstone: the partition remembers the latest delete instead
            self.max_delete_ts = max(self.max_delete_ts, ts)
            marker = {"ts": {"N": str(self.max_delete_ts)}}
            changes.append(Mutation(TRANSACTIONS_TABLE, _MAX_DELETE_KEY, marker))
        self._set_state(slot, record.tbl, record.key, None if write.deletes else ItemState(ts),
                        changes)
        for change in write.changes:
            self.versions[(change.tbl, change.key)] = slot
        return True

    def _apply_cancel(self, slot: int, record: CancelRecord) -> bool:
        state = self.states.get((record.tbl, record.key)) or ItemState()
        prepared = None if self._held_by(record.tbl, record.key, record.txn) else state.prepared
        self._set_state(slot, record.tbl, record.key,
                        ItemState(max(state.ts, record.ts), prepared))
        return True

    def _set_state(self, slot: int, tbl: str, key: EncodedKey, state: ItemState | None,
                   changes: list[Mutation] | None = None) -> None:
        """Change an item's transaction state, with `changes`, in one B-tree transaction."""
        row = None if state is None else _row_of(state)
        self.btree.apply([*(changes or ()), Mutation(TRANSACTIONS_TABLE, _row_key(tbl, key), row)],
                         slot)
        if state is None:
            self.states.pop((tbl, key), None)
        else:
            self.states[(tbl, key)] = state

    # --- snapshots and splits -----------------------------------------------------------

    def restore(self, index: int, items: tuple[Mutation, ...], members: tuple[str, ...],
                log_members: tuple[str, ...] = ()) -> None:
        super().restore(index, items, members, log_members)
        self._load()

    def child_items(self, child: KeyRange) -> list[Mutation]:
        """The parent's items in one child's half, with their rows: and the max delete
        timestamp, which holds for both halves."""
        items = [m for m in super().child_items(child) if m.key != _MAX_DELETE_KEY]
        marker = self.btree.get(TRANSACTIONS_TABLE, _MAX_DELETE_KEY)
        if marker is not None:
            items.append(Mutation(TRANSACTIONS_TABLE, _MAX_DELETE_KEY, marker))
        return items

    # --- helpers -------------------------------------------------------------------------

    def _holder(self, request: Any) -> str | None:
        """The transaction holding the item a single-item write touches, if any."""
        try:
            key = key_of(request)
        except DynamoError:
            return None  # a key that fits no schema: the write's own plan refuses it
        return None if key is None else self._holder_of(request.table.tbl, key)

    def _holder_of(self, tbl: str, key: EncodedKey) -> str | None:
        state = self.states.get((tbl, key))
        return None if state is None or state.prepared is None else state.prepared.txn

    def _held_by(self, tbl: str, key: EncodedKey, txn: str) -> bool:
        return self._holder_of(tbl, key) == txn


_PLANNERS = {
    Prepare: Participant._plan_prepare,
    Commit: Participant._plan_commit,
    Cancel: Participant._plan_cancel,
    ReadForTransaction: Participant._plan_read,
}


def plan_action(table: Table, action: Action) -> WritePlan:
    """An action's plan: a write's, or a ConditionCheck's (a consistent read of the item)."""
    if type(action) is not ConditionCheck:
        return plan_write(table, action)
    key = action_key(action)
    item, size = table.btree.get_with_size(table.tbl, key)
    capacity = ConsumedCapacity(table.definition.name, read=read_units(size, True))
    condition = action.compiled.condition
    if condition is not None and not evaluate(condition, item):
        raise ConditionalCheckFailedException(
            item=item if action.on_failure == "ALL_OLD" else None, capacity=capacity)
    return WritePlan(None, None, capacity)


# --- rows of the system table ------------------------------------------------------------


def _row_key(tbl: str, key: EncodedKey) -> EncodedKey:
    """The row of an item's transaction state: the item's hash, so it splits with it."""
    return EncodedKey(key.hash, tbl.encode() + b"\x00" + key.partition, key.sort)


def _item_of(row_key: EncodedKey) -> ItemKey:
    tbl, _, partition = row_key.partition.partition(b"\x00")
    return tbl.decode(), EncodedKey(row_key.hash, partition, row_key.sort)


def _row_of(state: ItemState) -> Item:
    row: Item = {"ts": {"N": str(state.ts)}}
    write = state.prepared
    if write is not None:
        row["txn"] = {"S": write.txn}
        row["txn_ts"] = {"N": str(write.ts)}
        row["deletes"] = {"BOOL": write.deletes}
        row["changes"] = {"L": [{"M": _change_row(c)} for c in write.changes]}
    return row


def _state_of(row: Item) -> ItemState:
    if "txn" not in row:
        return ItemState(int(row["ts"]["N"]))
    changes = tuple(_change_of(c["M"]) for c in row["changes"]["L"])
    return ItemState(int(row["ts"]["N"]), PreparedWrite(
        row["txn"]["S"], int(row["txn_ts"]["N"]), changes, row["deletes"]["BOOL"]))


def _change_row(change: Mutation) -> Item:
    key = change.key
    parts = {name: {"S": base64.b64encode(value).decode()}
             for name, value in (("h", key.hash), ("pk", key.partition), ("sk", key.sort))}
    image = {"NULL": True} if change.item is None else {"M": change.item}
    return {"tbl": {"S": change.tbl}, **parts, "item": image}


def _change_of(row: Item) -> Mutation:
    h, pk, sk = (base64.b64decode(row[name]["S"]) for name in ("h", "pk", "sk"))
    image = row["item"]
    return Mutation(row["tbl"]["S"], EncodedKey(h, pk, sk), None if "NULL" in image else image["M"])

