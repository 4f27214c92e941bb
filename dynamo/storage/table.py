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
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from dynamo.storage.attributes import Item, item_size, validate_item, validate_value
from dynamo.storage.btree import BTree, Entry, Mutation, segment_of
from dynamo.storage.capacity import (
    ConsumedCapacity,
    page_read_units,
    read_units,
    write_units,
)
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.errors import ConditionalCheckFailedException, ValidationException
from dynamo.storage.expressions import (
    CompiledRequest,
    Condition,
    KeyRange,
    Path,
    apply_update,
    evaluate,
    project,
)
from dynamo.storage.expressions.update import creates_item
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


@dataclass(frozen=True)
class WritePlan:
    """A write that passed every check, ready to be logged and committed.

    `mutation` is None when there is nothing to change (deleting a missing
    item); `attributes` is what ReturnValues asked for (None: nothing).
    """

    mutation: Mutation | None
    attributes: Item | None
    capacity: ConsumedCapacity


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

    def __init__(self, btree: BTree, definition: TableDefinition) -> None:
        self.btree = btree
        self.definition = definition
        self.schema = definition.key_schema
        self.tbl = definition.tbl

    # -- writes ---------------------------------------------------------------

    # --8<-- [start:plan-put]
    def plan_put(self, item: Item, compiled: CompiledRequest | None = None,
                 return_values: str = "NONE", return_on_ccf: str = "NONE", *,
                 validated: bool = False) -> WritePlan:
        """Plan a PutItem: replace the whole item stored under `item`'s key.

        `validated`: the caller has already passed `item` through `validate_item`
        (the API does, before it looks the table up), so it is not checked twice.
        """
        check_put_delete_return_values(return_values)
        _check_return_on_ccf(return_on_ccf)
        if not validated:
            item = validate_item(item)
        key = item_key(self.schema, item)
        old, old_size = self.btree.get_with_size(self.tbl, key)
        size = item_size(item)
        capacity = ConsumedCapacity(self.definition.name, write=write_units(max(old_size, size)))
        self._check_condition(compiled, old, return_on_ccf, capacity)
        attributes = old if return_values == "ALL_OLD" else None
        return WritePlan(Mutation(self.tbl, key, item, size), attributes, capacity)
    # --8<-- [end:plan-put]

    def plan_update(self, key: Item, compiled: CompiledRequest | None = None,
                    return_values: str = "NONE", return_on_ccf: str = "NONE") -> WritePlan:
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
        attributes = _update_return_values(return_values, old, new, changed)
        capacity = self._write_capacity(old, new)
        return WritePlan(Mutation(self.tbl, encoded, new), attributes, capacity)

    def plan_delete(self, key: Item, compiled: CompiledRequest | None = None,
                    return_values: str = "NONE", return_on_ccf: str = "NONE") -> WritePlan:
        """Plan a DeleteItem; deleting a missing item changes nothing but still costs."""
        check_put_delete_return_values(return_values)
        _check_return_on_ccf(return_on_ccf)
        encoded = _request_key(self.schema, key)
        old = self.btree.get(self.tbl, encoded)
        capacity = self._write_capacity(old, None)
        self._check_condition(compiled, old, return_on_ccf, capacity)
        mutation = None if old is None else Mutation(self.tbl, encoded, None)
        attributes = old if return_values == "ALL_OLD" else None
        return WritePlan(mutation, attributes, capacity)

    def commit(self, plan: WritePlan, lsn: int | None = None) -> None:
        """Apply a plan's mutation to the B-tree (recording `lsn` with it)."""
        mutations = [] if plan.mutation is None else [plan.mutation]
        if mutations or lsn is not None:
            self.btree.apply(mutations, lsn)

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
              consistent: bool = False) -> Page:
        """Query: one item collection, a sort-key range of it, in order (§1)."""
        select = _check_select(select, projection, SHAPE_ERROR)
        _check_limit(limit)
        partition = encode_value(key_range.partition_value)
        low, low_inclusive, high, high_inclusive = key_range.bounds(self.schema)
        start = None
        if exclusive_start_key is not None:
            start = self._query_start(exclusive_start_key, partition,
                                      (low, low_inclusive, high, high_inclusive))
        entries = self.btree.range(self.tbl, partition, low=low, low_inclusive=low_inclusive,
                                   high=high, high_inclusive=high_inclusive,
                                   forward=forward, start_after=start)
        return self._page(entries, limit, filter, projection, select, consistent)

    def scan(self, segment: int = 0, total_segments: int = 1, limit: int | None = None,
             exclusive_start_key: Item | None = None, filter: Condition | None = None,
             projection: Sequence[Path] | None = None, select: str | None = None,
             consistent: bool = False, max_bytes: int = MAX_PAGE_BYTES) -> Page:
        """Scan: every item, in hash order, one segment of a parallel scan (§3).

        `max_bytes` is what is left of the page's 1 MB when a Scan goes on from an
        earlier partition's items (`dynamo.partitioning.router`).
        """
        select = _check_select(select, projection, "")
        _check_limit(limit)
        if not 0 <= segment < total_segments:
            raise ValidationException(
                "The Segment parameter is zero-based and must be less than parameter "
                f"TotalSegments: Segment: {segment} is not less than TotalSegments: "
                f"{total_segments}")
        start = None
        if exclusive_start_key is not None:
            start = self._scan_start(exclusive_start_key, segment, total_segments)
        entries = self.btree.scan(self.tbl, segment, total_segments, start_after=start)
        return self._page(entries, limit, filter, projection, select, consistent, max_bytes)

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

    def _check_condition(self, compiled: CompiledRequest | None, old: Item | None,
                         return_on_ccf: str, capacity: ConsumedCapacity) -> None:
        if compiled is None or compiled.condition is None:
            return
        if evaluate(compiled.condition, old):
            return
        # Admission control charges failed conditional writes too (§4).
        raise ConditionalCheckFailedException(
            item=old if return_on_ccf == "ALL_OLD" else None, capacity=capacity)

    def _query_start(self, start: Item, partition: bytes,
                     bounds: tuple[bytes | None, bool, bytes | None, bool]) -> EncodedKey:
        """Check a Query's ExclusiveStartKey and encode it."""
        start = _validated_values(start)  # a bad value is reported as itself
        try:
            key = request_key(self.schema, start)
        except ValidationException:
            raise ValidationException("The provided starting key is invalid") from None
        if key.partition != partition:
            raise ValidationException(
                "The provided starting key is outside query boundaries based on provided "
                "conditions")
        if not _within(key.sort, bounds):
            raise ValidationException(
                "The provided starting key does not match the range key predicate")
        return key

    def _scan_start(self, start: Item, segment: int, total_segments: int) -> EncodedKey:
        """Check a Scan's ExclusiveStartKey and encode it."""
        start = _validated_values(start)
        try:
            key = request_key(self.schema, start)
        except ValidationException as error:
            raise ValidationException(
                f"The provided starting key is invalid: {error.message}") from None
        if segment_of(key.hash, total_segments) != segment:
            raise ValidationException(
                "The provided Exclusive start key does not map to the provided Segment and "
                "TotalSegments values.")
        return key

    def _page(self, entries: Iterable[Entry], limit: int | None, filter: Condition | None,
              projection: Sequence[Path] | None, select: str, consistent: bool,
              max_bytes: int = MAX_PAGE_BYTES) -> Page:
        """Evaluate items until Limit or 1 MB; filter and project what passed."""
        items: list[Item] = []
        count = scanned = total_bytes = 0
        last: Entry | None = None
        stopped = False
        for entry in entries:
            scanned += 1
            total_bytes += entry.size
            last = entry
            if filter is None or evaluate(filter, entry.item):
                count += 1
                if select != "COUNT":
                    items.append(project(entry.item, projection) if projection else entry.item)
            if scanned == limit or total_bytes >= max_bytes:
                stopped = True
                break
        last_key = key_attributes(self.schema, last.item) if stopped and last else None
        capacity = ConsumedCapacity(self.definition.name,
                                    read=page_read_units(total_bytes, consistent))
        return Page(items, count, scanned, last_key, capacity, total_bytes)


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


def _check_select(select: str | None, projection: Sequence[Path] | None, prefix: str) -> str:
    """Check Select against the projection; return the Select in force.

    Query's messages carry Coral's "1 validation error detected: " prefix and
    Scan's do not (as DynamoDB answers). The wording names
    ProjectionExpression; a request that used the legacy AttributesToGet is
    checked by the API, which knows which one it was given.
    """
    if select is None:
        return "SPECIFIC_ATTRIBUTES" if projection else "ALL_ATTRIBUTES"
    _check_enum(select, "select", SELECT_VALUES)
    if select == "ALL_PROJECTED_ATTRIBUTES":
        raise ValidationException(
            prefix + "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
    if select == "SPECIFIC_ATTRIBUTES" and not projection:
        raise ValidationException(
            prefix + "Must specify the AttributesToGet or ProjectionExpression when choosing "
            "to get SPECIFIC_ATTRIBUTES")
    if projection and select in ("ALL_ATTRIBUTES", "COUNT"):
        what = "only the Count" if select == "COUNT" else select
        raise ValidationException(
            prefix + f"Cannot specify the ProjectionExpression when choosing to get {what}")
    return select
