"""The event stream: what happened in the cluster, numbered, newest kept.

Elections, lease changes, handoffs, crashes and faults are announced by the
nodes (`dynamo.contract.Announce`) and by the driver; the admin endpoint
serves them as newline-delimited JSON (`GET /admin/events`), and the
dashboard, the lab and the tests read them there (DESIGN, "Observability is a
feature"). Each event carries a sequence number and the wall-clock time.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

EVENTS_KEPT = 10_000


class EventLog:
    """The newest EVENTS_KEPT events, each with `seq` and `at` (seconds since the epoch)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.events: deque[dict[str, Any]] = deque(maxlen=EVENTS_KEPT)
        self.count = 0

    def append(self, event: dict[str, Any]) -> None:
        self.count += 1
        self.events.append({"seq": self.count, "at": round(self.clock(), 3), **event})

    def since(self, seq: int) -> list[dict[str, Any]]:
        """The events numbered above `seq`, oldest first."""
        return [e for e in self.events if e["seq"] > seq]
