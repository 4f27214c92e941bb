"""A linearizability checker for per-key histories: Wing & Gong's search, Lowe's memo.

A history is linearizable if every operation can be given a single instant,
between its invocation and its completion, at which it took effect, such that
the answers are those of one sequential item: strongly consistent reads see
the latest write, conditional writes succeed exactly when their condition
holds. This is what DynamoDB promises for an item's writes and strongly
consistent reads (§2, [DG: HowItWorks.ReadConsistency]).

The search is Wing & Gong's (1993), with Lowe's (2017) memoisation of
(set of operations linearized, state) pairs, as Porcupine does it: walk the
history's invoke/complete events in time order; at an invocation, try to take
that operation effect now (if the model accepts it), lift it out of the list
and start again from the front; at a completion whose operation was not taken
effect yet, backtrack. Items are independent, so each key is checked alone
(P-compositionality), which keeps each search small.

Indefinite operations (timeouts) complete "at infinity": they may take effect
at any point after their invocation, and taking effect after everything else
is the same as never happening, since nothing observes it.

The search is exponential in the worst case. It is given a budget of steps;
when the budget runs out the verdict is "unknown", never "ok".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from dynamo.checker.history import HistoryOp, by_key, relevant

DEFAULT_BUDGET = 2_000_000


@dataclass(frozen=True)
class Verdict:
    """The checker's answer.

    result is "ok" (some order explains every answer), "violation" (none
    does) or "unknown" (the budget ran out before either was shown).
    """

    result: str
    details: str = ""
    steps: int = 0

    @property
    def ok(self) -> bool:
        return self.result == "ok"


class _BudgetExhausted(Exception):
    pass


_REFUSED = object()  # the model's answer when an operation cannot take effect now


def apply(state: str | None, op: HistoryOp) -> object:
    """The sequential model of one DynamoDB item: the state after `op`, or _REFUSED.

    The state is the item's value, None when there is no item. An operation
    with an unknown outcome is accepted wherever it is placed: a cas whose
    condition is false there simply did not change anything.
    """
    kind, outcome = op.kind, op.outcome
    if kind == "put":
        return op.value
    if kind == "delete":
        return None
    if kind == "get":
        return state if state == op.read_value else _REFUSED
    if kind == "add":
        total = str(int(state or "0") + int(op.value or "0"))
        return total if outcome != "ok" or total == op.read_value else _REFUSED
    # cas: conditional put ("expected" None = the item must not exist)
    holds = state == op.expected
    if outcome == "ok":
        return op.value if holds else _REFUSED
    if outcome == "fail":
        return state if (not holds and state == op.read_value) else _REFUSED
    return op.value if holds else state


def check(history: Sequence[HistoryOp], budget: int = DEFAULT_BUDGET) -> Verdict:
    """Check a whole history, one key at a time; each key's search gets `budget` steps.

    A violation on any key is a violation; otherwise a key whose search ran
    out of budget makes the verdict unknown.
    """
    steps = 0
    unknown_keys: list[str] = []
    for key, ops in sorted(by_key(relevant(history)).items()):
        search = _KeySearch(ops, budget)
        try:
            found = search.run()
        except _BudgetExhausted:
            unknown_keys.append(key)
            found = True
        steps += search.steps
        if not found:
            return Verdict("violation", search.explain(key), steps)
    if unknown_keys:
        keys = ", ".join(unknown_keys)
        return Verdict("unknown", f"search budget of {budget} steps ran out on key(s) {keys}",
                       steps)
    return Verdict("ok", "", steps)


class _KeySearch:
    """The WGL search over one key's operations.

    Entries 1..2n are the invoke and complete events in time order, kept in a
    doubly linked list (arrays nxt/prv; 0 is the head, 2n+1 the tail) so an
    operation can be lifted out and put back in O(1).
    """

    def __init__(self, ops: Sequence[HistoryOp], budget: int) -> None:
        self.ops = list(ops)
        self.budget = budget
        self.steps = 0
        self.deepest: list[int] = []
        self.stuck_at: int | None = None
        events = []
        for i, op in enumerate(self.ops):
            end = math.inf if op.complete_ms is None else op.complete_ms
            # at equal times an invoke sorts before a complete: touching
            # operations are treated as concurrent, never as ordered
            events.append((op.invoke_ms, 0, i))
            events.append((end, 1, i))
        events.sort()
        size = len(events)
        self.tail = size + 1
        self.nxt = list(range(1, size + 2)) + [self.tail]
        self.prv = [0] + list(range(0, size + 1))
        self.is_call = [False] + [e[1] == 0 for e in events] + [False]
        self.op_of = [-1] + [e[2] for e in events] + [-1]
        self.match = [0] * (size + 2)
        where: dict[tuple[int, int], int] = {}
        for pos, (_, is_return, i) in enumerate(events, start=1):
            where[(i, is_return)] = pos
        for i in range(len(self.ops)):
            self.match[where[(i, 0)]] = where[(i, 1)]

    def run(self) -> bool:
        nxt, is_call, op_of, ops = self.nxt, self.is_call, self.op_of, self.ops
        cache: set[tuple[int, object]] = set()
        stack: list[tuple[int, object]] = []
        linearized = 0
        state: object = None
        entry = nxt[0]
        while entry != self.tail:
            self.steps += 1
            if self.steps > self.budget:
                raise _BudgetExhausted
            if is_call[entry]:
                i = op_of[entry]
                after = apply(state, ops[i])  # type: ignore[arg-type]
                if after is not _REFUSED:
                    bits = linearized | (1 << i)
                    if (bits, after) not in cache:
                        cache.add((bits, after))
                        stack.append((entry, state))
                        linearized, state = bits, after
                        self._lift(entry)
                        entry = nxt[0]
                        continue
                entry = nxt[entry]
            else:
                if len(stack) >= len(self.deepest):
                    self.deepest = [op_of[e] for e, _ in stack]
                    self.stuck_at = op_of[entry]
                if not stack:
                    return False
                entry, state = stack.pop()
                linearized &= ~(1 << op_of[entry])
                self._unlift(entry)
                entry = nxt[entry]
        return True

    def _lift(self, call: int) -> None:
        nxt, prv = self.nxt, self.prv
        ret = self.match[call]
        nxt[prv[call]] = nxt[call]
        prv[nxt[call]] = prv[call]
        nxt[prv[ret]] = nxt[ret]
        prv[nxt[ret]] = prv[ret]

    def _unlift(self, call: int) -> None:
        nxt, prv = self.nxt, self.prv
        ret = self.match[call]
        prv[nxt[ret]] = ret
        nxt[prv[ret]] = ret
        prv[nxt[call]] = call
        nxt[prv[call]] = call

    def explain(self, key: str) -> str:
        """Say why: the longest order found, and the operation it could not place."""
        lines = [f"key {key!r}: no order of its {len(self.ops)} operations explains every answer"]
        lines.append("longest linearizable prefix:")
        state: str | None = None
        for i in self.deepest:
            state = apply(state, self.ops[i])  # type: ignore[assignment]
            lines.append(f"  {self.ops[i].describe()}    => {state!r}")
        if self.stuck_at is not None:
            lines.append("then this operation must have taken effect, but cannot:")
            lines.append(f"  {self.ops[self.stuck_at].describe()}")
        lines.append("all operations on the key:")
        lines.extend(f"  {op.describe()}" for op in sorted(self.ops, key=lambda o: o.invoke_ms))
        return "\n".join(lines)
