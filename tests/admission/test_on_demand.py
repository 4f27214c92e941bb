"""On-demand tables: double the previous peak, at once (§4.5, DG read/write capacity mode).

DynamoDB "instantly accommodates up to double the previous peak traffic on the
table", and throttling can occur "if you exceed double your previous peak
within 30 minutes". A new table's previous peak is 6,000 RRU and 2,000 WRU.
The tests step an `OnDemandLimit` on a virtual clock, and a GAC server's
on-demand table, which follows it.
"""

from __future__ import annotations

import pytest

from dynamo.admission.allocation import Throughput
from dynamo.admission.global_admission import GlobalAdmission, TokenRequest
from dynamo.admission.on_demand import INITIAL_PEAK, PEAK_AGE_MS, OnDemandLimit
from dynamo.admission.storage_admission import TableLimits

MINUTE = 60_000.0
TABLE = "lab/clicks"


def peak_second(limit: OnDemandLimit, at_ms: float, reads: float, writes: float) -> None:
    """One second in which the table consumed `reads` RRU and `writes` WRU."""
    limit.consumed("read", reads, at_ms)
    limit.consumed("write", writes, at_ms)


def test_a_new_on_demand_table_serves_12000_rru_and_4000_wru_at_once() -> None:
    """DG: a new on-demand table's previous peak is 6,000 RRU and 2,000 WRU, so it
    instantly serves double: 12,000 reads and 4,000 writes a second."""
    assert INITIAL_PEAK == Throughput(read=6000.0, write=2000.0)
    assert OnDemandLimit().limit(0.0) == Throughput(read=12_000.0, write=4000.0)


def test_a_table_instantly_accommodates_double_its_previous_peak() -> None:
    """§4.5: a table that peaked at 50,000 reads a second can take 100,000 at once (the
    Developer Guide's example), once that peak is 30 minutes old."""
    limit = OnDemandLimit()
    peak_second(limit, 0.0, reads=50_000.0, writes=3000.0)
    later = limit.limit(PEAK_AGE_MS + 1000.0)
    assert later == Throughput(read=100_000.0, write=6000.0)


def test_a_peak_counts_only_after_30_minutes() -> None:
    """DG: throttling can occur if you exceed double your previous peak within 30
    minutes: until a peak is half an hour old, the limit stays where it was."""
    limit = OnDemandLimit()
    peak_second(limit, 0.0, reads=0.0, writes=3000.0)
    assert PEAK_AGE_MS == 30 * MINUTE
    assert limit.limit(1000.0).write == 4000.0
    assert limit.limit(29 * MINUTE).write == 4000.0
    assert limit.limit(30 * MINUTE + 1000.0).write == 6000.0


def test_the_peak_is_the_busiest_second_not_the_sum_of_them() -> None:
    """§4.5: the previous peak is a rate: 3,000 WRU in each of ten seconds is a peak of
    3,000, and consumption within one second adds up."""
    limit = OnDemandLimit()
    for second in range(10):
        limit.consumed("write", 1000.0, second * 1000.0)
        limit.consumed("write", 2000.0, second * 1000.0 + 500.0)
    assert limit.limit(PEAK_AGE_MS + 11_000.0).write == 6000.0


def test_a_table_sustaining_its_limit_may_double_again() -> None:
    """DG: a table that sustains 100,000 reads a second for 30 minutes can then take
    200,000: each peak, once old enough, doubles the limit."""
    limit = OnDemandLimit()
    peak_second(limit, 0.0, reads=50_000.0, writes=0.0)
    now = PEAK_AGE_MS + 1000.0
    assert limit.limit(now).read == 100_000.0
    peak_second(limit, now, reads=100_000.0, writes=0.0)
    assert limit.limit(now + PEAK_AGE_MS).read == 100_000.0
    assert limit.limit(now + PEAK_AGE_MS + 1000.0).read == 200_000.0


def test_a_quiet_table_keeps_the_initial_peak_as_its_floor() -> None:
    """DG: the initial previous peak is a floor: a table that only ever served 10 WRU a
    second still takes 4,000 at once."""
    limit = OnDemandLimit()
    peak_second(limit, 0.0, reads=30.0, writes=10.0)
    assert limit.limit(PEAK_AGE_MS + 1000.0) == Throughput(read=12_000.0, write=4000.0)


def test_gac_vends_an_on_demand_table_double_its_previous_peak() -> None:
    """§4.5: GAC protects the system for on-demand tables too: a new on-demand table's
    bucket fills at 12,000 RRU and 4,000 WRU a second, with one second kept, and its
    grants say so, so routers throttle it with ThrottlingException."""
    admission = GlobalAdmission()
    admission.set_table(TABLE, TableLimits(Throughput(0.0, 0.0), on_demand=True), 0.0)
    state = admission.state(0.0)[TABLE]
    assert (state["read"]["rate"], state["write"]["rate"]) == (12_000.0, 4000.0)
    assert state["write"]["tokens"] == pytest.approx(4000.0)
    demand = Throughput(read=0.0, write=10_000.0)
    grant = admission.vend("r1", TokenRequest(TABLE, Throughput(0.0, 0.0),
                                              Throughput(0.0, 0.0), demand), 0.0)
    assert grant.on_demand
    assert grant.tokens.write == pytest.approx(4000.0)  # double the peak, not the 10,000 asked


def test_gac_raises_an_on_demand_tables_limit_as_its_peak_ages() -> None:
    """§4.5: GAC follows the table's consumption, as its routers report it: 3,000 WRU
    used in a second becomes, 30 minutes on, a limit of 6,000."""
    admission = GlobalAdmission()
    admission.set_table(TABLE, TableLimits(Throughput(0.0, 0.0), on_demand=True), 0.0)
    none = Throughput(0.0, 0.0)
    used = Throughput(read=0.0, write=3000.0)
    admission.vend("r1", TokenRequest(TABLE, used, used, used), 500.0)
    admission.vend("r1", TokenRequest(TABLE, none, none, none), PEAK_AGE_MS + 2000.0)
    assert admission.state(PEAK_AGE_MS + 2000.0)[TABLE]["write"]["rate"] == 6000.0
