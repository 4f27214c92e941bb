"""Single-item operations: PutItem, GetItem, UpdateItem, DeleteItem.

Each is the same three steps (API Reference, "PutItem" to "DeleteItem"; paper §3 for why a write goes
through the partition's leader):

1. check what the request alone shows: its attribute values, ReturnValues,
   the item's size and its expressions (`dynamo.storage.expressions`).
   DynamoDB does this before it looks the table up, so a malformed request
   for a missing table is a ValidationException, not ResourceNotFoundException,
2. find the ACTIVE table (else ResourceNotFoundException) and check the
   request against its key schema,
3. hand the node a typed request (`dynamo.paxos.operations`): the partition's
   leader plans the write (the condition is evaluated and the new item
   computed), replicates it, and the answer goes out only once a quorum's
   write-ahead logs hold it (§3, §5.1).

A failed condition raises ConditionalCheckFailedException from step 3, with
the stored item when `ReturnValuesOnConditionCheckFailure=ALL_OLD`, and
nothing is written. The answer carries `Attributes` (what `ReturnValues`
asked for), `ConsumedCapacity` when asked for, and, for a table with local
secondary indexes, `ItemCollectionMetrics` when `ReturnItemCollectionMetrics`
is SIZE: the item's partition key and an estimate of its collection's size.
"""

from __future__ import annotations

import math
from typing import Any

from dynamo.api import shapes
from dynamo.cluster import Database
from dynamo.paxos.operations import DeleteItem, GetItem, PutItem, UpdateItem
from dynamo.storage.attributes import Item, validate_item, validate_value
from dynamo.storage.capacity import ConsumedCapacity
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.expressions import CompiledRequest, check_style, compile_expressions
from dynamo.storage.expressions.compile import PARAMETERS
from dynamo.storage.table import WritePlan, check_put_delete_return_values


async def put_item(node: Database, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """PutItem: create or replace a whole item, optionally under a condition."""
    check_expression_style("PutItem", params)
    item = validate_item(params["Item"])
    check_put_delete_return_values(return_values(params))
    compiled = expressions("PutItem", params)
    table = node.table(region, params["TableName"])
    compiled = compiled.for_schema(table.schema)
    plan = await node.write(PutItem(table.definition, item, compiled, return_values(params),
                                    on_failure(params), node.item_collection_limit))
    return write_answer(plan, params, table.definition, item)


async def get_item(node: Database, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """GetItem: one item by its full primary key."""
    check_expression_style("GetItem", params)
    key = checked_key(params["Key"])
    compiled = expressions("GetItem", params)
    table = node.table(region, params["TableName"])
    item, capacity = await node.read(GetItem(table.definition, key,
                                             bool(params.get("ConsistentRead")),
                                             compiled.projection))
    answer: dict[str, Any] = {} if item is None else {"Item": item}
    add_capacity(answer, capacity, params)
    return answer


async def update_item(node: Database, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """UpdateItem: change some attributes of an item (creating it if absent)."""
    check_expression_style("UpdateItem", params)
    key = checked_key(params["Key"])
    compiled = expressions("UpdateItem", params)
    table = node.table(region, params["TableName"])
    compiled = compiled.for_schema(table.schema)
    plan = await node.write(UpdateItem(table.definition, key, compiled, return_values(params),
                                       on_failure(params), node.item_collection_limit))
    return write_answer(plan, params, table.definition, key)


async def delete_item(node: Database, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """DeleteItem: remove an item by its key, optionally under a condition."""
    check_expression_style("DeleteItem", params)
    key = checked_key(params["Key"])
    check_put_delete_return_values(return_values(params))
    compiled = expressions("DeleteItem", params)
    table = node.table(region, params["TableName"])
    compiled = compiled.for_schema(table.schema)
    plan = await node.write(DeleteItem(table.definition, key, compiled, return_values(params),
                                       on_failure(params),
                                       collection_limit=node.item_collection_limit))
    return write_answer(plan, params, table.definition, key)


# -- helpers -----------------------------------------------------------------------------------

# Every member that holds an expression, a legacy condition or their placeholders.
_EXPRESSION_MEMBERS = {
    operation: frozenset((*expression, *legacy,
                          "ExpressionAttributeNames", "ExpressionAttributeValues"))
    for operation, (expression, legacy) in PARAMETERS.items()
}
NO_EXPRESSIONS = CompiledRequest()  # what a request without any of them compiles to


def has_expressions(operation: str, params: dict[str, Any]) -> bool:
    """Whether the request carries any expression or legacy condition (JSON nulls do not count).

    Most item requests carry none, and then there is nothing to check or compile:
    skipping both saves a tenth of a GetItem's CPU (docs/performance.md).
    """
    present = _EXPRESSION_MEMBERS[operation].intersection(params)  # usually empty
    return any(params[name] is not None for name in present)


def check_expression_style(operation: str, params: dict[str, Any]) -> None:
    """`check_style`: expressions or legacy parameters, never both (checked first)."""
    if has_expressions(operation, params):
        check_style(operation, params)


def expressions(operation: str, params: dict[str, Any]) -> CompiledRequest:
    """`compile_expressions`, or NO_EXPRESSIONS when there are none to compile."""
    if not has_expressions(operation, params):
        return NO_EXPRESSIONS
    return compile_expressions(operation, params)


def checked_key(key: dict[str, Any]) -> Item:
    """A request's Key with each value checked like any attribute value.

    Whether it matches the table's key schema is the table's check, once the
    table is found.
    """
    return {name: validate_value(value) for name, value in key.items()}


def return_values(params: dict[str, Any]) -> str:
    """ReturnValues, defaulting to NONE (the table checks which ones the operation allows)."""
    return params.get("ReturnValues") or "NONE"


def on_failure(params: dict[str, Any]) -> str:
    """ReturnValuesOnConditionCheckFailure, defaulting to NONE."""
    return params.get("ReturnValuesOnConditionCheckFailure") or "NONE"


def write_answer(plan: WritePlan, params: dict[str, Any], definition: TableDefinition,
                 key: Item) -> dict[str, Any]:
    """The answer to a single-item write: Attributes, ConsumedCapacity and
    ItemCollectionMetrics, each if asked for (`key`: the item's key, or the item)."""
    answer: dict[str, Any] = {}
    if plan.attributes:
        answer["Attributes"] = plan.attributes
    add_capacity(answer, plan.capacity, params)
    metrics = collection_metrics(plan, params, definition, key)
    if metrics is not None:
        answer["ItemCollectionMetrics"] = metrics
    return answer


GB = 1024 ** 3


def collection_metrics(plan: WritePlan, params: dict[str, Any], definition: TableDefinition,
                       key: Item) -> dict[str, Any] | None:
    """ItemCollectionMetrics of a write, if asked for and the table has local indexes.

    DynamoDB gives the size as a range of whole gigabytes that holds it
    (SizeEstimateRangeGB, "an estimate"); the lab's estimate is exact, so the
    range is the gigabyte it falls in. A write that changed nothing (deleting a
    missing item) has no collection to report.
    """
    if params.get("ReturnItemCollectionMetrics") != "SIZE" or plan.collection_size is None:
        return None
    partition = definition.key_schema.partition.name
    low = float(math.floor(plan.collection_size / GB))
    return {"ItemCollectionKey": {partition: key[partition]},
            "SizeEstimateRangeGB": [low, low + 1.0]}


def add_capacity(answer: dict[str, Any], capacity: ConsumedCapacity,
                 params: dict[str, Any]) -> None:
    """Add ConsumedCapacity when the request asked for TOTAL or INDEXES."""
    mode = params.get("ReturnConsumedCapacity")
    if mode is not None and mode != "NONE":
        answer["ConsumedCapacity"] = capacity.to_wire(mode)


OPERATIONS = {
    "PutItem": (shapes.PUT_ITEM, put_item),
    "GetItem": (shapes.GET_ITEM, get_item),
    "UpdateItem": (shapes.UPDATE_ITEM, update_item),
    "DeleteItem": (shapes.DELETE_ITEM, delete_item),
}
