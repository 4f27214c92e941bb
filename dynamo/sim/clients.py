"""Simulated clients: they issue operations and record what they saw.

A client here behaves like DynamoDB's request router does on a client's
behalf (§3, §4): it sends each operation to the replica it believes leads,
follows a "not the leader, try X" answer to the hinted leader, and gives up
after a timeout. Giving up is an *indefinite* outcome: the write may still
happen later, so the record says "unknown", never "failed" (Maelstrom's
definite/indefinite split; DynamoDB's timeouts are indefinite too).

What a client records is the history the checkers judge: one `OpRecord` per
operation, with the fields of `dynamo.checker.HistoryOp`. Clients do not know
the protocol's types: an `OperationAdapter` given by the scenario says what an
operation is (kind, key, value) and what a result means (ok, failed
condition, retry elsewhere, unknown).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from random import Random
from typing import TYPE_CHECKING, Any, Protocol

from dynamo.contract import NodeId, Reply

if TYPE_CHECKING:
    from dynamo.sim.simulator import Simulator


@dataclass(frozen=True)
class Outcome:
    """What a reply means to a client.

    status: "ok" (done), "fail" (a definite failure: the condition was false,
    or the operation surely did not happen), "retry" (not done; try
    `hint` or another replica) or "unknown" (may or may not have happened).
    """

    status: str
    read_value: str | None = None
    hint: NodeId | None = None


class OperationAdapter(Protocol):
    """Translates a protocol's operations and results for the history."""

    def describe(self, operation: Any) -> tuple[str, str, str | None, str | None]:
        """(kind, key, value, expected) of an operation, in HistoryOp's terms."""
        ...

    def classify(self, result: Any) -> Outcome:
        ...


@dataclass
class OpRecord:
    """One operation as a client saw it (HistoryOp's fields, plus bookkeeping)."""

    client: str
    kind: str
    key: str
    value: str | None
    expected: str | None
    invoke_ms: float
    complete_ms: float | None = None
    outcome: str = "unknown"
    read_value: str | None = None
    attempts: int = 0


@dataclass(frozen=True)
class ClientConfig:
    """How patient a client is.

    timeout_ms bounds one operation, all retries included; retry_ms is the
    pause before following a redirect; think_ms the pause between operations.
    A client starts at start_ms and issues no new operation after stop_ms.
    With probability `wander` an operation first goes to a random replica,
    as from a request router whose cached partition map is stale (§4): it
    is how a deposed leader that does not know it yet still gets asked.
    """

    timeout_ms: float = 600.0
    retry_ms: float = 5.0
    think_ms: tuple[float, float] = (10.0, 150.0)
    start_ms: float = 0.0
    stop_ms: float = float("inf")
    wander: float = 0.2


class Client:
    """Issues its operations one after another, each to the believed leader."""

    def __init__(self, name: str, operations: Sequence[Any], adapter: OperationAdapter,
                 nodes: Sequence[NodeId], rng: Random, config: ClientConfig | None = None) -> None:
        self.name = name
        self.operations = list(operations)
        self.adapter = adapter
        self.nodes = list(nodes)
        self.rng = rng
        self.config = config or ClientConfig()
        self.records: list[OpRecord] = []
        self.target = self.nodes[rng.randrange(len(self.nodes))]
        self._next = 0
        self._request_id = 0
        self._current: OpRecord | None = None
        self._actions: dict[int, str] = {}
        self._tokens = 0

    @property
    def finished(self) -> bool:
        return self._next >= len(self.operations) and self._current is None

    def start(self, sim: Simulator) -> None:
        self._schedule(sim, max(0.0, self.config.start_ms - sim.now), "next")

    def on_timer(self, sim: Simulator, token: int) -> None:
        action = self._actions.pop(token, None)
        if action == "next":
            self._issue(sim)
        elif action == "resend" and self._current is not None:
            self._send(sim)
        elif action == f"timeout:{self._next}" and self._current is not None:
            self._finish(sim, "unknown", None, None)
            # the believed leader did not answer in time: try another next time
            self.target = self.nodes[self.rng.randrange(len(self.nodes))]

    def on_reply(self, sim: Simulator, reply: Reply) -> None:
        op = self._current
        if op is None or reply.request_id != self._request_id:
            return  # an answer to an attempt already given up on
        outcome = self.adapter.classify(reply.result)
        if outcome.status == "retry":
            self.target = outcome.hint if outcome.hint in self.nodes else self._another()
            self._schedule(sim, self.config.retry_ms, "resend")
            return
        complete = None if outcome.status == "unknown" else sim.now
        self._finish(sim, outcome.status, outcome.read_value, complete)

    # --- helpers ------------------------------------------------------------

    def _issue(self, sim: Simulator) -> None:
        if self._next >= len(self.operations) or sim.now > self.config.stop_ms:
            return
        operation = self.operations[self._next]
        kind, key, value, expected = self.adapter.describe(operation)
        if self.rng.random() < self.config.wander:
            self.target = self.nodes[self.rng.randrange(len(self.nodes))]
        self._current = OpRecord(self.name, kind, key, value, expected, invoke_ms=sim.now)
        self.records.append(self._current)
        self._schedule(sim, self.config.timeout_ms, f"timeout:{self._next}")
        self._send(sim)

    def _send(self, sim: Simulator) -> None:
        assert self._current is not None
        self._current.attempts += 1
        self._request_id += 1
        sim.submit(self.name, self.target, self._request_id, self.operations[self._next])

    def _finish(self, sim: Simulator, status: str, read_value: str | None,
                complete_ms: float | None) -> None:
        op = self._current
        assert op is not None
        op.outcome, op.read_value, op.complete_ms = status, read_value, complete_ms
        self._current = None
        self._request_id += 1  # late answers to this operation are ignored
        self._next += 1
        self._actions = {t: a for t, a in self._actions.items() if a == "next"}
        self._schedule(sim, self.rng.uniform(*self.config.think_ms), "next")

    def _another(self) -> NodeId:
        others = [n for n in self.nodes if n != self.target]
        return others[self.rng.randrange(len(others))] if others else self.target

    def _schedule(self, sim: Simulator, delay_ms: float, action: str) -> None:
        self._tokens += 1
        self._actions[self._tokens] = action
        sim.client_timer(self.name, delay_ms, self._tokens)
