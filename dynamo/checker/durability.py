"""No lost acknowledged writes: every write a client was told succeeded survives.

DynamoDB's promise is that an HTTP 200 on a write means the write "has
occurred and is durable" [DG: HowItWorks.ReadConsistency], because the leader
acknowledges only once a quorum has it in their write-ahead logs (§3, §6.1).
This check looks at the end of a run, after faults heal, and asks of each key:
is the value the cluster holds now one that some write could have left last?

A write W can be the last one only if no write that surely happened (an
acknowledged one) was invoked after W had completed; writes with unknown
outcomes may or may not have happened, so they can be last but never rule
another write out. If the final value is none of the candidates', some
acknowledged write was lost (or a value appeared from nowhere).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dynamo.checker.history import HistoryOp, by_key


def no_lost_acknowledged_writes(history: Sequence[HistoryOp],
                                final_state: Mapping[str, str | None]) -> list[str]:
    """Problems found, one line each; an empty list means every acked write survived.

    `final_state` maps each key to its value at the end (None = no item); keys
    missing from it could not be read at the end and are not judged.
    """
    problems = []
    for key, ops in sorted(by_key(history).items()):
        if key not in final_state:
            continue
        if any(op.kind == "add" for op in ops):
            problems += _counter_problems(key, ops, final_state[key])
            continue
        writes = [op for op in ops if op.is_write and op.outcome != "fail"]
        acked = [op for op in writes if op.outcome == "ok"]
        candidates = [w for w in writes if not _surely_overwritten(w, acked)]
        final = final_state[key]
        possible = {w.written for w in candidates}
        if not acked:
            possible.add(None)  # nothing surely happened: the item may never have existed
        if final not in possible:
            problems.append(_describe_loss(key, final, candidates, acked))
    return problems


def _counter_problems(key: str, ops: Sequence[HistoryOp], final: str | None) -> list[str]:
    """A counter only ever incremented: every acknowledged ADD is in its final value.

    Increments commute, so the check is arithmetic: the final value lies between
    the sum of the acknowledged amounts and that sum plus every amount whose
    outcome is unknown (amounts are positive).
    """
    adds = [op for op in ops if op.kind == "add"]
    acked = sum(int(op.value or "0") for op in adds if op.outcome == "ok")
    maybe = sum(int(op.value or "0") for op in adds if op.outcome == "unknown")
    value = int(final or "0")
    if acked <= value <= acked + maybe:
        return []
    return [f"counter {key!r} ends at {value}, but acknowledged ADDs sum to {acked} "
            f"(and at most {maybe} more may have happened)"]


def _surely_overwritten(write: HistoryOp, acked: Sequence[HistoryOp]) -> bool:
    """True if an acknowledged write began after `write` had completed."""
    if write.complete_ms is None:
        return False
    return any(other.invoke_ms > write.complete_ms for other in acked)


def _describe_loss(key: str, final: str | None, candidates: Sequence[HistoryOp],
                   acked: Sequence[HistoryOp]) -> str:
    last = max(acked, key=lambda op: op.complete_ms or 0.0) if acked else None
    could = ", ".join(sorted(repr(w.written) for w in candidates)) or "nothing"
    text = f"key {key!r} ends as {final!r}, but the last write could only have left {could}"
    if last is not None:
        text += f"; last acknowledged: {last.describe()}"
    return text
