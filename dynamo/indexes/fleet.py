"""A partitioned fleet whose table has global secondary indexes, as the simulator runs it.

Layer 5's fleet (`dynamo.partitioning.fleet`) with the teaching shorthand's
table given two global indexes on its value `v` (`INDEXED_KV`), each a table
of its own with a first partition on the same three storage nodes, and a
propagator node (`propagator.py`) shipping the base partitions' outbox rows
to them. Clients still speak the shorthand (`Put`, `Get`, `ConditionalPut`,
`Delete`, `Add`), so the simulator's checkers judge the base table as before;
the routers hand the writes on as item operations on `INDEXED_KV`:

* a `Put` writes `{"k": key, "v": value}`: a new index key every time;
* a `Delete` removes the item and so its entries;
* an `Add` makes `v` a number, which a string-keyed index does not hold: the
  item leaves the index (a sparse index).

`divergence` is the proof's judge: once writes stop and faults heal, every
index must equal the projection of its base table (`expected_entries`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from dynamo.contract import ClientRequest, Effect, Event, Node, NodeFactory, NodeId, Reply, Rng
from dynamo.indexes.propagator import PROPAGATOR, Propagator, PropagatorConfig
from dynamo.partitioning.fleet import METADATA, FleetConfig, fleet_factories
from dynamo.partitioning.metadata import MetadataService
from dynamo.partitioning.partition_map import PartitionId
from dynamo.partitioning.router import RequestRouter, RouterConfig
from dynamo.partitioning.storage_node import StorageNode
from dynamo.paxos.operations import KV_TABLE, SHORTHAND, from_shorthand, to_shorthand
from dynamo.paxos.replica import PaxosConfig
from dynamo.storage import outbox
from dynamo.storage.attributes import Item
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.indexes import (
    ALL,
    KEYS_ONLY,
    Projection,
    SecondaryIndex,
    entry,
    index_tbl,
)
from dynamo.storage.keys import EncodedKey, KeyAttribute, KeySchema

INDEXED_KV = replace(KV_TABLE, indexes=[
    SecondaryIndex("by-value", KeySchema(KeyAttribute("v", "S")), Projection(ALL), True),
    SecondaryIndex("by-value-key", KeySchema(KeyAttribute("v", "S"), KeyAttribute("k", "S")),
                   Projection(KEYS_ONLY), True),
])
"""The shorthand's table (same storage id) with two global indexes on its value."""

INDEX_ROOTS = {"by-value": "ia.", "by-value-key": "ib."}  # each index's first partition


class ShorthandRouter(RequestRouter):
    """A request router that carries the shorthand's operations to `INDEXED_KV`."""

    def __init__(self, id: NodeId, rng: Rng, config: RouterConfig | None = None) -> None:
        super().__init__(id, rng, config)
        self.shorthand: dict[tuple[str, int], Any] = {}

    def step(self, now_ms: float, event: Event) -> list[Effect]:
        if type(event) is ClientRequest and type(event.operation) in SHORTHAND:
            self.shorthand[(event.client, event.request_id)] = event.operation
            operation = replace(from_shorthand(event.operation), table=INDEXED_KV)
            event = replace(event, operation=operation)
        return [self._as_shorthand(effect) for effect in super().step(now_ms, event)]

    def _as_shorthand(self, effect: Effect) -> Effect:
        if type(effect) is not Reply:
            return effect
        op = self.shorthand.pop((effect.client, effect.request_id), None)
        return effect if op is None else replace(effect, result=to_shorthand(op, effect.result))


def index_factories(config: FleetConfig, paxos: PaxosConfig,
                    node_class: Callable[..., Node] | None = None,
                    propagator: PropagatorConfig | None = None) -> dict[NodeId, NodeFactory]:
    """Every node of a fleet whose table has `INDEXED_KV`'s global indexes, and the
    propagator. `node_class` replaces the storage node (a planted bug's)."""
    tables = tuple((index_tbl(KV_TABLE.tbl, index), INDEX_ROOTS[index.name])
                   for index in INDEXED_KV.global_indexes)
    factories = fleet_factories(replace(config, tables=tables), paxos, node_class=node_class,
                                router_class=ShorthandRouter)
    # Polled as often as the storage nodes check their partitions: each poll is a strong
    # read of every base partition, and a faster one only buys lag the proof does not need.
    settings = propagator or PropagatorConfig(metadata=METADATA, poll_ms=config.check_ms,
                                              router=config.router)

    def build(id: NodeId, records: Any, rng: Rng) -> Node:
        return Propagator(id, rng, settings, (INDEXED_KV,))

    factories[PROPAGATOR] = build
    return factories


# --- the judge: every index is the projection of its table -------------------------------

Rows = dict[EncodedKey, Item]


def expected_entries(definition: TableDefinition, index: SecondaryIndex, items: Rows) -> Rows:
    """What the index must hold for these items: each one's entry, if it has one."""
    expected: Rows = {}
    for item in items.values():
        found = entry(definition.tbl, definition.key_schema, index, item)
        if found is not None:
            expected[found.key] = found.item  # type: ignore[assignment]
    return expected


def table_rows(nodes: Mapping[NodeId, Node | None], tbl: str,
               rows_tbl: str | None = None) -> Rows | None:
    """A table's rows (or the rows filed under `rows_tbl` in its partitions), each live
    partition's from its most caught-up replica; None if a partition has no replica up
    or the metadata service knows no map yet."""
    metadata = nodes.get(METADATA)
    table_map = metadata.maps.get(tbl) if isinstance(metadata, MetadataService) else None
    if table_map is None:
        return None
    rows: Rows = {}
    for partition in table_map.partitions:
        store = _freshest(nodes, partition.id)
        if store is None:
            return None
        for found in store.btree.scan(rows_tbl or tbl):
            rows[found.key] = found.item
    return rows


def divergence(nodes: Mapping[NodeId, Node | None],
               definition: TableDefinition = INDEXED_KV) -> list[str]:
    """How the indexes differ from their table's projection, and the outbox rows still
    waiting (empty: converged)."""
    items = table_rows(nodes, definition.tbl)
    waiting = table_rows(nodes, definition.tbl, outbox.outbox_tbl(definition.tbl))
    if items is None or waiting is None:
        return ["the base table's partitions are not all readable"]
    problems = [f"{len(waiting)} outbox rows not propagated"] if waiting else []
    for index in definition.global_indexes:
        actual = table_rows(nodes, index_tbl(definition.tbl, index))
        if actual is None:
            problems.append(f"index {index.name}: its partitions are not all readable")
            continue
        expected = expected_entries(definition, index, items)
        missing = [expected[k] for k in expected if actual.get(k) != expected[k]]
        extra = [actual[k] for k in actual if k not in expected]
        if missing or extra:
            problems.append(f"index {index.name}: {len(missing)} entries missing or stale "
                            f"(e.g. {missing[:1]}), {len(extra)} extra (e.g. {extra[:1]})")
    return problems


def _freshest(nodes: Mapping[NodeId, Node | None], partition: PartitionId) -> Any:
    stores = [node.store(partition) for node in nodes.values()
              if isinstance(node, StorageNode) and partition in node.replicas]
    return max(stores, key=lambda store: store.applied_lsn, default=None)
