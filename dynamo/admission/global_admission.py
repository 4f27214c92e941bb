"""Global admission control: table-level tokens vended to request routers (§4.2).

"GAC ... tracks the total consumption of the table capacity in terms of
tokens. Each request router maintains a local token bucket to make admission
decisions and communicates with GAC to replenish tokens at regular intervals
(in the order of few seconds)." GAC's state is ephemeral: it is computed from
what routers tell it, so a GAC server can be restarted at any time.

The paper leaves the token protocol unpublished; this is one that keeps its
promises:

* GAC keeps a token bucket per table and kind: the provisioned rate, with 300
  seconds of unused capacity kept as burst (an on-demand table: double its
  previous peak, `on_demand.py`, with one second kept).
* A router asks for tokens (`TokenRequest`) on a period and whenever it runs
  out. It tells GAC what it used of its last grant and what it wanted (its
  demand: what it consumed, plus what it had to refuse), so GAC takes what it
  used beyond the grant out of the table's bucket, puts back what it did not,
  and learns each router's demand.
* GAC vends a router the table's tokens in proportion to its share of the
  table's demand, at most twice what it wanted over the next interval: routers
  with more traffic get more of the table, and none can drain it alone.
* Tokens are time-limited: a grant expires (`lifetime_ms`), so a router that
  stops asking cannot hold a table's capacity for ever.

A router admits a request while it holds tokens for its table
(`RouterTokens`), and charges it what it cost once it has run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dynamo.admission.allocation import KINDS, Throughput
from dynamo.admission.bursting import BURST_SECONDS
from dynamo.admission.on_demand import OnDemandLimit
from dynamo.admission.storage_admission import ADMISSION_UNITS, TableLimits
from dynamo.admission.token_bucket import TokenBucket
from dynamo.contract import Message

REFILL_MS = 1000.0  # how often a router asks GAC for tokens
LIFETIME_MS = 3000.0  # how long a grant's tokens may be spent


@dataclass(frozen=True)
class TokenRequest(Message):
    """A router asks for a table's tokens for the next interval."""

    table: str
    used: Throughput  # units consumed since the last grant
    granted: Throughput  # the last grant (what `used` is charged against)
    demand: Throughput  # units a second it was asked for, served or not


@dataclass(frozen=True)
class TokenGrant(Message):
    """GAC's answer: tokens the router may spend until `expires_ms` (its own clock)."""

    table: str
    tokens: Throughput
    lifetime_ms: float
    on_demand: bool = False  # so the router throttles with ThrottlingException


@dataclass
class _TableBuckets:
    limits: TableLimits
    buckets: dict[str, TokenBucket]
    on_demand: OnDemandLimit | None
    demand: dict[str, dict[str, float]] = field(default_factory=dict)  # router -> kind -> /s


class GlobalAdmission:
    """A GAC server's table buckets and what it vends (the server's state is ephemeral)."""

    def __init__(self, refill_ms: float = REFILL_MS, lifetime_ms: float = LIFETIME_MS,
                 burst_seconds: float = BURST_SECONDS) -> None:
        self.refill_ms = refill_ms
        self.lifetime_ms = lifetime_ms
        self.burst_seconds = burst_seconds
        self.tables: dict[str, _TableBuckets] = {}

    def set_table(self, table: str, limits: TableLimits, now_ms: float) -> None:
        """A table's throughput, at creation or after UpdateTable."""
        entry = self.tables.get(table)
        on_demand = (entry.on_demand if entry is not None and entry.on_demand is not None
                     else OnDemandLimit()) if limits.on_demand else None
        rate = on_demand.limit(now_ms) if on_demand is not None else limits.throughput
        seconds = 1.0 if limits.on_demand else self.burst_seconds
        if entry is None:
            buckets = {k: TokenBucket.full(rate.of(k), rate.of(k) * seconds, now_ms)
                       for k in KINDS}
            self.tables[table] = _TableBuckets(limits, buckets, on_demand)
            return
        entry.limits, entry.on_demand = limits, on_demand
        for k in KINDS:
            entry.buckets[k].retune(rate.of(k), rate.of(k) * seconds, now_ms)

    def forget(self, table: str) -> None:
        self.tables.pop(table, None)

    def vend(self, router: str, request: TokenRequest, now_ms: float) -> TokenGrant:
        """Settle a router's last grant and vend it its share of the next interval."""
        entry = self.tables.get(request.table)
        if entry is None:  # not a table GAC knows: no limit to keep
            return TokenGrant(request.table, Throughput(float("inf"), float("inf")),
                              self.lifetime_ms)
        self._follow_peak(entry, request, now_ms)
        grant = {}
        for k in KINDS:
            bucket = entry.buckets[k]
            bucket.spend(request.used.of(k) - request.granted.of(k), now_ms)  # settle
            entry.demand.setdefault(router, {})[k] = request.demand.of(k)
            total = sum(d.get(k, 0.0) for d in entry.demand.values())
            share = request.demand.of(k) / total if total > 0 else 1.0
            wanted = 2 * request.demand.of(k) * self.refill_ms / 1000.0
            interval = bucket.rate * self.refill_ms / 1000.0
            wanted = max(wanted, interval * share)
            # A share of the interval's tokens, not of what the routers that asked
            # before this one left: else the last to ask gets a share of a remainder.
            available = max(bucket.tokens, interval)
            grant[k] = bucket.take(min(wanted, available * share), now_ms)
        return TokenGrant(request.table, Throughput(grant["read"], grant["write"]),
                          self.lifetime_ms, entry.limits.on_demand)

    def _follow_peak(self, entry: _TableBuckets, request: TokenRequest, now_ms: float) -> None:
        """An on-demand table's limit moves with its peak (§4.5)."""
        if entry.on_demand is None:
            return
        for k in KINDS:
            entry.on_demand.consumed(k, request.used.of(k), now_ms)
        rate = entry.on_demand.limit(now_ms)
        for k in KINDS:
            entry.buckets[k].retune(rate.of(k), rate.of(k), now_ms)

    def state(self, now_ms: float) -> dict[str, Any]:
        out = {}
        for table, entry in sorted(self.tables.items()):
            levels = {}
            for k, bucket in entry.buckets.items():
                bucket.refill(now_ms)
                levels[k] = {"rate": bucket.rate, "tokens": round(bucket.tokens, 3),
                             "demand": round(sum(d.get(k, 0.0)
                                                 for d in entry.demand.values()), 3)}
            out[table] = {"on_demand": entry.limits.on_demand, **levels}
        return out


@dataclass
class _Held:
    tokens: dict[str, float]
    granted: dict[str, float]
    used: dict[str, float]
    demand: dict[str, float]
    expires_ms: float
    asked_ms: float | None  # a request to GAC is in flight since then
    since_ms: float  # when the demand now counted started


class RouterTokens:
    """A request router's local, time-limited tokens, per table (§4.2)."""

    def __init__(self, refill_ms: float = REFILL_MS) -> None:
        self.refill_ms = refill_ms
        self.tables: dict[str, _Held] = {}
        self.throttles = 0

    def admit(self, table: str, kind: str, now_ms: float) -> bool:
        """Whether the router holds tokens for a request of `kind` to `table` now.

        A table the router has not asked for yet is admitted while its first request to
        GAC is out, so a new router does not refuse its first requests.
        """
        held = self._held(table, now_ms)
        held.demand[kind] += 1.0
        if held.expires_ms == 0.0:
            return True  # never granted yet: admitted on credit, charged in the first request
        if held.expires_ms <= now_ms:
            held.tokens = {k: 0.0 for k in KINDS}
        if held.tokens[kind] > 0:
            held.tokens[kind] -= ADMISSION_UNITS  # the rest once its cost is known
            return True
        self.throttles += 1
        return False

    def refund(self, table: str, kind: str) -> None:
        """Give back the unit a request was admitted with, when it is refused after all
        (another of the tables it needs tokens of had none); its demand still counts."""
        held = self.tables.get(table)
        if held is not None and held.expires_ms != 0.0:
            held.tokens[kind] += ADMISSION_UNITS

    def exhausted(self, table: str, kind: str, now_ms: float) -> bool:
        """Whether the router has run out of a table's tokens (through use or expiry)."""
        held = self.tables.get(table)
        if held is None or held.expires_ms == 0.0:
            return False
        return held.expires_ms <= now_ms or held.tokens[kind] <= 0

    def ask(self, table: str, now_ms: float) -> TokenRequest | None:
        """A token request for `table` now, unless one is already on its way."""
        held = self._held(table, now_ms)
        if held.asked_ms is not None and now_ms - held.asked_ms < self.refill_ms:
            return None
        return self._request(table, held, now_ms)

    def ask_outstanding_ms(self, table: str, now_ms: float) -> float:
        """How long the table's token request has been unanswered (0: none is)."""
        held = self.tables.get(table)
        return 0.0 if held is None or held.asked_ms is None else now_ms - held.asked_ms

    def charge(self, table: str, kind: str, units: float, now_ms: float) -> None:
        """Take the rest of what an admitted request cost from the router's tokens."""
        held = self._held(table, now_ms)
        held.tokens[kind] -= units - ADMISSION_UNITS
        held.used[kind] += units
        held.demand[kind] += units - 1.0  # it was counted as one unit when admitted

    def requests(self, now_ms: float) -> list[TokenRequest]:
        """The token requests due now: a table's period is up, or its tokens ran out."""
        due = []
        for table, held in self.tables.items():
            if held.asked_ms is not None and now_ms - held.asked_ms < self.refill_ms:
                continue  # one request in flight at a time (a lost one is asked again)
            out = held.expires_ms <= now_ms or min(held.tokens.values()) <= 0
            if out or now_ms - held.since_ms >= self.refill_ms:
                due.append(self._request(table, held, now_ms))
        return due

    def granted(self, grant: TokenGrant, now_ms: float) -> None:
        """GAC's grant arrived: it replaces what was left of the last one."""
        held = self.tables.get(grant.table)
        if held is None:
            return
        held.tokens = {k: grant.tokens.of(k) for k in KINDS}
        held.granted = dict(held.tokens)
        held.expires_ms = now_ms + grant.lifetime_ms
        held.asked_ms = None

    def _request(self, table: str, held: _Held, now_ms: float) -> TokenRequest:
        seconds = max(now_ms - held.since_ms, 1.0) / 1000.0
        request = TokenRequest(table, Throughput(held.used["read"], held.used["write"]),
                               Throughput(held.granted["read"], held.granted["write"]),
                               Throughput(held.demand["read"] / seconds,
                                          held.demand["write"] / seconds))
        held.used = {k: 0.0 for k in KINDS}
        held.granted = {k: 0.0 for k in KINDS}
        held.demand = {k: 0.0 for k in KINDS}
        held.asked_ms = held.since_ms = now_ms
        return request

    def _held(self, table: str, now_ms: float) -> _Held:
        held = self.tables.get(table)
        if held is None:
            zero = {k: 0.0 for k in KINDS}
            held = self.tables[table] = _Held(dict(zero), dict(zero), dict(zero), dict(zero),
                                              0.0, None, now_ms)
        return held

