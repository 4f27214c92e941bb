"""The replica's B-tree: SQLite as an ordered, durable, transactional item store (§3)."""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path

import pytest

from dynamo.storage.attributes import item_size
from dynamo.storage.btree import BTree, Mutation, _range_sql, segment_bounds, segment_of
from dynamo.storage.keys import KeyAttribute, KeySchema, encode_value, item_key
from dynamo.storage.numbers import normalise_number

SCHEMA = KeySchema(KeyAttribute("pk", "S"), KeyAttribute("sk", "N"))


@pytest.fixture(params=["file", "memory"])
def btree(request: pytest.FixtureRequest, tmp_path: Path) -> BTree:
    tree = BTree(tmp_path / "replica.db" if request.param == "file" else None)
    yield tree
    tree.close()


def put(tbl: str, item: dict, schema: KeySchema = SCHEMA) -> Mutation:
    return Mutation(tbl, item_key(schema, item), item)


def row(pk: str, sk: str, **extra: dict) -> dict:
    return {"pk": {"S": pk}, "sk": {"N": sk}, **extra}


def test_put_get_delete_round_trip(btree: BTree) -> None:
    item = row("a", "1", payload={"M": {"x": {"L": [{"S": "é"}, {"NULL": True}]}}})
    key = item_key(SCHEMA, item)
    assert btree.get("t", key) is None
    btree.apply([put("t", item)])
    assert btree.get("t", key) == item
    btree.apply([Mutation("t", key, None)])
    assert btree.get("t", key) is None


def test_tables_are_separate_namespaces(btree: BTree) -> None:
    item = row("a", "1")
    btree.apply([put("us-east-1/A", item), put("us-east-1/B", {**item, "v": {"S": "b"}})])
    key = item_key(SCHEMA, item)
    assert btree.get("us-east-1/A", key) == item
    assert btree.get("us-east-1/B", key)["v"] == {"S": "b"}
    btree.drop_table("us-east-1/A")
    assert btree.get("us-east-1/A", key) is None
    assert btree.count("us-east-1/A") == 0
    assert btree.count("us-east-1/B") == 1


def test_count_and_size_follow_the_items(btree: BTree) -> None:
    items = [row("a", str(i), v={"S": "x" * i}) for i in range(10)]
    btree.apply([put("t", item) for item in items])
    assert btree.count("t") == 10
    assert btree.size("t") == sum(item_size(item) for item in items)
    btree.apply([Mutation("t", item_key(SCHEMA, items[0]), None)])
    assert btree.count("t") == 9


def test_a_batch_applies_all_or_nothing(btree: BTree) -> None:
    good = row("a", "1")
    btree.apply([put("t", good)], lsn=1)
    # orjson cannot serialise a Python set: the second mutation fails mid-batch.
    broken = Mutation("t", item_key(SCHEMA, row("a", "2")), {"pk": {"SS": {"x"}}})
    with pytest.raises(TypeError):
        btree.apply([Mutation("t", item_key(SCHEMA, good), None), broken], lsn=2)
    assert btree.get("t", item_key(SCHEMA, good)) == good
    assert btree.applied_lsn() == 1


def test_applied_lsn_is_recorded_with_the_changes_and_only_moves_forward(btree: BTree) -> None:
    assert btree.applied_lsn() == 0
    btree.apply([put("t", row("a", "1"))], lsn=7)
    assert btree.applied_lsn() == 7
    btree.apply([put("t", row("a", "2"))])  # no lsn: unchanged
    assert btree.applied_lsn() == 7
    btree.apply([put("t", row("a", "1"))], lsn=3)  # a replayed, older batch
    assert btree.applied_lsn() == 7
    btree.apply([], lsn=9)
    assert btree.applied_lsn() == 9


def test_data_and_applied_lsn_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "replica.db"
    with BTree(path) as tree:
        tree.apply([put("t", row("a", str(i))) for i in range(50)], lsn=42)
    with BTree(path) as tree:
        assert tree.applied_lsn() == 42
        assert tree.count("t") == 50
        assert tree.get("t", item_key(SCHEMA, row("a", "7"))) == row("a", "7")


def test_file_is_wal_mode_with_full_sync(tmp_path: Path) -> None:
    """DESIGN: an acknowledged write must survive power loss, so synchronous=FULL (2)."""
    with BTree(tmp_path / "replica.db") as tree:
        assert tree.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert tree.conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    with BTree(tmp_path / "other.db", synchronous="NORMAL") as tree:
        assert tree.conn.execute("PRAGMA synchronous").fetchone()[0] == 1
    with pytest.raises(ValueError):
        BTree(None, synchronous="OFF")


def test_items_table_is_clustered_without_rowid(tmp_path: Path) -> None:
    with BTree(tmp_path / "replica.db") as tree:
        sql = tree.conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'items'").fetchone()[0]
    assert "WITHOUT ROWID" in sql
    assert "PRIMARY KEY (tbl, h, pk, sk)" in sql


@pytest.mark.parametrize("low_op, high_op, forward", [
    (">", "<=", True), (">=", None, False), (None, "<", True), (None, None, False)])
def test_query_is_an_index_range_scan(btree: BTree, low_op, high_op, forward) -> None:
    """A Query seeks the primary key; it never scans and filters a partition."""
    sql = _range_sql(low_op, high_op, forward)
    params = ["t", b"h", b"p"] + [b"x"] * ((low_op is not None) + (high_op is not None)) + [10]
    plan = " ".join(r[3] for r in btree.conn.execute("EXPLAIN QUERY PLAN " + sql, params))
    assert "SEARCH items USING PRIMARY KEY (tbl=? AND h=? AND pk=?" in plan
    assert "TEMP B-TREE" not in plan  # no sort step: the index order is the answer's order


def sorted_sort_keys(btree: BTree, schema: KeySchema, values: list[dict], **bounds) -> list:
    btree.apply([put("t", {"pk": {"S": "p"}, "sk": v}, schema) for v in values])
    partition = encode_value({"S": "p"})
    return [entry.item["sk"] for entry in btree.range("t", partition, **bounds)]


def test_numbers_sort_numerically_through_the_index(btree: BTree) -> None:
    numbers = ["-1E+10", "-100", "-10.5", "-10", "-1", "-0.001", "-1E-130", "0", "1E-130",
               "0.001", "0.5", "1", "1.5", "2", "10", "10.01", "99", "100", "1E+10",
               "9.9999999999999999999999999999999999999E+125"]
    schema = KeySchema(KeyAttribute("pk", "S"), KeyAttribute("sk", "N"))
    canonical = [normalise_number(n) for n in numbers]
    shuffled = canonical[::2] + canonical[1::2]
    got = sorted_sort_keys(btree, schema, [{"N": n} for n in shuffled])
    assert got == [{"N": n} for n in canonical]


def test_strings_sort_by_utf8_bytes_through_the_index(btree: BTree) -> None:
    strings = ["A", "Z", "a", "ab", "b", "z", "é", "中", "😀"]  # code point = UTF-8 byte order
    schema = KeySchema(KeyAttribute("pk", "S"), KeyAttribute("sk", "S"))
    got = sorted_sort_keys(btree, schema, [{"S": s} for s in reversed(strings)])
    assert got == [{"S": s} for s in strings]


def test_binaries_sort_unsigned_bytewise_through_the_index(btree: BTree) -> None:
    raw = [b"\x00", b"\x00\x00", b"\x01", b"\x7f", b"\x80", b"\xff", b"\xff\x00"]
    schema = KeySchema(KeyAttribute("pk", "S"), KeyAttribute("sk", "B"))
    values = [{"B": base64.b64encode(r).decode()} for r in raw]
    assert sorted_sort_keys(btree, schema, values[::-1]) == values


def test_range_bounds_direction_and_resume(btree: BTree) -> None:
    btree.apply([put("t", row("p", str(i))) for i in range(-20, 21)])
    btree.apply([put("t", row("other", str(i))) for i in range(-20, 21)])
    partition = encode_value({"S": "p"})

    def numbers(**kw) -> list[int]:
        return [int(e.item["sk"]["N"]) for e in btree.range("t", partition, **kw)]

    low, high = encode_value({"N": "-3"}), encode_value({"N": "4"})
    assert numbers(low=low, high=high) == list(range(-3, 5))
    assert numbers(low=low, low_inclusive=False, high=high, high_inclusive=False) == \
        list(range(-2, 4))
    assert numbers(low=low, high=high, forward=False) == list(range(4, -4, -1))
    after = item_key(SCHEMA, row("p", "0"))
    assert numbers(low=low, high=high, start_after=after) == [1, 2, 3, 4]
    assert numbers(low=low, high=high, forward=False, start_after=after) == [-1, -2, -3]
    assert numbers() == list(range(-20, 21))


@pytest.mark.parametrize("forward", [True, False])
def test_range_walks_long_collections_across_chunks(btree: BTree, forward: bool) -> None:
    """Rows come back in growing chunks; none is lost or repeated at a chunk boundary."""
    count = 3000
    btree.apply([put("t", row("p", str(i))) for i in range(count)])
    got = [int(e.item["sk"]["N"]) for e in btree.range("t", encode_value({"S": "p"}),
                                                          forward=forward)]
    assert got == (list(range(count)) if forward else list(range(count - 1, -1, -1)))


def scan_keys(btree: BTree, *args, **kw) -> list[tuple]:
    return [(e.key.hash, e.key.partition, e.key.sort) for e in btree.scan("t", *args, **kw)]


def test_scan_walks_hash_order(btree: BTree) -> None:
    btree.apply([put("t", row(f"user{i}", str(j))) for i in range(40) for j in range(5)])
    btree.apply([put("elsewhere", row("x", "1"))])
    keys = scan_keys(btree)
    assert len(keys) == 200
    assert keys == sorted(keys)
    assert len({k[0] for k in keys}) == 40  # item collections stay together


@pytest.mark.parametrize("total", [1, 2, 3, 7, 16])
def test_scan_segments_partition_all_items_exactly_once(btree: BTree, total: int) -> None:
    btree.apply([put("t", row(f"user{i}", "1")) for i in range(300)])
    everything = scan_keys(btree)
    parts = [scan_keys(btree, segment, total) for segment in range(total)]
    joined = [key for part in parts for key in part]
    assert joined == everything  # disjoint, complete, and in order segment after segment
    for segment, part in enumerate(parts):
        assert all(segment_of(key[0], total) == segment for key in part)
    if total > 1:
        assert all(parts), "300 well-spread hashes leave no segment empty"


def test_segment_bounds_tile_the_ring() -> None:
    """Segments are equal, contiguous slices of the 128-bit hash space."""
    for total in (1, 2, 3, 10, 97):
        bounds = [segment_bounds(segment, total) for segment in range(total)]
        assert bounds[0][0] == bytes(16)
        assert bounds[-1][1] is None
        for segment, (low, high) in enumerate(bounds):
            assert segment_of(low, total) == segment
            if high is not None:
                assert bounds[segment + 1][0] == high
                last = (int.from_bytes(high, "big") - 1).to_bytes(16, "big")
                assert segment_of(last, total) == segment
    low, high = segment_bounds(123_456, 1_000_000)
    assert segment_of(low, 1_000_000) == 123_456 and segment_of(high, 1_000_000) == 123_457
    with pytest.raises(ValueError):
        segment_bounds(3, 3)


def test_scan_resumes_after_a_start_key(btree: BTree) -> None:
    btree.apply([put("t", row(f"user{i}", str(j))) for i in range(30) for j in range(3)])
    everything = scan_keys(btree)
    for cut in (0, 1, 44, 88):
        after = btree.scan("t")
        start = next(e.key for n, e in enumerate(after) if n == cut)
        assert scan_keys(btree, start_after=start) == everything[cut + 1:]


def test_a_second_connection_reads_committed_data(tmp_path: Path) -> None:
    """Committed means on disk in the SQLite file, visible to any reader."""
    path = tmp_path / "replica.db"
    with BTree(path) as tree:
        tree.apply([put("t", row("a", "1"))])
        reader = sqlite3.connect(path)
        assert reader.execute("SELECT count(*) FROM items").fetchone()[0] == 1
        reader.close()
