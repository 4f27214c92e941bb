"""A Scan pages across partitions and across splits: every item once (§3, §4.4).

A Scan walks the partitions of its segment in key order, and its
LastEvaluatedKey is a position in the hashed key space, so the next page
starts wherever that position lives by then. Here a table of 60 items is
scanned 4 items a page while a writer grows it with other keys, so that
partitions split between (and during) the pages, while a storage node
crashes and restarts: every item that was there before the scan began is
seen exactly once, and no item twice, across many seeds.
"""

from __future__ import annotations

from typing import Any

import pytest

from dynamo.contract import Reply
from dynamo.partitioning.fleet import FleetConfig, fleet_factories
from dynamo.paxos.operations import KV_TABLE, Ok, Put, Scan, Unavailable
from dynamo.paxos.replica import PaxosConfig
from dynamo.sim.clients import Client, ClientConfig
from dynamo.sim.faults import Fault
from dynamo.sim.network import NetworkConfig
from dynamo.sim.scenarios import PaxosAdapter
from dynamo.sim.simulator import Simulator

BEFORE, DURING, PAGE = 60, 120, 4


class Scanner:
    """Pages through the table with Limit=PAGE, following LastEvaluatedKey, retrying."""

    name = "scanner"

    def __init__(self, start_ms: float) -> None:
        self.start_ms = start_ms
        self.seen: list[str] = []
        self.pages = 0
        self.start_key: Any = None
        self.done = False
        self._request = 0  # the page being asked for; a timer token names the request

    def start(self, sim: Simulator) -> None:
        sim.client_timer(self.name, self.start_ms, self._request)

    def on_timer(self, sim: Simulator, token: int) -> None:
        if token == self._request and not self.done:
            self._ask(sim)  # the next page is due, or this one was never answered

    def on_reply(self, sim: Simulator, reply: Reply) -> None:
        if reply.request_id != self._request or self.done:
            return  # an answer to a request given up on
        result = reply.result
        if type(result) is Ok:
            page = result.value
            self.pages += 1
            self.seen += [item["k"]["S"] for item in page.items]
            self.start_key = page.last_evaluated_key
            self.done = self.start_key is None
        else:  # not served (the router's deadline passed): ask for the same page again
            assert type(result) is Unavailable or type(result).__name__ == "Indefinite", result
        self._request += 1
        sim.client_timer(self.name, 30.0, self._request)

    def _ask(self, sim: Simulator) -> None:
        self._request += 1
        arguments = (("limit", PAGE), ("exclusive_start_key", self.start_key))
        sim.submit(self.name, "r1", self._request, Scan(KV_TABLE, arguments, True))
        sim.client_timer(self.name, 1500.0, self._request)


def scan_while_splitting(seed: int) -> tuple[Scanner, set[str], int]:
    config = FleetConfig(routers=("r1",), split_size=300)
    sim = Simulator(seed, fleet_factories(config, PaxosConfig()),
                    network=NetworkConfig(reorder=0.05))
    quick = ClientConfig(timeout_ms=2000.0, think_ms=(1.0, 3.0), wander=0.0)
    sim.add_client(Client("loader", [Put(f"old{i}", "v") for i in range(BEFORE)],
                          PaxosAdapter(), ["r1"], sim.derive_rng(), quick))
    slow = ClientConfig(timeout_ms=2000.0, think_ms=(20.0, 40.0), wander=0.0, start_ms=4000.0)
    sim.add_client(Client("grower", [Put(f"new{i}", "v" * 8) for i in range(DURING)],
                          PaxosAdapter(), ["r1"], sim.derive_rng(), slow))
    scanner = Scanner(start_ms=4000.0)
    sim.add_client(scanner)
    crashed = sim.derive_rng().choice(config.storage_nodes)
    sim.schedule_fault(Fault(4500.0, "crash", (crashed,)))
    sim.schedule_fault(Fault(6000.0, "restart", (crashed,)))
    sim.start()
    while not scanner.done and sim.now < 30_000.0:
        sim.run(sim.now + 100.0)
    loaded = {r.key for r in sim.clients["loader"].records  # type: ignore[attr-defined]
              if r.outcome == "ok"}
    splits = {dict(a.detail)["partition"] for at, _, a in sim.announcements
              if a.kind == "partition_split" and at >= 4000.0}
    return scanner, loaded, len(splits)


@pytest.mark.parametrize("seed", range(20))
def test_a_scan_paging_across_splits_sees_every_item_once(seed: int) -> None:
    scanner, loaded, splits = scan_while_splitting(seed)
    assert scanner.done, f"seed {seed}: the scan did not finish"
    assert len(scanner.seen) == len(set(scanner.seen)), "an item was seen twice"
    old = {key for key in scanner.seen if key.startswith("old")}
    # Every acknowledged item is seen; one whose put had no answer may or may not exist.
    assert loaded <= old <= {f"old{i}" for i in range(BEFORE)}
    assert len(loaded) >= BEFORE - 5
    assert splits > 0, "nothing split while the scan ran"
    assert scanner.pages > BEFORE // PAGE
