"""A partitioned fleet as a driver builds it: storage nodes, routers, the metadata service.

This is the paper's picture in miniature (§3, Fig. 3): request routers in
front, a metadata service beside them, and storage nodes hosting the
replicas of every partition. One table (`KV_TABLE`, the teaching shorthand's)
starts as one partition on the first three storage nodes; it splits as it
grows past `split_size`. Each storage node keeps one B-tree per hosted
replica across crashes ("its disk"), as `dynamo.paxos.replica_factory` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dynamo.contract import Node, NodeFactory, NodeId, Rng
from dynamo.logreplica.healing import HealingConfig
from dynamo.partitioning.autoadmin import AutoAdmin, Balancer
from dynamo.partitioning.keyspace import KEY_SPACE
from dynamo.partitioning.metadata import MetadataService, RegisterTable
from dynamo.partitioning.partition_map import PartitionId
from dynamo.partitioning.planted import PLANTED_BUGS
from dynamo.partitioning.router import RequestRouter, RouterConfig
from dynamo.partitioning.storage_node import Hosted, NodeConfig, StorageNode
from dynamo.paxos.operations import KV_TABLE
from dynamo.paxos.replica import PaxosConfig
from dynamo.storage.btree import BTree

METADATA, AUTOADMIN = "memds", "autoadmin"
ROOT: PartitionId = "p"  # a table's first partition; its children are p0 and p1, and so on


@dataclass(frozen=True)
class FleetConfig:
    """The fleet's shape: which nodes store, which route, and when a partition splits."""

    storage_nodes: tuple[NodeId, ...] = ("n1", "n2", "n3")
    routers: tuple[NodeId, ...] = ("r1", "r2")
    split_size: int | None = 64
    check_ms: float = 200.0
    compact_ms: float = 1000.0
    split_rate: float | None = None
    balance: bool = False  # run autoadmin's balancer, which moves replicas (§4.3)
    heal: bool = False  # replicas heal their groups with log replicas, autoadmin too (§5.1)
    root: PartitionId = ROOT  # the table's first partition's id
    # More tables (storage id, first partition's id), placed like the first: a global
    # index's table, for one (`dynamo.indexes`).
    tables: tuple[tuple[str, PartitionId], ...] = ()

    @property
    def zones(self) -> dict[NodeId, str]:
        """Storage nodes in zones az1, az2, az3, round robin."""
        return {n: f"az{i % 3 + 1}" for i, n in enumerate(self.storage_nodes)}
    # Simulated links answer in milliseconds: give up on an attempt after 250 ms.
    router: RouterConfig = RouterConfig(attempt_ms=250.0, deadline_ms=1500.0)


def fleet_factories(config: FleetConfig, paxos: PaxosConfig, bug: str | None = None, *,
                    node_class: Callable[..., Node] | None = None,
                    router_class: Callable[..., Node] | None = None
                    ) -> dict[NodeId, NodeFactory]:
    """How to build (and rebuild after a crash) every node of the fleet.

    `bug` names a planted bug (`planted.py`) to run the fleet with. A layer above
    passes its own storage node and router (built as `StorageNode` and
    `RequestRouter` are) to run the fleet with them.
    """
    if bug is not None and bug not in PLANTED_BUGS:
        raise ValueError(f"unknown planted bug {bug!r}; known: {', '.join(sorted(PLANTED_BUGS))}")
    planted_node, planted_router = PLANTED_BUGS.get(bug or "", (StorageNode, RequestRouter))
    node_class = node_class or planted_node
    router_class = router_class or planted_router
    disks: dict[tuple[NodeId, PartitionId], BTree] = {}
    members = config.storage_nodes[:3]
    roots = [Hosted(partition, table, 0, KEY_SPACE, members)
             for table, partition in ((KV_TABLE.tbl, config.root), *config.tables)]
    healing = HealingConfig(tuple(config.zones.items())) if config.heal else None
    node_config = NodeConfig(paxos, METADATA, split_size=config.split_size,
                             check_ms=config.check_ms, split_rate=config.split_rate,
                             compact_ms=config.compact_ms, report_ms=config.check_ms,
                             healing=healing)

    def disk(node: NodeId, partition: PartitionId) -> BTree:
        return disks.setdefault((node, partition), BTree(None))

    def storage_node(id: NodeId, records: Sequence[Any], rng: Rng) -> Node:
        placed = roots if id in members else []  # the tables' placement, made before boot
        return node_class(id, [*placed, *records], rng, node_config, disk)

    def metadata(id: NodeId, records: Sequence[Any], rng: Rng) -> Node:
        service = MetadataService(id)
        for root in roots:
            service.register(RegisterTable(root.table, root.partition, members))
        return service

    def router(id: NodeId, records: Sequence[Any], rng: Rng) -> Node:
        return router_class(id, rng, config.router)

    def autoadmin(id: NodeId, records: Sequence[Any], rng: Rng) -> Node:
        if healing is None:
            return Balancer(id, config.zones, METADATA, poll_ms=config.check_ms)
        return AutoAdmin(id, config.zones, METADATA, poll_ms=config.check_ms, healing=healing,
                         balance=config.balance)

    factories: dict[NodeId, NodeFactory] = {n: storage_node for n in config.storage_nodes}
    factories[METADATA] = metadata
    if config.balance or config.heal:
        factories[AUTOADMIN] = autoadmin
    factories.update({r: router for r in config.routers})
    return factories
