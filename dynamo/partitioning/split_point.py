"""Where to split a partition: by size, or by the traffic it has observed (§4.4).

A partition that grows too large, or whose consumed throughput stays above a
threshold, is split in two at a hash position: the left child keeps
`[low, position)`, the right child takes `[position, high)`. The paper says
the point of a split for consumption "is chosen based on key distribution the
partition has observed. The key distribution serves as a proxy of the
application's access pattern and is more effective than splitting the key
range in the middle", and that DynamoDB does not split when it would not
help: "if a partition receives high traffic to a single item or if the
partition is accessed sequentially across the key range" (§4.4).

The rules:

  S1  A split point is a hash position strictly inside the partition's range,
      so both children are real ranges. It never falls between two items of
      one partition key: they share one hash, so an item collection always
      stays whole (in this lab a split never divides an item collection).
  S2  The split point is the weighted median of the partition's weights by
      hash position: of the boundaries between two neighbouring positions
      that hold weight, the one that leaves the two sides closest to equal
      (the lower one on a tie). The right child begins in the middle of that
      gap, so keys not yet seen between the two neighbours are as likely to
      fall on either side. The weights are bytes for a split for size
      (`split_for_size`) and decayed consumed units for a split for
      consumption (`split_for_consumption`).
  S3  No split for consumption when it would not help (`no_split_reason`):
      - "sequential keys": the recent requests walk the partition's keys in
        order (a Scan, or a time series appending to one item collection).
        Whatever the split, the walk soon leaves one child and loads the
        other, so only one side is ever hot;
      - "one hot item": one partition key (an item, or an item collection)
        carries more than HOT_ITEM_SHARE (80 %) of the traffic. The child
        holding it would keep that much: a split relieves it of less than a
        fifth, and no later split can divide one hash position. Two or three
        keys with comparable traffic are far below the threshold, and a split
        between them divides their traffic well.
      Sequential keys are checked first: they name the access pattern.

Theory of operation. A `KeyDistribution` is what one partition has observed:
each request's consumed units, added to the weight of its key's hash
position, with old traffic decaying by half every `half_life_ms`, so the
split follows the application's current access pattern, not last hour's. It
keeps at most `max_keys` positions, dropping the lightest, so a partition
with millions of keys keeps only the heavy ones: those decide a weighted
median, and the dropped ones still count in `total` and `rate`. It also
remembers the last `SEQUENTIAL_WINDOW` keys in the order they came, for the
sequential test.

Sequential is judged in the order of the key range, `EncodedKey` order: hash
position, then partition key, then sort key, the order of the B-tree. That is
what "across the key range" means here. Increasing *partition* keys
(order numbers, timestamps as partition keys) are not sequential in that
order: each new key hashes to a random position, so their traffic spreads
over the whole range and a split divides it like any other, which is why
DynamoDB hashes partition keys at all. Increasing *sort* keys of one item
collection, or a Scan, do walk the range.

What the paper leaves open, and the choices made here: the consumption
threshold and how long it must be sustained (a node compares `rate` with its
own threshold); the split algorithm (a weighted median, S2); the decay (an
exponential half-life, computed with forward decay: weights are stored scaled
to a landmark time, so an observation costs no pass over the others); the
bound on memory and what is dropped (the lightest positions; the Space-Saving
algorithm of Metwally et al., 2005, would bound the error of the counts, at
the price of moving weight to positions that never had it); and the two
no-split thresholds, `HOT_ITEM_SHARE` and `SEQUENTIAL_SLACK`. DynamoDB also
splits an item collection by sort key when the table has no local secondary
index (Developer Guide, "isolate frequently accessed items"); here partition
boundaries are hash positions only.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from dynamo.partitioning.keyspace import KeyRange, position_of
from dynamo.storage.keys import EncodedKey

TRAFFIC_DIVIDES = "traffic divides here"
SIZE_DIVIDES = "size divides here"
ONE_HOT_ITEM = "one hot item"
SEQUENTIAL_KEYS = "sequential keys"

HOT_ITEM_SHARE = 0.8  # one partition key with more than this share of the traffic: no split
SEQUENTIAL_WINDOW = 32  # the last keys observed, judged for a walk in key order
SEQUENTIAL_SLACK = 3  # steps of the window that may stay or go back: clients are not in lockstep
RESCALE_HALF_LIVES = 64.0  # move the landmark before the stored weights grow past 2**64


@dataclass(frozen=True)
class SplitPoint:
    """Where a partition splits: the right child begins at `position` (S1)."""

    position: int
    reason: str


class KeyDistribution:
    """The traffic one partition has observed, per key, decayed over time.

    `now_ms` is the node's clock, handed in with each call; it must not run backwards.
    """

    def __init__(self, key_range: KeyRange, half_life_ms: float = 10_000.0,
                 max_keys: int = 1024) -> None:
        if half_life_ms <= 0:
            raise ValueError(f"the half-life must be positive, not {half_life_ms}")
        if max_keys < 1:
            raise ValueError(f"a distribution keeps at least one key, not {max_keys}")
        self.key_range = key_range
        self.half_life_ms = half_life_ms
        self.max_keys = max_keys
        # Forward decay: every weight is stored as it was worth at the landmark
        # time, so decaying them all to `now` is one multiplication, done on read.
        self._landmark_ms = 0.0
        self._weights: dict[int, float] = {}
        # The weights again as a min-heap of (weight, position), so the lightest is found
        # without a pass over all of them on every request. A weight only grows, so an
        # entry older than its position's weight is stale; stale entries are skipped.
        self._lightest: list[tuple[float, int]] = []
        self._total = 0.0  # all the traffic, including that of dropped positions
        self._recent: deque[EncodedKey] = deque(maxlen=SEQUENTIAL_WINDOW)

    # --8<-- [start:observe]
    def observe(self, key: EncodedKey, units: float, now_ms: float) -> None:
        """Count `units` of consumed capacity against `key`, at `now_ms`."""
        position = position_of(key)
        if position not in self.key_range:
            raise ValueError(f"{position:#x} is not in this partition's range")
        if units < 0:
            raise ValueError(f"consumed units cannot be negative: {units}")
        if self._half_lives_since_landmark(now_ms) > RESCALE_HALF_LIVES:
            self._move_landmark(now_ms)
        worth = units * self._growth(now_ms)
        weight = self._weights[position] = self._weights.get(position, 0.0) + worth
        heapq.heappush(self._lightest, (weight, position))
        self._total += worth
        if len(self._weights) > self.max_keys:
            self._drop_lightest()
        if len(self._lightest) > 4 * self.max_keys:  # mostly stale entries by now
            self._rebuild_heap()
        self._recent.append(key)
    # --8<-- [end:observe]

    def total(self, now_ms: float) -> float:
        """The units observed, each decayed by half per half-life since it was observed."""
        return self._total * self._decay(now_ms)

    def rate(self, now_ms: float) -> float:
        """Units per second, estimated from the decayed total.

        A steady r units per ms makes a decayed total of r·h/ln 2 (the integral of
        r·2^(-t/h)), so the total times ln 2 / h is the rate. A partition that has
        just started receiving traffic is underestimated, which suits a trigger
        for *sustained* consumption.
        """
        return self.total(now_ms) * math.log(2) / self.half_life_ms * 1000.0

    def weights(self, now_ms: float) -> list[tuple[int, float]]:
        """(hash position, decayed units) of every position kept, in position order."""
        decay = self._decay(now_ms)
        return [(position, self._weights[position] * decay) for position in sorted(self._weights)]

    @property
    def recent_keys(self) -> tuple[EncodedKey, ...]:
        """The last keys observed, oldest first (at most SEQUENTIAL_WINDOW)."""
        return tuple(self._recent)

    def _growth(self, now_ms: float) -> float:
        return 2.0 ** self._half_lives_since_landmark(now_ms)

    def _decay(self, now_ms: float) -> float:
        return 2.0 ** -self._half_lives_since_landmark(now_ms)

    def _half_lives_since_landmark(self, now_ms: float) -> float:
        return (now_ms - self._landmark_ms) / self.half_life_ms

    def _move_landmark(self, now_ms: float) -> None:
        decay = self._decay(now_ms)
        self._weights = {position: weight * decay for position, weight in self._weights.items()}
        self._total *= decay
        self._landmark_ms = now_ms
        self._rebuild_heap()

    def _drop_lightest(self) -> None:
        """Forget the lightest position; ties go to the lowest position, so which key is
        dropped never depends on the order keys came in."""
        while self._lightest:
            weight, position = heapq.heappop(self._lightest)
            if self._weights.get(position) == weight:  # else stale: a lighter, older entry
                del self._weights[position]
                return

    def _rebuild_heap(self) -> None:
        self._lightest = [(weight, position) for position, weight in self._weights.items()]
        heapq.heapify(self._lightest)


# --8<-- [start:split-for-consumption]
def split_for_consumption(distribution: KeyDistribution, now_ms: float) -> SplitPoint | None:
    """Where to split a hot partition so its traffic divides evenly, or None when
    splitting would not help (S3) or all its traffic sits at one position."""
    if no_split_reason(distribution, now_ms) is not None:
        return None
    position = weighted_median(distribution.weights(now_ms))
    return None if position is None else SplitPoint(position, TRAFFIC_DIVIDES)


def split_for_size(sizes: Sequence[tuple[int, int]], key_range: KeyRange) -> SplitPoint | None:
    """Given (hash position, item bytes) of every item in the partition (in any order),
    the position that divides the bytes most evenly; None if all bytes sit at one
    position (one item collection cannot be split)."""
    outside = [position for position, _ in sizes if position not in key_range]
    if outside:
        raise ValueError(f"{len(outside)} item(s) lie outside the partition's range, "
                         f"e.g. {outside[0]:#x}")
    position = weighted_median(sizes)
    return None if position is None else SplitPoint(position, SIZE_DIVIDES)
# --8<-- [end:split-for-consumption]


def no_split_reason(distribution: KeyDistribution, now_ms: float) -> str | None:
    """Why a hot partition should not split (S3): SEQUENTIAL_KEYS when the recent
    keys walk the key range, ONE_HOT_ITEM when one partition key carries more than
    HOT_ITEM_SHARE of the traffic, or None."""
    # BEGIN ASSIGNMENT ch05-split-point: sequential keys first, then one position with more than HOT_ITEM_SHARE of the total
    if is_sequential(distribution.recent_keys):
        return SEQUENTIAL_KEYS
    total = distribution.total(now_ms)
    for _, weight in distribution.weights(now_ms):
        if weight > HOT_ITEM_SHARE * total:
            return ONE_HOT_ITEM
    return None
    # END ASSIGNMENT


def is_sequential(keys: Sequence[EncodedKey]) -> bool:
    """Whether `keys`, in the order they were observed, walk the key range (S3).

    Only a full window is judged: SEQUENTIAL_WINDOW keys. It is a walk when all
    its steps but at most SEQUENTIAL_SLACK go the same way, up or down in key
    order; a step to the same key goes neither way.
    """
    # BEGIN ASSIGNMENT ch05-split-point: a full window whose steps, all but SEQUENTIAL_SLACK, go one way
    if len(keys) < SEQUENTIAL_WINDOW:
        return False
    steps = len(keys) - 1
    rising = sum(after > before for before, after in pairwise(keys))
    falling = sum(after < before for before, after in pairwise(keys))
    return rising >= steps - SEQUENTIAL_SLACK or falling >= steps - SEQUENTIAL_SLACK
    # END ASSIGNMENT


def weighted_median(weights: Iterable[tuple[int, float]]) -> int | None:
    """The split position that divides `weights` most evenly (S2), or None.

    `weights` are (hash position, weight) pairs in any order; a position may
    appear more than once (the items of one collection), and its weights add
    up. Of the boundaries between neighbouring positions, the one whose two
    sides differ least wins, the lowest on a tie, and the right side begins at
    the middle of the gap rounded up, `(before + after + 1) // 2`: above
    `before`, at most `after`. None when no boundary leaves weight on both
    sides (all of it at one position, or none at all).
    """
    # BEGIN ASSIGNMENT ch05-split-point: the boundary between neighbouring positions that best halves the weight
    at_position: dict[int, float] = {}
    for position, weight in weights:
        at_position[position] = at_position.get(position, 0.0) + weight
    positions = sorted(at_position)
    total = sum(at_position.values())
    best, best_gap, left = None, total, 0.0
    for before, after in pairwise(positions):
        left += at_position[before]
        gap = abs(total - 2 * left)
        if gap < best_gap:
            best, best_gap = (before + after + 1) // 2, gap
    return best
    # END ASSIGNMENT
