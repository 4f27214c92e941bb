"""The partitioned fleet with each storage node a process of its own (§3, §4, §6.1).

`dynamo serve --processes` runs what `dynamo serve` runs (`partitioned.py`):
storage nodes hosting the replicas of every table's partitions, a request
router, the metadata service, autoadmin, GAC, the transaction coordinator and
the index propagator. Here each storage node is an operating-system process
(`python -m dynamo.net storage-node`, `dynamo.net.storage_process`) with its
own data directory: one write-ahead log shared by its replicas, a B-tree per
hosted partition, its placement file. Every other node stays in the serve
process and is driven exactly as the embedded fleet drives it (`fleet.py`).

They talk TCP, in the versioned, checksummed frames of `dynamo.net.codec`:

* each front-end node (router, MemDS, ...) listens on a port of its own, so
  a storage node reaches it as it reaches a peer storage node; `api` is one
  more listener, for what the storage nodes announce (`/admin/events`);
* a message from a front-end node to a storage node goes on that front-end
  node's link to it (`PeerLinks`); a request of the control plane
  (`HostPartition`, `SetTableLimits` ...) on a client connection
  (`NodeClient`), answered on it.

So a fault is real: `/admin/fault` kill is SIGKILL, and the node loses
everything but its disk; restart starts the process again, which rebuilds
every replica it hosts from its placement, B-trees and log, and catches up
from its groups. A cut is one-way, made by the sending process (`CutLink`).

What the control plane reads of a storage node (what it hosts, each
replica's role, applied LSN, sizes and lease) it reads from the node's last
answer to `AdminQuery`, polled a few times a second: a `ReportedStorageNode`,
which offers those answers under the names the control plane reads of an
embedded `StorageNode`, so `PartitionedNode` serves both fleets unchanged.
Admission control's bucket levels stay inside the processes.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from dynamo.cluster.fleet import REQUEST_S, Fleet, FleetSettings
from dynamo.cluster.partitioned import PartitionedNode
from dynamo.contract import Announce, NodeId, Receive
from dynamo.net.codec import FrameError
from dynamo.net.group import format_cluster, free_ports
from dynamo.net.host import AdminQuery, CutLink, Hello, read_frame
from dynamo.net.links import NodeClient, PeerLinks
from dynamo.net.node_disk import NodeDisk
from dynamo.net.storage_process import API
from dynamo.partitioning.messages import Forward, Forwarded, Unreachable
from dynamo.partitioning.partition_map import PartitionId
from dynamo.partitioning.storage_node import Hosted

POLL_S = 0.25  # how often the serve process asks each storage process for its state
ATTEMPT_S = 2.0  # one attempt of a control-plane request at a storage process
RETRY_S = 0.05
FIRST_REPORT_S = 30.0  # how long a starting fleet waits for its processes' first reports


# --- what a storage process reported ------------------------------------------------


@dataclass(frozen=True)
class ReportedLease:
    leased: bool

    def holds(self, now_ms: float) -> bool:
        """Whether the leader held its lease when it reported (its clock is its own)."""
        return self.leased


@dataclass(frozen=True)
class ReportedLeadership:
    lease: ReportedLease


@dataclass(frozen=True)
class ReportedSizes:
    sizes: dict[str, tuple[int, int]]

    def count(self, tbl: str) -> int:
        return self.sizes.get(tbl, (0, 0))[0]

    def size(self, tbl: str) -> int:
        return self.sizes.get(tbl, (0, 0))[1]


@dataclass(frozen=True)
class ReportedStore:
    applied_lsn: int
    btree: ReportedSizes


@dataclass(frozen=True)
class ReportedReplica:
    """One hosted replica: its Paxos view, its log members, its store, its leadership."""

    view: dict[str, Any]
    log_members: tuple[NodeId, ...]
    store: ReportedStore
    leader: ReportedLeadership | None

    def snapshot(self) -> dict[str, Any]:
        return self.view


@dataclass(frozen=True)
class ReportedStorageNode:
    """A storage process as its last `AdminQuery` answer showed it."""

    pid: int | None = None
    hosted: dict[PartitionId, Hosted] = field(default_factory=dict)
    replicas: dict[PartitionId, ReportedReplica] = field(default_factory=dict)
    served: dict[PartitionId, list[int]] = field(default_factory=dict)

    @classmethod
    def from_view(cls, view: dict[str, Any]) -> ReportedStorageNode:
        views = view.get("partitions", {})
        replicas = {}
        for partition, report in view.get("replicas", {}).items():
            own = views.get(partition, {})
            leader = (ReportedLeadership(ReportedLease(report["leased"]))
                      if own.get("role") == "leader" else None)
            replicas[partition] = ReportedReplica(
                own, tuple(report["log_members"]),
                ReportedStore(report["applied_lsn"], ReportedSizes(report["sizes"])), leader)
        return cls(view.get("pid"), {h.partition: h for h in view.get("hosted", ())},
                   replicas, view.get("served", {}))

    def store(self, partition: PartitionId) -> ReportedStore:
        return self.replicas[partition].store

    def snapshot(self) -> dict[str, Any]:
        return {"partitions": {p: r.view for p, r in self.replicas.items()}}


# --- the fleet ----------------------------------------------------------------------------


class ProcessFleet(Fleet):
    """The fleet's front-end nodes on this loop, its storage nodes as processes.

    Args:
        processes_root: where each storage process keeps its disk (`nN/`) and its
            output (`nN.log`).
        fsync: the storage processes' log fsync policy.
    """

    def __init__(self, root: Path | None, settings: FleetSettings,
                 on_event: Callable[[dict[str, Any]], None], processes_root: Path,
                 fsync: str) -> None:
        super().__init__(root, settings, on_event)
        self.codec.register(Hello)
        self.processes_root = processes_root
        self.fsync = fsync
        self.processes: dict[NodeId, subprocess.Popen[bytes]] = {}
        self.reports: dict[NodeId, int] = {n: 0 for n in self.zones}  # answers polled
        front = [*(h for h in self.hosts if h not in self.zones), API]
        self._sockets = {node_id: _listening_socket() for node_id in front}
        self.addresses = {node_id: ("127.0.0.1", port) for node_id, port in
                          zip(self.zones, free_ports(len(self.zones)), strict=True)}
        self.addresses |= {n: ("127.0.0.1", s.getsockname()[1]) for n, s in self._sockets.items()}
        self._links = {node_id: PeerLinks(node_id, self.addresses,
                                          self.codec.frame(Hello("peer", node_id)), self._spawn)
                       for node_id in front}
        self._client = NodeClient(API, self.addresses, self.codec,
                                  self.codec.frame(Hello("client", API)), self._spawn)
        self._tasks: set[asyncio.Task[None]] = set()
        self._running = False

    def _open_disk(self, node_id: NodeId) -> NodeDisk | None:
        return None  # a storage node's disk is its process's

    # --- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        """Listen for the storage nodes, start their processes, boot the front end."""
        if self._running:
            return
        self._running = True
        for node_id, sock in self._sockets.items():
            self._spawn(self._listen(node_id, sock))
        for node_id in self.zones:
            self._start_process(node_id)
        for host in self.hosts.values():
            if host.id not in self.zones:
                self._boot(host)
        self._spawn(self._poll())

    async def reported(self) -> None:
        """Wait until every storage process has told what it hosts (a starting fleet must
        not take a node that has not answered yet for one that hosts nothing)."""
        deadline = asyncio.get_running_loop().time() + FIRST_REPORT_S
        while not all(self.reports.values()):
            if asyncio.get_running_loop().time() >= deadline:
                silent = sorted(node for node, heard in self.reports.items() if not heard)
                raise TimeoutError(f"storage processes {', '.join(silent)} never reported "
                                   f"within {FIRST_REPORT_S:.0f} s")
            await asyncio.sleep(RETRY_S)

    def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._client.close()
        for sock in self._sockets.values():
            sock.close()
        for node_id in list(self.processes):
            self._sigkill(node_id)
        super().close()

    def pid(self, node_id: NodeId) -> int | None:
        """The process id of a running storage node (None: it is down)."""
        process = self.processes.get(node_id)
        return None if process is None or process.poll() is not None else process.pid

    def storage(self, node_id: NodeId) -> Any:
        """What the storage node last reported of itself (None: it is down)."""
        node = self.hosts[node_id].node if node_id in self.zones else None
        return node if isinstance(node, ReportedStorageNode) else None

    # --- faults -----------------------------------------------------------------------

    def kill(self, node_id: NodeId) -> None:
        """SIGKILL the storage node's process: only its disk survives."""
        if self.pid(node_id) is not None:
            self._sigkill(node_id)
            self.on_event({"kind": "crashed", "node": node_id})

    def restart(self, node_id: NodeId) -> None:
        if self.pid(node_id) is None:
            self._start_process(node_id)
            self.on_event({"kind": "restarted", "node": node_id})

    def cut_link(self, src: NodeId, dst: NodeId) -> None:
        """Drop `src`'s messages to `dst` (one way): in `src`'s process if it is a storage
        node's, else on this loop, as the embedded fleet does."""
        if src not in self.zones:
            super().cut_link(src, dst)
            return
        self._spawn(self._order(src, CutLink(dst)))
        self.on_event({"kind": "link_cut", "src": src, "dst": dst})

    def heal(self) -> None:
        for node_id in self.zones:
            self._spawn(self._order(node_id, CutLink(None)))
        super().heal()

    async def _order(self, node_id: NodeId, order: CutLink) -> None:
        if self.pid(node_id) is not None:
            await self.request(node_id, order)

    def _start_process(self, node_id: NodeId) -> None:
        self.processes_root.mkdir(parents=True, exist_ok=True)
        settings, era = self.settings, self.settings.admission
        command = [sys.executable, "-m", "dynamo.net", "storage-node", "--id", node_id,
                   "--cluster", format_cluster(self.addresses),
                   "--zones", ",".join(f"{n}={z}" for n, z in self.zones.items()),
                   "--data-dir", str(self.processes_root / node_id), "--fsync", self.fsync,
                   "--admission", "off" if era is None else era.value,
                   "--unresponsive-heartbeats", str(settings.unresponsive_heartbeats)]
        if settings.split_size is not None:
            command += ["--split-size", str(settings.split_size)]
        if settings.split_rate is not None:
            command += ["--split-rate", str(settings.split_rate)]
        with open(self.processes_root / f"{node_id}.log", "ab") as output:
            self.processes[node_id] = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.hosts[node_id].node = ReportedStorageNode()  # up, hosting nothing known yet

    def _sigkill(self, node_id: NodeId) -> None:
        process = self.processes.pop(node_id)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait()
        self.hosts[node_id].node = None
        self._client.disconnect(node_id)

    # --- messages and requests ----------------------------------------------------------

    def _deliver(self, dst: NodeId, src: NodeId, message: Any) -> None:
        if dst not in self.zones:
            super()._deliver(dst, src, message)
        elif self.pid(dst) is not None:
            self._links[src].send(dst, self.codec.frame(message))
        elif type(message) is Forward:  # as a refused connection tells a router at once
            answer = Forwarded(message.request_id, Unreachable(dst))
            self._step(self.hosts[src], Receive(dst, answer))

    async def request(self, node_id: NodeId, operation: Any) -> Any:
        """Hand `operation` to a node as a client request; its answer. A storage node's
        is retried until answered: the control plane's requests may be repeated."""
        if node_id not in self.zones:
            return await super().request(node_id, operation)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REQUEST_S
        while loop.time() < deadline:
            if self.pid(node_id) is None:
                raise ConnectionRefusedError(f"storage node {node_id} is down")
            answer = await self._client.ask(node_id, operation, ATTEMPT_S)
            if answer is not None:
                return answer
            await asyncio.sleep(RETRY_S)
        raise TimeoutError(f"storage node {node_id} did not answer")

    async def _listen(self, node_id: NodeId, sock: socket.socket) -> None:
        server = await asyncio.start_server(partial(self._accept, node_id), sock=sock)
        async with server:
            await server.serve_forever()

    async def _accept(self, node_id: NodeId, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        """A storage node's link to the front-end node `node_id`: its messages, in order."""
        try:
            hello = await read_frame(reader, self.codec)
            if not isinstance(hello, Hello):
                return
            while True:
                message = await read_frame(reader, self.codec)
                if node_id == API and type(message) is Announce:
                    self.on_event({"kind": message.kind, "node": hello.id,
                                   **dict(message.detail)})
                elif node_id != API:
                    self._step(self.hosts[node_id], Receive(hello.id, message))
        except (asyncio.IncompleteReadError, ConnectionError, FrameError, OSError,
                asyncio.CancelledError):  # the node went, or the fleet is closing
            pass
        finally:
            writer.close()

    # --- what the storage processes report ------------------------------------------

    async def _poll(self) -> None:
        while True:
            await asyncio.gather(*(self._refresh(n) for n in self.zones))
            await asyncio.sleep(POLL_S)

    async def _refresh(self, node_id: NodeId) -> None:
        if node_id in self.processes and self.pid(node_id) is None:  # died, not by a fault
            self._sigkill(node_id)
            self.on_event({"kind": "crashed", "node": node_id})
        if self.pid(node_id) is None:
            return
        view = await self._client.ask(node_id, AdminQuery(), POLL_S * 2)
        if isinstance(view, dict) and self.pid(node_id) == view.get("pid"):
            self.hosts[node_id].node = ReportedStorageNode.from_view(view)
            self.reports[node_id] += 1

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _listening_socket() -> socket.socket:
    """A loopback socket bound now, so its port is known before any process starts."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


# --- the database -----------------------------------------------------------------------


class ProcessFleetNode(PartitionedNode):
    """`PartitionedNode` over a fleet whose storage nodes are processes.

    Args:
        data_dir: the catalog, the TC's ledger and each storage process's disk
            (`nodes/nN/`, the layout of the embedded fleet); None: a temporary
            directory for the processes' disks, removed on close.
    """

    mode = "processes"

    def __init__(self, data_dir: str | os.PathLike[str] | None = None, **kwargs: Any) -> None:
        self._scratch = None if data_dir is not None else Path(tempfile.mkdtemp(prefix="dynamo-"))
        super().__init__(data_dir, **kwargs)

    def _open_fleet(self, root: Path | None) -> Fleet:
        # In memory nothing is meant to survive the server; a killed process's records
        # survive in the page cache all the same, so its log needs no fsync.
        processes_root = root if self._scratch is None else self._scratch
        fsync = self.settings.fsync if self._scratch is None else "none"
        assert processes_root is not None
        return ProcessFleet(root, self.settings, self.events.append, processes_root, fsync)

    async def start(self) -> None:
        """Start the processes and hear from each before the control plane reads them."""
        fleet = self.fleet
        assert isinstance(fleet, ProcessFleet)
        if not self._started:
            fleet.start()
            await fleet.reported()
        await super().start()

    def close(self) -> None:
        super().close()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def admin_state(self) -> dict[str, Any]:
        """The partitioned fleet's state, with each storage node's own process id."""
        state = super().admin_state()
        fleet = self.fleet
        assert isinstance(fleet, ProcessFleet)
        for node in state["nodes"]:
            node["pid"] = fleet.pid(node["id"])
        return state
