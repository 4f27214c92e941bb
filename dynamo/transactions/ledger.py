"""The transaction ledger: what a coordinator makes durable before it acts (ATC'23 §3.5).

A coordinator may crash between a transaction's prepares and its commits,
leaving items held. So before it sends the first prepare it records the
transaction and its items (`Begun`), and before it sends the first commit or
cancel it records the decision (`Decided`); once every item is finished it
records that too (`Completed`). A coordinator that restarts reads its ledger
back and finishes every transaction left unfinished: it commits one decided
to commit, and cancels every other (no decision means no commit was ever
sent, so cancelling is always safe).

In DynamoDB the ledger is a DynamoDB table keyed by transaction id, so any
coordinator of the fleet can take over a stalled transaction: recovery
managers scan the ledger for transactions that made no progress for a while
and hand each to a new coordinator (§3.5). Here each coordinator keeps its
own ledger, as records it persists through the node contract (`Persist`),
and resumes its own transactions when it restarts: the same protocol, with
the coordinator's disk standing in for the shared table.

The ledger also remembers ClientRequestTokens (TransactWriteItems'
idempotency): a token names its transaction, and for 10 minutes after the
transaction completes a request with the same token and parameters gets the
same answer without running again.

A ledger of records only grows, while what a restart needs from it does not:
the transactions not yet completed, and the tokens still inside their 10
minutes. So now and then the coordinator persists a `Checkpoint` holding
exactly that (ATC'23 §5 counts "ledger writes and checkpointing" in a
transaction's cost). Read back, a checkpoint replaces everything before it,
so a ledger rebuilt from a checkpoint and the records after it is the ledger
rebuilt from all of them, and its driver may drop the older records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dynamo.paxos.operations import Ok, Rejected
from dynamo.storage.errors import (
    IdempotentParameterMismatchException,
    TransactionInProgressException,
)
from dynamo.storage.keys import EncodedKey
from dynamo.transactions.operations import TOKEN_MS, CancellationReason, Committed, cancelled

ItemRef = tuple[str, EncodedKey]
MISMATCH = ("DynamoDB rejected the request because you retried a request with a different "
            "payload but with an idempotent token that was already used.")
IN_PROGRESS = "The transaction with the given request token is already in progress."
SWEEP_EVERY = 100  # completed transactions, at the fewest, between two sweeps of old tokens


# --8<-- [start:records]
@dataclass(frozen=True)
class Begun:
    """A transaction and its items, made durable before any prepare is sent."""

    txn: str
    ts: int
    items: tuple[ItemRef, ...]
    token: str | None = None
    fingerprint: str = ""


@dataclass(frozen=True)
class Decided:
    """The outcome, made durable before any commit or cancel is sent.

    A cancellation carries its reasons for the client; none when the client
    got no definite answer (a participant never answered, or the coordinator
    crashed first), and then its token is not kept: a retry runs afresh.
    """

    txn: str
    commit: bool
    reasons: tuple[CancellationReason, ...] = ()


@dataclass(frozen=True)
class Completed:
    """Every item is committed or cancelled; `at` is the coordinator's clock (µs)."""

    txn: str
    at: int
# --8<-- [end:records]


@dataclass(frozen=True)
class Remembered:
    """A token whose transaction completed with a definite answer (kept 10 minutes)."""

    token: str
    txn: str
    fingerprint: str
    outcome: Decided
    completed_at: int


@dataclass(frozen=True)
class Checkpoint:
    """What a restart needs from every record before this one, which it makes redundant.

    `at` is the coordinator's clock (µs), so timestamps after a restart are later still.
    """

    at: int
    unfinished: tuple[tuple[Begun, Decided | None], ...]
    tokens: tuple[Remembered, ...]

    @property
    def size(self) -> int:
        return len(self.unfinished) + len(self.tokens)


@dataclass
class TokenUse:
    """What a ClientRequestToken stands for: its request, and its outcome once decided."""

    fingerprint: str
    txn: str
    outcome: Decided | None = None
    completed_at: int | None = None


class Ledger:
    """A coordinator's ledger, as rebuilt from its records (oldest first)."""

    def __init__(self, records: Iterable[Any] = (), token_ms: float = TOKEN_MS) -> None:
        self.token_us = int(token_ms * 1000)
        self.begun: dict[str, Begun] = {}
        self.decided: dict[str, Decided] = {}
        self.tokens: dict[str, TokenUse] = {}
        self.last_ts = 0
        self.completed_since_sweep = 0
        self.next_sweep = SWEEP_EVERY  # completions until the next sweep of old tokens
        for record in records:
            self.record(record)

    def record(self, record: Any) -> None:
        """Take one record into the ledger's view (as it is persisted, or replayed)."""
        kind = type(record)
        if kind is Begun:
            self.begun[record.txn] = record
            self.last_ts = max(self.last_ts, record.ts)
            if record.token is not None:
                self.tokens[record.token] = TokenUse(record.fingerprint, record.txn)
        elif kind is Decided:
            self.decided[record.txn] = record
        elif kind is Completed:
            self._complete(record)
            self._sweep(record.at)
        elif kind is Checkpoint:
            self._restore(record)

    def _complete(self, record: Completed) -> None:
        begun = self.begun.pop(record.txn, None)
        decided = self.decided.pop(record.txn, None)
        self.last_ts = max(self.last_ts, record.at)
        if begun is None or begun.token is None:
            return
        if decided is None or not (decided.commit or decided.reasons):
            self.tokens.pop(begun.token, None)  # no definite answer was given: forget it
            return
        use = self.tokens.get(begun.token)
        if use is not None and use.txn == record.txn:
            use.outcome, use.completed_at = decided, record.at

    def _restore(self, checkpoint: Checkpoint) -> None:
        """Start over from a checkpoint: what came before it is all in it."""
        self.begun, self.decided, self.tokens = {}, {}, {}
        self.last_ts = checkpoint.at
        for begun, decided in checkpoint.unfinished:
            self.record(begun)
            if decided is not None:
                self.record(decided)
        for kept in checkpoint.tokens:
            self.tokens[kept.token] = TokenUse(kept.fingerprint, kept.txn, kept.outcome,
                                               kept.completed_at)

    def checkpoint(self, now_us: int) -> Checkpoint:
        """This ledger as one record: its unfinished transactions (their tokens come back
        with their `Begun`) and the answered tokens not yet forgotten at `now_us`."""
        self.forget_expired(now_us)
        kept = tuple(Remembered(token, use.txn, use.fingerprint, use.outcome, use.completed_at)
                     for token, use in self.tokens.items()
                     if use.outcome is not None and use.completed_at is not None)
        return Checkpoint(max(now_us, self.last_ts), tuple(self.unfinished()), kept)

    def forget_expired(self, now_us: int) -> None:
        """Forget every token whose transaction completed more than 10 minutes ago."""
        for token in list(self.tokens):
            self.token(token, now_us)

    def _sweep(self, now_us: int) -> None:
        """Forget expired tokens once as many transactions have completed as tokens were
        kept at the last sweep: about one look per token, however long the ledger runs
        between checkpoints (the single node never checkpoints, and boto3 gives every
        transaction a token)."""
        self.completed_since_sweep += 1
        if self.completed_since_sweep >= self.next_sweep:
            self.forget_expired(now_us)
            self.completed_since_sweep = 0
            self.next_sweep = max(SWEEP_EVERY, len(self.tokens))

    def token(self, token: str, now_us: int) -> TokenUse | None:
        """The token's use, unless it completed more than 10 minutes ago (then forgotten)."""
        use = self.tokens.get(token)
        if use is not None and use.completed_at is not None \
                and now_us - use.completed_at > self.token_us:
            del self.tokens[token]
            return None
        return use

    def unfinished(self) -> list[tuple[Begun, Decided | None]]:
        """Every transaction begun and not completed, with its decision if it has one."""
        return [(b, self.decided.get(txn)) for txn, b in self.begun.items()]


def repeated(use: TokenUse | None, fingerprint: str) -> Ok | Rejected | None:
    """The answer to a request whose token has `use`, or None to run it afresh.

    The same parameters get the first answer again (a commit is not repeated:
    `Committed(repeated=True)`); other parameters are
    IdempotentParameterMismatchException; a transaction still running,
    TransactionInProgressException.
    """
    if use is None:
        return None
    if use.fingerprint != fingerprint:
        return Rejected(IdempotentParameterMismatchException(MISMATCH))
    if use.outcome is None:
        return Rejected(TransactionInProgressException(IN_PROGRESS))
    if use.outcome.commit:
        return Ok(Committed((), repeated=True))
    return Rejected(cancelled(use.outcome.reasons))
