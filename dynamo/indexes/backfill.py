"""Backfilling a new global index: every existing item's entry, through the outbox (§2).

UpdateTable can add a global index to a table that already has items
(Developer Guide, "Adding a global secondary index to an existing table"):
DynamoDB shows the index CREATING with `Backfilling: true` while it reads the
table and writes the entries, then ACTIVE. Here the backfill uses the path
every write's index update takes: for each item, a `BackfillItem` asks the
item's partition leader to fold the new index's entry into the item's outbox
row, in its log; the propagator ships it like any other update.

Writes that race the backfill are safe because each goes through the outbox
in log order: a write planned after the new definition (the control plane
waits for the requests begun before it, `quiesce`) queues its own update of
the new index, and the backfill of the same item folds on top of it with a
higher sequence, or before it with a lower one. Either way the newest state
reaches the index last.

The driver is written against what the control plane hands it (`send` a
request through the router and answer its result, `sleep`), so this module
needs no runtime of its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from dynamo.partitioning.router import ToKey
from dynamo.paxos.operations import Scan
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.errors import DynamoError
from dynamo.storage.keys import item_key
from dynamo.storage.outbox import BackfillItem

PAGE = 100  # items read per page of the table
RETRY_S = 0.05  # how long a throttled read waits before it tries again

Send = Callable[[Any], Awaitable[Any]]
Sleep = Callable[[float], Awaitable[None]]


async def backfill(definition: TableDefinition, index: str, send: Send, sleep: Sleep) -> int:
    """Queue the entry of every item of `definition`'s table for `index`; how many items."""
    start = None
    count = 0
    while True:
        arguments = (("limit", PAGE), ("exclusive_start_key", start))
        page = await _retried(send, Scan(definition, arguments, consistent=True), sleep)
        for item in page.items:
            key = item_key(definition.key_schema, item)
            await _retried(send, ToKey(definition.tbl, key, BackfillItem(definition, index, key)),
                           sleep)
            count += 1
        start = page.last_evaluated_key
        if start is None:
            return count


async def _retried(send: Send, request: Any, sleep: Sleep) -> Any:
    """Send until the answer is not a throttle or an unknown outcome (both are safe to
    repeat: a read, and a backfill that folds the same entry in again)."""
    while True:
        try:
            return await send(request)
        except DynamoError as error:
            if not error.retryable:  # throttles, and outcomes unknown (a 500)
                raise
        await sleep(RETRY_S)
