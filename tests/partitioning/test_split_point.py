"""Choosing a split point from the key distribution a partition has observed (§4.4).

Each test is named after the sentence of the paper (or of the Developer Guide's
"isolate frequently accessed items") that it checks. Keys are real: partition keys
are hashed with `hash_position`, as the storage layer does, and keys "in the lower
tenth of the range" are found by hashing candidates until enough land there.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dynamo.partitioning.keyspace import KEY_SPACE, WHOLE_SPACE, KeyRange, position_of
from dynamo.partitioning.split_point import (
    HOT_ITEM_SHARE,
    ONE_HOT_ITEM,
    SEQUENTIAL_KEYS,
    SEQUENTIAL_WINDOW,
    SIZE_DIVIDES,
    TRAFFIC_DIVIDES,
    KeyDistribution,
    is_sequential,
    no_split_reason,
    split_for_consumption,
    split_for_size,
    weighted_median,
)
from dynamo.storage.keys import EncodedKey, encode_value, hash_position

HALF_LIFE = 10_000.0


def key(partition: str | int, sort: str = "") -> EncodedKey:
    """The key of an item: S or N partition key, optional S sort key."""
    value = {"N": str(partition)} if isinstance(partition, int) else {"S": partition}
    encoded = encode_value(value)
    return EncodedKey(hash_position(encoded), encoded, sort.encode())


def keys_within(low: int, high: int, count: int) -> list[EncodedKey]:
    """`count` partition keys whose hash falls in [low, high)."""
    found = []
    for i in range(1_000_000):
        candidate = key(f"user-{i}")
        if low <= position_of(candidate) < high:
            found.append(candidate)
            if len(found) == count:
                return found
    raise AssertionError("not enough keys hash into the range")


def sides(distribution: KeyDistribution, at: int, now_ms: float) -> tuple[float, float]:
    """The decayed traffic left and right of a split at `at`."""
    weights = distribution.weights(now_ms)
    left = sum(weight for position, weight in weights if position < at)
    return left, sum(weight for _, weight in weights) - left


def test_split_point_is_chosen_based_on_key_distribution_not_the_middle() -> None:
    """§4.4: "the split point ... is chosen based on key distribution the partition has
    observed ... more effective than splitting the key range in the middle"."""
    tenth = KEY_SPACE // 10
    hot, cold = keys_within(0, tenth, 20), keys_within(tenth, KEY_SPACE, 20)
    distribution = KeyDistribution(WHOLE_SPACE, HALF_LIFE)
    for round_ in range(10):
        for item in hot:
            distribution.observe(item, 10.0, now_ms=round_ * 100.0)
        for item in cold:
            distribution.observe(item, 0.1, now_ms=round_ * 100.0)
    split = split_for_consumption(distribution, now_ms=1000.0)
    assert split is not None and split.reason == TRAFFIC_DIVIDES
    assert 0 < split.position < tenth, "the split lies where the traffic is, in the lower tenth"
    left, right = sides(distribution, split.position, 1000.0)
    assert 0.45 <= left / (left + right) <= 0.55, (left, right)
    middle_left, _ = sides(distribution, WHOLE_SPACE.middle, 1000.0)
    assert middle_left / (left + right) > 0.95, "the middle would have left one child all the traffic"


def test_heavy_traffic_to_a_single_item_does_not_split() -> None:
    """§4.4: "avoids splitting a partition if ... high traffic to a single item"."""
    distribution = KeyDistribution(WHOLE_SPACE, HALF_LIFE)
    for i in range(10):
        distribution.observe(key(f"other-{i}"), 10.0, now_ms=float(i))
    for i in range(50):
        distribution.observe(key("celebrity"), 10.0, now_ms=10.0 + i)
    assert no_split_reason(distribution, 100.0) == ONE_HOT_ITEM
    assert split_for_consumption(distribution, 100.0) is None


def test_a_hot_item_collection_is_one_hot_item_since_splits_never_divide_it() -> None:
    """In this lab a partition boundary is a hash position, so one partition key's items,
    read in no particular order, are one hot item."""
    distribution = KeyDistribution(WHOLE_SPACE, HALF_LIFE)
    distribution.observe(key("elsewhere"), 1.0, now_ms=0.0)
    for i in range(200):
        distribution.observe(key("cart", f"line-{(i * 37) % 101:03d}"), 1.0, now_ms=1.0 + i)
    assert no_split_reason(distribution, 300.0) == ONE_HOT_ITEM
    assert split_for_consumption(distribution, 300.0) is None


def test_an_item_with_exactly_the_hot_share_is_isolated_by_a_split() -> None:
    """A key with 80 % of the traffic is not more than HOT_ITEM_SHARE: the split isolates it."""
    distribution = KeyDistribution(WHOLE_SPACE, HALF_LIFE)
    others = keys_within(KEY_SPACE // 2, KEY_SPACE, 10)
    hot = keys_within(0, KEY_SPACE // 2, 1)[0]
    distribution.observe(hot, 80.0, now_ms=0.0)
    for item in others:
        distribution.observe(item, 2.0, now_ms=0.0)
    assert HOT_ITEM_SHARE == 0.8 and no_split_reason(distribution, 0.0) is None
    split = split_for_consumption(distribution, 0.0)
    assert split is not None and sides(distribution, split.position, 0.0) == (80.0, 20.0)


def test_two_keys_with_about_equal_traffic_split_between_them() -> None:
    """Two hot keys are not one hot item, whichever is a little hotter at the moment."""
    first, second = key("left-hand"), key("right-hand")
    for extra in (0.0, 1.0, -1.0):
        distribution = KeyDistribution(WHOLE_SPACE, HALF_LIFE)
        for i in range(100):
            distribution.observe(first, 10.0 + extra, now_ms=float(i))
            distribution.observe(second, 10.0, now_ms=i + 0.5)
        split = split_for_consumption(distribution, 100.0)
        low, high = sorted((position_of(first), position_of(second)))
        assert split is not None and split.position == (low + high + 1) // 2


def test_sequential_sort_keys_of_one_collection_do_not_split() -> None:
    """§4.4: no split if "the partition is accessed sequentially across the key range";
    Developer Guide: not when traffic follows a monotonically increasing sort key."""
    distribution = KeyDistribution(WHOLE_SPACE, HALF_LIFE)
    for second in range(100):
        distribution.observe(key("sensor-7", f"2024-05-01T00:{second // 60:02d}:{second % 60:02d}"),
                             1.0, now_ms=second * 1000.0)
    assert no_split_reason(distribution, 100_000.0) == SEQUENTIAL_KEYS
    assert split_for_consumption(distribution, 100_000.0) is None


def test_a_scan_walking_the_range_in_either_direction_does_not_split() -> None:
    """§4.4: a Scan walks the partition in key order, so whatever the split, one child is hot."""
    items = sorted(key(f"user-{i}") for i in range(200))
    for walk in (items, items[::-1]):
        distribution = KeyDistribution(WHOLE_SPACE, HALF_LIFE)
        for i, item in enumerate(walk):
            distribution.observe(item, 0.5, now_ms=float(i))
        assert no_split_reason(distribution, 200.0) == SEQUENTIAL_KEYS
        assert split_for_consumption(distribution, 200.0) is None


def test_increasing_numeric_partition_keys_are_spread_by_hashing_so_they_split() -> None:
    """§3: partition keys are hashed, so increasing ids land all over the key range and are
    not sequential in it; a split divides the next ids' traffic like anyone else's."""
    distribution = KeyDistribution(WHOLE_SPACE, HALF_LIFE)
    for order in range(1, 501):
        distribution.observe(key(order), 1.0, now_ms=float(order))
    assert not is_sequential(distribution.recent_keys)
    assert no_split_reason(distribution, 500.0) is None
    split = split_for_consumption(distribution, 500.0)
    assert split is not None
    next_orders = [position_of(key(order)) for order in range(501, 1501)]
    share_left = sum(position < split.position for position in next_orders) / len(next_orders)
    assert 0.4 <= share_left <= 0.6, share_left


def test_a_walk_is_judged_only_on_a_full_window_and_may_stumble_a_little() -> None:
    walk = [key("series", f"{i:04d}") for i in range(SEQUENTIAL_WINDOW)]
    assert is_sequential(walk) and is_sequential(walk[::-1])
    assert not is_sequential(walk[1:]), "a window not yet full is not judged"
    stumbling = list(walk)
    for at in (2, 10, 20, 28):  # four non-overlapping swaps: four steps back
        stumbling[at], stumbling[at + 1] = stumbling[at + 1], stumbling[at]
    assert not is_sequential(stumbling)
    stumbling[28], stumbling[29] = stumbling[29], stumbling[28]
    assert is_sequential(stumbling), "three steps back are within SEQUENTIAL_SLACK"


def test_two_time_series_written_in_turn_split_between_them() -> None:
    """Two writers appending to two collections alternate up and down the range: not one walk,
    and a split puts each collection in its own child."""
    distribution = KeyDistribution(WHOLE_SPACE, HALF_LIFE)
    for i in range(100):
        distribution.observe(key("sensor-1", f"{i:04d}"), 1.0, now_ms=float(i))
        distribution.observe(key("sensor-2", f"{i:04d}"), 1.0, now_ms=float(i))
    assert no_split_reason(distribution, 100.0) is None
    split = split_for_consumption(distribution, 100.0)
    low, high = sorted(position_of(key(name)) for name in ("sensor-1", "sensor-2"))
    assert split is not None and low < split.position <= high


def test_split_for_size_divides_the_bytes_evenly() -> None:
    """§4.4: a partition is split when its size crosses a threshold."""
    items = [(position_of(key(f"user-{i}")), 1000 + 37 * i) for i in range(100)]
    split = split_for_size(items, WHOLE_SPACE)
    assert split is not None and split.reason == SIZE_DIVIDES
    left = sum(size for position, size in items if position < split.position)
    total = sum(size for _, size in items)
    assert abs(total - 2 * left) <= max(size for _, size in items)


def test_split_for_size_never_divides_an_item_collection() -> None:
    """Items with one partition key share one hash: a collection lies wholly in one child."""
    big = position_of(key("big"))
    small = position_of(key("small"))
    items = [(big, 400_000)] * 1000 + [(small, 10)]
    split = split_for_size(items, WHOLE_SPACE)
    assert split is not None and min(big, small) < split.position <= max(big, small)
    assert split_for_size([(big, 400_000)] * 1000, WHOLE_SPACE) is None
    assert split_for_size([], WHOLE_SPACE) is None


def test_old_traffic_stops_counting_after_some_half_lives() -> None:
    """The split follows the current access pattern: traffic decays by half per half-life."""
    distribution = KeyDistribution(WHOLE_SPACE, HALF_LIFE)
    old = keys_within(0, KEY_SPACE // 10, 10)
    new = keys_within(KEY_SPACE // 2, KEY_SPACE, 10)
    for item in old:
        distribution.observe(item, 1000.0, now_ms=0.0)
    assert distribution.total(0.0) == 10_000.0
    assert distribution.total(HALF_LIFE) == pytest.approx(5000.0)
    assert distribution.total(3 * HALF_LIFE) == pytest.approx(1250.0)
    for item in new:
        distribution.observe(item, 10.0, now_ms=20 * HALF_LIFE)
    split = split_for_consumption(distribution, 20 * HALF_LIFE)
    assert split is not None and split.position > KEY_SPACE // 2, "old traffic no longer decides"


def test_rate_estimates_sustained_consumption_per_second() -> None:
    """The trigger is sustained consumption over a threshold: 100 units/s for 200 s reads ~100."""
    distribution = KeyDistribution(WHOLE_SPACE, HALF_LIFE)
    for tick in range(2000):
        distribution.observe(key(f"user-{tick % 50}"), 10.0, now_ms=tick * 100.0)
    assert distribution.rate(199_900.0) == pytest.approx(100.0, rel=0.01)
    assert distribution.rate(199_900.0 + 10 * HALF_LIFE) < 0.1


def test_decay_over_days_neither_overflows_nor_forgets_the_latest_traffic() -> None:
    distribution = KeyDistribution(WHOLE_SPACE, half_life_ms=1.0)
    distribution.observe(key("a"), 5.0, now_ms=0.0)
    distribution.observe(key("b"), 5.0, now_ms=86_400_000.0)
    assert distribution.total(86_400_000.0) == pytest.approx(5.0)
    assert distribution.total(86_400_001.0) == pytest.approx(2.5)


def test_memory_is_bounded_by_max_keys_keeping_the_heaviest() -> None:
    distribution = KeyDistribution(WHOLE_SPACE, HALF_LIFE, max_keys=4)
    items = [key(f"user-{i}") for i in range(10)]
    for units, item in enumerate(items, start=1):
        distribution.observe(item, float(units), now_ms=0.0)
    kept = {position for position, _ in distribution.weights(0.0)}
    assert kept == {position_of(item) for item in items[6:]}
    assert distribution.total(0.0) == 55.0, "dropped keys still count in the total"
    assert len(distribution.recent_keys) == 10


def test_memory_stays_bounded_however_often_the_same_keys_come_back() -> None:
    distribution = KeyDistribution(WHOLE_SPACE, HALF_LIFE, max_keys=4)
    items = [key(f"user-{i}") for i in range(6)]
    for step in range(10_000):
        distribution.observe(items[step % 6], 1.0 + step % 6, now_ms=step / 10)
    assert len(distribution.weights(1000.0)) == 4
    assert len(distribution._lightest) <= 4 * 4, "the heap of weights grew without bound"
    kept = {position for position, _ in distribution.weights(1000.0)}
    assert kept == {position_of(item) for item in items[2:]}, "the heaviest four are kept"


def test_keys_outside_the_partition_are_refused() -> None:
    lower_half = KeyRange(0, KEY_SPACE // 2)
    outside = keys_within(KEY_SPACE // 2, KEY_SPACE, 1)[0]
    with pytest.raises(ValueError, match="not in this partition's range"):
        KeyDistribution(lower_half).observe(outside, 1.0, now_ms=0.0)
    with pytest.raises(ValueError, match="outside the partition's range"):
        split_for_size([(position_of(outside), 10)], lower_half)
    with pytest.raises(ValueError):
        KeyDistribution(lower_half, half_life_ms=0.0)


ranges = st.tuples(st.integers(0, KEY_SPACE - 2), st.integers(2, KEY_SPACE)).map(
    lambda pair: KeyRange(pair[0], min(KEY_SPACE, pair[0] + pair[1])))


@st.composite
def weighted_items(draw: st.DrawFn) -> tuple[KeyRange, list[tuple[int, int]]]:
    key_range = draw(ranges)
    positions = st.integers(key_range.low, key_range.high - 1)
    collections = draw(st.lists(positions, min_size=1, max_size=8))
    items = draw(st.lists(st.tuples(st.sampled_from(collections), st.integers(1, 400_000)),
                          max_size=40))
    return key_range, items


@settings(max_examples=300, deadline=None)
@given(weighted_items())
def test_a_split_for_size_is_strictly_inside_and_divides_best(case) -> None:
    key_range, items = case
    split = split_for_size(items, key_range)
    positions = sorted({position for position, _ in items})
    if len(positions) < 2:
        assert split is None
        return
    assert split is not None and key_range.low < split.position < key_range.high
    before = max(p for p in positions if p < split.position)
    after = min(p for p in positions if p >= split.position)
    assert positions.index(after) == positions.index(before) + 1, "the split lies between neighbours"
    assert split.position == (before + after + 1) // 2
    total = sum(size for _, size in items)

    def gap(boundary: int) -> int:
        return abs(total - 2 * sum(size for position, size in items if position < boundary))

    assert gap(split.position) == min(gap(p) for p in positions[1:]), "no boundary divides better"


@settings(max_examples=200, deadline=None)
@given(ranges, st.lists(st.tuples(st.integers(0, 7), st.integers(0, 5),
                                  st.floats(0.1, 100.0)), min_size=1, max_size=60))
def test_a_split_for_consumption_leaves_traffic_on_both_sides(key_range, observations) -> None:
    """Every key observed lies wholly on one side (its hash does), and both sides get traffic."""
    distribution = KeyDistribution(key_range, HALF_LIFE, max_keys=6)
    span = key_range.high - key_range.low
    for now, (collection, sort, units) in enumerate(observations):
        # A synthetic hash inside the range: collection c sits at the c-th eighth.
        position = key_range.low + span * collection // 8
        item = EncodedKey(position.to_bytes(16, "big"), b"c%d" % collection, b"%d" % sort)
        distribution.observe(item, units, now_ms=float(now))
    now_ms = float(len(observations))
    split = split_for_consumption(distribution, now_ms)
    if split is None:
        return
    assert key_range.low < split.position < key_range.high
    left, right = sides(distribution, split.position, now_ms)
    assert left > 0 and right > 0
    assert max(left, right) <= (left + right) * 0.5 + max(w for _, w in distribution.weights(now_ms))
    assert not math.isnan(left + right)


def test_the_weighted_median_of_nothing_is_no_split() -> None:
    assert weighted_median([]) is None
    assert weighted_median([(5, 1.0), (5, 2.0)]) is None
