"""The simulated network: loss, duplication, reordering, partitions (contract rule 4, §6.2)."""

from __future__ import annotations

from random import Random

import pytest
from sim_toys import NODES, ping_sim

from dynamo.sim.faults import Fault
from dynamo.sim.network import Network, NetworkConfig


def delivered(sim, src: str, dst: str, kind: str = "Ping") -> int:
    """How many `kind` messages from src were handed to dst."""
    return sum(1 for line in sim.trace.lines
               if line.split()[1] == "step" and line.split()[2] == dst
               and f"Receive(src='{src}', message={kind}(" in line)


def test_lossless_network_delivers_every_message_once() -> None:
    sim = ping_sim(1)
    sim.run(1000)
    assert sim.network.stats.lost == 0 and sim.network.stats.duplicated == 0
    # every ping a has sent and that had time to arrive was answered exactly once
    pings = delivered(sim, "a", "b")
    assert 80 <= pings <= 100
    assert sim.nodes["b"].snapshot()["answered"] == delivered(sim, "a", "b") + \
        delivered(sim, "c", "b")


def test_total_loss_delivers_nothing() -> None:
    sim = ping_sim(1, network=NetworkConfig(loss=1.0))
    sim.run(500)
    assert sim.network.stats.delivered == 0 and sim.network.stats.lost > 50


def test_loss_rate_is_respected() -> None:
    network = Network(NetworkConfig(loss=0.3), Random(5))
    arrivals = sum(len(network.transit("a", "b")) for _ in range(10_000))
    assert 6700 <= arrivals <= 7300


def test_duplication_delivers_twice() -> None:
    network = Network(NetworkConfig(duplicate=1.0), Random(5))
    assert all(len(network.transit("a", "b")) == 2 for _ in range(100))


def test_constant_latency_keeps_order_and_reordering_breaks_it() -> None:
    fifo = Network(NetworkConfig(distribution="constant", latency_ms=3), Random(1))
    sent_at = list(range(100))
    arrivals = [t + fifo.transit("a", "b")[0] for t in sent_at]
    assert arrivals == sorted(arrivals)
    mixed = Network(NetworkConfig(distribution="constant", latency_ms=3, reorder=0.3,
                                  reorder_ms=5), Random(1))
    arrivals = [t + mixed.transit("a", "b")[0] for t in sent_at]
    assert arrivals != sorted(arrivals)


def test_latency_distributions_stay_within_their_shape() -> None:
    uniform = Network(NetworkConfig(distribution="uniform", latency_ms=2, jitter_ms=3), Random(2))
    delays = [uniform.transit("a", "b")[0] for _ in range(1000)]
    assert min(delays) >= 2 and max(delays) <= 5
    expo = Network(NetworkConfig(latency_ms=1, jitter_ms=4), Random(2))
    mean = sum(expo.transit("a", "b")[0] for _ in range(5000)) / 5000
    assert 4.6 <= mean <= 5.4


def test_bad_probabilities_are_refused() -> None:
    with pytest.raises(ValueError, match="loss is a probability"):
        NetworkConfig(loss=1.5)


def test_symmetric_partition_cuts_both_directions_until_healed() -> None:
    faults = [Fault(0, "partition", ("a",), ("b", "c")), Fault(500, "heal")]
    sim = ping_sim(2, faults=faults)
    sim.run(499)
    assert delivered(sim, "a", "b") == delivered(sim, "b", "a") == 0
    assert delivered(sim, "b", "c") > 30
    sim.run(1000)
    assert delivered(sim, "a", "b") > 30 and delivered(sim, "b", "a") > 30


def test_one_way_partition_is_a_gray_failure() -> None:
    """a's messages to b are lost, yet b still reaches a: b's pings arrive but
    a's pongs never come back (§6.2's one-directional faults)."""
    sim = ping_sim(3, faults=[Fault(0, "one_way", ("a",), ("b",))])
    sim.run(500)
    assert delivered(sim, "a", "b") == 0
    assert delivered(sim, "b", "a") > 30
    assert delivered(sim, "a", "b", "Pong") == 0
    assert delivered(sim, "a", "c", "Pong") > 30
    assert sorted(NODES) == ["a", "b", "c"]
