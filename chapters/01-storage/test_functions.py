"""Chapter 1, graded: the condition functions `begins_with` and `size`.

Each test asks the storage layer the question a DynamoDB client would ask, with a
FilterExpression on a Scan, and checks the answer the Developer Guide gives
("Condition expressions: comparison operator and function reference"):

- `begins_with(path, substr)`: true when the attribute at `path` is a String that
  begins with the String `substr`, or a Binary that begins with the Binary `substr`.
- `size(path)`: a Number, the length of a String, the number of bytes of a Binary,
  the number of members of a set (SS, NS, BS), or of elements of a List or a Map.

A failure says which expression, on which item, was expected to be true or false,
and the rule from the Developer Guide that decides it.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from dynamo.storage.btree import BTree
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.expressions import compile_request, evaluate
from dynamo.storage.keys import KeyAttribute, KeySchema
from dynamo.storage.table import Table

SCHEMA = KeySchema(KeyAttribute("Artist", "S"), KeyAttribute("Song", "S"))
BEGINS_WITH = (
    "begins_with(path, substr) is true when the attribute at path is a String that begins "
    "with the String substr, or a Binary that begins with the Binary substr"
)
SIZE = (
    "size(path) is the length of a String, the number of bytes of a Binary, the number of "
    "members of a set, or the number of elements of a List or a Map"
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def check(expression: str, item: dict[str, Any], values: dict[str, Any], expected: bool, rule: str) -> None:
    """Assert that a Scan's FilterExpression keeps (True) or drops (False) the item."""
    request = {"FilterExpression": expression, **({"ExpressionAttributeValues": values} if values else {})}
    compiled = compile_request("Scan", request, SCHEMA)
    try:
        kept = evaluate(compiled.filter, item)
    except NotImplementedError as error:
        outcome = f"raised NotImplementedError({error})"
    else:
        outcome = "" if kept is expected else f"was {str(kept).upper()}"
    if outcome:  # outside the except block, so the report is the explanation alone
        pytest.fail(_explain(expression, item, values, expected, outcome, rule))


def _explain(expression: str, item: dict, values: dict, expected: bool, got: str, rule: str) -> str:
    used = {name: value for name, value in item.items() if re.search(rf"\b{name}\b", expression)}
    return (
        f"FilterExpression  {expression}\n"
        f"  with ExpressionAttributeValues {_json(values)}\n"
        f"  on an item with {_json(used)} (other attributes left out)\n"
        f"should be {str(expected).upper()} (the Scan {'returns' if expected else 'skips'} the item), "
        f"but it {got}.\n"
        f"DynamoDB's rule: {rule}."
    )


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


ITEM = {
    "Artist": {"S": "Arvo Pärt"},
    "Song": {"S": "Spiegel im Spiegel"},
    "Cover": {"B": b64(b"\x89PNG\r\n\x1a\nrest-of-image")},
    "Released": {"N": "1978"},
    "Tags": {"SS": ["minimal", "piano", "violin"]},
    "Takes": {"NS": ["1", "2"]},
    "Masters": {"BS": [b64(b"a"), b64(b"b"), b64(b"c"), b64(b"d")]},
    "Players": {"L": [{"S": "violin"}, {"S": "piano"}]},
    "Credits": {"M": {"composer": {"S": "Pärt"}, "label": {"S": "ECM"}, "year": {"N": "1978"}}},
    "Live": {"BOOL": False},
}


def test_begins_with_matches_string_prefixes():
    """begins_with on a String compares characters from the start, case-sensitively."""
    check("begins_with(Song, :p)", ITEM, {":p": {"S": "Spiegel"}}, True, BEGINS_WITH)
    check("begins_with(Song, :p)", ITEM, {":p": {"S": "Spiegel im Spiegel"}}, True, BEGINS_WITH)
    check("begins_with(Artist, :p)", ITEM, {":p": {"S": "Arvo Pä"}}, True, BEGINS_WITH)
    check("begins_with(Song, :p)", ITEM, {":p": {"S": "spiegel"}}, False, BEGINS_WITH)
    check("begins_with(Song, :p)", ITEM, {":p": {"S": "im Spiegel"}}, False, BEGINS_WITH)
    check("begins_with(Song, :p)", ITEM, {":p": {"S": "Spiegel im Spiegel, again"}}, False, BEGINS_WITH)
    check("begins_with(Credits.label, :p)", ITEM, {":p": {"S": "EC"}}, True, BEGINS_WITH)


def test_begins_with_matches_binary_prefixes():
    """begins_with on a Binary compares bytes (the values travel base64-encoded)."""
    check("begins_with(Cover, :magic)", ITEM, {":magic": {"B": b64(b"\x89PNG")}}, True, BEGINS_WITH)
    check("begins_with(Cover, :magic)", ITEM, {":magic": {"B": b64(b"GIF8")}}, False, BEGINS_WITH)
    check("begins_with(Cover, :magic)", ITEM, {":magic": {"B": b64(b"PNG")}}, False, BEGINS_WITH)


def test_begins_with_is_false_when_the_types_differ():
    """A type mismatch in the item is not an error: the condition is simply false."""
    check("begins_with(Released, :p)", ITEM, {":p": {"S": "19"}}, False, BEGINS_WITH)
    check("begins_with(Tags, :p)", ITEM, {":p": {"S": "min"}}, False, BEGINS_WITH)
    check("begins_with(Cover, :p)", ITEM, {":p": {"S": b64(b"\x89PNG")}}, False, BEGINS_WITH)
    check("begins_with(Song, :p)", ITEM, {":p": {"B": b64(b"Spiegel")}}, False, BEGINS_WITH)
    check("NOT begins_with(Players, :p)", ITEM, {":p": {"S": "violin"}}, True, BEGINS_WITH)


def test_begins_with_is_false_for_types_other_than_string_and_binary():
    """Two Numbers (or two sets) of the same type are no prefix of each other, even when their
    digits are: begins_with compares Strings and Binaries only."""
    reissue = {**ITEM, "Reissued": {"N": "19"}, "Moods": {"SS": ["minimal"]}}
    check("begins_with(Released, Reissued)", reissue, {}, False, BEGINS_WITH)
    check("begins_with(Tags, Moods)", reissue, {}, False, BEGINS_WITH)
    check("NOT begins_with(Released, Reissued)", reissue, {}, True, BEGINS_WITH)


def test_size_of_a_string_counts_characters_not_bytes():
    """"Arvo Pärt" is 9 characters, though its UTF-8 encoding is 10 bytes."""
    check("size(Song) = :n", ITEM, {":n": {"N": "18"}}, True, SIZE)
    check("size(Artist) = :n", ITEM, {":n": {"N": "9"}}, True, SIZE)
    check("size(Artist) = :n", ITEM, {":n": {"N": "10"}}, False, SIZE)
    check("size(Credits.label) < :n", ITEM, {":n": {"N": "4"}}, True, SIZE)


def test_size_of_a_binary_counts_bytes():
    """A Binary's size is its raw bytes, not the length of its base64 text."""
    cover = len(b"\x89PNG\r\n\x1a\nrest-of-image")
    check("size(Cover) = :n", ITEM, {":n": {"N": str(cover)}}, True, SIZE)
    check("size(Cover) = :n", ITEM, {":n": {"N": str(len(ITEM["Cover"]["B"]))}}, False, SIZE)


def test_size_of_sets_lists_and_maps_counts_their_members():
    """Sets count members, Lists count elements, Maps count their top-level entries."""
    check("size(Tags) = :n", ITEM, {":n": {"N": "3"}}, True, SIZE)
    check("size(Takes) = :n", ITEM, {":n": {"N": "2"}}, True, SIZE)
    check("size(Masters) = :n", ITEM, {":n": {"N": "4"}}, True, SIZE)
    check("size(Players) = :n", ITEM, {":n": {"N": "2"}}, True, SIZE)
    check("size(Credits) = :n", ITEM, {":n": {"N": "3"}}, True, SIZE)
    check("size(Tags) BETWEEN :lo AND :hi", ITEM, {":lo": {"N": "1"}, ":hi": {"N": "2"}}, False, SIZE)


def test_size_of_a_number_or_a_boolean_is_no_value():
    """size() is defined for Strings, Binaries, sets, Lists and Maps only: for a Number or a
    Boolean there is no size, so every comparison with it is false."""
    no_size = SIZE + "; for any other type there is no size, and a comparison with no value is false"
    check("size(Released) >= :zero", ITEM, {":zero": {"N": "0"}}, False, no_size)
    check("size(Released) = :digits", ITEM, {":digits": {"N": "4"}}, False, no_size)
    check("size(Live) >= :zero", ITEM, {":zero": {"N": "0"}}, False, no_size)


def test_a_scan_filters_with_begins_with_and_size(tmp_path):
    """The functions at work in the storage engine: a Scan of a real SQLite B-tree.

    A filter runs after the items are read (§4: the Scan is charged for every item it
    evaluated), so ScannedCount counts all items and Count only those the filter kept.
    """
    definition = TableDefinition(
        region="us-east-1",
        name="Music",
        key_schema=SCHEMA,
        attribute_definitions=[
            {"AttributeName": "Artist", "AttributeType": "S"},
            {"AttributeName": "Song", "AttributeType": "S"},
        ],
    )
    with BTree(tmp_path / "replica.sqlite") as btree:
        table = Table(btree, definition)
        songs = {
            "Spiegel im Spiegel": ["piano", "violin"],
            "Spiegel II": ["cello"],
            "Fratres": ["violin", "piano", "strings"],
            "Für Alina": ["piano"],
        }
        for song, players in songs.items():
            table.put_item({"Artist": {"S": "Arvo Pärt"}, "Song": {"S": song}, "Tags": {"SS": players}})
        expression = "begins_with(Song, :title) AND size(Tags) >= :players"
        values = {":title": {"S": "Spiegel"}, ":players": {"N": "2"}}
        compiled = compile_request(
            "Scan", {"FilterExpression": expression, "ExpressionAttributeValues": values}, SCHEMA
        )
        try:
            page = table.scan(filter=compiled.filter)
        except NotImplementedError as error:
            page, failure = None, f"Scan with FilterExpression {expression} raised NotImplementedError({error})"
    if page is None:  # outside the except block, so the report is the explanation alone
        pytest.fail(failure)
    returned = sorted(item["Song"]["S"] for item in page.items)
    assert (returned, page.scanned_count) == (["Spiegel im Spiegel"], 4), (
        f"Scan with FilterExpression {expression} and {_json(values)} over the songs "
        f"{sorted(songs)} should return only 'Spiegel im Spiegel' (the only title starting "
        f"with 'Spiegel' that has at least 2 tags), having scanned all 4 items; it returned "
        f"{returned} and scanned {page.scanned_count}.\n"
        f"DynamoDB's rules: {BEGINS_WITH}; {SIZE}."
    )
