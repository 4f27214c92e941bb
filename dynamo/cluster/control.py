"""The control plane: tables are created, described, changed and deleted here.

DynamoDB keeps table definitions apart from the items, in its control plane
(autoadmin and the metadata it serves, §3); a table's items live in the
partitions' replication groups. `ControlPlane` is that split for the lab: the
catalog of table definitions (`dynamo.storage.catalog`) and the rules of the
table operations, shared by every kind of database `dynamo serve` can run
(`SingleNode`, one B-tree; `PartitionedNode`, a fleet of partitions, embedded
or with its storage nodes as processes, `ProcessNode`). What differs,
how a table's items are dropped and counted, each subclass says.

The control plane is asynchronous in DynamoDB: CreateTable answers CREATING
and the table becomes ACTIVE a little later (boto3's `table_exists` waiter
polls DescribeTable for it). Here the delay is configurable and 0 by default:
the first DescribeTable after CreateTable shows ACTIVE.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol

from dynamo.storage.catalog import Catalog, TableDefinition
from dynamo.storage.errors import (
    ProvisionedThroughputExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
    ThrottlingException,
    ValidationException,
)
from dynamo.storage.indexes import ITEM_COLLECTION_LIMIT
from dynamo.storage.keys import KeySchema

NOT_FOUND = "Requested resource not found"
ACTIVE, CREATING, DELETING = "ACTIVE", "CREATING", "DELETING"
IN_USE = "Attempt to change a resource which is still in use"


class ControlPlane:
    """Table definitions and the table operations' rules (CreateTable ... DeleteTable)."""

    item_collection_limit: int = ITEM_COLLECTION_LIMIT  # `dynamo serve` may lower it

    def __init__(self, catalog: Catalog, *, activation_delay: float = 0.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.catalog = catalog
        self.activation_delay = activation_delay
        self.clock = clock
        self._dropping: set[str] = set()  # tables whose DeleteTable is under way

    # -- what each kind of database says ---------------------------------------------------

    async def _drop_items(self, definition: TableDefinition) -> None:
        """Delete every item of a table, ordered after every write already accepted."""
        raise NotImplementedError

    def stats(self, definition: TableDefinition) -> tuple[int, int]:
        """(ItemCount, TableSizeBytes) of a table."""
        raise NotImplementedError

    def _durably(self) -> AbstractContextManager[object]:
        """How a catalog change is made durable (nothing to do in memory)."""
        return nullcontext()

    def _forget(self, definition: TableDefinition) -> None:
        """Drop whatever the data plane caches about a table."""

    # -- the table operations ------------------------------------------------------------

    async def create_table(self, definition: TableDefinition) -> TableDefinition:
        """Record a new table, CREATING; it turns ACTIVE after the activation delay.

        Raises:
            ResourceInUseException: the region already has a table of that name.
        """
        definition.status = CREATING
        with self._durably():
            self.catalog.create(definition)
        return definition

    async def describe_table(self, region: str, name: str) -> TableDefinition:
        """The table's current definition (and status)."""
        definition = self.definition(region, name)
        if definition is None:
            raise ResourceNotFoundException(f"{NOT_FOUND}: Table: {name} not found")
        return definition

    async def list_tables(self, region: str) -> list[str]:
        """The region's table names, sorted."""
        return list(self.catalog.list(region))

    async def update_table(self, definition: TableDefinition) -> None:
        """Store a changed definition (throughput, billing mode)."""
        with self._durably():
            self.catalog.update(definition)
        self._forget(definition)

    async def delete_table(self, region: str, name: str) -> TableDefinition:
        """Drop a table and its items; answers the definition as DELETING."""
        definition = await self.describe_table(region, name)
        if definition.status == CREATING:
            raise ResourceInUseException(f"{IN_USE}: Table is being created: {name}")
        if definition.tbl in self._dropping:
            raise ResourceInUseException(f"{IN_USE}: Table is being deleted: {name}")
        # From here on no write to this table is accepted (`check_live`), and the drop
        # is ordered behind every write that already was.
        self._forget(definition)
        self._dropping.add(definition.tbl)
        try:
            # Durably DELETING first: a crash after the items' drop must not leave the
            # table there, emptied; the next start finishes the delete (`finish_deletes`).
            definition.status = DELETING
            with self._durably():
                self.catalog.update(definition)
            await self._drop_items(definition)
            with self._durably():
                self.catalog.delete(region, name)
        finally:
            self._dropping.discard(definition.tbl)
            self._forget(definition)  # a request may have cached it again meanwhile
        definition.status = DELETING
        return definition

    async def finish_deletes(self) -> None:
        """Finish every DeleteTable a crash cut short (found by the power-loss tests)."""
        for definition in self.cut_short():
            await self._drop_items(definition)
            with self._durably():
                self.catalog.delete(definition.region, definition.name)

    def cut_short(self) -> list[TableDefinition]:
        """The tables left DELETING by a crash during their DeleteTable."""
        found = (self.catalog.get(region, name) for region, name in self.catalog.all())
        return [d for d in found if d is not None and d.status == DELETING]

    # -- helpers for the data plane -------------------------------------------------------

    def definition(self, region: str, name: str) -> TableDefinition | None:
        """Read a definition, promoting CREATING to ACTIVE once the delay has passed."""
        definition = self.catalog.get(region, name)
        if (definition is not None and definition.status == CREATING
                and self.clock() >= definition.created_at + self.activation_delay):
            definition.status = ACTIVE
            with self._durably():
                self.catalog.update(definition)
        return definition

    def active(self, region: str, name: str) -> TableDefinition:
        """The ACTIVE table `name`, for item operations.

        Raises:
            ResourceNotFoundException: no such table, or it is not ACTIVE yet.
        """
        definition = self.definition(region, name)
        if definition is None or definition.status != ACTIVE:
            raise ResourceNotFoundException(NOT_FOUND)
        return definition

    def check_live(self, definition: TableDefinition) -> None:
        """Refuse a write whose table is being deleted, or was deleted (and perhaps
        re-created) since the write found it."""
        current = self.catalog.get(definition.region, definition.name)
        if (definition.tbl in self._dropping or current is None
                or current.table_id != definition.table_id):
            raise ResourceNotFoundException(NOT_FOUND)


FAULTS = ("kill", "restart", "cut", "heal", "deploy")


async def throttled_or(request: Awaitable[Any]) -> Any:
    """A request's result, or the throttling error that refused it (§4: batch operations
    return throttled items for the client to retry)."""
    try:
        return await request
    except (ProvisionedThroughputExceededException, ThrottlingException) as error:
        return error


class TableRef:
    """A table as a router knows it: its definition and key schema."""

    def __init__(self, definition: TableDefinition) -> None:
        self.definition = definition
        self.schema: KeySchema = definition.key_schema


class Faulty(Protocol):
    """What the teaching faults act on: nodes that can be killed, restarted, cut off."""

    def kill(self, node_id: str) -> None: ...

    def restart(self, node_id: str) -> None: ...

    def cut_link(self, src: str, dst: str) -> None: ...

    def heal(self) -> None: ...


class RoutedControlPlane(ControlPlane):
    """The control plane in front of a router: the data plane's requests go to replicas.

    What is the same however the replicas are run: the ACTIVE tables the data plane
    has found (so a request skips the catalog), the writes and reads handed to the
    router (`_send`), and the teaching faults (`admin_fault`).
    """

    _tables: dict[tuple[str, str], TableRef]

    async def _send(self, request: Any) -> Any:
        """Carry one typed request to its replicas; its result, or DynamoDB's error."""
        raise NotImplementedError

    def _fault_target(self) -> tuple[Faulty, tuple[str, ...]]:
        """What the faults act on, and the node ids they may name."""
        raise NotImplementedError

    def _forget(self, definition: TableDefinition) -> None:
        self._tables.pop((definition.region, definition.name), None)

    def table(self, region: str, name: str) -> TableRef:
        """The ACTIVE table `name` (ResourceNotFoundException otherwise)."""
        ref = self._tables.get((region, name))
        if ref is None:
            ref = TableRef(self.active(region, name))
            if ref.definition.status == ACTIVE:
                self._tables[(region, name)] = ref
        return ref

    async def write(self, request: Any) -> Any:
        """A write, to its leader; its plan once a quorum has logged it."""
        if self._tables.get((request.table.region, request.table.name)) is None:
            self.check_live(request.table)
        return await self._send(request)

    async def write_batch(self, requests: Sequence[Any]) -> list[Any]:
        """BatchWriteItem's writes, each its own log record, all in flight at once.

        A write that was throttled comes back as its error, in its place, for the
        client to retry (UnprocessedItems); any other error fails the batch.
        """
        return list(await asyncio.gather(*(throttled_or(self.write(r)) for r in requests)))

    async def read(self, request: Any) -> Any:
        """A strong read from the leader under its lease; an eventual one from any replica."""
        return await self._send(request)

    def admin_fault(self, fault: dict[str, Any]) -> dict[str, Any]:
        """Kill or restart a node, cut a link one way, or heal every link; or deploy to a
        node: its leaders hand off first, then it restarts (§6.4; the partitioned fleet).

        Raises:
            ValidationException: an unknown action or node.
        """
        action, node, to = fault.get("action"), fault.get("node"), fault.get("to")
        target, nodes = self._fault_target()
        if action not in FAULTS:
            raise ValidationException(f"action must be one of {', '.join(FAULTS)}")
        if action != "heal" and node not in nodes:
            raise ValidationException(f"node must be one of {', '.join(nodes)}")
        if action == "kill":
            target.kill(node)
        elif action == "restart":
            target.restart(node)
        elif action == "deploy":
            deploy = getattr(target, "deploy", None)
            if deploy is None:
                raise ValidationException("deploy is served by the partitioned fleet only")
            deploy(node)
        elif action == "cut":
            if to not in nodes or to == node:
                raise ValidationException(f"to must be another of {', '.join(nodes)}")
            target.cut_link(node, to)
        else:
            target.heal()
        return {"ok": True, "fault": fault}
