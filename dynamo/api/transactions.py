"""Transactions: TransactWriteItems and TransactGetItems (API Reference; ATC'23).

A transaction is one request that names every item it touches (ATC'23 §2):
up to 100 actions, each on a distinct item, in any tables of the region.
Validation runs in DynamoDB's order, and nothing is written unless all of it
passes:

1. the request's shape (Coral: lengths, enums, required members), then that
   each TransactItem holds exactly one action;
2. what each action shows on its own: its expressions, its item's values;
3. the tables (ResourceNotFoundException), then each key against its table's
   schema: a key that does not fit is not a ValidationException but a
   cancellation (TransactionCanceledException, reason ValidationError), as
   DynamoDB answers it; an empty key value is a ValidationException;
4. one action per item ("Transaction request cannot include multiple
   operations on one item"), and at most 4 MB of items in all.

Then the database runs it: the partitioned fleet's transaction coordinator
(`dynamo.transactions`), or `dynamo serve --nodes 1`'s one node, which plans
every action and commits them all in one B-tree transaction. A condition that
fails, an item held by another transaction, a throttle, an update that makes
an item too large: each cancels the whole transaction, answered as
TransactionCanceledException with one `CancellationReason` per action, in
request order.

Capacity (Developer Guide, "Capacity management for transactions"): every
item costs twice, a prepare and a commit (a write), or two reads. A
ClientRequestToken repeated within 10 minutes changes nothing, and DynamoDB
then reports read units: the lab reports one per action.
"""

from __future__ import annotations

import hashlib
from typing import Any, cast

import orjson

from dynamo.api.items import check_expression_style, checked_key, expressions
from dynamo.api.shapes import (
    ATTRIBUTE_MAP,
    ATTRIBUTE_VALUE,
    CAPACITY,
    EXPRESSION,
    METRICS,
    NAMES,
    ON_CONDITION_FAILURE,
    ListOf,
    MapOf,
    String,
    Structure,
    table_name,
)
from dynamo.cluster import Database, TableHandle, Transactional
from dynamo.paxos.operations import DeleteItem, GetItem, PutItem, UpdateItem
from dynamo.storage.attributes import item_size, validate_item
from dynamo.storage.capacity import ConsumedCapacity
from dynamo.storage.errors import TransactionCanceledException, ValidationException
from dynamo.storage.expressions import compile_expressions
from dynamo.storage.keys import NO_MATCH, EncodedKey, request_key
from dynamo.transactions.operations import (
    MAX_ACTIONS,
    Action,
    CancellationReason,
    ConditionCheck,
    TransactGet,
    TransactWrite,
    action_key,
)

MAX_BYTES = 4 * 1024 * 1024  # the items of one transaction, in all
ONE_ACTION = "TransactItems can only contain one of Check, Put, Update or Delete"
ONE_ITEM = "Transaction request cannot include multiple operations on one item"
# DynamoDB's wording for the 4 MB limit was not captured; this says what it is.
TOO_LARGE = "Transaction request cannot include items larger than 4 MB in all"
# A key that does not fit its table's schema cancels the transaction (reason
# ValidationError) rather than failing the request: these are those messages' starts.
_CANCELLING_KEY_ERRORS = (NO_MATCH, "One or more parameter values were invalid: Type mismatch",
                          "One or more parameter values were invalid: Missing the key")

_KEY = MapOf(ATTRIBUTE_VALUE, required=True)
_ACTION_MEMBERS = {"TableName": table_name(), "ExpressionAttributeNames": NAMES,
                   "ExpressionAttributeValues": ATTRIBUTE_MAP,
                   "ReturnValuesOnConditionCheckFailure": ON_CONDITION_FAILURE}
TRANSACT_WRITE_ITEMS = Structure({
    "ClientRequestToken": String(min_len=1, max_len=36),
    "ReturnConsumedCapacity": CAPACITY,
    "ReturnItemCollectionMetrics": METRICS,
    "TransactItems": ListOf(Structure({
        "ConditionCheck": Structure({"Key": _KEY, "ConditionExpression": String(required=True),
                                     **_ACTION_MEMBERS}),
        "Delete": Structure({"Key": _KEY, "ConditionExpression": EXPRESSION, **_ACTION_MEMBERS}),
        "Put": Structure({"Item": _KEY, "ConditionExpression": EXPRESSION, **_ACTION_MEMBERS}),
        "Update": Structure({"Key": _KEY, "UpdateExpression": String(required=True),
                             "ConditionExpression": EXPRESSION, **_ACTION_MEMBERS}),
    }), required=True, min_len=1, max_len=MAX_ACTIONS),
})
TRANSACT_GET_ITEMS = Structure({
    "ReturnConsumedCapacity": CAPACITY,
    "TransactItems": ListOf(Structure({
        "Get": Structure({"Key": _KEY, "TableName": table_name(),
                          "ProjectionExpression": EXPRESSION,
                          "ExpressionAttributeNames": NAMES}, required=True),
    }), required=True, min_len=1, max_len=MAX_ACTIONS),
})
# The operation whose expression rules each action follows.
_RULES = {"ConditionCheck": "DeleteItem", "Delete": "DeleteItem", "Put": "PutItem",
          "Update": "UpdateItem"}


async def transact_write_items(node: Database, region: str,
                               params: dict[str, Any]) -> dict[str, Any]:
    """TransactWriteItems: up to 100 writes and checks, all of which happen or none."""
    actions = [_one_action(entry) for entry in params["TransactItems"]]
    compiled = [_checked(kind, body) for kind, body in actions]
    tables = [node.table(region, body["TableName"]) for _, body in actions]
    requests = [_request(kind, body, table, compiled_, node)
                for (kind, body), table, compiled_ in zip(actions, tables, compiled, strict=True)]
    _check_items(requests, action_key)
    if sum(_size(body) for _, body in actions) > MAX_BYTES:
        raise ValidationException(TOO_LARGE)
    token = params.get("ClientRequestToken")
    committed = await _coordinator(node).transact(
        TransactWrite(tuple(requests), token, _fingerprint(params)))
    answer: dict[str, Any] = {}
    if committed.repeated:  # nothing happened now: DynamoDB reports reading the items
        capacities = [ConsumedCapacity(r.table.name, read=1.0) for r in requests]
    else:
        capacities = list(committed.capacities)
    _add_capacity(answer, capacities, params)
    if params.get("ReturnItemCollectionMetrics") == "SIZE":
        answer["ItemCollectionMetrics"] = {}
    return answer


async def transact_get_items(node: Database, region: str,
                             params: dict[str, Any]) -> dict[str, Any]:
    """TransactGetItems: up to 100 items, read as one serializable snapshot."""
    gets = [entry["Get"] for entry in params["TransactItems"]]
    projections = []
    for get in gets:
        check_expression_style("GetItem", get)
        get["Key"] = checked_key(get["Key"])
        projections.append(expressions("GetItem", get).projection)
    tables = [node.table(region, get["TableName"]) for get in gets]
    requests = [GetItem(table.definition, get["Key"], True, projection)
                for get, table, projection in zip(gets, tables, projections, strict=True)]
    _check_items(requests, lambda get: request_key(get.table.key_schema, get.key))
    read = await _coordinator(node).transact(TransactGet(tuple(requests)))
    answer: dict[str, Any] = {"Responses": [{} if item is None else {"Item": item}
                                            for item in read.items]}
    _add_capacity(answer, list(read.capacities), params)
    return answer


# --- the checks, in DynamoDB's order ---------------------------------------------------------

def _one_action(entry: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A TransactItem's one action: (its kind, its members)."""
    present = [kind for kind in _RULES if entry.get(kind) is not None]
    if len(present) != 1:
        raise ValidationException(ONE_ACTION)
    return present[0], entry[present[0]]


def _checked(kind: str, body: dict[str, Any]) -> Any:
    """What an action shows on its own: its expressions compiled, its item's values."""
    operation = _RULES[kind]
    check_expression_style(operation, body)
    if kind == "Put":
        body["Item"] = validate_item(body["Item"])
    else:
        body["Key"] = checked_key(body["Key"])
    return compile_expressions(operation, body)


def _request(kind: str, body: dict[str, Any], table: TableHandle, compiled: Any,
             node: Database) -> Action:
    definition = table.definition
    compiled = compiled.for_schema(table.schema)
    on_failure = body.get("ReturnValuesOnConditionCheckFailure") or "NONE"
    limit = node.item_collection_limit
    if kind == "Put":
        return PutItem(definition, body["Item"], compiled, on_failure=on_failure,
                       collection_limit=limit)
    if kind == "Update":
        return UpdateItem(definition, body["Key"], compiled, on_failure=on_failure,
                          collection_limit=limit)
    if kind == "Delete":
        return DeleteItem(definition, body["Key"], compiled, on_failure=on_failure,
                          collection_limit=limit)
    return ConditionCheck(definition, body["Key"], compiled, on_failure)


def _check_items(requests: list[Any], key_of: Any) -> None:
    """Each request's key against its schema (a misfit cancels), then one per item."""
    keys: list[tuple[str, EncodedKey] | None] = []
    reasons = []
    for request in requests:
        try:
            keys.append((request.table.tbl, key_of(request)))
            reasons.append(CancellationReason())
        except ValidationException as error:
            if not error.message.startswith(_CANCELLING_KEY_ERRORS):
                raise
            keys.append(None)
            reasons.append(CancellationReason("ValidationError", error.message))
    if None in keys:
        raise TransactionCanceledException.for_reasons([r.to_wire() for r in reasons])
    if len(set(keys)) != len(keys):
        raise ValidationException(ONE_ITEM)


def _size(body: dict[str, Any]) -> int:
    """What an action adds to the transaction's 4 MB: its item, or its key."""
    return item_size(body["Item"] if "Item" in body else body["Key"])


def _coordinator(node: Database) -> Transactional:
    """The database, as what runs transactions: every database of `dynamo.cluster` does."""
    return cast(Transactional, node)


def _fingerprint(params: dict[str, Any]) -> str:
    """What the request asks to change: what the same token must come with again (what
    it asks to be told, such as ReturnConsumedCapacity, may differ)."""
    return hashlib.blake2b(orjson.dumps(params["TransactItems"], option=orjson.OPT_SORT_KEYS),
                           digest_size=16).hexdigest()


def _add_capacity(answer: dict[str, Any], capacities: list[ConsumedCapacity],
                  params: dict[str, Any]) -> None:
    """ConsumedCapacity, one entry per table, when the request asked for it."""
    mode = params.get("ReturnConsumedCapacity")
    if mode is None or mode == "NONE":
        return
    by_table: dict[str, ConsumedCapacity] = {}
    for capacity in capacities:
        by_table.setdefault(capacity.table, ConsumedCapacity(capacity.table)).add(capacity)
    answer["ConsumedCapacity"] = [c.to_wire(mode) for c in by_table.values()]


OPERATIONS = {
    "TransactWriteItems": (TRANSACT_WRITE_ITEMS, transact_write_items),
    "TransactGetItems": (TRANSACT_GET_ITEMS, transact_get_items),
}
