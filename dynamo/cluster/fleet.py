"""The partitioned fleet, embedded: storage nodes, a router and the metadata service (§3, §6.6).

`dynamo serve` runs the paper's fleet in miniature inside one process: N
storage nodes in Z availability zones, each hosting replicas of many
partitions (`dynamo.partitioning.StorageNode`), one request router, the
metadata service and autoadmin's balancer, which moves replicas to even out
the nodes. They are the sans-IO nodes the simulator steps, driven
here on the running asyncio loop with real parts around them:

* **a storage node's disk**: one write-ahead log (`dynamo.wal`) shared by all
  the replicas it hosts, so one fsync makes a whole batch of their records
  durable (group commit across partitions), a B-tree (SQLite file) per
  hosted replica, and a small placement file listing the partitions it hosts
  (`placement.json`, replaced atomically). `--in-memory` keeps all three in
  memory; a killed node's disk then survives in this process only;
* **its clock**: the loop's monotonic clock; timers are `call_later` handles;
* **its network**: a message is handed over on the next turn of the loop (or
  after `link_delay_ms`), unless a fault has cut that link.

Contract rule 2 ("a Persist is durable before any later effect runs") is
kept with group commit off the loop: a step's records are queued with the
effects that follow them, a thread per storage node writes and fsyncs
everything queued in one go, and only then are the effects carried out. So a
replica answers `Accepted` only once its log holds the entry, and a leader
answers its client only once a quorum's logs do (§3), while many requests,
of many partitions, share each fsync. fsync never runs on the event loop.

The log is dropped behind the B-trees: every replica marks its log as held
by its B-tree on a period (`StorageNode` compaction), and once every replica
on a node has marked past a sealed segment, and its B-trees are synced, the
segment is removed.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dynamo.admission.balancing import LoadBalancer
from dynamo.admission.capacity_controller import CapacityController
from dynamo.admission.eras import DEFAULT_ERA, Era
from dynamo.admission.fleet import BALANCER, CONTROLLER, GAC
from dynamo.admission.gac_server import GacServer
from dynamo.admission.router import AdmittingRouter
from dynamo.admission.storage_node import AdmittingStorageNode
from dynamo.contract import (
    Announce,
    CancelTimer,
    ClientRequest,
    Effect,
    Event,
    Node,
    NodeId,
    Persist,
    Receive,
    Reply,
    Send,
    SetTimer,
    Start,
    TimerFired,
)
from dynamo.net.group import paxos_codec
from dynamo.partitioning.autoadmin import Balancer
from dynamo.partitioning.messages import Forward, Forwarded, Unreachable
from dynamo.partitioning.metadata import MetadataService
from dynamo.partitioning.partition_map import PartitionId
from dynamo.partitioning.router import RequestRouter, RouterConfig
from dynamo.partitioning.storage_node import Hosted, NodeConfig, StorageNode, Tagged, Unhosted
from dynamo.paxos.log import AcceptedEntry, Promised, Snapshot
from dynamo.storage.btree import BTree
from dynamo.wal import WriteAheadLog
from dynamo.wal.log import DEFAULT_SEGMENT_BYTES, FsyncPolicy

ROUTER, METADATA, AUTOADMIN, API = "router", "memds", "autoadmin", "api"
REQUEST_S = 30.0  # a safety net: the router answers every request within its deadline


@dataclass
class _Disk:
    """What a storage node keeps across a crash: its log, placement and B-trees."""

    root: Path | None
    log: WriteAheadLog | None
    btrees: dict[PartitionId, BTree] = field(default_factory=dict)
    hosted: dict[PartitionId, Hosted] = field(default_factory=dict)
    # In memory: each replica's records since its last mark, what a restart rebuilds from.
    tagged: dict[PartitionId, list[Tagged]] = field(default_factory=dict)
    # Which log positions each replica still needs (on disk): its accepted slots since
    # its last mark, and its latest promise.
    slots: dict[PartitionId, dict[int, int]] = field(default_factory=dict)
    promises: dict[PartitionId, int] = field(default_factory=dict)


@dataclass
class _Host:
    """One sans-IO node of the fleet and what the driver keeps for it."""

    id: NodeId
    zone: str | None
    build: Callable[[list[Any]], Node]
    disk: _Disk | None = None
    node: Node | None = None
    timers: dict[str, asyncio.TimerHandle] = field(default_factory=dict)
    waiting: list[tuple[list[Any], list[Effect]]] = field(default_factory=list)
    flushing: bool = False
    executor: ThreadPoolExecutor | None = None
    generation: int = 0  # bumped by each crash, so late fsync results are ignored

    @property
    def up(self) -> bool:
        return self.node is not None


@dataclass(frozen=True)
class FleetSettings:
    """The fleet's shape and timing (`dynamo serve --nodes --zones --split-size`)."""

    nodes: int = 3
    zones: int = 3
    split_size: int | None = 10 * 1024 ** 3  # DynamoDB's 10 GB partition
    split_rate: float | None = 1000.0  # requests/s a partition sustains before it splits
    node: NodeConfig = NodeConfig()
    router: RouterConfig = RouterConfig()
    fsync: FsyncPolicy = "always"
    link_delay_ms: float = 0.0
    segment_bytes: int = DEFAULT_SEGMENT_BYTES
    admission: Era | None = DEFAULT_ERA  # None: nothing throttled (to measure its cost)


class Fleet:
    """Storage nodes, a request router and the metadata service on the running loop."""

    def __init__(self, root: Path | None, settings: FleetSettings,
                 on_event: Callable[[dict[str, Any]], None]) -> None:
        self.root = root
        self.settings = settings
        self.on_event = on_event
        self.codec = paxos_codec()
        self.cut: set[tuple[NodeId, NodeId]] = set()
        self.zones = {f"n{i + 1}": f"az{i % settings.zones + 1}" for i in range(settings.nodes)}
        node_config = replace(settings.node, metadata=METADATA, split_size=settings.split_size,
                              split_rate=settings.split_rate)
        self.hosts: dict[NodeId, _Host] = {}
        for node_id, zone in self.zones.items():
            disk = self._open_disk(node_id)
            self.hosts[node_id] = _Host(node_id, zone, self._storage_node(node_id, node_config,
                                                                          disk), disk)
        self.metadata = MetadataService(METADATA)
        self.router = self._router(settings)
        self.hosts[METADATA] = _Host(METADATA, None, lambda records: self.metadata)
        self.hosts[ROUTER] = _Host(ROUTER, None, lambda records: self.router)
        if settings.admission is Era.GAC:
            gac = GacServer(GAC)
            self.hosts[GAC] = _Host(GAC, None, lambda records: gac)
            balancer = LoadBalancer(BALANCER)
            self.hosts[BALANCER] = _Host(BALANCER, None, lambda records: balancer)
        if settings.admission is Era.ADAPTIVE:
            controller = CapacityController(CONTROLLER, self.storage_nodes)
            self.hosts[CONTROLLER] = _Host(CONTROLLER, None, lambda records: controller)
        self.balancer = Balancer(AUTOADMIN, self.zones, METADATA)
        self.hosts[AUTOADMIN] = _Host(AUTOADMIN, None, lambda records: self.balancer)
        self._epoch = time.monotonic()
        self._requests = itertools.count(1)
        self._futures: dict[int, asyncio.Future[Any]] = {}

    @property
    def storage_nodes(self) -> tuple[NodeId, ...]:
        return tuple(self.zones)

    # --- life cycle ----------------------------------------------------------------

    def start(self) -> None:
        for host in self.hosts.values():
            self._boot(host)

    def close(self) -> None:
        for host in self.hosts.values():
            self._halt(host)
            if host.disk is not None:
                for btree in host.disk.btrees.values():
                    btree.close()
                if host.disk.log is not None:
                    host.disk.log.close()

    def kill(self, node_id: NodeId) -> None:
        """Crash a storage node: memory, timers and unsynced records go; its disk stays."""
        host = self.hosts[node_id]
        if host.up:
            self._halt(host)
            self.on_event({"kind": "crashed", "node": node_id})

    def restart(self, node_id: NodeId) -> None:
        host = self.hosts[node_id]
        if not host.up:
            self._boot(host)
            self.on_event({"kind": "restarted", "node": node_id})

    def cut_link(self, src: NodeId, dst: NodeId) -> None:
        self.cut.add((src, dst))
        self.on_event({"kind": "link_cut", "src": src, "dst": dst})

    def heal(self) -> None:
        self.cut.clear()
        self.on_event({"kind": "healed"})

    # --- requests ------------------------------------------------------------------

    async def request(self, node_id: NodeId, operation: Any) -> Any:
        """Hand `operation` to a node as a client request; its answer."""
        host = self.hosts[node_id]
        request_id = next(self._requests)
        future = asyncio.get_running_loop().create_future()
        self._futures[request_id] = future
        try:
            self._step(host, ClientRequest(API, request_id, operation))
            return await asyncio.wait_for(future, REQUEST_S)
        finally:
            self._futures.pop(request_id, None)

    @staticmethod
    def _router(settings: FleetSettings) -> RequestRouter:
        """The request router: with GAC's tokens under global admission control (§4.2)."""
        if settings.admission is Era.GAC:
            return AdmittingRouter(ROUTER, random.Random(), settings.router, gac=GAC)
        return RequestRouter(ROUTER, random.Random(), settings.router)

    def control_nodes(self) -> tuple[NodeId, ...]:
        """The nodes the control plane tells a table's throughput: storage nodes, GAC."""
        return self.storage_nodes + ((GAC,) if GAC in self.hosts else ())

    def now_ms(self) -> float:
        return (time.monotonic() - self._epoch) * 1000.0

    def storage(self, node_id: NodeId) -> StorageNode | None:
        node = self.hosts[node_id].node
        return node if isinstance(node, StorageNode) else None

    # --- disks ---------------------------------------------------------------------

    def _open_disk(self, node_id: NodeId) -> _Disk:
        if self.root is None:
            return _Disk(None, None)
        root = self.root / node_id
        (root / "partitions").mkdir(parents=True, exist_ok=True)
        log, _report = WriteAheadLog.open(root / "wal", fsync=self.settings.fsync,
                                          segment_bytes=self.settings.segment_bytes)
        disk = _Disk(root, log)
        placement = root / "placement.json"
        if placement.exists():
            for tree in json.loads(placement.read_text()):
                hosted = self.codec.from_tree(tree)
                disk.hosted[hosted.partition] = hosted
        return disk

    def _storage_node(self, node_id: NodeId, config: NodeConfig,
                      disk: _Disk) -> Callable[[list[Any]], Node]:
        def btree(node: NodeId, partition: PartitionId) -> BTree:
            found = disk.btrees.get(partition)
            if found is None:
                path = None if disk.root is None else disk.root / "partitions" / f"{partition}.sqlite3"
                found = disk.btrees[partition] = BTree(path, synchronous="NORMAL")
            return found

        era = self.settings.admission

        def build(records: list[Any]) -> Node:
            if era is None:
                return StorageNode(node_id, records, random.Random(), config, btree)
            return AdmittingStorageNode(node_id, records, random.Random(), config, btree, era,
                                        controller=CONTROLLER,
                                        balancer=BALANCER if era is Era.GAC else None)

        return build

    def _recovered_records(self, host: _Host) -> list[Any]:
        disk = host.disk
        if disk is None:
            return []
        records: list[Any] = list(disk.hosted.values())
        if disk.log is None:
            return records + [r for kept in disk.tagged.values() for r in kept]
        for lsn, payload in disk.log.replay():
            record = self.codec.loads(payload)
            hosted = disk.hosted.get(record.partition)
            if hosted is not None and record.incarnation == hosted.incarnation:
                self._note_position(disk, record, lsn)  # an earlier hosting's: garbage
                records.append(record)
        return records

    # --- the driver --------------------------------------------------------------------

    def _boot(self, host: _Host) -> None:
        host.node = host.build(self._recovered_records(host))
        if host.disk is not None and host.disk.log is not None:
            host.executor = ThreadPoolExecutor(1, thread_name_prefix=f"wal-{host.id}")
        self._step(host, Start())

    def _halt(self, host: _Host) -> None:
        for handle in host.timers.values():
            handle.cancel()
        host.timers.clear()
        host.waiting.clear()
        host.node = None
        host.generation += 1
        if host.executor is not None:
            host.executor.shutdown(wait=True)  # let an fsync in progress finish
            host.executor = None
        host.flushing = False

    def _step(self, host: _Host, event: Event) -> None:
        node = host.node
        if node is None:
            return
        records: list[Any] = []
        after: list[Effect] = []
        for effect in node.step(self.now_ms(), event):
            if type(effect) is Persist:
                if after:  # a Persist after other effects: those may go first
                    self._carry_out_or_queue(host, records, after)
                    records, after = [], []
                records.append(effect.record)
            else:
                after.append(effect)
        self._carry_out_or_queue(host, records, after)

    def _carry_out_or_queue(self, host: _Host, records: list[Any], effects: list[Effect]) -> None:
        """Contract rule 2: effects that follow records wait until the records are durable."""
        if not records and not host.waiting:
            self._carry_out(host, effects)
            return
        disk = host.disk
        assert disk is not None, f"{host.id} persists nothing"
        if disk.log is None:  # in memory: a record is "durable" once kept
            self._keep_in_memory(disk, records)
            self._carry_out(host, effects)
            return
        host.waiting.append((records, effects))
        if not host.flushing:
            host.flushing = True
            asyncio.get_running_loop().create_task(self._flush(host, host.generation))

    async def _flush(self, host: _Host, generation: int) -> None:
        """Group commit: write and fsync everything queued, then carry out what waited."""
        loop = asyncio.get_running_loop()
        disk = host.disk
        assert disk is not None and disk.log is not None and host.executor is not None
        while host.waiting and host.generation == generation:
            batch, host.waiting = host.waiting, []
            records = [r for records, _ in batch for r in records]
            placement = [r for r in records if type(r) in (Hosted, Unhosted)]
            logged = [r for r in records if type(r) not in (Hosted, Unhosted)]
            payloads = [self.codec.dumps(r) for r in logged]
            if placement:
                await loop.run_in_executor(host.executor, self._place, disk, placement)
            lsns = await loop.run_in_executor(host.executor, disk.log.append_batch, payloads)
            if host.generation != generation:
                return  # crashed meanwhile: the effects die with the node
            for record, lsn in zip(logged, lsns, strict=True):
                self._note_position(disk, record, lsn)
            if any(_is_mark(r) for r in logged):
                self._truncate(disk)
            for _, effects in batch:
                self._carry_out(host, effects)
        host.flushing = False

    def _place(self, disk: _Disk, records: list[Any]) -> None:
        """Record hosted partitions durably: a new placement file, fsynced, then renamed."""
        assert disk.root is not None
        for record in records:
            if type(record) is Hosted:
                disk.hosted[record.partition] = record
            else:
                disk.hosted.pop(record.partition, None)
                self._drop_btree(disk, record.partition)
        path, scratch = disk.root / "placement.json", disk.root / "placement.json.new"
        with open(scratch, "w") as out:
            json.dump([self.codec.to_tree(h) for h in disk.hosted.values()], out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(scratch, path)
        directory = os.open(disk.root, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    @staticmethod
    def _drop_btree(disk: _Disk, partition: PartitionId) -> None:
        btree = disk.btrees.pop(partition, None)
        if btree is not None:
            btree.close()
        if disk.root is not None:
            for path in (disk.root / "partitions").glob(f"{partition}.sqlite3*"):
                path.unlink()
        disk.slots.pop(partition, None)
        disk.promises.pop(partition, None)

    def _keep_in_memory(self, disk: _Disk, records: list[Any]) -> None:
        for record in records:
            kind = type(record)
            if kind is Hosted:
                disk.hosted[record.partition] = record
            elif kind is Unhosted:
                disk.hosted.pop(record.partition, None)
                disk.tagged.pop(record.partition, None)
                self._drop_btree(disk, record.partition)
            elif type(record.record) is Snapshot:
                # The B-tree holds the slots behind the mark: keep neither them nor the mark.
                kept = disk.tagged.get(record.partition, [])
                kept[:] = [r for r in kept if not _behind(r.record, record.record.index)]
            else:
                disk.tagged.setdefault(record.partition, []).append(record)

    @staticmethod
    def _note_position(disk: _Disk, record: Any, lsn: int) -> None:
        if type(record) is not Tagged:
            return
        inner, partition = record.record, record.partition
        if type(inner) is AcceptedEntry:
            disk.slots.setdefault(partition, {})[inner.index] = lsn
        elif type(inner) is Promised:
            disk.promises[partition] = lsn
        elif type(inner) is Snapshot:
            slots = disk.slots.get(partition, {})
            for slot in [s for s in slots if s <= inner.index]:
                del slots[slot]

    def _truncate(self, disk: _Disk) -> None:
        """Drop sealed log segments no hosted replica needs any more.

        A replica needs its accepted slots since its last mark and its latest
        promise; everything older is in its B-tree, made durable first.
        """
        assert disk.log is not None
        needed = [lsn for slots in disk.slots.values() for lsn in slots.values()]
        needed += list(disk.promises.values())
        oldest = min(needed, default=disk.log.last_lsn + 1)
        removable = [s for s in disk.log.segments() if s.sealed and s.last_lsn < oldest]
        if not removable:
            return
        for btree in disk.btrees.values():
            btree.sync()
        for segment in removable:
            disk.log.remove_segment(segment)

    def _carry_out(self, host: _Host, effects: list[Effect]) -> None:
        loop = asyncio.get_running_loop()
        delay = self.settings.link_delay_ms / 1000.0
        for effect in effects:
            kind = type(effect)
            if kind is Send:
                if (host.id, effect.dst) in self.cut:
                    continue
                if delay and effect.dst in self.zones and host.id in self.zones:
                    loop.call_later(delay, self._deliver, effect.dst, host.id, effect.message)
                else:
                    loop.call_soon(self._deliver, effect.dst, host.id, effect.message)
            elif kind is SetTimer:
                self._cancel(host, effect.name)
                host.timers[effect.name] = loop.call_later(
                    effect.delay_ms / 1000.0, self._fire, host, effect.name, host.generation)
            elif kind is CancelTimer:
                self._cancel(host, effect.name)
            elif kind is Reply:
                future = self._futures.get(effect.request_id)
                if future is not None and not future.done():
                    future.set_result(effect.result)
            elif kind is Announce:
                self._announce(host, effect)

    def _deliver(self, dst: NodeId, src: NodeId, message: Any) -> None:
        host = self.hosts[dst]
        if not host.up and type(message) is Forward:
            # As a refused connection tells a router at once: nothing was asked.
            message, src, host = Forwarded(message.request_id, Unreachable(dst)), dst, self.hosts[src]
        self._step(host, Receive(src, message))

    def _fire(self, host: _Host, name: str, generation: int) -> None:
        if host.generation == generation:
            host.timers.pop(name, None)
            self._step(host, TimerFired(name))

    @staticmethod
    def _cancel(host: _Host, name: str) -> None:
        handle = host.timers.pop(name, None)
        if handle is not None:
            handle.cancel()

    def _announce(self, host: _Host, announce: Announce) -> None:
        if announce.kind == "committed":
            return  # one per write: too many for an event stream
        self.on_event({"kind": announce.kind, "node": host.id,
                       **{k: _plain(v) for k, v in announce.detail}})

    def remove_files(self) -> None:
        """Delete the fleet's directory (a scratch fleet, after close)."""
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)


def _is_mark(record: Any) -> bool:
    return type(record) is Tagged and type(record.record) is Snapshot


def _behind(record: Any, mark: int) -> bool:
    """A replica's record its B-tree now holds: a slot up to `mark`, or an old promise
    (the replica persists its promise again after every mark)."""
    return (type(record) is AcceptedEntry and record.index <= mark) or type(record) is Promised


def _plain(value: Any) -> Any:
    """An announcement's detail as JSON-ready data."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return str(value)
