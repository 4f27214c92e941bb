"""The token bucket, the unit of admission control in every era (§4).

Each partition's allocation is enforced as a token bucket: a bucket gains its
rate in tokens a second, up to its capacity, and a request is admitted while it
holds tokens. Each test
steps one `TokenBucket` on a virtual clock (milliseconds) and reads its level.
"""

from __future__ import annotations

import pytest

from dynamo.admission.token_bucket import TokenBucket


def empty(rate: float, capacity: float) -> TokenBucket:
    return TokenBucket(rate, capacity, tokens=0.0, updated_ms=0.0)


def test_a_bucket_refills_at_its_rate() -> None:
    """§4: a partition's bucket refills at its allocated rate: 10 tokens a second is 5
    in half a second and 30 in three seconds."""
    bucket = empty(rate=10.0, capacity=100.0)
    bucket.refill(500.0)
    assert bucket.tokens == pytest.approx(5.0)
    bucket.refill(3000.0)
    assert bucket.tokens == pytest.approx(30.0)


def test_a_bucket_never_holds_more_than_its_capacity_and_returns_the_spill_over() -> None:
    """§4.1.1: what a full bucket cannot hold spills over (bursting keeps it elsewhere)."""
    bucket = empty(rate=10.0, capacity=100.0)
    spilled = bucket.refill(60_000.0)  # 600 tokens earned
    assert bucket.tokens == 100.0
    assert spilled == pytest.approx(500.0)
    assert bucket.refill(61_000.0) == pytest.approx(10.0)  # full: all of it spills


def test_a_clock_that_goes_back_earns_no_tokens() -> None:
    """Contract rule 1: a node's clock never goes back; a bucket asked out of order gains
    nothing rather than taking tokens away."""
    bucket = empty(rate=10.0, capacity=100.0)
    bucket.refill(1000.0)
    bucket.refill(500.0)
    assert bucket.tokens == pytest.approx(10.0)
    bucket.refill(1500.0)
    assert bucket.tokens == pytest.approx(15.0)


def test_a_request_is_admitted_while_the_bucket_has_tokens() -> None:
    """§4: a request is admitted while the partition's bucket holds tokens."""
    bucket = TokenBucket.full(rate=1.0, capacity=1.0)
    assert bucket.has_tokens(0.0)
    bucket.spend(1.0, 0.0)
    assert not bucket.has_tokens(0.0)
    assert bucket.has_tokens(1.0)  # a thousandth of a token earned back


def test_a_request_that_cost_more_than_was_left_puts_the_bucket_in_debt() -> None:
    """Capacity units are known only once a request has run (a 3 KB write is 3 WCU): its
    cost is taken out after, into debt if need be."""
    bucket = TokenBucket.full(rate=10.0, capacity=10.0)
    bucket.spend(9.0, 0.0)
    bucket.spend(5.0, 0.0)
    assert bucket.tokens == pytest.approx(-4.0)


def test_debt_is_paid_back_before_anything_is_admitted_again() -> None:
    """Debt comes out of the next refills: 4 tokens owed at 10 a second admit nothing for
    400 ms, so over any stretch the bucket admits no more than its rate."""
    bucket = TokenBucket(rate=10.0, capacity=10.0, tokens=-4.0, updated_ms=0.0)
    assert not bucket.has_tokens(100.0)
    assert not bucket.has_tokens(390.0)
    assert bucket.has_tokens(410.0)


def test_take_never_goes_below_zero_and_says_how_much_it_took() -> None:
    """GAC vends only tokens the table's bucket holds: `take` hands out what is there."""
    bucket = TokenBucket(rate=0.0, capacity=10.0, tokens=4.0)
    assert bucket.take(3.0, 0.0) == pytest.approx(3.0)
    assert bucket.take(3.0, 0.0) == pytest.approx(1.0)
    assert bucket.take(3.0, 0.0) == 0.0
    assert bucket.tokens == 0.0


def test_tokens_added_beyond_capacity_are_returned() -> None:
    """A refund or a spill-over added to a nearly full bucket keeps what fits."""
    bucket = TokenBucket(rate=0.0, capacity=10.0, tokens=8.0)
    assert bucket.add(5.0) == pytest.approx(3.0)
    assert bucket.tokens == 10.0


def test_retune_keeps_the_tokens_earned_so_far() -> None:
    """UpdateTable changes a bucket's rate, not what it has already earned: tokens earned
    at the old rate stay, and the new rate applies from then on."""
    bucket = empty(rate=10.0, capacity=100.0)
    bucket.retune(rate=20.0, capacity=100.0, now_ms=2000.0)  # 20 earned at the old rate
    assert bucket.tokens == pytest.approx(20.0)
    bucket.refill(3000.0)
    assert bucket.tokens == pytest.approx(40.0)


def test_retune_to_a_smaller_bucket_keeps_only_what_fits() -> None:
    """Lowering a table's throughput shrinks its buckets: they hold no more than the new size."""
    bucket = TokenBucket.full(rate=100.0, capacity=100.0)
    bucket.retune(rate=5.0, capacity=5.0, now_ms=0.0)
    assert bucket.tokens == 5.0
    assert (bucket.rate, bucket.capacity) == (5.0, 5.0)
