"""Multi-item reads: Query and Scan, one page at a time.

A Query reads one item collection (one partition key value) in sort-key order;
a Scan reads the whole table in the order of the partition keys' hashes, the
order the paper's partitions are laid out in (§3). Both answer a page of at
most 1 MB of items *evaluated* (or `Limit` items evaluated), before any
FilterExpression is applied, and a `LastEvaluatedKey` to continue from
(Developer Guide, "Paginating table query results"). A parallel Scan splits the hash space
into `TotalSegments` and reads `Segment` of them.

The paging itself is the table's (`dynamo.storage.table`); this module checks
the members that only make sense together and frames the answer. As for
single items, what the request alone shows is checked before the table is
looked up.

With `IndexName` a Query or Scan reads a secondary index: its key condition
is on the index's keys, and its LastEvaluatedKey holds the index's keys and
the table's. A local index is read in the table's partitions, strongly
consistent if asked; a global one is eventually consistent only, and cannot
return attributes it does not project (DynamoDB's messages for both).
"""

from __future__ import annotations

from typing import Any

from dynamo.api import shapes
from dynamo.api.items import add_capacity, checked_key
from dynamo.cluster import Database
from dynamo.paxos.operations import Query, Scan
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.errors import ValidationException
from dynamo.storage.expressions import check_style, compile_expressions
from dynamo.storage.expressions.legacy import filter_condition
from dynamo.storage.indexes import ALL, SecondaryIndex
from dynamo.storage.keys import KeySchema, request_key
from dynamo.storage.table import START_KEY_INVALID, Page


async def query(node: Database, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """Query: items of one partition key, in sort-key order, filtered, paged."""
    check_style("Query", params)
    start_key = checked_start_key(params)
    select = check_select(params)
    compiled = compile_expressions("Query", params)
    table = node.table(region, params["TableName"])
    index = find_index(table.definition, params)
    if index is None:
        check_start_key_fits(start_key, table.schema)
    compiled = compiled.for_schema(table.schema if index is None else index.key_schema)
    assert compiled.key_range is not None  # compile_expressions insists on a key condition
    check_all_attributes(index, select)
    arguments = (
        ("key_range", compiled.key_range),
        ("forward", params.get("ScanIndexForward", True) is not False),
        ("limit", params.get("Limit")),
        ("exclusive_start_key", start_key),
        ("filter", compiled.filter),
        ("projection", compiled.projection),
        ("select", select),
    )
    page = await node.read(Query(table.definition, *read_target(arguments, index,
                                                                params)))
    return page_answer(page, select, params)


async def scan(node: Database, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """Scan: every item of the table (or of one segment of it), filtered, paged."""
    check_style("Scan", params)
    if "ScanFilter" in params:
        # DynamoDB checks a legacy ScanFilter before the start key and the segments.
        filter_condition(params["ScanFilter"], params.get("ConditionalOperator"), "ScanFilter")
    start_key = checked_start_key(params)
    select = check_select(params)
    segment, total = segments(params)
    compiled = compile_expressions("Scan", params)
    table = node.table(region, params["TableName"])
    index = find_index(table.definition, params, scan=True)
    check_all_attributes(index, select)
    arguments = (
        ("segment", segment),
        ("total_segments", total),
        ("limit", params.get("Limit")),
        ("exclusive_start_key", start_key),
        ("filter", compiled.filter),
        ("projection", compiled.projection),
        ("select", select),
    )
    page = await node.read(Scan(table.definition, *read_target(arguments, index, params)))
    return page_answer(page, select, params)


def checked_start_key(params: dict[str, Any]) -> dict[str, Any] | None:
    """ExclusiveStartKey with its values checked (the table checks it fits its keys)."""
    start = params.get("ExclusiveStartKey")
    if start is None:
        return None
    try:
        return checked_key(start)
    except ValidationException as error:
        raise ValidationException(f"The provided starting key is invalid: {error.message}") from None


def check_start_key_fits(start_key: dict[str, Any] | None, schema: KeySchema) -> None:
    """A Query's start key must be a key of the table, checked before the key conditions."""
    if start_key is None:
        return
    try:
        request_key(schema, start_key)
    except ValidationException:
        raise ValidationException(START_KEY_INVALID) from None


def find_index(definition: TableDefinition, params: dict[str, Any],
               scan: bool = False) -> SecondaryIndex | None:
    """The index a Query or Scan names (None: it reads the table), checked as DynamoDB does.

    An unknown index is "The table does not have the specified index" (a Scan
    with an ExclusiveStartKey is told its start key is invalid first, as
    DynamoDB answers); a global index cannot be read strongly consistently,
    nor at all while it is being backfilled: it would miss items.
    """
    name = params.get("IndexName")
    if name is None:
        return None
    index = definition.index(name)
    if index is None:
        if scan and params.get("ExclusiveStartKey"):
            raise ValidationException(START_KEY_INVALID)
        raise ValidationException(f"The table does not have the specified index: {name}")
    if index.is_global and params.get("ConsistentRead"):
        raise ValidationException("Consistent reads are not supported on global secondary indexes")
    if index.is_global and index.backfilling:
        raise ValidationException(f"Cannot read from backfilling global secondary index: {name}")
    return index


def check_all_attributes(index: SecondaryIndex | None, select: str | None) -> None:
    """A global index returns only what it projects: ALL_ATTRIBUTES needs projection ALL.

    A local index instead fetches what it lacks from the table's items.
    """
    if (index is not None and index.is_global and select == "ALL_ATTRIBUTES"
            and index.projection.type != ALL):
        raise ValidationException(
            "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not "
            f"supported for global secondary index {index.name} because its projection "
            "type is not ALL")


def read_target(arguments: tuple[tuple[str, Any], ...], index: SecondaryIndex | None,
                params: dict[str, Any]) -> tuple[tuple[tuple[str, Any], ...], bool, str | None]:
    """(arguments, consistent, index) of a Query or Scan operation.

    A local index is read where the table's items are, so it is one more
    argument of the table's read; a global index is named for the cluster to
    route to its own partitions.
    """
    consistent = bool(params.get("ConsistentRead"))
    if index is None:
        return arguments, consistent, None
    if index.is_global:
        return arguments, consistent, index.name
    return (*arguments, ("index", index.name)), consistent, None


def check_select(params: dict[str, Any]) -> str | None:
    """Select against the legacy AttributesToGet (the table checks ProjectionExpression)."""
    select = params.get("Select")
    if "AttributesToGet" in params and select in ("ALL_ATTRIBUTES", "COUNT"):
        what = "only the Count" if select == "COUNT" else select
        raise ValidationException(
            f"Cannot specify the AttributesToGet when choosing to get {what}")
    return select


def segments(params: dict[str, Any]) -> tuple[int, int]:
    """(Segment, TotalSegments) of a parallel scan; (0, 1) for a plain one."""
    segment, total = params.get("Segment"), params.get("TotalSegments")
    if segment is not None and total is None:
        raise ValidationException(
            "The TotalSegments parameter is required but was not present in the request when "
            "Segment parameter is present")
    if total is not None and segment is None:
        raise ValidationException(
            "The Segment parameter is required but was not present in the request when "
            "parameter TotalSegments is present")
    if segment is None or total is None:
        return 0, 1
    if segment >= total:
        raise ValidationException(
            "The Segment parameter is zero-based and must be less than parameter "
            f"TotalSegments: Segment: {segment} is not less than TotalSegments: {total}")
    return int(segment), int(total)


def page_answer(page: Page, select: str | None, params: dict[str, Any]) -> dict[str, Any]:
    """Frame a page: Items (unless COUNT), Count, ScannedCount, LastEvaluatedKey."""
    answer: dict[str, Any] = {}
    if select != "COUNT":
        answer["Items"] = page.items
    answer["Count"] = page.count
    answer["ScannedCount"] = page.scanned_count
    if page.last_evaluated_key is not None:
        answer["LastEvaluatedKey"] = page.last_evaluated_key
    add_capacity(answer, page.capacity, params)
    return answer


OPERATIONS = {
    "Query": (shapes.QUERY, query),
    "Scan": (shapes.SCAN, scan),
}
