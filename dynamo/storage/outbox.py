"""The outbox: a base partition's durable queue of global-index updates (paper §2, indexes).

A global secondary index is a table of its own, kept up to date
asynchronously from the base partitions' replicated logs. A write to an item
of a table with global indexes therefore also writes, in the same log record,
the item's outbox rows: what the global indexes still have to be told about
that item. `dynamo.indexes` ships them to the index partitions. This module is
both ends of that delivery, as rows in B-trees and the writes that change them:

* **At the base partition**, two rows per item, keyed by the item's own key
  (so they hash with the item, move with it when its partition splits, and
  travel in every snapshot):

  - the *sequence* row, `{"seq": n}`: how many times the item's index entries
    have changed. It only grows and is never deleted, not even with the item,
    so an item deleted and written again keeps counting up;
  - the *outbox* row, while the indexes have not been told: the sequence it
    stands for and, per index, the entry keys to delete and the entry to put.
    Successive writes fold into one row: the latest entry wins, and every
    earlier entry key becomes a delete (unless it is the latest one). The row
    is deleted once the indexes have it (`MarkPropagated`), and only if its
    sequence is still the one that was shipped.

* **At an index partition**, beside each entry key, a *version* row: the
  highest sequence applied to that key, kept after the entry is deleted (a
  tombstone). An `IndexWrite` is applied only if its sequence is newer, so a
  late, duplicated or reordered old update never resurrects an entry.

An entry key embeds the base item's primary key (`indexes.entry_key`), so all
updates of one entry key come from one item, whose sequence orders them.

Each write here is planned at the partition's leader against its items plus
the writes in flight (`Items`), and logged as an ordinary record that names
the rows it read (`Plan.read`): applied only if they are still as read, as
`dynamo.paxos.statemachine` applies every write planned on assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol

import orjson

from dynamo.storage.attributes import Item
from dynamo.storage.btree import Mutation
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.indexes import entry
from dynamo.storage.keys import EncodedKey, key_attributes

SEQUENCE, UPDATES = "!seq", "!updates"  # the outbox row's own attributes ("!" is in no name)


class Items(Protocol):
    """Where a plan reads the items it assumes (the B-tree, or the leader's in-flight view)."""

    def get(self, tbl: str, key: EncodedKey) -> Item | None: ...


# --- where the rows live -------------------------------------------------------------

def outbox_tbl(tbl: str) -> str:
    """The storage id of a table's outbox rows (beside its items; no table name has a "!")."""
    return f"{tbl}!outbox"


def sequence_tbl(tbl: str) -> str:
    """The storage id of a table's per-item sequence rows."""
    return f"{tbl}!sequence"


def versions_tbl(tbl: str) -> str:
    """The storage id of an index's version rows (the sequence each entry key has seen)."""
    return f"{tbl}!versions"


def outbox_definition(definition: TableDefinition) -> TableDefinition:
    """The outbox rows as a table of their own, with the base table's key schema, so that a
    Scan reads them (`dynamo.indexes.propagator`): its `tbl` is `outbox_tbl`."""
    return replace(definition, name=f"{definition.name}!outbox", indexes=[],
                   table_id=f"{definition.table_id}!outbox")


# --- the updates an outbox row carries ---------------------------------------------------

@dataclass(frozen=True)
class IndexUpdate:
    """What one index must still be told about one item: entry keys to delete, the entry
    to put (None: the item is not in the index now)."""

    deletes: tuple[EncodedKey, ...] = ()
    put: Mutation | None = None


@dataclass(frozen=True)
class OutboxRow:
    """An item's unpropagated updates as of its sequence `seq`, per index name."""

    key: EncodedKey
    seq: int
    updates: dict[str, IndexUpdate]


def changes(items: Items, definition: TableDefinition, key: EncodedKey, old: Item | None,
            new: Item | None) -> tuple[Mutation, ...]:
    """The outbox writes that go with one item's change from `old` to `new` (None: absent).

    Nothing when no global index's entry changes (an attribute no index projects);
    else the item's next sequence and its outbox row with this change folded in.
    An index being deleted is told nothing more.
    """
    tbl, schema = definition.tbl, definition.key_schema
    changed: dict[str, tuple[EncodedKey | None, Mutation | None]] = {}
    for index in definition.live_global_indexes:
        before = None if old is None else entry(tbl, schema, index, old)
        after = None if new is None else entry(tbl, schema, index, new)
        if before != after:
            changed[index.name] = (None if before is None else before.key, after)
    if not changed:
        return ()
    row = pending(items, tbl, key)
    updates = {} if row is None else dict(row.updates)
    for name, (deleted, put) in changed.items():
        updates[name] = _fold(updates.get(name), deleted, put)
    seq = sequence(items, tbl, key) + 1
    image = new if new is not None else old
    assert image is not None
    return (Mutation(sequence_tbl(tbl), key, {"seq": {"N": str(seq)}}),
            Mutation(outbox_tbl(tbl), key, _row_item(key_attributes(schema, image), seq,
                                                     updates)))


def _fold(earlier: IndexUpdate | None, deleted: EncodedKey | None,
          put: Mutation | None) -> IndexUpdate:
    """One more change on top of what an index has not been told yet: the latest entry
    wins; every earlier entry key is deleted, unless the latest entry reuses it."""
    deletes = [] if earlier is None else list(earlier.deletes)
    if deleted is not None and deleted not in deletes:
        deletes.append(deleted)
    if put is not None:
        deletes = [k for k in deletes if k != put.key]
    return IndexUpdate(tuple(deletes), put)


def sequence(items: Items, tbl: str, key: EncodedKey) -> int:
    """The item's sequence: how many times its index entries changed (0: never)."""
    row = items.get(sequence_tbl(tbl), key)
    return 0 if row is None else int(row["seq"]["N"])


def pending(items: Items, tbl: str, key: EncodedKey) -> OutboxRow | None:
    """The item's outbox row, or None once the indexes have everything."""
    row = items.get(outbox_tbl(tbl), key)
    return None if row is None else from_item(key, row)


def from_item(key: EncodedKey, row: Item) -> OutboxRow:
    """An outbox row as stored (an item with the base table's key attributes)."""
    updates = {}
    for name, update in orjson.loads(row[UPDATES]["S"]).items():
        put = update["put"]
        updates[name] = IndexUpdate(
            tuple(_key(k) for k in update["deletes"]),
            None if put is None else Mutation(put["tbl"], _key(put["key"]), put["item"]))
    return OutboxRow(key, int(row[SEQUENCE]["N"]), updates)


def _row_item(key_item: Item, seq: int, updates: dict[str, IndexUpdate]) -> Item:
    plain = {name: {"deletes": [_hex(k) for k in u.deletes],
                    "put": None if u.put is None else
                    {"tbl": u.put.tbl, "key": _hex(u.put.key), "item": u.put.item}}
             for name, u in updates.items()}
    return {**key_item, SEQUENCE: {"N": str(seq)},
            UPDATES: {"S": orjson.dumps(plain, option=orjson.OPT_SORT_KEYS).decode()}}


def _hex(key: EncodedKey) -> list[str]:
    return [key.hash.hex(), key.partition.hex(), key.sort.hex()]


def _key(parts: list[str]) -> EncodedKey:
    return EncodedKey(*(bytes.fromhex(part) for part in parts))


# --- the writes that move updates along ---------------------------------------------------

@dataclass(frozen=True)
class IndexWrite:
    """Put (or delete: `item` None) one index entry, as of the base item's sequence `seq`."""

    tbl: str  # the index's storage id (`indexes.index_tbl`)
    key: EncodedKey
    seq: int
    item: Item | None


@dataclass(frozen=True)
class MarkPropagated:
    """The indexes have the item's updates up to `seq`: drop its outbox row, if still at it."""

    tbl: str  # the base table's storage id
    key: EncodedKey
    seq: int


@dataclass(frozen=True)
class BackfillItem:
    """Queue an existing item's entry for a global index being created (UpdateTable)."""

    definition: TableDefinition
    index: str
    key: EncodedKey


OPERATIONS = (IndexWrite, MarkPropagated, BackfillItem)


@dataclass(frozen=True)
class Plan:
    """A planned outbox write: its changes, and the rows it read (tbl, key, value as read),
    which must still be so when it is applied."""

    changes: tuple[Mutation, ...]
    read: tuple[tuple[str, EncodedKey, Item | None], ...]


def plans(request: Any) -> bool:
    """Whether `request` is one of the outbox's writes (a partition store plans it)."""
    return type(request) in OPERATIONS


def plan(request: Any, items: Items) -> Plan:
    """Plan one of the outbox's writes against `items` (the leader's in-flight view)."""
    kind = type(request)
    if kind is IndexWrite:
        return plan_index_write(request, items)
    if kind is MarkPropagated:
        row_tbl = outbox_tbl(request.tbl)
        row = items.get(row_tbl, request.key)
        if row is None or int(row[SEQUENCE]["N"]) != request.seq:
            return Plan((), ((row_tbl, request.key, row),))  # written again since: keep it
        return Plan((Mutation(row_tbl, request.key, None),), ((row_tbl, request.key, row),))
    return _plan_backfill(request, items)


def plan_index_write(write: IndexWrite, items: Items) -> Plan:
    """Apply an entry's update only if its sequence is newer than the entry key's version;
    the version stays when the entry is deleted (a tombstone)."""
    # BEGIN ASSIGNMENT ch07-entries: apply only a sequence newer than the entry key's version, read as the plan's assumption; keep the version when the entry is deleted (a tombstone)
    version_tbl = versions_tbl(write.tbl)
    version = items.get(version_tbl, write.key)
    read = ((version_tbl, write.key, version),)
    if version is not None and int(version["seq"]["N"]) >= write.seq:
        return Plan((), read)  # a late or duplicated update: the index has newer
    return Plan((Mutation(write.tbl, write.key, write.item),
                 Mutation(version_tbl, write.key, {"seq": {"N": str(write.seq)}})), read)
    # END ASSIGNMENT


def _plan_backfill(request: BackfillItem, items: Items) -> Plan:
    """The new index's entry of the item as it is now, folded into its outbox row."""
    definition = request.definition
    tbl = definition.tbl
    item = items.get(tbl, request.key)
    read = tuple((t, request.key, items.get(t, request.key))
                 for t in (tbl, sequence_tbl(tbl), outbox_tbl(tbl)))
    only = [index for index in definition.global_indexes if index.name == request.index]
    if item is None or not only:
        return Plan((), read)
    return Plan(changes(items, replace(definition, indexes=only), request.key, None, item), read)
