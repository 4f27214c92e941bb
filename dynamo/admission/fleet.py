"""A partitioned fleet with admission control, as a driver builds it (§4).

Layer 5's fleet (`dynamo.partitioning.fleet`) with this layer's nodes in
place of its own: storage nodes that keep partition and node buckets,
request routers that spend GAC's tokens, a GAC server and adaptive
capacity's controller. The table is provisioned with `limits`, known to every
node from the start as the control plane would tell it (`SetTableLimits`), so
the simulator can run a fleet that throttles while it crashes, partitions and
splits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dynamo.admission.balancing import BalanceConfig, LoadBalancer
from dynamo.admission.bursting import BURST_SECONDS
from dynamo.admission.capacity_controller import CapacityController
from dynamo.admission.eras import Era
from dynamo.admission.gac_server import GacServer
from dynamo.admission.global_admission import GlobalAdmission
from dynamo.admission.router import AdmittingRouter
from dynamo.admission.storage_admission import TableLimits
from dynamo.admission.storage_node import AdmittingStorageNode
from dynamo.contract import Node, NodeFactory, NodeId, Rng
from dynamo.partitioning.fleet import FleetConfig, fleet_factories
from dynamo.partitioning.router import RequestRouter, RouterConfig
from dynamo.partitioning.storage_node import Disk, NodeConfig
from dynamo.paxos.operations import KV_TABLE
from dynamo.paxos.replica import PaxosConfig

GAC, CONTROLLER, BALANCER = "gac", "adaptive", "balancer"  # the node ids, live and simulated


def admission_factories(config: FleetConfig, paxos: PaxosConfig, era: Era,
                        limits: TableLimits, burst_seconds: float = BURST_SECONDS,
                        balance: BalanceConfig | None = None) -> dict[NodeId, NodeFactory]:
    """Every node of a fleet whose table is admitted under `era` with `limits`; GAC
    keeps `burst_seconds` of unused capacity (a short run needs less than 300 s to
    ever run out of it). The table's first partition id must end in "." (as the
    cluster layer names them, `table_root`): a partition's share follows from its id.
    With `balance`, a load balancer runs too: storage nodes report their load to it,
    and it moves leaderships off hot nodes (`balancing.py`).
    """

    def storage_node(id: NodeId, records: Sequence[Any], rng: Rng, node_config: NodeConfig,
                     disk: Disk) -> Node:
        node = AdmittingStorageNode(id, records, rng, node_config, disk, era,
                                    controller=CONTROLLER,
                                    balancer=None if balance is None else BALANCER)
        node.admission.set_table(config.root, limits, 0.0)
        return node

    def router(id: NodeId, rng: Rng, router_config: RouterConfig) -> Node:
        if era is Era.GAC:
            return AdmittingRouter(id, rng, router_config, gac=GAC)
        return RequestRouter(id, rng, router_config)

    def gac(id: NodeId, records: Sequence[Any], rng: Rng) -> Node:
        server = GacServer(id, GlobalAdmission(burst_seconds=burst_seconds))  # ephemeral: a restarted one knows the table again at once
        server.admission.set_table(KV_TABLE.tbl, limits, 0.0)
        return server

    def controller(id: NodeId, records: Sequence[Any], rng: Rng) -> Node:
        return CapacityController(id, config.storage_nodes)

    factories = fleet_factories(config, paxos, node_class=storage_node, router_class=router)
    if era is Era.GAC:
        factories[GAC] = gac
    if era is Era.ADAPTIVE:
        factories[CONTROLLER] = controller
    if balance is not None:
        factories[BALANCER] = lambda id, records, rng: LoadBalancer(id, balance)
    return factories
