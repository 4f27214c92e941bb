"""ReplicatedNode: the database as one replication group, no partitions (§3, §5.1, §6.1).

What `dynamo serve --processes` runs: every item lives in one replication
group of three replicas in three availability zones, each replica a process
of its own (`processes.py` opens the group), and a request takes the paper's
path:

1. the API validates the wire JSON once and hands over a typed request;
2. this router sends it to the group's leader (writes, strong reads) or to
   any replica (eventually consistent reads);
3. the leader plans the write against its items plus the writes in flight,
   and replicates the resulting write-ahead-log record with Paxos;
4. it answers once a quorum has the record in their logs; every replica
   applies it to its own B-tree.

(`dynamo serve` without `--processes` runs the partitioned fleet instead,
`partitioned.py`.) Table definitions stay in the control plane
(`control.py`), in a catalog of their own: in DynamoDB they live in the
metadata systems, not in the partitions. DeleteTable drops the items through
the group's log, so the drop is ordered with the writes around it on every
replica.

Observability (DESIGN "Observability is a feature"): `admin_state()` is the
snapshot the admin endpoint serves, `events` the stream of elections, lease
changes and faults, and `admin_fault()` the teaching faults.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from dynamo.cluster.control import ACTIVE, ControlPlane
from dynamo.cluster.events import EventLog
from dynamo.paxos import PaxosConfig
from dynamo.paxos.operations import (
    DeleteItem,
    DropItems,
    Ok,
    PutItem,
    Rejected,
    UpdateItem,
)
from dynamo.storage.btree import BTree
from dynamo.storage.catalog import Catalog, TableDefinition
from dynamo.storage.errors import InternalServerError, ValidationException
from dynamo.storage.keys import KeySchema
from dynamo.wal.log import FsyncPolicy

FULL_RANGE = ("00" * 16, "ff" * 16)  # the whole 128-bit hashed key space: one partition
FAULTS = ("kill", "restart", "cut", "heal")


class TableRef:
    """A table as the router knows it: its definition and key schema."""

    def __init__(self, definition: TableDefinition) -> None:
        self.definition = definition
        self.schema: KeySchema = definition.key_schema


class ReplicatedNode(ControlPlane):
    """The control plane, and a router in front of one replication group.

    `ProcessNode` (`processes.py`) opens the group, whose replicas are processes
    of their own (`_open_group`).
    """

    mode = "replicated"

    def __init__(self, data_dir: str | os.PathLike[str] | None = None, *, replicas: int = 3,
                 activation_delay: float = 0.0, clock: Callable[[], float] = time.time,
                 fsync: FsyncPolicy = "always", config: PaxosConfig | None = None,
                 link_delay_ms: float = 0.0) -> None:
        root = None if data_dir is None else Path(data_dir)
        if root is not None:
            root.mkdir(parents=True, exist_ok=True)
        self.events = EventLog(clock)
        self.catalog_btree = BTree(None if root is None else root / "catalog.sqlite3")
        super().__init__(Catalog(self.catalog_btree), activation_delay=activation_delay,
                         clock=clock)
        ids = tuple(f"n{i + 1}" for i in range(replicas))
        zones = tuple(f"az{i + 1}" for i in range(replicas))
        self.group = self._open_group(ids, zones, root, config, fsync, link_delay_ms)
        self._tables: dict[tuple[str, str], TableRef] = {}
        self._started = False

    def _open_group(self, ids: tuple[str, ...], zones: tuple[str, ...], root: Path | None,
                    config: PaxosConfig | None, fsync: FsyncPolicy, link_delay_ms: float) -> Any:
        """The replication group this node routes to (`processes.py` opens one)."""
        raise NotImplementedError

    async def start(self) -> None:
        """Boot the replicas on the running loop and wait for a leader to serve."""
        if not self._started:
            self._started = True
            self.group.start()
            await self.finish_deletes()

    def close(self) -> None:
        self.group.close()
        self.catalog_btree.close()

    # -- the control plane's questions ---------------------------------------------------------

    async def _drop_items(self, definition: TableDefinition) -> None:
        await self._send(DropItems(definition.tbl), leader=True)

    def stats(self, definition: TableDefinition) -> tuple[int, int]:
        btree = self.group.leader_store().btree
        return btree.count(definition.tbl), btree.size(definition.tbl)

    def _forget(self, definition: TableDefinition) -> None:
        self._tables.pop((definition.region, definition.name), None)

    # -- data plane ---------------------------------------------------------------------------

    def table(self, region: str, name: str) -> TableRef:
        """The ACTIVE table `name` (ResourceNotFoundException otherwise)."""
        ref = self._tables.get((region, name))
        if ref is None:
            ref = TableRef(self.active(region, name))
            if ref.definition.status == ACTIVE:
                self._tables[(region, name)] = ref
        return ref

    async def write(self, request: PutItem | UpdateItem | DeleteItem) -> Any:
        """Send a write to the leader; its plan once a quorum has logged it."""
        if self._tables.get((request.table.region, request.table.name)) is None:
            self.check_live(request.table)
        return await self._send(request, leader=True)

    async def write_batch(self, requests: Sequence[PutItem | DeleteItem]) -> list[Any]:
        """BatchWriteItem's writes, each its own log record, all in flight at once."""
        return list(await asyncio.gather(*(self.write(r) for r in requests)))

    async def read(self, request: Any) -> Any:
        """A strong read from the leader under its lease; an eventual one from any replica."""
        return await self._send(request, leader=request.consistent)

    async def _send(self, request: Any, *, leader: bool) -> Any:
        await self.start()
        result = await self.group.request(request, leader_only=leader)
        if type(result) is Ok:
            return result.value
        if type(result) is Rejected:
            raise result.error
        raise InternalServerError(f"The replication group could not serve the request: {result}")

    # -- observability ------------------------------------------------------------------------

    def admin_state(self) -> dict[str, Any]:
        """Nodes, and each table's partition with its leader, ballot and replicas."""
        group = self.group.state()
        nodes = [{"id": r["node"], "zone": r["zone"], "pid": r.get("pid", os.getpid()),
                  "up": r["role"] != "down"} for r in group["replicas"]]
        partitions = []
        for region, name in self._all_tables():
            partitions.append({"table": f"{region}/{name}", "partition": "p0",
                               "key_range": list(FULL_RANGE), "leader": group["leader"],
                               "ballot": group["ballot"], "replicas": group["replicas"]})
        return {"mode": self.mode, "nodes": nodes, "group": group, "partitions": partitions}

    def admin_fault(self, fault: dict[str, Any]) -> dict[str, Any]:
        """Kill or restart a node, cut a link one way, or heal every link.

        Raises:
            ValidationException: an unknown action or node.
        """
        action, node, to = fault.get("action"), fault.get("node"), fault.get("to")
        nodes = self.group.ids
        if action not in FAULTS:
            raise ValidationException(f"action must be one of {', '.join(FAULTS)}")
        if action != "heal" and node not in nodes:
            raise ValidationException(f"node must be one of {', '.join(nodes)}")
        if action == "kill":
            self.group.kill(node)
        elif action == "restart":
            self.group.restart(node)
        elif action == "cut":
            if to not in nodes or to == node:
                raise ValidationException(f"to must be another of {', '.join(nodes)}")
            self.group.cut_link(node, to)
        else:
            self.group.heal()
        return {"ok": True, "fault": fault}

    def _all_tables(self) -> list[tuple[str, str]]:
        return self.catalog.all()
