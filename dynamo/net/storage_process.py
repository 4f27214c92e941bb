"""A storage node as an operating-system process of its own (§3, §4.3; `serve --processes`).

`dynamo serve --processes` runs the partitioned fleet with each storage node
in a process of its own: `python -m dynamo.net storage-node ...` runs one.
It is the very `StorageNode` the embedded fleet drives
(`dynamo.cluster.fleet`), hosting replicas of many partitions, with the same
disk (`node_disk.py`: one write-ahead log shared by its replicas with group
commit, a B-tree per hosted partition, the placement file, the log dropped
behind the B-trees), but driven by a `NodeHost`: a real clock, real timers,
and TCP links to its peers (the other storage nodes) and to the front-end
nodes in the serve process (the request router, the metadata service,
autoadmin, GAC ...), each of which listens on a port of its own.

So a SIGKILL is a real crash: the process loses everything but its disk,
and started again it rebuilds every hosted replica from the placement file,
its B-tree and the tail of the shared log, then catches up from its groups.

What happens on the node (elections, splits, heals) is announced to the serve
process's event stream (`API`, a listener there); what the control plane reads
of the node (what it hosts, each replica's applied LSN and sizes, its
leases) it asks with `AdminQuery` (`describe`).
"""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import dynamo.admission
import dynamo.indexes
import dynamo.logreplica
import dynamo.transactions
from dynamo.admission.eras import Era
from dynamo.admission.fleet import BALANCER, CONTROLLER
from dynamo.admission.storage_node import AdmittingStorageNode
from dynamo.contract import Announce, NodeId, Rng
from dynamo.logreplica.healing import HealingConfig
from dynamo.net.codec import Codec
from dynamo.net.group import paxos_codec, until_orphaned
from dynamo.net.host import Address, AdminQuery, NodeHost
from dynamo.net.node_disk import NodeDisk
from dynamo.partitioning.storage_node import NodeConfig, StorageNode
from dynamo.transactions import participant
from dynamo.wal.log import DEFAULT_SEGMENT_BYTES, FsyncPolicy

API = "api"  # the serve process's listener for a storage node's announcements


def fleet_codec() -> Codec:
    """A codec for everything a fleet's nodes persist and send one another: Paxos and
    partitioning (`paxos_codec`), log replicas, admission control, transactions and
    global indexes."""
    codec = paxos_codec()
    for package in (dynamo.logreplica, dynamo.admission, dynamo.transactions, dynamo.indexes):
        for info in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
            if not info.name.endswith("__main__"):
                codec.register_module(importlib.import_module(info.name))
    return codec


def build_storage_node(node_id: NodeId, records: list[Any], rng: Rng, config: NodeConfig,
                       era: Era | None, disk: NodeDisk) -> StorageNode:
    """The fleet's storage node: admitting requests under `era` (None: admitting all)."""
    if era is None:
        return StorageNode(node_id, records, rng, config, disk.btree)
    return AdmittingStorageNode(node_id, records, rng, config, disk.btree, era,
                                controller=CONTROLLER,
                                balancer=BALANCER if era is Era.GAC else None)


def fleet_node_config(base: NodeConfig, zones: dict[NodeId, str], split_size: int | None,
                      split_rate: float | None, unresponsive_heartbeats: int) -> NodeConfig:
    """How the fleet's storage nodes run: splits, healing over the zones (§5.1), and
    stores that take part in transactions."""
    healing = HealingConfig(tuple(zones.items()), unresponsive_heartbeats=unresponsive_heartbeats)
    return replace(base, split_size=split_size, split_rate=split_rate, healing=healing,
                   store_class=participant.Participant)


class StorageNodeHost(NodeHost):
    """A `NodeHost` whose node is a storage node, on a storage node's disk."""

    def __init__(self, node_id: NodeId, config: NodeConfig, era: Era | None,
                 addresses: dict[NodeId, Address], disk: NodeDisk) -> None:
        assert disk.root is not None and disk.log is not None
        self.disk = disk

        def build(id: NodeId, records: list[Any], rng: Rng) -> StorageNode:
            return build_storage_node(id, records, rng, config, era, disk)

        super().__init__(node_id, build, addresses, disk.root, disk.codec,
                         on_announce=self._announce, describe=self._describe)

    def _recover(self) -> list[Any]:
        return self.disk.recovered_records()

    async def _write(self, records: list[Any]) -> None:
        written = await asyncio.get_running_loop().run_in_executor(
            self._executor, self.disk.write, records)
        self.disk.logged(written)

    def _announce(self, node_id: NodeId, announce: Announce) -> None:
        if announce.kind != "committed":  # one per write: too many for an event stream
            detail = tuple((key, plain(value)) for key, value in announce.detail)
            self._send(API, self.codec.frame(Announce(announce.kind, detail)))

    def _describe(self, query: AdminQuery) -> dict[str, Any]:
        """What the control plane reads of a storage node: what it hosts and serves, and
        each replica's applied LSN and lease, and, where it leads, the sizes of what its
        partition holds (the table's items and its local index entries: the control plane
        counts a partition at its leader, so a follower's counts would go unread)."""
        node = self.node
        assert isinstance(node, StorageNode)
        now, replicas = self.now_ms(), {}
        for partition, replica in node.replicas.items():
            store, leads = replica.store, replica.leader is not None
            replicas[partition] = {
                "applied_lsn": store.applied_lsn, "log_members": tuple(replica.log_members),
                "leased": leads and replica.leader.lease.holds(now),
                "sizes": store.btree.usage() if leads else {}}
        return {"hosted": tuple(node.hosted.values()), "served": node.served,
                "replicas": replicas}


def plain(value: Any) -> Any:
    """An announcement's detail as JSON-ready data."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    return str(value)


async def run_storage_node(node_id: NodeId, addresses: dict[NodeId, Address], data_dir: Path,
                           config: NodeConfig, era: Era | None, fsync: FsyncPolicy = "always",
                           segment_bytes: int = DEFAULT_SEGMENT_BYTES) -> None:
    """Run one storage node until the process is killed, or its serve process is gone."""
    disk = NodeDisk.open(fleet_codec(), data_dir, fsync, segment_bytes)
    host = StorageNodeHost(node_id, config, era, addresses, disk)
    await until_orphaned(asyncio.ensure_future(host.serve()))
