"""Single-item operations: PutItem, GetItem, UpdateItem, DeleteItem.

Each is the same three steps (PAPER-NOTES §9; paper §3 for why a write goes
through the partition's leader):

1. find the ACTIVE table (else ResourceNotFoundException),
2. compile the request's expressions against the table's key schema
   (`dynamo.storage.expressions`), which validates them,
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
from dynamo.storage.capacity import ConsumedCapacity
from dynamo.storage.expressions import compile_request
from dynamo.storage.table import WritePlan


async def put_item(node: SingleNode, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """PutItem: create or replace a whole item, optionally under a condition."""
    table = node.table(region, params["TableName"])
    compiled = compile_request("PutItem", params, table.schema)
    async with node.locked([(table, params["Item"])]):
        plan = table.plan_put(params["Item"], compiled, return_values(params),
                              on_failure(params))
        await node.commit([(table, plan)])
    return write_answer(plan, params)


async def get_item(node: SingleNode, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """GetItem: one item by its full primary key."""
    table = node.table(region, params["TableName"])
    compiled = compile_request("GetItem", params, table.schema)
    item, capacity = table.get_item(params["Key"], bool(params.get("ConsistentRead")),
                                    compiled.projection)
    answer: dict[str, Any] = {} if item is None else {"Item": item}
    add_capacity(answer, capacity, params)
    return answer


async def update_item(node: SingleNode, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """UpdateItem: change some attributes of an item (creating it if absent)."""
    table = node.table(region, params["TableName"])
    compiled = compile_request("UpdateItem", params, table.schema)
    async with node.locked([(table, params["Key"])]):
        plan = table.plan_update(params["Key"], compiled, return_values(params),
                                 on_failure(params))
        await node.commit([(table, plan)])
    return write_answer(plan, params)


async def delete_item(node: SingleNode, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """DeleteItem: remove an item by its key, optionally under a condition."""
    table = node.table(region, params["TableName"])
    compiled = compile_request("DeleteItem", params, table.schema)
    async with node.locked([(table, params["Key"])]):
        plan = table.plan_delete(params["Key"], compiled, return_values(params),
                                 on_failure(params))
        await node.commit([(table, plan)])
    return write_answer(plan, params)


# -- helpers -----------------------------------------------------------------------------------

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
