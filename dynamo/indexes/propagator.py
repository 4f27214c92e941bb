"""The propagator: carries each base item's outbox row to its global indexes (paper §2).

A global secondary index is kept up to date *asynchronously*: a write to the
base table is acknowledged once its own partition has logged it, with its
outbox row (`dynamo.storage.outbox`), and the index learns of it later. The
propagator is the "later". It is a sans-IO node of its own, in front of the
storage nodes like a request router, and holds nothing it cannot lose:

1. every `poll_ms` it reads each base partition's outbox rows, a strongly
   consistent Scan at the partition's leader (`ToPartition`), at most `batch`;
2. for each row not already in flight it ships one *round*: an `IndexWrite`
   per entry key the row names (the deletes and the put, of every index),
   tagged with the row's sequence, each routed by its entry key to the index
   partition that holds it (`ToKey`), through a request router of its own;
3. once every write of the round is acknowledged it asks the base partition
   to mark the row propagated (`MarkPropagated`), which drops the row only if
   its sequence has not moved since: a write in between leaves it to be
   shipped again, with everything folded in.

One round per item is in flight at a time. A round whose write fails (a
timeout, a leader change, a split) is dropped and shipped again from the row
at a later poll, as is everything after a crash of the propagator: the rows
are the state. Shipping twice is harmless, because an index partition applies
an entry's update only if its sequence is newer than the one it holds, and
keeps that sequence after a delete (a tombstone). So once writes stop and
faults heal, every index equals the projection of its base table.

The propagator measures its own lag: for each table, how many outbox rows it
saw waiting at the last poll, and how long the oldest has been waiting
(`snapshot`, shown by `/admin/state`).
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
    Start,
    TimerFired,
)
from dynamo.partitioning.messages import MapRequest
from dynamo.partitioning.partition_map import PartitionId
from dynamo.partitioning.router import RequestRouter, RouterConfig, ToKey, ToPartition
from dynamo.paxos.operations import Ok, Scan
from dynamo.storage import outbox
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.indexes import index_tbl
from dynamo.storage.keys import EncodedKey, item_key
from dynamo.storage.table import Page

PROPAGATOR = "propagator"
POLL_TIMER = "poll"
ROUTER_TIMER = "router|"  # the embedded router's timers, named apart from the poll's
SELF = "propagator:self"  # the client name of the requests it hands its router


@dataclass(frozen=True)
class PropagatorConfig:
    """How often the outboxes are read, how much at a time, and how the router waits."""

    metadata: NodeId = "memds"
    poll_ms: float = 50.0
    batch: int = 64
    router: RouterConfig = RouterConfig()


@dataclass(frozen=True)
class TrackTable:
    """The control plane tells the propagator a table's definition (its global indexes),
    before any write planned with that definition can reach an outbox."""

    definition: TableDefinition


@dataclass(frozen=True)
class UntrackTable:
    """The control plane tells the propagator a table is gone."""

    tbl: str


@dataclass
class _Round:
    """One item's updates in flight: the index writes not yet acknowledged."""

    tbl: str
    key: EncodedKey
    seq: int
    waiting: set[int] = field(default_factory=set)
    failed: bool = False


@dataclass
class _Backlog:
    """The outbox rows one poll of a partition saw: sequence and when first seen, by key."""

    rows: dict[EncodedKey, tuple[int, float]] = field(default_factory=dict)


class Propagator:
    """A sans-IO node that ships outbox rows to global index partitions."""

    def __init__(self, id: NodeId, rng: Rng, config: PropagatorConfig | None = None,
                 tables: tuple[TableDefinition, ...] = ()) -> None:
        self._id = id
        self.config = config or PropagatorConfig()
        self.router = RequestRouter(id, rng, self.config.router)
        self.tables: dict[str, TableDefinition] = {d.tbl: d for d in tables}
        self.polls: dict[int, tuple[str, PartitionId]] = {}
        self.writes: dict[int, tuple[str, EncodedKey]] = {}  # an index write's round
        self.marks: dict[int, tuple[str, EncodedKey]] = {}
        self.rounds: dict[tuple[str, EncodedKey], _Round] = {}
        self.backlog: dict[tuple[str, PartitionId], _Backlog] = {}
        self.propagated = 0  # rounds acknowledged and marked
        self._ids = itertools.count(1)
        self.now = 0.0

    @property
    def id(self) -> NodeId:
        return self._id

    def step(self, now_ms: float, event: Event) -> list[Effect]:
        self.now = now_ms
        kind = type(event)
        if kind is Start:
            return [SetTimer(POLL_TIMER, self.config.poll_ms)]
        if kind is TimerFired:
            if event.name == POLL_TIMER:
                return self._poll() + [SetTimer(POLL_TIMER, self.config.poll_ms)]
            if event.name.startswith(ROUTER_TIMER):
                return self._routed(TimerFired(event.name[len(ROUTER_TIMER):]))
            return []
        if kind is Receive:  # the router's answers and maps
            return self._routed(event)
        if kind is ClientRequest:
            return self._on_control(event)
        return []

    def snapshot(self) -> dict[str, Any]:
        """Per table, the outbox rows waiting and the age of the oldest (ms): the lag."""
        tables: dict[str, dict[str, float]] = {}
        for (tbl, _), backlog in self.backlog.items():
            lag = tables.setdefault(tbl, {"pending": 0, "oldest_ms": 0.0})
            lag["pending"] += len(backlog.rows)
            for _, seen in backlog.rows.values():
                lag["oldest_ms"] = max(lag["oldest_ms"], round(self.now - seen, 1))
        return {"id": self._id, "tables": tables, "in_flight": len(self.rounds),
                "propagated": self.propagated}

    # --- the control plane ------------------------------------------------------------

    def _on_control(self, request: ClientRequest) -> list[Effect]:
        op = request.operation
        if type(op) is TrackTable:
            self.tables[op.definition.tbl] = op.definition
        elif type(op) is UntrackTable:
            self.tables.pop(op.tbl, None)
            for key in [k for k in self.backlog if k[0] == op.tbl]:
                del self.backlog[key]
        return [Reply(request.client, request.request_id, Ok())]

    # --- reading the outboxes -----------------------------------------------------------

    def _poll(self) -> list[Effect]:
        """Read the outbox of every partition of every table, one read per partition."""
        effects: list[Effect] = []
        asked = {where for where in self.polls.values()}
        for tbl, definition in self.tables.items():
            table_map = self.router.cache.get(tbl)
            if table_map is None:
                effects.append(Send(self.config.metadata, MapRequest(tbl)))
                continue
            live = {p.id for p in table_map.partitions}
            for gone in [k for k in self.backlog if k[0] == tbl and k[1] not in live]:
                del self.backlog[gone]  # split: its rows are its children's now
            scan = Scan(outbox.outbox_definition(definition), (("limit", self.config.batch),),
                        consistent=True)
            for partition in table_map.partitions:
                if (tbl, partition.id) in asked:
                    continue
                request_id = next(self._ids)
                self.polls[request_id] = (tbl, partition.id)
                effects += self._ask(request_id, ToPartition(tbl, partition.id, scan))
        return effects

    def _read(self, where: tuple[str, PartitionId], result: Any) -> list[Effect]:
        """A partition's outbox rows: note the backlog, ship a round for each new row."""
        tbl = where[0]
        definition = self.tables.get(tbl)
        if definition is None or type(result) is not Ok:
            return []
        page: Page = result.value
        before = self.backlog.get(where, _Backlog()).rows
        backlog = self.backlog[where] = _Backlog()
        effects: list[Effect] = []
        for item in page.items:
            row = outbox.from_item(item_key(definition.key_schema, item), item)
            seen = before.get(row.key)
            backlog.rows[row.key] = (row.seq, self.now if seen is None else seen[1])
            if (tbl, row.key) not in self.rounds:
                effects += self._ship(definition, row)
        return effects

    # --- rounds --------------------------------------------------------------------------

    def _ship(self, definition: TableDefinition, row: outbox.OutboxRow) -> list[Effect]:
        """Send every index write of one row; an index being deleted is told nothing."""
        tbl = definition.tbl
        round_ = self.rounds[(tbl, row.key)] = _Round(tbl, row.key, row.seq)
        effects: list[Effect] = []
        for name, update in row.updates.items():
            index = definition.index(name)
            if index is None or not index.is_global or index.status == "DELETING":
                continue
            target = index_tbl(tbl, index)
            entries = [(k, None) for k in update.deletes]
            if update.put is not None:
                entries.append((update.put.key, update.put.item))
            for key, item in entries:
                request_id = next(self._ids)
                round_.waiting.add(request_id)
                self.writes[request_id] = (tbl, row.key)
                write = outbox.IndexWrite(target, key, row.seq, item)
                effects += self._ask(request_id, ToKey(target, key, write))
        return effects if round_.waiting else self._mark(round_)

    def _written(self, request_id: int, result: Any) -> list[Effect]:
        round_ = self.rounds.get(self.writes.pop(request_id))
        if round_ is None:
            return []
        round_.waiting.discard(request_id)
        round_.failed = round_.failed or type(result) is not Ok
        if round_.waiting:
            return []
        if round_.failed:  # shipped again from the row at a later poll
            del self.rounds[(round_.tbl, round_.key)]
            return []
        return self._mark(round_)

    def _mark(self, round_: _Round) -> list[Effect]:
        request_id = next(self._ids)
        self.marks[request_id] = (round_.tbl, round_.key)
        mark = outbox.MarkPropagated(round_.tbl, round_.key, round_.seq)
        return self._ask(request_id, ToKey(round_.tbl, round_.key, mark))

    def _marked(self, request_id: int, result: Any) -> list[Effect]:
        where = self.marks.pop(request_id)
        round_ = self.rounds.pop(where, None)
        if round_ is not None and type(result) is Ok:
            self.propagated += 1
        return []

    # --- the embedded request router ------------------------------------------------------

    def _ask(self, request_id: int, operation: Any) -> list[Effect]:
        return self._routed(ClientRequest(SELF, request_id, operation))

    def _routed(self, event: Event) -> list[Effect]:
        """Step the router; keep its messages, name its timers apart, take its answers."""
        effects: list[Effect] = []
        for effect in self.router.step(self.now, event):
            kind = type(effect)
            if kind is Reply and effect.client == SELF:
                effects += self._answered(effect.request_id, effect.result)
            elif kind is SetTimer:
                effects.append(SetTimer(ROUTER_TIMER + effect.name, effect.delay_ms))
            elif kind is CancelTimer:
                effects.append(CancelTimer(ROUTER_TIMER + effect.name))
            elif kind is not Announce:  # the router's map refreshes are not news here
                effects.append(effect)
        return effects

    def _answered(self, request_id: int, result: Any) -> list[Effect]:
        if request_id in self.polls:
            return self._read(self.polls.pop(request_id), result)
        if request_id in self.writes:
            return self._written(request_id, result)
        if request_id in self.marks:
            return self._marked(request_id, result)
        return []
