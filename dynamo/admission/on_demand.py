"""On-demand capacity: double the previous peak, at once (§4.5).

An on-demand table has no provisioned throughput. DynamoDB "instantly
accommodates up to double the previous peak traffic on the table", and
throttling can occur "if you exceed double your previous peak within 30
minutes" (Developer Guide, read/write capacity mode). A new table's previous
peak is taken as 6,000 read request units and 2,000 write request units a
second, so it serves 12,000 RRU and 4,000 WRU from the start.

`OnDemandLimit` keeps the table's peak, second by second: the limit at any
moment is double the highest one-second consumption seen at least 30 minutes
earlier (or the initial peak, whichever is higher). A table that runs at its
limit for 30 minutes has that as its new peak, and may double again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dynamo.admission.allocation import KINDS, Throughput

INITIAL_PEAK = Throughput(read=6000.0, write=2000.0)
PEAK_AGE_MS = 30 * 60 * 1000.0


@dataclass
class OnDemandLimit:
    """One on-demand table's limit, from the peaks it has reached."""

    initial: Throughput = INITIAL_PEAK
    age_ms: float = PEAK_AGE_MS
    peak: dict[str, float] = field(default_factory=lambda: {k: 0.0 for k in KINDS})
    # One-second consumption not yet 30 minutes old: (second, reads, writes).
    recent: list[tuple[int, float, float]] = field(default_factory=list)

    def consumed(self, kind: str, units: float, now_ms: float) -> None:
        """Record units consumed in the second `now_ms` falls in."""
        second = int(now_ms // 1000)
        if not self.recent or self.recent[-1][0] != second:
            self.recent.append((second, 0.0, 0.0))
        s, reads, writes = self.recent[-1]
        self.recent[-1] = (s, reads + (units if kind == "read" else 0.0),
                           writes + (units if kind == "write" else 0.0))

    def limit(self, now_ms: float) -> Throughput:
        """Units a second the table may take now: double its previous peak."""
        old_enough = (now_ms - self.age_ms) / 1000.0
        while self.recent and self.recent[0][0] + 1 <= old_enough:
            _, reads, writes = self.recent.pop(0)
            self.peak["read"] = max(self.peak["read"], reads)
            self.peak["write"] = max(self.peak["write"], writes)
        return Throughput(2 * max(self.initial.read, self.peak["read"]),
                          2 * max(self.initial.write, self.peak["write"]))
