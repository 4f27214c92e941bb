"""Planted bugs of global index maintenance, so that the convergence proof is shown to have teeth.

Like dynamo/partitioning/planted.py, each is one small deviation from one rule,
as a subclass, kept out of the code students read:

    mark_ignores_sequence       the base partition drops an item's outbox row when
                                the propagator says "propagated", even if a write
                                has folded newer updates into it since: the index
                                never hears of that write

An index partition that applies updates without their sequence check is not
among them: the propagator ships one round per item at a time, so in the
simulator an old update never overtakes a newer one, and the runs cannot tell.
tests/indexes/test_outbox.py shows the check at work on a late update instead.
"""

from __future__ import annotations

from typing import Any

from dynamo.partitioning.partition_store import PartitionStore
from dynamo.partitioning.storage_node import StorageNode
from dynamo.paxos.operations import Ok
from dynamo.paxos.statemachine import InFlight, WriteRecord
from dynamo.storage import outbox
from dynamo.storage.btree import Mutation


class MarkIgnoresSequence(PartitionStore):
    """A base partition that drops an outbox row whatever its sequence now."""

    def plan(self, request: Any, in_flight: InFlight) -> tuple[Any, Any]:
        if type(request) is outbox.MarkPropagated and self.split is None:
            row = Mutation(outbox.outbox_tbl(request.tbl), request.key, None)
            return WriteRecord((row,)), Ok()  # the bug: no check that the row is still at seq
        return super().plan(request, in_flight)


def _node_with(store: type[PartitionStore]) -> type[StorageNode]:
    return type(f"StorageNodeWith{store.__name__}", (StorageNode,), {"store_class": store})


PLANTED_BUGS: dict[str, type[StorageNode]] = {
    "mark_ignores_sequence": _node_with(MarkIgnoresSequence),
}
