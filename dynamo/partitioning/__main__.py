"""`python -m dynamo.partitioning`: a table grows, splits, and the routers follow (§3, §4.4, §6.6).

Three storage nodes, two request routers and the metadata service (MemDS)
run in the deterministic simulator. The table starts as one partition, `p`,
with a replica on each storage node. Three clients write and read keys
through the routers; every partition whose items pass `--split-size` bytes
is split through its own log, and its children (`p0`, `p1`, then `p00` ...)
are new replication groups on the same nodes. The story printed:

* each split: when, the parent, where in the hashed key space, and how many
  of the parent's items each child starts from;
* each version of the table's partition map that MemDS derives from the
  storage nodes' reports, with the leader it knows for each partition;
* how the routers followed: they ask MemDS for the map once per request
  (constant work), and a request that reached a parent after its split was
  answered `WrongPartition`, re-routed by a newer map and retried at a child.

It ends with the history checker's verdict: every key's history is
linearizable, and a final read of every key finds no acknowledged write lost.
`--faults` also crashes the storage node that leads the most partitions
mid-run, and restarts it later. The same seed prints the same story.

(Only this module of dynamo.partitioning imports a driver and the checker:
the demo needs them, the layer's nodes never do.)
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dynamo.checker import as_history, check, no_lost_acknowledged_writes
from dynamo.contract import Announce, ClientRequest, Effect, Event, NodeId, Receive, Rng
from dynamo.partitioning.fleet import METADATA, FleetConfig, fleet_factories
from dynamo.partitioning.messages import Forwarded
from dynamo.partitioning.metadata import MetadataService
from dynamo.partitioning.partition_map import PartitionMap
from dynamo.partitioning.partition_store import WrongPartition
from dynamo.partitioning.router import RequestRouter, RouterConfig
from dynamo.partitioning.storage_node import StorageNode
from dynamo.paxos.operations import KV_TABLE, Get, Put
from dynamo.paxos.replica import PaxosConfig
from dynamo.sim.clients import Client, ClientConfig, OpRecord
from dynamo.sim.scenarios import PaxosAdapter
from dynamo.sim.simulator import Simulator

TABLE = KV_TABLE.tbl
STORAGE_NODES = ("n1", "n2", "n3")
CLIENTS, OPERATIONS, KEYS = 3, 60, 150
CRASH_MS, RESTART_MS, FINAL_READ_MS, END_MS = 1500.0, 3000.0, 4500.0, 12_000.0


@dataclass(frozen=True)
class Redirect:
    """A request answered `WrongPartition`: its partition had split (or had no replica on
    that node yet), so the map it was routed by is stale."""

    router: NodeId
    operation: Any
    partition: str
    routed_by: int  # the map version the request was routed by
    cached: int  # the router's map version once it had the answer


class WatchedRouter(RequestRouter):
    """A request router that counts its requests and notes each `WrongPartition` it is
    answered, for the story; it routes as any other."""

    def __init__(self, id: NodeId, rng: Rng, config: RouterConfig | None = None) -> None:
        super().__init__(id, rng, config)
        self.requests = 0
        self.redirects: list[Redirect] = []  # since the Watch last took them

    def step(self, now_ms: float, event: Event) -> list[Effect]:
        if type(event) is ClientRequest:
            self.requests += 1
        redirected = self._redirected(event)
        effects = super().step(now_ms, event)
        if redirected is not None:
            operation, partition, version = redirected
            self.redirects.append(Redirect(self.id, operation, partition, version,
                                           self.cache[TABLE].version))
        return effects

    def _redirected(self, event: Event) -> tuple[Any, str, int] | None:
        """The operation a `WrongPartition` answers, its partition and the map version it
        was routed by (None for any other event, or an answer to an abandoned attempt)."""
        if type(event) is not Receive or type(event.message) is not Forwarded:
            return None
        answer = event.message
        pending = self.pending.get(self.attempts.get(answer.request_id, -1))
        if type(answer.result) is not WrongPartition or pending is None \
                or pending.attempt != answer.request_id:
            return None
        return pending.operation, answer.result.partition, pending.version


@dataclass(frozen=True)
class SplitSeen:
    """One split, as the first node to make its children saw it."""

    at_ms: float
    parent: str
    position: int
    children: tuple[tuple[str, int, int], ...]  # (child, items, bytes) it starts from


@dataclass
class Watch:
    """An observer of the run: splits, versions of the table's map, and redirected
    requests, each at the simulated time it happened (a node's own clock drifts)."""

    splits: list[SplitSeen] = field(default_factory=list)
    maps: list[tuple[float, PartitionMap]] = field(default_factory=list)
    redirects: list[tuple[float, Redirect]] = field(default_factory=list)

    def after_step(self, sim: Simulator, node_id: NodeId, effects: Sequence[Effect]) -> None:
        node = sim.nodes[node_id]
        if isinstance(node, MetadataService):
            table_map = node.maps.get(TABLE)
            if table_map is not None and (not self.maps or self.maps[-1][1] != table_map):
                self.maps.append((sim.now, table_map))
        elif isinstance(node, WatchedRouter):
            self.redirects += [(sim.now, redirect) for redirect in node.redirects]
            node.redirects.clear()
        for effect in effects:
            if type(effect) is Announce and effect.kind == "partition_split":
                detail = dict(effect.detail)
                if not any(s.parent == detail["partition"] for s in self.splits):
                    self.splits.append(self._seen(sim, node_id, detail))

    @staticmethod
    def _seen(sim: Simulator, node_id: NodeId, detail: dict[str, Any]) -> SplitSeen:
        """The children have just been seeded from the parent's items in each half."""
        node = sim.nodes[node_id]
        assert isinstance(node, StorageNode)
        children = tuple((child, node.store(child).btree.count(TABLE),
                          node.store(child).btree.size(TABLE)) for child in detail["children"])
        return SplitSeen(sim.now, detail["partition"], int(detail["position"], 16), children)


@dataclass
class Run:
    """What the demo's run produced."""

    sim: Simulator
    watch: Watch
    records: list[OpRecord]  # the clients', then the final reader's
    final: dict[str, str | None]
    crashed: NodeId | None = None
    led: tuple[str, ...] = ()  # what the crashed node led when it crashed


def workload(rng: Rng) -> dict[str, list[Any]]:
    """Each client's operations: puts and strong reads of keys drawn from KEYS."""
    plans = {}
    for c in range(1, CLIENTS + 1):
        keys = [f"k{rng.randrange(KEYS)}" for _ in range(OPERATIONS)]
        plans[f"c{c}"] = [Put(key, f"c{c}.{i}") if rng.random() < 0.75 else Get(key)
                          for i, key in enumerate(keys)]
    return plans


def run_fleet(seed: int, split_size: int, faults: bool = False) -> Run:
    """Run the fleet with the clients (and, with `faults`, a storage node crash)."""
    config = PaxosConfig()
    fleet = FleetConfig(storage_nodes=STORAGE_NODES, split_size=split_size)
    factories = fleet_factories(fleet, config)
    factories.update({r: lambda id, records, rng: WatchedRouter(id, rng, fleet.router)
                      for r in fleet.routers})
    sim = Simulator(seed, factories, max_drift=config.max_drift)
    watch = Watch()
    sim.add_observer(watch)
    patient = ClientConfig(timeout_ms=2000.0, retry_ms=20.0, think_ms=(10.0, 40.0), wander=0.0)
    clients = [Client(name, ops, PaxosAdapter(), list(fleet.routers), sim.derive_rng(), patient)
               for name, ops in workload(sim.derive_rng()).items()]
    keys = sorted({op.key for c in clients for op in c.operations}, key=lambda k: int(k[1:]))
    reader = Client("final", [Get(k) for k in keys], PaxosAdapter(), list(fleet.routers),
                    sim.derive_rng(), ClientConfig(timeout_ms=2000.0, retry_ms=20.0,
                                                   think_ms=(1.0, 2.0), start_ms=FINAL_READ_MS))
    for client in [*clients, reader]:
        sim.add_client(client)
    sim.start()
    crashed, led = None, ()
    if faults:
        sim.run(CRASH_MS)
        crashed = busiest_leader(sim, STORAGE_NODES)
        led = tuple(leading(sim, crashed))
        sim.crash(crashed)
        sim.run(RESTART_MS)
        sim.restart(crashed)
    while sim.now < END_MS and not reader.finished:
        sim.run(sim.now + 100.0)
    records = [r for c in clients for r in c.records] + reader.records
    final = {r.key: r.read_value for r in reader.records if r.outcome == "ok"}
    return Run(sim, watch, records, final, crashed, led)


def busiest_leader(sim: Simulator, nodes: Sequence[NodeId]) -> NodeId:
    """The storage node leading the most partitions now (on a tie, the first)."""
    return max(nodes, key=lambda node_id: len(leading(sim, node_id)))


def leading(sim: Simulator, node_id: NodeId) -> list[str]:
    """The live partitions (not split) a storage node leads, by name."""
    node = sim.nodes[node_id]
    assert isinstance(node, StorageNode)
    return sorted(p for p, replica in node.replicas.items()
                  if replica.leader is not None and node.store(p).split is None)


def routers(run: Run) -> list[WatchedRouter]:
    """The fleet's request routers, r1 first."""
    return [n for n in run.sim.nodes.values() if isinstance(n, WatchedRouter)]


def story(run: Run) -> list[tuple[float, str]]:
    """Splits, map versions, redirected requests and the crash, in time order."""
    lines = []
    for split in run.watch.splits:
        (left, items, size), (right, right_items, right_size) = split.children
        lines.append((split.at_ms, f"{split.parent} splits at {split.position:032x}: {left} "
                                   f"starts from {items} items ({size} B), {right} from "
                                   f"{right_items} ({right_size} B)"))
    for at, table_map in run.watch.maps:
        partitions = " ".join(f"{p.id}@{p.leader or '?'}" for p in table_map.partitions)
        lines.append((at, f"   map v{table_map.version}: {partitions}"))
    for at, r in run.watch.redirects:
        then = (f"retried by map v{r.cached}" if r.cached > r.routed_by
                else "it asks MemDS for a newer map")
        lines.append((at, f"      {r.router}: {type(r.operation).__name__} {r.operation.key} "
                          f"routed by map v{r.routed_by} to {r.partition}: WrongPartition; "
                          f"{then}"))
    if run.crashed is not None:
        lines += [(CRASH_MS, f"** {run.crashed} crashes (it leads {', '.join(run.led)})"),
                  (RESTART_MS, f"** {run.crashed} restarts from its records")]
    return sorted(lines, key=lambda line: line[0])


def hosting(sim: Simulator, node_id: NodeId) -> str:
    """What one storage node hosts: replicas of live partitions and of split parents."""
    node = sim.nodes[node_id]
    assert isinstance(node, StorageNode)
    retired = sum(node.store(p).split is not None for p in node.replicas)
    return (f"hosts {len(node.replicas)} replicas: {len(node.replicas) - retired} of live "
            f"partitions (it leads {', '.join(leading(sim, node_id)) or 'none of them'}), "
            f"{retired} of split parents")


def verdict(run: Run) -> list[str]:
    """What `dynamo.checker` finds wrong with the run: nothing, or one line per problem."""
    history = as_history(run.records)
    linearizable = check(history)
    problems = [] if linearizable.ok else [f"not linearizable: {linearizable.details}"]
    return problems + no_lost_acknowledged_writes(history, run.final)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dynamo.partitioning",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=7, help="the simulation's seed (default 7)")
    parser.add_argument("--split-size", type=int, default=300, metavar="BYTES",
                        help="split a partition once its items pass this size (default 300)")
    parser.add_argument("--faults", action="store_true",
                        help=f"crash the storage node leading the most partitions at "
                             f"{CRASH_MS:.0f} ms; restart it at {RESTART_MS:.0f} ms")
    args = parser.parse_args(argv)
    run = run_fleet(args.seed, args.split_size, args.faults)
    print(f"A table on 3 storage nodes, behind 2 request routers and MemDS (seed {args.seed}, "
          f"simulated time).\n{CLIENTS} clients put and get {KEYS} keys; a partition splits "
          f"once its items pass {args.split_size} B.\nA map lists the partitions in key "
          "order, each @ the leader MemDS knows (? none yet).\n")
    for at, line in story(run):
        print(f"{at:8.0f} ms  {line}")
    print()
    requests = 0
    for router in routers(run):
        requests += router.requests
        redirected = sum(r.router == router.id for _, r in run.watch.redirects)
        print(f"{router.id}: {router.requests} requests, {redirected} answered WrongPartition "
              f"and retried at a child; its map is v{router.cache[TABLE].version}")
    asked = run.sim.nodes[METADATA].requests  # type: ignore[union-attr]
    print(f"MemDS answered {asked} map requests for {requests} requests: one per request, hit "
          f"or miss (constant work),\n  and {asked - requests} more from requests waiting "
          "for a first or a newer map.")
    for node_id in STORAGE_NODES:
        print(f"{node_id} {hosting(run.sim, node_id)}")
    problems = verdict(run)
    if problems:
        print("THE CHECKER FOUND:", *problems, sep="\n  ")
        return 1
    ops = [r for r in run.records if r.client != "final"]
    acked = sum(r.outcome == "ok" for r in ops)
    unknown = len(ops) - acked
    print(f"{acked} of {len(ops)} operations acknowledged" + (
        f"; {unknown} timed out (they may or may not have happened)" if unknown else "") + ".")
    print(f"The checker: every key's history is linearizable, and the final reads of "
          f"{len(run.final)} keys find\nno acknowledged write lost.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
