"""Tiny sans-IO nodes that exercise the simulator without any real protocol."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dynamo.contract import (
    Announce,
    CancelTimer,
    ClientRequest,
    Effect,
    Message,
    NodeFactory,
    Persist,
    Receive,
    Reply,
    Rng,
    Send,
    SetTimer,
    Start,
    TimerFired,
)
from dynamo.sim.faults import Fault
from dynamo.sim.network import NetworkConfig
from dynamo.sim.simulator import Simulator


@dataclass(frozen=True)
class Ping(Message):
    seq: int
    tags: frozenset[str]


@dataclass(frozen=True)
class Pong(Message):
    seq: int


class PingNode:
    """Pings every peer every 10 ms (with a random jitter); answers pings with pongs.

    It persists each pong it receives, and keeps a volatile count of pings it
    answered that a crash loses.
    """

    def __init__(self, node_id: str, peers: Sequence[str], records: Sequence[Any],
                 rng: Rng) -> None:
        self._id = node_id
        self.peers = [p for p in peers if p != node_id]
        self.rng = rng
        self.pongs = list(records)
        self.answered = 0
        self.seq = 0
        self.local_times: list[float] = []

    @property
    def id(self) -> str:
        return self._id

    def step(self, now_ms: float, event: Any) -> list[Effect]:
        self.local_times.append(now_ms)
        if isinstance(event, Start):
            return [SetTimer("ping", 10 + self.rng.uniform(0, 2))]
        if isinstance(event, TimerFired):
            self.seq += 1
            tags = frozenset({f"t{i}" for i in range(5)})
            sends: list[Effect] = [Send(p, Ping(self.seq, tags)) for p in self.peers]
            return sends + [SetTimer("ping", 10 + self.rng.uniform(0, 2))]
        if isinstance(event, Receive) and isinstance(event.message, Ping):
            self.answered += 1
            return [Send(event.src, Pong(event.message.seq))]
        if isinstance(event, Receive) and isinstance(event.message, Pong):
            record = (event.src, event.message.seq)
            self.pongs.append(record)
            return [Persist(record), Announce("pong", (("from", event.src),))]
        return []

    def snapshot(self) -> dict[str, Any]:
        return {"id": self._id, "pongs": len(self.pongs), "answered": self.answered}


def ping_factory(peers: Sequence[str]) -> NodeFactory:
    return lambda node_id, records, rng: PingNode(node_id, peers, records, rng)


class CounterNode:
    """Counts client increments: persists each before replying (contract rule 2)."""

    def __init__(self, node_id: str, records: Sequence[Any]) -> None:
        self._id = node_id
        self.count = len(records)
        self.volatile = 0
        self.fired: list[str] = []

    @property
    def id(self) -> str:
        return self._id

    def step(self, now_ms: float, event: Any) -> list[Effect]:
        if isinstance(event, ClientRequest):
            if event.operation == "incr":
                self.count += 1
                self.volatile += 1
                return [Persist(self.count), Reply(event.client, event.request_id, self.count)]
            if event.operation == "remember":  # changes memory only, persists nothing
                self.volatile += 1
                return [Reply(event.client, event.request_id, self.volatile)]
            if event.operation.startswith("timer:"):
                _, name, delay = event.operation.split(":")
                return [SetTimer(name, float(delay))]
            if event.operation.startswith("cancel:"):
                return [CancelTimer(event.operation.split(":")[1])]
        if isinstance(event, TimerFired):
            self.fired.append(event.name)
        return []

    def snapshot(self) -> dict[str, Any]:
        return {"id": self._id, "count": self.count, "volatile": self.volatile}


def counter_factory(node_id: str, records: Sequence[Any], rng: Rng) -> CounterNode:
    return CounterNode(node_id, records)


class ScriptClient:
    """Sends scripted operations at given times; keeps every reply."""

    def __init__(self, name: str, script: Sequence[tuple[float, str, Any]]) -> None:
        self.name = name
        self.script = list(script)
        self.replies: list[tuple[float, Any]] = []

    def start(self, sim: Simulator) -> None:
        for token, (at, _, _) in enumerate(self.script):
            sim.client_timer(self.name, at, token)

    def on_timer(self, sim: Simulator, token: int) -> None:
        _, node, operation = self.script[token]
        sim.submit(self.name, node, token, operation)

    def on_reply(self, sim: Simulator, reply: Reply) -> None:
        self.replies.append((sim.now, reply.result))


NODES = ["a", "b", "c"]


def ping_sim(seed: int, *, network: NetworkConfig | None = None, faults: Sequence[Fault] = (),
             max_drift: float = 0.0, trace: bool = True) -> Simulator:
    factory = ping_factory(NODES)
    sim = Simulator(seed, {n: factory for n in NODES}, network=network, faults=faults,
                    max_drift=max_drift, trace=trace)
    sim.start()
    return sim


def trace_of(seed: int) -> str:
    """The trace of a ping run with every network fault and a crash."""
    network = NetworkConfig(loss=0.1, duplicate=0.1, reorder=0.2)
    faults = [Fault(50, "crash", ("b",)), Fault(120, "restart", ("b",)),
              Fault(150, "one_way", ("a",), ("c",)), Fault(250, "heal")]
    sim = ping_sim(seed, network=network, faults=faults, max_drift=0.01)
    sim.run(300)
    return sim.trace.text()
