"""A storage node that admits requests through its token buckets (§4, §4.1).

Layer 5's `StorageNode` hands every forwarded request to its partition's
replica. This one first asks its `StorageAdmission` (`storage_admission.py`)
whether the partition's buckets, and the node's, have tokens for it. A
request refused is answered at once with DynamoDB's throttling error, before
its replica sees it; one admitted is charged what it cost when its answer
leaves.

Under adaptive capacity the node reports each partition's consumption and
throttles to the controller (`Usage`) once an interval, and takes the
allocations it sends back (`Boost`). With a load balancer it reports the load
of the partitions it leads (`NodeLoad`, `balancing.py`), and hands a
leadership off when asked (layer 5's `HandOffPartition`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dynamo.admission.adaptive_capacity import PartitionLoad
from dynamo.admission.allocation import Throughput, static_allocation
from dynamo.admission.eras import Era
from dynamo.admission.messages import Boost, LedPartition, NodeLoad, SetTableLimits, Usage
from dynamo.admission.on_demand import INITIAL_PEAK
from dynamo.admission.storage_admission import StorageAdmission
from dynamo.contract import (
    Announce,
    ClientRequest,
    Effect,
    Event,
    NodeId,
    Receive,
    Reply,
    Rng,
    Send,
    SetTimer,
    Start,
    TimerFired,
)
from dynamo.partitioning.messages import Forward
from dynamo.partitioning.partition_map import PartitionId, table_root
from dynamo.partitioning.storage_node import Disk, NodeConfig, StorageNode
from dynamo.paxos.operations import Ok, Rejected
from dynamo.storage.capacity import ConsumedCapacity
from dynamo.storage.errors import ProvisionedThroughputExceededException, ThrottlingException

USAGE_TIMER = "admission:usage"
USAGE_MS = 1000.0  # how often throttles are announced and usage reported
ADMITTED_WINDOW = 65536  # admitted requests awaiting their answer, remembered at most
PROVISIONED_MESSAGE = ("The level of configured provisioned throughput for the table was "
                       "exceeded. Consider increasing your provisioning level with the "
                       "UpdateTable API.")
INDEX_MESSAGE = ("The level of configured provisioned throughput for one or more global "
                 "secondary indexes of the table was exceeded. Consider increasing your "
                 "provisioning level for the under-provisioned global secondary indexes with "
                 "the UpdateTable API.")
ON_DEMAND_MESSAGE = ("Throughput exceeds the current capacity of your table or index. "
                     "DynamoDB is automatically scaling your table or index so please try "
                     "again shortly. If exceptions persist, check if you have a hot key: "
                     "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
                     "bp-partition-key-design.html")


def throttled(on_demand: bool, of_index: bool = False) -> Rejected:
    """DynamoDB's answer to a throttled request: on-demand tables get ThrottlingException;
    a provisioned global index's throttle names the index."""
    if on_demand:
        return Rejected(ThrottlingException(ON_DEMAND_MESSAGE))
    return Rejected(ProvisionedThroughputExceededException(
        INDEX_MESSAGE if of_index else PROVISIONED_MESSAGE))


def capacity_of(result: Any) -> ConsumedCapacity | None:
    """What an answer says its request consumed, if it says."""
    if type(result) is not Ok:
        return None
    value = result.value
    capacity = getattr(value, "capacity", None)
    if capacity is None and isinstance(value, tuple) and value:
        capacity = value[-1]
    return capacity if isinstance(capacity, ConsumedCapacity) else None


def units_of(result: Any, read: bool) -> float:
    """The capacity units an answer says its request consumed, on what it was sent to.

    A read of a global index consumes the index's units (the table's are 0); a write's
    units here are the table's alone, its global indexes' being theirs (`index_units`).
    Every request served costs at least one unit; a refused write still costs one (a
    failed condition is charged, §4 units).
    """
    capacity = capacity_of(result)
    if capacity is not None:
        if read:
            return float(capacity.read + sum(capacity.global_indexes.values()))
        return float(capacity.write)
    if type(result) is Ok:
        return 1.0  # an answer that does not say (the simulator's shorthand): the least
    if type(result) is Rejected and not read and not getattr(result.error, "retryable", False):
        return 1.0
    return 0.0  # not served here (not the leader, not now): nothing was done


def index_units(result: Any) -> dict[str, float]:
    """The write units a write's answer says each global index consumed, by index name."""
    capacity = capacity_of(result)
    return {} if capacity is None else dict(capacity.global_indexes)


class AdmittingStorageNode(StorageNode):
    """A storage node with partition-level and node-level token buckets."""

    def __init__(self, id: NodeId, records: Sequence[Any], rng: Rng, config: NodeConfig,
                 disk: Disk, era: Era, controller: NodeId | None = None,
                 admission: StorageAdmission | None = None,
                 balancer: NodeId | None = None) -> None:
        super().__init__(id, records, rng, config, disk)
        self.admission = admission or StorageAdmission(era)
        self.controller = controller if era is Era.ADAPTIVE else None
        self.balancer = balancer
        self.admitted: dict[tuple[NodeId, int], tuple[PartitionId, str, str]] = {}

    def step(self, now_ms: float, event: Event) -> list[Effect]:
        kind = type(event)
        if kind is ClientRequest and type(event.operation) is SetTableLimits:
            self.now = now_ms
            op = event.operation
            self.admission.set_table(op.table, op.limits, now_ms)
            return [Reply(event.client, event.request_id, Ok())]
        if kind is Receive and type(event.message) is Boost:
            self.now = now_ms
            self.admission.boost(event.message.partition, event.message.allocation, now_ms)
            return []
        if kind is TimerFired and event.name == USAGE_TIMER:
            self.now = now_ms
            return self._report_usage()
        effects = super().step(now_ms, event)
        if kind is Start:
            effects.append(SetTimer(USAGE_TIMER, USAGE_MS))
        return effects

    def admit(self, src: NodeId, forward: Forward) -> Any | None:
        kind = "read" if forward.read else "write"
        source = self.admission.admit(forward.partition, kind, self.now)
        if source is None:
            limits = self.admission.tables.get(table_root(forward.partition))
            if limits is None:
                return throttled(False)
            return throttled(limits.on_demand, limits.of_index)
        self.admitted[(src, forward.request_id)] = (forward.partition, kind, source)
        if len(self.admitted) > ADMITTED_WINDOW:  # answers lost to a crash are never charged
            del self.admitted[next(iter(self.admitted))]
        return None

    def answered(self, partition: PartitionId, client: NodeId, request_id: int,
                 result: Any) -> None:
        admitted = self.admitted.pop((client, request_id), None)
        if admitted is None:
            return
        partition, kind, source = admitted
        self.admission.charge(partition, kind, source, units_of(result, kind == "read"),
                              self.now)

    def _unhost(self, root: PartitionId, exact: bool = False) -> list[Effect]:
        for partition in [p for p in self.hosted if p == root or not exact and p.startswith(root)]:
            self.admission.forget(partition)
        return super()._unhost(root, exact)

    def _report_usage(self) -> list[Effect]:
        """Announce the partitions throttled here over the interval (the event stream's
        `throttled`), and tell adaptive capacity what each consumed and was refused."""
        seconds = USAGE_MS / 1000.0
        loads, tables, led = [], {}, []
        effects: list[Effect] = []
        capacity = self.admission.capacity
        for partition, usage in self.admission.take_usage().items():
            replica = self.replicas.get(partition)
            if replica is not None and replica.leader is not None:
                load = (usage.consumed["read"] / seconds / capacity.read
                        + usage.consumed["write"] / seconds / capacity.write)
                led.append(LedPartition(partition, load, replica.members))
            if any(usage.throttled.values()):
                effects.append(Announce("throttled", (
                    ("partition", partition), ("reads", usage.throttled["read"]),
                    ("writes", usage.throttled["write"]))))
            root = table_root(partition)
            limits = self.admission.tables.get(root)
            if limits is None or partition not in self.replicas:
                continue
            table = INITIAL_PEAK.scaled(2) if limits.on_demand else limits.throughput
            tables[root] = limits
            loads.append((partition, PartitionLoad(
                static_allocation(table, partition, self.admission.partition_max),
                self.admission.allocation(partition),
                Throughput(usage.consumed["read"] / seconds, usage.consumed["write"] / seconds),
                (usage.throttled["read"], usage.throttled["write"]))))
        if loads and self.controller is not None:
            effects.append(Send(self.controller, Usage(tuple(tables.items()), tuple(loads))))
        if self.balancer is not None:  # cool nodes report too: they are where load goes
            effects.append(Send(self.balancer, NodeLoad(self._id, tuple(led))))
        return [*effects, SetTimer(USAGE_TIMER, USAGE_MS)]
