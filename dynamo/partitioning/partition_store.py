"""A partition's replica: the storage replica that knows its key range and can split (§4.4).

Layer 3's `StorageReplica` holds whatever its group is given. A partition's
replica holds one contiguous range of the hashed key space, and one more
operation goes through its log: `Split`, which ends the partition and names
the two children that take its halves. Because the split is a log record,
it has one place in the order of writes, the same on every replica:

* every write before it is in the parent's B-tree when the split applies,
  so each child starts from exactly the parent's items in its half;
* every write after it is refused at apply, on every replica alike, and its
  client is told to retry (`Unavailable`): it was never applied anywhere,
  so the retry, routed to a child, cannot duplicate it;
* once applied, the parent answers everything with `WrongPartition`, which
  sends the router back to the metadata service for the children.

The split marker is kept as an item of a system table in the partition's own
B-tree, in the same transaction as the applied LSN, so it survives a crash,
travels in every snapshot a lagging replica is sent, and is never mistaken for
a user's item.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dynamo.contract import NodeId
from dynamo.partitioning.keyspace import KeyRange, position_of
from dynamo.partitioning.partition_map import PartitionId
from dynamo.paxos.operations import Ok, Query, Rejected
from dynamo.paxos.statemachine import InFlight, StorageReplica, WriteRecord, digest
from dynamo.storage import outbox
from dynamo.storage.btree import BTree, Mutation
from dynamo.storage.errors import DynamoError
from dynamo.storage.keys import EncodedKey
from dynamo.storage.table import read_global_index

SYSTEM_TABLE = "__partition__"
_SPLIT_KEY = EncodedKey(b"", b"split", b"")


@dataclass(frozen=True)
class Split:
    """Ask a partition's leader to split it at hash position `at` (§4.4)."""

    at: int
    left: PartitionId
    right: PartitionId
    reason: str = "size"


@dataclass(frozen=True)
class SplitRecord:
    """The split, as a log record: from its slot on, the children own the range."""

    at: int
    left: PartitionId
    right: PartitionId
    members: tuple[NodeId, ...]  # the children's replicas: the parent's, as of the split


@dataclass(frozen=True)
class WrongPartition:
    """This partition no longer holds the key (it split): refresh the map and retry."""

    partition: PartitionId
    split: SplitRecord | None = None


class PartitionStore(StorageReplica):
    """The items of one partition's key range, on one replica, and its split marker."""

    def __init__(self, btree: BTree, partition: PartitionId, key_range: KeyRange) -> None:
        super().__init__(btree)
        self.partition = partition
        self.key_range = key_range
        self.split = self._load_split()

    def plans(self, request: Any) -> bool:
        return type(request) is Split or outbox.plans(request)

    def plan(self, request: Any, in_flight: InFlight) -> tuple[Any, Any]:
        """As layer 3 plans, but a split partition takes nothing and a Split is logged."""
        if self.split is not None:
            return None, WrongPartition(self.partition, self.split)
        if type(request) is Split:
            if request.at not in self.key_range or request.at == self.key_range.low:
                return None, WrongPartition(self.partition)
            return SplitRecord(request.at, request.left, request.right,
                               self.members() or ()), Ok()
        if outbox.plans(request):  # a global index's update (`dynamo.storage.outbox`)
            planned = outbox.plan(request, in_flight)
            expects = tuple((tbl, key, digest(row)) for tbl, key, row in planned.read)
            return WriteRecord(planned.changes, expects), Ok()
        return super().plan(request, in_flight)

    def apply(self, slot: int, command: Any) -> bool:
        """Apply a chosen command; after the split, nothing more changes this partition."""
        if self.split is not None:
            self.btree.apply([], slot)
            return False
        if type(command) is SplitRecord:
            marker = {"at": {"S": format(command.at, "x")}, "left": {"S": command.left},
                      "right": {"S": command.right},
                      "members": {"L": [{"S": m} for m in command.members]}}
            self.btree.apply([Mutation(SYSTEM_TABLE, _SPLIT_KEY, marker)], slot)
            self.split = command
            return True
        return super().apply(slot, command)

    def read(self, request: Any) -> Any:
        if self.split is not None:
            return WrongPartition(self.partition, self.split)
        if getattr(request, "index", None) is not None:  # a global index's partition
            try:
                return Ok(read_global_index(self.btree, request.table, request.index,
                                            type(request) is Query, dict(request.arguments)))
            except DynamoError as error:
                return Rejected(error)
        return super().read(request)

    def restore(self, index: int, items: tuple[Mutation, ...], members: tuple[str, ...],
                log_members: tuple[str, ...] = ()) -> None:
        super().restore(index, items, members, log_members)
        self.split = self._load_split()

    def child_items(self, child: KeyRange) -> list[Mutation]:
        """The parent's items in one child's half: where that child starts from."""
        return [m for m in self.btree.dump()
                if m.tbl != SYSTEM_TABLE and position_of(m.key) in child]

    def _load_split(self) -> SplitRecord | None:
        marker = self.btree.get(SYSTEM_TABLE, _SPLIT_KEY)
        if marker is None:
            return None
        return SplitRecord(int(marker["at"]["S"], 16), marker["left"]["S"],
                           marker["right"]["S"], tuple(m["S"] for m in marker["members"]["L"]))
