"""Secondary indexes: what an index is, and the entry it keeps for each item.

A secondary index lets a table be queried by a key other than its primary key
(paper §2; Developer Guide "Improving data access with secondary indexes").
DynamoDB has two kinds, and both keep, for every item that has the index's key
attributes, one *entry*: the index key, the table's primary key and the
attributes the index *projects*.

* A **local** secondary index (LSI) shares the table's partition key and has
  another sort key. Its entries live in the base partition, beside the items,
  and change in the same replicated write as the item.
* A **global** secondary index (GSI) has a partition key of its own. It is a
  table of its own, partitioned by that key, and is kept up to date
  asynchronously from the base partitions' logs: it is eventually consistent.

An item without one of the index's key attributes has no entry: indexes are
*sparse*. An item holding an index key attribute with another type than the
index's is refused, as DynamoDB refuses it (`check_index_keys`). An entry's
key is unique even when many items share an index key: its sort part is the
index's sort key followed by the table's primary key (`entry_key`), in an
encoding whose bytewise order is the order of its parts.

The rules of a local index's *item collection* (Developer Guide, "Item
collections in Local Secondary Indexes"): the items of one partition key value
and all their local index entries form a collection, which may not grow past
10 GB (`ITEM_COLLECTION_LIMIT`); a write that would take it further is refused
with ItemCollectionSizeLimitExceededException. An entry counts its projected
attributes plus 100 bytes of overhead (`entry_size`), as DynamoDB counts it.
"""

from __future__ import annotations

from dataclasses import dataclass

from dynamo.storage.attributes import Item, item_size, type_of
from dynamo.storage.btree import Mutation
from dynamo.storage.errors import ValidationException
from dynamo.storage.keys import (
    MAX_PARTITION_KEY_BYTES,
    MAX_SORT_KEY_BYTES,
    EncodedKey,
    KeyAttribute,
    KeySchema,
    encode_value,
    hash_position,
)

KEYS_ONLY, INCLUDE, ALL = "KEYS_ONLY", "INCLUDE", "ALL"
MAX_LOCAL_INDEXES = 5
MAX_GLOBAL_INDEXES = 20
ITEM_COLLECTION_LIMIT = 10 * 1024 ** 3  # 10 GB per partition key value, with local indexes
ENTRY_OVERHEAD = 100  # bytes DynamoDB adds to each index entry's size

_INVALID = "One or more parameter values were invalid: "
_EMPTY_INDEX_KEY = ("One or more parameter values are not valid. A value specified for a "
                    "secondary index key is not supported. The AttributeValue for a key "
                    "attribute cannot contain an empty {kind} value. IndexName: {index}, "
                    "IndexKey: {name}")


@dataclass(frozen=True)
class Projection:
    """Which attributes an index copies: the keys only, the keys and some, or all."""

    type: str = ALL
    non_key_attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SecondaryIndex:
    """One index of a table, as CreateTable or UpdateTable defined it.

    `status` and `backfilling` are a global index's life (CREATING with a
    backfill, then ACTIVE; DELETING); a local index is ACTIVE with its table.
    A global index has throughput of its own in provisioned mode, and an
    `index_id` drawn when it is created, which names its partitions: an index
    deleted and created again under its name gets partitions of its own.
    """

    name: str
    key_schema: KeySchema
    projection: Projection
    is_global: bool
    read_capacity: int = 0
    write_capacity: int = 0
    status: str = "ACTIVE"
    backfilling: bool = False
    index_id: str = ""


def index_tbl(table_tbl: str, index: SecondaryIndex) -> str:
    """The storage id an index's entries are filed under (beside its table's `tbl`)."""
    return f"{table_tbl}#{index.name}"


def entry_key(table: KeySchema, index: SecondaryIndex, item: Item) -> EncodedKey | None:
    """Where an item's entry sits in the index, or None if the item has no entry.

    The partition part is the index's partition key; the sort part is the
    index's sort key (if any) and then the table's key, each escaped so that
    no part is a prefix of another (`_part`). An item lacking an index key
    attribute, or holding it with another type, is not in the index (sparse).
    """
    # BEGIN ASSIGNMENT ch07-entries: None unless the item has every index key attribute; else placed by the index partition key, sorted by index sort key then table key, each part escaped with _part
    schema = index.key_schema
    partition = _key_value(schema.partition, item)
    if partition is None:
        return None
    parts: list[bytes] = []
    if schema.sort is not None:
        sort = _key_value(schema.sort, item)
        if sort is None:
            return None
        parts.append(sort)
    for attribute in (table.partition, table.sort):
        if attribute is not None:
            parts.append(encode_value(item[attribute.name]))
    return EncodedKey(hash_position(partition), partition, b"".join(map(_part, parts)))
    # END ASSIGNMENT


def projected(table: KeySchema, index: SecondaryIndex, item: Item) -> Item:
    """What the index keeps of an item: both keys, and the projected attributes."""
    # BEGIN ASSIGNMENT ch07-entries: both keys always; ALL the whole item, INCLUDE the keys and the non-key attributes named, KEYS_ONLY the keys
    keep = {*table.names, *index.key_schema.names}
    if index.projection.type == ALL:
        return dict(item)
    if index.projection.type == INCLUDE:
        keep.update(index.projection.non_key_attributes)
    return {name: value for name, value in item.items() if name in keep}
    # END ASSIGNMENT


def entry_size(entry_item: Item) -> int:
    """An entry's size as DynamoDB counts it: the projected item plus the overhead."""
    return item_size(entry_item) + ENTRY_OVERHEAD


def entry(table_tbl: str, table: KeySchema, index: SecondaryIndex,
          item: Item) -> Mutation | None:
    """The index entry an item stands for, as a B-tree write (None: not in the index)."""
    key = entry_key(table, index, item)
    if key is None:
        return None
    return Mutation(index_tbl(table_tbl, index), key, projected(table, index, item))


def entry_changes(table_tbl: str, table: KeySchema, index: SecondaryIndex,
                  old: Item | None, new: Item | None) -> tuple[Mutation, ...]:
    """The index writes that take an item from `old` to `new` (None: no item).

    The old entry is deleted when its key changes or the item leaves the
    index; the new one is written when the item is in the index and its entry
    is not already what it should be (a write that changes no projected
    attribute costs the index nothing, as DynamoDB charges it).
    """
    # BEGIN ASSIGNMENT ch07-entries: delete the old entry if its key moved or the item left the index; put the new one unless it is already exactly right
    before = None if old is None else entry_key(table, index, old)
    after = None if new is None else entry(table_tbl, table, index, new)
    changes: list[Mutation] = []
    if before is not None and (after is None or after.key != before):
        changes.append(Mutation(index_tbl(table_tbl, index), before, None))
    unchanged = (after is not None and after.key == before and old is not None
                 and after.item == projected(table, index, old))
    if after is not None and not unchanged:
        changes.append(after)
    return tuple(changes)
    # END ASSIGNMENT


def check_index_keys(index: SecondaryIndex, item: Item) -> None:
    """Refuse an item whose index key attributes the index could not hold.

    An absent attribute is fine (the item is simply not in the index); one of
    the wrong type, an empty string or binary, or one too large is DynamoDB's
    ValidationException, naming the index.

    Raises:
        ValidationException: with DynamoDB's message.
    """
    schema = index.key_schema
    limits = ((schema.partition, MAX_PARTITION_KEY_BYTES), (schema.sort, MAX_SORT_KEY_BYTES))
    for attribute, limit in limits:
        if attribute is None or attribute.name not in item:
            continue
        actual = type_of(item[attribute.name])
        if actual != attribute.type:
            raise ValidationException(
                _INVALID + f"Type mismatch for Index Key {attribute.name} Expected: "
                f"{attribute.type} Actual: {actual} IndexName: {index.name}")
        encoded = encode_value(item[attribute.name])
        if attribute.type != "N" and not encoded:
            kind = "string" if attribute.type == "S" else "binary"
            raise ValidationException(_EMPTY_INDEX_KEY.format(
                kind=kind, index=index.name, name=attribute.name))
        if len(encoded) > limit:
            raise ValidationException(
                _INVALID + f"Size limit exceeded for Index Key {attribute.name} Actual Size: "
                f"{len(encoded)} bytes Max Size: {limit} bytes IndexName: {index.name}")


def sort_bounds(low: bytes | None, low_inclusive: bool, high: bytes | None,
                high_inclusive: bool) -> tuple[bytes | None, bool, bytes | None, bool]:
    """Bounds on an index's sort key, as bounds on its entries' composite sort parts.

    An entry's sort part starts with `_part(v)` for its index sort key `v`, and
    `_part` keeps order and is never a prefix of another part, so: v >= b is
    part >= _part(b); v <= b is part < _after(b), the first part past every
    entry whose key is b; and the strict bounds swap the two.
    """
    new_low = None if low is None else (_part(low) if low_inclusive else _after(low))
    new_high = None if high is None else (_after(high) if high_inclusive else _part(high))
    return new_low, True, new_high, False


def _key_value(attribute: KeyAttribute, item: Item) -> bytes | None:
    # BEGIN ASSIGNMENT ch07-entries: the attribute's encoded value, or None if the item lacks it or holds another type (sparse)
    value = item.get(attribute.name)
    if value is None or type_of(value) != attribute.type:
        return None
    return encode_value(value)
    # END ASSIGNMENT


def _after(encoded: bytes) -> bytes:
    """The smallest sort part above every part that begins with `_part(encoded)`."""
    return _part(encoded)[:-1] + b"\x02"


def _part(encoded: bytes) -> bytes:
    """One part of a composite sort key: 0x00 escaped as 0x00 0xFF, ended by 0x00 0x01.

    The end marker sorts below every escaped byte, so a shorter part sorts
    first, as a prefix does; and no part can end early inside another.
    """
    return encoded.replace(b"\x00", b"\x00\xff") + b"\x00\x01"
