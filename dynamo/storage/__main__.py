"""`python -m dynamo.storage`: one storage replica, alone, doing DynamoDB's item work.

Nothing here is distributed. This is what a single storage replica does with
a request once a router has brought it there (paper §3): it keeps items in a
B-tree (a SQLite file), checks conditions against the item it holds, applies
updates, answers Queries with an index range scan and Scans in hash order,
and charges every request in capacity units (§4). The demo creates a table,
writes to it, and prints each request with what it cost.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from dynamo.storage.btree import BTree
from dynamo.storage.catalog import PAY_PER_REQUEST, Catalog, TableDefinition
from dynamo.storage.errors import ConditionalCheckFailedException
from dynamo.storage.expressions import compile_request
from dynamo.storage.keys import KeyAttribute, KeySchema
from dynamo.storage.table import Table

SCHEMA = KeySchema(KeyAttribute("Artist", "S"), KeyAttribute("SongTitle", "S"))
SONGS = [
    ("No One You Know", "Call Me Today", 2019, 0),
    ("No One You Know", "Crazy Train", 2020, 0),
    ("No One You Know", "Somewhere Down The Road", 2018, 5),
    ("Ella Fitzgerald", "Summertime", 1958, 12),
]


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "replica.db"
        with BTree(path) as btree:
            print(f"One storage replica: a SQLite B-tree in {path.name} "
                  "(WAL mode, synchronous=FULL)\n")
            table = create_table(btree)
            write_songs(table)
            conditional_put(table)
            update_plays(table)
            query_songs(table)
            parallel_scan(table)
            count, size = Catalog(btree).usage("us-east-1", "Music")
            print(f"\nThe replica holds {count} items, {size} bytes "
                  f"(applied log position {btree.applied_lsn()}: no WAL yet, see layer 2)")


def create_table(btree: BTree) -> Table:
    definition = TableDefinition(
        "us-east-1", "Music", SCHEMA,
        [{"AttributeName": "Artist", "AttributeType": "S"},
         {"AttributeName": "SongTitle", "AttributeType": "S"}],
        billing_mode=PAY_PER_REQUEST)
    Catalog(btree).create(definition)
    print("CreateTable Music: partition key Artist (S), sort key SongTitle (S)")
    return Table(btree, definition)


def write_songs(table: Table) -> None:
    for artist, title, year, plays in SONGS:
        item = {"Artist": {"S": artist}, "SongTitle": {"S": title},
                "Year": {"N": str(year)}, "Plays": {"N": str(plays)}}
        if title == "Summertime":
            item["Lyrics"] = {"S": "la " * 1000}
        plan = table.put_item(item)
        print(f"PutItem {show(item)}  -> {plan.capacity.write:g} WCU")


def conditional_put(table: Table) -> None:
    compiled = compile_request(
        "PutItem", {"ConditionExpression": "attribute_not_exists(Artist)"}, SCHEMA)
    item = {"Artist": {"S": "No One You Know"}, "SongTitle": {"S": "Call Me Today"}}
    print("\nPutItem Call Me Today again, if attribute_not_exists(Artist):")
    try:
        table.put_item(item, compiled, return_on_ccf="ALL_OLD")
    except ConditionalCheckFailedException as failed:
        print(f"  ConditionalCheckFailedException: {failed.message}; "
              f"the item stays {show(failed.item)}; "
              f"still costs {failed.capacity.write:g} WCU")


def update_plays(table: Table) -> None:
    compiled = compile_request("UpdateItem", {
        "UpdateExpression": "SET Plays = Plays + :one",
        "ConditionExpression": "attribute_exists(Artist)",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }, SCHEMA)
    key = {"Artist": {"S": "No One You Know"}, "SongTitle": {"S": "Call Me Today"}}
    plan = table.update_item(key, compiled, return_values="UPDATED_NEW")
    print("\nUpdateItem Call Me Today: SET Plays = Plays + :one IF attribute_exists(Artist)")
    print(f"  UPDATED_NEW {show(plan.attributes)}  -> {plan.capacity.write:g} WCU")


def query_songs(table: Table) -> None:
    compiled = compile_request("Query", {
        "KeyConditionExpression": "Artist = :a AND begins_with(SongTitle, :c)",
        "FilterExpression": "Plays > :zero",
        "ExpressionAttributeValues": {":a": {"S": "No One You Know"}, ":c": {"S": "C"},
                                      ":zero": {"N": "0"}},
    }, SCHEMA)
    page = table.query(compiled.key_range, filter=compiled.filter)
    print('\nQuery Artist = "No One You Know" AND begins_with(SongTitle, "C"), '
          "filter Plays > 0:")
    for item in page.items:
        print(f"  {show(item)}")
    print(f"  Count {page.count}, ScannedCount {page.scanned_count}, "
          f"{page.capacity.read:g} RCU (eventually consistent; the filter saves nothing)")


def parallel_scan(table: Table) -> None:
    print("\nScan in 2 parallel segments (halves of the hash ring), Limit 2, consistent:")
    for segment in range(2):
        start = None
        while True:
            page = table.scan(segment, 2, limit=2, exclusive_start_key=start, consistent=True)
            titles = ", ".join(item["SongTitle"]["S"] for item in page.items) or "(none)"
            start = page.last_evaluated_key
            more = f"  LastEvaluatedKey {show(start)}" if start else ""
            print(f"  segment {segment}: {titles}  -> {page.capacity.read:g} RCU{more}")
            if start is None:
                break


def show(item: dict[str, Any] | None) -> str:
    """An item in a readable, compact form: Artist="...", Year=2019."""
    if item is None:
        return "(none)"
    return "{" + ", ".join(f"{name}={plain(value)}" for name, value in item.items()) + "}"


def plain(value: dict[str, Any]) -> str:
    (kind, payload), = value.items()
    if kind == "S":
        return f'"{payload}"' if len(payload) <= 30 else f'"{payload[:12]}..." ({len(payload)} chars)'
    return str(payload)


if __name__ == "__main__":
    main()
