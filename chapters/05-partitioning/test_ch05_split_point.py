"""Chapter 5, graded: choosing a split point (`weighted_median`, `is_sequential` and
`no_split_reason` in dynamo/partitioning/split_point.py).

A partition that is too large or too hot is split at a hash position. The paper:
the split point "is chosen based on key distribution the partition has observed
... more effective than splitting the key range in the middle", and there is no
split "if a partition receives high traffic to a single item or if the partition
is accessed sequentially across the key range" (§4.4).

Keys are real: partition keys are hashed with `hash_position`, as the storage
layer does. A failure says what was observed, what the split should have been,
what your code answered, and the rule.
"""

from __future__ import annotations

from dynamo.partitioning.keyspace import KEY_SPACE, WHOLE_SPACE, position_of
from dynamo.partitioning.split_point import (
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

MEDIAN = ("S2: of the boundaries between neighbouring positions, the one whose two sides differ "
          "least wins (the lower one on a tie); the right child begins at "
          "(before + after + 1) // 2, and the weights of one position add up")
SEQUENTIAL = (f"S3: a window of {SEQUENTIAL_WINDOW} keys walks the key range when all its steps "
              "but at most SEQUENTIAL_SLACK go the same way, up or down in EncodedKey order; a "
              "step to the same key goes neither way, and a window not yet full is not judged")
HOT = ("S3: one partition key (one hash position) with more than HOT_ITEM_SHARE (80 %) of the "
       "traffic is one hot item: no split helps. Sequential keys are checked first")


def key(partition: str | int, sort: str = "") -> EncodedKey:
    """The key of an item with an S (or N) partition key and an optional S sort key."""
    value = {"N": str(partition)} if isinstance(partition, int) else {"S": partition}
    encoded = encode_value(value)
    return EncodedKey(hash_position(encoded), encoded, sort.encode())


def keys_within(low: int, high: int, count: int) -> list[EncodedKey]:
    """`count` partition keys whose hash lies in [low, high)."""
    found = [candidate for candidate in (key(f"user-{i}") for i in range(20 * count + 1000))
             if low <= position_of(candidate) < high]
    assert len(found) >= count, "not enough keys hash into the range"
    return found[:count]


def series(name: str, count: int) -> list[EncodedKey]:
    """Increasing sort keys of one item collection: a time series."""
    return [key(name, f"2024-05-01T{i:05d}") for i in range(count)]


def stumbling(walk: list[EncodedKey], steps_back: int) -> list[EncodedKey]:
    """`walk` with `steps_back` steps that go the other way (neighbours swapped)."""
    out = list(walk)
    for at in range(2, 2 + 4 * steps_back, 4):
        out[at], out[at + 1] = out[at + 1], out[at]
    return out


def check_median(weights: list[tuple[int, float]], expected: int | None, why: str) -> None:
    got = weighted_median(weights)
    assert got == expected, (
        f"weights (hash position, weight): {weights}\n{why}: the split should be {expected}, "
        f"but weighted_median returned {got}.\nThe rule: {MEDIAN}.")


def traffic_sides(distribution: KeyDistribution, at: int, now_ms: float) -> tuple[float, float]:
    weights = distribution.weights(now_ms)
    left = sum(weight for position, weight in weights if position < at)
    return left, sum(weight for _, weight in weights) - left


def test_the_split_divides_the_weight_most_evenly() -> None:
    check_median([(100, 1.0), (200, 1.0)], 150, "two equal keys: one each side")
    check_median([(100, 3.0), (200, 1.0), (300, 1.0), (400, 1.0)], 150,
                 "3 | 1 + 1 + 1 divides 6 into 3 and 3")
    five = [(100, 1.0), (200, 1.0), (300, 1.0), (400, 1.0), (500, 3.5)]
    check_median(five, 450, "4 | 3.5 is closer to even than 3 | 4.5")
    check_median([five[4], five[2], five[0], five[3], five[1]], 450, "the same weights, unsorted")


def test_the_right_child_begins_in_the_middle_of_the_gap_rounded_up() -> None:
    check_median([(100, 1.0), (101, 1.0)], 101, "neighbours 100 and 101: the right child begins at 101")
    check_median([(100, 1.0), (104, 1.0)], 102, "(100 + 104 + 1) // 2")
    check_median([(103, 1.0), (100, 1.0)], 102, "(100 + 103 + 1) // 2")


def test_on_a_tie_the_lower_boundary_wins() -> None:
    check_median([(100, 1.0), (200, 2.0), (300, 1.0)], 150, "1 | 3 and 3 | 1 are equally uneven")


def test_the_items_of_one_collection_weigh_together() -> None:
    """Items with one partition key share one hash: their weights add up, and are never divided."""
    check_median([(100, 1.0), (200, 1.0), (300, 1.0), (300, 1.0), (300, 1.0)], 250,
                 "position 300 holds three items: 1 + 1 | 3")
    check_median([(7, 5.0), (7, 5.0), (7, 5.0)], None, "one item collection cannot be split")


def test_no_split_without_weight_on_both_sides() -> None:
    check_median([], None, "nothing observed")
    check_median([(100, 5.0), (200, 0.0)], None, "all the weight at one position")


def test_split_for_size_divides_the_bytes_and_never_an_item_collection() -> None:
    """§4.4: a partition is split when its size crosses a threshold; in this lab a split
    never divides an item collection (its items share one hash)."""
    big, small = position_of(key("big")), position_of(key("small"))
    items = [(big, 400_000)] * 1000 + [(small, 10)]
    split = split_for_size(items, WHOLE_SPACE)
    assert split is not None and split.reason == SIZE_DIVIDES, (
        f"two item collections (1000 items of 400 KB, and one of 10 bytes) should split between "
        f"them, reason {SIZE_DIVIDES!r}; got {split}")
    assert split.position == (min(big, small) + max(big, small) + 1) // 2, (
        f"the split should be in the middle of the gap between the two collections; got {split}")
    assert split_for_size([(big, 400_000)] * 1000, WHOLE_SPACE) is None, (
        "a partition holding one item collection cannot be split for size")


def test_a_hot_range_splits_where_its_traffic_divides_not_in_the_middle() -> None:
    """§4.4: the split point "is chosen based on key distribution the partition has observed
    ... more effective than splitting the key range in the middle"."""
    tenth = KEY_SPACE // 10
    hot, cold = keys_within(0, tenth, 20), keys_within(tenth, KEY_SPACE, 20)
    distribution = KeyDistribution(WHOLE_SPACE, HALF_LIFE)
    for tick in range(10):
        for item in hot:
            distribution.observe(item, 10.0, now_ms=tick * 100.0)
        for item in cold:
            distribution.observe(item, 0.1, now_ms=tick * 100.0)
    split = split_for_consumption(distribution, now_ms=1000.0)
    assert split is not None and split.reason == TRAFFIC_DIVIDES and split.position < tenth, (
        f"20 hot keys in the lowest tenth of the range, 20 cold ones above: the split should lie "
        f"in the lowest tenth, reason {TRAFFIC_DIVIDES!r}; got {split}")
    left, right = traffic_sides(distribution, split.position, 1000.0)
    assert 0.45 <= left / (left + right) <= 0.55, (
        f"each side should get about half the traffic; got {left:.1f} | {right:.1f}")


def test_a_single_hot_item_does_not_split() -> None:
    """§4.4: DynamoDB avoids splitting "if a partition receives high traffic to a single item"."""
    distribution = KeyDistribution(WHOLE_SPACE, HALF_LIFE)
    for i in range(10):
        distribution.observe(key(f"other-{i}"), 10.0, now_ms=float(i))
    for i in range(50):
        distribution.observe(key("celebrity"), 10.0, now_ms=10.0 + i)
    reason, split = no_split_reason(distribution, 100.0), split_for_consumption(distribution, 100.0)
    assert reason == ONE_HOT_ITEM and split is None, (
        f"one key with 5/6 of the traffic: no_split_reason should be {ONE_HOT_ITEM!r} and no "
        f"split; got {reason!r} and {split}.\nThe rule: {HOT}.")


def test_an_item_with_exactly_the_hot_share_still_splits() -> None:
    """"More than HOT_ITEM_SHARE" (80 %): a key with exactly 80 % is isolated by a split."""
    distribution = KeyDistribution(WHOLE_SPACE, HALF_LIFE)
    distribution.observe(keys_within(0, KEY_SPACE // 2, 1)[0], 80.0, now_ms=0.0)
    for item in keys_within(KEY_SPACE // 2, KEY_SPACE, 10):
        distribution.observe(item, 2.0, now_ms=0.0)
    reason = no_split_reason(distribution, 0.0)
    assert reason is None, (
        f"a key with exactly 80 % of the traffic is not more than HOT_ITEM_SHARE: no reason not "
        f"to split; got {reason!r}.\nThe rule: {HOT}.")
    split = split_for_consumption(distribution, 0.0)
    assert split is not None and traffic_sides(distribution, split.position, 0.0) == (80.0, 20.0)


def test_sequential_sort_keys_of_one_collection_do_not_split() -> None:
    """§4.4: no split if "the partition is accessed sequentially across the key range"; the
    Developer Guide: not when traffic follows a monotonically increasing sort key."""
    distribution = KeyDistribution(WHOLE_SPACE, HALF_LIFE)
    for second, item in enumerate(series("sensor-7", 100)):
        distribution.observe(item, 1.0, now_ms=second * 1000.0)
    reason, split = no_split_reason(distribution, 100_000.0), split_for_consumption(distribution, 100_000.0)
    assert reason == SEQUENTIAL_KEYS and split is None, (
        f"a time series appended to one collection, sort keys increasing: no_split_reason should "
        f"be {SEQUENTIAL_KEYS!r} (checked before one hot item) and no split; got {reason!r} and "
        f"{split}.\nThe rule: {SEQUENTIAL}.")


def test_a_scan_walking_down_the_range_does_not_split() -> None:
    """§4.4: a walk down the key range (a Scan backwards) is sequential too."""
    distribution = KeyDistribution(WHOLE_SPACE, HALF_LIFE)
    for i, item in enumerate(sorted((key(f"user-{i}") for i in range(100)), reverse=True)):
        distribution.observe(item, 0.5, now_ms=float(i))
    reason = no_split_reason(distribution, 100.0)
    assert reason == SEQUENTIAL_KEYS, (
        f"100 keys read in decreasing key order: expected {SEQUENTIAL_KEYS!r}, got {reason!r}.\n"
        f"The rule: {SEQUENTIAL}.")


def test_a_walk_may_stumble_up_to_the_slack_either_way() -> None:
    walk = series("series", SEQUENTIAL_WINDOW)
    for direction, keys in (("up", walk), ("down", walk[::-1])):
        for steps_back, expected in ((0, True), (3, True), (4, False)):
            window = stumbling(keys, steps_back)
            got = is_sequential(window)
            assert got is expected, (
                f"a window of {len(window)} keys walking {direction} with {steps_back} step(s) the "
                f"other way: expected is_sequential {expected}, got {got}.\nThe rule: {SEQUENTIAL}.")


def test_a_window_is_judged_only_when_full() -> None:
    walk = series("series", SEQUENTIAL_WINDOW - 1)
    got = is_sequential(walk)
    assert got is False, (
        f"{len(walk)} keys in order, one fewer than SEQUENTIAL_WINDOW: not judged yet, expected "
        f"False; got {got}.\nThe rule: {SEQUENTIAL}.")


def test_two_walks_in_turn_are_not_one_walk() -> None:
    """Two time series written in turn step up and down the range alternately: a split between
    the two collections gives each writer a partition of its own."""
    one, two = series("sensor-1", 50), series("sensor-2", 50)
    forward = [item for pair in zip(one, two, strict=True) for item in pair]
    backward = [item for pair in zip(one[::-1], two[::-1], strict=True) for item in pair]
    for name, keys in (("forward", forward), ("backward", backward)):
        got = is_sequential(keys[-SEQUENTIAL_WINDOW:])
        assert got is False, (
            f"two time series written {name} in turn: every other step goes back, expected "
            f"is_sequential False; got {got}.\nThe rule: {SEQUENTIAL}.")
    distribution = KeyDistribution(WHOLE_SPACE, HALF_LIFE)
    for i, item in enumerate(forward):
        distribution.observe(item, 1.0, now_ms=float(i))
    split = split_for_consumption(distribution, 100.0)
    low, high = sorted(position_of(key(name)) for name in ("sensor-1", "sensor-2"))
    assert split is not None and split.position == (low + high + 1) // 2, (
        f"two collections with equal traffic should split between them; got {split}")


def test_a_key_repeated_goes_neither_way() -> None:
    walk = series("series", SEQUENTIAL_WINDOW // 2)
    twice = [item for item in walk for _ in range(2)]
    for name, keys in (("up", twice), ("down", twice[::-1])):
        got = is_sequential(keys)
        assert got is False, (
            f"a walk {name} reading each key twice: half its steps stay put, expected "
            f"is_sequential False; got {got}.\nThe rule: {SEQUENTIAL}.")
    got = is_sequential([key("celebrity")] * SEQUENTIAL_WINDOW)
    assert got is False, f"one key over and over is not a walk; got is_sequential {got}"


def test_increasing_partition_keys_are_spread_by_hashing_so_a_split_helps() -> None:
    """§3: partition keys are hashed, so increasing order ids land all over the key range: not
    sequential in it, and a split divides the next ids' traffic."""
    distribution = KeyDistribution(WHOLE_SPACE, HALF_LIFE)
    for order in range(1, 501):
        distribution.observe(key(order), 1.0, now_ms=float(order))
    reason, split = no_split_reason(distribution, 500.0), split_for_consumption(distribution, 500.0)
    assert reason is None and split is not None, (
        f"order ids 1..500 as partition keys hash all over the range: expected a split, got "
        f"reason {reason!r} and {split}.\nThe rule: {SEQUENTIAL}.")
    upcoming = [position_of(key(order)) < split.position for order in range(501, 1501)]
    assert 0.4 <= sum(upcoming) / len(upcoming) <= 0.6


def test_old_traffic_stops_counting() -> None:
    """The split follows the access pattern of now: traffic halves every half-life."""
    distribution = KeyDistribution(WHOLE_SPACE, HALF_LIFE)
    for item in keys_within(0, KEY_SPACE // 10, 10):
        distribution.observe(item, 1000.0, now_ms=0.0)
    for item in keys_within(KEY_SPACE // 2, KEY_SPACE, 10):
        distribution.observe(item, 10.0, now_ms=20 * HALF_LIFE)
    split = split_for_consumption(distribution, 20 * HALF_LIFE)
    assert split is not None and split.position > KEY_SPACE // 2, (
        f"heavy traffic 20 half-lives ago in the lowest tenth, light traffic now in the upper half: "
        f"the split should divide today's traffic, in the upper half; got {split}")
