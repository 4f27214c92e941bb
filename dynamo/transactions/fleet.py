"""A partitioned fleet with transaction coordinators, as a driver builds it (ATC'23 §3.1).

Layer 5's fleet (`dynamo.partitioning.fleet`): storage nodes, request routers
and the metadata service, with every partition's store a transaction
`Participant`, and beside them a fleet of transaction coordinators. Many TCs
run at once, each with its own clock (§3.2): their timestamps interleave, and
a prepare can meet an item a later transaction has already written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from dynamo.contract import Node, NodeFactory, NodeId, Rng
from dynamo.partitioning.fleet import METADATA, FleetConfig, fleet_factories
from dynamo.partitioning.storage_node import Disk, NodeConfig, StorageNode
from dynamo.paxos.replica import PaxosConfig
from dynamo.transactions.coordinator import CoordinatorConfig, TransactionCoordinator
from dynamo.transactions.participant import Participant

COORDINATORS: tuple[NodeId, ...] = ("tc1", "tc2")


def transaction_factories(config: FleetConfig, paxos: PaxosConfig,
                          coordinators: tuple[NodeId, ...] = COORDINATORS,
                          coordinator: CoordinatorConfig | None = None
                          ) -> dict[NodeId, NodeFactory]:
    """Every node of a fleet whose partitions take part in transactions, and its TCs.

    A TC's router is as patient as the fleet's routers (`config.router`) unless
    `coordinator` says otherwise.
    """
    tc_config = coordinator or CoordinatorConfig(
        router=replace(config.router, metadata=METADATA), redrive_ms=20.0, prepare_ms=2000.0)

    def storage_node(id: NodeId, records: Sequence[Any], rng: Rng, node_config: NodeConfig,
                     disk: Disk) -> Node:
        return StorageNode(id, records, rng, replace(node_config, store_class=Participant), disk)

    def tc(id: NodeId, records: Sequence[Any], rng: Rng) -> Node:
        return TransactionCoordinator(id, records, rng, tc_config)

    factories = fleet_factories(config, paxos, node_class=storage_node)
    factories.update({c: tc for c in coordinators})
    return factories
