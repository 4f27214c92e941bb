"""The linearizability checker on hand-written histories (§2: strongly consistent reads).

Each history is small enough to judge by eye; the docstrings say why the
verdict is what it is.
"""

from __future__ import annotations

from dynamo.checker import HistoryOp, Verdict, check


def op(client: str, kind: str, start: float, end: float | None, *, value: str | None = None,
       expected: str | None = None, read: str | None = None, outcome: str = "ok",
       key: str = "k") -> HistoryOp:
    return HistoryOp(client=client, kind=kind, key=key, value=value, expected=expected,
                     invoke_ms=start, complete_ms=end, outcome=outcome, read_value=read)


def test_sequential_history_is_linearizable() -> None:
    history = [op("a", "put", 0, 1, value="1"), op("a", "get", 2, 3, read="1"),
               op("a", "delete", 4, 5), op("a", "get", 6, 7, read=None)]
    assert check(history).result == "ok"


def test_read_of_an_older_value_after_a_newer_write_completed_is_a_violation() -> None:
    """put 1, then put 2 completes, then a read starting later still sees 1: stale."""
    history = [op("a", "put", 0, 1, value="1"), op("a", "put", 2, 3, value="2"),
               op("b", "get", 4, 5, read="1")]
    verdict = check(history)
    assert verdict.result == "violation"
    assert "key 'k'" in verdict.details and "get(k) -> '1'" in verdict.details


def test_concurrent_reads_may_see_either_value_but_not_flip_back() -> None:
    """While put 2 is in flight a read may see 1 or 2, but once one read saw 2
    a later read may not see 1 again (the new-old inversion)."""
    write = op("a", "put", 10, 50, value="2")
    base = [op("a", "put", 0, 1, value="1"), write]
    assert check(base + [op("b", "get", 20, 25, read="1")]).ok
    assert check(base + [op("b", "get", 20, 25, read="2")]).ok
    inversion = base + [op("b", "get", 20, 25, read="2"), op("c", "get", 30, 35, read="1")]
    assert check(inversion).result == "violation"


def test_a_read_of_a_value_never_written_is_a_violation() -> None:
    assert check([op("a", "put", 0, 1, value="1"), op("b", "get", 2, 3, read="9")]).result \
        == "violation"


def test_conditional_put_succeeds_only_if_its_expectation_holds() -> None:
    """cas(None -> x) is attribute_not_exists: two clients cannot both create the item."""
    both_created = [op("a", "cas", 0, 10, value="a", expected=None),
                    op("b", "cas", 0, 10, value="b", expected=None)]
    assert check(both_created).result == "violation"
    one_created = [op("a", "cas", 0, 10, value="a", expected=None),
                   op("b", "cas", 0, 10, value="b", expected=None, outcome="fail", read="a")]
    assert check(one_created).ok


def test_a_failed_conditional_put_must_report_the_current_value() -> None:
    """ConditionalCheckFailed is definite: the condition was false at some instant,
    and the value it reports was the value then."""
    history = [op("a", "put", 0, 1, value="1"),
               op("b", "cas", 2, 3, value="x", expected="1", outcome="fail", read="1")]
    assert check(history).result == "violation"  # it held: "1" was current
    history = [op("a", "put", 0, 1, value="1"),
               op("b", "cas", 2, 3, value="x", expected="0", outcome="fail", read="2")]
    assert check(history).result == "violation"  # "2" was never current
    history = [op("a", "put", 0, 1, value="1"),
               op("b", "cas", 2, 3, value="x", expected="0", outcome="fail", read="1")]
    assert check(history).ok


def test_an_indefinite_write_may_have_happened() -> None:
    """A put that timed out can explain a later read of its value, even long after."""
    history = [op("a", "put", 0, 1, value="1"), op("b", "put", 2, None, value="2",
                                                   outcome="unknown"),
               op("c", "get", 100, 101, read="2")]
    assert check(history).ok


def test_an_indefinite_write_may_not_have_happened() -> None:
    history = [op("a", "put", 0, 1, value="1"), op("b", "put", 2, None, value="2",
                                                   outcome="unknown"),
               op("c", "get", 100, 101, read="1")]
    assert check(history).ok


def test_an_indefinite_write_cannot_take_effect_before_it_was_invoked() -> None:
    history = [op("a", "put", 0, 1, value="1"), op("c", "get", 2, 3, read="2"),
               op("b", "put", 10, None, value="2", outcome="unknown")]
    assert check(history).result == "violation"


def test_an_indefinite_write_takes_effect_once_if_at_all() -> None:
    """Seen, overwritten, then seen again would need it to happen twice."""
    history = [op("b", "put", 0, None, value="2", outcome="unknown"),
               op("c", "get", 5, 6, read="2"), op("a", "put", 7, 8, value="3"),
               op("c", "get", 9, 10, read="2")]
    assert check(history).result == "violation"


def test_a_definite_failure_of_a_plain_write_did_not_happen() -> None:
    history = [op("a", "put", 0, 1, value="1"),
               op("b", "put", 2, 3, value="2", outcome="fail"), op("c", "get", 4, 5, read="2")]
    assert check(history).result == "violation"


def test_keys_are_checked_independently() -> None:
    """A stale read on key y is found even among many operations on other keys."""
    history = []
    for i in range(30):
        history.append(op("a", "put", 10 * i, 10 * i + 1, value=str(i), key=f"x{i % 3}"))
    history += [op("a", "put", 0, 1, value="1", key="y"), op("a", "put", 2, 3, value="2", key="y"),
                op("b", "get", 4, 5, read="1", key="y")]
    verdict = check(history)
    assert verdict.result == "violation" and "key 'y'" in verdict.details


def test_exhausted_budget_gives_unknown_never_ok() -> None:
    """Many overlapping writes and reads need a long search; with a tiny budget
    the checker must say unknown, and with a large one it decides."""
    history = [op(f"w{i}", "put", 0, 100, value=str(i)) for i in range(10)]
    history += [op(f"r{i}", "get", 1, 99, read=str(9 - i)) for i in range(10)]
    small = check(history, budget=50)
    assert small == Verdict("unknown", small.details, 51)
    assert "budget" in small.details
    assert check(history, budget=5_000_000).ok


def test_budget_exhaustion_does_not_hide_a_violation_on_another_key() -> None:
    hard = [op(f"w{i}", "put", 0, 100, value=str(i), key="a") for i in range(10)]
    hard += [op(f"r{i}", "get", 1, 99, read=str(9 - i), key="a") for i in range(10)]
    stale = [op("a", "put", 0, 1, value="1", key="b"), op("a", "put", 2, 3, value="2", key="b"),
             op("b", "get", 4, 5, read="1", key="b")]
    assert check(hard + stale, budget=60).result == "violation"
