"""What admission control's nodes tell each other (§4.1.2, §4.2).

Token requests and grants between routers and GAC are in `global_admission.py`,
beside the protocol they carry.
"""

from __future__ import annotations

from dataclasses import dataclass

from dynamo.admission.adaptive_capacity import PartitionLoad
from dynamo.admission.allocation import Throughput
from dynamo.admission.storage_admission import TableLimits
from dynamo.contract import Message
from dynamo.partitioning.partition_map import PartitionId


@dataclass(frozen=True)
class SetTableLimits:
    """The control plane tells a storage node or a GAC server a table's throughput
    (a client request: at CreateTable, UpdateTable and start-up).

    `table` is the table's first partition id for a storage node, its storage name
    (`region/name`) for GAC and routers.
    """

    table: str
    limits: TableLimits


@dataclass(frozen=True)
class Usage(Message):
    """A storage node's partitions over the last interval, for adaptive capacity."""

    tables: tuple[tuple[PartitionId, TableLimits], ...]  # each table root's limits
    loads: tuple[tuple[PartitionId, PartitionLoad], ...]


@dataclass(frozen=True)
class Boost(Message):
    """Adaptive capacity's new allocation for a partition; None: back to its share."""

    partition: PartitionId
    allocation: Throughput | None


@dataclass(frozen=True)
class ForgetTable:
    """The control plane tells GAC a table was deleted (a client request)."""

    table: str


@dataclass(frozen=True)
class LedPartition:
    """A partition a storage node leads, its load (consumed capacity as a share of the
    node's), and its replicas' nodes."""

    partition: PartitionId
    load: float
    members: tuple[str, ...]


@dataclass(frozen=True)
class NodeLoad(Message):
    """A storage node's load over the last interval, for proactive balancing (§4.3)."""

    node: str
    led: tuple[LedPartition, ...]
