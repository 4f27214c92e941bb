"""What routers, storage nodes and the metadata service say to one another (§3, §6.6).

A storage node hosts replicas of many partitions, so whatever reaches it
names the partition it is for: a replica's Paxos message travels inside a
`PeerMessage`, a router's request inside a `Forward`. Storage nodes are the
authority on which partitions they host and which of them they lead; they
publish that to the metadata service in a `PartitionReport`, and routers ask
the metadata service for a table's map (`MapRequest` / `MapReply`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dynamo.contract import Message, NodeId
from dynamo.partitioning.partition_map import PartitionId, PartitionMap
from dynamo.storage.keys import EncodedKey


@dataclass(frozen=True)
class PeerMessage(Message):
    """A Paxos message between two replicas of one partition."""

    partition: PartitionId
    message: Any


@dataclass(frozen=True)
class Forward(Message):
    """A router hands a request to the replica of `partition` on the receiving node.

    The router has worked out the key the request touches and whether it reads;
    they come along, so the node counts its traffic without working them out again.
    `system`: the request is the system's own work (a `ToPartition`), which admission
    control neither throttles nor charges to the customer.
    """

    request_id: int
    partition: PartitionId
    operation: Any
    key: EncodedKey | None = None
    read: bool = False
    system: bool = False


@dataclass(frozen=True)
class Forwarded(Message):
    """The replica's answer to a `Forward`."""

    request_id: int
    result: Any


@dataclass(frozen=True)
class PartitionStatus:
    """One hosted replica, as its node reports it to the metadata service."""

    partition: PartitionId
    table: str
    low: int
    high: int
    members: tuple[NodeId, ...]
    leads: bool
    ballot: Any = None
    split: tuple[int, PartitionId, PartitionId] | None = None  # (at, left, right) once split


@dataclass(frozen=True)
class PartitionReport(Message):
    """Everything a storage node hosts: sent on a fixed period and on every change."""

    node: NodeId
    partitions: tuple[PartitionStatus, ...]


@dataclass(frozen=True)
class MapRequest(Message):
    """A router asks for a table's current partition map."""

    table: str


@dataclass(frozen=True)
class MapReply(Message):
    """The metadata service's map of a table (None: no such table)."""

    table: str
    map: PartitionMap | None


@dataclass(frozen=True)
class Unreachable:
    """The answer a runtime gives for a request it could not deliver (a refused
    connection: the node is down). Nothing was asked, so trying elsewhere is safe."""

    node: NodeId


@dataclass(frozen=True)
class PlacementRequest(Message):
    """Autoadmin asks the metadata service where every partition's replicas are."""


@dataclass(frozen=True)
class PlacedPartition:
    """One live partition as the metadata service knows it."""

    partition: PartitionId
    table: str
    low: int
    high: int
    members: tuple[NodeId, ...]
    hosted_by: tuple[NodeId, ...]  # the nodes that report a replica of it
    leader: NodeId | None


@dataclass(frozen=True)
class Placement(Message):
    """Every live partition's replicas: what autoadmin balances from."""

    partitions: tuple[PlacedPartition, ...]


@dataclass(frozen=True)
class HostReplica(Message):
    """Autoadmin asks a node to host a new, passive replica of a partition (a move's
    first step): it joins the group once the group adds it."""

    partition: PartitionId
    table: str
    low: int
    high: int
    members: tuple[NodeId, ...]


@dataclass(frozen=True)
class HandOffPartition(Message):
    """Autoadmin asks the node leading `partition` to hand its leadership to `to`
    (§4.3: moving load off a node whose partitions together run hot)."""

    partition: PartitionId
    to: NodeId


@dataclass(frozen=True)
class ChangeMembers(Message):
    """Autoadmin asks the node leading `partition` to propose a membership change.

    `once_caught_up`: propose it only once that member has applied nearly all
    the log (a move removes the old replica only after the new one has caught up).
    """

    partition: PartitionId
    change: Any
    once_caught_up: NodeId | None = None


@dataclass(frozen=True)
class DropReplica(Message):
    """Autoadmin tells a node its replica of `partition` was removed from the group (a
    move's last step): a removed replica may never hear of its removal from the log."""

    partition: PartitionId
