"""Local secondary indexes on one replica's B-tree (paper §2; Developer Guide "Local secondary indexes").

An LSI's entries live beside the items, change in the same write as the item,
and are read with the index's sort key; what an index does not project is
fetched from the item, at the price of reading it.
"""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from dynamo.paxos.operations import PutItem
from dynamo.paxos.statemachine import InFlight, StorageReplica, WriteRecord
from dynamo.storage.attributes import item_size
from dynamo.storage.btree import BTree
from dynamo.storage.catalog import Catalog, TableDefinition
from dynamo.storage.errors import ItemCollectionSizeLimitExceededException, ValidationException
from dynamo.storage.expressions import compile_request
from dynamo.storage.indexes import (
    ALL,
    ENTRY_OVERHEAD,
    INCLUDE,
    KEYS_ONLY,
    Projection,
    SecondaryIndex,
    entry,
    entry_changes,
    entry_key,
    index_tbl,
    sort_bounds,
)
from dynamo.storage.keys import KeyAttribute, KeySchema, encode_value
from dynamo.storage.table import Page, Table, read_global_index

SCHEMA = KeySchema(KeyAttribute("user", "S"), KeyAttribute("ts", "N"))


PROJECT_ALL = Projection(ALL)


def local(name: str, sort: str, projection: Projection = PROJECT_ALL,
          sort_type: str = "S") -> SecondaryIndex:
    return SecondaryIndex(name, KeySchema(SCHEMA.partition, KeyAttribute(sort, sort_type)),
                          projection, is_global=False)


BY_TITLE = local("byTitle", "title", Projection(KEYS_ONLY))
BY_SCORE = local("byScore", "score", Projection(INCLUDE, ("title",)), "N")
BY_ALL = local("byPlace", "place")


def definition(*indexes: SecondaryIndex) -> TableDefinition:
    return TableDefinition("us-east-1", "Posts", SCHEMA, [], created_at=0.0,
                           indexes=list(indexes))


@pytest.fixture
def btree(tmp_path: Path) -> Iterator[BTree]:
    tree = BTree(tmp_path / "replica.db")
    yield tree
    tree.close()


@pytest.fixture
def table(btree: BTree) -> Table:
    return Table(btree, definition(BY_TITLE, BY_SCORE, BY_ALL))


def post(user: str, ts: int, **attributes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"user": {"S": user}, "ts": {"N": str(ts)}}
    for name, value in attributes.items():
        item[name] = {"N": str(value)} if isinstance(value, int) else {"S": value}
    return item


def entries(table: Table, index: SecondaryIndex) -> list[dict[str, Any]]:
    return [entry.item for entry in table.btree.scan(index_tbl(table.tbl, index))]


def query(table: Table, index: str, condition: str = "#u = :u", values: dict | None = None,
          **kw: Any) -> Page:
    found = table.definition.index(index)
    assert found is not None
    params: dict[str, Any] = {"KeyConditionExpression": condition,
                              "ExpressionAttributeNames": {"#u": "user"},
                              "ExpressionAttributeValues": {":u": {"S": "ann"}, **(values or {})}}
    for member in ("FilterExpression", "ProjectionExpression"):
        if member in kw:
            params[member] = kw.pop(member)
    compiled = compile_request("Query", params, found.key_schema)
    return table.query(compiled.key_range, filter=compiled.filter,
                       projection=compiled.projection, index=index, **kw)


# -- the entries an item stands for -----------------------------------------------------


def test_an_item_without_the_index_sort_key_has_no_entry_sparse_indexes(table: Table) -> None:
    table.put_item(post("ann", 1, title="a"))
    assert [e["title"]["S"] for e in entries(table, BY_TITLE)] == ["a"]
    assert entries(table, BY_SCORE) == [] and entries(table, BY_ALL) == []


def test_entries_hold_both_keys_and_only_the_projected_attributes(table: Table) -> None:
    table.put_item(post("ann", 1, title="a", score=5, place="x", body="long"))
    assert entries(table, BY_TITLE) == [post("ann", 1, title="a")]
    assert entries(table, BY_SCORE) == [post("ann", 1, score=5, title="a")]
    assert entries(table, BY_ALL) == [post("ann", 1, title="a", score=5, place="x", body="long")]


def test_entries_follow_updates_and_deletes(table: Table) -> None:
    """An index key that changes moves the entry; a removed one drops it; a delete drops all."""
    table.put_item(post("ann", 1, title="a", score=5))
    compiled = compile_request("UpdateItem", {
        "UpdateExpression": "SET title = :t REMOVE score",
        "ExpressionAttributeValues": {":t": {"S": "b"}}}, SCHEMA)
    table.update_item({"user": {"S": "ann"}, "ts": {"N": "1"}}, compiled)
    assert [e["title"]["S"] for e in entries(table, BY_TITLE)] == ["b"]
    assert entries(table, BY_SCORE) == []
    table.delete_item({"user": {"S": "ann"}, "ts": {"N": "1"}})
    assert entries(table, BY_TITLE) == [] and table.btree.count(table.tbl) == 0


def test_a_write_that_changes_no_projected_attribute_leaves_the_entry_alone() -> None:
    old = post("ann", 1, title="a", body="x")
    new = post("ann", 1, title="a", body="y")
    assert entry_changes("t", SCHEMA, BY_TITLE, old, new) == ()
    changed = entry_changes("t", SCHEMA, local("all", "title"), old, new)
    assert [change.item for change in changed] == [new]  # ALL projects body: rewritten


def test_entry_keys_are_unique_per_item_even_with_equal_index_keys() -> None:
    one = entry_key(SCHEMA, BY_TITLE, post("ann", 1, title="same"))
    two = entry_key(SCHEMA, BY_TITLE, post("ann", 2, title="same"))
    assert one is not None and two is not None and one != two
    assert one.hash == two.hash  # an LSI entry hashes like its item: same partition


def test_composite_sort_parts_keep_the_index_sort_key_order() -> None:
    """A prefix sorts first, and a zero byte inside a value does not end it early."""
    values = [b"", b"a", b"a\x00", b"a\x00b", b"a\x01", b"ab", b"b"]
    bytes_index = SecondaryIndex("b", KeySchema(SCHEMA.partition, KeyAttribute("title", "B")),
                                 Projection(KEYS_ONLY), False)
    keys = [entry_key(SCHEMA, bytes_index, {**post("ann", 9), "title": {"B": b64encode(v).decode()}})
            for v in values]
    sorts = [k.sort for k in keys if k is not None]
    assert sorts == sorted(sorts) and len(set(sorts)) == len(values)


def test_sort_bounds_select_exactly_the_entries_a_condition_names() -> None:
    low, low_inclusive, high, _ = sort_bounds(b"b", False, b"d", True)
    parts = {v: entry_key(SCHEMA, BY_TITLE, post("ann", 1, title=v)).sort  # type: ignore[union-attr]
             for v in ("a", "b", "bb", "c", "d", "dd")}
    chosen = [v for v, part in parts.items() if part >= low and part < high]  # type: ignore[operator]
    assert low_inclusive and chosen == ["bb", "c", "d"]


# -- refusals -----------------------------------------------------------------------------


def test_an_index_key_of_the_wrong_type_is_refused_with_dynamodbs_message(table: Table) -> None:
    with pytest.raises(ValidationException) as caught:
        table.put_item({**post("ann", 1), "score": {"S": "high"}})
    assert caught.value.message == (
        "One or more parameter values were invalid: Type mismatch for Index Key score "
        "Expected: N Actual: S IndexName: byScore")
    assert table.btree.count(table.tbl) == 0


def test_an_update_that_gives_an_index_key_the_wrong_type_changes_nothing(table: Table) -> None:
    table.put_item(post("ann", 1, title="a"))
    compiled = compile_request("UpdateItem", {"UpdateExpression": "SET title = :n",
                                              "ExpressionAttributeValues": {":n": {"N": "1"}}},
                               SCHEMA)
    with pytest.raises(ValidationException, match="Type mismatch for Index Key title"):
        table.update_item({"user": {"S": "ann"}, "ts": {"N": "1"}}, compiled)
    assert entries(table, BY_TITLE) == [post("ann", 1, title="a")]


def test_an_empty_index_key_string_is_refused(table: Table) -> None:
    with pytest.raises(ValidationException) as caught:
        table.put_item(post("ann", 1, title=""))
    assert caught.value.message == (
        "One or more parameter values are not valid. A value specified for a secondary index "
        "key is not supported. The AttributeValue for a key attribute cannot contain an empty "
        "string value. IndexName: byTitle, IndexKey: title")


def test_the_item_collection_limit_refuses_growth_but_not_shrinking(btree: BTree) -> None:
    """§ "Item collection size limit": past it, writes that add are refused, deletes are not."""
    table = Table(btree, definition(BY_ALL))
    first = post("ann", 1, place="x", body="y" * 300)
    size = item_size(first) * 2 + ENTRY_OVERHEAD
    plan = table.plan_put(first, collection_limit=size)
    assert plan.collection_size == size
    table.commit(plan)
    with pytest.raises(ItemCollectionSizeLimitExceededException):
        table.plan_put(post("ann", 2, body="z"), collection_limit=size)
    table.put_item(post("bob", 2, body="z"))  # another collection is not affected
    shrunk = table.plan_delete({"user": {"S": "ann"}, "ts": {"N": "1"}}, collection_limit=1)
    assert shrunk.collection_size == 0


# -- capacity -----------------------------------------------------------------------------


def test_writing_an_index_entry_costs_write_units_on_the_table(table: Table) -> None:
    """One WCU for the item, one per entry put, two when an index key moves (delete + put)."""
    plan = table.put_item(post("ann", 1, title="a", score=1))
    assert plan.capacity.write == 1 + 1 + 1
    assert plan.capacity.local_indexes == {"byTitle": 1.0, "byScore": 1.0}
    moved = table.put_item(post("ann", 1, title="b", score=1))
    # byScore projects title: its entry is rewritten in place (one write).
    assert moved.capacity.local_indexes == {"byTitle": 2.0, "byScore": 1.0}
    wire = moved.capacity.to_wire("INDEXES")
    assert wire is not None and wire["Table"]["CapacityUnits"] == 1.0
    assert wire["CapacityUnits"] == 4.0
    assert wire["LocalSecondaryIndexes"] == {"byTitle": {"CapacityUnits": 2.0},
                                             "byScore": {"CapacityUnits": 1.0}}


# -- reads ----------------------------------------------------------------------------------


def fill(table: Table) -> None:
    for ts, title in enumerate(["c", "a", "d", "b"]):
        table.put_item(post("ann", ts, title=title, score=10 - ts, body="b" * 10))
    table.put_item(post("bob", 0, title="a"))


def test_a_query_on_an_index_reads_in_the_index_sort_key_order(table: Table) -> None:
    fill(table)
    page = query(table, "byTitle")
    assert [i["title"]["S"] for i in page.items] == ["a", "b", "c", "d"]
    backwards = query(table, "byTitle", forward=False)
    assert [i["title"]["S"] for i in backwards.items] == ["d", "c", "b", "a"]


@pytest.mark.parametrize("condition, values, expected", [
    ("#u = :u AND title = :a", {":a": {"S": "b"}}, ["b"]),
    ("#u = :u AND title > :a", {":a": {"S": "b"}}, ["c", "d"]),
    ("#u = :u AND title >= :a", {":a": {"S": "b"}}, ["b", "c", "d"]),
    ("#u = :u AND title < :a", {":a": {"S": "c"}}, ["a", "b"]),
    ("#u = :u AND title <= :a", {":a": {"S": "c"}}, ["a", "b", "c"]),
    ("#u = :u AND title BETWEEN :a AND :b", {":a": {"S": "b"}, ":b": {"S": "c"}}, ["b", "c"]),
    ("#u = :u AND begins_with(title, :a)", {":a": {"S": "c"}}, ["c"]),
])
def test_key_conditions_on_the_index_sort_key(table: Table, condition: str, values: dict,
                                              expected: list[str]) -> None:
    fill(table)
    page = query(table, "byTitle", condition, values)
    assert [i["title"]["S"] for i in page.items] == expected


def test_pages_resume_from_a_last_evaluated_key_of_index_and_table_keys(table: Table) -> None:
    fill(table)
    first = query(table, "byTitle", limit=2)
    assert first.last_evaluated_key == {"user": {"S": "ann"}, "ts": {"N": "3"},
                                        "title": {"S": "b"}}
    rest = query(table, "byTitle", exclusive_start_key=first.last_evaluated_key)
    assert [i["title"]["S"] for i in rest.items] == ["c", "d"]


@pytest.mark.parametrize("start, message", [
    ({"user": {"S": "ann"}, "ts": {"N": "1"}}, "The provided starting key is invalid"),
    ({"user": {"S": "ann"}, "ts": {"N": "1"}, "title": {"N": "1"}},
     "The provided starting key is invalid"),
    ({"user": {"S": "bob"}, "ts": {"N": "1"}, "title": {"S": "a"}},
     "The provided starting key is outside query boundaries based on provided conditions"),
])
def test_a_bad_index_start_key_is_refused(table: Table, start: dict, message: str) -> None:
    fill(table)
    with pytest.raises(ValidationException) as caught:
        query(table, "byTitle", exclusive_start_key=start)
    assert caught.value.message == message


def test_the_default_select_returns_what_the_index_projects(table: Table) -> None:
    fill(table)
    item = query(table, "byScore", limit=1).items[0]
    assert set(item) == {"user", "ts", "score", "title"}


def test_all_attributes_fetches_the_item_and_charges_for_it(table: Table) -> None:
    """Developer Guide: a fetch from the table costs the item's read, beside the entries'."""
    fill(table)
    projected = query(table, "byScore", consistent=True)
    fetched = query(table, "byScore", select="ALL_ATTRIBUTES", consistent=True)
    assert all("body" in item for item in fetched.items)
    assert fetched.capacity.read == projected.capacity.read + 4  # one RCU per item fetched
    assert fetched.capacity.local_indexes == {"byScore": projected.capacity.read}


def test_a_projection_of_unprojected_attributes_fetches_them(table: Table) -> None:
    fill(table)
    page = query(table, "byTitle", ProjectionExpression="body, title", limit=1)
    assert page.items == [{"title": {"S": "a"}, "body": {"S": "b" * 10}}]


def test_a_filter_on_an_unprojected_attribute_sees_the_whole_item(table: Table) -> None:
    fill(table)
    page = query(table, "byTitle", FilterExpression="score > :s", values={":s": {"N": "8"}})
    assert [i["title"]["S"] for i in page.items] == ["a", "c"]
    assert set(page.items[0]) == {"user", "ts", "title"}  # still what the index projects


def test_an_unknown_or_global_index_is_not_one_a_table_reads(btree: BTree) -> None:
    gsi = SecondaryIndex("g", KeySchema(KeyAttribute("title", "S")), Projection(ALL), True)
    table = Table(btree, definition(BY_TITLE, gsi))
    with pytest.raises(ValidationException, match="does not have the specified index: g"):
        table.scan(index="g")


def test_a_scan_of_an_index_reads_every_entry_in_hash_order_and_resumes(table: Table) -> None:
    fill(table)
    first = table.scan(index="byTitle", limit=3)
    rest = table.scan(index="byTitle", exclusive_start_key=first.last_evaluated_key)
    assert first.scanned_count + rest.scanned_count == 5
    seen = [(i["user"]["S"], i["ts"]["N"]) for i in first.items + rest.items]
    assert len(set(seen)) == 5


# -- one write, one record, one transaction --------------------------------------------


def test_a_replicated_write_carries_the_item_and_its_entries_in_one_record(btree: BTree) -> None:
    replica = StorageReplica(btree)
    table = definition(BY_TITLE)
    record, answer = replica.plan(PutItem(table, post("ann", 1, title="a")), InFlight(btree))
    assert isinstance(record, WriteRecord)
    assert [change.tbl for change in record.changes] == [table.tbl, index_tbl(table.tbl,
                                                                               BY_TITLE)]
    replica.apply(1, record)
    assert btree.applied_lsn() == 1
    assert btree.count(index_tbl(table.tbl, BY_TITLE)) == 1


def test_delete_table_drops_the_index_entries_too(btree: BTree) -> None:
    catalog = Catalog(btree)
    table = definition(BY_TITLE)
    catalog.create(table)
    Table(btree, table).put_item(post("ann", 1, title="a"))
    catalog.delete(table.region, table.name)
    assert btree.dump() == []


def test_index_definitions_round_trip_through_the_catalog(btree: BTree) -> None:
    catalog = Catalog(btree)
    table = definition(BY_TITLE, BY_SCORE)
    catalog.create(table)
    assert catalog.get(table.region, table.name) == table
    older = table.to_json()
    del older["indexes"]  # a catalog written before indexes existed
    assert TableDefinition.from_json(orjson.loads(orjson.dumps(older))).indexes == []


def test_encoding_is_as_the_keys_module_says() -> None:
    key = entry_key(SCHEMA, BY_TITLE, post("ann", 1, title="a"))
    assert key is not None and key.partition == encode_value({"S": "ann"})


class _CountingBTree(BTree):
    """A real B-tree that counts its point lookups."""

    gets = 0

    def get_with_size(self, tbl: str, key: Any) -> Any:
        self.gets += 1
        return super().get_with_size(tbl, key)


def test_a_global_index_partition_reads_its_entries_alone_and_charges_the_index() -> None:
    """A global index's partition holds none of the table's items: a Query naming an
    attribute the index does not project reads the entries and looks nothing up, and its
    units are the index's, not the table's (ReturnConsumedCapacity=INDEXES)."""
    index = SecondaryIndex("byTitle", KeySchema(KeyAttribute("title", "S")), Projection(KEYS_ONLY),
                           is_global=True)
    definition = TableDefinition("us-east-1", "Posts", SCHEMA, [], created_at=0.0,
                                 indexes=[index])
    btree = _CountingBTree(None)
    item = {"user": {"S": "ann"}, "ts": {"N": "1"}, "title": {"S": "T"},
            "body": {"S": "x" * 100}}
    written = entry(definition.tbl, SCHEMA, index, item)
    assert written is not None
    btree.apply([written])
    compiled = compile_request("Query", {
        "KeyConditionExpression": "title = :t", "ProjectionExpression": "body",
        "ExpressionAttributeValues": {":t": {"S": "T"}}}, index.key_schema)
    page = read_global_index(btree, definition, "byTitle", True,
                             {"key_range": compiled.key_range, "projection": compiled.projection})
    assert page.count == 1 and btree.gets == 0, "an item was looked for where there is none"
    assert page.capacity.read == 0 and page.capacity.global_indexes == {"byTitle": 0.5}
