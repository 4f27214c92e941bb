"""Planted bugs of partitioning, so that its checks are shown to have teeth.

Like dynamo/paxos/planted.py, each is one small deviation from one rule, as a
subclass, kept out of the code students read:

    split_keeps_serving         the parent goes on taking writes after its split
                                record (§4.4): they land where no router looks any
                                more, and the children never see them
    split_drops_silently        a write that lands in the log after the split is
                                not applied (rightly) but reported as applied, so
                                its client is told it succeeded
    router_retries_unknown      a router retries a write whose replica never
                                answered: if the first attempt was applied, the
                                write happens twice
    children_start_at_slot_zero a split's children start from slot 0 with the
                                parent's items: a replica moved in later is sent
                                the log from slot 1, which never held them (found
                                by the partition-moves scenario, then fixed)
"""

from __future__ import annotations

from typing import Any

from dynamo.partitioning.partition_store import PartitionStore, Split, SplitRecord
from dynamo.partitioning.router import RequestRouter, _Pending
from dynamo.partitioning.storage_node import StorageNode
from dynamo.paxos.statemachine import InFlight, StorageReplica


class SplitKeepsServing(PartitionStore):
    """A partition that logs its split but forgets it is split."""

    def plan(self, request: Any, in_flight: InFlight) -> tuple[Any, Any]:
        if type(request) is Split or self.split is None:
            return super().plan(request, in_flight)
        return StorageReplica.plan(self, request, in_flight)  # the bug: still planning writes

    def apply(self, slot: int, command: Any) -> bool:
        if self.split is None or type(command) is SplitRecord:
            return super().apply(slot, command)
        return StorageReplica.apply(self, slot, command)  # the bug: still applying them

    def read(self, request: Any) -> Any:
        return StorageReplica.read(self, request)


class SplitDropsSilently(PartitionStore):
    """A split partition that skips later writes but says they were applied."""

    def apply(self, slot: int, command: Any) -> bool:
        applied = super().apply(slot, command)
        return applied or self.split is not None  # the bug: "not applied" goes unreported


class RouterRetriesUnknown(RequestRouter):
    """A router that treats a write's silence as "not done" and tries again."""

    def _attempt_timed_out(self, key: int, pending: _Pending) -> list[Any]:
        self.attempts.pop(pending.attempt, None)
        pending.target = self._next_replica(pending)
        return self._dispatch(key)  # the bug: the first attempt may have been applied


def _node_with(store: type[PartitionStore]) -> type[StorageNode]:
    return type(f"StorageNodeWith{store.__name__}", (StorageNode,), {"store_class": store})


class ChildrenStartAtSlotZero(StorageNode):
    """Children seeded as the state before slot 1, not as slot 1's state."""

    child_base = 0  # the bug: a new member's log shipping starts at slot 1


PLANTED_BUGS: dict[str, tuple[type[StorageNode], type[RequestRouter]]] = {
    "children_start_at_slot_zero": (ChildrenStartAtSlotZero, RequestRouter),
    "split_keeps_serving": (_node_with(SplitKeepsServing), RequestRouter),
    "split_drops_silently": (_node_with(SplitDropsSilently), RequestRouter),
    "router_retries_unknown": (StorageNode, RouterRetriesUnknown),
}
