"""Split for consumption, end to end in the simulator: storage nodes watch their traffic (§4.4).

A fleet whose storage nodes split a partition once its traffic stays above a
rate (`NodeConfig.split_rate`), with clients going through a request router:
the partition splits where its observed traffic divides, not in the middle of
its key range, and it does not split when one hot key carries the traffic.
"""

from __future__ import annotations

from typing import Any

from dynamo.contract import Announce
from dynamo.partitioning.fleet import FleetConfig, fleet_factories
from dynamo.paxos.operations import Get, Put
from dynamo.paxos.replica import PaxosConfig
from dynamo.sim.clients import Client, ClientConfig
from dynamo.sim.scenarios import PaxosAdapter
from dynamo.sim.simulator import Simulator
from dynamo.storage.keys import hash_position

RATE = 20.0  # requests per second a partition sustains before it splits
RUN_MS = 30_000.0


def position(key: str) -> int:
    return int.from_bytes(hash_position(key.encode()), "big")


def run_fleet(keys: list[str], clients: int = 4, seed: int = 7) -> tuple[Simulator, list[Any]]:
    config = FleetConfig(routers=("r1",), split_size=None, split_rate=RATE)
    sim = Simulator(seed, fleet_factories(config, PaxosConfig()))
    operations = [[Put(keys[(c + i) % len(keys)], f"c{c}.{i}") if i % 2 else
                   Get(keys[(c * 7 + i) % len(keys)]) for i in range(400)]
                  for c in range(clients)]
    client_config = ClientConfig(timeout_ms=2000.0, think_ms=(10.0, 30.0), wander=0.0)
    for c, ops in enumerate(operations):
        sim.add_client(Client(f"c{c}", ops, PaxosAdapter(), ["r1"], sim.derive_rng(),
                              client_config))
    sim.start()
    sim.run(RUN_MS)
    splits = [a for _, _, a in sim.announcements if a.kind == "partition_split"]
    return sim, splits


def split_at(announce: Announce) -> int:
    return int(dict(announce.detail)["position"], 16)


def test_a_hot_range_splits_where_its_traffic_divides() -> None:
    """§4.4: "The split point in the key range is chosen based on key distribution the
    partition has observed ... more effective than splitting the key range in the middle"."""
    lowest = sorted((position(f"key{i}"), f"key{i}") for i in range(200))[:8]
    keys = [key for _, key in lowest]  # eight keys, all in the lowest part of the key space
    _, splits = run_fleet(keys)
    assert splits, "the hot partition never split"
    first = split_at(splits[0])
    below = sum(1 for p, _ in lowest if p < first)
    assert 2 <= below <= 6  # the traffic divides about evenly between the children...
    assert first < (1 << 128) // 8  # ...far from the middle of the range


def test_a_single_hot_key_does_not_split() -> None:
    """§4.4: "partitions with high traffic to a single item ... are not split"."""
    sim, splits = run_fleet(["hot"])
    assert splits == []
    served = sum(1 for c in sim.clients.values() for r in c.records if r.outcome == "ok")
    assert served > 1000  # the traffic really was over the rate, for long
