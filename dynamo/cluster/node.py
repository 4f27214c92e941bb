"""SingleNode: the whole database in one process and one replica, behind the API.

The paper's DynamoDB is a fleet (§3): request routers, a metadata service,
storage nodes replicating each partition three ways with Paxos. `dynamo serve`
runs that fleet by default (`PartitionedNode`); `dynamo serve --nodes 1` runs
this instead: one B-tree file (SQLite) holding every table's
items, the catalog beside it, and the per-item semantics of
`dynamo.storage.table` — a faithful DynamoDB *to its clients*, without
replication, for comparison.

Both speak the same data plane to the API: typed requests
(`dynamo.paxos.operations`), validated by the API, executed by the node:

    table = node.table("us-east-1", "Music")           # ACTIVE, or ResourceNotFound
    plan = await node.write(PutItem(table.definition, item, compiled))
    item, capacity = await node.read(GetItem(table.definition, key, consistent=True))

Tables live in a region, as in DynamoDB: the API takes the region from the
request's SigV4 credential scope, so `us-east-1` and `eu-west-1` each have
their own `Music`.

With a data directory, every write goes through the replica's write-ahead log
(`dynamo.wal.LoggedReplica`, paper §3, §5.1): a write's mutations go into it as
one record, and `write` returns only once group commit has fsynced it and the
B-tree has applied it. Because that awaits, a read-modify-write (a condition, an
UpdateItem) must not be planned from a state another in-flight write is about to
change, so the node holds the keys' locks from planning to commit. (The
replicated group does better: its leader plans against the writes in flight.)

Transactions (TransactWriteItems, TransactGetItems) run as DynamoDB Local runs
them on one node, without the fleet's two-phase commit (ATC'23 §3): every action
is planned against the B-tree under its item's lock; if any fails, nothing is
written and the answer is TransactionCanceledException with a reason per action;
else every plan's mutations go into the log as one record and the B-tree as one
transaction, so no reader ever sees half of one. A TransactGetItems reads its
items in one go, with nothing awaited between them. ClientRequestTokens are
remembered in memory, as a coordinator's ledger remembers them (`Ledger`), so a
restart forgets them: the fleet's coordinator keeps its ledger on disk.

Table definitions (the control plane, `control.py`) are not in the log: they
live in the B-tree's SQLite file, which the log lets run with
synchronous=NORMAL, so each catalog change is committed with synchronous=FULL
to make it durable by itself.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from dynamo.cluster.control import ACTIVE, ControlPlane
from dynamo.cluster.events import EventLog
from dynamo.cluster.ttl import INTERVAL_S, Sweeper
from dynamo.paxos.operations import (
    DeleteItem,
    GetItem,
    Ok,
    PutItem,
    Query,
    Rejected,
    Scan,
    UpdateItem,
)
from dynamo.paxos.statemachine import plan_write
from dynamo.storage.attributes import Item
from dynamo.storage.btree import BTree, Mutation
from dynamo.storage.catalog import Catalog, TableDefinition
from dynamo.storage.errors import DynamoError, ResourceNotFoundException, ValidationException
from dynamo.storage.keys import EncodedKey, request_key
from dynamo.storage.table import Table, WritePlan
from dynamo.transactions.ledger import Begun, Completed, Decided, Ledger, repeated
from dynamo.transactions.operations import (
    Action,
    Committed,
    ItemsRead,
    TransactGet,
    TransactWrite,
    cancelled,
    doubled,
    reason_for,
)
from dynamo.transactions.participant import plan_action
from dynamo.wal import LoggedReplica, Store
from dynamo.wal.log import FsyncPolicy

Write = PutItem | UpdateItem | DeleteItem


class SingleNode(ControlPlane):
    """One process, one B-tree file and its write-ahead log, every table of every region."""

    def __init__(self, path: str | None = None, *, activation_delay: float = 0.0,
                 clock: Callable[[], float] = time.time, fsync: FsyncPolicy = "always",
                 archive: Store | None = None, ttl_interval: float = INTERVAL_S) -> None:
        """Open (or create) the database file at `path`, its log in `wal/` beside it, and
        recover it (replaying the log); None keeps everything in memory, without a log.

        `fsync` is the log's policy ("none" trades durability for speed); `archive`
        is where sealed log segments go (dynamo.wal.archive), if anywhere;
        `ttl_interval` is how often Time to Live's sweeper runs once started.
        """
        self.replica = None if path is None else LoggedReplica.open(
            Path(path).parent, btree_path=path, fsync=fsync, archive=archive)
        self.btree = BTree(None) if self.replica is None else self.replica.btree
        super().__init__(Catalog(self.btree), activation_delay=activation_delay, clock=clock)
        self._tables: dict[tuple[str, str], Table] = {}
        self.ledger = Ledger()  # ClientRequestTokens: of transactions, never of their items
        self.events = EventLog(clock)  # nothing happens to one node but requests and TTL sweeps
        self._finish_deletes()
        self.sweeper = Sweeper(self, ttl_interval, clock, self.events.append)

    async def start(self) -> None:
        """Start Time to Live's sweeper: the B-tree and its log were opened and recovered
        already."""
        self.sweeper.start()

    def admin_state(self) -> dict[str, Any]:
        """One node, one replica that leads itself (the admin endpoint's snapshot)."""
        applied = self.btree.applied_lsn()
        persisted = applied if self.replica is None else self.replica.log.last_lsn
        replica = {"node": "n1", "zone": "az1", "role": "leader", "persisted_lsn": persisted,
                   "applied_lsn": applied}
        partitions = [{"table": f"{region}/{name}", "partition": "p0",
                       "key_range": ["00" * 16, "ff" * 16], "leader": "n1", "ballot": None,
                       "replicas": [replica]} for region, name in self.catalog.all()]
        nodes = [{"id": "n1", "zone": "az1", "pid": os.getpid(), "up": True}]
        return {"mode": "single", "nodes": nodes, "partitions": partitions}

    def admin_fault(self, fault: dict[str, Any]) -> dict[str, Any]:
        raise ValidationException("faults need a replication group: dynamo serve --nodes 3")

    def close(self) -> None:
        """Close the log and the database file (writes still queued are not acknowledged)."""
        self.sweeper.stop()
        self._tables.clear()
        if self.replica is not None:
            self.replica.close_files()
        else:
            self.btree.close()

    # -- the control plane's questions ---------------------------------------------------------

    async def _drop_items(self, definition: TableDefinition) -> None:
        # Logged behind every write that already entered the log: redo replays them in order.
        if self.replica is not None:
            await self.replica.drop_table(definition.tbl)

    def _finish_deletes(self) -> None:
        """Finish every DeleteTable a crash cut short: its items and its row go, in one
        transaction: here the catalog and the items share the B-tree, so the catalog's
        delete drops the items too (`ControlPlane.finish_deletes` is the general form)."""
        for definition in self.cut_short():
            with self._durably():
                self.catalog.delete(definition.region, definition.name)

    def stats(self, definition: TableDefinition) -> tuple[int, int]:
        return self.catalog.usage(definition.region, definition.name)

    def _forget(self, definition: TableDefinition) -> None:
        self._tables.pop((definition.region, definition.name), None)

    def _durably(self) -> AbstractContextManager[None]:
        """Commit a catalog change durably by itself.

        Items are durable through the write-ahead log, so the B-tree file runs with
        synchronous=NORMAL, under which a commit is not fsynced: a power cut could
        lose a table definition CreateTable had already acknowledged. Table
        definitions are not in the log, so their commits fsync (`BTree.durable`).
        """
        return self.btree.durable()

    # -- data plane ---------------------------------------------------------------------------

    def table(self, region: str, name: str) -> Table:
        """The ACTIVE table `name`, for item operations.

        Raises:
            ResourceNotFoundException: no such table, or it is not ACTIVE yet.
        """
        table = self._tables.get((region, name))
        if table is not None:
            return table
        return self._table_for(self.active(region, name))

    async def write(self, request: Write) -> WritePlan:
        """Plan one write under its item's lock, log it, apply it; its plan is the answer.

        Raises:
            DynamoError: the write was refused (a false condition, an invalid update);
                nothing was written.
        """
        return (await self.write_batch([request]))[0]

    async def write_batch(self, requests: Sequence[Write]) -> list[WritePlan]:
        """Plan several writes, then commit them as one log record (all or none)."""
        tables = [self._table_for(request.table) for request in requests]
        keys = [(table, _subject(request)) for table, request in zip(tables, requests, strict=True)]
        async with self._locked(keys):
            plans = [plan_write(table, request) for table, request in zip(tables, requests, strict=True)]
            await self._commit(list(zip(tables, plans, strict=True)))
        return plans

    async def read(self, request: GetItem | Query | Any) -> Any:
        """Serve a read from the B-tree: GetItem's (item, capacity), or a Query/Scan page."""
        table = self._table_for(request.table)
        if type(request) is GetItem:
            # The API checked the key's values when it built the request.
            return table.get_item(request.key, request.consistent, request.projection,
                                  validated=True)
        if type(request) is Query:
            return table.query(**dict(request.arguments), consistent=request.consistent)
        return table.scan(**dict(request.arguments), consistent=request.consistent)

    async def transact(self, request: TransactWrite | TransactGet) -> Committed | ItemsRead:
        """A transaction, all of it or none: its answer, or DynamoDB's error.

        Raises:
            TransactionCanceledException: an action failed (reasons in request order);
                nothing was written.
            IdempotentParameterMismatchException: its ClientRequestToken came with other
                parameters within the last 10 minutes.
        """
        if type(request) is TransactGet:
            return self._read_together(request)
        assert type(request) is TransactWrite
        token = request.token
        if token is not None:
            answer = repeated(self.ledger.token(token, self._now_us()), request.fingerprint)
            if answer is not None:
                return _result(answer)
            # The token names its transaction in the ledger; while it runs, a repeat of
            # it is TransactionInProgressException.
            self.ledger.record(Begun(token, 0, (), token, request.fingerprint))
        decided = None
        try:
            decided, committed = await self._write_together(request)
        finally:  # undecided (the commit failed), the ledger forgets the token: a retry runs
            if token is not None:
                if decided is not None:
                    self.ledger.record(decided)
                self.ledger.record(Completed(token, self._now_us()))
        if committed is None:
            raise cancelled(decided.reasons)
        return committed

    async def _write_together(self, request: TransactWrite) -> tuple[Decided, Committed | None]:
        """Plan every action under its item's lock; commit them all as one write, or none.

        The decision, and what the client is told: the capacities of a commit, or None
        and the reasons of a cancellation, one per action in request order.
        """
        txn = request.token or ""
        tables = [self._table_for(action.table) for action in request.actions]
        pairs = list(zip(tables, request.actions, strict=True))
        async with self._locked([(table, _subject(action)) for table, action in pairs]):
            answers = [_planned(table, action) for table, action in pairs]
            if any(type(answer) is Rejected for answer in answers):
                return Decided(txn, False, tuple(reason_for(a) for a in answers)), None
            await self._commit([(table, answer.value)
                                for table, answer in zip(tables, answers, strict=True)])
        return Decided(txn, True), Committed(tuple(doubled(a.value.capacity) for a in answers))

    def _read_together(self, request: TransactGet) -> ItemsRead:
        """Read every item at once: a write commits all its items in one B-tree transaction,
        and nothing else runs between these reads, so they are one snapshot."""
        answers = [_read(self._table_for(get.table), get) for get in request.gets]
        if any(type(answer) is Rejected for answer in answers):
            raise cancelled(tuple(reason_for(answer) for answer in answers))
        return ItemsRead(tuple(answer.value[0] for answer in answers),
                         tuple(doubled(answer.value[1]) for answer in answers))

    def _now_us(self) -> int:
        return int(self.clock() * 1_000_000)

    # -- Time to Live's sweeper (ttl.py) ------------------------------------------------------

    def ttl_partitions(self, definition: TableDefinition) -> list[None]:
        """One piece: the whole table."""
        return [None]

    async def system_request(self, definition: TableDefinition, partition: str | None,
                             request: Any) -> Any:
        """The sweeper's Scan or DeleteItem, served as any other (one node admits all).

        The delete's `service` mark goes no further: this node logs mutations, not
        the partitioned fleet's `WriteRecord`.
        """
        if type(request) is Scan:
            return await self.read(request)
        return await self.write(request)

    # -- helpers ------------------------------------------------------------------------------

    @asynccontextmanager
    async def _locked(self, writes: Sequence[tuple[Table, Any]]) -> AsyncIterator[None]:
        """Serialise writers of the same items from planning to commit.

        Without this, two UpdateItem ADDs on one key would both read the same old
        value while the first waits for its group commit, and one increment would be
        lost; two conditional puts could both succeed. Writes to different keys do not
        wait for each other, so they still share group commits. A key that is not valid
        is not locked: planning the write rejects it anyway. In memory nothing awaits
        between planning and applying, so nothing is locked.
        """
        if self.replica is None:
            yield
            return
        keys = [key for key in (_lock_key(table, item) for table, item in writes) if key]
        async with self.replica.locked(keys):
            yield

    async def _commit(self, writes: Sequence[tuple[Table, WritePlan]]) -> None:
        """Make one request's planned writes durable, then apply them.

        Raises:
            ResourceNotFoundException: a table was deleted (or re-created) since the
                write found it; its items must not be written into the new table.
        """
        for table, _ in writes:
            self._check_live(table)
        # Each plan's item and its index entries: one log record, one transaction.
        mutations: list[Mutation] = [m for _, plan in writes for m in plan.mutations]
        if not mutations:
            return
        if self.replica is None:
            self.btree.apply(mutations)
        else:
            await self.replica.write(mutations)

    def _check_live(self, table: Table) -> None:
        definition = table.definition
        if table.tbl in self._dropping:
            raise ResourceNotFoundException("Requested resource not found")
        if self._tables.get((definition.region, definition.name)) is table:
            return  # still the cached ACTIVE table: every change of it drops the cache entry
        self.check_live(definition)

    def _table_for(self, definition: TableDefinition) -> Table:
        key = (definition.region, definition.name)
        table = self._tables.get(key)
        if table is None or table.definition.table_id != definition.table_id:
            table = Table(self.btree, definition)
            if definition.status == ACTIVE:
                self._tables[key] = table
        return table


def _subject(request: Write | Action) -> Item:
    """The item a write locks: a PutItem's whole item, or another action's key."""
    return request.item if type(request) is PutItem else request.key


def _lock_key(table: Table, item: Any) -> tuple[str, EncodedKey] | None:
    """The (table, key) a write locks, from a `Key` or a whole item; None if not valid."""
    if not isinstance(item, dict):
        return None
    key: Item = {name: item[name] for name in table.schema.names if name in item}
    try:
        return table.tbl, request_key(table.schema, key)
    except DynamoError:
        return None


def _planned(table: Table, action: Action) -> Ok | Rejected:
    """One action's plan, or why it cannot happen (its reason to cancel the transaction)."""
    try:
        return Ok(plan_action(table, action))
    except DynamoError as error:
        return Rejected(error)


def _read(table: Table, get: GetItem) -> Ok | Rejected:
    """One item of a TransactGetItems: (item, capacity), or why it cannot be read."""
    try:
        return Ok(table.get_item(get.key, True, get.projection, validated=True))
    except DynamoError as error:
        return Rejected(error)


def _result(answer: Ok | Rejected) -> Any:
    """A transaction's value, or its error raised (the fleet's answers, for the API)."""
    if type(answer) is Rejected:
        raise answer.error
    return answer.value
