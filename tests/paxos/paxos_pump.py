"""A tiny message pump that steps Paxos replicas by hand, for unit tests.

Not the simulator: one virtual clock shared by every replica, messages
delivered in FIFO order (or shuffled, duplicated and dropped when a seeded
`chaos` RNG is given), timers fired in due order, crashes that keep exactly
the persisted records. Small enough to read beside each test.
"""

from __future__ import annotations

import random
from collections import deque
from typing import Any

from dynamo.contract import (
    Announce,
    CancelTimer,
    ClientRequest,
    Persist,
    Receive,
    Reply,
    Send,
    SetTimer,
    Start,
    TimerFired,
)
from dynamo.paxos import PaxosConfig, Replica


class Pump:
    def __init__(
        self,
        ids: tuple[str, ...] = ("a", "b", "c"),
        config: PaxosConfig | None = None,
        seed: int = 1,
        chaos: random.Random | None = None,
        members: tuple[str, ...] | None = None,
        replica_class: type[Replica] = Replica,
    ) -> None:
        self.ids = ids
        self.replica_class = replica_class
        self.members = members or ids
        self.config = config or PaxosConfig()
        self.seed = seed
        self.chaos = chaos
        self.now = 0.0
        self.records: dict[str, list[Any]] = {i: [] for i in ids}
        self.nodes: dict[str, Replica] = {}
        self.timers: dict[str, dict[str, float]] = {}
        self.queue: deque[tuple[str, str, Any]] = deque()
        self.down: set[str] = set()
        self.blocked: set[tuple[str, str]] = set()
        self.drop_types: set[type] = set()
        self.replies: dict[tuple[str, int], Any] = {}
        self.announces: list[tuple[float, str, Announce]] = []
        self.sent: list[tuple[str, str, Any]] = []
        self.next_request = 0
        for node in ids:
            self.start(node)

    # --- lifecycle ---------------------------------------------------------

    def start(self, node: str) -> None:
        rng = random.Random(f"{self.seed}/{node}/{len(self.records[node])}")
        self.nodes[node] = self.replica_class(node, self.members, list(self.records[node]), rng,
                                              self.config)
        self.timers[node] = {}
        self.down.discard(node)
        self.run(node, Start())

    def add_node(self, node: str) -> None:
        self.records[node] = []
        self.ids = (*self.ids, node)
        self.start(node)

    def crash(self, node: str) -> None:
        self.down.add(node)
        self.timers[node] = {}

    def isolate(self, node: str) -> None:
        for other in self.ids:
            if other != node:
                self.blocked |= {(node, other), (other, node)}

    def heal(self) -> None:
        self.blocked.clear()

    # --- stepping ----------------------------------------------------------

    def run(self, node: str, event: Any) -> None:
        for effect in self.nodes[node].step(self.now, event):
            kind = type(effect)
            if kind is Send:
                self.sent.append((node, effect.dst, effect.message))
                self.queue.append((node, effect.dst, effect.message))
            elif kind is SetTimer:
                self.timers[node][effect.name] = self.now + effect.delay_ms
            elif kind is CancelTimer:
                self.timers[node].pop(effect.name, None)
            elif kind is Persist:
                self.records[node].append(effect.record)
            elif kind is Reply:
                self.replies[(effect.client, effect.request_id)] = effect.result
            elif kind is Announce:
                self.announces.append((self.now, node, effect))

    def deliver(self) -> None:
        """Deliver every queued message (and whatever they cause) at the current time."""
        steps = 0
        while self.queue:
            steps += 1
            assert steps < 200_000, "message storm"
            if self.chaos is not None:
                self._disorder()
                if not self.queue:
                    break
            src, dst, message = self.queue.popleft()
            if dst in self.down or src in self.down or (src, dst) in self.blocked:
                continue
            if type(message) in self.drop_types:
                continue
            self.run(dst, Receive(src, message))

    def _disorder(self) -> None:
        chaos = self.chaos
        assert chaos is not None
        if len(self.queue) > 1 and chaos.random() < 0.3:
            self.queue.rotate(-chaos.randrange(len(self.queue)))
        if chaos.random() < 0.05:
            self.queue.popleft()  # lost
        elif self.queue and chaos.random() < 0.05:
            self.queue.append(self.queue[0])  # duplicated

    def advance(self, ms: float) -> None:
        """Let `ms` of time pass, firing timers as they fall due."""
        target = self.now + ms
        while True:
            self.deliver()
            due = [(t, n, name) for n, ts in self.timers.items() for name, t in ts.items()
                   if n not in self.down]
            if not due:
                break
            when, node, name = min(due)
            if when > target:
                break
            self.now = max(self.now, when)
            del self.timers[node][name]
            self.run(node, TimerFired(name))
        self.now = target

    # --- clients -----------------------------------------------------------

    def request(self, node: str, operation: Any, wait_ms: float = 0.0) -> Any:
        """Send one client request to `node`; its answer, or None if none came."""
        self.next_request += 1
        key = ("client", self.next_request)
        self.run(node, ClientRequest("client", self.next_request, operation))
        self.deliver()
        if wait_ms:
            self.advance(wait_ms)
        return self.replies.get(key)

    # --- looking ------------------------------------------------------------

    def leaders(self) -> list[str]:
        return [n for n in self.ids if n not in self.down and self.nodes[n].role == "leader"]

    def leader(self) -> str:
        leaders = self.leaders()
        assert len(leaders) == 1, f"expected one leader, got {leaders}"
        return leaders[0]

    def followers(self) -> list[str]:
        return [n for n in self.ids if n not in self.down and self.nodes[n].role != "leader"]

    def kinds(self, kind: str, node: str | None = None) -> list[tuple[float, str, Announce]]:
        return [a for a in self.announces if a[2].kind == kind and (node is None or a[1] == node)]

    def elect(self, max_ms: float = 3000.0) -> str:
        """Advance until some replica is leader and holds its lease."""
        for _ in range(int(max_ms / 10)):
            self.advance(10)
            leaders = self.leaders()
            if len(leaders) == 1 and self.nodes[leaders[0]].leader.lease.holds(self.now):
                return leaders[0]
        raise AssertionError("no leader with a lease")
