"""A table's items and DynamoDB's per-item semantics, on one replica's B-tree.

This is what a storage node does with a request once a router has brought it
there (paper §3): read the current item, check the condition against it,
compute the new item, and charge capacity units for the bytes involved (§4).
The rules, from the Developer Guide and the API Reference:

1. **Validate before mutating.** Every check (item, key, size, condition,
   update) happens while computing a *plan*; only a plan that passed them all
   is committed. A request that fails changes nothing.
2. **Writes are planned, then committed.** `plan_put`, `plan_update` and
   `plan_delete` compute the after-image without touching the B-tree;
   `commit` applies it. The write-ahead log sits between the two (ARIES:
   compute the after-image, log it, apply it), and the caller runs plan and
   commit for one item without another write in between.
3. **Conditions see the current item** (a missing item is an empty one). A
   failed condition raises ConditionalCheckFailedException, carrying the
   item when ReturnValuesOnConditionCheckFailure=ALL_OLD, and still costs
   write capacity.
4. **Capacity.** A write costs 1 WCU per started KB of the larger of the old
   and new images (a delete: the old image; at least 1). A read costs 1 RCU
   per started 4 KB when strongly consistent, half as much when eventual; a
   missing item still costs the minimum. Query and Scan sum the bytes of the
   items they *evaluated* (before any filter) and round once per page.
5. **Pages.** A Query or Scan stops after `Limit` evaluated items or once it
   has read 1 MB, whichever comes first, and then returns the key of the
   last item evaluated as LastEvaluatedKey. DynamoDB does not look ahead, so
   a page that stops exactly at the end still carries a LastEvaluatedKey and
   the next page is empty. The filter runs after: a page may hold fewer items
   than it evaluated, even none.
6. **Secondary indexes** (`dynamo.storage.indexes`). A write's plan carries,
   beside the item, the entries of the table's local indexes and the outbox
   rows of its global ones (`WritePlan.index_changes`), so the item and its
   entries change in one log record and one SQLite transaction. Writing to a
   local index costs write units on the table, entry by entry. A Query or Scan
   with `index` reads a local index's entries instead of the items, and fetches
   from the items what the index does not project, charging for both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from dynamo.storage import outbox
from dynamo.storage.attributes import Item, item_size, type_of, validate_item, validate_value
from dynamo.storage.btree import BTree, Entry, Mutation, segment_of
from dynamo.storage.capacity import (
    ConsumedCapacity,
    page_read_units,
    read_units,
    write_units,
)
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.errors import (
    ConditionalCheckFailedException,
    ItemCollectionSizeLimitExceededException,
    ValidationException,
)
from dynamo.storage.expressions import (
    CompiledRequest,
    Condition,
    KeyRange,
    Path,
    apply_update,
    evaluate,
    project,
)
from dynamo.storage.expressions.checks import condition_paths
from dynamo.storage.expressions.update import creates_item
from dynamo.storage.indexes import (
    ALL,
    ENTRY_OVERHEAD,
    INCLUDE,
    ITEM_COLLECTION_LIMIT,
    SecondaryIndex,
    check_index_keys,
    entry_changes,
    entry_key,
    entry_size,
    index_tbl,
    projected,
    sort_bounds,
)
from dynamo.storage.keys import (
    EncodedKey,
    KeySchema,
    decode_value,
    encode_value,
    item_key,
    key_attributes,
    request_key,
)

MAX_PAGE_BYTES = 1024 * 1024  # a Query or Scan reads at most 1 MB per call
MAX_ITEM_BYTES = 400 * 1024

RETURN_VALUES = ("ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW")
SELECT_VALUES = ("SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES")
UPDATE_TOO_LARGE = "Item size to update has exceeded the maximum allowed size"
SHAPE_ERROR = "1 validation error detected: "
COLLECTION_TOO_LARGE = "Item collection size limit exceeded"
START_KEY_INVALID = "The provided starting key is invalid"


@dataclass(frozen=True)
class WritePlan:
    """A write that passed every check, ready to be logged and committed.

    `mutation` is None when there is nothing to change (deleting a missing
    item); `attributes` is what ReturnValues asked for (None: nothing).
    `index_changes` are the index entries and outbox rows that change with the
    item; `collection_size` is the size in bytes of the item's collection after
    the write, for a table with local indexes (ReturnItemCollectionMetrics).
    """

    mutation: Mutation | None
    attributes: Item | None
    capacity: ConsumedCapacity
    index_changes: tuple[Mutation, ...] = ()
    collection_size: int | None = None

    @property
    def mutations(self) -> tuple[Mutation, ...]:
        """Every change of the write, applied together: the item, then its index rows."""
        return self.index_changes if self.mutation is None else (
            self.mutation, *self.index_changes)


@dataclass
class Page:
    """One page of a Query or Scan."""

    items: list[Item]
    count: int
    scanned_count: int
    last_evaluated_key: Item | None
    capacity: ConsumedCapacity
    scanned_bytes: int = 0  # what the page evaluated: a Scan across partitions adds these up


class Table:
    """One table's items on one replica."""

    def __init__(self, btree: BTree, definition: TableDefinition, *,
                 index_partition: bool = False) -> None:
        """`index_partition`: the B-tree is a global index's partition, which holds that
        index's entries and none of the table's items (`read_global_index`)."""
        self.btree = btree
        self.definition = definition
        self.schema = definition.key_schema
        self.tbl = definition.tbl
        self.index_partition = index_partition

    # -- writes ---------------------------------------------------------------

    # --8<-- [start:plan-put]
    def plan_put(self, item: Item, compiled: CompiledRequest | None = None,
                 return_values: str = "NONE", return_on_ccf: str = "NONE", *,
                 validated: bool = False,
                 collection_limit: int = ITEM_COLLECTION_LIMIT) -> WritePlan:
        """Plan a PutItem: replace the whole item stored under `item`'s key.

        `validated`: the caller has already passed `item` through `validate_item`
        (the API does, before it looks the table up), so it is not checked twice.
        `collection_limit`: the largest item collection a table with local
        indexes may grow to (DynamoDB's 10 GB; tests set a few KB).
        """
        check_put_delete_return_values(return_values)
        _check_return_on_ccf(return_on_ccf)
        if not validated:
            item = validate_item(item)
        key = item_key(self.schema, item)
        self._check_index_keys(item)
        old, old_size = self.btree.get_with_size(self.tbl, key)
        size = item_size(item)
        capacity = ConsumedCapacity(self.definition.name, write=write_units(max(old_size, size)))
        self._check_condition(compiled, old, return_on_ccf, capacity)
        attributes = old if return_values == "ALL_OLD" else None
        return self._with_indexes(WritePlan(Mutation(self.tbl, key, item, size), attributes,
                                            capacity), old, collection_limit)
    # --8<-- [end:plan-put]

    def plan_update(self, key: Item, compiled: CompiledRequest | None = None,
                    return_values: str = "NONE", return_on_ccf: str = "NONE", *,
                    collection_limit: int = ITEM_COLLECTION_LIMIT) -> WritePlan:
        """Plan an UpdateItem: edit the item in place, creating it if missing."""
        _check_enum(return_values, "returnValues", RETURN_VALUES)
        _check_return_on_ccf(return_on_ccf)
        encoded = _request_key(self.schema, key)
        old = self.btree.get(self.tbl, encoded)
        # A failed condition is charged on the item as it stands: the update
        # was never computed.
        self._check_condition(compiled, old, return_on_ccf, self._write_capacity(old, None))
        if old is None and compiled is not None and compiled.update is not None \
                and not creates_item(compiled.update):
            # Only REMOVE / DELETE, and nothing to act on: no item is created.
            return WritePlan(None, None, self._write_capacity(None, None))
        new, changed = self._updated(encoded, old, compiled)
        self._check_index_keys(new)
        attributes = _update_return_values(return_values, old, new, changed)
        capacity = self._write_capacity(old, new)
        return self._with_indexes(WritePlan(Mutation(self.tbl, encoded, new), attributes,
                                            capacity), old, collection_limit)

    def plan_delete(self, key: Item, compiled: CompiledRequest | None = None,
                    return_values: str = "NONE", return_on_ccf: str = "NONE", *,
                    collection_limit: int = ITEM_COLLECTION_LIMIT) -> WritePlan:
        """Plan a DeleteItem; deleting a missing item changes nothing but still costs."""
        check_put_delete_return_values(return_values)
        _check_return_on_ccf(return_on_ccf)
        encoded = _request_key(self.schema, key)
        old = self.btree.get(self.tbl, encoded)
        capacity = self._write_capacity(old, None)
        self._check_condition(compiled, old, return_on_ccf, capacity)
        mutation = None if old is None else Mutation(self.tbl, encoded, None)
        attributes = old if return_values == "ALL_OLD" else None
        return self._with_indexes(WritePlan(mutation, attributes, capacity), old,
                                  collection_limit)

    def commit(self, plan: WritePlan, lsn: int | None = None) -> None:
        """Apply a plan's mutations to the B-tree in one transaction (recording `lsn`)."""
        if plan.mutations or lsn is not None:
            self.btree.apply(plan.mutations, lsn)

    def put_item(self, item: Item, compiled: CompiledRequest | None = None,
                 return_values: str = "NONE", return_on_ccf: str = "NONE") -> WritePlan:
        """PutItem without a log in between: plan, then commit."""
        plan = self.plan_put(item, compiled, return_values, return_on_ccf)
        self.commit(plan)
        return plan

    def update_item(self, key: Item, compiled: CompiledRequest | None = None,
                    return_values: str = "NONE", return_on_ccf: str = "NONE") -> WritePlan:
        """UpdateItem without a log in between: plan, then commit."""
        plan = self.plan_update(key, compiled, return_values, return_on_ccf)
        self.commit(plan)
        return plan

    def delete_item(self, key: Item, compiled: CompiledRequest | None = None,
                    return_values: str = "NONE", return_on_ccf: str = "NONE") -> WritePlan:
        """DeleteItem without a log in between: plan, then commit."""
        plan = self.plan_delete(key, compiled, return_values, return_on_ccf)
        self.commit(plan)
        return plan

    # -- reads ----------------------------------------------------------------

    def get_item(self, key: Item, consistent: bool = False,
                 projection: Sequence[Path] | None = None, *,
                 validated: bool = False) -> tuple[Item | None, ConsumedCapacity]:
        """GetItem: the item (projected), or None, and what reading it cost.

        `validated`: the caller has already checked each of the key's values (the
        API does, before it looks the table up); matching them to the key schema
        is still this method's job.
        """
        encoded = request_key(self.schema, key) if validated else _request_key(self.schema, key)
        item, size = self.btree.get_with_size(self.tbl, encoded)
        capacity = ConsumedCapacity(self.definition.name, read=read_units(size, consistent))
        if item is not None and projection:
            item = project(item, projection)
        return item, capacity

    def query(self, key_range: KeyRange, forward: bool = True, limit: int | None = None,
              exclusive_start_key: Item | None = None, filter: Condition | None = None,
              projection: Sequence[Path] | None = None, select: str | None = None,
              consistent: bool = False, index: str | None = None) -> Page:
        """Query: one item collection, a sort-key range of it, in order (§1).

        With `index`, the collection's entries in a local index, in the order
        of the index's sort key.
        """
        source = self._source(index)
        select = _check_select(select, projection, SHAPE_ERROR, source.index)
        _check_limit(limit)
        partition = encode_value(key_range.partition_value)
        bounds = key_range.bounds(source.schema)
        start = None
        if exclusive_start_key is not None:
            start = self._query_start(exclusive_start_key, partition, bounds, source)
        if source.index is not None:
            bounds = sort_bounds(*bounds)
        low, low_inclusive, high, high_inclusive = bounds
        entries = self.btree.range(source.tbl, partition, low=low, low_inclusive=low_inclusive,
                                   high=high, high_inclusive=high_inclusive,
                                   forward=forward, start_after=start)
        return self._page(entries, limit, filter, projection, select, consistent, source)

    def scan(self, segment: int = 0, total_segments: int = 1, limit: int | None = None,
             exclusive_start_key: Item | None = None, filter: Condition | None = None,
             projection: Sequence[Path] | None = None, select: str | None = None,
             consistent: bool = False, max_bytes: int = MAX_PAGE_BYTES,
             index: str | None = None) -> Page:
        """Scan: every item, in hash order, one segment of a parallel scan (§3).

        `max_bytes` is what is left of the page's 1 MB when a Scan goes on from an
        earlier partition's items (`dynamo.partitioning.router`). With `index`,
        every entry of a local index instead.
        """
        source = self._source(index)
        select = _check_select(select, projection, "", source.index)
        _check_limit(limit)
        if not 0 <= segment < total_segments:
            raise ValidationException(
                "The Segment parameter is zero-based and must be less than parameter "
                f"TotalSegments: Segment: {segment} is not less than TotalSegments: "
                f"{total_segments}")
        start = None
        if exclusive_start_key is not None:
            start = self._scan_start(exclusive_start_key, segment, total_segments, source)
        entries = self.btree.scan(source.tbl, segment, total_segments, start_after=start)
        return self._page(entries, limit, filter, projection, select, consistent, source,
                          max_bytes)

    # -- helpers ----------------------------------------------------------------

    def _updated(self, encoded: EncodedKey, old: Item | None,
                 compiled: CompiledRequest | None) -> tuple[Item, tuple[Path, ...]]:
        """The item after the update, and the paths the update touched."""
        base = old if old is not None else self._key_item(encoded)
        if compiled is None or compiled.update is None:
            return base, ()
        result = apply_update(compiled.update, base)
        if item_size(result.item) > MAX_ITEM_BYTES:
            raise ValidationException(UPDATE_TOO_LARGE)
        return result.item, tuple(result.changed)

    def _key_item(self, encoded: EncodedKey) -> Item:
        """The key attributes alone, as an update of a missing item starts from."""
        partition = self.schema.partition
        item = {partition.name: decode_value(encoded.partition, partition.type)}
        if self.schema.sort is not None:
            item[self.schema.sort.name] = decode_value(encoded.sort, self.schema.sort.type)
        return item

    def _write_capacity(self, old: Item | None, new: Item | None) -> ConsumedCapacity:
        size = max(0 if old is None else item_size(old), 0 if new is None else item_size(new))
        return ConsumedCapacity(self.definition.name, write=write_units(size))

    def _check_index_keys(self, item: Item) -> None:
        for index in self.definition.indexes:
            check_index_keys(index, item)

    def _with_indexes(self, plan: WritePlan, old: Item | None, collection_limit: int) -> WritePlan:
        """The plan with its index changes, their write units, and its collection's size.

        Each index entry written or deleted costs write units by its size
        (Developer Guide, "Provisioned throughput considerations for Local
        Secondary Indexes", "... for Global Secondary Indexes"): one write for a
        new entry or a deleted one, two when its key moves. A local index's are
        the table's; a global index's are its own (`global_indexes`), charged to
        it by admission control, while its changes go to the outbox.
        """
        if plan.mutation is None or not self.definition.indexes:
            return plan
        key, new = plan.mutation.key, plan.mutation.item
        changes: list[Mutation] = []
        capacity = plan.capacity
        for index in self.definition.indexes:
            entries = entry_changes(self.tbl, self.schema, index, old, new)
            if not entries or index.status == "DELETING":
                continue
            units = sum(write_units(entry_size(change.item if change.item is not None
                                               else projected(self.schema, index, old or {})))
                        for change in entries)
            if index.is_global:
                capacity.global_indexes[index.name] = units
                continue
            capacity.local_indexes[index.name] = units
            capacity.write += units
            changes += entries
        if self.definition.global_indexes:
            changes += outbox.changes(self.btree, self.definition, key, old, new)
        size = None
        if self.definition.local_indexes:
            size = self._collection_after(key, old, new, collection_limit)
        return WritePlan(plan.mutation, plan.attributes, capacity, tuple(changes), size)

    def _collection_after(self, key: EncodedKey, old: Item | None, new: Item | None,
                          limit: int) -> int:
        """The size of `key`'s item collection once `old` is replaced by `new`.

        A write that would grow the collection past `limit` is refused; one that
        shrinks it never is, so an over-full collection can always be trimmed.
        Writes still in flight at a leader are not counted: like DynamoDB's, the
        size is an estimate.

        Raises:
            ItemCollectionSizeLimitExceededException: the collection would grow past `limit`.
        """
        before = self.btree.collection_usage(self.tbl, key)[1]
        for index in self.definition.local_indexes:
            rows, size = self.btree.collection_usage(index_tbl(self.tbl, index), key)
            before += size + rows * ENTRY_OVERHEAD
        after = before - self._footprint(old) + self._footprint(new)
        if after > limit and after > before:
            raise ItemCollectionSizeLimitExceededException(COLLECTION_TOO_LARGE)
        return after

    def _footprint(self, item: Item | None) -> int:
        """What one item takes of its collection: itself and its local index entries."""
        if item is None:
            return 0
        size = item_size(item)
        for index in self.definition.local_indexes:
            if entry_key(self.schema, index, item) is not None:
                size += entry_size(projected(self.schema, index, item))
        return size

    def _check_condition(self, compiled: CompiledRequest | None, old: Item | None,
                         return_on_ccf: str, capacity: ConsumedCapacity) -> None:
        if compiled is None or compiled.condition is None:
            return
        if evaluate(compiled.condition, old):
            return
        # Admission control charges failed conditional writes too (§4).
        raise ConditionalCheckFailedException(
            item=old if return_on_ccf == "ALL_OLD" else None, capacity=capacity)

    def _source(self, index: str | None) -> _Source:
        """Where a Query or Scan reads: the items, or one local index's entries."""
        if index is None:
            return _Source(self.tbl, self.schema, self.schema.names)
        found = self.definition.index(index)
        if found is None or found.is_global != self.index_partition:
            raise ValidationException(f"The table does not have the specified index: {index}")
        names = tuple(dict.fromkeys((*self.schema.names, *found.key_schema.names)))
        return _Source(index_tbl(self.tbl, found), found.key_schema, names, found)

    def _start_key(self, start: Item, source: _Source) -> EncodedKey:
        """An ExclusiveStartKey, checked and encoded as the source's B-tree key.

        An index's start key holds the index's keys and the table's (what its
        LastEvaluatedKey gave), each of the right type.
        """
        index = source.index
        if index is None:
            return request_key(self.schema, start)
        if not isinstance(start, dict) or set(start) != set(source.key_names):
            raise ValidationException(START_KEY_INVALID)
        for attribute in (index.key_schema.partition, index.key_schema.sort):
            if attribute is not None and type_of(start[attribute.name]) != attribute.type:
                raise ValidationException(START_KEY_INVALID)
        try:
            request_key(self.schema, {name: start[name] for name in self.schema.names})
        except ValidationException as error:
            raise ValidationException(f"{START_KEY_INVALID}: {error.message}") from None
        key = entry_key(self.schema, index, start)
        assert key is not None  # every key attribute is there, with its type
        return key

    def _query_start(self, start: Item, partition: bytes,
                     bounds: tuple[bytes | None, bool, bytes | None, bool],
                     source: _Source) -> EncodedKey:
        """Check a Query's ExclusiveStartKey and encode it."""
        start = _validated_values(start)  # a bad value is reported as itself
        try:
            key = self._start_key(start, source)
        except ValidationException as error:
            if source.index is not None:
                raise
            raise ValidationException(START_KEY_INVALID) from error
        if key.partition != partition:
            raise ValidationException(
                "The provided starting key is outside query boundaries based on provided "
                "conditions")
        sort = source.schema.sort
        if sort is not None and not _within(encode_value(start[sort.name]), bounds):
            raise ValidationException(
                "The provided starting key does not match the range key predicate")
        return key

    def _scan_start(self, start: Item, segment: int, total_segments: int,
                    source: _Source) -> EncodedKey:
        """Check a Scan's ExclusiveStartKey and encode it."""
        start = _validated_values(start)
        try:
            key = self._start_key(start, source)
        except ValidationException as error:
            if source.index is not None:
                raise
            raise ValidationException(f"{START_KEY_INVALID}: {error.message}") from None
        if segment_of(key.hash, total_segments) != segment:
            raise ValidationException(
                "The provided Exclusive start key does not map to the provided Segment and "
                "TotalSegments values.")
        return key

    def _page(self, entries: Iterable[Entry], limit: int | None, filter: Condition | None,
              projection: Sequence[Path] | None, select: str, consistent: bool,
              source: _Source, max_bytes: int = MAX_PAGE_BYTES) -> Page:
        """Evaluate items until Limit or 1 MB; filter and project what passed.

        Reading a local index, an entry that lacks attributes the request needs
        is replaced by its item, fetched from the table at the price of reading
        it (Developer Guide, "Local secondary indexes: attribute projections").
        """
        fetch = source.fetches(select, projection, filter)
        items: list[Item] = []
        count = scanned = total_bytes = 0
        fetched_units = 0.0
        last: Entry | None = None
        stopped = False
        for entry in entries:
            scanned += 1
            total_bytes += entry.size
            last = entry
            item = entry.item
            if fetch:
                item, units = self._fetch(item, consistent)
                fetched_units += units
            if filter is None or evaluate(filter, item):
                count += 1
                if select == "ALL_PROJECTED_ATTRIBUTES":
                    items.append(entry.item)  # fetched for the filter alone
                elif select != "COUNT":
                    items.append(project(item, projection) if projection else item)
            if scanned == limit or total_bytes >= max_bytes:
                stopped = True
                break
        last_key = ({name: last.item[name] for name in source.key_names}
                    if stopped and last else None)
        units = page_read_units(total_bytes, consistent)
        if source.index is not None and source.index.is_global:  # its units, not the table's
            capacity = ConsumedCapacity(self.definition.name)
            capacity.global_indexes[source.index.name] = units
        else:
            capacity = ConsumedCapacity(self.definition.name, read=units + fetched_units)
            if source.index is not None:
                capacity.local_indexes[source.index.name] = units
        return Page(items, count, scanned, last_key, capacity, total_bytes)

    def _fetch(self, entry_item: Item, consistent: bool) -> tuple[Item, float]:
        """An index entry's whole item from the table, and what reading it cost."""
        key = request_key(self.schema, key_attributes(self.schema, entry_item))
        item, size = self.btree.get_with_size(self.tbl, key)
        return (entry_item if item is None else item), read_units(size, consistent)


@dataclass(frozen=True)
class _Source:
    """What a Query or Scan reads: the table's items, or one local index's entries.

    `schema` is the key the reads are ordered by; `key_names` are the attributes
    of a LastEvaluatedKey (an index's keys and the table's).
    """

    tbl: str
    schema: KeySchema
    key_names: tuple[str, ...]
    index: SecondaryIndex | None = None

    def fetches(self, select: str, projection: Sequence[Path] | None,
                filter: Condition | None) -> bool:
        """Whether the request needs attributes the index does not hold."""
        index = self.index
        if index is None or index.is_global or index.projection.type == ALL:
            return False  # (a global index's partition has no item to fetch from)
        if select == "ALL_ATTRIBUTES":
            return True
        held = set(self.key_names)
        if index.projection.type == INCLUDE:
            held.update(index.projection.non_key_attributes)
        paths = [*(projection or ()), *(() if filter is None else condition_paths(filter))]
        return any(path[0] not in held for path in paths)


def _request_key(schema: KeySchema, key: Any) -> EncodedKey:
    """A request's Key: its values checked, then matched to the schema."""
    return request_key(schema, _validated_values(key))


def _validated_values(key: Any) -> Any:
    """Each value of a Key or ExclusiveStartKey checked like any attribute value."""
    if not isinstance(key, dict):
        return key
    return {name: validate_value(value) for name, value in key.items()}


def _within(sort: bytes, bounds: tuple[bytes | None, bool, bytes | None, bool]) -> bool:
    low, low_inclusive, high, high_inclusive = bounds
    if low is not None and (sort < low or (sort == low and not low_inclusive)):
        return False
    return high is None or sort < high or (sort == high and high_inclusive)


def _update_return_values(return_values: str, old: Item | None, new: Item,
                          changed: tuple[Path, ...]) -> Item | None:
    """What UpdateItem's ReturnValues asks for (None when there is nothing)."""
    if return_values == "ALL_OLD":
        return old
    if return_values == "ALL_NEW":
        return new
    if return_values == "UPDATED_OLD":
        return (project(old, changed) or None) if old is not None and changed else None
    if return_values == "UPDATED_NEW":
        return (project(new, changed) or None) if changed else None
    return None


def _check_enum(value: str, member: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValidationException(
            f"{SHAPE_ERROR}Value '{value}' at '{member}' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(allowed)}]")


def check_put_delete_return_values(return_values: str) -> None:
    """PutItem and DeleteItem return at most the old item: ALL_OLD or NONE."""
    _check_enum(return_values, "returnValues", RETURN_VALUES)
    if return_values not in ("NONE", "ALL_OLD"):
        raise ValidationException("ReturnValues can only be ALL_OLD or NONE")


def _check_return_on_ccf(return_on_ccf: str) -> None:
    _check_enum(return_on_ccf, "returnValuesOnConditionCheckFailure", ("ALL_OLD", "NONE"))


def _check_limit(limit: int | None) -> None:
    if limit is not None and limit < 1:
        raise ValidationException(
            f"{SHAPE_ERROR}Value '{limit}' at 'limit' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1")


def _check_select(select: str | None, projection: Sequence[Path] | None, prefix: str,
                  index: SecondaryIndex | None = None) -> str:
    """Check Select against the projection; return the Select in force.

    Query's messages carry Coral's "1 validation error detected: " prefix and
    Scan's do not (as DynamoDB answers). The wording names
    ProjectionExpression; a request that used the legacy AttributesToGet is
    checked by the API, which knows which one it was given. Reading an index,
    the default is the attributes the index projects.
    """
    if select is None:
        if projection:
            return "SPECIFIC_ATTRIBUTES"
        return "ALL_ATTRIBUTES" if index is None else "ALL_PROJECTED_ATTRIBUTES"
    _check_enum(select, "select", SELECT_VALUES)
    if select == "ALL_PROJECTED_ATTRIBUTES" and index is None:
        raise ValidationException(
            prefix + "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
    if select == "SPECIFIC_ATTRIBUTES" and not projection:
        raise ValidationException(
            prefix + "Must specify the AttributesToGet or ProjectionExpression when choosing "
            "to get SPECIFIC_ATTRIBUTES")
    if projection and select in ("ALL_ATTRIBUTES", "COUNT", "ALL_PROJECTED_ATTRIBUTES"):
        what = "only the Count" if select == "COUNT" else select
        raise ValidationException(
            prefix + f"Cannot specify the ProjectionExpression when choosing to get {what}")
    return select


def read_global_index(btree: BTree, definition: TableDefinition, name: str, query: bool,
                      arguments: dict[str, Any]) -> Page:
    """A Query (or Scan) of a global index, served by one of the index's partitions: a page.

    The entries are filed as a local index's are (`indexes.entry`), so the table's own
    reading code reads them; the page's units are the global index's, not the table's
    (ReturnConsumedCapacity=INDEXES). Nothing is fetched from the table: its items are
    elsewhere, and the API refuses to ask for attributes a global index does not project.
    """
    table = Table(btree, definition, index_partition=True)
    if query:
        return table.query(**arguments, index=name)
    return table.scan(**arguments, index=name)
