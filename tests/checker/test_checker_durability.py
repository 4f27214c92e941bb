"""No lost acknowledged writes (§6.1, [DG: HowItWorks.ReadConsistency]: a 200 is durable)."""

from __future__ import annotations

from dynamo.checker import HistoryOp, as_history, no_lost_acknowledged_writes


def write(value: str | None, start: float, end: float | None, outcome: str = "ok",
          kind: str = "put") -> HistoryOp:
    return HistoryOp(client="c", kind=kind, key="k", value=value, invoke_ms=start,
                     complete_ms=end, outcome=outcome)


def test_last_acknowledged_write_survives() -> None:
    history = [write("1", 0, 1), write("2", 2, 3)]
    assert no_lost_acknowledged_writes(history, {"k": "2"}) == []


def test_a_lost_acknowledged_write_is_reported() -> None:
    history = [write("1", 0, 1), write("2", 2, 3)]
    problems = no_lost_acknowledged_writes(history, {"k": "1"})
    assert len(problems) == 1 and "'k'" in problems[0] and "put(k, '2')" in problems[0]
    assert no_lost_acknowledged_writes(history, {"k": None})


def test_concurrent_writes_may_either_be_last() -> None:
    history = [write("1", 0, 10), write("2", 5, 8)]
    assert no_lost_acknowledged_writes(history, {"k": "1"}) == []
    assert no_lost_acknowledged_writes(history, {"k": "2"}) == []


def test_an_indefinite_write_may_be_last_but_cannot_excuse_a_loss() -> None:
    history = [write("1", 0, 1), write("2", 2, None, outcome="unknown")]
    assert no_lost_acknowledged_writes(history, {"k": "2"}) == []
    assert no_lost_acknowledged_writes(history, {"k": "1"}) == []
    assert no_lost_acknowledged_writes(history, {"k": None})


def test_deletes_and_unread_keys() -> None:
    history = [write("1", 0, 1), write(None, 2, 3, kind="delete")]
    assert no_lost_acknowledged_writes(history, {"k": None}) == []
    assert no_lost_acknowledged_writes(history, {"k": "1"})
    assert no_lost_acknowledged_writes(history, {}) == []  # never read at the end: not judged


def test_records_of_any_type_convert_by_attribute_name() -> None:
    class Record:
        def __init__(self) -> None:
            self.client, self.kind, self.key, self.value = "c", "put", "k", "v"
            self.expected, self.invoke_ms, self.complete_ms = None, 1.0, 2.0
            self.outcome, self.read_value = "ok", None

    assert as_history([Record()]) == [write("v", 1.0, 2.0)]
