"""The request router: finds a request's partition and carries it there (§3, §6.6).

A router is stateless but for a cache of partition maps. For each request it
hashes the partition key, looks the partition up in the cached map (a floor
lookup, `partition_map.py`) and forwards the request to that partition's
leader (writes, strongly consistent reads) or to any of its replicas
(eventually consistent reads). What comes back decides what it does next:

* "not the leader, try X" (`NotLeader`): follow the hint;
* "not now" (`Unavailable`: an election, a lease being waited out, a write
  that landed after a split): wait a moment and try again;
* "not mine any more" (`WrongPartition`: the partition split): the cached
  map is stale; ask the metadata service for a newer one, then retry;
* anything else is the answer, and goes back to the client.

Constant work (§6.6). The paper's routers "make an asynchronous call to
MemDS to refresh the cache" on every request, hit or miss, so the load on
the metadata service follows the request rate and never jumps when caches go
cold (a cold fleet would otherwise stampede it). This router does the same:
one `MapRequest` per client request; a miss only means the request waits for
the answer instead of going ahead.

Definite and indefinite outcomes: a write whose replica never answered may
still be chosen, so it is not retried: the client hears `Indefinite`, as a
DynamoDB 500. Reads are always retried.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from dynamo.contract import (
    Announce,
    CancelTimer,
    ClientRequest,
    Effect,
    Event,
    NodeId,
    Receive,
    Reply,
    Rng,
    Send,
    SetTimer,
    TimerFired,
)
from dynamo.partitioning.keyspace import KEY_SPACE, position_of
from dynamo.partitioning.messages import Forward, Forwarded, MapReply, MapRequest, Unreachable
from dynamo.partitioning.partition_map import Partition, PartitionId, PartitionMap
from dynamo.partitioning.partition_store import WrongPartition
from dynamo.paxos.operations import (
    DeleteItem,
    GetItem,
    NotLeader,
    Ok,
    PutItem,
    Query,
    Scan,
    Unavailable,
    UpdateItem,
    item_operation,
)
from dynamo.paxos.statemachine import is_read
from dynamo.storage.btree import segment_bounds
from dynamo.storage.capacity import ConsumedCapacity, page_read_units
from dynamo.storage.errors import DynamoError
from dynamo.storage.indexes import index_tbl
from dynamo.storage.keys import (
    EncodedKey,
    KeySchema,
    encode_value,
    hash_position,
    item_key,
    request_key,
)
from dynamo.storage.table import MAX_PAGE_BYTES, Page


@dataclass(frozen=True)
class RouterConfig:
    """How patient a router is: per attempt, between attempts, and in all.

    The defaults are a live server's: an attempt may carry a 400 KB item through
    a busy leader. The simulator's fleet is more impatient (`fleet.py`).
    """

    metadata: NodeId = "memds"
    attempt_ms: float = 2000.0
    retry_ms: float = 10.0
    deadline_ms: float = 10_000.0


@dataclass(frozen=True)
class Indefinite:
    """The router cannot tell whether the write happened: its replica never answered."""

    reason: str


@dataclass(frozen=True)
class ToPartition:
    """A request of the system's own, addressed to one named partition (Time to Live's
    sweep, `dynamo.cluster.ttl`). Admission control lets it through at the router and
    at the storage node and charges it to no table: DynamoDB's TTL deletes consume no
    write capacity."""

    table: str
    partition: PartitionId
    operation: Any


@dataclass(frozen=True)
class ToItem:
    """A request of a layer above, placed by the item it touches: a transaction's prepare,
    commit, cancel or read (`dynamo.transactions`). It goes to the leader of the partition
    holding `key` of `table`, as a write does; `read` says how admission control counts it."""

    table: str
    key: EncodedKey
    operation: Any
    read: bool = False


@dataclass(frozen=True)
class ToKey:
    """A request of the system's own, routed by `key` in `table`'s key space as an item's
    write is (a global index's update, `dynamo.indexes`): never throttled, charged to no
    table, like `ToPartition`."""

    table: str
    key: EncodedKey
    operation: Any


SYSTEM_REQUESTS = (ToPartition, ToKey)  # never admitted, charged to no table
ADDRESSED = (ToPartition, ToItem, ToKey)  # wrappers that say where their operation goes


@dataclass
class _ScanProgress:
    """A Scan across partitions: where it has got to, and what it has gathered so far.

    A Scan walks the partitions of its segment in key order (§3). Each partition
    is asked for what is left of the page (the Limit, the 1 MB); the page ends
    where a partition stops short (its LastEvaluatedKey is then the page's) or at
    the segment's end. A key is a position in the hashed key space, so a
    LastEvaluatedKey stays valid across a split: the next page starts in whichever
    partition holds that position then.
    """

    position: int  # where the next partition's part of the page starts
    end: int  # the segment's end
    limit: int | None
    bytes_left: int
    start_key: Any  # the client's ExclusiveStartKey, for the first partition only
    items: list[Any] = field(default_factory=list)
    count: int = 0
    scanned: int = 0
    scanned_bytes: int = 0


@dataclass
class _Pending:
    client: str
    request_id: int
    operation: Any
    table: str
    key: EncodedKey | None  # what places it; None: a Scan, or addressed to a partition
    leader_only: bool
    read: bool
    deadline: float
    target: NodeId | None = None
    attempt: int = 0  # the Forward now in flight
    version: int = 0  # the version of the map the last attempt was routed by
    stale: int = 0  # a map version a replica said is stale
    scan: _ScanProgress | None = None


class RequestRouter:
    """A sans-IO request router with a cached partition map per table."""

    def __init__(self, id: NodeId, rng: Rng, config: RouterConfig | None = None) -> None:
        self._id = id
        self.rng = rng
        self.config = config or RouterConfig()
        self.cache: dict[str, PartitionMap] = {}
        self.pending: dict[int, _Pending] = {}
        self.attempts: dict[int, int] = {}
        # Request ids differ across restarts: storage nodes drop a request id seen before.
        self._ids = itertools.count(rng.randrange(1, 1 << 62))
        self.now = 0.0

    @property
    def id(self) -> NodeId:
        return self._id

    def snapshot(self) -> dict[str, Any]:
        return {"id": self._id, "pending": len(self.pending),
                "maps": {t: m.version for t, m in self.cache.items()}}

    def step(self, now_ms: float, event: Event) -> list[Effect]:
        self.now = now_ms
        kind = type(event)
        if kind is ClientRequest:
            return self._on_request(event)
        if kind is Receive:
            message = event.message
            if type(message) is Forwarded:
                return self._on_answer(message)
            if type(message) is MapReply:
                return self._on_map(message)
        elif kind is TimerFired:
            what, _, key = event.name.partition(":")
            pending = self.pending.get(int(key))
            if pending is None:
                return []
            if what == "attempt":
                return self._attempt_timed_out(int(key), pending)
            return self._dispatch(int(key))
        return []

    # --- a request's life -------------------------------------------------------------

    def _on_request(self, request: ClientRequest) -> list[Effect]:
        return self._route(request, locate(request.operation))

    def _route(self, request: ClientRequest,
               located: tuple[str, EncodedKey | None, Any]) -> list[Effect]:
        """Admit a located request (`admit`), then route it to its partition."""
        op = request.operation
        table, item_key_, item_op = located
        refused = None if type(op) in SYSTEM_REQUESTS else self.admit(table, item_op)
        if refused is not None:
            return [Reply(request.client, request.request_id, refused)]
        key = next(self._ids)
        self.pending[key] = _Pending(
            request.client, request.request_id, op, table, item_key_,
            getattr(item_op, "consistent", True) is not False,
            op.read if type(op) is ToItem else is_read(item_op),
            self.now + self.config.deadline_ms, scan=scan_progress(op))
        # Constant work: one lookup per request, whether the cache hits or not (§6.6); on
        # a miss, `_dispatch` makes it and the request waits for the answer.
        if table not in self.cache:
            return self._dispatch(key)
        return [Send(self.config.metadata, MapRequest(table)), *self._dispatch(key)]

    def _dispatch(self, key: int) -> list[Effect]:
        pending = self.pending[key]
        if pending.attempt in self.attempts:
            return []  # one attempt at a time: two of one write could both be applied
        if self.now >= pending.deadline:
            return self._finish(key, Unavailable("the partition did not answer in time"))
        cached = self.cache.get(pending.table)
        if cached is None or cached.version <= pending.stale:
            # No map, or one a replica said is stale: ask again, and look again soon.
            return [Send(self.config.metadata, MapRequest(pending.table)),
                    SetTimer(f"retry:{key}", self.config.retry_ms * 5)]
        partition = self._partition(cached, pending)
        if partition is None:
            return self._finish(key, WrongPartition(pending.operation.partition))
        target = self._target(partition, pending)
        pending.version = cached.version
        pending.attempt = attempt = next(self._ids)
        self.attempts[attempt] = key
        operation = pending.operation
        if type(operation) in ADDRESSED:
            operation = operation.operation
        elif pending.scan is not None:
            operation = _partition_scan(operation, pending.scan)
        return [Send(target, Forward(attempt, partition.id, operation, pending.key,
                                     pending.read, type(pending.operation) in SYSTEM_REQUESTS)),
                SetTimer(f"attempt:{key}", self.config.attempt_ms)]

    def _partition(self, cached: PartitionMap, pending: _Pending) -> Partition | None:
        if pending.scan is not None:
            return cached.lookup(pending.scan.position)
        if pending.key is None:
            return cached.get(pending.operation.partition)
        return cached.lookup(position_of(pending.key))

    def _target(self, partition: Partition, pending: _Pending) -> NodeId:
        """The leader for writes and strong reads; any replica for eventual reads (§3)."""
        if not pending.leader_only:
            return partition.replicas[self.rng.randrange(len(partition.replicas))]
        if pending.target in partition.replicas:
            return pending.target  # type: ignore[return-value]
        pending.target = partition.leader or partition.replicas[0]
        return pending.target

    def _on_answer(self, answer: Forwarded) -> list[Effect]:
        key = self.attempts.pop(answer.request_id, None)
        pending = None if key is None else self.pending.get(key)
        if key is None or pending is None or pending.attempt != answer.request_id:
            return []  # an answer to an attempt already given up on
        result = answer.result
        kind = type(result)
        effects: list[Effect] = [CancelTimer(f"attempt:{key}")]
        if kind is NotLeader:
            pending.target = result.leader_hint or self._next_replica(pending)
            return effects + self._dispatch(key)
        if kind is Unreachable:
            pending.target = self._next_replica(pending)
            return effects + [SetTimer(f"retry:{key}", self.config.retry_ms)]
        if kind is Unavailable:
            if not pending.leader_only:
                pending.target = None
            return effects + [SetTimer(f"retry:{key}", self.config.retry_ms)]
        if kind is Ok and pending.scan is not None:
            return effects + self._scan_on(key, pending, result.value)
        if kind is WrongPartition and not pending.leader_only:
            # An eventual read at a replica that has not made the split's children yet:
            # the leader knows whether the map is really stale.
            pending.leader_only, pending.target = True, None
            return effects + self._dispatch(key)
        if kind is WrongPartition and type(pending.operation) is not ToPartition:
            pending.stale = pending.version  # the cache may be newer already
            pending.target = None
            return effects + self._dispatch(key)
        return effects + self._finish(key, result)

    def _scan_on(self, key: int, pending: _Pending, page: Page) -> list[Effect]:
        """Add one partition's part of a Scan page; go on to the next partition or answer."""
        scan = pending.scan
        assert scan is not None
        scan.items += page.items
        scan.count += page.count
        scan.scanned += page.scanned_count
        scan.scanned_bytes += page.scanned_bytes
        scan.bytes_left -= page.scanned_bytes
        if scan.limit is not None:
            scan.limit -= page.scanned_count
        partition = self._partition(self.cache[pending.table], pending)
        assert partition is not None
        done = (page.last_evaluated_key is not None or scan.limit == 0 or scan.bytes_left <= 0
                or partition.key_range.high >= scan.end)
        if not done:
            scan.position, scan.start_key = partition.key_range.high, None
            pending.target = None
            return self._dispatch(key)
        request = _inner(pending.operation)
        units = page_read_units(scan.scanned_bytes, request.consistent)
        capacity = ConsumedCapacity(request.table.name, read=units)
        if getattr(request, "index", None) is not None:  # a global index's units are its own
            capacity = ConsumedCapacity(request.table.name, global_indexes={request.index: units})
        return self._finish(key, Ok(Page(scan.items, scan.count, scan.scanned,
                                         page.last_evaluated_key, capacity,
                                         scan.scanned_bytes)))

    # --- where admission control (layer 6) steps in ---------------------------------

    def admit(self, table: str, item_op: Any) -> Any | None:
        """The answer that refuses a request before it is routed, or None to route it.

        This router admits everything; global admission control (`dynamo.admission`)
        overrides it with the router's table-level tokens (§4.2).
        """
        return None

    def answered(self, table: str, item_op: Any, read: bool, result: Any) -> None:
        """A request's answer, as it goes back to the client (what it cost is in it);
        `item_op` is what `admit` was given."""

    def _attempt_timed_out(self, key: int, pending: _Pending) -> list[Effect]:
        if pending.leader_only and not pending.read:
            # Asked, never answered: the write may still be chosen; retrying could apply
            # it twice. The client decides, as after a DynamoDB 500.
            return self._finish(key, Indefinite("the partition's leader did not answer"))
        self.attempts.pop(pending.attempt, None)
        pending.target = self._next_replica(pending)
        return self._dispatch(key)

    def _on_map(self, reply: MapReply) -> list[Effect]:
        cached = self.cache.get(reply.table)
        if reply.map is None or (cached is not None and reply.map.version <= cached.version):
            return []
        self.cache[reply.table] = reply.map
        effects: list[Effect] = [Announce("map_refreshed", (
            ("table", reply.table), ("version", reply.map.version),
            ("partitions", len(reply.map.partitions))))]
        for key, pending in list(self.pending.items()):
            if pending.table == reply.table and pending.attempt not in self.attempts:
                effects += self._dispatch(key)  # it was waiting for a (newer) map
        return effects

    def _next_replica(self, pending: _Pending) -> NodeId | None:
        cached = self.cache.get(pending.table)
        if cached is None:
            return None
        partition = self._partition(cached, pending)
        if partition is None:
            return None
        replicas = partition.replicas
        if pending.target not in replicas:
            return replicas[0]
        return replicas[(replicas.index(pending.target) + 1) % len(replicas)]

    def _finish(self, key: int, result: Any) -> list[Effect]:
        pending = self.pending.pop(key)
        self.attempts.pop(pending.attempt, None)
        if type(pending.operation) not in SYSTEM_REQUESTS:
            self.answered(pending.table, _inner(pending.operation), pending.read, result)
        return [CancelTimer(f"attempt:{key}"), CancelTimer(f"retry:{key}"),
                Reply(pending.client, pending.request_id, result)]


def locate(op: Any) -> tuple[str, EncodedKey | None, Any]:
    """The table a request is for, the key whose hash places it (§3), and the item
    operation it stands for. No key for a Scan (it walks partitions) or a request
    addressed to a partition."""
    item_op = _inner(op)
    if type(op) is ToPartition:
        return op.table, None, item_op
    if type(op) is ToItem:
        return op.table, op.key, op
    if type(op) is ToKey:
        return op.table, op.key, op.operation
    if type(item_op) not in (PutItem, UpdateItem, DeleteItem, GetItem, Query, Scan):
        raise TypeError(f"a router cannot place {op!r}: address it with ToPartition")
    return read_tbl(item_op), key_of(item_op), item_op


def read_tbl(item_op: Any) -> str:
    """The table whose partitions serve a request: a global index's own (`dynamo.indexes`)
    for a Query or Scan of one, else the request's table."""
    index = getattr(item_op, "index", None)
    table = item_op.table
    return table.tbl if index is None else index_tbl(table.tbl, table.index(index))


def key_of(item_op: Any) -> EncodedKey | None:
    """The key an item operation touches (a Query: its partition key alone); None for a Scan."""
    kind = type(item_op)
    schema = item_op.table.key_schema
    if kind is PutItem:
        return item_key(schema, item_op.item)
    if kind in (UpdateItem, DeleteItem, GetItem):
        return request_key(schema, item_op.key)
    if kind is Query:
        partition = encode_value(dict(item_op.arguments)["key_range"].partition_value)
        return EncodedKey(hash_position(partition), partition, b"")
    return None


def scan_progress(op: Any) -> _ScanProgress | None:
    """Where a Scan starts: its ExclusiveStartKey's position, or its segment's start."""
    if type(op) is not Scan:
        return None
    arguments = dict(op.arguments)
    segment, total = arguments.get("segment", 0), arguments.get("total_segments", 1)
    low, high = segment_bounds(segment, total) if 0 <= segment < total else (b"", None)
    position = int.from_bytes(low, "big")
    start = arguments.get("exclusive_start_key")
    if start is not None:
        # A key's place is its partition key's alone, so a local index's start key (the
        # index's keys and the table's) starts the Scan where its item's partition is;
        # a global index's, where its own partition key puts it.
        placing = op.table.key_schema if op.index is None else op.table.index(op.index).key_schema
        partition = KeySchema(placing.partition)
        try:
            key = {partition.partition.name: start[partition.partition.name]}
            position = int.from_bytes(request_key(partition, key).hash, "big")
        except (DynamoError, KeyError, TypeError):
            pass  # the partition's Scan refuses it with DynamoDB's message
    end = KEY_SPACE if high is None else int.from_bytes(high, "big")
    return _ScanProgress(position, end, arguments.get("limit"), MAX_PAGE_BYTES, start)


def _partition_scan(op: Scan, scan: _ScanProgress) -> Scan:
    """The part of a Scan one partition is asked for: what is left of the page."""
    arguments = {**dict(op.arguments), "limit": scan.limit, "exclusive_start_key":
                 scan.start_key, "max_bytes": scan.bytes_left}
    return Scan(op.table, tuple(arguments.items()), op.consistent, op.index)


def _inner(op: Any) -> Any:
    return item_operation(op.operation if type(op) is ToPartition else op)
