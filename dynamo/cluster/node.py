"""SingleNode: the whole database in one process, behind the API.

The paper's DynamoDB is a fleet (§3): request routers, a metadata service,
storage nodes replicating each partition three ways with Paxos. Before any of
that, one process can already be a faithful DynamoDB *to its clients*: one
B-tree file (SQLite) holding every table's items, the catalog of table
definitions beside it, and the per-item semantics of `dynamo.storage.table`.

SingleNode is that process. The API layer asks it for a table and hands it the
write plans to commit; later layers (the WAL, Paxos, partitions) slot in behind
these same methods without the API noticing:

    table = node.table("us-east-1", "Music")          # ACTIVE or ResourceNotFound
    plan = table.plan_put(item, compiled, "NONE", "NONE")
    await node.commit([(table, plan)])                 # the one place writes land

Tables live in a region, as in DynamoDB: the API takes the region from the
request's SigV4 credential scope, so `us-east-1` and `eu-west-1` each have
their own `Music`.

The control plane is asynchronous in DynamoDB: CreateTable answers CREATING
and the table becomes ACTIVE a little later (boto3's `table_exists` waiter
polls DescribeTable for it). Here the delay is configurable and 0 by default:
the first DescribeTable after CreateTable shows ACTIVE.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from dynamo.storage.btree import BTree
from dynamo.storage.catalog import Catalog, TableDefinition
from dynamo.storage.errors import ResourceInUseException, ResourceNotFoundException
from dynamo.storage.table import Table, WritePlan

NOT_FOUND = "Requested resource not found"
ACTIVE, CREATING, DELETING = "ACTIVE", "CREATING", "DELETING"


class SingleNode:
    """One process, one B-tree file, every table of every region."""

    def __init__(self, path: str | None = None, *, activation_delay: float = 0.0,
                 clock: Callable[[], float] = time.time) -> None:
        """Open (or create) the database file at `path`; None keeps it in memory."""
        self.btree = BTree(path)
        self.catalog = Catalog(self.btree)
        self.activation_delay = activation_delay
        self.clock = clock
        self._tables: dict[tuple[str, str], Table] = {}

    def close(self) -> None:
        """Close the database file."""
        self._tables.clear()
        self.btree.close()

    # -- control plane ------------------------------------------------------------------------

    async def create_table(self, definition: TableDefinition) -> TableDefinition:
        """Record a new table, CREATING; it turns ACTIVE after the activation delay.

        Raises:
            ResourceInUseException: the region already has a table of that name.
        """
        definition.status = CREATING
        self.catalog.create(definition)
        return definition

    async def describe_table(self, region: str, name: str) -> TableDefinition:
        """The table's current definition (and status)."""
        definition = self._definition(region, name)
        if definition is None:
            raise ResourceNotFoundException(f"{NOT_FOUND}: Table: {name} not found")
        return definition

    async def list_tables(self, region: str) -> list[str]:
        """The region's table names, sorted."""
        return list(self.catalog.list(region))

    async def update_table(self, definition: TableDefinition) -> None:
        """Store a changed definition (throughput, billing mode)."""
        self.catalog.update(definition)
        self._tables.pop((definition.region, definition.name), None)

    async def delete_table(self, region: str, name: str) -> TableDefinition:
        """Drop a table and its items; answers the definition as DELETING."""
        definition = await self.describe_table(region, name)
        if definition.status == CREATING:
            raise ResourceInUseException(
                f"Attempt to change a resource which is still in use: Table is being created: {name}")
        self.catalog.delete(region, name)
        self._tables.pop((region, name), None)
        definition.status = DELETING
        return definition

    def stats(self, definition: TableDefinition) -> tuple[int, int]:
        """(ItemCount, TableSizeBytes) of a table."""
        return self.catalog.usage(definition.region, definition.name)

    # -- data plane ---------------------------------------------------------------------------

    def table(self, region: str, name: str) -> Table:
        """The ACTIVE table `name`, for item operations.

        Raises:
            ResourceNotFoundException: no such table, or it is not ACTIVE yet.
        """
        table = self._tables.get((region, name))
        if table is not None:
            return table
        definition = self._definition(region, name)
        if definition is None or definition.status != ACTIVE:
            raise ResourceNotFoundException(NOT_FOUND)
        return self._table_for(definition)

    async def commit(self, writes: Sequence[tuple[Table, WritePlan]]) -> None:
        """Apply planned writes. The write-ahead log and replication will sit here.

        Nothing awaits between planning a write and committing it today, so the
        condition a plan checked still holds when its write lands. Once the log's
        group commit awaits here, writes to the same key must be serialised
        around plan-and-commit, or two conditional puts could both succeed.
        """
        for table, plan in writes:
            if plan.mutation is not None:
                table.commit(plan)

    # -- helpers ------------------------------------------------------------------------------

    def _definition(self, region: str, name: str) -> TableDefinition | None:
        """Read a definition, promoting CREATING to ACTIVE once the delay has passed."""
        definition = self.catalog.get(region, name)
        if (definition is not None and definition.status == CREATING
                and self.clock() >= definition.created_at + self.activation_delay):
            definition.status = ACTIVE
            self.catalog.update(definition)
        return definition

    def _table_for(self, definition: TableDefinition) -> Table:
        key = (definition.region, definition.name)
        table = self._tables.get(key)
        if table is None:
            table = Table(self.btree, definition)
            if definition.status == ACTIVE:
                self._tables[key] = table
        return table

