"""A storage node: the replicas of many partitions on one machine (§3, §4.3).

In DynamoDB a storage node hosts replicas of many partitions, of many tables
(§4.3: "thousands of replicas per storage node"), each replica a member of
its own partition's replication group. `StorageNode` is that, as one sans-IO
node: it keeps a layer-3 `Replica` per partition it hosts and hands each
event to the replica it is for.

* Messages name their partition (`PeerMessage`, `Forward`); timers and
  persisted records are tagged with it (`Tagged`), so one node's records
  rebuild all of its replicas after a crash, each from its own.
* `Hosted` records which partitions live here, with their key range and
  members: written when a table's first partition is placed here
  (`HostPartition`) and when a split makes children of a partition here.
* A split (`partition_store.py`) is applied by every replica of the parent
  at the same log position; each node then makes the children's replicas
  itself, from the parent's items in each half, on the same members. The
  children are new replication groups: each elects its own leader.
* The node reports what it hosts and leads to the metadata service on a fixed
  period and on every change (§6.6: storage nodes are the authority; the
  metadata service serves what they published).
* While it leads a partition, the node checks the partition's size and asks
  the leader to split it once it passes `split_size` (split for size, §4).

Each replica has a B-tree of its own (`disk(node, partition)`): one SQLite
file per replica on disk, so a replica's items, applied LSN and split marker
commit together and a split never touches the sibling's file.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dynamo.contract import (
    Announce,
    CancelTimer,
    ClientRequest,
    Effect,
    Event,
    MemberView,
    NodeId,
    Persist,
    Receive,
    Reply,
    Rng,
    Send,
    SetTimer,
    Start,
    TimerFired,
)
from dynamo.logreplica.healing import HealingConfig, HealingReplica
from dynamo.logreplica.messages import StandIn
from dynamo.partitioning.keyspace import KeyRange, position_of
from dynamo.partitioning.messages import (
    ChangeMembers,
    DropReplica,
    Forward,
    Forwarded,
    HandOffPartition,
    HostReplica,
    PartitionReport,
    PartitionStatus,
    PeerMessage,
)
from dynamo.partitioning.partition_map import PartitionId
from dynamo.partitioning.partition_store import (
    PartitionStore,
    Split,
    WrongPartition,
)
from dynamo.partitioning.split_point import (
    KeyDistribution,
    SplitPoint,
    split_for_consumption,
    split_for_size,
)
from dynamo.paxos import PaxosConfig, Replica
from dynamo.paxos.handoff import HandOff
from dynamo.paxos.operations import Ok
from dynamo.paxos.statemachine import Noop, WriteRecord
from dynamo.storage.attributes import item_size
from dynamo.storage.btree import BTree
from dynamo.storage.keys import EncodedKey

CHECK_TIMER = "node:check"
SEEN_WINDOW = 4096  # requests remembered, to take each once
CHILD_BASE = 1  # the slot a split's child starts from (its items are that slot's state)
CAUGHT_UP_SLACK = 10  # log slots a new member may lag and still count as caught up
SELF = "node:self"  # the client name of requests a node makes of its own replicas
Disk = Callable[[NodeId, PartitionId], BTree]


@dataclass(frozen=True)
class Hosted:
    """A persisted record: this node hosts a replica of `partition`.

    `incarnation` tells this hosting from an earlier one of the same partition on
    this node (a replica moved away and back): only its own records rebuild it.
    """

    partition: PartitionId
    table: str
    low: int
    high: int
    members: tuple[NodeId, ...]
    incarnation: int = 0
    children_made: bool = False  # split, and its children made here (never made again)


@dataclass(frozen=True)
class Tagged:
    """A persisted record of one hosted replica (its Paxos log, its promises)."""

    partition: PartitionId
    record: Any
    incarnation: int = 0


@dataclass(frozen=True)
class HostPartition:
    """The control plane places a new table's partition here (a client request)."""

    partition: PartitionId
    table: str
    low: int
    high: int
    members: tuple[NodeId, ...]


@dataclass(frozen=True)
class UnhostTable:
    """The control plane removes a deleted table's replicas from this node: its first
    partition and every partition split from it (their ids start with the first's)."""

    root: PartitionId


@dataclass(frozen=True)
class UnhostPartition:
    """The control plane removes a split parent's replica once every member has made
    both children: no member can need it to learn of the split any more."""

    partition: PartitionId


@dataclass(frozen=True)
class HandOffLeadership:
    """Before this node is stopped for a deployment (§6.4), each partition it leads hands
    its leadership to another replica (a client request; answered with the partitions
    asked, at once: each hands off on its own, `dynamo.paxos.handoff`)."""


@dataclass(frozen=True)
class Unhosted:
    """A persisted record: this node no longer hosts `partition` (its table was deleted)."""

    partition: PartitionId


@dataclass(frozen=True)
class NodeConfig:
    """How a storage node runs its replicas.

    split_size: split a partition once its items pass this many bytes (DynamoDB's
        10 GB; tests and the lab use a few KB); None never splits for size.
    split_rate: split a partition whose sustained traffic (requests per second,
        decayed over `KeyDistribution`'s half-life) passes this, where its traffic
        divides (§4.4); None never splits for consumption.
    check_ms: how often the node checks the sizes of partitions written since the last
        check, and reports to the metadata service.
    compact_ms: how often each replica marks its log as held by its B-tree (so a
        driver can drop the records behind the mark, however idle the partition).
    report_ms: how often the node reports to the metadata service when nothing
        changed (a split or an election is reported at once).
    healing: the fleet's nodes and zones, for replicas that heal their groups with
        log replicas (§5.1, `PartitionReplica`); None: plain replicas, no healing.
    store_class: the store each replica keeps its items in, when a layer above needs
        more of it than `PartitionStore` (transactions' participant); None: the node's.
    """

    paxos: PaxosConfig = PaxosConfig()
    metadata: NodeId = "memds"
    split_size: int | None = None
    check_ms: float = 100.0
    split_rate: float | None = None
    compact_ms: float = 10_000.0
    report_ms: float = 1000.0
    healing: HealingConfig | None = None
    store_class: type[PartitionStore] | None = None


class StorageNode:
    """The replicas of many partitions, behind one node id."""

    store_class: type[PartitionStore] = PartitionStore
    child_base: int = CHILD_BASE

    def __init__(self, id: NodeId, records: Sequence[Any], rng: Rng, config: NodeConfig,
                 disk: Disk) -> None:
        self._id = id
        self.rng = rng
        self.config = config
        self.disk = disk
        self.hosted: dict[PartitionId, Hosted] = {}
        self.replicas: dict[PartitionId, Replica] = {}
        self.splitting: set[PartitionId] = set()
        # A bound on each partition's size, raised by every write and measured afresh (a
        # pass over the items) only once it passes `split_size`; a partition absent here
        # has had no write since its last check.
        self.written: dict[PartitionId, int | None] = {}  # bytes written (None: unknown)
        self.size_bound: dict[PartitionId, int] = {}
        self.traffic: dict[PartitionId, KeyDistribution] = {}  # in memory: recent only
        self.served: dict[PartitionId, list[int]] = {}  # [reads, writes] taken (admin state)
        self.seen: OrderedDict[tuple[NodeId, int], None] = OrderedDict()
        self._requests = itertools.count(1)
        self.now = 0.0
        self.compacted = 0.0
        self.reported = 0.0
        tagged: dict[PartitionId, list[Any]] = {}
        for record in records:
            if type(record) is Hosted:
                self.hosted[record.partition] = record
            elif type(record) is Unhosted:
                self.hosted.pop(record.partition, None)
            elif type(record) is Tagged:
                tagged.setdefault(record.partition, []).append(record)
        self.views: dict[PartitionId, MemberView] = {}
        self.stepped: set[PartitionId] = set()  # replicas stepped since their views were read
        for partition, hosted in self.hosted.items():
            own = [t.record for t in tagged.get(partition, ())
                   if t.incarnation == hosted.incarnation]
            self.replicas[partition] = self._open(hosted, own)
            self.stepped.add(partition)

    @property
    def id(self) -> NodeId:
        return self._id

    def store(self, partition: PartitionId) -> PartitionStore:
        store = self.replicas[partition].store
        assert isinstance(store, PartitionStore)
        return store

    # --- the Node protocol -------------------------------------------------------

    def step(self, now_ms: float, event: Event) -> list[Effect]:
        self.now = now_ms
        kind = type(event)
        if kind is Receive:
            return self._on_receive(event.src, event.message)
        if kind is TimerFired:
            return self._on_timer(event.name)
        if kind is ClientRequest:
            return self._on_client(event)
        if kind is Start:
            return self._on_start()
        return []

    def member_views(self) -> tuple[MemberView, ...]:
        """Each hosted replica's view, named by its partition: a group of its own (§3).

        Kept from each replica's last look, and looked at again only once it has stepped
        (`_wrap`): an event changes only the replica it is handed to, and the simulator
        asks after every step.
        """
        for partition in self.stepped:
            if partition in self.replicas:
                (view,) = self.replicas[partition].member_views()
                self.views[partition] = MemberView(partition, view.role, view.ballot,
                                                   view.lease_until)
        self.stepped.clear()
        return tuple(self.views.values())

    def snapshot(self) -> dict[str, Any]:
        """Each hosted replica's view, by partition (what dashboards read)."""
        return {"id": self._id,
                "partitions": {p: r.snapshot() for p, r in self.replicas.items()}}

    # --- events ----------------------------------------------------------------

    def _on_start(self) -> list[Effect]:
        effects: list[Effect] = []
        for partition in list(self.replicas):
            effects += self._to_replica(partition, Start())
        for partition in list(self.replicas):
            split = self.store(partition).split
            if split is not None and not self.hosted[partition].children_made:  # unfinished
                effects += self._make_children(partition)
            effects += self._membership_followed(partition)
        return effects + self._report() + [SetTimer(CHECK_TIMER, self.config.check_ms)]

    def _on_receive(self, src: NodeId, message: Any) -> list[Effect]:
        kind = type(message)
        if kind is PeerMessage:
            if message.partition not in self.replicas:
                return []  # not hosted here (yet): the sender's leader will catch it up
            return self._to_replica(message.partition, Receive(src, message.message))
        if kind is HostReplica:
            # Passive until the group adds it: a new replica that counted itself a member
            # could vote, with nothing remembered, in a group it is not part of.
            members = tuple(m for m in message.members if m != self._id)
            effects = self._host(Hosted(message.partition, message.table, message.low,
                                        message.high, members))
            return effects + self._report() if effects else []
        if kind is ChangeMembers:
            return self._change_members(message)
        if kind is HandOffPartition:
            replica = self.replicas.get(message.partition)
            if replica is None or replica.leader is None:
                return []  # not leading it (any more): autoadmin asks again if need be
            ask = ClientRequest(SELF, next(self._requests), HandOff(message.to))
            return self._to_replica(message.partition, ask)
        if kind is DropReplica:
            replica = self.replicas.get(message.partition)
            if replica is None or replica.leader is not None:
                return []
            return [Announce("replica_removed", (("partition", message.partition),)),
                    *self._unhost(message.partition, exact=True), *self._report()]
        if kind is Forward:
            if self._seen_before(src, message.request_id):
                return []  # a duplicate: the first copy is being answered
            if message.partition not in self.replicas:
                return [Send(src, Forwarded(message.request_id, WrongPartition(message.partition)))]
            refused = None if message.system else self.admit(src, message)
            if refused is not None:
                return [Send(src, Forwarded(message.request_id, refused))]
            self._observe(message.partition, message.key)
            self.served.setdefault(message.partition, [0, 0])[0 if message.read else 1] += 1
            return self._to_replica(message.partition,
                                    ClientRequest(src, message.request_id, message.operation))
        return []

    # --- where admission control (layer 6) steps in ---------------------------------

    def admit(self, src: NodeId, forward: Forward) -> Any | None:
        """The answer that refuses a forwarded request, or None to hand it to its replica.

        This node admits everything; `dynamo.admission` overrides it with the
        partition-level and node-level token buckets of each era (§4, §4.1). The
        system's own requests (`Forward.system`) are never put to it.
        """
        return None

    def answered(self, partition: PartitionId, client: NodeId, request_id: int,
                 result: Any) -> None:
        """A replica's answer to a forwarded request, as it leaves (what it cost is in it)."""

    def _change_members(self, message: ChangeMembers) -> list[Effect]:
        """Propose autoadmin's membership change, if this node leads the partition and
        the member it waits for has caught up; else do nothing: autoadmin asks again."""
        replica = self.replicas.get(message.partition)
        if replica is None or replica.leader is None:
            return []
        waits_for = message.once_caught_up
        behind = replica.log.commit_index - replica.leader.applied.get(waits_for or "", -1)
        if waits_for is not None and behind > CAUGHT_UP_SLACK:
            return []
        request = ClientRequest(SELF, next(self._requests), message.change)
        return self._to_replica(message.partition, request)

    def _seen_before(self, src: NodeId, request_id: int) -> bool:
        """Whether a request was delivered already (contract rule 4: messages may be
        duplicated). A write run twice could apply twice, so a node takes each
        request once. The window lives in memory: a copy delayed past a restart
        would be taken again, which the simulator's bounded delays never produce
        and TCP, between real processes, never does."""
        key = (src, request_id)
        if key in self.seen:
            return True
        self.seen[key] = None
        if len(self.seen) > SEEN_WINDOW:
            self.seen.popitem(last=False)
        return False

    def _on_timer(self, name: str) -> list[Effect]:
        if name == CHECK_TIMER:
            due = self.now - self.reported >= self.config.report_ms
            return (self._check_splits() + self._compact() + (self._report() if due else [])
                    + [SetTimer(CHECK_TIMER, self.config.check_ms)])
        partition, _, timer = name.partition("|")
        if partition not in self.replicas:
            return []
        return self._to_replica(partition, TimerFired(timer))

    def _on_client(self, request: ClientRequest) -> list[Effect]:
        op = request.operation
        if type(op) is HostPartition:
            effects = self._host(Hosted(op.partition, op.table, op.low, op.high, op.members))
            return effects + [Reply(request.client, request.request_id, Ok())]
        if type(op) is UnhostTable:
            effects = self._unhost(op.root)
            return effects + [Reply(request.client, request.request_id, Ok())]
        if type(op) is UnhostPartition:
            effects = self._unhost(op.partition, exact=True)
            return effects + [Reply(request.client, request.request_id, Ok())]
        if type(op) is HandOffLeadership:
            return self._hand_off_all(request)
        return [Reply(request.client, request.request_id, WrongPartition(""))]

    def _hand_off_all(self, request: ClientRequest) -> list[Effect]:
        """Ask every replica that leads here to hand off (the replica picks its successor:
        the peer that answered its heartbeats last)."""
        led = [p for p, replica in self.replicas.items() if replica.leader is not None]
        effects: list[Effect] = []
        for partition in led:
            ask = ClientRequest(SELF, next(self._requests), HandOff())
            effects += self._to_replica(partition, ask)
        return effects + [Reply(request.client, request.request_id, Ok(tuple(led)))]

    # --- one replica's effects, as the node's ---------------------------------------

    def _to_replica(self, partition: PartitionId, event: Event) -> list[Effect]:
        replica = self.replicas[partition]
        effects = self._wrap(partition, replica.step(self.now, event))
        split = self.store(partition).split
        if split is not None and not self.hosted[partition].children_made:  # applied/installed
            effects += self._make_children(partition)
        return effects + self._membership_followed(partition)

    def _membership_followed(self, partition: PartitionId) -> list[Effect]:
        """Keep the Hosted record's members in step with the group's, as far as this node
        goes: a replica moved in records that it is a member now; one that the group
        removed (a move's last step, §4.3) goes, with its B-tree."""
        hosted, replica = self.hosted.get(partition), self.replicas.get(partition)
        if hosted is None or replica is None:
            return []
        member, recorded = self._id in replica.members, self._id in hosted.members
        if member and not recorded:
            self.hosted[partition] = updated = replace(hosted, members=replica.members)
            return [Persist(updated)]
        if recorded and not member:
            return [Announce("replica_removed", (("partition", partition),)),
                    *self._unhost(partition, exact=True)]
        return []

    def _wrap(self, partition: PartitionId, effects: list[Effect]) -> list[Effect]:
        """A replica's effects, addressed and tagged with its partition, in order (rule 2)."""
        self.stepped.add(partition)
        out: list[Effect] = []
        later: list[Effect] = []
        for effect in effects:
            kind = type(effect)
            if kind is Send:
                if type(effect.message) is StandIn:  # §5.1: the spare hosts the partition first
                    out.append(self._host_elsewhere(partition, effect.dst))
                out.append(Send(effect.dst, PeerMessage(partition, effect.message)))
            elif kind is Persist:
                out.append(Persist(Tagged(partition, effect.record,
                                          self.hosted[partition].incarnation)))
            elif kind is SetTimer:
                out.append(SetTimer(f"{partition}|{effect.name}", effect.delay_ms))
            elif kind is CancelTimer:
                out.append(CancelTimer(f"{partition}|{effect.name}"))
            elif kind is Reply:
                if effect.client == SELF:
                    self.splitting.discard(partition)
                else:
                    self.answered(partition, effect.client, effect.request_id, effect.result)
                    out.append(Send(effect.client, Forwarded(effect.request_id, effect.result)))
            elif kind is Announce:
                out.append(Announce(effect.kind, (*effect.detail, ("partition", partition))))
                if effect.kind == "committed":  # its size is worth checking again
                    self._note_growth(partition, dict(effect.detail).get("commands", ()))
                if effect.kind in ("elected", "membership_changed"):
                    later += self._report()  # the metadata service hears of it at once
        return out + later

    # --- hosting and splitting ------------------------------------------------------

    def _open(self, hosted: Hosted, records: Sequence[Any]) -> Replica:
        store_class = self.config.store_class or self.store_class
        store = store_class(self.disk(self._id, hosted.partition), hosted.partition,
                            KeyRange(hosted.low, hosted.high))
        if store.members() is None:  # a new replica: its members until the log changes them
            store.set_members(0, hosted.members)
        if self.config.healing is None:
            return Replica(self._id, hosted.members, records, self.rng, self.config.paxos, store)
        return PartitionReplica(self._id, hosted.members, records, self.rng, self.config.paxos,
                                store, self.config.healing)

    def _host_elsewhere(self, partition: PartitionId, spare: NodeId) -> Send:
        """Ask a spare the leader would add as a log replica to host the partition, so that
        its replica can answer: passive until it applies the change that adds it (§5.1)."""
        hosted = self.hosted[partition]
        return Send(spare, HostReplica(partition, hosted.table, hosted.low, hosted.high,
                                       self.replicas[partition].members))

    def _host(self, hosted: Hosted, seeded: bool = False) -> list[Effect]:
        """Start a replica of a partition here, once its `Hosted` record is durable.

        A new incarnation, with an empty B-tree unless a split has just `seeded` it:
        nothing of an earlier hosting of the partition here is taken for its state.
        """
        if hosted.partition in self.hosted:
            return []
        if not seeded:
            self.disk(self._id, hosted.partition).replace_all([], 0)
        hosted = replace(hosted, incarnation=self.rng.randrange(1, 1 << 62))
        self.hosted[hosted.partition] = hosted
        replica = self.replicas[hosted.partition] = self._open(hosted, ())
        return [Persist(hosted), *self._wrap(hosted.partition, replica.step(self.now, Start()))]

    def _unhost(self, root: PartitionId, exact: bool = False) -> list[Effect]:
        """Stop and forget the replica `root`, or (a deleted table) every replica whose id
        starts with it; their timers fire on nothing."""
        effects: list[Effect] = []
        for partition in [p for p in self.hosted if p == root or not exact and p.startswith(root)]:
            del self.hosted[partition], self.replicas[partition]
            self.views.pop(partition, None)
            self.splitting.discard(partition)
            self.traffic.pop(partition, None)
            self.written.pop(partition, None)
            self.size_bound.pop(partition, None)
            effects.append(Persist(Unhosted(partition)))
        return effects

    def _make_children(self, parent: PartitionId) -> list[Effect]:
        """Host both children of a split parent, each from the parent's items in its half.

        A child's B-tree is seeded and made durable before its `Hosted` record is
        persisted: after a crash either the record is there and so are the items, or
        the node seeds the child again from the parent, which keeps its items.
        """
        store = self.store(parent)
        split = store.split
        assert split is not None
        # Made once: a child moved away later must not be made here again from the parent.
        self.hosted[parent] = done = replace(self.hosted[parent], children_made=True)
        if self._id not in split.members:
            return [Persist(done)]
        effects: list[Effect] = [Announce("partition_split", (
            ("partition", parent), ("table", self.hosted[parent].table),
            ("position", format(split.at, "032x")), ("children", (split.left, split.right))))]
        hosted = self.hosted[parent]
        for child, key_range in zip((split.left, split.right),
                                    store.key_range.split_at(split.at), strict=True):
            if child in self.hosted:
                continue
            # The child starts from slot 1, not 0: its log begins after that state, so a
            # replica that joins it later (a move) is sent a snapshot of these items, not
            # a log from slot 1 that never held them.
            btree = self.disk(self._id, child)
            btree.replace_all(store.child_items(key_range), self.child_base)
            PartitionStore(btree, child, key_range).set_members(self.child_base, split.members)
            btree.sync()
            effects += self._host(Hosted(child, hosted.table, key_range.low, key_range.high,
                                         split.members), seeded=True)
        return effects + [Persist(done)] + self._report()

    def _observe(self, partition: PartitionId, key: EncodedKey | None) -> None:
        """Count a request against its key, for choosing where to split (§4.4)."""
        if self.config.split_rate is None:
            return
        if key is not None:
            traffic = self.traffic.get(partition)
            if traffic is None:
                traffic = self.traffic[partition] = KeyDistribution(self.store(partition).key_range)
            traffic.observe(key, 1.0, self.now)

    def _check_splits(self) -> list[Effect]:
        """Ask each partition this node leads to split if it is too big (split for size,
        §4) or its traffic runs hot where a split divides it (split for consumption, §4.4)."""
        effects: list[Effect] = []
        for partition, replica in list(self.replicas.items()):
            store = self.store(partition)
            if replica.leader is None:
                self.splitting.discard(partition)  # deposed: its Split may never be answered
                continue
            if store.split is not None or partition in self.splitting or replica.log_members:
                continue  # a split's children are made on its members: full ones only
            point = self._size_split(partition, store) or self._consumption_split(partition)
            if point is None:
                continue
            self.splitting.add(partition)
            split = Split(point.position, f"{partition}0", f"{partition}1", point.reason)
            effects += self._to_replica(partition, ClientRequest(SELF, next(self._requests),
                                                                 split))
        return effects

    def _note_growth(self, partition: PartitionId, commands: Sequence[Any]) -> None:
        """Raise the partition's size bound by what was committed. Only a leader checks
        sizes, so a follower counts nothing: it notes only that the bound is lost, and
        counts the items afresh should it come to lead."""
        grown = self.written.get(partition, 0)
        if grown is None or self.replicas[partition].leader is None:
            self.written[partition] = None
            return
        added = growth_bound(commands)
        self.written[partition] = None if added is None else grown + added

    def _size_split(self, partition: PartitionId, store: PartitionStore) -> SplitPoint | None:
        limit, table = self.config.split_size, self.hosted[partition].table
        if limit is None or partition not in self.written:
            return None  # no write since the last check: its size has not changed
        grown, bound = self.written.pop(partition), self.size_bound.get(partition)
        if grown is not None and bound is not None and bound + grown <= limit:
            self.size_bound[partition] = bound + grown
            return None  # it cannot have passed the limit: no need to count its items
        size = self.size_bound[partition] = store.btree.size(table)
        if size <= limit:
            return None
        # None for one item collection: there is nothing to divide.
        return split_for_size([(position_of(e.key), e.size) for e in store.btree.scan(table)],
                              store.key_range)

    def _consumption_split(self, partition: PartitionId) -> SplitPoint | None:
        traffic, limit = self.traffic.get(partition), self.config.split_rate
        if traffic is None or limit is None or traffic.rate(self.now) <= limit:
            return None
        return split_for_consumption(traffic, self.now)  # None when a split would not help

    def _compact(self) -> list[Effect]:
        """Every `compact_ms`, each replica marks its log as held by its B-tree."""
        if self.now - self.compacted < self.config.compact_ms:
            return []
        self.compacted = self.now
        effects: list[Effect] = []
        for partition, replica in self.replicas.items():
            effects += self._wrap(partition, replica.compact())
        return effects

    def _report(self) -> list[Effect]:
        """Tell the metadata service what this node hosts and leads (§6.6)."""
        self.reported = self.now
        statuses = []
        for partition, replica in self.replicas.items():
            hosted, store = self.hosted[partition], self.store(partition)
            split = store.split
            statuses.append(PartitionStatus(
                partition, hosted.table, hosted.low, hosted.high, replica.members,
                replica.leader is not None, replica.acceptor.promised,
                None if split is None else (split.at, split.left, split.right)))
        return [Send(self.config.metadata, PartitionReport(self._id, tuple(statuses)))]


class PartitionReplica(HealingReplica):
    """A partition's replica that heals its group (§5.1) until the partition splits (§4.4):
    a split parent's members change no more, its children having been made on them."""

    def _may_change(self) -> bool:
        store = self.store
        split = isinstance(store, PartitionStore) and store.split is not None
        return not split and super()._may_change()


def growth_bound(commands: Sequence[Any]) -> int | None:
    """At most how many bytes chosen commands add to a partition's items (None: unknown).

    A write record adds at most the items it stores (a replaced item's old size is not
    taken off, so this only overestimates); a no-op adds nothing; anything else (a split,
    a membership change, a transaction's record) is not counted, and the partition's
    size is measured afresh.
    """
    total = 0
    for command in commands:
        kind = type(command)
        if kind is WriteRecord:
            total += sum(item_size(m.item) if m.size is None else m.size
                         for m in command.changes if m.item is not None)
        elif kind is not Noop:
            return None
    return total
