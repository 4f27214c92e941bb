"""A Paxos replication group as real processes on loopback.

`run_node` is what one process runs: a `NodeHost` around a Paxos replica.
`LocalGroup` starts three such processes on free loopback ports, can kill
one with SIGKILL and restart it, and hands out a `GroupClient` — what the
failover demo and the TCP tests use to show that a group keeps serving, and
keeps every acknowledged write, when its leader dies (§6.1, §6.2).
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import dynamo.contract
import dynamo.paxos
import dynamo.storage.btree
import dynamo.storage.keys
from dynamo.contract import Announce, NodeId
from dynamo.net.client import GroupClient
from dynamo.net.codec import Codec
from dynamo.net.host import Address, NodeHost
from dynamo.paxos import PaxosConfig, replica_factory


def paxos_codec() -> Codec:
    """A codec that knows the contract's and every Paxos module's dataclasses, and the
    storage types a log record carries (mutations and their encoded keys)."""
    codec = Codec([dynamo.contract, dynamo.storage.btree, dynamo.storage.keys])
    for info in pkgutil.iter_modules(dynamo.paxos.__path__, "dynamo.paxos."):
        if not info.name.endswith("__main__"):
            codec.register_module(importlib.import_module(info.name))
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


async def run_node(node_id: NodeId, addresses: dict[NodeId, Address], data_dir: Path) -> None:
    """Run one Paxos replica until the process is killed; announce events as JSON lines."""
    def announce(node: NodeId, event: Announce) -> None:
        print(json.dumps({"node": node, "kind": event.kind,
                          **{k: repr(v) for k, v in event.detail}}), flush=True)

    factory = replica_factory(tuple(sorted(addresses)), PaxosConfig())
    host = NodeHost(node_id, factory, addresses, data_dir, paxos_codec(), on_announce=announce)
    await host.serve()


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

    def __init__(self, root: Path, names: tuple[str, ...] = ("a", "b", "c")) -> None:
        self.root = root
        self.addresses = {n: ("127.0.0.1", p) for n, p in zip(names, free_ports(len(names)), strict=True)}
        self.processes: dict[NodeId, subprocess.Popen[bytes]] = {}

    def start(self, name: NodeId) -> None:
        data_dir = self.root / name
        data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.root / f"{name}.events", "ab")  # noqa: SIM115 - owned by the child
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "dynamo.net", "node", "--id", name,
             "--cluster", format_cluster(self.addresses), "--data-dir", str(data_dir)],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def start_all(self) -> None:
        for name in self.addresses:
            self.start(name)

    def kill(self, name: NodeId) -> None:
        """SIGKILL: the process gets no chance to flush or say goodbye."""
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.kill(name)

    def events(self, name: NodeId) -> list[dict[str, str]]:
        path = self.root / f"{name}.events"
        lines = path.read_text().splitlines() if path.exists() else []
        return [json.loads(line) for line in lines if line.startswith("{")]

    def client(self, client_id: str = "demo") -> GroupClient:
        return GroupClient(client_id, self.addresses, paxos_codec())
