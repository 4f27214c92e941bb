"""PartitionedNode: the database as a partitioned, replicated fleet (§3, §4, §6.6).

This is what `dynamo serve` runs by default. Each table is split into
partitions, contiguous ranges of its hashed key space; each partition is a
replication group of three replicas on storage nodes in three availability
zones (`dynamo.partitioning`). A request takes the paper's path:

1. the API validates the wire JSON once and hands over a typed request;
2. the request router finds the partition in its cached partition map and
   sends the request to the partition's leader (writes, strong reads) or to
   any of its replicas (eventual reads); a Scan walks the partitions of its
   segment in key order;
3. the leader plans the write and replicates its log record with Paxos; it
   answers once a quorum has it, and every replica applies it.

Table definitions stay in the control plane (`control.py`). CreateTable
places the table's first partition on three nodes in distinct zones and
registers it with the metadata service; the table splits as it grows past
`--split-size`. DeleteTable drops the items through each partition's log,
then removes the table's replicas from every node. Time to Live's sweeper
(`ttl.py`) sweeps a table partition by partition, through the router.

When a storage node stops answering, each group it was in heals (§5.1): its
leader adds a log replica on a spare node in the lost zone, and autoadmin a
full replacement, then retires the dead replica and the log replica
(`dynamo.partitioning.autoadmin`). That needs a spare: `--nodes 6` (two per
zone) heals, the default three nodes cannot. `admin_state` shows each
replica's `role` (`log` for a log replica) and `replica_role`.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from dynamo.admission.allocation import Throughput
from dynamo.admission.fleet import BALANCER, GAC
from dynamo.admission.messages import ForgetTable, SetTableLimits
from dynamo.admission.router import AdmittingRouter
from dynamo.admission.storage_admission import TableLimits
from dynamo.admission.storage_node import AdmittingStorageNode
from dynamo.cluster.control import RoutedControlPlane, TableRef
from dynamo.cluster.events import EventLog
from dynamo.cluster.fleet import METADATA, ROUTER, TC, Fleet, FleetSettings
from dynamo.cluster.ttl import INTERVAL_S, Sweeper
from dynamo.indexes.backfill import backfill
from dynamo.indexes.propagator import PROPAGATOR, TrackTable, UntrackTable
from dynamo.indexes.tables import index_tables
from dynamo.partitioning.keyspace import KEY_SPACE
from dynamo.partitioning.metadata import DropTable, RegisterTable
from dynamo.partitioning.partition_map import Partition, PartitionId, table_root
from dynamo.partitioning.placement import place_replicas
from dynamo.partitioning.router import Indefinite, ToPartition
from dynamo.partitioning.storage_node import (
    HandOffLeadership,
    HostPartition,
    UnhostPartition,
    UnhostTable,
)
from dynamo.paxos.operations import Ok, Rejected
from dynamo.storage.btree import BTree
from dynamo.storage.catalog import PAY_PER_REQUEST, Catalog, TableDefinition
from dynamo.storage.errors import InternalServerError
from dynamo.storage.indexes import SecondaryIndex, index_tbl
from dynamo.transactions.operations import TransactGet, TransactWrite

COLLECT_S = 1.0  # how often retired split parents are looked for
HANDOFF_S = 3.0  # how long a deploying node's leaders may take to hand off (a lease or so)
DEPLOY_DOWN_S = 0.5  # how long a deployed node is down


def root_partition(definition: TableDefinition) -> PartitionId:
    """A table's first partition: named after the table's id, so a table created again
    under an old name gets partitions of its own. Children add 0 (left) or 1 (right)."""
    return f"t{definition.table_id.replace('-', '')[:12]}."


def table_limits(definition: TableDefinition) -> TableLimits:
    """What admission control keeps of a table: its provisioned throughput, or on-demand."""
    return TableLimits(Throughput(definition.read_capacity, definition.write_capacity),
                       on_demand=definition.billing_mode == PAY_PER_REQUEST)


def index_limits(definition: TableDefinition, index: SecondaryIndex) -> TableLimits:
    """What admission control keeps of a global index: a table's limits of its own, its
    provisioned throughput (or on-demand, with its table)."""
    return TableLimits(Throughput(index.read_capacity, index.write_capacity),
                       on_demand=definition.billing_mode == PAY_PER_REQUEST, of_index=True)


class PartitionedNode(RoutedControlPlane):
    """The control plane in front of a fleet of storage nodes, a router and MemDS."""

    mode = "partitioned"

    def __init__(self, data_dir: str | os.PathLike[str] | None = None, *,
                 settings: FleetSettings | None = None, activation_delay: float = 0.0,
                 clock: Callable[[], float] = time.time, ttl_interval: float = INTERVAL_S) -> None:
        root = None if data_dir is None else Path(data_dir)
        if root is not None:
            root.mkdir(parents=True, exist_ok=True)
        self.events = EventLog(clock)
        self.catalog_btree = BTree(None if root is None else root / "catalog.sqlite3")
        super().__init__(Catalog(self.catalog_btree), activation_delay=activation_delay,
                         clock=clock)
        self.settings = settings or FleetSettings()
        self.fleet = self._open_fleet(None if root is None else root / "nodes")
        self._tables: dict[tuple[str, str], TableRef] = {}
        self._started = False
        self._collector: asyncio.Task[None] | None = None
        # Cumulative counters (requests served, units consumed) when last read: rates.
        self._counted: dict[tuple[str, PartitionId], tuple[float, list[float]]] = {}
        self.sweeper = Sweeper(self, ttl_interval, clock, self.events.append)
        self._sending: set[int] = set()  # data-plane requests under way (`_quiesce`)
        self._sends = itertools.count()
        self._index_work: set[asyncio.Task[None]] = set()  # backfills and index drops

    def _open_fleet(self, root: Path | None) -> Fleet:
        """The fleet, its nodes' disks under `root` (None: in memory)."""
        return Fleet(root, self.settings, self.events.append)

    async def start(self) -> None:
        """Boot the fleet, tell the metadata service every table, finish cut-short work."""
        if self._started:
            return
        self._started = True
        self.fleet.start()
        for definition in self._definitions():
            await self._tell_limits(definition)
            await self._register(definition, ())
            for _, tbl, root in index_tables(definition):
                await self._register_table(tbl, root, ())
            await self.fleet.request(PROPAGATOR, TrackTable(definition))
            self._resume_index_work(definition)
        await self._place_missing()
        await self._unhost_deleted()
        await self.finish_deletes()
        self._collector = asyncio.get_running_loop().create_task(self._collect_retired())
        self.sweeper.start()

    def close(self) -> None:
        if self._collector is not None:
            self._collector.cancel()
        self.sweeper.stop()
        self.fleet.close()
        self.catalog_btree.close()

    # --- the control plane's questions ---------------------------------------------------

    async def create_table(self, definition: TableDefinition) -> TableDefinition:
        """Record the table, then place its first partition on three nodes in three zones."""
        await self.start()
        created = await super().create_table(definition)
        await self._tell_limits(created)
        await self._place(created)
        for _, tbl, root in index_tables(created):
            await self._place_table(tbl, root)
        await self.fleet.request(PROPAGATOR, TrackTable(created))
        return created

    async def update_table(self, definition: TableDefinition) -> None:
        """Store the changed definition; a new throughput reaches every bucket at once.

        A global index added (CREATING) is placed and known to the propagator before the
        definition is stored, then backfilled; one being deleted (DELETING) is dropped.
        """
        before = self.catalog.get(definition.region, definition.name)
        known = set() if before is None else {i.name for i in before.global_indexes}
        for index, tbl, root in index_tables(definition):
            if index.name not in known:
                await self._place_table(tbl, root)
        await self.fleet.request(PROPAGATOR, TrackTable(definition))
        await super().update_table(definition)
        await self._tell_limits(definition)
        self._resume_index_work(definition)

    async def _drop_items(self, definition: TableDefinition) -> None:
        """Forget the table's map and remove its replicas, with their B-trees, everywhere.

        A write still in flight lands in a replica about to go; a table created again
        under the name gets partitions of its own (`root_partition`), never these.
        """
        await self.fleet.request(METADATA, DropTable(definition.tbl))
        await self.fleet.request(PROPAGATOR, UntrackTable(definition.tbl))
        for index, _, _ in index_tables(definition):
            await self._drop_index_partitions(definition, index.name)
        if GAC in self.fleet.hosts:
            await self.fleet.request(GAC, ForgetTable(definition.tbl))
        for node in self.fleet.storage_nodes:
            if self.fleet.hosts[node].up:
                await self.fleet.request(node, UnhostTable(root_partition(definition)))

    def stats(self, definition: TableDefinition) -> tuple[int, int]:
        """ItemCount and TableSizeBytes: each partition's, from its leader, added up."""
        return self._counted_rows(definition.tbl, definition.tbl)

    def index_stats(self, definition: TableDefinition) -> dict[str, tuple[int, int]]:
        """Each index's ItemCount and IndexSizeBytes: a global index's entries are in its
        own partitions, a local index's in the table's."""
        return {index.name: self._counted_rows(
                    index_tbl(definition.tbl, index) if index.is_global else definition.tbl,
                    index_tbl(definition.tbl, index))
                for index in definition.indexes}

    def _counted_rows(self, partitions_of: str, rows: str) -> tuple[int, int]:
        """How many rows filed under `rows` the partitions of `partitions_of` hold, and
        their bytes: each partition's, from its leader, added up."""
        count = size = 0
        table_map = self.fleet.metadata.maps.get(partitions_of)
        for partition in () if table_map is None else table_map.partitions:
            store = self._store(partition)
            if store is not None:
                count += store.btree.count(rows)
                size += store.btree.size(rows)
        return count, size

    # --- data plane ------------------------------------------------------------------------

    async def _send(self, request: Any) -> Any:
        await self.start()
        token = next(self._sends)
        self._sending.add(token)
        try:
            result = await self.fleet.request(ROUTER, request)
        finally:
            self._sending.discard(token)
        if type(result) is Ok:
            return result.value
        if type(result) is Rejected:
            raise result.error
        if type(result) is Indefinite:
            raise InternalServerError(f"The request's outcome is unknown: {result.reason}")
        raise InternalServerError(f"The partition could not serve the request: {result}")

    async def transact(self, request: TransactWrite | TransactGet) -> Any:
        """A transaction, run by the transaction coordinator (ATC'23 §3.1): its answer
        (`Committed`, `ItemsRead`), or DynamoDB's error (TransactionCanceledException...)."""
        await self.start()
        result = await self.fleet.request(TC, request)
        if type(result) is Ok:
            return result.value
        raise result.error

    # --- Time to Live's sweeper (ttl.py) ---------------------------------------------

    def ttl_partitions(self, definition: TableDefinition) -> list[PartitionId]:
        """The table's partitions, as the metadata service maps them now."""
        table_map = self.fleet.metadata.maps.get(definition.tbl)
        return [] if table_map is None else [p.id for p in table_map.partitions]

    async def system_request(self, definition: TableDefinition, partition: str | None,
                             request: Any) -> Any:
        """A request of the system's own, routed to one partition: admission control
        lets it through uncharged (`ToPartition`)."""
        assert partition is not None
        return await self._send(ToPartition(definition.tbl, partition, request))

    # --- admission control --------------------------------------------------------------

    async def _tell_limits(self, definition: TableDefinition,
                           nodes: tuple[str, ...] | None = None) -> None:
        """Tell the storage nodes and GAC a table's throughput, and each of its global
        indexes' as a table of its own (they keep it in memory)."""
        if self.settings.admission is None:
            return
        tables = [(definition.tbl, root_partition(definition), table_limits(definition))]
        tables += [(tbl, root, index_limits(definition, index))
                   for index, tbl, root in index_tables(definition)]
        for node in self.fleet.control_nodes() if nodes is None else nodes:
            if self.fleet.hosts[node].up:
                for tbl, root, limits in tables:
                    await self.fleet.request(node, SetTableLimits(tbl if node == GAC else root,
                                                                  limits))

    async def _tell_restarted(self, node: str) -> None:
        for definition in self._definitions():
            await self._tell_limits(definition, (node,))
        await self._unhost_deleted()

    # --- placement --------------------------------------------------------------------------

    async def _place(self, definition: TableDefinition) -> None:
        """Host a table's first partition on three nodes, and register it with MemDS."""
        await self._place_table(definition.tbl, root_partition(definition))

    async def _place_table(self, tbl: str, partition: PartitionId) -> None:
        """Host a first partition (a table's, or a global index's) and register it."""
        load = {node: len(self._hosted(node)) for node in self.fleet.storage_nodes}
        up = {n for n in self.fleet.storage_nodes if self.fleet.hosts[n].up}
        replicas = place_replicas(self.fleet.zones, load, up)
        for node in replicas:
            await self.fleet.request(node, HostPartition(partition, tbl, 0, KEY_SPACE, replicas))
        await self._register_table(tbl, partition, replicas)

    async def _register(self, definition: TableDefinition, replicas: tuple[str, ...]) -> None:
        await self._register_table(definition.tbl, root_partition(definition), replicas)

    async def _register_table(self, tbl: str, partition: PartitionId,
                              replicas: tuple[str, ...]) -> None:
        await self.fleet.request(METADATA, RegisterTable(tbl, partition, replicas))

    async def _place_missing(self) -> None:
        """Place the tables a crash left in the catalog without a partition anywhere."""
        hosted = {h.table for node in self.fleet.storage_nodes for h in self._hosted(node)}
        for definition in self._definitions():
            if definition.tbl not in hosted:
                await self._place(definition)
            for _, tbl, root in index_tables(definition):
                if tbl not in hosted:
                    await self._place_table(tbl, root)

    async def _unhost_deleted(self) -> None:
        """Remove replicas of tables deleted while their node was down."""
        live = {root for d in self._definitions()
                for root in (root_partition(d), *(r for _, _, r in index_tables(d)))}
        for node in self.fleet.storage_nodes:
            roots = {table_root(h.partition) for h in self._hosted(node)}
            for root in roots - live:
                await self.fleet.request(node, UnhostTable(root))

    async def _collect_retired(self) -> None:
        """Remove split parents' replicas once every member has made both children (the
        paper's autoadmin tidies up after a split, §4.4); until then a lagging member may
        still learn of the split from its peers."""
        while True:
            await asyncio.sleep(COLLECT_S)
            for parent, holders in self.fleet.metadata.retired():
                for node in holders:
                    if self.fleet.hosts[node].up:
                        await self.fleet.request(node, UnhostPartition(parent))
                self.events.append({"kind": "partition_retired", "partition": parent})

    def _hosted(self, node: str) -> list[Any]:
        storage = self.fleet.storage(node)
        return [] if storage is None else list(storage.hosted.values())

    def _store(self, partition: Partition) -> Any:
        """The store of the partition's leader, or of any replica that is up."""
        for node in (partition.leader, *partition.replicas):
            storage = None if node is None else self.fleet.storage(node)
            if storage is not None and partition.id in storage.replicas:
                return storage.store(partition.id)
        return None

    def _definitions(self) -> list[TableDefinition]:
        found = (self.catalog.get(region, name) for region, name in self.catalog.all())
        return [d for d in found if d is not None]

    # --- global secondary indexes (dynamo.indexes) ---------------------------------------

    def _resume_index_work(self, definition: TableDefinition) -> None:
        """Backfill each global index CREATING, drop each one DELETING (once each)."""
        for index in definition.global_indexes:
            work = {"CREATING": self._build_index, "DELETING": self._drop_index}.get(index.status)
            key = f"{definition.tbl}#{index.name}"
            if work is None or key in {t.get_name() for t in self._index_work}:
                continue
            task = asyncio.get_running_loop().create_task(
                work(definition.region, definition.name, index.name), name=key)
            self._index_work.add(task)
            task.add_done_callback(self._index_work.discard)

    async def _build_index(self, region: str, name: str, index: str) -> None:
        """Backfill a new index (`Backfilling`), wait for the propagator, make it ACTIVE."""
        self.events.append({"kind": "backfill_started", "table": name, "index": index})
        await self._quiesce()  # no request planned with the old definition is left
        definition = self.catalog.get(region, name)
        if definition is None:
            return
        items = await backfill(definition, index, self._send, asyncio.sleep)
        await self._propagated(definition.tbl)
        if await self._set_index(region, name, index, status="ACTIVE", backfilling=False):
            self.events.append({"kind": "backfill_finished", "table": name, "index": index,
                                "items": items})

    async def _drop_index(self, region: str, name: str, index: str) -> None:
        """Remove a DELETING index's partitions, then the index from the definition."""
        definition = self.catalog.get(region, name)
        if definition is not None:
            await self._drop_index_partitions(definition, index)
            await self._set_index(region, name, index)
            self.events.append({"kind": "index_deleted", "table": name, "index": index})

    async def _drop_index_partitions(self, definition: TableDefinition, index: str) -> None:
        for found, tbl, root in index_tables(definition):
            if found.name == index:
                await self.fleet.request(METADATA, DropTable(tbl))
                if GAC in self.fleet.hosts:
                    await self.fleet.request(GAC, ForgetTable(tbl))
                for node in self.fleet.storage_nodes:
                    if self.fleet.hosts[node].up:
                        await self.fleet.request(node, UnhostTable(root))

    async def _set_index(self, region: str, name: str, index: str, **changes: Any) -> bool:
        """Store the index changed (no changes: removed); False if the table is gone."""
        definition = self.catalog.get(region, name)
        if definition is None or definition.status == "DELETING":
            return False
        if changes:
            definition.indexes = [replace(i, **changes) if i.name == index else i
                                  for i in definition.indexes]
        else:
            definition.indexes = [i for i in definition.indexes if i.name != index]
        await self.fleet.request(PROPAGATOR, TrackTable(definition))
        await super().update_table(definition)
        return True

    async def _quiesce(self) -> None:
        """Wait until every data-plane request under way now has been answered."""
        before = set(self._sending)
        while before & self._sending:
            await asyncio.sleep(0.01)

    async def _propagated(self, tbl: str, patience_s: float = 30.0) -> None:
        """Wait until the propagator has seen the table's outboxes empty twice running."""
        deadline, empty = time.monotonic() + patience_s, 0
        while empty < 2 and time.monotonic() < deadline:
            lag = self.fleet.propagator.snapshot()["tables"].get(tbl, {"pending": 1})
            empty = empty + 1 if lag["pending"] == 0 else 0
            await asyncio.sleep(0.1)

    # --- observability -------------------------------------------------------------------

    def admin_state(self) -> dict[str, Any]:
        """Nodes, and every partition of every table with its range, leader and replicas."""
        nodes, partitions = [], []
        for node_id in self.fleet.storage_nodes:
            storage = self.fleet.storage(node_id)
            views = {} if storage is None else storage.snapshot()["partitions"]
            nodes.append({"id": node_id, "zone": self.fleet.zones[node_id], "pid": os.getpid(),
                          "up": storage is not None, "replicas": len(views),
                          "leaders": sum(v["role"] == "leader" for v in views.values())})
        names = {d.tbl: f"{d.region}/{d.name}" for d in self._definitions()}
        for table, table_map in sorted(self.fleet.metadata.maps.items()):
            if table in names:
                partitions += [self._partition_state(names[table], p)
                               for p in table_map.partitions]
        versions = {names[t]: m.version for t, m in self.fleet.metadata.maps.items()
                    if t in names}
        return {"mode": self.mode, "nodes": nodes, "map_versions": versions,
                "partitions": partitions, "admission": self._admission_state(names),
                "indexes": self._index_state()}

    def _index_state(self) -> dict[str, Any]:
        """Per table with global indexes: each index's status, and the propagation lag (the
        outbox rows waiting at the propagator's last look, and the oldest one's age)."""
        lag = self.fleet.propagator.snapshot()["tables"]
        return {f"{d.region}/{d.name}": {
            "lag": lag.get(d.tbl, {"pending": 0, "oldest_ms": 0.0}),
            "indexes": {i.name: {"status": i.status, "backfilling": i.backfilling}
                        for i in d.global_indexes}}
            for d in self._definitions() if d.global_indexes}

    def _admission_state(self, names: dict[str, str]) -> dict[str, Any]:
        """Bucket levels, allocations and throttle counts, from every node that keeps some.

        A partition's buckets are shown from its leader's node, where its writes and
        strong reads are admitted.
        """
        era = self.settings.admission
        if era is None:
            return {"era": None}
        now = self.fleet.now_ms()
        router = self.fleet.router
        state: dict[str, Any] = {
            "era": era.value, "throttles": {
                "router": router.tokens.throttles if isinstance(router, AdmittingRouter) else 0,
                "storage": 0},
            "tables": {}, "partitions": {}, "nodes": {}}
        balancer = self.fleet.hosts.get(BALANCER)
        if balancer is not None and balancer.node is not None:
            state["rebalances"] = balancer.node.snapshot()["moves"]
        gac = self.fleet.hosts.get(GAC)
        if gac is not None and gac.node is not None:
            # A global index's tokens are shown beside its table's, as `region/table/index/name`.
            labels = {**names, **{tbl: f"{d.region}/{d.name}/index/{index.name}"
                                  for d in self._definitions()
                                  for index, tbl, _ in index_tables(d)}}
            state["tables"] = {labels[t]: v for t, v in
                               gac.node.snapshot()["tables"].items() if t in labels}
        by_root = {root_partition(d): f"{d.region}/{d.name}" for d in self._definitions()}
        for node_id in self.fleet.storage_nodes:
            storage = self.fleet.storage(node_id)
            if not isinstance(storage, AdmittingStorageNode):
                continue
            buckets = storage.admission.state(now)
            state["throttles"]["storage"] += buckets["throttles"]
            state["nodes"][node_id] = buckets["node"]
            for partition, entry in buckets["partitions"].items():
                replica = storage.replicas.get(partition)
                table = by_root.get(table_root(partition))
                if table is None or replica is None:
                    continue
                if replica.leader is not None or partition not in state["partitions"]:
                    state["partitions"][partition] = {"table": table, "node": node_id, **entry}
        for partition, entry in state["partitions"].items():
            entry["rate"] = self._consumed_rate(partition, entry)
        return state

    def _consumed_rate(self, partition: PartitionId, entry: dict[str, Any]) -> dict[str, float]:
        """Capacity units a second the partition consumed since the last state."""
        consumed = [entry.get(kind, {}).get("consumed", 0.0) for kind in ("read", "write")]
        read, write = self._per_second(("consumed", partition), consumed)
        return {"read": read, "write": write}

    def _per_second(self, counter: tuple[str, PartitionId],
                    totals: list[float]) -> tuple[float, ...]:
        """How fast cumulative `totals` grew since this counter was last read (0 at first)."""
        now = time.monotonic()
        before = self._counted.get(counter)
        self._counted[counter] = (now, totals)
        if before is None or now <= before[0]:
            return tuple(0.0 for _ in totals)
        elapsed = now - before[0]
        return tuple(round(max(0.0, total - old) / elapsed, 1)
                     for total, old in zip(totals, before[1], strict=True))

    def _partition_state(self, table: str, partition: Partition) -> dict[str, Any]:
        """The partition's replicas: each one's `role` in the group (leader, follower, or
        `log`, a log replica's, §5.1) and `replica_role` (`full` or `log`, as the group's
        members say: a log replica that is down is still one)."""
        replicas, leader, ballot, log_members = [], None, None, set()
        for node_id in partition.replicas:
            storage = self.fleet.storage(node_id)
            replica = None if storage is None else storage.replicas.get(partition.id)
            log_members |= set(() if replica is None else replica.log_members)
        for node_id in partition.replicas:
            storage = self.fleet.storage(node_id)
            replica = None if storage is None else storage.replicas.get(partition.id)
            view = {} if replica is None else replica.snapshot()
            role = view.get("role", "down")
            if role == "leader":
                leader, ballot = node_id, view.get("ballot")
            replicas.append({"node": node_id, "zone": self.fleet.zones[node_id], "role": role,
                             "replica_role": "log" if node_id in log_members else "full",
                             "persisted_lsn": view.get("last_index"),
                             "commit_index": view.get("commit_index"),
                             "applied_lsn": None if replica is None
                             else replica.store.applied_lsn})
        store = self._store(partition)
        items, size = (0, 0) if store is None else (store.btree.count(partition.table),
                                                    store.btree.size(partition.table))
        return {"table": table, "partition": partition.id,
                "key_range": list(partition.key_range.hex()), "leader": leader,
                "ballot": ballot, "replicas": replicas, "items": items, "size_bytes": size,
                **self._rates(partition), "status": "active"}

    def _rates(self, partition: Partition) -> dict[str, float]:
        """Reads and writes a second the partition's replicas took since the last state."""
        nodes = [self.fleet.storage(n) for n in partition.replicas]
        served = [float(sum(node.served.get(partition.id, [0, 0])[i] for node in nodes
                            if node is not None)) for i in (0, 1)]
        reads, writes = self._per_second(("served", partition.id), served)
        return {"reads_per_s": reads, "writes_per_s": writes}

    def _fault_target(self) -> tuple[Any, tuple[str, ...]]:
        return self, self.fleet.storage_nodes

    def kill(self, node: str) -> None:
        self.fleet.kill(node)

    def restart(self, node: str) -> None:
        """Restart a node, and remove what it hosts of tables deleted while it was down."""
        self.fleet.restart(node)
        asyncio.get_running_loop().create_task(self._tell_restarted(node))

    def deploy(self, node: str) -> None:
        """Deploy new software to a node, as DynamoDB does continuously (§6.4): first its
        leaders hand their leadership off, then it stops and starts again."""
        asyncio.get_running_loop().create_task(self._deploy(node))

    async def _deploy(self, node: str) -> None:
        loop = asyncio.get_running_loop()
        asked: tuple[str, ...] = ()
        if self.fleet.hosts[node].up:
            asked = (await self.fleet.request(node, HandOffLeadership())).value
        self.events.append({"kind": "deploy_started", "node": node, "leading": len(asked)})
        deadline = loop.time() + HANDOFF_S
        # Stopped only once each successor leads under a lease: its lease rests on this
        # node's grant too (handoff.py, H4), which a node stopped earlier never gives.
        while not self._handed_off(node, asked) and loop.time() < deadline:
            await asyncio.sleep(0.01)
        still = self._leaderships(node)
        self.fleet.kill(node)
        await asyncio.sleep(DEPLOY_DOWN_S)  # the new software installs
        self.fleet.restart(node)
        await self._tell_restarted(node)
        self.events.append({"kind": "deployed", "node": node, "handed_off": len(asked) - still,
                            "still_leading": still})

    def _handed_off(self, node: str, partitions: tuple[str, ...]) -> bool:
        """Whether every partition in `partitions` has a leader with a lease elsewhere."""
        now = self.fleet.now_ms()
        for partition in partitions:
            leaders = [storage.replicas[partition].leader
                       for other in self.fleet.storage_nodes if other != node
                       if (storage := self.fleet.storage(other)) is not None
                       and partition in storage.replicas]
            if not any(leader is not None and leader.lease.holds(now) for leader in leaders):
                return False
        return True

    def _leaderships(self, node: str) -> int:
        storage = self.fleet.storage(node)
        return 0 if storage is None else sum(
            r.leader is not None for r in storage.replicas.values())

    def cut_link(self, src: str, dst: str) -> None:
        self.fleet.cut_link(src, dst)

    def heal(self) -> None:
        self.fleet.heal()
