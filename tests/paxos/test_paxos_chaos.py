"""Safety under message loss, duplication, reordering and crashes; determinism of a seed."""

from __future__ import annotations

import random

import pytest
from paxos_pump import Pump

from dynamo.paxos import ConditionalPut, Delete, Get, Ok, PaxosConfig, Put


def chaotic_run(seed: int) -> Pump:
    chaos = random.Random(seed)
    pump = Pump(seed=seed, chaos=chaos, config=PaxosConfig(snapshot_every=7))
    for step in range(120):
        node = chaos.choice(pump.ids)
        if node not in pump.down:
            key = f"k{chaos.randrange(3)}"
            op = chaos.choice([Put(key, f"v{step}"), Get(key), Delete(key),
                               ConditionalPut(key, f"v{step}", f"v{step - 1}")])
            pump.request(node, op)
        if chaos.random() < 0.04 and len(pump.down) < 1:
            pump.crash(chaos.choice(pump.ids))
        elif pump.down and chaos.random() < 0.1:
            pump.start(sorted(pump.down)[0])
        pump.advance(chaos.uniform(5, 60))
    for node in sorted(pump.down):
        pump.start(node)
    pump.chaos = None
    pump.advance(500)  # the last restarted replicas catch up
    pump.elect()  # (restarted grantors may hold back the lease for a while)
    return pump


@pytest.mark.parametrize("seed", range(6))
def test_replicas_agree_on_every_chosen_slot(seed: int) -> None:
    """Multi-Paxos safety (§3, §5.4): no two replicas ever apply different commands in one slot,
    one leader per ballot, and every replica converges to the same items."""
    pump = chaotic_run(seed)
    chosen: dict[int, object] = {}
    for _, node, announce in pump.kinds("committed"):
        detail = dict(announce.detail)
        for index, command in enumerate(detail["commands"], start=detail["first"]):
            assert chosen.setdefault(index, command) == command, (seed, index, node)
    leaders_per_ballot: dict[str, set[str]] = {}
    for _, node, announce in pump.kinds("elected"):
        leaders_per_ballot.setdefault(dict(announce.detail)["ballot"], set()).add(node)
    assert all(len(nodes) == 1 for nodes in leaders_per_ballot.values())
    items = [pump.nodes[n].kv_items() for n in pump.ids]
    assert items[0] == items[1] == items[2]
    leader = pump.leader()
    for key, value in items[0].items():
        assert pump.request(leader, Get(key)) == Ok(value)


def test_one_seed_one_run() -> None:
    """Determinism: the replicas draw only from the RNG they are handed, so a seed replays exactly."""
    first, second = chaotic_run(11), chaotic_run(11)
    assert [(t, n, a) for t, n, a in first.announces] == [(t, n, a) for t, n, a in second.announces]
    assert first.sent == second.sent
