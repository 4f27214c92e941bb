"""The simulated network: latency, loss, duplication, reordering and partitions.

Contract rule 4 says a message may be lost, delayed, duplicated or reordered,
never corrupted; this network does each of those on purpose, drawing every
choice from the simulator's seeded generator so a run can be replayed.

Partitions are sets of blocked *directed* links. A symmetric partition blocks
both directions; a one-way partition blocks only one, which is how the gray
failures of §6.2 look from inside a replication group: a leader whose
heartbeats still arrive but who never hears its followers' replies, or a
follower that stops hearing the leader while the leader still hears it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from random import Random

DISTRIBUTIONS = ("constant", "uniform", "exponential")


@dataclass(frozen=True)
class NetworkConfig:
    """How links behave when they are up.

    Attributes:
        latency_ms: the least one-way delay.
        jitter_ms: spread on top of it (the mean extra delay for "exponential",
            the width for "uniform", unused for "constant").
        distribution: "constant", "uniform" or "exponential".
        loss: probability a message is dropped.
        duplicate: probability a message is delivered twice.
        reorder: probability a message is held back an extra `reorder_ms`,
            so that messages sent after it overtake it.
        reorder_ms: that extra delay.
    """

    latency_ms: float = 1.0
    jitter_ms: float = 1.0
    distribution: str = "exponential"
    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    reorder_ms: float = 10.0

    def __post_init__(self) -> None:
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {DISTRIBUTIONS}")
        for name in ("loss", "duplicate", "reorder"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} is a probability, got {getattr(self, name)}")


@dataclass
class NetworkStats:
    """What the network did to messages, for the run's summary."""

    sent: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    reordered: int = 0
    blocked: int = 0


@dataclass
class Network:
    """Links between endpoints (node ids, client names) and their faults."""

    config: NetworkConfig
    rng: Random
    blocked: set[tuple[str, str]] = field(default_factory=set)
    stats: NetworkStats = field(default_factory=NetworkStats)

    def transit(self, src: str, dst: str, may_duplicate: bool = True) -> list[float]:
        """The delays after which copies of one message arrive; [] if none does.

        Client requests and replies travel over a connection (HTTP in
        DynamoDB): they can be lost or late, but never delivered twice, so
        the simulator passes may_duplicate=False for them.
        """
        self.stats.sent += 1
        if (src, dst) in self.blocked:
            self.stats.blocked += 1
            return []
        config, rng = self.config, self.rng
        if config.loss and rng.random() < config.loss:
            self.stats.lost += 1
            return []
        copies = 1
        if may_duplicate and config.duplicate and rng.random() < config.duplicate:
            self.stats.duplicated += 1
            copies = 2
        delays = []
        for _ in range(copies):
            delay = self._latency()
            if config.reorder and rng.random() < config.reorder:
                self.stats.reordered += 1
                delay += config.reorder_ms
            delays.append(delay)
        return delays

    def _latency(self) -> float:
        config = self.config
        if config.distribution == "constant":
            return config.latency_ms
        if config.distribution == "uniform":
            return config.latency_ms + self.rng.random() * config.jitter_ms
        return config.latency_ms + self.rng.expovariate(1.0 / config.jitter_ms)

    # --- partitions -------------------------------------------------------

    def partition(self, side: Iterable[str], others: Iterable[str]) -> None:
        """Cut every link between `side` and `others`, both ways."""
        side, others = list(side), list(others)
        self.one_way(side, others)
        self.one_way(others, side)

    def one_way(self, sources: Iterable[str], destinations: Iterable[str]) -> None:
        """Cut the links from each source to each destination, one way only."""
        destinations = list(destinations)
        for src in sources:
            for dst in destinations:
                if src != dst:
                    self.blocked.add((src, dst))

    def heal(self) -> None:
        """Restore every link."""
        self.blocked.clear()
