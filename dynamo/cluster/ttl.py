"""Time to Live: the sweeper that deletes items whose time has passed.

DynamoDB lets a table name one attribute as its items' expiry time: a Number,
in seconds since the epoch (UpdateTimeToLive, `dynamo.api.ttl`). Once that time
has passed the item has *expired*, and a background process deletes it,
"typically within a few days"; until then every read still returns it
(Developer Guide, "Time to Live (TTL)"). The paper does not describe TTL; the
lab builds it from the parts the paper does, so each step can be read against
them. A sweep, every `--ttl-interval` seconds, takes each table with TTL
enabled, partition by partition:

1. **Find what has expired.** An eventually consistent Scan of the partition
   (§3: any replica may serve it), filtered to the items whose TTL attribute
   is a Number earlier than now. Any other type is ignored, as is a time more
   than five years in the past (DynamoDB's rule: such a value is unlikely to
   be an expiry time at all).
2. **Delete it, unless it changed.** Each expired item is deleted through the
   path a customer's DeleteItem takes: the request router, the partition's
   leader, a log record replicated by Paxos (§3). The delete is conditional on
   the TTL attribute still holding the value the scan read: a write that moved
   the expiry into the future since then (or a replica that had not seen it
   yet) wins, the condition fails, and the item stays.
3. **Mark it as the system's.** The delete names DynamoDB's own principal
   (`DeleteItem.service`), and the leader writes that into the log record
   (`WriteRecord.service`). A stream reading the log can then show it as
   DynamoDB Streams does, with userIdentity {"type": "Service",
   "principalId": "dynamodb.amazonaws.com"}.
4. **Charge nobody.** TTL deletes consume no write capacity in DynamoDB, and
   the scan no read capacity. Both go as requests of the system's own
   (`ToPartition`), which admission control (§4) neither throttles nor counts
   against the table, at the router or at the storage node, so a table
   throttled at its throughput is still swept. In exchange the sweeper is
   gentle: one request at a time, so it never holds more than one request's
   share of a leader.

What a database must offer the sweeper is `Swept`: its catalog, a table's
partitions, and a way to send a request of the system's own to one of them.
The partitioned fleet and the single node each do (`partitioned.py`, `node.py`).
A sweep that deletes anything says so on the event stream (`ttl_deleted`, with
the table and how many items), so `dynamo admin events` shows TTL at work.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from dynamo.paxos.operations import DeleteItem, Scan
from dynamo.storage.attributes import Item
from dynamo.storage.catalog import Catalog, TableDefinition
from dynamo.storage.errors import ConditionalCheckFailedException, DynamoError
from dynamo.storage.expressions import compile_expressions

Event = dict[str, Any]

log = logging.getLogger("dynamo.ttl")

SERVICE = "dynamodb.amazonaws.com"  # the principal DynamoDB Streams shows for a TTL delete
INTERVAL_S = 60.0  # between sweeps: `dynamo serve --ttl-interval`
FIVE_YEARS_S = 5 * 365 * 24 * 3600  # expiry times older than this are not DynamoDB's to delete


class Swept(Protocol):
    """What the sweeper needs of a database."""

    catalog: Catalog

    def ttl_partitions(self, definition: TableDefinition) -> Sequence[str | None]:
        """The pieces a table is swept in: its partitions (None: the whole table)."""
        ...

    async def system_request(self, definition: TableDefinition, partition: str | None,
                             request: Scan | DeleteItem) -> Any:
        """Carry a request of the system's own to a partition; its result, or raise
        DynamoDB's error."""
        ...


class Sweeper:
    """Deletes expired items, a sweep every `interval_s` seconds, while started."""

    def __init__(self, database: Swept, interval_s: float = INTERVAL_S,
                 clock: Callable[[], float] = time.time,
                 on_event: Callable[[Event], None] = lambda event: None) -> None:
        self.database = database
        self.interval_s = interval_s
        self.clock = clock
        self.on_event = on_event
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Sweep on the running loop from now on (an interval of 0: never)."""
        if self._task is None and self.interval_s > 0:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.sweep()
            except Exception:  # the sweeper must outlive any one sweep's surprise
                log.exception("a TTL sweep failed; the next one starts over")

    async def sweep(self) -> int:
        """One pass over every table with TTL enabled; how many items it deleted."""
        now = self.clock()
        deleted = 0
        for definition in expiring_tables(self.database.catalog):
            from_table = 0
            for partition in self.database.ttl_partitions(definition):
                from_table += await self.sweep_partition(definition, partition, now)
            if from_table:
                self.on_event({"kind": "ttl_deleted", "table": definition.tbl,
                               "items": from_table})
            deleted += from_table
        return deleted

    async def sweep_partition(self, definition: TableDefinition, partition: str | None,
                              now: float) -> int:
        """Delete the partition's items expired at `now`, a scan page at a time."""
        deleted, start = 0, None
        while True:
            try:
                page = await self.database.system_request(
                    definition, partition, expired_scan(definition, now, start))
            except (DynamoError, TimeoutError):
                # The partition split, or the table is going: the next sweep starts afresh.
                return deleted
            for item in page.items:
                deleted += await self.expire(definition, partition, item)
            start = page.last_evaluated_key
            if start is None:
                return deleted

    async def expire(self, definition: TableDefinition, partition: str | None,
                     item: Item) -> bool:
        """Delete one expired item, if its TTL attribute still holds what the scan read."""
        try:
            await self.database.system_request(definition, partition,
                                               expiry_delete(definition, item))
        except ConditionalCheckFailedException:
            return False  # written since the scan read it: that write wins
        except (DynamoError, TimeoutError):
            return False  # not now (a leader changing, the table going): a later sweep
        return True


def expiring_tables(catalog: Catalog) -> list[TableDefinition]:
    """The ACTIVE tables with TTL enabled."""
    found = (catalog.get(region, name) for region, name in catalog.all())
    return [d for d in found
            if d is not None and d.status == "ACTIVE" and d.ttl_attribute is not None]


def expired_scan(definition: TableDefinition, now: float, start: Item | None) -> Scan:
    """A Scan page of the items expired at `now`: their keys and TTL attributes only."""
    attribute = definition.ttl_attribute
    assert attribute is not None
    kept = list(dict.fromkeys((*definition.key_schema.names, attribute)))  # a key may be it
    names = {f"#a{i}": name for i, name in enumerate(kept)}
    ttl = f"#a{kept.index(attribute)}"
    compiled = compile_expressions("Scan", {
        # `<` compares a Number only with a Number: any other type is never expired.
        "FilterExpression": f"{ttl} < :now AND {ttl} >= :oldest",
        "ProjectionExpression": ", ".join(names),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": {":now": {"N": f"{now:.3f}"},
                                      ":oldest": {"N": f"{now - FIVE_YEARS_S:.3f}"}},
    })
    return Scan(definition, (("exclusive_start_key", start), ("filter", compiled.filter),
                             ("projection", compiled.projection)), consistent=False)


def expiry_delete(definition: TableDefinition, item: Item) -> DeleteItem:
    """The system's DeleteItem of an expired item, conditional on its expiry being unchanged."""
    attribute = definition.ttl_attribute
    assert attribute is not None
    key = {name: item[name] for name in definition.key_schema.names}
    condition = compile_expressions("DeleteItem", {
        "ConditionExpression": "#ttl = :expired",
        "ExpressionAttributeNames": {"#ttl": attribute},
        "ExpressionAttributeValues": {":expired": item[attribute]},
    })
    return DeleteItem(definition, key, condition, service=SERVICE)
