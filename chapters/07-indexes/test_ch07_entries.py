"""Graded tests of chapter 07: which items an index holds, and which index writes a write makes.

The table is the lesson's: orders, keyed by `customer` and `order`, with a local index
`byPlaced` on the order's date (keys only), a global index `openOrders` on the attribute
`status_open`, which only open orders have (a sparse index), projecting `total`, and a
global index `bigOrders` keyed by `total` (a number) and `placed`, projecting everything.

The first tests call your functions with exact items and compare their answers with what
DynamoDB's rules say; the later ones run them where the database runs them: a table's
writes and Queries on one replica, and an index partition's log. The simulator's
`gsi-convergence` scenario runs your functions too, in `test_ch07_convergence.py`
(not graded: those runs also stand on chapters 3 and 5).
"""

from __future__ import annotations

from typing import Any

from dynamo.partitioning.keyspace import KEY_SPACE, KeyRange
from dynamo.partitioning.partition_store import PartitionStore
from dynamo.paxos.statemachine import InFlight
from dynamo.storage import outbox
from dynamo.storage.btree import BTree, Mutation
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.expressions import compile_request
from dynamo.storage.indexes import (
    ALL,
    INCLUDE,
    KEYS_ONLY,
    Projection,
    SecondaryIndex,
    _part,
    entry,
    entry_changes,
    entry_key,
    index_tbl,
    projected,
)
from dynamo.storage.keys import (
    EncodedKey,
    KeyAttribute,
    KeySchema,
    encode_value,
    hash_position,
    item_key,
)
from dynamo.storage.table import Table

TABLE = KeySchema(KeyAttribute("customer", "S"), KeyAttribute("order", "S"))
BY_PLACED = SecondaryIndex("byPlaced", KeySchema(TABLE.partition, KeyAttribute("placed", "S")),
                           Projection(KEYS_ONLY), is_global=False)
OPEN_ORDERS = SecondaryIndex("openOrders", KeySchema(KeyAttribute("status_open", "S")),
                             Projection(INCLUDE, ("total", "coupon")), is_global=True)
BIG_ORDERS = SecondaryIndex("bigOrders",
                            KeySchema(KeyAttribute("total", "N"), KeyAttribute("placed", "S")),
                            Projection(ALL), is_global=True)
ORDERS = TableDefinition("us-east-1", "Orders", TABLE, [], created_at=0.0,
                         indexes=[BY_PLACED, OPEN_ORDERS, BIG_ORDERS])
TBL = ORDERS.tbl



def order(customer: str, number: str, **attributes: Any) -> dict[str, Any]:
    """An order item; ints become Numbers, strings Strings, bytes Binary."""
    item: dict[str, Any] = {"customer": {"S": customer}, "order": {"S": number}}
    for name, value in attributes.items():
        if isinstance(value, int):
            item[name] = {"N": str(value)}
        elif isinstance(value, bytes):
            item[name] = {"B": value}
        else:
            item[name] = {"S": value}
    return item


def described(item: dict[str, Any] | None) -> str:
    if item is None:
        return "no item"
    return "{" + ", ".join(f"{name}: {next(iter(value.values()))!r}"
                           for name, value in item.items()) + "}"


def composite(*values: dict[str, Any]) -> bytes:
    """The sort part of an entry key: each value encoded, escaped and ended by `_part`."""
    return b"".join(_part(encode_value(value)) for value in values)


SPARSE = ("an item has an entry only if it holds every key attribute of the index (its "
          "partition key, and its sort key if it has one) with the index's type; otherwise "
          "entry_key is None")
PLACE = ("the entry key's partition part is the encoded index partition key value, hashed "
         "with hash_position as an item's is; its sort part is the index sort key (if any), "
         "then the table's partition key, then the table's sort key (if any), each encoded "
         "with encode_value and passed through _part, joined")
PROJECT = ("projected keeps the table's key attributes and the index's always; ALL keeps the "
           "whole item, INCLUDE adds the NonKeyAttributes the item has, KEYS_ONLY nothing more")
CHANGES = ("entry_changes: delete the old entry (item None) when the item had one and its key "
           "changed or the item left the index; put the new entry (entry(...)) when the item "
           "is in the index, unless the old entry has the same key and the same projected item")
VERSIONS = ("plan_index_write: read the entry key's version row; if it holds a sequence at "
            "least as high as the write's, plan no change; else write the entry (item None "
            "deletes it) and set the version to the write's sequence, which stays after a "
            "delete (a tombstone); either way the plan names the version row as it was read")


# --- Part 1: which items an index holds, and where -----------------------------------------


def test_an_item_without_an_index_key_attribute_has_no_entry_a_sparse_index() -> None:
    """Developer Guide: an item that lacks an index's key attribute is not written to the
    index; only the items that have it are (a sparse index)."""
    cases = [
        (OPEN_ORDERS, order("ann", "o1", total=30), None),
        (OPEN_ORDERS, order("ann", "o1", status_open="2024-05-02"), "an entry"),
        (BIG_ORDERS, order("ann", "o1", total=30), None),
        (BIG_ORDERS, order("ann", "o1", placed="2024-05-02"), None),
        (BIG_ORDERS, order("ann", "o1", total=30, placed="2024-05-02"), "an entry"),
        (BY_PLACED, order("ann", "o1", total=30), None),
        (BY_PLACED, order("ann", "o1", placed="2024-05-02"), "an entry"),
    ]
    for index, item, expected in cases:
        got = entry_key(TABLE, index, item)
        answer = None if got is None else "an entry"
        assert answer == expected, (
            f"Index {index.name} (keys {index.key_schema.names}), item {described(item)}: "
            f"expected {expected or 'no entry (None)'}, entry_key answered {got!r}.\n"
            f"The rule: {SPARSE}.")


def test_an_item_holding_an_index_key_of_another_type_is_not_in_the_index() -> None:
    """A global index created on a table whose items disagree on a key's type skips those
    items (DynamoDB's backfill reports them as violations): they have no entry."""
    cases = [
        (OPEN_ORDERS, order("ann", "o1", status_open=1)),
        (BIG_ORDERS, order("ann", "o1", total="thirty", placed="2024-05-02")),
        (BIG_ORDERS, order("ann", "o1", total=30, placed=20240502)),
        (BY_PLACED, order("ann", "o1", placed=b"2024")),
    ]
    for index, item in cases:
        got = entry_key(TABLE, index, item)
        assert got is None, (
            f"Index {index.name} (keys {index.key_schema.names}, types "
            f"{[a.type for a in (index.key_schema.partition, index.key_schema.sort) if a]}), "
            f"item {described(item)}: expected no entry (None), got {got!r}.\nThe rule: {SPARSE}.")


def test_an_entry_is_placed_by_the_index_partition_key_as_an_item_is_by_its_own() -> None:
    """§2 and the Developer Guide: a global index is partitioned by its own partition key.
    An entry hashes exactly as an item of a table keyed like the index would."""
    item = order("ann", "o1", status_open="2024-05-02")
    got = entry_key(TABLE, OPEN_ORDERS, item)
    as_a_table = item_key(KeySchema(KeyAttribute("status_open", "S")), item)
    assert got is not None and (got.hash, got.partition) == (as_a_table.hash, as_a_table.partition), (
        f"Item {described(item)} in index openOrders: the entry's (hash, partition) should be "
        f"{(as_a_table.hash, as_a_table.partition)}, got "
        f"{None if got is None else (got.hash, got.partition)}.\nThe rule: {PLACE}.")
    other = entry_key(TABLE, OPEN_ORDERS, order("bob", "o7", status_open="2024-05-02"))
    assert other is not None and other.partition == got.partition and other.hash == got.hash, (
        "Two orders of different customers, open on the same day, belong to the same index "
        f"partition key, so the same hash and partition part.\nThe rule: {PLACE}.")


def test_the_sort_part_is_the_index_sort_key_then_the_tables_key_each_escaped() -> None:
    """An entry key must be unique even when items share an index key: its sort part is the
    index's sort key followed by the table's primary key, in an order-keeping encoding."""
    item = order("ann", "o1", placed="2024-05-02", total=30, status_open="2024-05-02")
    cases = [
        (BY_PLACED, EncodedKey(hash_position(b"ann"), b"ann",
                               composite(item["placed"], item["customer"], item["order"]))),
        (OPEN_ORDERS, EncodedKey(hash_position(b"2024-05-02"), b"2024-05-02",
                                 composite(item["customer"], item["order"]))),
        (BIG_ORDERS, EncodedKey(hash_position(encode_value(item["total"])),
                                encode_value(item["total"]),
                                composite(item["placed"], item["customer"], item["order"]))),
    ]
    for index, expected in cases:
        got = entry_key(TABLE, index, item)
        assert got == expected, (
            f"Index {index.name}, item {described(item)}: expected\n  {expected!r}\ngot\n  {got!r}"
            f"\nThe rule: {PLACE}.")
    no_sort = KeySchema(KeyAttribute("customer", "S"))
    expected = EncodedKey(hash_position(b"2024-05-02"), b"2024-05-02", composite(item["customer"]))
    got = entry_key(no_sort, OPEN_ORDERS, item)
    assert got == expected, (
        f"A table keyed by `customer` alone has no sort key to add: expected {expected!r}, got "
        f"{got!r}.\nThe rule: {PLACE}.")


def test_two_items_with_the_same_index_key_have_two_entries() -> None:
    items = [order("ann", number, status_open="2024-05-02") for number in ("o1", "o2", "o10")]
    keys = [entry_key(TABLE, OPEN_ORDERS, item) for item in items]
    assert None not in keys and len(set(keys)) == 3, (
        f"Three of ann's orders open on the same day need three entries in openOrders, with "
        f"three different keys; got {keys}.\nThe rule: {PLACE}.")


# --- Part 2: what an entry holds -------------------------------------------------------------


def test_an_entry_holds_both_keys_and_only_the_projected_attributes() -> None:
    """Developer Guide: the table's key attributes and the index's are always projected;
    KEYS_ONLY adds nothing, INCLUDE the attributes named, ALL the whole item."""
    item = order("ann", "o1", placed="2024-05-02", status_open="2024-05-02", total=30,
                 note="leave at the door")
    keys = {name: item[name] for name in ("customer", "order")}
    cases = [
        (BY_PLACED, {**keys, "placed": item["placed"]}),
        (OPEN_ORDERS, {**keys, "status_open": item["status_open"], "total": item["total"]}),
        (BIG_ORDERS, item),
    ]
    for index, expected in cases:
        got = projected(TABLE, index, item)
        assert got == expected, (
            f"Index {index.name} ({index.projection.type} {list(index.projection.non_key_attributes)}) "
            f"of {described(item)}: expected {described(expected)}, got {described(got)}.\n"
            f"The rule: {PROJECT}.")
    # `coupon` is named by openOrders but this item has none: nothing to copy.
    assert "coupon" not in projected(TABLE, OPEN_ORDERS, item), PROJECT


def test_an_entry_is_a_copy_a_later_change_to_the_item_does_not_reach_it() -> None:
    item = order("ann", "o1", placed="2024-05-02", total=30)
    kept = projected(TABLE, BIG_ORDERS, item)
    item["total"] = {"N": "31"}
    assert kept["total"] == {"N": "30"}, (
        "projected(...) with ALL must return a new dict, not the item itself: the entry is "
        "written to the index as it was when projected.")


# --- Part 3: which index writes a write makes ------------------------------------------------


def check_changes(index: SecondaryIndex, old: dict | None, new: dict | None,
                  expected: list[Mutation], story: str) -> None:
    got = list(entry_changes(TBL, TABLE, index, old, new))
    matches = len(got) == len(expected) and all(change in got for change in expected)
    assert matches, (
        f"{story}\nIndex {index.name}, old {described(old)}, new {described(new)}.\n"
        f"Expected {len(expected)} index write(s): {expected}\ngot {len(got)}: {got}\n"
        f"The rule: {CHANGES}.")


def put_entry(index: SecondaryIndex, item: dict) -> Mutation:
    key = entry_key(TABLE, index, item)
    assert key is not None
    return Mutation(index_tbl(TBL, index), key, projected(TABLE, index, item))


def delete_entry(index: SecondaryIndex, item: dict) -> Mutation:
    key = entry_key(TABLE, index, item)
    assert key is not None
    return Mutation(index_tbl(TBL, index), key, None)


def test_an_item_entering_the_index_is_one_write() -> None:
    """Developer Guide: a table write makes 0, 1 or 2 index writes. An item that gets the
    index key attribute is one put of its entry."""
    placed = order("ann", "o1", total=30)
    opened = order("ann", "o1", total=30, status_open="2024-05-02")
    check_changes(OPEN_ORDERS, None, opened, [put_entry(OPEN_ORDERS, opened)], "A new open order.")
    check_changes(OPEN_ORDERS, placed, opened, [put_entry(OPEN_ORDERS, opened)],
                  "An order that becomes open.")


def test_an_item_leaving_the_index_is_one_delete() -> None:
    opened = order("ann", "o1", total=30, status_open="2024-05-02")
    closed = order("ann", "o1", total=30)
    check_changes(OPEN_ORDERS, opened, closed, [delete_entry(OPEN_ORDERS, opened)],
                  "An order closed: its status_open attribute removed.")
    check_changes(OPEN_ORDERS, opened, None, [delete_entry(OPEN_ORDERS, opened)],
                  "An open order deleted.")
    retyped = order("ann", "o1", total=30, status_open=1)
    check_changes(OPEN_ORDERS, opened, retyped, [delete_entry(OPEN_ORDERS, opened)],
                  "status_open turned into a number: the string-keyed index no longer holds it.")


def test_an_index_key_that_changes_is_two_writes_a_delete_and_a_put() -> None:
    before = order("ann", "o1", total=30, status_open="2024-05-02")
    after = order("ann", "o1", total=30, status_open="2024-05-03")
    check_changes(OPEN_ORDERS, before, after,
                  [delete_entry(OPEN_ORDERS, before), put_entry(OPEN_ORDERS, after)],
                  "An open order moved to another day.")
    moved = order("ann", "o1", total=30, placed="2024-05-01")
    later = order("ann", "o1", total=30, placed="2024-05-04")
    check_changes(BY_PLACED, moved, later,
                  [delete_entry(BY_PLACED, moved), put_entry(BY_PLACED, later)],
                  "A local index's sort key changed.")


def test_a_write_that_changes_no_projected_attribute_makes_no_index_write() -> None:
    """Developer Guide: a write that changes only attributes an index does not project
    costs that index nothing."""
    before = order("ann", "o1", total=30, placed="2024-05-02", status_open="2024-05-02")
    after = {**before, "note": {"S": "leave at the door"}}
    check_changes(OPEN_ORDERS, before, after, [], "A note added; openOrders projects only total.")
    check_changes(BY_PLACED, before, after, [], "A note added; byPlaced projects only keys.")
    check_changes(OPEN_ORDERS, before, dict(before), [], "The same order written again.")


def test_a_write_that_changes_a_projected_attribute_rewrites_the_entry_in_place() -> None:
    before = order("ann", "o1", total=30, placed="2024-05-02", status_open="2024-05-02")
    after = {**before, "total": {"N": "35"}}
    check_changes(OPEN_ORDERS, before, after, [put_entry(OPEN_ORDERS, after)],
                  "The total changed; openOrders projects it, under the same entry key.")
    noted = {**before, "note": {"S": "leave at the door"}}
    check_changes(BIG_ORDERS, before, noted, [put_entry(BIG_ORDERS, noted)],
                  "A note added; bigOrders projects ALL.")


def test_an_item_never_in_the_index_makes_no_index_write() -> None:
    item = order("ann", "o1", total=30)
    check_changes(OPEN_ORDERS, None, item, [], "A new order that is not open.")
    check_changes(OPEN_ORDERS, item, {**item, "total": {"N": "31"}}, [], "Its total changed.")
    check_changes(OPEN_ORDERS, item, None, [], "It is deleted.")
    check_changes(OPEN_ORDERS, None, None, [], "Nothing before, nothing after.")


# --- a local index on one replica: the entries change in the item's write ---------------------


def lsi_table() -> Table:
    return Table(BTree(None), TableDefinition("us-east-1", "Orders", TABLE, [], created_at=0.0,
                                              indexes=[BY_PLACED]))


def placed_between(table: Table, low: str, high: str) -> list[str]:
    """A strongly consistent Query of byPlaced: ann's orders placed between low and high."""
    compiled = compile_request("Query", {
        "KeyConditionExpression": "customer = :c AND placed BETWEEN :low AND :high",
        "ExpressionAttributeValues": {":c": {"S": "ann"}, ":low": {"S": low},
                                      ":high": {"S": high}}}, BY_PLACED.key_schema)
    page = table.query(compiled.key_range, index=BY_PLACED.name, consistent=True)
    return [f"{item['placed']['S']} {item['order']['S']}" for item in page.items]


def test_a_local_index_query_reads_the_entries_in_index_sort_key_order() -> None:
    """§2: an LSI lives in the base partition and changes in the item's own write, so a
    strongly consistent Query of it sees every acknowledged write at once, in the order of
    the index's sort key, with each key condition exact even when one value is a prefix of
    another."""
    table = lsi_table()
    for number, placed in (("o1", "2024-05-02"), ("o2", "2024-05"), ("o3", "2024-05-02T09"),
                           ("o4", "2024-05-01"), ("o5", "2024-05-02")):
        table.put_item(order("ann", number, placed=placed))
    table.put_item(order("ann", "o6"))  # no date: not in the index
    table.put_item(order("bob", "o7", placed="2024-05-02"))
    got = placed_between(table, "2024-05", "2024-05-02")
    expected = ["2024-05 o2", "2024-05-01 o4", "2024-05-02 o1", "2024-05-02 o5"]
    assert got == expected, (
        f"ann's orders placed between '2024-05' and '2024-05-02' (inclusive), in date order, "
        f"equal dates in order number order: expected {expected}, the index answered {got}.\n"
        f"The rules: {SPARSE}.\n{PLACE}.")
    table.update_item({"customer": {"S": "ann"}, "order": {"S": "o1"}}, compile_request(
        "UpdateItem", {"UpdateExpression": "SET placed = :p",
                       "ExpressionAttributeValues": {":p": {"S": "2024-05-03"}}}, TABLE))
    table.delete_item({"customer": {"S": "ann"}, "order": {"S": "o4"}})
    got = placed_between(table, "2024-05", "2024-05-02T09")
    expected = ["2024-05 o2", "2024-05-02 o5", "2024-05-02T09 o3"]
    assert got == expected, (
        f"Then o1 moved to 2024-05-03 and o4 deleted; ann's orders placed between '2024-05' and "
        f"'2024-05-02T09': expected {expected}, the index answered {got}.\nThe rule: {CHANGES}.")


def test_a_local_index_write_costs_write_units_per_entry_written() -> None:
    """Developer Guide, LSI throughput: writing an item costs, on top of its own write, one
    write per entry put or deleted: none when the index is untouched, one when an entry
    appears, changes or goes, two when its key changes."""
    table = lsi_table()
    key = {"customer": {"S": "ann"}, "order": {"S": "o1"}}
    steps = [
        ("a new order with no date", order("ann", "o1", total=30), 0),
        ("dated", order("ann", "o1", total=30, placed="2024-05-02"), 1),
        ("its total changed (not projected)", order("ann", "o1", total=31, placed="2024-05-02"), 0),
        ("its date changed", order("ann", "o1", total=31, placed="2024-05-03"), 2),
        ("deleted", None, 1),
    ]
    for story, item, units in steps:
        plan = table.put_item(item) if item is not None else table.delete_item(key)
        got = plan.capacity.local_indexes.get(BY_PLACED.name, 0)
        assert got == units, (
            f"An order {story}: byPlaced should cost {units} write unit(s), it cost {got}.\n"
            f"The rule: {CHANGES}.")


# --- Part 4: an index partition applies only newer sequences ---------------------------------


ENTRY = item_key(KeySchema(KeyAttribute("status_open", "S"), KeyAttribute("order", "S")),
                 {"status_open": {"S": "2024-05-02"}, "order": {"S": "o1"}})
INDEX_TBL = index_tbl(TBL, OPEN_ORDERS)
OPEN = order("ann", "o1", status_open="2024-05-02", total=30)


def index_partition() -> PartitionStore:
    return PartitionStore(BTree(None), "g.", KeyRange(0, KEY_SPACE))


def ship(partition: PartitionStore, seq: int, item: dict | None, slot: list[int]) -> bool:
    """An IndexWrite planned at the index partition's leader and applied, as its log does."""
    command, _ = partition.plan(outbox.IndexWrite(INDEX_TBL, ENTRY, seq, item),
                                InFlight(partition.btree))
    slot[0] += 1
    return partition.apply(slot[0], command)


def state(partition: PartitionStore) -> tuple[dict | None, int | None]:
    """The entry under ENTRY, and the sequence its version row holds (None: no row)."""
    version = partition.btree.get(outbox.versions_tbl(INDEX_TBL), ENTRY)
    return (partition.btree.get(INDEX_TBL, ENTRY),
            None if version is None else int(version["seq"]["N"]))


def check_state(partition: PartitionStore, expected: tuple[dict | None, int | None],
                story: str) -> None:
    got = state(partition)
    assert got == expected, (
        f"{story}\nThe index partition should hold (entry, version) "
        f"({described(expected[0])}, {expected[1]}); it holds ({described(got[0])}, {got[1]}).\n"
        f"The rule: {VERSIONS}.")


def test_an_index_write_is_applied_and_records_its_sequence() -> None:
    partition, slot = index_partition(), [0]
    ship(partition, 1, OPEN, slot)
    check_state(partition, (OPEN, 1), "A first IndexWrite (seq 1) puts the entry.")
    updated = {**OPEN, "total": {"N": "35"}}
    ship(partition, 3, updated, slot)
    check_state(partition, (updated, 3), "Then seq 3 rewrites it.")


# --8<-- [start:late-update]
def test_a_late_update_never_resurrects_a_deleted_entry() -> None:
    """The index partition keeps the sequence of a deleted entry (a tombstone): an older
    update that arrives late, shipped twice or reordered, is refused."""
    partition, slot = index_partition(), [0]
    ship(partition, 2, None, slot)  # the order was opened (seq 1), then closed (seq 2)
    check_state(partition, (None, 2), "seq 2, a delete, arrives first.")
    ship(partition, 1, OPEN, slot)  # the put of seq 1, late
    check_state(partition, (None, 2), "Then the put of seq 1 arrives, late.")
# --8<-- [end:late-update]


def test_a_duplicated_index_write_changes_nothing() -> None:
    """The propagator may ship a round twice (it lost an answer, or crashed); the same
    sequence again is not newer, so the plan has no change to log."""
    partition, slot = index_partition(), [0]
    ship(partition, 4, OPEN, slot)
    plan = outbox.plan_index_write(outbox.IndexWrite(INDEX_TBL, ENTRY, 4, OPEN), partition.btree)
    assert plan.changes == (), (
        f"The entry key's version is 4; an IndexWrite of seq 4 again should plan no change, "
        f"it plans {plan.changes}.\nThe rule: {VERSIONS}.")
    plan = outbox.plan_index_write(outbox.IndexWrite(INDEX_TBL, ENTRY, 3, None), partition.btree)
    assert plan.changes == (), (
        f"An IndexWrite of seq 3 (older) should plan no change, it plans {plan.changes}.\n"
        f"The rule: {VERSIONS}.")


def test_an_index_write_planned_on_a_version_that_has_moved_is_not_applied() -> None:
    """A plan is logged with the rows it read: a replica applies it only if they are still as
    read (as every write planned on in-flight state), so a write planned against a version
    that another write has since changed cannot apply an older sequence."""
    partition, slot = index_partition(), [0]
    stale, _ = partition.plan(outbox.IndexWrite(INDEX_TBL, ENTRY, 1, OPEN),
                              InFlight(partition.btree))
    ship(partition, 2, None, slot)
    slot[0] += 1
    applied = partition.apply(slot[0], stale)
    got = state(partition)
    assert not applied and got == (None, 2), (
        f"seq 1's put was planned while the version row was empty; then seq 2's delete was "
        f"applied. Applying seq 1's record now must be refused, leaving (no entry, 2); it "
        f"{'applied' if applied else 'was refused'}, leaving ({described(got[0])}, {got[1]}).\n"
        f"The rule: {VERSIONS}.")


def test_entry_is_what_the_index_holds_of_an_item() -> None:
    """`entry` (given) puts your three functions together: the write that files an item's
    projection under its entry key in the index's storage id."""
    item = order("ann", "o1", status_open="2024-05-02", total=30, note="x")
    got = entry(TBL, TABLE, OPEN_ORDERS, item)
    expected_key = EncodedKey(hash_position(b"2024-05-02"), b"2024-05-02",
                              composite(item["customer"], item["order"]))
    assert got is not None and got.tbl == INDEX_TBL and got.key == expected_key and got.item == {
        name: item[name] for name in ("customer", "order", "status_open", "total")}, (
        f"entry(...) of {described(item)} in openOrders: got {got}.\nThe rules: {PLACE}.\n{PROJECT}.")

