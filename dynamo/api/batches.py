"""Batch operations: BatchGetItem and BatchWriteItem.

A batch is many single-item operations in one round trip, across tables
(API Reference, "BatchGetItem" and "BatchWriteItem"): up to 100 keys to read (16 MB of answer), or up to 25 puts
and deletes. A batch is *not* a transaction: each item succeeds or fails on
its own, and what the service could not do in time comes back as
`UnprocessedKeys` / `UnprocessedItems` for the client to retry (boto3 and
PynamoDB do so). The whole request is validated before anything is read or
written, so a bad key anywhere fails the batch and changes nothing.

A batch's writes are planned under the locks of all its keys (taken in key
order, so two batches cannot deadlock) and committed as one log record: the
answer goes out once that record is fsynced. For tables with local secondary
indexes the answer lists each write's ItemCollectionMetrics when asked.

Here a batch read stops at 16 MB of items and returns the rest as
UnprocessedKeys. Admission control (§4) may throttle some of a batch's items:
those come back as UnprocessedKeys / UnprocessedItems too. Only when every
item of the batch was throttled does the batch fail, with the throttling
error itself (API Reference: "If none of the items can be processed due to
insufficient provisioned throughput", ProvisionedThroughputExceededException).
"""

from __future__ import annotations

from typing import Any

from dynamo.api import shapes
from dynamo.api.items import checked_key, collection_metrics
from dynamo.cluster import Database, TableHandle
from dynamo.cluster.control import throttled_or
from dynamo.paxos.operations import DeleteItem, GetItem, PutItem
from dynamo.storage.attributes import item_size, validate_item
from dynamo.storage.capacity import ConsumedCapacity
from dynamo.storage.errors import DynamoError, ValidationException
from dynamo.storage.expressions import check_style, compile_expressions
from dynamo.storage.keys import EncodedKey, item_key, request_key

MAX_GET_KEYS = 100
MAX_WRITES = 25
MAX_ANSWER_BYTES = 16 * 1024 * 1024
DUPLICATES = "Provided list of item keys contains duplicates"


async def batch_get_item(node: Database, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """BatchGetItem: up to 100 items by key from one or more tables."""
    requests = params["RequestItems"]
    if sum(len(request["Keys"]) for request in requests.values()) > MAX_GET_KEYS:
        raise ValidationException("Too many items requested for the BatchGetItem call")
    # Every table's keys and expressions are checked before any table is looked up.
    projections = {name: compiled_reads(request) for name, request in requests.items()}
    planned = [plan_reads(node, region, name, request, projections[name])
               for name, request in requests.items()]

    responses: dict[str, list[Any]] = {}
    unprocessed: dict[str, Any] = {}
    capacities: list[ConsumedCapacity] = []
    answer_bytes, full = 0, False
    throttled: list[DynamoError] = []
    for name, table, projection, request, keys in planned:
        consistent = bool(request.get("ConsistentRead"))
        found = responses.setdefault(name, [])
        capacity = ConsumedCapacity(table=name)
        left: list[Any] = []  # this table's keys for the client to retry
        for position, key in enumerate(keys):
            item = None
            if not full:
                result = await throttled_or(node.read(GetItem(table.definition, key,
                                                              consistent, projection)))
                if isinstance(result, DynamoError):
                    throttled.append(result)
                    left.append(key)
                    continue
                item, used = result
                size = 0 if item is None else item_size(item)
                full = answer_bytes + size > MAX_ANSWER_BYTES
            if full:
                # The answer is full: this key and the rest are for the client to retry.
                left += keys[position:]
                break
            capacity.read += used.read
            if item is not None:
                found.append(item)
                answer_bytes += size
        if left:
            unprocessed[name] = {**request, "Keys": left}
        capacities.append(capacity)
    if throttled and len(throttled) == sum(len(keys) for *_, keys in planned):
        raise throttled[0]
    answer: dict[str, Any] = {"Responses": responses, "UnprocessedKeys": unprocessed}
    add_capacities(answer, capacities, params)
    return answer


async def batch_write_item(node: Database, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """BatchWriteItem: up to 25 puts and deletes, validated together, applied one by one."""
    requests = params["RequestItems"]
    if sum(len(writes) for writes in requests.values()) > MAX_WRITES:
        raise ValidationException("Too many items requested for the BatchWriteItem call")
    for writes in requests.values():
        for write in writes:
            check_write(write)
    tables = {name: node.table(region, name) for name in requests}
    writes = {name: write_requests(tables[name], writes, node.item_collection_limit)
              for name, writes in requests.items()}
    results = await node.write_batch([w for ws in writes.values() for w in ws])
    if results and all(isinstance(r, DynamoError) for r in results):
        raise results[0]  # every write was throttled
    plans = iter(results)
    capacities, unprocessed = [], {}
    metrics: dict[str, list[Any]] = {}
    for name in writes:
        capacity = ConsumedCapacity(table=name)
        for write, request in zip(requests[name], writes[name], strict=True):
            plan = next(plans)
            if isinstance(plan, DynamoError):  # throttled: for the client to retry
                unprocessed.setdefault(name, []).append(write)
                continue
            capacity.add(plan.capacity)
            subject = request.item if isinstance(request, PutItem) else request.key
            found = collection_metrics(plan, params, tables[name].definition, subject)
            if found is not None:
                metrics.setdefault(name, []).append(found)
        capacities.append(capacity)
    answer: dict[str, Any] = {"UnprocessedItems": unprocessed}
    add_capacities(answer, capacities, params)
    if metrics:
        answer["ItemCollectionMetrics"] = metrics
    return answer


# -- helpers -----------------------------------------------------------------------------------

def compiled_reads(request: dict[str, Any]) -> Any:
    """Check one table's part of a BatchGetItem on its own; its projection."""
    check_style("BatchGetItem", request)
    request["Keys"] = [checked_key(key) for key in request["Keys"]]
    return compile_expressions("BatchGetItem", request).projection


def plan_reads(node: Database, region: str, name: str, request: dict[str, Any],
               projection: Any) -> tuple[str, TableHandle, Any, dict[str, Any], list[Any]]:
    """Resolve one table's part of a BatchGetItem, refusing duplicate keys."""
    table = node.table(region, name)
    seen: set[EncodedKey] = set()
    for key in request["Keys"]:
        encoded = request_key(table.schema, key)
        if encoded in seen:
            raise ValidationException(DUPLICATES)
        seen.add(encoded)
    return name, table, projection, request, request["Keys"]


def check_write(write: dict[str, Any]) -> None:
    """Check one put or delete of a BatchWriteItem on its own, before any table is found."""
    put, delete = write.get("PutRequest"), write.get("DeleteRequest")
    if (put is None) == (delete is None):
        raise ValidationException(
            "Supplied WriteRequest must contain exactly one of PutRequest or DeleteRequest")
    if put is not None:
        put["Item"] = validate_item(put["Item"])
    else:
        delete["Key"] = checked_key(delete["Key"])


def write_requests(table: TableHandle, writes: list[dict[str, Any]],
                   collection_limit: int) -> list[PutItem | DeleteItem]:
    """One table's puts and deletes as requests, their keys checked, duplicates refused.

    Every key is checked before any write is made: a batch with one bad key
    writes nothing.
    """
    seen: set[EncodedKey] = set()
    requests: list[PutItem | DeleteItem] = []
    for write in writes:
        put, delete = write.get("PutRequest"), write.get("DeleteRequest")
        if (put is None) == (delete is None):
            raise ValidationException(
                "Supplied WriteRequest must contain exactly one of PutRequest or DeleteRequest")
        if put is not None:
            encoded = item_key(table.schema, put["Item"])
            requests.append(PutItem(table.definition, put["Item"],
                                    collection_limit=collection_limit))
        else:
            encoded = request_key(table.schema, delete["Key"])
            requests.append(DeleteItem(table.definition, delete["Key"],
                                       collection_limit=collection_limit))
        if encoded in seen:
            raise ValidationException(DUPLICATES)
        seen.add(encoded)
    return requests


def add_capacities(answer: dict[str, Any], capacities: list[ConsumedCapacity],
                   params: dict[str, Any]) -> None:
    """Batch answers carry a list of ConsumedCapacity, one per table."""
    mode = params.get("ReturnConsumedCapacity")
    if mode is not None and mode != "NONE":
        answer["ConsumedCapacity"] = [capacity.to_wire(mode) for capacity in capacities]


OPERATIONS = {
    "BatchGetItem": (shapes.BATCH_GET_ITEM, batch_get_item),
    "BatchWriteItem": (shapes.BATCH_WRITE_ITEM, batch_write_item),
}
