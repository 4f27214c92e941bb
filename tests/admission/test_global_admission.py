"""Era 4, global admission control: table-level tokens vended to request routers (§4.2).

"GAC ... tracks the total consumption of the table capacity in terms of
tokens. Each request router maintains a local token bucket to make admission
decisions and communicates with GAC to replenish tokens at regular intervals."
The tests step a `GlobalAdmission` (the GAC server's buckets) and
`RouterTokens` (a router's time-limited tokens) by hand, on a virtual clock,
with token requests and grants handed straight from one to the other.
"""

from __future__ import annotations

import pytest

from dynamo.admission.allocation import Throughput
from dynamo.admission.global_admission import (
    LIFETIME_MS,
    REFILL_MS,
    GlobalAdmission,
    RouterTokens,
    TokenGrant,
    TokenRequest,
)
from dynamo.admission.storage_admission import TableLimits

TABLE = "lab/orders"
NONE = Throughput(0.0, 0.0)


def gac(wcu: float, burst_seconds: float = 300.0, now: float = 0.0) -> GlobalAdmission:
    admission = GlobalAdmission(burst_seconds=burst_seconds)
    admission.set_table(TABLE, TableLimits(Throughput(read=3 * wcu, write=wcu)), now)
    return admission


def asking(writes_per_second: float, used: float = 0.0, granted: float = 0.0) -> TokenRequest:
    return TokenRequest(TABLE, Throughput(0.0, used), Throughput(0.0, granted),
                        Throughput(0.0, writes_per_second))


def table_tokens(admission: GlobalAdmission, now: float) -> float:
    return admission.state(now)[TABLE]["write"]["tokens"]


def run(admission: GlobalAdmission, routers: int, offered: float, seconds: int,
        tick_ms: float = 100.0) -> int:
    """`routers` routers, each offered `offered` 1-WCU writes a second, asking GAC for
    tokens every tick as a router's timer does: the writes admitted in all."""
    tokens = {f"r{i}": RouterTokens() for i in range(routers)}
    every = 1000.0 / offered
    admitted = 0
    for step in range(int(seconds * offered)):
        now = step * every
        for router, held in tokens.items():
            if now % tick_ms < every:
                for request in held.requests(now):
                    held.granted(admission.vend(router, request, now), now)
            if held.admit(TABLE, "write", now):
                held.charge(TABLE, "write", 1.0, now)
                admitted += 1
    return admitted


# --- what GAC vends ------------------------------------------------------------------------


def test_routers_get_the_tables_tokens_in_proportion_to_their_demand() -> None:
    """§4.2: GAC estimates the table's consumption from what its clients tell it and vends
    each its share: two routers wanting 3,000 and 1,000 WCU a second of a 400 WCU table
    get 300 and 100 a second, whichever asks first."""
    for order in (("a", "b"), ("b", "a")):
        admission = gac(400.0, burst_seconds=1.0)
        demand = {"a": 3000.0, "b": 1000.0}
        grants: dict[str, list[float]] = {"a": [], "b": []}
        for second in range(1, 6):
            for router in order:
                grant = admission.vend(router, asking(demand[router]), second * REFILL_MS)
                grants[router].append(grant.tokens.write)
        assert grants["a"][-1] == pytest.approx(300.0), order
        assert grants["b"][-1] == pytest.approx(100.0), order


def test_no_router_can_drain_the_tables_burst_alone() -> None:
    """§4.2: GAC vends a client its share of the tokens for the next time unit, not the
    table's savings: a lone router wanting 10 WCU a second of a 400 WCU table with 300 s
    of burst saved is vended one interval of the table's rate."""
    admission = gac(400.0)
    grant = admission.vend("r1", asking(10.0), 0.0)
    assert grant.tokens.write == pytest.approx(400.0 * REFILL_MS / 1000.0)
    assert table_tokens(admission, 0.0) == pytest.approx(400.0 * 300 - grant.tokens.write)


def test_a_tables_routers_together_admit_its_provisioned_rate_plus_its_burst() -> None:
    """§4.2: GAC keeps the table's limit across all its routers: two routers each offered
    200 writes a second of a 100 WCU table with 10 s of burst admit, over a minute,
    about 100 a second plus the 10 seconds saved, not the 24,000 offered."""
    admitted = run(gac(100.0, burst_seconds=10.0), routers=2, offered=200.0, seconds=60)
    assert admitted == pytest.approx(100 * 60 + 100 * 10, rel=0.03)


def test_a_router_that_used_more_than_it_was_granted_is_charged_the_overspend() -> None:
    """§4.2: a request's cost is known only after it ran, so a router may spend beyond its
    grant; it tells GAC what it used, and GAC takes the overspend out of the table."""
    admission = gac(100.0)
    first = admission.vend("r1", asking(50.0), 0.0).tokens.write
    before = table_tokens(admission, 0.0)
    second = admission.vend("r1", asking(50.0, used=first + 40.0, granted=first), 0.0)
    assert table_tokens(admission, 0.0) == pytest.approx(before - 40.0 - second.tokens.write)


def test_tokens_a_router_did_not_use_go_back_to_the_table() -> None:
    """§4.2: GAC tracks what the table consumed: tokens vended and never used are not
    consumption, and go back to the table's bucket when the router reports."""
    admission = gac(100.0)
    first = admission.vend("r1", asking(50.0), 0.0).tokens.write
    before = table_tokens(admission, 0.0)
    second = admission.vend("r1", asking(50.0, used=10.0, granted=first), 0.0)
    assert table_tokens(admission, 0.0) == pytest.approx(
        before + first - 10.0 - second.tokens.write)


def test_a_table_gac_does_not_know_has_no_limit_to_keep() -> None:
    grant = GlobalAdmission().vend("r1", asking(10.0), 0.0)
    assert grant.tokens.write == float("inf")


def test_gac_keeps_no_state_a_restart_would_lose() -> None:
    """§4.2: GAC's state is ephemeral, so any GAC server can be stopped and restarted: a
    new one, told the table's throughput again, vends to a router that was being served
    by the old one, as it would to a new router."""
    old = gac(100.0)
    last = old.vend("r1", asking(80.0), 0.0)
    restarted = gac(100.0, now=1000.0)
    grant = restarted.vend("r1", asking(80.0, used=last.tokens.write,
                                        granted=last.tokens.write), 1000.0)
    fresh = gac(100.0, now=1000.0).vend("r1", asking(80.0), 1000.0)
    assert grant.tokens.write > 0
    assert grant == fresh


# --- what a router does with its tokens ---------------------------------------------------


def test_a_new_routers_first_requests_are_admitted_on_credit_and_charged_after() -> None:
    """§4.2: a router that has not heard from GAC yet admits its table's first requests,
    and its first token request reports what they used, so GAC charges them."""
    tokens = RouterTokens()
    assert tokens.admit(TABLE, "write", 0.0)
    tokens.charge(TABLE, "write", 3.0, 0.0)
    (request,) = tokens.requests(0.0)
    assert request == TokenRequest(TABLE, Throughput(0.0, 3.0), NONE, request.demand)
    assert request.demand.write > 0


def test_a_router_holding_no_tokens_throttles_locally() -> None:
    """§4.2: each request router admits or throttles from its local tokens: once GAC's
    grant is spent, the router refuses requests without asking anyone."""
    tokens = RouterTokens()
    tokens.admit(TABLE, "write", 0.0)
    tokens.requests(0.0)
    tokens.granted(TokenGrant(TABLE, Throughput(0.0, 2.0), LIFETIME_MS), 10.0)
    assert tokens.admit(TABLE, "write", 20.0)
    tokens.charge(TABLE, "write", 2.0, 20.0)
    assert not tokens.admit(TABLE, "write", 30.0)
    assert tokens.throttles == 1
    assert tokens.admit(TABLE, "read", 30.0) is False  # no read tokens were granted


def test_a_routers_tokens_expire() -> None:
    """§4.2: routers hold "several time-limited tokens": a grant not spent within its
    lifetime is gone, so a router that stops asking cannot hold the table's capacity."""
    tokens = RouterTokens()
    tokens.admit(TABLE, "write", 0.0)
    tokens.requests(0.0)
    tokens.granted(TokenGrant(TABLE, Throughput(100.0, 100.0), 3000.0), 0.0)
    assert tokens.admit(TABLE, "write", 2999.0)
    assert not tokens.admit(TABLE, "write", 3000.0)
    assert [r.table for r in tokens.requests(3000.0)] == [TABLE]  # and it asks again


def test_a_router_asks_for_tokens_at_regular_intervals_one_request_at_a_time() -> None:
    """§4.2: routers replenish tokens at regular intervals (in the order of a few seconds
    in DynamoDB, one here): a router with tokens to spare asks again once the interval is
    up, never twice while a request is out, and again if one is lost."""
    tokens = RouterTokens()
    tokens.admit(TABLE, "write", 0.0)
    assert len(tokens.requests(0.0)) == 1
    assert tokens.requests(500.0) == []  # one in flight
    assert len(tokens.requests(REFILL_MS)) == 1  # lost: asked again a period later
    tokens.granted(TokenGrant(TABLE, Throughput(500.0, 500.0), LIFETIME_MS), 1010.0)
    assert tokens.requests(1500.0) == []  # tokens in hand, period not up
    assert len(tokens.requests(2000.0)) == 1


def test_a_routers_demand_counts_the_requests_it_refused() -> None:
    """§4.2: GAC vends by demand, so a router tells it what it was asked for, served or
    not: 20 writes refused over a second are a demand of 20 a second."""
    tokens = RouterTokens()
    tokens.admit(TABLE, "write", 0.0)
    tokens.requests(0.0)
    tokens.granted(TokenGrant(TABLE, NONE, LIFETIME_MS), 0.0)
    for i in range(20):
        assert not tokens.admit(TABLE, "write", 50.0 * i)
    (request,) = tokens.requests(1000.0)
    assert request.demand.write == pytest.approx(20.0)
    assert request.used == NONE
