"""Virtual time: one global clock that jumps, and a drifting local clock per node.

The simulator's clock is *virtual*: nothing waits. When every node is idle the
clock jumps straight to the next event (a delivery, a timer), as trio's
MockClock does, so a run of many simulated seconds takes milliseconds.

Real machines' clocks do not agree, and lease-based protocols must survive
that: a leader's lease is safe only if the followers' idea of "lease expired"
comes no earlier than the leader's, allowing for drift (§6.2 and the lease
discussion in §3: a new leader waits out the old leader's lease). Each node
here gets a clock that runs at its own rate, within a bound ε of real time:

    local(t) = rate · t,  with 1 - ε <= rate <= 1 + ε

so over any interval a node measures a duration within a fraction ε of the
true one. Clocks never go backwards, and a node's clock keeps running through
a crash, as a machine's does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from random import Random


@dataclass(frozen=True)
class DriftingClock:
    """A node's clock: `rate` local milliseconds per real millisecond."""

    rate: float = 1.0

    def local(self, global_ms: float) -> float:
        """What the node reads at real time `global_ms`."""
        return global_ms * self.rate

    def to_global(self, local_ms: float) -> float:
        """The real time at which the node's clock reads `local_ms`."""
        return local_ms / self.rate

    def deadline(self, global_now: float, local_delay_ms: float) -> float:
        """The real time at which a timer set now for `local_delay_ms` fires.

        Floating point rounding must not let it fire early by the node's own
        clock (contract rule 5): a node that re-arms a timer for the last
        1e-13 ms it measured would otherwise be woken at the same instant
        forever. So step up to the first representable time that is late
        enough.
        """
        start = self.local(global_now)
        target = start + local_delay_ms
        if local_delay_ms > 0:
            target = max(target, math.nextafter(start, math.inf))
        at = max(global_now, self.to_global(target))
        while self.local(at) < target:
            at = math.nextafter(at, math.inf)
        return at


def drifting_clocks(node_ids: list[str], max_drift: float, rng: Random) -> dict[str, DriftingClock]:
    """One clock per node, each with a rate drawn within [1 - ε, 1 + ε].

    One node (chosen by the seed) runs as slow as allowed and another as fast
    as allowed, so every run exercises the worst pair.
    """
    if not 0 <= max_drift < 1:
        raise ValueError(f"max_drift must be in [0, 1), got {max_drift}")
    clocks = {}
    for i, node in enumerate(rng.sample(node_ids, len(node_ids))):
        if i == 0:
            rate = 1 - max_drift
        elif i == 1:
            rate = 1 + max_drift
        else:
            rate = rng.uniform(1 - max_drift, 1 + max_drift)
        clocks[node] = DriftingClock(rate)
    return {node: clocks[node] for node in node_ids}
