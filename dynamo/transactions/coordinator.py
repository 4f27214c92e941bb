"""The transaction coordinator: timestamp ordering and two-phase commit (ATC'23 §3).

A request router hands TransactWriteItems and TransactGetItems to a
transaction coordinator (TC), which runs them against the partitions that
hold their items. It is a sans-IO node, and it reaches the partitions the way
a request router does: it *contains* a `RequestRouter` (composition, not a
subclass) and hands it each item-level request, addressed by table and key
(`ToItem`); the router's messages and timers go out as the TC's own, and the
router's answers come back to the TC.

The rules of a write transaction (§3.2, §3.3):

1. The TC gives the transaction a timestamp from its own clock, later than
   every timestamp it gave before (after a restart too: its ledger remembers
   the last one), and an id.
2. It makes the transaction durable in its ledger (`Begun`) *before* the
   first prepare leaves (contract rule 2), then asks every item's partition
   leader to prepare (`Prepare`). A prepare that gets no answer is sent again:
   a participant accepts the same prepare twice as once.
3. Once every item answered: all accepted, the decision is commit; any
   refusal, cancel. The decision is made durable (`Decided`) before the first
   commit or cancel leaves.
4. Commits (or cancels) are sent to every item, and sent again until each is
   acknowledged: a decided transaction always finishes. Then the client's
   answer (the changes are visible to any read once it has it), and `Completed`.

Recovery (§3.5): a TC that restarts reads its ledger and finishes every
transaction it had not completed: a decided one as decided, an undecided one
by cancelling it. In DynamoDB the ledger is a DynamoDB table, so a *different*
TC can take a stalled transaction over (`ledger.py`).

Checkpointing (§5 counts it in a transaction's cost): the ledger's records
only grow, so every so many completed transactions the TC persists a
`Checkpoint` of what a restart needs (its unfinished transactions, the tokens
still remembered), and its driver drops the records before it. A checkpoint
waits for at least as many completions as the last one had entries, so
writing them costs at most one entry per transaction however many tokens the
last 10 minutes left to remember.

A read transaction needs no ledger and no timestamps (§3.4): the TC reads
every item twice. The first round is refused where a prepared transaction
holds an item; the second must find every item's version unchanged. Then no
write came between the rounds, and the first round's items are one
serializable snapshot. A round that fails is tried again, up to
`read_rounds` times, before the request is cancelled (TransactionConflict).

ClientRequestToken (TransactWriteItems' idempotency): for 10 minutes after a
transaction with a token completes, the same token and parameters answer as
it did, without running again; other parameters are
IdempotentParameterMismatchException; while it runs,
TransactionInProgressException.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from dynamo.contract import (
    ClientRequest,
    Effect,
    Event,
    NodeId,
    Persist,
    Receive,
    Reply,
    Rng,
    SetTimer,
    Start,
    TimerFired,
)
from dynamo.partitioning.router import RequestRouter, RouterConfig, ToItem, key_of
from dynamo.paxos.operations import Ok, Rejected
from dynamo.storage.errors import (
    InternalServerError,
    TransactionConflictException,
    ValidationException,
)
from dynamo.transactions.ledger import Begun, Completed, Decided, Ledger, repeated
from dynamo.transactions.operations import (
    TOKEN_MS,
    Action,
    Cancel,
    CancellationReason,
    Commit,
    Committed,
    ItemRead,
    ItemsRead,
    Prepare,
    ReadForTransaction,
    TransactGet,
    TransactWrite,
    action_key,
    cancelled,
    doubled,
    reason_for,
)
from dynamo.transactions.participant import ONGOING

SELF = "tc:self"  # the client name the TC's own requests carry to its router
TIMER = "tc:"  # the prefix of the TC's own timers (the rest are its router's)
UNANSWERED = "A partition did not answer the transaction in time; it was cancelled"


@dataclass(frozen=True)
class CoordinatorConfig:
    """How patient a TC is.

    redrive_ms: the pause before a prepare, commit or cancel that got no answer is
        sent again, and (on average) before a TransactGet reads again after a conflict.
        prepare_ms: how long prepares are sent again before the transaction is
        cancelled. read_rounds: TransactGet rounds of reads before a conflict cancels
        it. token_ms: how long a ClientRequestToken is remembered after its
        transaction completes. checkpoint_every: the fewest completed transactions
        between two checkpoints of the ledger.
    """

    router: RouterConfig = RouterConfig()
    redrive_ms: float = 20.0
    prepare_ms: float = 5000.0
    read_rounds: int = 6
    token_ms: float = TOKEN_MS
    checkpoint_every: int = 100


@dataclass
class _Write:
    """A write transaction the TC is running."""

    begun: Begun
    actions: tuple[Action, ...]  # () for a transaction resumed from the ledger
    client: tuple[str, int] | None  # whom to answer (None: resumed, nobody waits)
    deadline: float
    answers: list[Any] = field(default_factory=list)
    decided: Decided | None = None
    finished: set[int] = field(default_factory=set)


@dataclass
class _Read:
    """A read transaction the TC is running: its rounds so far."""

    client: tuple[str, int]
    gets: tuple[Any, ...]
    rounds_left: int
    answers: list[Any] = field(default_factory=list)
    first: list[ItemRead] | None = None  # the round the next one is compared with


class TransactionCoordinator:
    """A sans-IO transaction coordinator, reaching partitions through a router of its own."""

    def __init__(self, id: NodeId, records: Any, rng: Rng,
                 config: CoordinatorConfig | None = None) -> None:
        self._id = id
        self.config = config or CoordinatorConfig()
        self.rng = rng
        self.router = RequestRouter(id, rng, self.config.router)
        self.ledger = Ledger(records, self.config.token_ms)
        self.writes: dict[str, _Write] = {}
        self.reads: dict[int, _Read] = {}
        self.calls: dict[int, tuple[str, Any, int]] = {}  # request id: (kind, which, item)
        self._ids = itertools.count(1)
        self.now = 0.0
        self.completed_since = 0  # transactions completed since the last checkpoint
        self.checkpoint_size = 0  # the last checkpoint's entries

    @property
    def id(self) -> NodeId:
        return self._id

    def snapshot(self) -> dict[str, Any]:
        return {"id": self._id, "transactions": len(self.writes), "reads": len(self.reads),
                "router": self.router.snapshot()}

    def step(self, now_ms: float, event: Event) -> list[Effect]:
        self.now = now_ms
        kind = type(event)
        if kind is ClientRequest:
            if type(event.operation) is TransactWrite:
                return self._on_write(event)
            if type(event.operation) is TransactGet:
                return self._on_read(event)
            return [Reply(event.client, event.request_id,
                          Rejected(ValidationException(f"not a transaction: {event.operation}")))]
        if kind is TimerFired and event.name.startswith(TIMER):
            return self._on_timer(event.name)
        if kind is Start:
            return self._resume()
        if kind in (Receive, TimerFired):
            return self._through_router(event)
        return []

    # --- the router inside --------------------------------------------------------------

    def _submit(self, routed: ToItem, call: tuple[str, Any, int]) -> list[Effect]:
        request_id = next(self._ids)
        self.calls[request_id] = call
        return self._through_router(ClientRequest(SELF, request_id, routed))

    def _through_router(self, event: Event) -> list[Effect]:
        """Step the router; its answers to the TC's requests are the TC's to handle."""
        effects: list[Effect] = []
        for effect in self.router.step(self.now, event):
            if type(effect) is Reply and effect.client == SELF:
                effects += self._answered(effect.request_id, effect.result)
            else:
                effects.append(effect)
        return effects

    def _answered(self, request_id: int, result: Any) -> list[Effect]:
        call = self.calls.pop(request_id, None)
        if call is None:
            return []
        kind, which, index = call
        if kind == "prepare":
            return self._prepared(which, index, result)
        if kind == "finish":
            return self._finished(which, index, result)
        return self._read_answered(which, index, result)

    def _on_timer(self, name: str) -> list[Effect]:
        _, kind, which, index = name.split(":")
        if kind == "read":
            read = self.reads.get(int(which))
            return [] if read is None else self._read_round(int(which), read)
        write = self.writes.get(which)
        if write is None:
            return []
        if kind == "prepare" and write.decided is None:
            return self._prepare(write, int(index))
        if kind == "finish" and write.decided is not None:
            return self._finish(write, int(index))
        return []

    # --- write transactions -----------------------------------------------------------------

    def _on_write(self, request: ClientRequest) -> list[Effect]:
        op: TransactWrite = request.operation
        if op.token is not None:
            repeated = self._repeat(op)
            if repeated is not None:
                return [Reply(request.client, request.request_id, repeated)]
        ts = self._timestamp()
        begun = Begun(f"{self._id}.{ts}", ts,
                      tuple((a.table.tbl, action_key(a)) for a in op.actions),
                      op.token, op.fingerprint)
        write = _Write(begun, op.actions, (request.client, request.request_id),
                       self.now + self.config.prepare_ms, [None] * len(op.actions))
        self.writes[begun.txn] = write
        self.ledger.record(begun)
        effects: list[Effect] = [Persist(begun)]  # durable before any prepare leaves
        for index in range(len(op.actions)):
            effects += self._prepare(write, index)
        return effects

    def _repeat(self, op: TransactWrite) -> Any | None:
        """The answer to a token used before, or None to run the request."""
        assert op.token is not None
        return repeated(self.ledger.token(op.token, self._clock()), op.fingerprint)

    def _prepare(self, write: _Write, index: int) -> list[Effect]:
        begun = write.begun
        tbl, key = begun.items[index]
        prepare = Prepare(begun.txn, begun.ts, write.actions[index])
        return self._submit(ToItem(tbl, key, prepare), ("prepare", begun.txn, index))

    def _prepared(self, txn: str, index: int, result: Any) -> list[Effect]:
        write = self.writes.get(txn)
        if write is None or write.decided is not None:
            return []
        if type(result) not in (Ok, Rejected) and self.now < write.deadline:
            return [SetTimer(f"{TIMER}prepare:{txn}:{index}", self.config.redrive_ms)]
        write.answers[index] = result
        if any(answer is None for answer in write.answers):
            return []
        commit = all(type(answer) is Ok for answer in write.answers)
        reasons: tuple[CancellationReason, ...] = ()
        if not commit and all(type(answer) in (Ok, Rejected) for answer in write.answers):
            reasons = tuple(reason_for(answer) for answer in write.answers)
        return self._decide(write, Decided(txn, commit, reasons))

    def _decide(self, write: _Write, decided: Decided) -> list[Effect]:
        write.decided = decided
        self.ledger.record(decided)
        effects: list[Effect] = [Persist(decided)]  # durable before any commit or cancel
        for index in range(len(write.begun.items)):
            effects += self._finish(write, index)
        return effects

    def _finish(self, write: _Write, index: int) -> list[Effect]:
        begun, decided = write.begun, write.decided
        assert decided is not None
        tbl, key = begun.items[index]
        kind = Commit if decided.commit else Cancel
        return self._submit(ToItem(tbl, key, kind(begun.txn, begun.ts, tbl, key)),
                            ("finish", begun.txn, index))

    def _finished(self, txn: str, index: int, result: Any) -> list[Effect]:
        write = self.writes.get(txn)
        if write is None:
            return []
        if type(result) is not Ok:  # a decided transaction always finishes: ask again
            return [SetTimer(f"{TIMER}finish:{txn}:{index}", self.config.redrive_ms)]
        write.finished.add(index)
        if len(write.finished) < len(write.begun.items):
            return []
        completed = Completed(txn, self._clock())
        self.ledger.record(completed)
        del self.writes[txn]
        # The answer need not wait for `Completed` to be durable: lost in a crash, it only
        # makes the restarted TC send the (idempotent) commits or cancels once more.
        effects: list[Effect] = []
        if write.client is not None:
            effects.append(Reply(*write.client, self._outcome(write)))
        return [*effects, Persist(completed), *self._checkpoint()]

    def _checkpoint(self) -> list[Effect]:
        """A checkpoint of the ledger, if enough transactions completed since the last."""
        self.completed_since += 1
        if self.completed_since < max(self.config.checkpoint_every, self.checkpoint_size):
            return []
        checkpoint = self.ledger.checkpoint(self._clock())
        self.ledger.record(checkpoint)  # as a restart reads it back: the clock moves to `at`
        self.completed_since, self.checkpoint_size = 0, checkpoint.size
        return [Persist(checkpoint)]

    def _outcome(self, write: _Write) -> Any:
        decided = write.decided
        assert decided is not None
        if decided.commit:
            return Ok(Committed(tuple(doubled(answer.value.capacity)
                                      for answer in write.answers)))
        if not decided.reasons:
            return Rejected(InternalServerError(UNANSWERED))
        return Rejected(cancelled(decided.reasons))

    def _resume(self) -> list[Effect]:
        """After a restart: finish what the ledger says was begun and not completed."""
        effects: list[Effect] = []
        for begun, decided in self.ledger.unfinished():
            write = _Write(begun, (), None, self.now)
            self.writes[begun.txn] = write
            if decided is None:  # no commit was ever sent: cancelling is safe
                effects += self._decide(write, Decided(begun.txn, False))
            else:
                write.decided = decided
                for index in range(len(begun.items)):
                    effects += self._finish(write, index)
        return effects

    # --- read transactions -----------------------------------------------------------------

    def _on_read(self, request: ClientRequest) -> list[Effect]:
        read_id = next(self._ids)
        read = _Read((request.client, request.request_id), request.operation.gets,
                     self.config.read_rounds)
        self.reads[read_id] = read
        return self._read_round(read_id, read)

    def _read_round(self, read_id: int, read: _Read) -> list[Effect]:
        read.answers = [None] * len(read.gets)
        effects: list[Effect] = []
        for index, get in enumerate(read.gets):
            key = key_of(get)
            assert key is not None
            effects += self._submit(ToItem(get.table.tbl, key, ReadForTransaction(get), read=True),
                                    ("read", read_id, index))
        return effects

    def _read_answered(self, read_id: int, index: int, result: Any) -> list[Effect]:
        read = self.reads.get(read_id)
        if read is None:
            return []
        read.answers[index] = result
        if any(answer is None for answer in read.answers):
            return []
        answers = read.answers
        refused = [a for a in answers if type(a) is Rejected
                   and type(a.error) is not TransactionConflictException]
        if refused:  # definite: a throttle, a bad projection; another round would not help
            return self._read_reply(read_id, Rejected(cancelled(
                tuple(reason_for(a) if type(a) is Rejected else CancellationReason()
                      for a in answers))))
        clean = all(type(a) is Ok for a in answers)
        if clean and read.first is not None and all(
                a.value.version == f.version for a, f in zip(answers, read.first, strict=True)):
            first = read.first
            return self._read_reply(read_id, Ok(ItemsRead(
                tuple(f.item for f in first), tuple(doubled(f.capacity) for f in first))))
        if clean and read.first is None:
            read.first = [a.value for a in answers]
            return self._read_round(read_id, read)
        read.rounds_left -= 1
        if read.rounds_left <= 0:
            return self._read_reply(read_id, self._read_conflict(read))
        # This round's reads begin the next attempt, if none was refused (§3.4: the
        # versions come back either way, so the TC re-drives without starting over);
        # after a refusal, it waits a moment, for the transaction in its way to finish.
        read.first = [a.value for a in answers] if clean else None
        if clean:
            return self._read_round(read_id, read)
        pause = self.rng.uniform(0.5, 1.5) * self.config.redrive_ms
        return [SetTimer(f"{TIMER}read:{read_id}:0", pause)]

    def _read_conflict(self, read: _Read) -> Any:
        if not all(type(a) in (Ok, Rejected) for a in read.answers):
            return Rejected(InternalServerError(UNANSWERED))
        first = read.first or [None] * len(read.answers)
        reasons = []
        for answer, before in zip(read.answers, first, strict=True):
            changed = type(answer) is not Ok or (
                before is not None and answer.value.version != before.version)
            reasons.append(CancellationReason("TransactionConflict", ONGOING)
                           if changed else CancellationReason())
        return Rejected(cancelled(tuple(reasons)))

    def _read_reply(self, read_id: int, result: Any) -> list[Effect]:
        read = self.reads.pop(read_id)
        return [Reply(*read.client, result)]

    # --- the clock -------------------------------------------------------------------------

    def _clock(self) -> int:
        """The TC's clock in µs: never behind a timestamp it gave, even across restarts."""
        return max(int(self.now * 1000), self.ledger.last_ts)

    def _timestamp(self) -> int:
        """A transaction's timestamp: later than every earlier one of this TC (§3.2)."""
        ts = max(int(self.now * 1000), self.ledger.last_ts + 1)
        self.ledger.last_ts = ts
        return ts
