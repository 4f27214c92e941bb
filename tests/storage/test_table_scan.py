"""Scan: every item in hash order, in pages and parallel segments (§3, Developer Guide "Scan")."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from dynamo.storage.attributes import item_size
from dynamo.storage.btree import BTree, segment_of
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.errors import ValidationException
from dynamo.storage.expressions import compile_request
from dynamo.storage.keys import KeyAttribute, KeySchema, request_key
from dynamo.storage.table import MAX_PAGE_BYTES, Page, Table

SCHEMA = KeySchema(KeyAttribute("user", "S"), KeyAttribute("n", "N"))


@pytest.fixture(params=["file", "memory"])
def table(request: pytest.FixtureRequest, tmp_path: Path) -> Table:
    tree = BTree(tmp_path / "replica.db" if request.param == "file" else None)
    yield Table(tree, TableDefinition("us-east-1", "S", SCHEMA, [], created_at=0.0))
    tree.close()


def fill(table: Table, users: int, per_user: int, **extra: Any) -> list[dict]:
    items = [{"user": {"S": f"user{u}"}, "n": {"N": str(n)}, **extra}
             for u in range(users) for n in range(per_user)]
    # PutItem each item, committing the plans in one transaction (one fsync, not many).
    table.btree.apply([table.plan_put(item).mutation for item in items])
    return items


def scan(table: Table, filter: str | None = None, values: dict | None = None,
         projection: str | None = None, **kw: Any) -> Page:
    params: dict[str, Any] = {}
    if filter:
        params["FilterExpression"] = filter
    if values:
        params["ExpressionAttributeValues"] = values
    if projection:
        params["ProjectionExpression"] = projection
    compiled = compile_request("Scan", params, SCHEMA)
    return table.scan(filter=compiled.filter, projection=compiled.projection, **kw)


def walk(table: Table, **kw: Any) -> list[Page]:
    pages, start = [], None
    while True:
        page = scan(table, exclusive_start_key=start, **kw)
        pages.append(page)
        start = page.last_evaluated_key
        if start is None:
            return pages


def keys_of(items: list[dict]) -> list[tuple[str, str]]:
    return [(item["user"]["S"], item["n"]["N"]) for item in items]


def test_scan_returns_every_item_in_hash_order(table: Table) -> None:
    items = fill(table, 20, 3)
    page = scan(table)
    assert sorted(keys_of(page.items)) == sorted(keys_of(items))
    encoded = [request_key(SCHEMA, {"user": i["user"], "n": i["n"]}) for i in page.items]
    assert encoded == sorted(encoded)  # (hash, partition, sort) order
    assert (page.count, page.scanned_count, page.last_evaluated_key) == (60, 60, None)


@pytest.mark.parametrize("limit", [1, 7, 60])
def test_paginated_scan_loses_and_repeats_nothing(table: Table, limit: int) -> None:
    items = fill(table, 15, 4)
    pages = walk(table, limit=limit)
    got = keys_of([item for page in pages for item in page.items])
    assert sorted(got) == sorted(keys_of(items))
    assert len(got) == len(set(got))
    assert all(page.scanned_count == limit for page in pages[:-1])
    for page in pages[:-1]:
        last = page.items[-1]
        assert page.last_evaluated_key == {"user": last["user"], "n": last["n"]}


@pytest.mark.parametrize("total", [1, 2, 5, 13])
def test_segments_cover_every_item_exactly_once(table: Table, total: int) -> None:
    """Parallel scan: the segments split the hash ring; together they are one full scan."""
    items = fill(table, 40, 2)
    seen: list[tuple[str, str]] = []
    for segment in range(total):
        pages = walk(table, segment=segment, total_segments=total, limit=6)
        for page in pages:
            seen += keys_of(page.items)
            for item in page.items:
                key = request_key(SCHEMA, {"user": item["user"], "n": item["n"]})
                assert segment_of(key.hash, total) == segment
    assert sorted(seen) == sorted(keys_of(items))
    assert len(seen) == len(set(seen))


def test_segment_parameters_are_validated(table: Table) -> None:
    fill(table, 10, 1)
    with pytest.raises(ValidationException) as caught:
        scan(table, segment=4, total_segments=4)
    assert caught.value.message == (
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
        "Segment: 4 is not less than TotalSegments: 4")
    first = walk(table, segment=0, total_segments=2, limit=1)[0].last_evaluated_key
    with pytest.raises(ValidationException) as caught:
        scan(table, segment=1, total_segments=2, exclusive_start_key=first)
    assert caught.value.message == ("The provided Exclusive start key does not map to the "
                                    "provided Segment and TotalSegments values.")


def test_exclusive_start_key_must_match_the_schema(table: Table) -> None:
    fill(table, 3, 1)
    for bad in ({"user": {"S": "user1"}}, {"user": {"S": "user1"}, "n": {"S": "1"}},
                {"user": {"S": "user1"}, "n": {"N": "1"}, "x": {"S": "y"}}):
        with pytest.raises(ValidationException) as caught:
            scan(table, exclusive_start_key=bad)
        assert caught.value.message == ("The provided starting key is invalid: The provided key "
                                        "element does not match the schema")


def test_a_start_key_need_not_exist(table: Table) -> None:
    """Resuming after an item deleted since the last page still continues in order."""
    fill(table, 10, 2)
    first = scan(table, limit=5)
    table.delete_item(first.last_evaluated_key)
    after = scan(table, exclusive_start_key=first.last_evaluated_key)
    assert keys_of(first.items[:-1]) + keys_of(after.items) == keys_of(scan(table).items)


def test_filter_counts_and_capacity(table: Table) -> None:
    """Scan charges for every item it evaluated, not only those it returns."""
    items = fill(table, 10, 3, v={"S": "w" * 1000})
    page = scan(table, filter="n = :one", values={":one": {"N": "1"}}, consistent=True)
    assert (page.count, page.scanned_count) == (10, 30)
    assert all(item["n"] == {"N": "1"} for item in page.items)
    total = sum(item_size(item) for item in items)
    assert page.capacity.read == math.ceil(total / 4096)
    assert scan(table, consistent=False).capacity.read == math.ceil(total / 4096) / 2


def test_select_count_and_projection(table: Table) -> None:
    fill(table, 4, 1, a={"S": "a"}, b={"N": "2"})
    counted = scan(table, select="COUNT")
    assert (counted.items, counted.count) == ([], 4)
    assert scan(table, projection="b").items == [{"b": {"N": "2"}}] * 4
    with pytest.raises(ValidationException) as caught:
        scan(table, select="ALL_PROJECTED_ATTRIBUTES")
    assert caught.value.message == ("ALL_PROJECTED_ATTRIBUTES can be used only when Querying "
                                    "using an IndexName")


def test_one_megabyte_pages(table: Table) -> None:
    items = fill(table, 12, 2, big={"S": "z" * (100 * 1024)})
    pages = walk(table, consistent=True)
    assert [page.scanned_count for page in pages] == [11, 11, 2]
    sizes = {item["user"]["S"] + item["n"]["N"]: item_size(item) for item in items}
    for page in pages:
        read = [sizes[item["user"]["S"] + item["n"]["N"]] for item in page.items]
        if page.last_evaluated_key is not None:
            assert sum(read) >= MAX_PAGE_BYTES > sum(read[:-1])
        assert page.capacity.read == math.ceil(sum(read) / 4096)


def test_empty_table(table: Table) -> None:
    page = scan(table)
    assert (page.items, page.count, page.scanned_count, page.last_evaluated_key) == \
        ([], 0, 0, None)
    assert page.capacity.read == 0.5  # a read of nothing still costs the minimum
