"""Histories of client operations: what a checker is given to judge.

A *history* is what clients saw: for each operation, when it was invoked, when
(if ever) it completed, and what it returned. It says nothing about what the
replicas did inside; the checkers decide from it alone whether some order of
the operations explains every answer (linearizability) and whether every
acknowledged write survived (durability).

Outcomes follow DynamoDB's split between definite and indefinite errors (and
Maelstrom's, in its histories): an `ok` write happened, a `fail` conditional
write surely did not change the item (`ConditionalCheckFailedException` is
definite), and an `unknown` operation, one that timed out, may or may not have
happened, at any time after it was invoked.

Paper: §2 and [DG: HowItWorks.ReadConsistency] — a successful write is durable
and a strongly consistent read returns the latest acknowledged write.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

KINDS = ("put", "get", "cas", "delete", "add")
OUTCOMES = ("ok", "fail", "unknown")


@dataclass(frozen=True)
class HistoryOp:
    """One client operation on one key, as the client saw it.

    Attributes:
        client: who issued it (operations of one client never overlap).
        kind: "put", "get", "cas" (conditional put: write `value` if the
            current value is `expected`, None meaning "does not exist"),
            "delete" or "add" (UpdateItem's ADD: add the integer `value` to the
            number stored, a missing item counting as 0; `read_value` is the sum).
        key: the item's key; operations on different keys are independent.
        value: the value written (put, cas).
        expected: the value a cas requires (None = attribute_not_exists).
        invoke_ms: when the client sent it.
        complete_ms: when the answer arrived; None when it never did.
        outcome: "ok", "fail" (a cas whose condition was false; for any other
            kind a definite error, so the operation did not happen) or
            "unknown" (indefinite: may or may not have happened).
        read_value: what a get returned, or the current value a failed cas
            reported (None = no such item).
    """

    client: str
    kind: str
    key: str
    value: str | None = None
    expected: str | None = None
    invoke_ms: float = 0.0
    complete_ms: float | None = None
    outcome: str = "ok"
    read_value: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown operation kind {self.kind!r}; expected one of {KINDS}")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r}; expected one of {OUTCOMES}")
        if self.outcome != "unknown" and self.complete_ms is None:
            raise ValueError("a definite outcome needs complete_ms")
        if self.complete_ms is not None and self.complete_ms < self.invoke_ms:
            raise ValueError("an operation cannot complete before it is invoked")

    @property
    def is_write(self) -> bool:
        return self.kind in ("put", "cas", "delete", "add")

    @property
    def written(self) -> str | None:
        """The value the item has after this write (None after a delete)."""
        return None if self.kind == "delete" else self.value

    def describe(self) -> str:
        """One readable line, as violation reports print it."""
        end = "..." if self.complete_ms is None else f"{self.complete_ms:.1f}"
        if self.kind == "get":
            what = f"get({self.key}) -> {self.read_value!r}"
        elif self.kind == "put":
            what = f"put({self.key}, {self.value!r})"
        elif self.kind == "cas":
            what = f"cas({self.key}, {self.expected!r} -> {self.value!r})"
            if self.outcome == "fail":
                what += f" failed, current {self.read_value!r}"
        elif self.kind == "add":
            what = f"add({self.key}, {self.value}) -> {self.read_value!r}"
        else:
            what = f"delete({self.key})"
        return f"[{self.invoke_ms:.1f}, {end}] {self.client}: {what} {self.outcome}"


def as_history(records: Iterable[Any]) -> list[HistoryOp]:
    """Build HistoryOps from any records carrying the same attribute names.

    Drivers (the simulator, a real cluster's test clients) keep their own
    record types and do not import the checker; this reads them by name.
    """
    names = [f.name for f in fields(HistoryOp)]
    return [HistoryOp(**{n: getattr(r, n) for n in names}) for r in records]


def relevant(history: Iterable[HistoryOp]) -> list[HistoryOp]:
    """Drop operations that cannot constrain any order.

    A definite failure of a put, get or delete did not happen; a get that
    never answered observed nothing. Both may be removed without changing
    the verdict, and fewer operations make the search cheaper.
    """
    kept = []
    for op in history:
        if op.outcome == "fail" and op.kind != "cas":
            continue
        if op.outcome == "unknown" and op.kind == "get":
            continue
        kept.append(op)
    return kept


def by_key(history: Iterable[HistoryOp]) -> dict[str, list[HistoryOp]]:
    """Partition a history per key (P-compositionality: each key alone)."""
    keys: dict[str, list[HistoryOp]] = {}
    for op in history:
        keys.setdefault(op.key, []).append(op)
    return keys
