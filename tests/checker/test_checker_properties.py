"""Properties of the linearizability checker, on generated histories.

A history made by a real sequential item, each operation taking effect at an
instant inside its own interval, is linearizable by construction: the checker
must say "ok" (given enough budget). Corrupting one read to a value never
written must make it say "violation".
"""

from __future__ import annotations

from dataclasses import replace
from random import Random

from hypothesis import given, settings
from hypothesis import strategies as st

from dynamo.checker import HistoryOp, check
from dynamo.checker.linearizability import apply


def linearizable_history(seed: int, count: int) -> list[HistoryOp]:
    """Operations on one key with random overlapping intervals, applied in the
    order of their linearization points to a real item."""
    rng = Random(seed)
    points = sorted(rng.uniform(0, 100) for _ in range(count))
    state: str | None = None
    history = []
    for i, point in enumerate(points):
        kind = rng.choice(["put", "get", "cas", "delete"])
        start, end = point - rng.uniform(0, 20), point + rng.uniform(0, 20)
        value = f"v{i}"
        if kind == "cas":
            expected = state if rng.random() < 0.5 else rng.choice([None, "v0", "x"])
            op = HistoryOp(f"c{i}", "cas", "k", value, expected, start, end,
                           "ok" if state == expected else "fail", None if state == expected
                           else state)
        elif kind == "get":
            op = HistoryOp(f"c{i}", "get", "k", None, None, start, end, "ok", state)
        else:
            op = HistoryOp(f"c{i}", kind, "k", value if kind == "put" else None, None, start, end)
        if rng.random() < 0.15 and kind != "get":
            op = replace(op, outcome="unknown", complete_ms=None, read_value=None)
        after = apply(state, op)
        assert isinstance(after, str) or after is None
        state = after
        history.append(op)
    return history


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10**9), st.integers(1, 14))
def test_histories_of_a_real_item_are_linearizable(seed: int, count: int) -> None:
    assert check(linearizable_history(seed, count)).result == "ok"


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 10**9), st.integers(2, 14))
def test_a_read_of_a_value_never_written_is_always_caught(seed: int, count: int) -> None:
    history = linearizable_history(seed, count)
    history.append(HistoryOp("z", "get", "k", None, None, 200.0, 201.0, "ok", "never-written"))
    assert check(history).result == "violation"
