"""What a client asks of one partition's replication group, and what it is told.

A replication group stores DynamoDB items (§3): the requests below are the
item operations of the data plane, already validated and compiled by the API
(`dynamo.storage.expressions`), addressed to one table of the group. Writes
(`PutItem`, `UpdateItem`, `DeleteItem`, `DropItems`) go through the leader
and the log; a read is strongly consistent (served by the leader under its
lease) or eventually consistent (any replica, from what it has applied)
[DG: HowItWorks.ReadConsistency].

A write names the item collection limit it is planned under (`collection_limit`,
DynamoDB's 10 GB unless the server was started with another, for tests). A
Query or Scan of a *local* secondary index names it among its `arguments`: it
is read in the table's own partitions. One of a *global* index names it as
`index`: the cluster sends it to the index's partitions instead.

The teaching shorthand `Put`, `Get`, `ConditionalPut` and `Delete` are the
same requests on a one-attribute item (`{"k": key, "v": value}` in the
group's built-in table `KV_TABLE`), with string answers: the simulator's
history checker and the unit tests speak in them, and they run through
exactly the same planning, log and B-tree as a PutItem from boto3.

Results are definite or indefinite as in DynamoDB: `Ok`, `Rejected` and
`ConditionFailed` say what happened (a `Rejected` write surely did not
happen: its condition was false, or it was invalid); `NotLeader` and
`Unavailable` say the operation was *not* carried out (so a client may retry
it elsewhere). An operation that gets no answer at all may or may not have
happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dynamo.contract import NodeId
from dynamo.storage.attributes import Item
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.errors import ConditionalCheckFailedException, DynamoError
from dynamo.storage.expressions import CompiledRequest
from dynamo.storage.indexes import ITEM_COLLECTION_LIMIT
from dynamo.storage.keys import KeyAttribute, KeySchema

# --- DynamoDB's item operations, as the leader plans them -------------------------


@dataclass(frozen=True)
class PutItem:
    """Create or replace a whole item, optionally under a condition."""

    table: TableDefinition
    item: Item
    compiled: CompiledRequest | None = None
    return_values: str = "NONE"
    on_failure: str = "NONE"
    collection_limit: int = ITEM_COLLECTION_LIMIT


@dataclass(frozen=True)
class UpdateItem:
    """Edit an item in place (an update expression), optionally under a condition."""

    table: TableDefinition
    key: Item
    compiled: CompiledRequest | None = None
    return_values: str = "NONE"
    on_failure: str = "NONE"
    collection_limit: int = ITEM_COLLECTION_LIMIT


@dataclass(frozen=True)
class DeleteItem:
    """Remove an item by its key, optionally under a condition.

    `service` names the AWS service that deletes on its own behalf, not a customer's
    request: Time to Live's sweeper (`dynamo.cluster.ttl`) sets "dynamodb.amazonaws.com".
    It travels into the log record (`WriteRecord.service`), where a stream can show it.
    """

    table: TableDefinition
    key: Item
    compiled: CompiledRequest | None = None
    return_values: str = "NONE"
    on_failure: str = "NONE"
    service: str | None = None
    collection_limit: int = ITEM_COLLECTION_LIMIT


@dataclass(frozen=True)
class DropItems:
    """Delete every item of a table (DeleteTable), in log order with the writes around it."""

    tbl: str


@dataclass(frozen=True)
class GetItem:
    """Read one item by its full key; `consistent=False` may be served by any replica."""

    table: TableDefinition
    key: Item
    consistent: bool = False
    projection: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class Query:
    """Read one item collection, a sort-key range of it (`dynamo.storage.Table.query`).

    `index` names a global secondary index to read instead of the table.
    """

    table: TableDefinition
    arguments: tuple[tuple[str, Any], ...]
    consistent: bool = False
    index: str | None = None


@dataclass(frozen=True)
class Scan:
    """Read every item of one scan segment (`dynamo.storage.Table.scan`).

    `index` names a global secondary index to read instead of the table.
    """

    table: TableDefinition
    arguments: tuple[tuple[str, Any], ...]
    consistent: bool = False
    index: str | None = None


WRITES = (PutItem, UpdateItem, DeleteItem, DropItems)
READS = (GetItem, Query, Scan)

# --- the teaching shorthand: one-attribute items with string values -----------------

KV_TABLE = TableDefinition(
    region="lab", name="kv", key_schema=KeySchema(KeyAttribute("k", "S")),
    attribute_definitions=[{"AttributeName": "k", "AttributeType": "S"}],
    created_at=0.0, table_id="kv")
"""The group's built-in table: what the shorthand operations read and write."""


@dataclass(frozen=True)
class Put:
    """Write `value` under `key` (PutItem of `{"k": key, "v": value}`)."""

    key: str
    value: str


@dataclass(frozen=True)
class Get:
    """Read `key` (GetItem); `consistent=False` may be served by any replica."""

    key: str
    consistent: bool = True


@dataclass(frozen=True)
class ConditionalPut:
    """Write `value` only if the current value is `expected`.

    `expected=None` is DynamoDB's `attribute_not_exists(k)`.
    """

    key: str
    value: str
    expected: str | None


@dataclass(frozen=True)
class Delete:
    """Remove `key` (DeleteItem); deleting a missing item succeeds."""

    key: str


@dataclass(frozen=True)
class Add:
    """Add `amount` to the number under `key` (UpdateItem `ADD v :amount`); answers the sum.

    A missing item counts as 0, as DynamoDB's ADD does; an increment is not
    idempotent, which is what makes it a good test of "applied exactly once".
    """

    key: str
    amount: int


@dataclass(frozen=True)
class QueryKey:
    """Read `key` with a strongly consistent Query (`k = :key`) instead of a GetItem."""

    key: str


SHORTHAND = (Put, Get, ConditionalPut, Delete, Add, QueryKey)

# --- results ----------------------------------------------------------------------


@dataclass(frozen=True)
class Ok:
    """The operation happened; `value` is what it returned.

    For the shorthand: the value read (None = no such item). For an item
    operation: the `WritePlan` of a write, or the read's answer.
    """

    value: Any = None


@dataclass(frozen=True)
class Rejected:
    """A definite DynamoDB error: the write was refused and changed nothing."""

    error: DynamoError


@dataclass(frozen=True)
class ConditionFailed:
    """A ConditionalPut's condition was false (ConditionalCheckFailedException)."""

    current: str | None


@dataclass(frozen=True)
class NotLeader:
    """This replica does not lead the group; try `leader_hint` (None = unknown)."""

    leader_hint: NodeId | None


@dataclass(frozen=True)
class Unavailable:
    """The leader cannot serve yet (recovering, no lease, membership change)."""

    reason: str


Result = Ok | Rejected | ConditionFailed | NotLeader | Unavailable


def from_shorthand(op: Any) -> Any:
    """The item operation a shorthand operation stands for."""
    kind = type(op)
    key = {"k": {"S": op.key}}
    if kind is Put:
        return PutItem(KV_TABLE, _kv_item(op.key, op.value))
    if kind is Get:
        return GetItem(KV_TABLE, key, op.consistent)
    if kind is Delete:
        return DeleteItem(KV_TABLE, key)
    if kind is Add:
        update = _compiled("UpdateItem", "UpdateExpression", "ADD v :amount",
                           {":amount": {"N": str(op.amount)}})
        return UpdateItem(KV_TABLE, key, update, return_values="UPDATED_NEW")
    if kind is QueryKey:
        query = _compiled("Query", "KeyConditionExpression", "k = :key", {":key": key["k"]})
        return Query(KV_TABLE, (("key_range", query.for_schema(KV_TABLE.key_schema).key_range),),
                     consistent=True)
    if op.expected is None:
        condition = _compiled("PutItem", "ConditionExpression", "attribute_not_exists(k)", {})
    else:
        condition = _compiled("PutItem", "ConditionExpression", "v = :expected",
                              {":expected": {"S": op.expected}})
    return PutItem(KV_TABLE, _kv_item(op.key, op.value), condition, on_failure="ALL_OLD")


def item_operation(op: Any) -> Any:
    """The item operation a request stands for: itself, or a shorthand's item operation."""
    return from_shorthand(op) if type(op) in SHORTHAND else op


def to_shorthand(op: Any, result: Any) -> Any:
    """A group's answer to the item operation behind `op`, as the shorthand's answer."""
    if type(result) is Ok:
        kind, value = type(op), result.value
        if kind is Get:  # GetItem answers (item, capacity)
            return Ok(_kv_value(value[0]))
        if kind is QueryKey:  # a Query answers a page
            return Ok(_kv_value(value.items[0]) if value.items else None)
        if kind is Add:  # UPDATED_NEW
            return Ok(_kv_value(value.attributes))
        return Ok()
    if type(result) is Rejected and isinstance(result.error, ConditionalCheckFailedException):
        return ConditionFailed(_kv_value(result.error.item))
    return result


def _compiled(operation: str, member: str, expression: str,
              values: dict[str, Any]) -> CompiledRequest:
    from dynamo.storage.expressions import compile_expressions

    params: dict[str, Any] = {member: expression}
    if values:
        params["ExpressionAttributeValues"] = values
    return compile_expressions(operation, params)


def _kv_item(key: str, value: str) -> Item:
    return {"k": {"S": key}, "v": {"S": value}}


def _kv_value(item: Item | None) -> str | None:
    """The value of `v`, a string or a number's digits (None: no item)."""
    if item is None or "v" not in item:
        return None
    return next(iter(item["v"].values()))
