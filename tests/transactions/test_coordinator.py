"""The transaction coordinator on a simulated partitioned fleet (ATC'23 §3.2-§3.5).

A scripted client sends its requests one after another (each to a named node)
and keeps every answer; the fleet is `dynamo.transactions.fleet`'s, with a
table that splits into several partitions as the accounts are opened, on a
healthy network unless a test crashes a coordinator.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from dynamo.contract import ClientRequest, Effect, NodeId, Persist, Reply
from dynamo.partitioning.fleet import FleetConfig
from dynamo.paxos.operations import KV_TABLE, GetItem, Ok, PutItem, Rejected
from dynamo.paxos.replica import PaxosConfig
from dynamo.sim.bank import Bank, BankConfig, MidCommitCrash, Transfer
from dynamo.sim.faults import Fault
from dynamo.sim.simulator import Simulator
from dynamo.storage.errors import (
    IdempotentParameterMismatchException,
    TransactionCanceledException,
)
from dynamo.storage.expressions import compile_expressions
from dynamo.transactions.coordinator import TransactionCoordinator
from dynamo.transactions.fleet import transaction_factories
from dynamo.transactions.ledger import Begun, Completed, Decided, Ledger
from dynamo.transactions.operations import Committed, ItemsRead, TransactGet, TransactWrite
from dynamo.transactions.participant import Participant

FLEET = FleetConfig(storage_nodes=("n1", "n2", "n3"), routers=("r1",), split_size=120)
BANK = Bank(BankConfig(accounts=6))


class Script:
    """A client that sends each (node, request) once the last was answered, then waits."""

    name = "script"

    def __init__(self, steps: Sequence[tuple[NodeId, Any]], start_ms: float = 0.0) -> None:
        self.steps = list(steps)
        self.answers: list[Any] = []
        self.start_ms = start_ms

    def start(self, sim: Simulator) -> None:
        sim.client_timer(self.name, self.start_ms, 0)

    def on_timer(self, sim: Simulator, token: int) -> None:
        if token == 0 and len(self.answers) < len(self.steps):
            node, request = self.steps[len(self.answers)]
            sim.submit(self.name, node, len(self.answers), request)
            sim.client_timer(self.name, 1500.0, len(self.answers) + 1)
        elif token == len(self.answers) + 1:  # no answer in time: note it and go on
            self.answers.append(None)
            sim.client_timer(self.name, 0.0, 0)

    def on_reply(self, sim: Simulator, reply: Reply) -> None:
        if reply.request_id == len(self.answers):
            self.answers.append(reply.result)
            sim.client_timer(self.name, 5.0, 0)


def run(steps: Sequence[tuple[NodeId, Any]], *observers: Any,
        until_ms: float = 6000.0) -> tuple[Simulator, Script]:
    sim = Simulator(7, transaction_factories(FLEET, PaxosConfig()))
    script = Script(steps)
    sim.add_client(script)
    for observer in observers:
        sim.add_observer(observer)
    sim.start()
    sim.run(until_ms)
    return sim, script


def opening() -> list[tuple[NodeId, Any]]:
    return [("r1", BANK.account(a)) for a in BANK.accounts]


def transfer(source: str, target: str, amount: int, token: str = "t") -> TransactWrite:
    return BANK.transfer(Transfer(token, source, target, amount))


def balances(answer: Any) -> list[int]:
    assert type(answer) is Ok and type(answer.value) is ItemsRead, answer
    return [int(item["balance"]["N"]) for item in answer.value.items]


def held(sim: Simulator) -> list[Any]:
    return [store.held() for node in ("n1", "n2", "n3") if sim.nodes[node] is not None
            for replica in sim.nodes[node].replicas.values()
            if isinstance(store := replica.store, Participant) and store.held()]


def test_a_transfer_across_partitions_commits_and_a_failed_condition_cancels_it_all() -> None:
    sim, script = run([*opening(), ("tc1", transfer("a0", "a5", 30, "x")),
                       ("tc1", transfer("a1", "a4", 500, "y")), ("tc2", BANK.audit())])
    done, cancelled, audit = script.answers[-3:]
    assert len(partitions_led(sim)) >= 2, "the table was meant to split"
    assert type(done.value) is Committed
    assert [c.write for c in done.value.capacities] == [2.0, 2.0]  # prepare and commit
    assert type(cancelled) is Rejected
    error = cancelled.error
    assert type(error) is TransactionCanceledException
    assert [r["Code"] for r in error.reasons] == ["ConditionalCheckFailed", "None"]
    assert error.reasons[0]["Item"]["balance"] == {"N": "100"}  # ALL_OLD: the item
    assert error.message.endswith("[ConditionalCheckFailed, None]")
    assert balances(audit) == [70, 100, 100, 100, 100, 130]
    assert held(sim) == []


def partitions_led(sim: Simulator) -> set[str]:
    """The partitions some replica leads."""
    return {p for node in ("n1", "n2", "n3") if sim.nodes[node] is not None
            for p, replica in sim.nodes[node].replicas.items()
            if replica.leader is not None and replica.store.split is None}


def test_the_same_client_request_token_commits_once() -> None:
    """ClientRequestToken: the same token and request answer as before without running
    again; the same token with other parameters is IdempotentParameterMismatchException."""
    sim, script = run([*opening(), ("tc1", transfer("a0", "a1", 10, "once")),
                       ("tc1", transfer("a0", "a1", 10, "once")),
                       ("tc1", transfer("a0", "a1", 99, "once")), ("tc1", BANK.audit())])
    first, again, other, audit = script.answers[-4:]
    assert type(first.value) is Committed and not first.value.repeated
    assert type(again.value) is Committed and again.value.repeated
    assert type(other.error) is IdempotentParameterMismatchException
    assert balances(audit)[:2] == [90, 110]


def test_a_coordinator_crashed_after_deciding_finishes_the_transaction_on_restart() -> None:
    """§3.5: the decision is in the ledger before any commit leaves; a TC that restarts
    finishes what it decided. Its client got no answer; the money moved all the same."""
    crash = MidCommitCrash("tc1", 1, 300.0, until_ms=float("inf"))
    sim, script = run([*opening(), ("tc1", transfer("a2", "a3", 40)), ("tc2", BANK.audit())],
                      crash)
    assert crash.seen == 1 and script.answers[-2] is None
    assert balances(script.answers[-1])[2:4] == [60, 140]
    records = sim.records["tc1"]
    assert [type(r) for r in records] == [Begun, Decided, Completed]
    assert held(sim) == []


class CrashWhenBegun:
    """Crash a coordinator as soon as it has persisted a transaction's `Begun`: its
    prepares are on their way, and it has decided nothing."""

    def __init__(self, coordinator: NodeId) -> None:
        self.coordinator = coordinator
        self.done = False

    def after_step(self, sim: Simulator, node_id: NodeId, effects: Sequence[Effect]) -> None:
        if node_id == self.coordinator and not self.done and any(
                type(e) is Persist and type(e.record) is Begun for e in effects):
            self.done = True
            sim.crash(node_id)
            sim.schedule_fault(Fault(sim.now + 300.0, "restart", (node_id,)))


def test_a_coordinator_crashed_before_deciding_cancels_the_transaction_on_restart() -> None:
    sim, script = run([*opening(), ("tc1", transfer("a2", "a3", 40)), ("tc2", BANK.audit())],
                      CrashWhenBegun("tc1"))
    assert script.answers[-2] is None
    assert balances(script.answers[-1])[2:4] == [100, 100]
    decided = [r for r in sim.records["tc1"] if type(r) is Decided]
    assert decided == [Decided(decided[0].txn, False)]
    assert held(sim) == []


def test_a_transact_get_reads_what_was_committed_and_projects_it() -> None:
    projection = compile_expressions("GetItem", {"ProjectionExpression": "balance"}).projection
    get = TransactGet((GetItem(KV_TABLE, {"k": {"S": "a0"}}, True, projection),
                       GetItem(KV_TABLE, {"k": {"S": "zz"}}, True)))
    sim, script = run([("r1", PutItem(KV_TABLE, {"k": {"S": "a0"}, "balance": {"N": "5"},
                                                 "pad": {"S": "p"}})), ("tc1", get)])
    answer = script.answers[-1]
    assert answer.value.items == ({"balance": {"N": "5"}}, None)
    assert [c.read for c in answer.value.capacities] == [2.0, 2.0]  # two reads of each


def test_a_token_is_forgotten_ten_minutes_after_its_transaction_completes() -> None:
    ledger = Ledger([Begun("t1", 5, (), "tok", "f"), Decided("t1", True), Completed("t1", 10)])
    assert ledger.token("tok", 10 + 600_000_000).outcome == Decided("t1", True)
    assert ledger.token("tok", 11 + 600_000_000) is None


def test_a_restarted_coordinator_stamps_later_than_before_its_crash() -> None:
    """§3.2: timestamps only grow, even when the clock a TC restarts with is behind."""
    records = [Begun("tc1.900", 900_000_000, ()), Decided("tc1.900", False),
               Completed("tc1.900", 900_000_000)]
    coordinator = TransactionCoordinator("tc1", records, random.Random(1))
    effects = coordinator.step(0.0, ClientRequest("c", 1, transfer("a0", "a1", 1)))
    (begun,) = [e.record for e in effects if type(e) is Persist]
    assert begun.ts > 900_000_000
