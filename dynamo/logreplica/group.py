"""A healing group as a driver builds it: members, spare nodes and autoadmin (§5.1).

The group starts as `members`, full replicas in distinct zones; the other
nodes of `HealingConfig.zones` are spare storage nodes, running and idle (a
non-member never stands for election) until the group adds one; `AUTOADMIN`
is the healer. Each storage node keeps its B-tree across crashes, as
dynamo.paxos.replica_factory does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dynamo.contract import Node, NodeFactory, NodeId, Rng
from dynamo.logreplica.autoadmin import AutoAdmin
from dynamo.logreplica.healing import HealingConfig, HealingReplica
from dynamo.logreplica.planted import PLANTED_BUGS
from dynamo.paxos.replica import PaxosConfig
from dynamo.paxos.statemachine import StorageReplica
from dynamo.storage.btree import BTree

AUTOADMIN = "autoadmin"


def healing_factories(members: tuple[NodeId, ...], config: PaxosConfig,
                      healing: HealingConfig, bug: str | None = None,
                      poll_ms: float = 200.0) -> dict[NodeId, NodeFactory]:
    """How to build (and rebuild after a crash) every node: storage nodes and autoadmin."""
    if bug is not None and bug not in PLANTED_BUGS:
        raise ValueError(f"unknown planted bug {bug!r}; known: {', '.join(sorted(PLANTED_BUGS))}")
    replica_class = HealingReplica if bug is None else PLANTED_BUGS[bug]
    disks: dict[NodeId, StorageReplica] = {}

    def storage_node(id: NodeId, records: Sequence[Any], rng: Rng) -> Node:
        store = disks.setdefault(id, StorageReplica(BTree(None)))
        return replica_class(id, members, records, rng, config, store, healing)

    def autoadmin(id: NodeId, records: Sequence[Any], rng: Rng) -> Node:
        return AutoAdmin(id, healing, poll_ms)

    factories: dict[NodeId, NodeFactory] = {node: storage_node for node, _ in healing.zones}
    factories[AUTOADMIN] = autoadmin
    return factories
