"""What a client asks of a transaction coordinator, and what the coordinator asks of a partition.

DynamoDB's transactions are one-shot requests (ATC'23 §2): a client sends the
whole transaction in one call, and a request router forwards it to a
transaction coordinator (TC), which splits it into item-level operations and
runs them against the partitions' leaders (§3.1). So there are two
vocabularies here:

* **Client to TC.** `TransactWrite` (TransactWriteItems: up to 100 `Put`,
  `Update`, `Delete` and `ConditionCheck` actions on distinct items) and
  `TransactGet` (TransactGetItems: up to 100 `GetItem`s), already validated and
  compiled by the API. The answer is `Ok(Committed)` / `Ok(ItemsRead)`, or a
  definite refusal, `Rejected(TransactionCanceledException)` with one
  `CancellationReason` per action, in request order.
* **TC to partition leader** (§3.3, §3.4). `Prepare` asks the leader to accept
  one item's part of a transaction at the transaction's timestamp; `Commit` and
  `Cancel` finish it; `ReadForTransaction` reads one item for a TransactGet,
  with the version that tells the TC whether it changed between two reads.
  They are routed like item operations, by table and key
  (`dynamo.partitioning.router.ToItem`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dynamo.paxos.operations import DeleteItem, GetItem, Ok, PutItem, UpdateItem
from dynamo.storage.attributes import Item
from dynamo.storage.capacity import ConsumedCapacity
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.errors import (
    ConditionalCheckFailedException,
    DynamoError,
    ItemCollectionSizeLimitExceededException,
    ProvisionedThroughputExceededException,
    ThrottlingException,
    TransactionCanceledException,
    TransactionConflictException,
    ValidationException,
)
from dynamo.storage.expressions import CompiledRequest
from dynamo.storage.keys import EncodedKey, item_key, request_key

MAX_ACTIONS = 100  # actions in one TransactWriteItems, gets in one TransactGetItems
TOKEN_MS = 10 * 60 * 1000.0  # a ClientRequestToken is remembered 10 minutes after it completes
# A cancellation reason's code for each refusal an action may meet (API Reference,
# TransactionCanceledException).
REASON_CODES: dict[type[DynamoError], str] = {
    ConditionalCheckFailedException: "ConditionalCheckFailed",
    TransactionConflictException: "TransactionConflict",
    ProvisionedThroughputExceededException: "ProvisionedThroughputExceeded",
    ThrottlingException: "ThrottlingError",
    ItemCollectionSizeLimitExceededException: "ItemCollectionSizeLimitExceeded",
    ValidationException: "ValidationError",
}

# --- client to coordinator --------------------------------------------------------------


@dataclass(frozen=True)
class ConditionCheck:
    """A condition on an item the transaction does not change (TransactWriteItems)."""

    table: TableDefinition
    key: Item
    compiled: CompiledRequest
    on_failure: str = "NONE"


Action = PutItem | UpdateItem | DeleteItem | ConditionCheck


@dataclass(frozen=True)
class TransactWrite:
    """TransactWriteItems: every action happens, or none does.

    `token` is the ClientRequestToken (None: not idempotent), `fingerprint` a
    digest of everything else in the request: the same token with another
    fingerprint is IdempotentParameterMismatchException.
    """

    actions: tuple[Action, ...]
    token: str | None = None
    fingerprint: str = ""


@dataclass(frozen=True)
class TransactGet:
    """TransactGetItems: a serializable snapshot of up to 100 items."""

    gets: tuple[GetItem, ...]


# --- coordinator to participant (a partition's leader) --------------------------------


@dataclass(frozen=True)
class Prepare:
    """Accept one item's part of transaction `txn` at timestamp `ts`, or refuse it (§3.3)."""

    txn: str
    ts: int
    action: Action


@dataclass(frozen=True)
class Commit:
    """Apply what `txn` prepared on the item, and release it."""

    txn: str
    ts: int
    tbl: str
    key: EncodedKey


@dataclass(frozen=True)
class Cancel:
    """Release the item from `txn` without applying anything."""

    txn: str
    ts: int
    tbl: str
    key: EncodedKey


@dataclass(frozen=True)
class ReadForTransaction:
    """Read one item of a TransactGet, refused while a prepared transaction holds it (§3.4)."""

    get: GetItem


# --- answers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """The participant accepted the prepare: the item is held until Commit or Cancel."""

    capacity: ConsumedCapacity


@dataclass(frozen=True)
class Finished:
    """A Commit or Cancel is applied (or was, before: both may be sent again)."""


@dataclass(frozen=True)
class ItemRead:
    """One item as a TransactGet's round read it, and its version.

    `version` is (partition, log slot of the item's last write): two reads of
    an item with equal versions saw no write in between (§3.4's LSN).
    """

    item: Item | None
    capacity: ConsumedCapacity
    version: tuple[str, int]


@dataclass(frozen=True)
class CancellationReason:
    """Why one action of a cancelled transaction failed ("None": it did not)."""

    code: str = "None"
    message: str | None = None
    item: Item | None = None

    def to_wire(self) -> dict[str, object]:
        wire: dict[str, object] = {"Code": self.code}
        if self.message is not None:
            wire["Message"] = self.message
        if self.item is not None:
            wire["Item"] = self.item
        return wire


@dataclass(frozen=True)
class Committed:
    """A TransactWrite committed: what each action cost (prepare and commit: twice).

    `repeated`: this request's ClientRequestToken had committed it already, and
    nothing changed now (DynamoDB then reports read units, not writes).
    """

    capacities: tuple[ConsumedCapacity, ...]
    repeated: bool = False


@dataclass(frozen=True)
class ItemsRead:
    """A TransactGet's items, in request order, and what each read cost (twice)."""

    items: tuple[Item | None, ...]
    capacities: tuple[ConsumedCapacity, ...]


def action_key(action: Action) -> EncodedKey:
    """The key of the item an action touches (ValidationException if it fits no schema)."""
    schema = action.table.key_schema
    if type(action) is PutItem:
        return item_key(schema, action.item)
    return request_key(schema, action.key)


def reason_for(answer: Any) -> CancellationReason:
    """One action's cancellation reason, from its answer (`Ok`: "None"; `Rejected`: its
    error's code, and the item when a condition failed with ALL_OLD)."""
    if type(answer) is Ok:
        return CancellationReason()
    error = answer.error
    code = REASON_CODES.get(type(error), error.type_name())
    item = error.item if type(error) is ConditionalCheckFailedException else None
    return CancellationReason(code, error.message, item)


def cancelled(reasons: tuple[CancellationReason, ...]) -> TransactionCanceledException:
    """The client's answer to a cancelled transaction: one reason per action, in order."""
    return TransactionCanceledException.for_reasons([r.to_wire() for r in reasons])


def doubled(capacity: ConsumedCapacity) -> ConsumedCapacity:
    """A transactional read or write costs twice the plain one: prepare and commit (or two
    reads) for every item [DG: transaction-apis, "Capacity management for transactions"]."""
    return ConsumedCapacity(capacity.table, read=capacity.read * 2, write=capacity.write * 2)
