"""Bursting: unused capacity kept for 300 seconds, spent while the node has room (§4.1.1).

"DynamoDB introduced the concept of bursting ... to tolerate temporal spikes
in workloads." A partition keeps the capacity it did not use, for up to 300
seconds, and may spend it once its allocation is exhausted. The storage node
has, per partition, two token buckets, the allocated one and the burst one,
and one bucket of its own:

* while the allocated bucket has tokens, a request is admitted, and its cost
  is taken from the allocated bucket and the node bucket;
* once the allocated tokens are exhausted, a request may burst only if both
  the burst bucket and the node bucket have tokens: a partition bursts only
  into capacity its storage node actually has to spare.

The allocated bucket holds one second of the allocation; what a full
allocated bucket cannot hold (capacity the partition had and did not use)
spills into the burst bucket, which holds 300 seconds of it. A new partition
starts with both full, as if it had been idle for five minutes.

(The paper also has writes that burst check the node buckets of the other
replicas' nodes; here the leader's node stands for the group.)
"""

from __future__ import annotations

from dataclasses import dataclass

from dynamo.admission.token_bucket import TokenBucket

BURST_SECONDS = 300.0
ALLOCATED = "allocated"
BURST = "burst"


@dataclass
class PartitionBuckets:
    """One partition's buckets for one kind of capacity (reads or writes)."""

    allocated: TokenBucket
    burst: TokenBucket | None  # None: no bursting (the static era)

    @classmethod
    def for_allocation(cls, rate: float, bursting: bool, now_ms: float) -> PartitionBuckets:
        burst = TokenBucket.full(0.0, rate * BURST_SECONDS, now_ms) if bursting else None
        return cls(TokenBucket.full(rate, rate, now_ms), burst)

    def refill(self, now_ms: float) -> None:
        """Refill the allocated bucket; what it cannot hold is kept as burst capacity."""
        # BEGIN ASSIGNMENT ch06-bursting: refill the allocated bucket, keep what spills over as burst
        spilled = self.allocated.refill(now_ms)
        if self.burst is not None:
            self.burst.add(spilled)
        # END ASSIGNMENT

    def admit(self, now_ms: float, node: TokenBucket | None) -> str | None:
        """Which bucket admits a request now (ALLOCATED, BURST), or None: throttle it."""
        # BEGIN ASSIGNMENT ch06-bursting: allocated tokens first, then burst while the burst and node buckets have tokens
        self.refill(now_ms)
        if self.allocated.tokens > 0:
            return ALLOCATED
        if self.burst is not None and self.burst.tokens > 0 and (
                node is None or node.has_tokens(now_ms)):
            return BURST
        return None
        # END ASSIGNMENT

    def charge(self, source: str, units: float, now_ms: float) -> None:
        """Take a request's cost out of the bucket that admitted it."""
        # BEGIN ASSIGNMENT ch06-bursting: refill, then take the cost from the bucket that admitted it
        self.refill(now_ms)
        if source == BURST and self.burst is not None:
            self.burst.tokens -= units
        else:
            self.allocated.tokens -= units
        # END ASSIGNMENT

    def reallocate(self, rate: float, now_ms: float) -> None:
        """A new allocation: the allocated bucket's rate, and 300 s of it as burst room."""
        self.refill(now_ms)
        self.allocated.retune(rate, rate, now_ms)
        if self.burst is not None:
            self.burst.retune(0.0, rate * BURST_SECONDS, now_ms)
