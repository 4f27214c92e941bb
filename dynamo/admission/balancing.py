"""Balancing consumed capacity: moving load off a node whose partitions run hot (§4.3).

"Each storage node independently monitors the overall throughput and data
size of all its hosted replicas. In case the throughput is beyond a threshold
percentage of the maximum capacity of the node, it reports to the autoadmin
service a list of candidate partition replicas to move from the current
node" (§4.3). The paper's fourth stage of admission control: with GAC the
partitions may burst always, so what keeps a storage node from running hot is
where the busy partitions' work lands.

A partition's writes and strongly consistent reads are served by its leader,
so a node's load is the consumed capacity of the partitions it leads, as a
share of the node's own capacity (`NODE_MAX`). Every storage node reports it
once a second (`NodeLoad`). The `LoadBalancer`, autoadmin's part for this, then
once an interval:

* finds the hottest node; if its load is past `threshold` and the coolest
  node's is lower by more than `margin`,
* picks the partition it leads whose load is nearest half the difference
  (moving it evens the two out without swapping which one is hot), among
  those with a replica on the cool node and not moved in the last
  `cooldown_ms`,
* and asks the hot node to hand that partition's leadership to the cool node
  (`HandOffPartition`; the handoff is layer 3's, §6.4, so no request is lost
  and the new leader serves at once).

With more storage nodes than replicas a balancer could move the replica
itself (add one on the cool node, remove the hot one); this one moves
leadership only, which with three nodes, every partition on each, is the only
move there is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dynamo.admission.messages import NodeLoad
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
from dynamo.partitioning.messages import HandOffPartition
from dynamo.partitioning.partition_map import PartitionId

BALANCE_TIMER = "balance:check"
BALANCE_MS = 2000.0
THRESHOLD = 0.5  # a node past half its capacity runs hot
MARGIN = 0.2  # ... if another runs cooler by a fifth of a node's capacity
COOLDOWN_MS = 10_000.0  # a partition moved is left alone this long


@dataclass(frozen=True)
class Move:
    """Hand the leadership of `partition` from node `src` to node `dst`."""

    partition: PartitionId
    src: NodeId
    dst: NodeId
    load: float


def choose_move(reports: Mapping[NodeId, NodeLoad], recently_moved: set[PartitionId],
                threshold: float = THRESHOLD, margin: float = MARGIN) -> Move | None:
    """The one leadership move that best evens out the hottest and the coolest node."""
    if len(reports) < 2:
        return None
    load = {node: sum(p.load for p in report.led) for node, report in reports.items()}
    hot = max(load, key=lambda n: (load[n], n))
    cool = min(load, key=lambda n: (load[n], n))
    gap = load[hot] - load[cool]
    if load[hot] <= threshold or gap <= margin:
        return None
    candidates = [p for p in reports[hot].led
                  if cool in p.members and p.partition not in recently_moved and p.load > 0]
    if not candidates:
        return None
    best = min(candidates, key=lambda p: (abs(p.load - gap / 2), p.partition))
    if best.load >= gap:
        return None  # the cool node would end up hotter than the hot one is now
    return Move(best.partition, hot, cool, best.load)


@dataclass(frozen=True)
class BalanceConfig:
    """How often the balancer looks, and what it counts as hot and as worth a move."""

    interval_ms: float = BALANCE_MS
    threshold: float = THRESHOLD
    margin: float = MARGIN
    cooldown_ms: float = COOLDOWN_MS


class LoadBalancer:
    """Autoadmin's proactive balancing of consumed capacity, as a sans-IO node."""

    def __init__(self, id: NodeId, config: BalanceConfig = BalanceConfig()) -> None:
        self._id = id
        self.config = config
        self.reports: dict[NodeId, NodeLoad] = {}
        self.moved: dict[PartitionId, float] = {}
        self.moves = 0

    @property
    def id(self) -> NodeId:
        return self._id

    def step(self, now_ms: float, event: Event) -> list[Effect]:
        kind = type(event)
        if kind is Receive and type(event.message) is NodeLoad:
            self.reports[event.src] = event.message
            return []
        if kind is TimerFired and event.name == BALANCE_TIMER:
            return self._balance(now_ms) + [SetTimer(BALANCE_TIMER, self.config.interval_ms)]
        if kind is Start:
            return [SetTimer(BALANCE_TIMER, self.config.interval_ms)]
        return []

    def _balance(self, now_ms: float) -> list[Effect]:
        config = self.config
        self.moved = {p: t for p, t in self.moved.items() if now_ms - t < config.cooldown_ms}
        move = choose_move(self.reports, set(self.moved), config.threshold, config.margin)
        self.reports = {}  # the next interval's reports show what the move did
        if move is None:
            return []
        self.moved[move.partition] = now_ms
        self.moves += 1
        return [Send(move.src, HandOffPartition(move.partition, move.dst)),
                Announce("rebalancing", (("partition", move.partition), ("from", move.src),
                                         ("to", move.dst), ("load", round(move.load, 3))))]

    def snapshot(self) -> dict[str, Any]:
        return {"id": self._id, "moves": self.moves}

