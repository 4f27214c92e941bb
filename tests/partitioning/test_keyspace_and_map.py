"""The hashed key space and the partition map that tiles it (§3, §4.4, §6.6).

"A table is divided into multiple partitions", each "a contiguous key-range"
of the hashed key space (§3): a partition's range is `[low, high)`, the map's
partitions tile `0 .. 2**128` with no gap and no overlap, and finding the
partition that holds a hash is a floor lookup. Every change to the map gives
it a higher version, so routers can tell a stale cache from a fresh one.
"""

from __future__ import annotations

import pytest

from dynamo.partitioning.keyspace import KEY_SPACE, WHOLE_SPACE, KeyRange, position_of
from dynamo.partitioning.partition_map import Partition, PartitionMap
from dynamo.storage.keys import KeyAttribute, KeySchema, item_key

TABLE = "lab/music"
NODES = ("n1", "n2", "n3")
A, B = 1 << 126, 3 << 126  # two boundaries: [0, A), [A, B), [B, 2**128)


def three_partitions() -> PartitionMap:
    ranges = (KeyRange(0, A), KeyRange(A, B), KeyRange(B, KEY_SPACE))
    return PartitionMap(TABLE, 7, tuple(Partition(f"p{i}", TABLE, r, NODES)
                                        for i, r in enumerate(ranges)))


def covered(partition_map: PartitionMap) -> list[tuple[int, int]]:
    return [(p.key_range.low, p.key_range.high) for p in partition_map.partitions]


# --- KeyRange -----------------------------------------------------------------------


def test_a_key_range_holds_its_low_bound_and_not_its_high_bound() -> None:
    key_range = KeyRange(A, B)
    assert A in key_range
    assert B - 1 in key_range
    assert B not in key_range
    assert A - 1 not in key_range


def test_an_empty_or_out_of_space_range_is_refused() -> None:
    for low, high in ((A, A), (B, A), (-1, A), (0, KEY_SPACE + 1)):
        with pytest.raises(ValueError):
            KeyRange(low, high)


def test_a_range_splits_only_strictly_inside_itself() -> None:
    assert KeyRange(0, B).split_at(A) == (KeyRange(0, A), KeyRange(A, B))
    for at in (0, B, B + 1):
        with pytest.raises(ValueError):
            KeyRange(0, B).split_at(at)


def test_hex_renders_32_hex_digits_and_the_top_bound_as_32_fs() -> None:
    """The admin state's `key_range`: 128-bit positions, 32 hex digits each."""
    assert WHOLE_SPACE.hex() == ("0" * 32, "f" * 32)
    low, high = KeyRange(1, 1 << 127).hex()
    assert (low, high) == ("0" * 31 + "1", "8" + "0" * 31)
    assert all(len(bound) == 32 for bound in KeyRange(A, KEY_SPACE).hex())


# --- the floor lookup --------------------------------------------------------------


def test_floor_lookup_finds_the_partition_holding_a_position() -> None:
    """Low bounds are inclusive, high bounds exclusive, from 0 to 2**128 - 1."""
    partition_map = three_partitions()
    expected = {0: "p0", A - 1: "p0", A: "p1", B - 1: "p1", B: "p2", KEY_SPACE - 1: "p2"}
    for position, partition in expected.items():
        found = partition_map.lookup(position)
        assert found.id == partition, hex(position)
        assert position in found.key_range


def test_a_one_partition_map_holds_the_whole_key_space() -> None:
    partition_map = PartitionMap.single(TABLE, "p", NODES)
    assert partition_map.version == 1
    assert partition_map.partitions[0].key_range == WHOLE_SPACE
    assert partition_map.lookup(0).id == partition_map.lookup(KEY_SPACE - 1).id == "p"


# --- the map tiles the key space ------------------------------------------------------


def test_a_map_whose_partitions_leave_a_gap_is_refused() -> None:
    with pytest.raises(ValueError, match="tile"):
        PartitionMap(TABLE, 1, (Partition("a", TABLE, KeyRange(0, A), NODES),
                                Partition("b", TABLE, KeyRange(A + 1, KEY_SPACE), NODES)))


def test_a_map_whose_partitions_overlap_is_refused() -> None:
    with pytest.raises(ValueError, match="tile"):
        PartitionMap(TABLE, 1, (Partition("a", TABLE, KeyRange(0, B), NODES),
                                Partition("b", TABLE, KeyRange(A, KEY_SPACE), NODES)))


def test_a_map_that_stops_short_of_the_top_is_refused() -> None:
    with pytest.raises(ValueError, match="short"):
        PartitionMap(TABLE, 1, (Partition("a", TABLE, KeyRange(0, B), NODES),))
    with pytest.raises(ValueError):
        PartitionMap(TABLE, 1, ())


def test_a_split_bumps_the_version_and_replaces_the_parent_by_its_children() -> None:
    """§4.4: the children take the parent's halves, on the parent's replicas."""
    before = three_partitions().led_by("p1", "n2")
    at = A + (1 << 100)
    after = before.split("p1", at, "p1a", "p1b")
    assert after.version == before.version + 1
    assert [p.id for p in after.partitions] == ["p0", "p1a", "p1b", "p2"]
    assert covered(after) == [(0, A), (A, at), (at, B), (B, KEY_SPACE)]
    assert after.lookup(at - 1).id == "p1a" and after.lookup(at).id == "p1b"
    assert all(p.replicas == NODES and p.leader == "n2" for p in after.partitions[1:3])


def test_moving_a_partition_bumps_the_version_and_keeps_the_tiling() -> None:
    before = three_partitions().led_by("p0", "n1")
    after = before.moved("p0", ("n2", "n3", "n4"))
    assert after.version == before.version + 1
    assert covered(after) == covered(before)
    assert after.get("p0") == Partition("p0", TABLE, KeyRange(0, A), ("n2", "n3", "n4"), None)


def test_a_new_leader_hint_bumps_the_version_and_keeps_the_tiling() -> None:
    before = three_partitions()
    after = before.led_by("p2", "n3")
    assert after.version == before.version + 1
    assert covered(after) == covered(before)
    assert after.get("p2").leader == "n3"  # type: ignore[union-attr]
    assert before.get("p2").leader is None  # type: ignore[union-attr]  # maps are values


def test_changing_a_partition_the_map_lacks_is_refused() -> None:
    with pytest.raises(KeyError):
        three_partitions().led_by("nope", "n1")


# --- item collections ---------------------------------------------------------------


def test_items_with_one_partition_key_hash_to_one_position_so_a_split_never_divides_them() -> None:
    """§3: the partition key alone is hashed; an item collection lives in one partition."""
    schema = KeySchema(KeyAttribute("artist", "S"), KeyAttribute("song", "N"))
    items = [{"artist": {"S": "Nina"}, "song": {"N": str(n)}} for n in range(50)]
    positions = {position_of(item_key(schema, item)) for item in items}
    assert len(positions) == 1
    (position,) = positions
    other = position_of(item_key(schema, {"artist": {"S": "Miles"}, "song": {"N": "1"}}))
    assert other != position
    whole = PartitionMap.single(TABLE, "p", NODES)
    for at in (position, position + 1):  # the nearest splits either side of the collection
        split = whole.split("p", at, "left", "right")
        homes = {split.lookup(position_of(item_key(schema, item))).id for item in items}
        assert len(homes) == 1
