"""Single-item operations: PutItem, GetItem, UpdateItem, DeleteItem.

Each is the same three steps (PAPER-NOTES §9; paper §3 for why a write goes
through the partition's leader):

1. check what the request alone shows: its attribute values, ReturnValues,
   the item's size and its expressions (`dynamo.storage.expressions`).
   DynamoDB does this before it looks the table up, so a malformed request
   for a missing table is a ValidationException, not ResourceNotFoundException,
2. find the ACTIVE table (else ResourceNotFoundException) and check the
   request against its key schema,
3. holding the item's lock, let the table plan the write (the condition is
   evaluated and the new item computed, nothing stored yet), then hand the plan
   to the node to commit: with a data directory that means into the write-ahead
   log, and the answer goes out only once the log record is fsynced (§3, §5.1).
   The lock keeps another write to the same item from planning against the
   state this one is about to replace while it waits for its group commit.

A failed condition raises ConditionalCheckFailedException from step 3, with
the stored item when `ReturnValuesOnConditionCheckFailure=ALL_OLD`, and
nothing is written. The answer carries `Attributes` (what `ReturnValues`
asked for) and `ConsumedCapacity` when asked for.
"""

from __future__ import annotations

from typing import Any

from dynamo.api import shapes
from dynamo.cluster.node import SingleNode
from dynamo.storage.attributes import Item, validate_item, validate_value
from dynamo.storage.capacity import ConsumedCapacity
from dynamo.storage.expressions import check_style, compile_expressions
from dynamo.storage.table import WritePlan, check_put_delete_return_values


async def put_item(node: SingleNode, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """PutItem: create or replace a whole item, optionally under a condition."""
    check_style("PutItem", params)
    item = validate_item(params["Item"])
    check_put_delete_return_values(return_values(params))
    compiled = compile_expressions("PutItem", params)
    table = node.table(region, params["TableName"])
    compiled = compiled.for_schema(table.schema)
    async with node.locked([(table, item)]):
        plan = table.plan_put(item, compiled, return_values(params), on_failure(params))
        await node.commit([(table, plan)])
    return write_answer(plan, params)


async def get_item(node: SingleNode, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """GetItem: one item by its full primary key."""
    check_style("GetItem", params)
    key = checked_key(params["Key"])
    compiled = compile_expressions("GetItem", params)
    table = node.table(region, params["TableName"])
    item, capacity = table.get_item(key, bool(params.get("ConsistentRead")),
                                    compiled.projection)
    answer: dict[str, Any] = {} if item is None else {"Item": item}
    add_capacity(answer, capacity, params)
    return answer


async def update_item(node: SingleNode, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """UpdateItem: change some attributes of an item (creating it if absent)."""
    check_style("UpdateItem", params)
    key = checked_key(params["Key"])
    compiled = compile_expressions("UpdateItem", params)
    table = node.table(region, params["TableName"])
    compiled = compiled.for_schema(table.schema)
    async with node.locked([(table, key)]):
        plan = table.plan_update(key, compiled, return_values(params),
                                 on_failure(params))
        await node.commit([(table, plan)])
    return write_answer(plan, params)


async def delete_item(node: SingleNode, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """DeleteItem: remove an item by its key, optionally under a condition."""
    check_style("DeleteItem", params)
    key = checked_key(params["Key"])
    check_put_delete_return_values(return_values(params))
    compiled = compile_expressions("DeleteItem", params)
    table = node.table(region, params["TableName"])
    compiled = compiled.for_schema(table.schema)
    async with node.locked([(table, key)]):
        plan = table.plan_delete(key, compiled, return_values(params),
                                 on_failure(params))
        await node.commit([(table, plan)])
    return write_answer(plan, params)


# -- helpers -----------------------------------------------------------------------------------

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


def write_answer(plan: WritePlan, params: dict[str, Any]) -> dict[str, Any]:
    """The answer to a single-item write: Attributes and ConsumedCapacity if asked for."""
    answer: dict[str, Any] = {}
    if plan.attributes:
        answer["Attributes"] = plan.attributes
    add_capacity(answer, plan.capacity, params)
    return answer


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
