"""ProcessNode: the replication group's replicas as processes of their own (§3, §6.1).

`dynamo serve --processes` runs one replication group, without partitions
(`ReplicatedNode`), each storage replica its own operating-system process (`python -m
dynamo.net node`), with its own write-ahead log and its own on-disk B-tree,
talking to its peers over TCP (`dynamo.net`). The serve process keeps the
front end: the API, the control plane (the catalog of tables, as DynamoDB's
metadata systems keep it apart from the partitions) and a request router
that sends typed requests to the replicas over the same versioned,
checksummed frames the replicas use among themselves.

So a fault is real: `/admin/fault` kill is SIGKILL, and the replica loses
everything but its disk; restart starts the process again, which rebuilds
from its B-tree plus the tail of its log and catches up from the leader.

The router is the embedded group's (`routing.py`): a request that could not
be *sent* (the process is down, its port refuses) is retried at another
replica; a write that was sent and got no answer (its connection broke: the
process died) may still be chosen, so it is answered with a 500 "outcome
unknown" and the client decides. Reads may always be retried.

`/admin/state` shows each replica's real pid and what the replica itself
says about its role, ballot and log positions: the router asks every
process with a small `AdminQuery` a few times a second (`dynamo.net.host`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dynamo.cluster.replicated import ReplicatedNode
from dynamo.cluster.routing import UNSENT, GroupRouter
from dynamo.contract import ClientRequest, NodeId, Reply
from dynamo.net.codec import FrameError
from dynamo.net.group import LocalGroup, paxos_codec
from dynamo.net.host import AdminQuery, CutLink, Hello, read_frame
from dynamo.paxos import PaxosConfig
from dynamo.storage.catalog import TableDefinition
from dynamo.wal.log import FsyncPolicy

ROUTER = "router"  # the router's client id at every replica
ATTEMPT_S = 2.0
CONNECT_S = 1.0
POLL_S = 0.25  # how often the router asks each replica for its state


class ProcessNode(ReplicatedNode):
    """The control plane and a router in front of a group of replica processes.

    Args:
        data_dir: where each replica keeps `nN/wal/` and `nN/btree.sqlite3` (and the
            catalog `catalog.sqlite3`); None: a temporary directory removed on close.
    """

    mode = "processes"

    def __init__(self, data_dir: str | Path | None = None, **kwargs: Any) -> None:
        self._scratch = None if data_dir is not None else tempfile.mkdtemp(prefix="dynamo-")
        self._replica_root = Path(data_dir if data_dir is not None else self._scratch)
        super().__init__(data_dir, **kwargs)

    def _open_group(self, ids: tuple[str, ...], zones: tuple[str, ...], root: Path | None,
                    config: PaxosConfig | None, fsync: FsyncPolicy,
                    link_delay_ms: float) -> ProcessGroup:
        # In memory, nothing is meant to survive the server; a killed replica's records
        # survive in the page cache all the same, so its logs need no fsync.
        return ProcessGroup(ids, zones, self._replica_root,
                            fsync if self._scratch is None else "none", self.events.append,
                            self._all_tbls)

    def close(self) -> None:
        super().close()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def stats(self, definition: TableDefinition) -> tuple[int, int]:
        """Item count and size as the leader last reported them (DynamoDB's are periodic too)."""
        return self.group.table_stats(definition.tbl)

    def _all_tbls(self) -> tuple[str, ...]:
        definitions = (self.catalog.get(region, name) for region, name in self.catalog.all())
        return tuple(d.tbl for d in definitions if d is not None)


class ProcessGroup(GroupRouter):
    """Replica processes on loopback, and the router's TCP links to them.

    It answers what `ReplicatedNode` asks of a group (`start`, `request`, `state`,
    the faults, `close`), so the node's routing and admin code is shared.
    """

    def __init__(self, ids: tuple[NodeId, ...], zones: tuple[str, ...], root: Path,
                 fsync: FsyncPolicy, on_event: Callable[[dict[str, Any]], None],
                 tables: Callable[[], tuple[str, ...]]) -> None:
        self.ids = ids
        self.zones = dict(zip(ids, zones, strict=True))
        self.processes = LocalGroup(root, ids, fsync)
        self.codec = paxos_codec()
        self.codec.register(Hello)
        self.on_event = on_event
        self.leader_hint: NodeId = ids[0]
        self.views: dict[NodeId, dict[str, Any]] = {}
        self._leader_seen: tuple[NodeId, Any] | None = None  # (leader, ballot) last announced
        self._tables = tables
        self._requests = itertools.count(1)
        self._futures: dict[int, asyncio.Future[Any]] = {}
        self._asked: dict[NodeId, set[int]] = {n: set() for n in ids}
        self._writers: dict[NodeId, asyncio.StreamWriter] = {}
        self._locks = {n: asyncio.Lock() for n in ids}
        self._tasks: set[asyncio.Task[None]] = set()
        self._rng = random.Random()

    # --- life cycle ----------------------------------------------------------------

    def start(self) -> None:
        """Start every replica process, and the router's polling of their state."""
        self.processes.start_all()
        self._spawn(self._poll())

    def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for writer in self._writers.values():
            with contextlib.suppress(Exception):  # the loop may already be closed
                writer.close()
        self.processes.stop_all()

    def kill(self, node_id: NodeId) -> None:
        """SIGKILL the replica's process: only its disk survives."""
        if self.processes.pid(node_id) is not None:
            self.processes.kill(node_id)
            self.views.pop(node_id, None)
            self.on_event({"kind": "crashed", "node": node_id})

    def restart(self, node_id: NodeId) -> None:
        if self.processes.pid(node_id) is None:
            self.processes.start(node_id)
            self.on_event({"kind": "restarted", "node": node_id})

    def cut_link(self, src: NodeId, dst: NodeId) -> None:
        """Tell `src`'s process to drop its messages to `dst` (one way) until `heal`."""
        self._spawn(self._control(src, CutLink(dst)))
        self.on_event({"kind": "link_cut", "src": src, "dst": dst})

    def heal(self) -> None:
        for node_id in self.ids:
            self._spawn(self._control(node_id, CutLink(None)))
        self.on_event({"kind": "healed"})

    async def _control(self, node_id: NodeId, order: CutLink) -> None:
        await self._ask(node_id, order)

    # --- requests ------------------------------------------------------------------

    async def _ask(self, target: NodeId, operation: Any, timeout_s: float = ATTEMPT_S) -> Any:
        """One attempt at one replica over TCP: its answer, None if none came, or UNSENT."""
        try:
            writer = await self._connect(target)
        except (OSError, TimeoutError):
            return UNSENT
        request_id = next(self._requests)
        future = asyncio.get_running_loop().create_future()
        self._futures[request_id] = future
        self._asked[target].add(request_id)
        try:
            writer.write(self.codec.frame(ClientRequest(ROUTER, request_id, operation)))
            return await asyncio.wait_for(future, timeout_s)
        except (TimeoutError, OSError):
            return None
        finally:
            self._futures.pop(request_id, None)
            self._asked[target].discard(request_id)

    async def _connect(self, target: NodeId) -> asyncio.StreamWriter:
        async with self._locks[target]:  # one connection per replica: replies come back on it
            writer = self._writers.get(target)
            if writer is not None and not writer.is_closing():
                return writer
            if self.processes.pid(target) is None:
                raise ConnectionRefusedError(f"{target} is down")
            host, port = self.processes.addresses[target]
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port),
                                                    CONNECT_S)
            writer.write(self.codec.frame(Hello("client", ROUTER)))
            self._writers[target] = writer
            self._spawn(self._read_replies(target, reader, writer))
            return writer

    async def _read_replies(self, node_id: NodeId, reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError, FrameError,
                                 OSError):
            while True:
                reply = await read_frame(reader, self.codec)
                future = self._futures.get(reply.request_id) if type(reply) is Reply else None
                if future is not None and not future.done():
                    future.set_result(reply.result)
        # The connection is gone (the process died): whatever it was asked goes unanswered.
        if self._writers.get(node_id) is writer:
            del self._writers[node_id]
        for request_id in list(self._asked[node_id]):
            future = self._futures.get(request_id)
            if future is not None and not future.done():
                future.set_result(None)

    def _is_up(self, node_id: NodeId) -> bool:
        return self.processes.pid(node_id) is not None

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- what the admin endpoint shows ----------------------------------------------

    async def _poll(self) -> None:
        """Ask every replica for its view, a few times a second; note leader changes."""
        while True:
            await asyncio.gather(*(self._refresh(n) for n in self.ids))
            leaders = [(n, self.views[n].get("ballot")) for n in self.ids
                       if self.views.get(n, {}).get("role") == "leader"]
            if leaders and leaders[0] != self._leader_seen:
                self._leader_seen = leaders[0]
                self.leader_hint = leaders[0][0]
                self.on_event({"kind": "elected", "node": leaders[0][0],
                               "ballot": leaders[0][1]})
            await asyncio.sleep(POLL_S)

    async def _refresh(self, node_id: NodeId) -> None:
        if self.processes.pid(node_id) is None:
            if self.views.pop(node_id, None) is not None:  # died, not by /admin/fault
                self.on_event({"kind": "crashed", "node": node_id})
            return
        view = await self._ask(node_id, AdminQuery(self._tables()), POLL_S * 2)
        if isinstance(view, dict):
            self.views[node_id] = view

    def state(self) -> dict[str, Any]:
        """Leader, ballot and each replica's pid, role and log positions, as it reports them."""
        replicas, leader, ballot = [], None, None
        for node_id in self.ids:
            pid = self.processes.pid(node_id)
            view = self.views.get(node_id, {}) if pid is not None else {}
            role = "down" if pid is None else view.get("role", "starting")
            if role == "leader":
                leader, ballot = node_id, view.get("ballot")
            replicas.append({"node": node_id, "zone": self.zones[node_id], "role": role,
                             "pid": pid, "persisted_lsn": view.get("last_index", 0),
                             "applied_lsn": view.get("applied_lsn", 0)})
        return {"leader": leader, "ballot": ballot, "replicas": replicas}

    def table_stats(self, tbl: str) -> tuple[int, int]:
        """A table's item count and size at the leader (or any replica), as last polled."""
        view = self.views.get(self.leader_hint) or next(iter(self.views.values()), {})
        count, size = view.get("tables", {}).get(tbl, (0, 0))
        return int(count), int(size)

