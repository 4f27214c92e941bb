"""A Paxos replication group as real processes on loopback.

`run_node` is what one process runs: a `NodeHost` around a Paxos replica
whose disk is a write-ahead log (`DIR/wal/`) and a B-tree (`DIR/btree.sqlite3`),
so a restarted process rebuilds from its B-tree plus the log's tail, as a
replica of `dynamo serve` does (`dynamo serve --processes` runs storage
nodes, each hosting many replicas, instead: `storage_process.py`).
`LocalGroup` starts three such processes on free loopback ports, can kill
one with SIGKILL and restart it, and hands out a `GroupClient` — what the
failover demo and the TCP tests use to show that a group keeps serving, and
keeps every acknowledged write, when its leader dies (§6.1, §6.2).
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import os
import pkgutil
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dynamo.contract
import dynamo.partitioning
import dynamo.paxos
import dynamo.storage.btree
import dynamo.storage.capacity
import dynamo.storage.catalog
import dynamo.storage.errors
import dynamo.storage.expressions
import dynamo.storage.indexes
import dynamo.storage.keys
import dynamo.storage.outbox
import dynamo.storage.table
from dynamo.contract import Announce, NodeId, Rng
from dynamo.net.client import GroupClient
from dynamo.net.codec import Codec
from dynamo.net.host import Address, AdminQuery, NodeHost
from dynamo.net.truncation import truncate_behind
from dynamo.paxos import PaxosConfig, Replica
from dynamo.paxos.log import AcceptedEntry, Snapshot
from dynamo.paxos.statemachine import StorageReplica
from dynamo.storage.btree import BTree
from dynamo.wal import WriteAheadLog
from dynamo.wal.log import DEFAULT_SEGMENT_BYTES, FsyncPolicy

ORPHAN_CHECK_S = 0.5


def paxos_codec() -> Codec:
    """A codec that knows the contract's and every Paxos and partitioning module's
    dataclasses (a storage node's records and messages), and the
    storage types the typed requests and results carry: table definitions and key
    schemas, compiled expressions, write plans, pages, consumed capacity, mutations
    and encoded keys, a global index's updates (`outbox`), and DynamoDB's errors (a
    `Rejected` answer)."""
    codec = Codec([dynamo.contract, dynamo.storage.btree, dynamo.storage.capacity,
                   dynamo.storage.catalog, dynamo.storage.indexes, dynamo.storage.keys,
                   dynamo.storage.outbox, dynamo.storage.table])
    for package in (dynamo.paxos, dynamo.partitioning, dynamo.storage.expressions):
        for info in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
            if not info.name.endswith("__main__"):
                codec.register_module(importlib.import_module(info.name))
    for value in vars(dynamo.storage.errors).values():
        if inspect.isclass(value) and issubclass(value, dynamo.storage.errors.DynamoError):
            codec.register_error(value)
    return codec


def parse_cluster(text: str) -> dict[NodeId, Address]:
    """`a=127.0.0.1:7101,b=127.0.0.1:7102` → {"a": ("127.0.0.1", 7101), ...}."""
    addresses: dict[NodeId, Address] = {}
    for part in text.split(","):
        name, _, hostport = part.partition("=")
        host, _, port = hostport.rpartition(":")
        addresses[name] = (host, int(port))
    return addresses


def format_cluster(addresses: dict[NodeId, Address]) -> str:
    return ",".join(f"{n}={h}:{p}" for n, (h, p) in sorted(addresses.items()))


async def run_node(node_id: NodeId, addresses: dict[NodeId, Address], data_dir: Path,
                   fsync: FsyncPolicy = "always", config: PaxosConfig | None = None,
                   segment_bytes: int = DEFAULT_SEGMENT_BYTES) -> None:
    """Run one Paxos replica until the process is killed; announce events as JSON lines.

    Its log is truncated behind each snapshot marker the replica persists.
    """
    def announce(node: NodeId, event: Announce) -> None:
        if event.kind != "committed":  # one per write: too many for an event stream
            print(json.dumps({"node": node, "kind": event.kind,
                              **{k: repr(v) for k, v in event.detail}}), flush=True)

    data_dir.mkdir(parents=True, exist_ok=True)
    store = StorageReplica(BTree(data_dir / "btree.sqlite3", synchronous="NORMAL"))
    members, config = tuple(sorted(addresses)), config or PaxosConfig()
    wal_lsn_of_slot: dict[int, int] = {}

    def build(id: NodeId, records: Sequence[Any], rng: Rng) -> Replica:
        return Replica(id, members, records, rng, config, store)

    def describe(query: AdminQuery) -> dict[str, Any]:
        sizes = {tbl: [store.btree.count(tbl), store.btree.size(tbl)] for tbl in query.tables}
        return {"applied_lsn": store.applied_lsn, "tables": sizes}

    def persisted(log: WriteAheadLog, wal_lsn: int, record: Any, recovered: bool) -> None:
        if isinstance(record, AcceptedEntry):
            wal_lsn_of_slot[record.index] = wal_lsn
        elif isinstance(record, Snapshot) and not recovered:
            truncate_behind(log, store.btree, wal_lsn_of_slot, record.index)

    host = NodeHost(node_id, build, addresses, data_dir / "wal", paxos_codec(),
                    on_announce=announce, describe=describe, on_persisted=persisted,
                    fsync=fsync, segment_bytes=segment_bytes)
    serving = asyncio.ensure_future(host.serve())
    await until_orphaned(serving)


async def until_orphaned(serving: asyncio.Future[None]) -> None:
    """Serve until the parent process is gone: a replica must not outlive its group's owner
    (a killed `dynamo serve` or test), or it would hold its port and disk forever."""
    parent = os.getppid()
    while not serving.done() and os.getppid() == parent:
        await asyncio.sleep(ORPHAN_CHECK_S)
    serving.cancel()


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


class LocalGroup:
    """Three replica processes on loopback, each with its own data directory."""

    def __init__(self, root: Path, names: tuple[str, ...] = ("a", "b", "c"),
                 fsync: FsyncPolicy = "always") -> None:
        self.root = root
        self.fsync = fsync
        self.addresses = {n: ("127.0.0.1", p) for n, p in zip(names, free_ports(len(names)), strict=True)}
        self.processes: dict[NodeId, subprocess.Popen[bytes]] = {}

    def start(self, name: NodeId) -> None:
        data_dir = self.root / name
        data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.root / f"{name}.events", "ab")  # noqa: SIM115 - owned by the child
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "dynamo.net", "node", "--id", name,
             "--cluster", format_cluster(self.addresses), "--data-dir", str(data_dir),
             "--fsync", self.fsync],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def start_all(self) -> None:
        for name in self.addresses:
            self.start(name)

    def kill(self, name: NodeId) -> None:
        """SIGKILL: the process gets no chance to flush or say goodbye."""
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def pid(self, name: NodeId) -> int | None:
        """The process id of a running replica (None: it is down)."""
        process = self.processes.get(name)
        return None if process is None or process.poll() is not None else process.pid

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.kill(name)

    def events(self, name: NodeId) -> list[dict[str, str]]:
        path = self.root / f"{name}.events"
        lines = path.read_text().splitlines() if path.exists() else []
        return [json.loads(line) for line in lines if line.startswith("{")]

    def client(self, client_id: str = "demo") -> GroupClient:
        return GroupClient(client_id, self.addresses, paxos_codec())
