"""Adaptive capacity as a node: it collects partitions' usage and boosts them (§4.1.2).

Storage nodes report what each partition consumed and was refused over the
last interval (`Usage`). Once an interval the controller runs one step of the
proportional control law (`adaptive_capacity.control`) per table, and sends
each changed allocation (`Boost`) to every storage node: the nodes hosting the
partition take it, the others have no buckets for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dynamo.admission.adaptive_capacity import PartitionLoad, control
from dynamo.admission.allocation import Throughput
from dynamo.admission.messages import Boost, Usage
from dynamo.admission.storage_admission import TableLimits
from dynamo.contract import (
    Announce,
    Effect,
    Event,
    NodeId,
    Receive,
    Send,
    SetTimer,
    Start,
    TimerFired,
)
from dynamo.partitioning.partition_map import PartitionId, table_root

CONTROL_TIMER = "adaptive:control"
CONTROL_MS = 1000.0


class CapacityController:
    """Adaptive capacity's controller for every table, as a sans-IO node."""

    def __init__(self, id: NodeId, storage_nodes: Sequence[NodeId],
                 interval_ms: float = CONTROL_MS) -> None:
        self._id = id
        self.storage_nodes = tuple(storage_nodes)
        self.interval_ms = interval_ms
        self.tables: dict[PartitionId, TableLimits] = {}
        self.loads: dict[PartitionId, PartitionLoad] = {}
        self.boosted: dict[PartitionId, Throughput] = {}

    @property
    def id(self) -> NodeId:
        return self._id

    def step(self, now_ms: float, event: Event) -> list[Effect]:
        kind = type(event)
        if kind is Receive and type(event.message) is Usage:
            self._collect(event.message)
            return []
        if kind is TimerFired and event.name == CONTROL_TIMER:
            return self._control() + [SetTimer(CONTROL_TIMER, self.interval_ms)]
        if kind is Start:
            return [SetTimer(CONTROL_TIMER, self.interval_ms)]
        return []

    def _collect(self, usage: Usage) -> None:
        """Add a node's report to the interval's; replicas of one partition add up."""
        self.tables.update(usage.tables)
        for partition, load in usage.loads:
            seen = self.loads.get(partition)
            if seen is not None:
                load = PartitionLoad(load.share, load.allocation,
                                     Throughput(seen.consumed.read + load.consumed.read,
                                                seen.consumed.write + load.consumed.write),
                                     (seen.throttled[0] + load.throttled[0],
                                      seen.throttled[1] + load.throttled[1]))
            self.loads[partition] = load

    def _control(self) -> list[Effect]:
        by_table: dict[PartitionId, dict[PartitionId, PartitionLoad]] = {}
        for partition, load in self.loads.items():
            by_table.setdefault(table_root(partition), {})[partition] = load
        self.loads = {}
        effects: list[Effect] = []
        for root, loads in by_table.items():
            limits = self.tables.get(root)
            if limits is None or limits.on_demand:
                continue
            for partition, allocation in control(limits.throughput, loads).items():
                if allocation is None:
                    if self.boosted.pop(partition, None) is not None:
                        effects.append(Announce("boost_returned", (("partition", partition),)))
                else:
                    self.boosted[partition] = allocation
                    effects.append(Announce("boosted", (
                        ("partition", partition), ("read", round(allocation.read, 1)),
                        ("write", round(allocation.write, 1)))))
                effects += [Send(node, Boost(partition, allocation))
                            for node in self.storage_nodes]
        return effects

    def snapshot(self) -> dict[str, Any]:
        return {"id": self._id, "boosted": {p: {"read": a.read, "write": a.write}
                                            for p, a in sorted(self.boosted.items())}}
