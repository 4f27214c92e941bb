"""Query: one item collection, a sort-key range of it, page by page (§1, Developer Guide "Query")."""

from __future__ import annotations

import base64
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dynamo.storage.attributes import item_size
from dynamo.storage.btree import BTree
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.errors import ValidationException
from dynamo.storage.expressions import compile_request
from dynamo.storage.keys import KeyAttribute, KeySchema
from dynamo.storage.numbers import normalise_number
from dynamo.storage.table import MAX_PAGE_BYTES, Page, Table


def make_table(btree: BTree, sort_type: str | None = "N") -> Table:
    sort = None if sort_type is None else KeyAttribute("sk", sort_type)
    schema = KeySchema(KeyAttribute("pk", "S"), sort)
    return Table(btree, TableDefinition("us-east-1", "Q", schema, [], created_at=0.0))


@pytest.fixture
def btree(tmp_path: Path) -> BTree:
    tree = BTree(tmp_path / "replica.db")
    yield tree
    tree.close()


@pytest.fixture
def table(btree: BTree) -> Table:
    return make_table(btree)


def query(table: Table, condition: str = "pk = :p", values: dict | None = None,
          filter: str | None = None, projection: str | None = None, **kw: Any) -> Page:
    params: dict[str, Any] = {"KeyConditionExpression": condition,
                              "ExpressionAttributeValues": {":p": {"S": "p"}, **(values or {})}}
    if filter:
        params["FilterExpression"] = filter
    if projection:
        params["ProjectionExpression"] = projection
    compiled = compile_request("Query", params, table.schema)
    return table.query(compiled.key_range, filter=compiled.filter,
                       projection=compiled.projection, **kw)


def fill(table: Table, sort_values: list[dict], pk: str = "p", **extra: Any) -> None:
    put_all(table, [{"pk": {"S": pk}, "sk": value, **extra} for value in sort_values])


def put_all(table: Table, items: list[dict]) -> None:
    """PutItem each item, committing the plans in one transaction (one fsync, not many)."""
    table.btree.apply([table.plan_put(item).mutation for item in items])


def sort_keys(page: Page) -> list[dict]:
    return [item["sk"] for item in page.items]


NUMBERS = ["-1E+100", "-12345.678", "-100", "-10", "-9.99", "-1", "-0.5", "-1E-100", "0",
           "1E-100", "0.000001", "0.5", "1", "1.05", "1.5", "9", "10", "10.5", "11", "99",
           "100", "1E+20", "1.5E+20", "9.9999999999999999999999999999999999999E+125"]


def test_number_sort_keys_come_back_in_numeric_order(table: Table) -> None:
    canonical = [normalise_number(n) for n in NUMBERS]
    fill(table, [{"N": n} for n in canonical[1::2] + canonical[::2]])
    fill(table, [{"N": "5"}], pk="other")
    assert sort_keys(query(table)) == [{"N": n} for n in canonical]
    assert sort_keys(query(table, forward=False)) == [{"N": n} for n in reversed(canonical)]


def test_string_sort_keys_come_back_in_utf8_byte_order(btree: BTree) -> None:
    table = make_table(btree, "S")
    strings = ["", "0", "9", "A", "Z", "_", "a", "aa", "ab", "b", "z", "~", "ß", "é", "ü",
               "ア", "中", "\U0001f600"][1:]  # no empty sort key
    fill(table, [{"S": s} for s in reversed(strings)])
    assert sort_keys(query(table)) == [{"S": s} for s in strings]


def test_binary_sort_keys_come_back_in_unsigned_byte_order(btree: BTree) -> None:
    table = make_table(btree, "B")
    raw = [b"\x00", b"\x00\x01", b"\x01", b"\x7f", b"\x80", b"\xfe", b"\xff", b"\xff\x00"]
    values = [{"B": base64.b64encode(r).decode()} for r in raw]
    fill(table, values[::-1])
    assert sort_keys(query(table)) == values


@pytest.mark.parametrize("condition, values, expected", [
    ("sk = :a", {":a": {"N": "10"}}, [10]),
    ("sk < :a", {":a": {"N": "-1"}}, [-3, -2]),
    ("sk <= :a", {":a": {"N": "-1"}}, [-3, -2, -1]),
    ("sk > :a", {":a": {"N": "9"}}, [10, 11]),
    ("sk >= :a", {":a": {"N": "9"}}, [9, 10, 11]),
    ("sk BETWEEN :a AND :b", {":a": {"N": "-1"}, ":b": {"N": "2"}}, [-1, 0, 1, 2]),
    ("sk BETWEEN :a AND :b", {":a": {"N": "0.5"}, ":b": {"N": "0.7"}}, []),
])
def test_sort_key_conditions(table: Table, condition: str, values: dict, expected: list) -> None:
    fill(table, [{"N": str(n)} for n in range(-3, 12)])
    page = query(table, f"pk = :p AND {condition}", values)
    assert [int(v["N"]) for v in sort_keys(page)] == expected
    backwards = query(table, f"pk = :p AND {condition}", values, forward=False)
    assert [int(v["N"]) for v in sort_keys(backwards)] == expected[::-1]


def test_begins_with_on_strings(btree: BTree) -> None:
    table = make_table(btree, "S")
    fill(table, [{"S": s} for s in ["a", "ab", "abc", "abd", "ab\U0010ffff", "ac", "b"]])
    page = query(table, "pk = :p AND begins_with(sk, :x)", {":x": {"S": "ab"}})
    assert sort_keys(page) == [{"S": s} for s in ["ab", "abc", "abd", "ab\U0010ffff"]]


def test_begins_with_on_binary_reaches_the_top_of_the_byte_range(btree: BTree) -> None:
    table = make_table(btree, "B")
    raw = [b"\xfe\xff", b"\xff", b"\xff\x00", b"\xff\xff\xff"]
    fill(table, [{"B": base64.b64encode(r).decode()} for r in raw])
    page = query(table, "pk = :p AND begins_with(sk, :x)",
                 {":x": {"B": base64.b64encode(b"\xff").decode()}})
    assert [base64.b64decode(v["B"]) for v in sort_keys(page)] == raw[1:]


def walk(table: Table, **kw: Any) -> list[Page]:
    """Every page of a query, following LastEvaluatedKey until there is none."""
    pages, start = [], None
    while True:
        page = query(table, exclusive_start_key=start, **kw)
        pages.append(page)
        start = page.last_evaluated_key
        if start is None:
            return pages


@pytest.mark.parametrize("forward", [True, False])
@pytest.mark.parametrize("count, limit", [(25, 7), (21, 7), (5, 1), (3, 10)])
def test_pagination_with_limit_loses_and_repeats_nothing(
        table: Table, forward: bool, count: int, limit: int) -> None:
    fill(table, [{"N": str(n)} for n in range(count)])
    pages = walk(table, limit=limit, forward=forward)
    got = [int(v["N"]) for page in pages for v in sort_keys(page)]
    assert got == (list(range(count)) if forward else list(range(count - 1, -1, -1)))
    assert all(len(page.items) == limit for page in pages[:-1])
    # DynamoDB does not look ahead: a page that ends at its Limit has a LastEvaluatedKey
    # even when nothing follows, and the next page is then empty.
    assert len(pages) == count // limit + 1
    for page in pages[:-1]:
        assert page.last_evaluated_key == {"pk": {"S": "p"}, "sk": page.items[-1]["sk"]}


def test_limit_counts_evaluated_items_not_matches(table: Table) -> None:
    fill(table, [{"N": str(n)} for n in range(20)])
    for n in range(0, 20, 3):
        table.put_item({"pk": {"S": "p"}, "sk": {"N": str(n)}, "tag": {"S": "x"}})
    page = query(table, filter="attribute_exists(tag)", limit=5)
    assert (page.count, page.scanned_count) == (2, 5)  # 0 and 3 of 0..4
    assert page.last_evaluated_key["sk"] == {"N": "4"}
    pages = walk(table, filter="attribute_exists(tag)", limit=5)
    assert [int(v["N"]) for page in pages for v in sort_keys(page)] == list(range(0, 20, 3))
    assert sum(page.scanned_count for page in pages) == 20


def test_one_megabyte_pages_are_measured_before_the_filter(table: Table) -> None:
    """A page stops once it has read 1 MB of items, whatever the filter keeps (§9)."""
    blob = "x" * (100 * 1024)
    items = [{"pk": {"S": "p"}, "sk": {"N": str(n)}, "big": {"S": blob}} for n in range(25)]
    put_all(table, items)
    sizes = [item_size(item) for item in items]
    pages = walk(table, filter="attribute_exists(nothing)")
    assert all(page.items == [] and page.count == 0 for page in pages)
    assert sum(page.scanned_count for page in pages) == 25
    offset = 0
    for page in pages:
        read = sizes[offset:offset + page.scanned_count]
        offset += page.scanned_count
        if page.last_evaluated_key is not None:
            # The item that crosses 1 MB is the last one read.
            assert sum(read) >= MAX_PAGE_BYTES > sum(read[:-1])
            assert page.last_evaluated_key["sk"] == items[offset - 1]["sk"]
        assert page.capacity.read == math.ceil(sum(read) / 4096) / 2
    assert len(pages) == 3


def test_pages_of_big_items_cover_everything_once(table: Table) -> None:
    fill(table, [{"N": str(n)} for n in range(30)], big={"S": "y" * (100 * 1024)})
    pages = walk(table, projection="sk", consistent=True)
    got = [int(v["N"]) for page in pages for v in sort_keys(page)]
    assert got == list(range(30))
    assert all(page.items[0] == {"sk": page.items[0]["sk"]} for page in pages if page.items)


def test_query_capacity_sums_item_sizes_and_rounds_once(table: Table) -> None:
    """Three 1.5 KB items cost ceil(4.5 KB / 4 KB) = 2 RCU, not 3 (Developer Guide)."""
    base = item_size({"pk": {"S": "p"}, "sk": {"N": "1"}, "v": {"S": ""}})
    fill(table, [{"N": str(n)} for n in range(1, 4)], v={"S": "z" * (1536 - base)})
    assert query(table, consistent=True).capacity.read == 2.0
    assert query(table, consistent=False).capacity.read == 1.0
    assert query(table, filter="v = :no", values={":no": {"S": "no"}},
                 consistent=True).capacity.read == 2.0  # filtered out, still read
    assert query(table, consistent=True).capacity.table == "Q"


def test_select_count_and_projection(table: Table) -> None:
    fill(table, [{"N": str(n)} for n in range(4)], a={"S": "a"}, b={"S": "b"})
    counted = query(table, select="COUNT")
    assert (counted.items, counted.count, counted.scanned_count) == ([], 4, 4)
    projected = query(table, projection="b")
    assert projected.items == [{"b": {"S": "b"}}] * 4
    assert query(table, projection="a", select="SPECIFIC_ATTRIBUTES").items == [{"a": {"S": "a"}}] * 4


@pytest.mark.parametrize("select, projection, message", [
    ("ALL_PROJECTED_ATTRIBUTES", None,
     "1 validation error detected: ALL_PROJECTED_ATTRIBUTES can be used only when Querying "
     "using an IndexName"),
    ("SPECIFIC_ATTRIBUTES", None,
     "1 validation error detected: Must specify the AttributesToGet or ProjectionExpression "
     "when choosing to get SPECIFIC_ATTRIBUTES"),
    ("COUNT", "a", "1 validation error detected: Cannot specify the ProjectionExpression when "
                   "choosing to get only the Count"),
    ("ALL_ATTRIBUTES", "a", "1 validation error detected: Cannot specify the "
                            "ProjectionExpression when choosing to get ALL_ATTRIBUTES"),
])
def test_select_validation(table: Table, select: str, projection: str | None,
                           message: str) -> None:
    with pytest.raises(ValidationException) as caught:
        query(table, projection=projection, select=select)
    assert caught.value.message == message


def test_exclusive_start_key_is_validated(table: Table) -> None:
    fill(table, [{"N": str(n)} for n in range(10)])
    cases = [
        ({"pk": {"S": "p"}}, "The provided starting key is invalid"),
        ({"pk": {"S": "p"}, "sk": {"S": "1"}}, "The provided starting key is invalid"),
        ({"pk": {"S": "q"}, "sk": {"N": "1"}},
         "The provided starting key is outside query boundaries based on provided conditions"),
    ]
    for start, message in cases:
        with pytest.raises(ValidationException) as caught:
            query(table, exclusive_start_key=start)
        assert caught.value.message == message
    with pytest.raises(ValidationException) as caught:
        query(table, "pk = :p AND sk > :a", {":a": {"N": "5"}},
              exclusive_start_key={"pk": {"S": "p"}, "sk": {"N": "2"}})
    assert caught.value.message == "The provided starting key does not match the range key predicate"
    with pytest.raises(ValidationException) as caught:
        query(table, limit=0)
    assert "Member must have value greater than or equal to 1" in caught.value.message


def test_query_on_a_table_without_sort_key(btree: BTree) -> None:
    table = make_table(btree, None)
    for pk in ("p", "q"):
        table.put_item({"pk": {"S": pk}, "v": {"S": pk}})
    page = query(table, limit=1)
    assert page.items == [{"pk": {"S": "p"}, "v": {"S": "p"}}]
    assert page.last_evaluated_key == {"pk": {"S": "p"}}
    after = query(table, exclusive_start_key=page.last_evaluated_key)
    assert (after.items, after.last_evaluated_key) == ([], None)


@settings(max_examples=60, deadline=None)
@given(numbers=st.sets(st.decimals(min_value=-10**20, max_value=10**20, places=4,
                                   allow_nan=False, allow_infinity=False), max_size=40),
       limit=st.integers(min_value=1, max_value=12), forward=st.booleans())
def test_any_walk_returns_the_collection_in_numeric_order(numbers: set, limit: int,
                                                          forward: bool) -> None:
    """Property: whatever the keys and the Limit, the pages together are the sorted collection."""
    with BTree(None) as tree:
        table = make_table(tree)
        canonical = {normalise_number(str(n)) for n in numbers}
        fill(table, [{"N": n} for n in canonical])
        got = [v["N"] for page in walk(table, limit=limit, forward=forward)
               for v in sort_keys(page)]
    expected = sorted(canonical, key=Decimal, reverse=not forward)
    assert got == expected
