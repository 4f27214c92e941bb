"""A request router that admits against global admission control's tokens (§4.2).

Layer 5's `RequestRouter` routes every request. This one first spends its
local tokens for the request's table (`RouterTokens`): while it holds some,
the request is routed. It asks the GAC server for more on a period, and
whenever it runs out: "when a router runs out of tokens, it requests more from
GAC". A request that finds the tokens gone waits for that answer (GAC is a
round trip away, a fraction of a millisecond here), and only if the grant
holds nothing for it either is it throttled, without reaching a storage node.
Each answered request is charged what it cost.

A global secondary index has throughput of its own, kept by GAC as a table's
is, under the index's storage id (`tbl#index`). A Query or Scan of the index
spends the index's read tokens. A write to the table spends the table's write
tokens *and* those of each of its global indexes: "for a table write to
succeed, the provisioned throughput settings for the table and global
secondary indexes must have enough write capacity" (DynamoDB's guide). Which
indexes a write changes is known only once it is planned, so it is admitted
against every one; once answered, each index is charged the units the write
says it cost it (`index_units`: none if it changed nothing there). So an index
short of write capacity holds back the writes to its table: back-pressure.

Under the other eras (`static`, `bursting`, `adaptive`) routers admit
everything, and the storage nodes' buckets alone decide (§4, §4.1).
"""

from __future__ import annotations

from typing import Any

from dynamo.admission.global_admission import RouterTokens, TokenGrant
from dynamo.admission.storage_node import index_units, throttled, units_of
from dynamo.contract import (
    ClientRequest,
    Effect,
    Event,
    NodeId,
    Receive,
    Rng,
    Send,
    SetTimer,
    Start,
    TimerFired,
)
from dynamo.partitioning.router import SYSTEM_REQUESTS, RequestRouter, RouterConfig, locate
from dynamo.paxos.operations import DeleteItem, PutItem, UpdateItem
from dynamo.paxos.statemachine import is_read
from dynamo.storage.indexes import SecondaryIndex, index_tbl

TOKENS_TIMER = "gac:tokens"
TICK_MS = 100.0  # how often the router looks whether a table's tokens are due


class AdmittingRouter(RequestRouter):
    """A request router with GAC's table-level tokens."""

    def __init__(self, id: NodeId, rng: Rng, config: RouterConfig | None = None,
                 gac: NodeId = "gac", tokens: RouterTokens | None = None) -> None:
        super().__init__(id, rng, config)
        self.gac = gac
        self.tokens = tokens or RouterTokens()
        self.on_demand: set[str] = set()
        self.waiting: dict[str, list[ClientRequest]] = {}  # for a grant, by table

    def step(self, now_ms: float, event: Event) -> list[Effect]:
        kind = type(event)
        if kind is Receive and type(event.message) is TokenGrant:
            self.now = now_ms
            return self._granted(event.message)
        if kind is TimerFired and event.name == TOKENS_TIMER:
            self.now = now_ms
            return self._tick() + [SetTimer(TOKENS_TIMER, TICK_MS)]
        effects = super().step(now_ms, event)
        if kind is Start:
            effects.append(SetTimer(TOKENS_TIMER, TICK_MS))
        return effects

    def admit(self, table: str, item_op: Any) -> Any | None:
        """Admit against the table's tokens, and a write against its global indexes' too."""
        kind = "read" if is_read(item_op) else "write"
        if not self.tokens.admit(table, kind, self.now):
            # A Query or Scan naming `index` reads a global index (`read_tbl`).
            of_index = getattr(item_op, "index", None) is not None
            return throttled(table in self.on_demand, of_index)
        admitted = [(table, kind)]
        for index in index_tables(table, item_op):
            if not self.tokens.admit(index, "write", self.now):
                for taken, taken_kind in admitted:
                    self.tokens.refund(taken, taken_kind)
                return throttled(index in self.on_demand, of_index=True)
            admitted.append((index, "write"))
        return None

    def answered(self, table: str, item_op: Any, read: bool, result: Any) -> None:
        self.tokens.charge(table, "read" if read else "write", units_of(result, read), self.now)
        spent = index_units(result)
        for index in _global_indexes(item_op):
            self.tokens.charge(index_tbl(table, index), "write", spent.get(index.name, 0.0),
                               self.now)

    def _on_request(self, request: ClientRequest) -> list[Effect]:
        """Out of the tokens of the table (or of one of the global indexes a write needs
        tokens of): ask GAC and let the request wait for its answer; otherwise route it
        now (to be admitted or throttled)."""
        located = locate(request.operation)
        table, _, item_op = located
        kind = "read" if is_read(item_op) else "write"
        needs = [(table, kind), *((index, "write") for index in index_tables(table, item_op))]
        short = next((t for t, k in needs if self.tokens.exhausted(t, k, self.now)), None)
        if type(request.operation) in SYSTEM_REQUESTS or short is None:  # the system's: free
            return self._route(request, located)
        table = short
        ask = self.tokens.ask(table, self.now)
        if ask is None and self.tokens.ask_outstanding_ms(table, self.now) >= TICK_MS:
            return self._route(request, located)  # asked long ago, never answered
        self.waiting.setdefault(table, []).append(request)
        return [] if ask is None else [Send(self.gac, ask)]

    def _granted(self, grant: TokenGrant) -> list[Effect]:
        self.tokens.granted(grant, self.now)
        if grant.on_demand:
            self.on_demand.add(grant.table)
        return self._release(grant.table)

    def _release(self, table: str) -> list[Effect]:
        """Route (or throttle) the requests that waited for the table's tokens."""
        effects: list[Effect] = []
        for request in self.waiting.pop(table, []):
            effects += self._route(request, locate(request.operation))
        return effects

    def _tick(self) -> list[Effect]:
        effects: list[Effect] = [Send(self.gac, r) for r in self.tokens.requests(self.now)]
        for table in list(self.waiting):  # a grant lost on the way: decide without it
            if self.tokens.ask_outstanding_ms(table, self.now) >= TICK_MS:
                effects += self._release(table)
        return effects

    def snapshot(self) -> dict[str, Any]:
        return {**super().snapshot(), "throttles": self.tokens.throttles}


def index_tables(table: str, item_op: Any) -> list[str]:
    """The storage ids of the global indexes whose write tokens a write to `table` needs."""
    return [index_tbl(table, index) for index in _global_indexes(item_op)]


def _global_indexes(item_op: Any) -> list[SecondaryIndex]:
    """The global indexes an item write may change (none being deleted: it is told
    nothing more); none for a read, or a request of a layer above (a transaction's)."""
    if type(item_op) not in (PutItem, UpdateItem, DeleteItem):
        return []
    return item_op.table.live_global_indexes
