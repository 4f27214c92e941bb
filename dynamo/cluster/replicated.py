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

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dynamo.cluster.control import RoutedControlPlane, TableRef
from dynamo.cluster.events import EventLog
from dynamo.paxos import PaxosConfig
from dynamo.paxos.operations import (
    DropItems,
    Ok,
    Rejected,
)
from dynamo.paxos.statemachine import is_read
from dynamo.storage.btree import BTree
from dynamo.storage.catalog import Catalog, TableDefinition
from dynamo.storage.errors import InternalServerError
from dynamo.wal.log import FsyncPolicy

FULL_RANGE = ("00" * 16, "ff" * 16)  # the whole 128-bit hashed key space: one partition


class ReplicatedNode(RoutedControlPlane):
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
        await self._send(DropItems(definition.tbl))

    def stats(self, definition: TableDefinition) -> tuple[int, int]:
        btree = self.group.leader_store().btree
        return btree.count(definition.tbl), btree.size(definition.tbl)

    # -- data plane ---------------------------------------------------------------------------

    async def _send(self, request: Any) -> Any:
        """To the leader (writes, strong reads) or to any replica (eventual reads)."""
        await self.start()
        leader = not is_read(request) or request.consistent
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

    def _fault_target(self) -> tuple[Any, tuple[str, ...]]:
        return self.group, self.group.ids

    def _all_tables(self) -> list[tuple[str, str]]:
        return self.catalog.all()
