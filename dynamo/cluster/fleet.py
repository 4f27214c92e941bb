"""The partitioned fleet, embedded: storage nodes, a router and the metadata service (§3, §6.6).

`dynamo serve` runs the paper's fleet in miniature inside one process: N
storage nodes in Z availability zones, each hosting replicas of many
partitions (`dynamo.partitioning.StorageNode`), one request router, the
metadata service and autoadmin, which heals a partition that lost a replica
(a log replica at once, then a full replacement, §5.1) and moves replicas to
even out the nodes (§4.3). They are the sans-IO nodes the simulator steps, driven
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
segment is removed. The TC's ledger log is dropped behind its latest
checkpoint the same way.
"""

from __future__ import annotations

import asyncio
import itertools
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
from dynamo.indexes.propagator import PROPAGATOR, Propagator, PropagatorConfig
from dynamo.net.node_disk import NodeDisk
from dynamo.net.storage_process import build_storage_node, fleet_codec, fleet_node_config, plain
from dynamo.partitioning.autoadmin import AutoAdmin
from dynamo.partitioning.messages import Forward, Forwarded, Unreachable
from dynamo.partitioning.metadata import MetadataService
from dynamo.partitioning.router import RequestRouter, RouterConfig
from dynamo.partitioning.storage_node import NodeConfig, StorageNode
from dynamo.transactions.coordinator import CoordinatorConfig, TransactionCoordinator
from dynamo.wal.log import DEFAULT_SEGMENT_BYTES, FsyncPolicy, LogFailedError

ROUTER, METADATA, AUTOADMIN, API = "router", "memds", "autoadmin", "api"
TC = "tc"  # the transaction coordinator (ATC'23 §3.1); its disk holds its ledger
# About 100 transactions' records, a checkpoint's worth: a segment soon falls behind one.
LEDGER_SEGMENT_BYTES = 64 * 1024
REQUEST_S = 30.0  # a safety net: the router answers every request within its deadline


@dataclass
class _Host:
    """One sans-IO node of the fleet and what the driver keeps for it."""

    id: NodeId
    zone: str | None
    build: Callable[[list[Any]], Node]
    disk: NodeDisk | None = None
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
    # A member silent this many 50 ms heartbeats is replaced by a log replica (§5.1): a
    # second, so that a loop busy with a large batch is not taken for a dead node.
    unresponsive_heartbeats: int = 20


class Fleet:
    """Storage nodes, a request router and the metadata service on the running loop."""

    def __init__(self, root: Path | None, settings: FleetSettings,
                 on_event: Callable[[dict[str, Any]], None]) -> None:
        self.root = root
        self.settings = settings
        self.on_event = on_event
        self.codec = fleet_codec()
        self.cut: set[tuple[NodeId, NodeId]] = set()
        self.zones = {f"n{i + 1}": f"az{i % settings.zones + 1}" for i in range(settings.nodes)}
        node_config = fleet_node_config(
            replace(settings.node, metadata=METADATA), self.zones, settings.split_size,
            settings.split_rate, settings.unresponsive_heartbeats)
        healing = node_config.healing
        self.hosts: dict[NodeId, _Host] = {}
        for node_id, zone in self.zones.items():
            disk = self._open_disk(node_id)
            self.hosts[node_id] = _Host(node_id, zone, self._storage_node(node_id, node_config,
                                                                          disk), disk)
        self.metadata = MetadataService(METADATA)
        self.router = self._router(settings)
        self.hosts[METADATA] = _Host(METADATA, None, lambda records: self.metadata)
        self.hosts[ROUTER] = _Host(ROUTER, None, lambda records: self.router)
        # Global indexes' propagator (dynamo.indexes): it keeps nothing, so it is never lost.
        self.propagator = Propagator(PROPAGATOR, random.Random(),
                                     PropagatorConfig(METADATA, router=settings.router))
        self.hosts[PROPAGATOR] = _Host(PROPAGATOR, None, lambda records: self.propagator)
        tc_config = CoordinatorConfig(router=replace(settings.router, metadata=METADATA))
        self.hosts[TC] = _Host(TC, None, lambda records: TransactionCoordinator(
            TC, records, random.Random(), tc_config), self._open_ledger())
        if settings.admission is Era.GAC:
            gac = GacServer(GAC)
            self.hosts[GAC] = _Host(GAC, None, lambda records: gac)
            balancer = LoadBalancer(BALANCER)
            self.hosts[BALANCER] = _Host(BALANCER, None, lambda records: balancer)
        if settings.admission is Era.ADAPTIVE:
            controller = CapacityController(CONTROLLER, self.storage_nodes)
            self.hosts[CONTROLLER] = _Host(CONTROLLER, None, lambda records: controller)
        self.balancer = AutoAdmin(AUTOADMIN, self.zones, METADATA, healing=healing)
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
                host.disk.close()

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

    def _open_disk(self, node_id: NodeId) -> NodeDisk | None:
        return NodeDisk.open(self.codec, None if self.root is None else self.root / node_id,
                             self.settings.fsync, self.settings.segment_bytes)

    def _open_ledger(self) -> NodeDisk:
        """The TC's disk: a write-ahead log of its ledger records, dropped behind its
        latest checkpoint (in segments of about a checkpoint's worth of transactions)."""
        return NodeDisk.open(self.codec, None if self.root is None else self.root / TC,
                             self.settings.fsync,
                             min(self.settings.segment_bytes, LEDGER_SEGMENT_BYTES))

    def _storage_node(self, node_id: NodeId, config: NodeConfig,
                      disk: NodeDisk | None) -> Callable[[list[Any]], Node]:
        def build(records: list[Any]) -> Node:
            assert disk is not None
            return build_storage_node(node_id, records, random.Random(), config,
                                      self.settings.admission, disk)

        return build

    # --- the driver --------------------------------------------------------------------

    def _boot(self, host: _Host) -> None:
        host.node = host.build([] if host.disk is None else host.disk.recovered_records())
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
            disk.keep_in_memory(records)
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
            try:
                written = await loop.run_in_executor(host.executor, disk.write, records)
            except (OSError, LogFailedError):  # the disk failed: the node stops, as a crash
                self.kill(host.id)  # would stop it (fail-stop); a restart recovers its log
                return
            if host.generation != generation:
                return  # crashed meanwhile: the effects die with the node
            disk.logged(written)
            for _, effects in batch:
                self._carry_out(host, effects)
        host.flushing = False

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
                       **{k: plain(v) for k, v in announce.detail}})

    def remove_files(self) -> None:
        """Delete the fleet's directory (a scratch fleet, after close)."""
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
