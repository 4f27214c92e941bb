"""One replication group, embedded: three Paxos replicas on one asyncio loop.

The paper's partition is "a replication group" of storage replicas in three
availability zones (§3, §6.1). `ReplicationGroup` runs such a group inside
the `dynamo serve` process: each replica is the sans-IO `dynamo.paxos.Replica`
(the same code the simulator steps), with real parts around it:

* **its disk**: a write-ahead log of its own (`dynamo.wal`, segmented,
  CRC32C-framed) for the Paxos records, and a B-tree of its own (SQLite) for
  the items it has applied; `--in-memory` keeps both in memory;
* **its clock**: the loop's monotonic clock; timers are `call_later` handles;
* **its network**: messages between replicas are handed over on the next
  turn of the loop (or after `link_delay_ms`, to play replicas in zones a
  millisecond apart), unless a fault has cut that link (one way or both).

The driver keeps the node contract (`dynamo.contract`). Rule 2, "a Persist is
durable before any later effect runs", is kept with group commit off the
loop: a step's records are queued with the effects that follow them, one
thread per replica appends and fsyncs everything queued in one write, and
only then are those effects carried out, in order. So a replica answers
`Accepted` only once its log holds the entry, and the leader answers its
client only once a quorum's logs do (§3), while many requests share each
fsync. fsync never runs on the event loop.

Each replica's log never grows without bound: when a replica persists a
`Snapshot` marker (its B-tree holds everything below it), the driver makes
the B-tree durable and drops the log segments the marker made redundant.

Requests reach the leader through `request`: it follows `NotLeader` hints,
waits out `Unavailable` (an election, a lease being waited out) and gives up
after a deadline, as the paper's request routers do on a client's behalf
(`routing.py`, shared with the group of replica processes).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dynamo.cluster.routing import UNSENT, GroupRouter
from dynamo.contract import (
    Announce,
    CancelTimer,
    ClientRequest,
    Effect,
    Event,
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
from dynamo.net.truncation import truncate_behind
from dynamo.paxos import PaxosConfig, Replica
from dynamo.paxos.log import AcceptedEntry, Snapshot
from dynamo.paxos.statemachine import StorageReplica
from dynamo.storage.btree import BTree
from dynamo.wal import WriteAheadLog
from dynamo.wal.log import DEFAULT_SEGMENT_BYTES, FsyncPolicy

ATTEMPT_S = 2.0


@dataclass
class _Host:
    """One replica and what the driver keeps for it: its disk, timers, pending effects."""

    id: NodeId
    zone: str
    store: StorageReplica
    log: WriteAheadLog | None
    records: list[Any]  # in memory only: what a restart rebuilds from
    replica: Replica | None = None
    timers: dict[str, asyncio.TimerHandle] = field(default_factory=dict)
    waiting: list[tuple[list[Any], list[Effect]]] = field(default_factory=list)
    flushing: bool = False
    persisted_lsn: int = 0  # the highest slot in its log
    wal_lsn_of_slot: dict[int, int] = field(default_factory=dict)
    executor: ThreadPoolExecutor | None = None
    generation: int = 0  # bumped by each crash, so late fsync results are ignored
    asked: set[int] = field(default_factory=set)  # requests waiting for its answer

    @property
    def up(self) -> bool:
        return self.replica is not None


class ReplicationGroup(GroupRouter):
    """Replicas of one partition in one process, driven on the running asyncio loop.

    Args:
        ids: the replicas, in zone order ("n1" in "az1", ...).
        zones: the availability zone of each replica.
        data_dir: where each replica keeps `wal/` and `btree.sqlite3`; None: memory.
        config: Paxos timing.
        fsync: the logs' fsync policy.
        on_event: called with each announcement (elections, leases, crashes).
        link_delay_ms: how long a message takes from one replica to another.
        segment_bytes: the size at which a replica's log segment is sealed.
    """

    def __init__(self, ids: tuple[NodeId, ...], zones: tuple[str, ...], data_dir: Path | None,
                 config: PaxosConfig | None = None, fsync: FsyncPolicy = "always",
                 on_event: Callable[[dict[str, Any]], None] | None = None,
                 link_delay_ms: float = 0.0, segment_bytes: int = DEFAULT_SEGMENT_BYTES) -> None:
        self.ids = ids
        self.segment_bytes = segment_bytes
        self.link_delay_s = link_delay_ms / 1000.0
        self.config = config or PaxosConfig()
        self.data_dir = data_dir
        self.fsync: FsyncPolicy = fsync
        self.codec = paxos_codec()  # how Paxos records go into a write-ahead log
        self.on_event = on_event or (lambda event: None)
        self.cut: set[tuple[NodeId, NodeId]] = set()
        self.leader_hint: NodeId = ids[0]
        self._epoch = time.monotonic()
        self._requests = itertools.count(1)
        self._futures: dict[int, asyncio.Future[Any]] = {}
        self._rng = random.Random()
        self.hosts = {n: self._open_host(n, z) for n, z in zip(ids, zones, strict=True)}

    # --- life cycle ----------------------------------------------------------------

    def start(self) -> None:
        """Boot every replica (from what its disk holds)."""
        for node_id in self.ids:
            self._boot(self.hosts[node_id])

    def close(self) -> None:
        for host in self.hosts.values():
            self._halt(host)
            host.store.btree.close()
            if host.log is not None:
                host.log.close()

    def kill(self, node_id: NodeId) -> None:
        """Crash a replica: its memory, timers and unsynced records are gone; its disk stays."""
        host = self.hosts[node_id]
        if host.up:
            self._halt(host)
            self.on_event({"kind": "crashed", "node": node_id})

    def restart(self, node_id: NodeId) -> None:
        host = self.hosts[node_id]
        if not host.up:
            self._boot(host)
            self.on_event({"kind": "restarted", "node": node_id})

    # --- requests ------------------------------------------------------------------

    async def _ask(self, target: NodeId, operation: Any) -> Any:
        """One attempt at one replica: its answer, None if none came, or UNSENT."""
        host = self.hosts[target]
        if not host.up:
            return UNSENT
        request_id = next(self._requests)
        future = asyncio.get_running_loop().create_future()
        self._futures[request_id] = future
        host.asked.add(request_id)
        try:
            self._step(host, ClientRequest("router", request_id, operation))
            return await asyncio.wait_for(future, ATTEMPT_S)
        except TimeoutError:
            return None
        finally:
            self._futures.pop(request_id, None)
            host.asked.discard(request_id)

    def _is_up(self, node_id: NodeId) -> bool:
        return self.hosts[node_id].up

    # --- faults --------------------------------------------------------------------

    def cut_link(self, src: NodeId, dst: NodeId) -> None:
        """Drop every message from `src` to `dst` (one way) until `heal`."""
        self.cut.add((src, dst))
        self.on_event({"kind": "link_cut", "src": src, "dst": dst})

    def heal(self) -> None:
        self.cut.clear()
        self.on_event({"kind": "healed"})

    # --- what the admin endpoint shows ----------------------------------------------

    def state(self) -> dict[str, Any]:
        """Leader, ballot and each replica's role and log positions."""
        replicas, leader, ballot = [], None, None
        for node_id in self.ids:
            host = self.hosts[node_id]
            view = host.replica.snapshot() if host.replica is not None else {}
            role = view.get("role", "down")
            if role == "leader":
                leader, ballot = node_id, view.get("ballot")
            replicas.append({"node": node_id, "zone": host.zone, "role": role,
                             "persisted_lsn": host.persisted_lsn,
                             "applied_lsn": host.store.applied_lsn})
        return {"leader": leader, "ballot": ballot, "replicas": replicas}

    def leader_store(self) -> StorageReplica:
        """The B-tree of the replica that leads (or of any replica that is up)."""
        host = self.hosts[self.leader_hint]
        if not host.up:
            host = next((h for h in self.hosts.values() if h.up), host)
        return host.store

    # --- the driver --------------------------------------------------------------------

    def _open_host(self, node_id: NodeId, zone: str) -> _Host:
        if self.data_dir is None:
            return _Host(node_id, zone, StorageReplica(BTree(None)), None, [])
        root = self.data_dir / node_id
        root.mkdir(parents=True, exist_ok=True)
        log, _report = WriteAheadLog.open(root / "wal", fsync=self.fsync,
                                          segment_bytes=self.segment_bytes)
        store = StorageReplica(BTree(root / "btree.sqlite3", synchronous="NORMAL"))
        return _Host(node_id, zone, store, log, [])

    def _boot(self, host: _Host) -> None:
        records = self._recovered_records(host)
        host.replica = Replica(host.id, self.ids, records, random.Random(), self.config,
                               host.store)
        host.persisted_lsn = host.replica.log.last_index
        if host.log is not None:
            host.executor = ThreadPoolExecutor(1, thread_name_prefix=f"wal-{host.id}")
        self._step(host, Start())

    def _recovered_records(self, host: _Host) -> list[Any]:
        if host.log is None:
            return list(host.records)
        records = []
        for wal_lsn, payload in host.log.replay():
            record = self.codec.loads(payload)
            if isinstance(record, AcceptedEntry):
                host.wal_lsn_of_slot[record.index] = wal_lsn
            records.append(record)
        return records

    def _halt(self, host: _Host) -> None:
        for handle in host.timers.values():
            handle.cancel()
        host.timers.clear()
        host.waiting.clear()
        for request_id in host.asked:  # a crashed replica answers nobody
            future = self._futures.get(request_id)
            if future is not None and not future.done():
                future.set_result(None)
        host.replica = None
        host.generation += 1
        if host.executor is not None:
            host.executor.shutdown(wait=True)  # let an fsync in progress finish
            host.executor = None
        host.flushing = False

    def now_ms(self) -> float:
        return (time.monotonic() - self._epoch) * 1000.0

    def _step(self, host: _Host, event: Event) -> None:
        replica = host.replica
        if replica is None:
            return
        effects = replica.step(self.now_ms(), event)
        records: list[Any] = []
        after: list[Effect] = []
        for effect in effects:
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
        if host.log is None:  # in memory: a record is "durable" once kept
            host.records.extend(records)
            self._note_records(host, records, None)
            self._carry_out(host, effects)
            return
        host.waiting.append((records, effects))
        if not host.flushing:
            host.flushing = True
            asyncio.get_running_loop().create_task(self._flush(host, host.generation))

    async def _flush(self, host: _Host, generation: int) -> None:
        """Group commit: append and fsync everything queued, then carry out what waited."""
        loop = asyncio.get_running_loop()
        while host.waiting and host.generation == generation:
            batch, host.waiting = host.waiting, []
            records = [r for records, _ in batch for r in records]
            payloads = [self.codec.dumps(r) for r in records]
            assert host.log is not None and host.executor is not None
            wal_lsns = await loop.run_in_executor(host.executor, host.log.append_batch, payloads)
            if host.generation != generation:
                return  # crashed meanwhile: the effects die with the replica
            self._note_records(host, records, wal_lsns)
            for _, effects in batch:
                self._carry_out(host, effects)
        host.flushing = False

    def _note_records(self, host: _Host, records: list[Any], wal_lsns: list[int] | None) -> None:
        for position, record in enumerate(records):
            if isinstance(record, AcceptedEntry):
                host.persisted_lsn = max(host.persisted_lsn, record.index)
                if wal_lsns is not None:
                    host.wal_lsn_of_slot[record.index] = wal_lsns[position]
            elif isinstance(record, Snapshot):
                self._truncate(host, record.index)

    def _truncate(self, host: _Host, index: int) -> None:
        """A snapshot marker: the B-tree holds slots <= index, so their log segments may go.

        The B-tree is made durable first (a full SQLite checkpoint), then every sealed
        segment holding only records older than the oldest entry still needed is removed.
        The replica re-persisted its promise after the marker, so no promise is lost.
        """
        if host.log is None:
            host.records = [r for r in host.records
                            if not (isinstance(r, AcceptedEntry) and r.index <= index)]
            return
        truncate_behind(host.log, host.store.btree, host.wal_lsn_of_slot, index)

    def _carry_out(self, host: _Host, effects: list[Effect]) -> None:
        loop = asyncio.get_running_loop()
        for effect in effects:
            kind = type(effect)
            if kind is Send:
                if (host.id, effect.dst) in self.cut:
                    continue
                if self.link_delay_s:
                    loop.call_later(self.link_delay_s, self._deliver, effect.dst, host.id,
                                    effect.message)
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
        self._step(self.hosts[dst], Receive(src, message))

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
        if announce.kind == "elected":
            self.leader_hint = host.id
        self.on_event({"kind": announce.kind, "node": host.id,
                       **{k: _plain(v) for k, v in announce.detail}})


def _plain(value: Any) -> Any:
    """An announcement's detail as JSON-ready data."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return str(value)

