"""The token bucket: the unit of admission control in every era (§4).

A token bucket holds up to `capacity` tokens and gains `rate` tokens a second.
A request is admitted while the bucket has tokens; what it cost, in capacity
units (`dynamo.storage.capacity`), is taken out afterwards, because a
request's cost is known only once it has run (a GetItem of a missing item
costs 1 RCU, of a 9 KB item 3). So a bucket may go below zero: that debt is
paid back out of the next refills before anything else is admitted, and over
any long stretch the bucket admits no more than `rate` units a second plus
what it held at the start.

The bucket keeps no clock of its own (sans-IO, like every node): each call
passes the time, in milliseconds, and the bucket refills for the time gone by.
What a full bucket cannot hold spills over; §4.1.1's bursting keeps that
spill-over in a second bucket instead of losing it (`refill`'s return value).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TokenBucket:
    """Up to `capacity` tokens, refilled at `rate` tokens a second."""

    rate: float
    capacity: float
    tokens: float
    updated_ms: float = 0.0

    @classmethod
    def full(cls, rate: float, capacity: float, now_ms: float = 0.0) -> TokenBucket:
        """A bucket that starts with every token it can hold."""
        return cls(rate, capacity, capacity, now_ms)

    def refill(self, now_ms: float) -> float:
        """Add the tokens earned since the last call; return those that did not fit."""
        earned = self.rate * max(0.0, now_ms - self.updated_ms) / 1000.0
        self.updated_ms = max(self.updated_ms, now_ms)
        self.tokens += earned
        spilled = max(0.0, self.tokens - self.capacity)
        self.tokens -= spilled
        return spilled

    def has_tokens(self, now_ms: float) -> bool:
        """Whether a request may be admitted now."""
        self.refill(now_ms)
        return self.tokens > 0

    def spend(self, units: float, now_ms: float) -> None:
        """Take a request's cost out, into debt if need be."""
        self.refill(now_ms)
        self.tokens -= units

    def take(self, units: float, now_ms: float) -> float:
        """Take up to `units` out without going below zero; return how many were taken."""
        self.refill(now_ms)
        taken = min(units, max(0.0, self.tokens))
        self.tokens -= taken
        return taken

    def add(self, units: float) -> float:
        """Put tokens in (a refund, a spill-over); return those that did not fit."""
        self.tokens += units
        spilled = max(0.0, self.tokens - self.capacity)
        self.tokens -= spilled
        return spilled

    def retune(self, rate: float, capacity: float, now_ms: float) -> None:
        """Change the rate and size, keeping the tokens earned so far (up to the new size)."""
        self.refill(now_ms)
        self.rate, self.capacity = rate, capacity
        self.tokens = min(self.tokens, capacity)
