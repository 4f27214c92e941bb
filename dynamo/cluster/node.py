"""SingleNode: the whole database in one process, behind the API.

The paper's DynamoDB is a fleet (§3): request routers, a metadata service,
storage nodes replicating each partition three ways with Paxos. Before any of
that, one process can already be a faithful DynamoDB *to its clients*: one
B-tree file (SQLite) holding every table's items, the catalog of table
definitions beside it, and the per-item semantics of `dynamo.storage.table`.

SingleNode is that process. The API layer asks it for a table and hands it the
write plans to commit; later layers (Paxos, partitions) slot in behind
these same methods without the API noticing:

    table = node.table("us-east-1", "Music")          # ACTIVE or ResourceNotFound
    plan = table.plan_put(item, compiled, "NONE", "NONE")
    await node.commit([(table, plan)])                 # the one place writes land

Tables live in a region, as in DynamoDB: the API takes the region from the
request's SigV4 credential scope, so `us-east-1` and `eu-west-1` each have
their own `Music`.

With a data directory, every write goes through the replica's write-ahead log
(`dynamo.wal.LoggedReplica`, paper §3, §5.1): `commit` hands the mutations of
one request to the log as one record, and returns only once group commit has
fsynced it and the B-tree has applied it. The log lives in `wal/` beside the
B-tree file. Because `commit` now awaits, a read-modify-write (a condition, an
UpdateItem) must not be planned from a state another in-flight write is about
to change, so the API holds the keys' locks around plan-and-commit:

    async with node.locked([(table, params["Key"])]):
        plan = table.plan_update(params["Key"], compiled, "NONE", "NONE")
        await node.commit([(table, plan)])

Table definitions (the control plane) are not in the log: they live in the
B-tree's SQLite file, which the log lets run with synchronous=NORMAL, so each
catalog change is committed with synchronous=FULL to make it durable by itself.

The control plane is asynchronous in DynamoDB: CreateTable answers CREATING
and the table becomes ACTIVE a little later (boto3's `table_exists` waiter
polls DescribeTable for it). Here the delay is configurable and 0 by default:
the first DescribeTable after CreateTable shows ACTIVE.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from dynamo.storage.attributes import Item
from dynamo.storage.btree import BTree, Mutation
from dynamo.storage.catalog import Catalog, TableDefinition
from dynamo.storage.errors import DynamoError, ResourceInUseException, ResourceNotFoundException
from dynamo.storage.keys import EncodedKey, request_key
from dynamo.storage.table import Table, WritePlan
from dynamo.wal import LoggedReplica, Store
from dynamo.wal.log import FsyncPolicy

NOT_FOUND = "Requested resource not found"
ACTIVE, CREATING, DELETING = "ACTIVE", "CREATING", "DELETING"


class SingleNode:
    """One process, one B-tree file and its write-ahead log, every table of every region."""

    def __init__(self, path: str | None = None, *, activation_delay: float = 0.0,
                 clock: Callable[[], float] = time.time, fsync: FsyncPolicy = "always",
                 archive: Store | None = None) -> None:
        """Open (or create) the database file at `path`, its log in `wal/` beside it, and
        recover it (replaying the log); None keeps everything in memory, without a log.

        `fsync` is the log's policy ("none" trades durability for speed); `archive`
        is where sealed log segments go (dynamo.wal.archive), if anywhere.
        """
        self.replica = None if path is None else LoggedReplica.open(
            Path(path).parent, btree_path=path, fsync=fsync, archive=archive)
        self.btree = BTree(None) if self.replica is None else self.replica.btree
        self.catalog = Catalog(self.btree)
        self.activation_delay = activation_delay
        self.clock = clock
        self._tables: dict[tuple[str, str], Table] = {}
        self._dropping: set[str] = set()  # tables whose DeleteTable is being logged

    def close(self) -> None:
        """Close the log and the database file (writes still queued are not acknowledged)."""
        self._tables.clear()
        if self.replica is not None:
            self.replica.close_files()
        else:
            self.btree.close()

    # -- control plane ------------------------------------------------------------------------

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
        definition = self._definition(region, name)
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
        self._tables.pop((definition.region, definition.name), None)

    async def delete_table(self, region: str, name: str) -> TableDefinition:
        """Drop a table and its items; answers the definition as DELETING."""
        definition = await self.describe_table(region, name)
        if definition.status == CREATING:
            raise ResourceInUseException(
                f"Attempt to change a resource which is still in use: Table is being created: {name}")
        if definition.tbl in self._dropping:  # a concurrent DeleteTable is logging its drop
            raise ResourceInUseException(
                f"Attempt to change a resource which is still in use: Table is being deleted: {name}")
        # From here on no write to this table may enter the log (see `commit`), and the
        # drop is logged behind every write that already did: redo replays them in order.
        self._tables.pop((region, name), None)
        self._dropping.add(definition.tbl)
        try:
            if self.replica is not None:
                await self.replica.drop_table(definition.tbl)
            with self._durably():
                self.catalog.delete(region, name)
        finally:
            self._dropping.discard(definition.tbl)
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

    @asynccontextmanager
    async def locked(self, writes: Sequence[tuple[Table, Any]]) -> AsyncIterator[None]:
        """Serialise writers of the same items from planning to commit.

        `writes` pairs a table with a request's `Key`, or with a whole item (only its
        key attributes count). Without this, two UpdateItem ADDs on one key would both
        read the same old value while the first waits for its group commit, and one
        increment would be lost; two conditional puts could both succeed. Writes to
        different keys do not wait for each other, so they still share group commits.
        A key that is not valid is not locked: planning the write rejects it anyway.
        In memory nothing awaits between planning and applying, so nothing is locked.
        """
        if self.replica is None:
            yield
            return
        keys = [key for key in (_lock_key(table, item) for table, item in writes) if key]
        async with self.replica.locked(keys):
            yield

    async def commit(self, writes: Sequence[tuple[Table, WritePlan]]) -> None:
        """Make one request's planned writes durable, then apply them.

        With a log, the mutations go into it as one record (durable and applied
        together, paper §3); this returns after its group commit's fsync and the
        B-tree update, so the caller acknowledges only durable writes.

        Raises:
            ResourceNotFoundException: a table was deleted (or re-created) since the
                write found it; its items must not be written into the new table.
        """
        for table, _ in writes:
            self._check_live(table)
        mutations: list[Mutation] = [plan.mutation for _, plan in writes
                                     if plan.mutation is not None]
        if not mutations:
            return
        if self.replica is None:
            self.btree.apply(mutations)
        else:
            await self.replica.write(mutations)

    # -- helpers ------------------------------------------------------------------------------

    def _definition(self, region: str, name: str) -> TableDefinition | None:
        """Read a definition, promoting CREATING to ACTIVE once the delay has passed."""
        definition = self.catalog.get(region, name)
        if (definition is not None and definition.status == CREATING
                and self.clock() >= definition.created_at + self.activation_delay):
            definition.status = ACTIVE
            with self._durably():
                self.catalog.update(definition)
        return definition

    def _check_live(self, table: Table) -> None:
        """Refuse a write whose table is being deleted, or was deleted (and perhaps
        re-created) while the write waited for its keys' locks."""
        definition = table.definition
        current = self.catalog.get(definition.region, definition.name)
        if (table.tbl in self._dropping or current is None
                or current.table_id != definition.table_id):
            raise ResourceNotFoundException(NOT_FOUND)

    @contextmanager
    def _durably(self) -> Iterator[None]:
        """Commit a catalog change with SQLite's synchronous=FULL.

        Items are durable through the write-ahead log, so the B-tree file runs with
        synchronous=NORMAL, under which a WAL-mode commit is not fsynced: a power cut
        could lose a table definition CreateTable had already acknowledged. Table
        definitions are not in the log, so their commits must fsync by themselves
        (FULL fsyncs SQLite's WAL file at commit, covering every earlier commit too).
        """
        if self.replica is None:
            yield
            return
        self.btree.conn.execute("PRAGMA synchronous=FULL")
        try:
            yield
        finally:
            self.btree.conn.execute("PRAGMA synchronous=NORMAL")

    def _table_for(self, definition: TableDefinition) -> Table:
        key = (definition.region, definition.name)
        table = self._tables.get(key)
        if table is None:
            table = Table(self.btree, definition)
            if definition.status == ACTIVE:
                self._tables[key] = table
        return table


def _lock_key(table: Table, item: Any) -> tuple[str, EncodedKey] | None:
    """The (table, key) a write locks, from a `Key` or a whole item; None if not valid."""
    if not isinstance(item, dict):
        return None
    key: Item = {name: item[name] for name in table.schema.names if name in item}
    try:
        return table.tbl, request_key(table.schema, key)
    except DynamoError:
        return None
