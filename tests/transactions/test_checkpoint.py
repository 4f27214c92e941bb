"""Checkpointing the coordinator's ledger (ATC'23 §3.5, §5: "ledger writes and checkpointing").

A checkpoint holds what a restart needs from every record before it: the
transactions not yet completed, with their decisions, and the
ClientRequestTokens still inside their 10 minutes. So a coordinator rebuilt
from its latest checkpoint and the records after it must be the coordinator
rebuilt from all of them: the same transactions to finish, the same answer to
every token. The simulated fleet is `test_coordinator`'s.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

from test_coordinator import FLEET, Script, opening, transfer

from dynamo.contract import ClientRequest, Persist, Reply, Start
from dynamo.partitioning.fleet import METADATA
from dynamo.paxos.operations import Ok, Rejected
from dynamo.paxos.replica import PaxosConfig
from dynamo.sim.simulator import Simulator
from dynamo.storage.errors import IdempotentParameterMismatchException
from dynamo.transactions.coordinator import CoordinatorConfig, TransactionCoordinator
from dynamo.transactions.fleet import transaction_factories
from dynamo.transactions.ledger import (
    Begun,
    Checkpoint,
    Completed,
    Decided,
    Ledger,
    repeated,
)
from dynamo.transactions.operations import CancellationReason, Committed

MINUTE_US = 60_000_000
ITEMS = (("t", b"a"), ("t", b"b"))

# Before the checkpoint: t1 committed long ago (its token forgotten by then), t2 committed
# lately, t3 was cancelled for a reason, t4 decided to commit and is still committing,
# t5 is begun and undecided, t6 got no definite answer (its token is not kept).
BEFORE = [
    Begun("t1", 1, ITEMS, "old", "f1"), Decided("t1", True), Completed("t1", 2),
    Begun("t2", 20 * MINUTE_US, ITEMS, "late", "f2"), Decided("t2", True),
    Completed("t2", 20 * MINUTE_US + 5),
    Begun("t3", 20 * MINUTE_US + 10, ITEMS, "refused", "f3"),
    Decided("t3", False, (CancellationReason("ConditionalCheckFailed"), CancellationReason())),
    Completed("t3", 20 * MINUTE_US + 15),
    Begun("t4", 20 * MINUTE_US + 20, ITEMS, "running", "f4"), Decided("t4", True),
    Begun("t5", 20 * MINUTE_US + 30, ITEMS, "waiting", "f5"),
    Begun("t6", 20 * MINUTE_US + 40, ITEMS, "lost", "f6"), Decided("t6", False),
    Completed("t6", 20 * MINUTE_US + 45),
]
CHECKPOINT_AT = 21 * MINUTE_US
# After it: t4 completes, t5 is cancelled on a restart, t7 reuses the forgotten token.
AFTER = [
    Completed("t4", CHECKPOINT_AT + 10), Decided("t5", False), Completed("t5", CHECKPOINT_AT + 20),
    Begun("t7", CHECKPOINT_AT + 30, ITEMS, "old", "f7"),
]
TOKENS = ("old", "late", "refused", "running", "waiting", "lost")
FINGERPRINTS = ("f1", "f2", "f3", "f4", "f5", "f6", "f7", "other")


def answers(ledger: Ledger, now_us: int) -> dict[tuple[str, str], Any]:
    """What the ledger answers every token with every fingerprint at `now_us`."""
    return {(token, fingerprint): plain(repeated(ledger.token(token, now_us), fingerprint))
            for token in TOKENS for fingerprint in FINGERPRINTS}


def plain(answer: Ok | Rejected | None) -> Any:
    """An answer in a form that compares by value (exceptions compare by identity)."""
    if type(answer) is Rejected:
        error = answer.error
        return type(error).__name__, str(error), getattr(error, "reasons", None)
    return answer


def test_a_ledger_rebuilt_from_its_checkpoint_and_the_records_after_is_the_whole_ledger() -> None:
    checkpoint = Ledger(BEFORE).checkpoint(CHECKPOINT_AT)
    from_checkpoint = Ledger([checkpoint, *AFTER])
    from_all = Ledger([*BEFORE, checkpoint, *AFTER])
    without = Ledger([*BEFORE, *AFTER])  # what the records said before there were checkpoints
    assert from_checkpoint.unfinished() == from_all.unfinished() == without.unfinished() \
        == [(AFTER[-1], None)]
    assert from_checkpoint.tokens == from_all.tokens
    for now in (CHECKPOINT_AT + 40, CHECKPOINT_AT + 10 * MINUTE_US):
        assert answers(from_checkpoint, now) == answers(from_all, now) == answers(without, now)
    assert from_checkpoint.last_ts == from_all.last_ts >= without.last_ts


def test_the_answers_compared_are_every_kind_a_token_gets() -> None:
    ledger = Ledger([Ledger(BEFORE).checkpoint(CHECKPOINT_AT), *AFTER])
    got = answers(ledger, CHECKPOINT_AT + 40)
    assert got["late", "f2"] == got["running", "f4"] == Ok(Committed((), repeated=True))
    assert got["late", "other"][0] == "IdempotentParameterMismatchException"
    assert got["refused", "f3"][0] == "TransactionCanceledException"
    assert got["old", "f7"][0] == "TransactionInProgressException"
    assert got["lost", "f6"] is None and got["waiting", "f5"] is None  # no definite answer
    assert answers(ledger, CHECKPOINT_AT + 10 * MINUTE_US)["late", "f2"] is None


def test_a_checkpoint_holds_the_unfinished_and_the_remembered_tokens_only() -> None:
    checkpoint = Ledger(BEFORE).checkpoint(CHECKPOINT_AT)
    assert [begun.txn for begun, _ in checkpoint.unfinished] == ["t4", "t5"]
    assert [decided for _, decided in checkpoint.unfinished] == [Decided("t4", True), None]
    assert sorted(kept.token for kept in checkpoint.tokens) == ["late", "refused"]
    assert checkpoint.at == CHECKPOINT_AT


def simulate(steps: list[tuple[str, Any]], every: int) -> Simulator:
    """The fleet's TCs as `transaction_factories` makes them, checkpointing `every`."""
    coordinator = CoordinatorConfig(router=replace(FLEET.router, metadata=METADATA),
                                    redrive_ms=20.0, prepare_ms=2000.0, checkpoint_every=every)
    sim = Simulator(7, transaction_factories(FLEET, PaxosConfig(), coordinator=coordinator))
    sim.add_client(Script(steps))
    sim.start()
    sim.run(8000.0)
    return sim


def rebuilt(records: list[Any]) -> TransactionCoordinator:
    return TransactionCoordinator("tc1", records, random.Random(1))


def ask(coordinator: TransactionCoordinator, now_ms: float, request: Any) -> Any:
    (reply,) = [e for e in coordinator.step(now_ms, ClientRequest("c", 1, request))
                if type(e) is Reply]
    return reply.result


def test_a_coordinator_rebuilt_from_its_checkpoint_answers_tokens_as_one_rebuilt_from_all() -> None:
    """Tokens used before the last checkpoint and after it: the same token and request is a
    repeat, another request with it is IdempotentParameterMismatchException."""
    transfers = [("tc1", transfer("a0", "a1", 1, f"tok{n}")) for n in range(7)]
    sim = simulate([*opening(), *transfers], every=2)
    records = sim.records["tc1"]
    last = max(i for i, r in enumerate(records) if type(r) is Checkpoint)
    assert [type(r) for r in records[last + 1:]].count(Completed) >= 1, "a token after it"
    full, short = rebuilt(records), rebuilt(records[last:])
    assert full.ledger.unfinished() == short.ledger.unfinished() == []
    now = sim.now
    for n in range(7):
        again = ask(full, now, transfer("a0", "a1", 1, f"tok{n}"))
        assert again == ask(short, now, transfer("a0", "a1", 1, f"tok{n}"))
        assert type(again) is Ok and again.value == Committed((), repeated=True)
        other = ask(short, now, transfer("a0", "a1", 2, f"tok{n}"))
        assert type(other) is Rejected
        assert type(other.error) is IdempotentParameterMismatchException


def test_a_checkpoint_waits_for_as_many_completions_as_the_last_one_had_entries() -> None:
    """With every transaction's token remembered for 10 minutes, each checkpoint is larger
    than the last; waiting as long as it is large keeps writing them to one entry per
    transaction."""
    transfers = [("tc1", transfer("a0", "a1", 1, f"tok{n}")) for n in range(14)]
    records = simulate([*opening(), *transfers], every=2).records["tc1"]
    checkpoints = [r for r in records if type(r) is Checkpoint]
    assert [c.size for c in checkpoints] == [2, 4, 8]
    completed = [r for r in records if type(r) is Completed]
    assert sum(c.size for c in checkpoints) <= len(completed)


def test_a_restarted_coordinator_finishes_what_its_checkpoint_left_unfinished() -> None:
    """§3.5 across a checkpoint: a transaction decided before it and completed after it
    is finished on restart from the checkpoint alone."""
    checkpoint = Ledger(BEFORE).checkpoint(CHECKPOINT_AT)
    coordinator = rebuilt([checkpoint])
    effects = coordinator.step(CHECKPOINT_AT / 1000, Start())
    decided = [e.record for e in effects if type(e) is Persist]
    assert decided == [Decided("t5", False)]  # t4 is committed as decided, t5 cancelled
    assert set(coordinator.writes) == {"t4", "t5"}
    assert coordinator.writes["t4"].decided == Decided("t4", True)


def test_a_ledger_that_never_checkpoints_still_forgets_old_tokens() -> None:
    """The single node's ledger never checkpoints: its expired tokens must go all the same,
    or a server that runs for days keeps every token boto3 ever sent."""
    ledger = Ledger(token_ms=1.0)  # tokens are remembered for 1 ms (1,000 µs)
    for n in range(1000):
        txn, at = f"t{n}", n * 10_000  # 10 ms apart
        ledger.record(Begun(txn, at, (), f"token{n}", "fp"))
        ledger.record(Decided(txn, True))
        ledger.record(Completed(txn, at))
    assert len(ledger.tokens) <= 101, f"{len(ledger.tokens)} tokens remembered"
    assert ledger.token("token999", 999 * 10_000) is not None, "a fresh token is kept"
