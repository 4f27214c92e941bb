"""Scenarios as data: a workload, a nemesis and the invariants, run from a seed.

FoundationDB composes each simulation test from a workload, the faults to
inject and the invariants to hold; here a `Scenario` is that triple, as a
frozen dataclass, so the tests, the lab, the dashboard and the `dynamo sim`
command all run the very same thing by name:

    paxos-basic     a healthy three-replica group (§3) under a client workload
    paxos-faults    crashes (of any replica, or of the leader), symmetric partitions,
                    an isolated leader; lossy links that duplicate and reorder
    paxos-gray      one-way partitions, and a leader that cannot hear its peers
                    while they still hear it: the gray failures of §6.2
    paxos-isolation the leader is cut off from its peers, not from its clients,
                    long enough for a successor: the deposed leader's lease case
    paxos-failover  the leader is crashed once the group is busy; measures the
                    time to the next acknowledged write (§6.2, "a couple of seconds")
    paxos-rejoin    a follower is cut off for 2 s, then heals: with peer confirmation
                    (the pre-vote, §6.2) it deposes no one, so the run's count of
                    elections stays at the first one
    logreplica-heal a replica is lost; the leader adds a log replica on a spare node
                    and autoadmin heals the group, while a second failure strikes
                    (§5.1); the log-replica role's invariants are checked too
    partition-heal  the same in a partitioned fleet of six storage nodes, two per
                    zone: a node lost for good held a replica of every partition;
                    each partition's group heals on its own (§3, §5.1)
    gsi-convergence a table with two global indexes splits under crashes (the
                    propagator's too), partitions, loss and duplication: once writes
                    stop, every index equals its table's projection (§2)

A run goes: draw the fault schedule and each client's operations from the
seed; run the workload with the nemesis; at `duration_ms` heal every link and
restart every crashed replica; let the group settle; then one last client
reads every key, so the durability check knows what survived. The result
carries the history (for `dynamo.checker`), the invariant violations seen at
every step, and counts for the summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from random import Random
from typing import Any

from dynamo.admission.allocation import Throughput
from dynamo.admission.balancing import BalanceConfig
from dynamo.admission.eras import Era
from dynamo.admission.fleet import admission_factories
from dynamo.admission.storage_admission import TableLimits
from dynamo.indexes.fleet import divergence, index_factories
from dynamo.indexes.planted import PLANTED_BUGS as index_bugs
from dynamo.indexes.propagator import PROPAGATOR
from dynamo.logreplica.group import healing_factories
from dynamo.logreplica.healing import HealingConfig
from dynamo.logreplica.invariants import INVARIANTS as ROLE_INVARIANTS
from dynamo.logreplica.invariants import LogReplicaInvariants
from dynamo.logreplica.planted import PLANTED_BUGS as log_replica_bugs
from dynamo.partitioning.fleet import FleetConfig, fleet_factories
from dynamo.partitioning.planted import PLANTED_BUGS as partitioning_bugs
from dynamo.paxos.operations import (
    Add,
    ConditionalPut,
    ConditionFailed,
    Delete,
    Get,
    NotLeader,
    Ok,
    Put,
    QueryKey,
    Rejected,
    Unavailable,
)
from dynamo.paxos.planted import PLANTED_BUGS as paxos_bugs
from dynamo.paxos.planted import planted_factory
from dynamo.paxos.replica import PaxosConfig
from dynamo.sim.clients import Client, ClientConfig, OpRecord, Outcome
from dynamo.sim.faults import Fault, NemesisConfig, healing_nemesis, nemesis
from dynamo.sim.invariants import Invariants, Violation
from dynamo.sim.network import NetworkConfig
from dynamo.sim.simulator import SimStats, Simulator
from dynamo.sim.trace import Trace

PLANTED_BUGS = tuple(sorted([*paxos_bugs, *log_replica_bugs, *partitioning_bugs, *index_bugs]))
INVARIANTS = ("one leader per ballot", "committed entries never change", "leases never overlap",
              "linearizable per key", "no lost acknowledged writes")


@dataclass(frozen=True)
class Workload:
    """What the clients do: how many, how many operations, over which keys.

    `mix` weighs the operation kinds; values written are unique per client
    and operation, so a read names the write it saw. `readers` more clients
    only read: they stay with a replica as long as it answers, like a
    read-heavy application behind a router with a cached leader.
    """

    clients: int = 3
    readers: int = 1
    operations: int = 25
    keys: int = 2
    mix: tuple[tuple[str, int], ...] = (("put", 3), ("get", 4), ("cas", 2), ("delete", 1))
    client: ClientConfig = ClientConfig()


@dataclass(frozen=True)
class Scenario:
    """A named simulation test: nodes, workload, faults, network, invariants."""

    name: str
    description: str
    workload: Workload = Workload()
    nemesis: NemesisConfig | None = None
    faults: tuple[Fault, ...] = ()
    network: NetworkConfig = NetworkConfig()
    nodes: tuple[str, ...] = ("n1", "n2", "n3")
    max_drift: float = 0.01
    duration_ms: float = 2500.0
    settle_ms: float = 1500.0
    final_read_ms: float = 2500.0
    invariants: tuple[str, ...] = INVARIANTS
    pre_vote: bool = True
    zones: tuple[tuple[str, str], ...] = ()  # with spares: a healing group (dynamo.logreplica)
    fleet: FleetConfig | None = None  # a partitioned fleet with routers (dynamo.partitioning)
    admission: Era | None = None  # the fleet's table admitted under this era (dynamo.admission)
    limits: TableLimits | None = None  # ... with this provisioned throughput
    balance: BalanceConfig | None = None  # ... and leaderships moved by load (§4.3)
    indexes: bool = False  # the fleet's table has global indexes (dynamo.indexes)

    @property
    def storage_nodes(self) -> tuple[str, ...]:
        """Every node a client may reach: the members, and the spares of a healing group;
        in a partitioned fleet, the request routers."""
        if self.fleet is not None:
            return self.fleet.routers
        return tuple(n for n, _ in self.zones) if self.zones else self.nodes


SIX = ("n1", "n2", "n3", "n4", "n5", "n6")  # storage nodes, two per zone

# A partitioned fleet's run: four clients over ten keys, while storage nodes crash and
# links partition (both ways and one way) and lose, duplicate and reorder messages.
FLEET_UNDER_FAULTS: dict[str, Any] = dict(
    workload=Workload(clients=4, operations=30, keys=10, client=ClientConfig(timeout_ms=1900.0)),
    nemesis=NemesisConfig(kinds=("crash", "partition", "one_way"), duration_ms=(100.0, 1500.0)),
    network=NetworkConfig(loss=0.02, duplicate=0.02, reorder=0.05),
    duration_ms=4000.0, settle_ms=2000.0, final_read_ms=5000.0)

SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("paxos-basic", "a healthy group under a mixed client workload"),
    Scenario("paxos-faults", "crashes and restarts, partitions, lossy links",
             nemesis=NemesisConfig(kinds=("crash", "partition", "crash_leader",
                                          "isolate_leader"), duration_ms=(100.0, 2000.0)),
             network=NetworkConfig(loss=0.03, duplicate=0.02, reorder=0.05)),
    Scenario("paxos-gray", "one-way partitions: links that work in one direction only (§6.2)",
             nemesis=NemesisConfig(kinds=("one_way", "deafen_leader"), episodes=(1, 3),
                                   duration_ms=(100.0, 2000.0))),
    Scenario("paxos-isolation", "the leader is cut off from its group but not from clients, "
             "long enough for a successor to take over: its lease must stop it serving (§3)",
             nemesis=NemesisConfig(kinds=("isolate_leader",), episodes=(1, 2), start_ms=200.0,
                                   end_ms=1200.0, duration_ms=(1200.0, 2000.0))),
    Scenario("paxos-failover", "crash the leader mid-workload; time to the next acked write",
             workload=Workload(clients=3, operations=60, mix=(("put", 3), ("get", 1))),
             faults=(Fault(800.0, "crash_leader"), Fault(3500.0, "restart")),
             duration_ms=4000.0),
    Scenario("dynamodb-faults", "DynamoDB's item operations (conditional PutItem, UpdateItem "
             "ADD, strong GetItem and Query) through the storage replicas, under crashes, "
             "one-way partitions, loss, duplication and drift",
             workload=Workload(keys=2, mix=(("put", 2), ("cas", 2), ("add", 3), ("get", 2),
                                            ("query", 2), ("delete", 1))),
             nemesis=NemesisConfig(kinds=("crash_leader", "isolate_leader", "one_way",
                                          "partition"), duration_ms=(300.0, 2000.0)),
             network=NetworkConfig(loss=0.03, duplicate=0.02, reorder=0.05), max_drift=0.02),
    Scenario("paxos-rejoin", "a follower cut off for 2 s rejoins; with the pre-vote (§6.2) "
             "it deposes no healthy leader: no election after the first",
             workload=Workload(clients=2, readers=0, operations=16,
                               client=ClientConfig(think_ms=(80.0, 200.0))),
             faults=(Fault(500.0, "isolate_follower"), Fault(2500.0, "heal")),
             duration_ms=3000.0, settle_ms=500.0),
    Scenario("logreplica-heal", "a replica is lost: the leader adds a log replica in its "
             "zone, autoadmin builds a full replacement and retires the log replica, while "
             "a second failure strikes (§5.1)",
             workload=Workload(clients=3, operations=20, client=ClientConfig(wander=0.3)),
             zones=(("n1", "az1"), ("n2", "az2"), ("n3", "az3"), ("s1", "az1"),
                    ("s2", "az2"), ("s3", "az3"), ("s4", "az1"), ("s5", "az2"), ("s6", "az3")),
             duration_ms=3500.0, settle_ms=1500.0,
             invariants=(*INVARIANTS, *ROLE_INVARIANTS)),
    Scenario("partition-splits", "a table grows and splits into partitions while clients "
             "write and read through two request routers; storage nodes crash and are "
             "partitioned, links lose and reorder: no acknowledged write is lost or "
             "duplicated across a split (§4.4, §6.6)",
             **FLEET_UNDER_FAULTS,
             fleet=FleetConfig(split_size=40)),
    *(Scenario(f"admission-{era.value}", f"a provisioned table of 4 WCU, admitted under "
               f"the {era.value} era (§4), splits while four clients write faster than "
               "that; storage nodes crash and links partition and lose: a throttled write "
               "never happens, and no acknowledged write is lost",
               **FLEET_UNDER_FAULTS,
               fleet=FleetConfig(split_size=40, root="p."), admission=era,
               limits=TableLimits(Throughput(read=1000.0, write=4.0)),
               # Under GAC, the load balancer moves leaderships at any imbalance at all,
               # so that handoffs happen under the faults too.
               balance=BalanceConfig(interval_ms=500.0, threshold=0.0, margin=0.0,
                                     cooldown_ms=1000.0) if era is Era.GAC else None)
      for era in (Era.STATIC, Era.GAC)),
    Scenario("partition-moves", "five storage nodes: a table splits on the first three and "
             "autoadmin moves replicas to the other two (add the new replica, let it catch "
             "up, remove the old one), while nodes crash, links partition and lose "
             "messages (§4.3)",
             **FLEET_UNDER_FAULTS,
             nodes=("n1", "n2", "n3", "n4", "n5"),
             fleet=FleetConfig(storage_nodes=("n1", "n2", "n3", "n4", "n5"), split_size=40,
                               balance=True)),
    Scenario("partition-heal", "six storage nodes, two per zone, hold a table split into "
             "partitions; a node is lost for good: each partition's leader adds a log "
             "replica on its zone's other node and autoadmin builds a full replacement and "
             "retires the log replica, while a second failure strikes (§5.1)",
             workload=Workload(clients=3, operations=20, keys=8,
                               client=ClientConfig(timeout_ms=1900.0)),
             network=NetworkConfig(loss=0.01, duplicate=0.01, reorder=0.05),
             zones=tuple(FleetConfig(storage_nodes=SIX).zones.items()),
             fleet=FleetConfig(storage_nodes=SIX, split_size=60, heal=True),
             duration_ms=4000.0, settle_ms=2000.0, final_read_ms=5000.0,
             invariants=(*INVARIANTS, *ROLE_INVARIANTS)),
    Scenario("gsi-convergence", "a table with two global secondary indexes splits while "
             "clients put, delete and turn values into numbers (leaving the string-keyed "
             "indexes: sparse); nodes and the propagator crash, links partition, lose and "
             "duplicate: once writes stop, every index equals its table's projection (§2)",
             workload=Workload(clients=2, readers=0, operations=12, keys=4,
                               client=ClientConfig(timeout_ms=1900.0),
                               mix=(("put", 4), ("get", 1), ("cas", 2), ("delete", 2),
                                    ("add", 1))),
             nemesis=FLEET_UNDER_FAULTS["nemesis"], network=FLEET_UNDER_FAULTS["network"],
             duration_ms=2000.0, settle_ms=1000.0, final_read_ms=2500.0,
             nodes=("n1", "n2", "n3", PROPAGATOR), fleet=FleetConfig(split_size=24),
             indexes=True, invariants=(*INVARIANTS, "indexes converge")),
)}


@dataclass
class RunResult:
    """Everything a run produced, for the checkers and the summary."""

    scenario: str
    seed: int
    planted_bug: str | None
    history: list[OpRecord]
    final_state: dict[str, str | None]
    violations: list[Violation]
    stats: SimStats
    messages: int
    faults: list[Fault]
    operations: dict[str, list[Any]]
    trace: Trace | None
    failover_ms: float | None = None
    end_ms: float = 0.0
    invariants: tuple[str, ...] = INVARIANTS
    elections: int = 0
    healing: tuple[str, ...] = ()  # the healing steps announced, in order (logreplica-heal)
    splits: int = 0  # partitions split (partition-splits)
    moves: int = 0  # replicas moved to another node (partition-moves)
    throttled: int = 0  # requests refused by admission control (admission-*)
    rebalances: int = 0  # leaderships moved by load (admission-gac)


class PaxosAdapter:
    """Translates `dynamo.paxos` operations and results into history terms."""

    def __init__(self) -> None:
        self.throttled = 0  # answers that were throttling errors

    def describe(self, operation: Any) -> tuple[str, str, str | None, str | None]:
        kind = type(operation)
        if kind is Put:
            return "put", operation.key, operation.value, None
        if kind is Get:
            return "get", operation.key, None, None
        if kind is ConditionalPut:
            return "cas", operation.key, operation.value, operation.expected
        if kind is Delete:
            return "delete", operation.key, None, None
        if kind is Add:
            return "add", operation.key, str(operation.amount), None
        if kind is QueryKey:
            return "get", operation.key, None, None
        raise TypeError(f"no history form for {operation!r}")

    def classify(self, result: Any) -> Outcome:
        kind = type(result)
        if kind is Ok:
            return Outcome("ok", read_value=result.value)
        if kind is ConditionFailed:
            return Outcome("fail", read_value=result.current)
        if kind is NotLeader:
            return Outcome("retry", hint=result.leader_hint)
        if kind is Unavailable:
            return Outcome("retry")  # not carried out: safe to try again (operations.py)
        if kind is Rejected and getattr(result.error, "retryable", False):
            self.throttled += 1  # throttled (§4): not carried out; SDKs try again
            return Outcome("retry")
        return Outcome("unknown")


def draw_operations(rng: Random, workload: Workload) -> dict[str, list[Any]]:
    """Each client's operations, drawn from the seed."""
    kinds = [kind for kind, weight in workload.mix for _ in range(weight)]
    keys = [f"k{i}" for i in range(workload.keys)]
    written: dict[str, list[str]] = {k: [] for k in keys}
    plans: dict[str, list[Any]] = {}
    for c in range(workload.clients):
        name = f"c{c + 1}"
        ops: list[Any] = []
        for i in range(workload.operations):
            key = keys[rng.randrange(len(keys))]
            kind = kinds[rng.randrange(len(kinds))]
            value = f"{name}.{i}"
            if kind == "put":
                ops.append(Put(key, value))
                written[key].append(value)
            elif kind == "get":
                ops.append(Get(key))
            elif kind == "cas":
                seen = written[key]
                expected = None if not seen or rng.random() < 0.3 else seen[-1]
                ops.append(ConditionalPut(key, value, expected))
                written[key].append(value)
            elif kind == "query":
                ops.append(QueryKey(key))
            elif kind == "add":  # counters have keys of their own: ADD needs a number
                ops.append(Add(f"n{key[1:]}", 1 + rng.randrange(5)))
            else:
                ops.append(Delete(key))
        plans[name] = ops
    for r in range(workload.readers):
        plans[f"r{r + 1}"] = [Get(keys[rng.randrange(len(keys))])
                              for _ in range(workload.operations)]
    return plans


def run(scenario: Scenario, seed: int, *, planted_bug: str | None = None, trace: bool = False,
        faults: Sequence[Fault] | None = None,
        operations: dict[str, list[Any]] | None = None) -> RunResult:
    """Run one seed of a scenario. `faults`/`operations` override what the seed
    would draw (the minimiser uses them to try smaller runs)."""
    config = PaxosConfig(max_drift=scenario.max_drift, pre_vote=scenario.pre_vote)
    sim = Simulator(seed, node_factories(scenario, config, planted_bug), network=scenario.network,
                    max_drift=scenario.max_drift, trace=trace)
    plan_rng = sim.derive_rng()
    drawn_faults = list(scenario.faults)
    if scenario.nemesis is not None:
        drawn_faults += nemesis(plan_rng, list(scenario.nodes), scenario.nemesis)
    if scenario.zones:
        drawn_faults += healing_nemesis(plan_rng, list(scenario.nodes), list(scenario.zones))
    drawn_ops = draw_operations(plan_rng, scenario.workload)
    chosen_faults = sorted(drawn_faults if faults is None else faults)
    chosen_ops = drawn_ops if operations is None else operations
    for fault in chosen_faults:
        sim.schedule_fault(fault)
    sim.schedule_fault(Fault(scenario.duration_ms, "heal"))
    sim.schedule_fault(Fault(scenario.duration_ms, "restart"))
    invariants = Invariants(enabled=frozenset(scenario.invariants))
    sim.add_observer(invariants)
    role_invariants = LogReplicaInvariants()
    if scenario.zones:
        sim.add_observer(role_invariants)
    adapter = PaxosAdapter()
    client_config = replace(scenario.workload.client, stop_ms=scenario.duration_ms)
    reader_config = replace(client_config, wander=0.0)  # readers keep to their replica
    reachable = list(scenario.storage_nodes)
    clients = [Client(name, ops, adapter, reachable, sim.derive_rng(),
                      reader_config if name.startswith("r") else client_config)
               for name, ops in chosen_ops.items()]
    keys = sorted({adapter.describe(op)[1] for ops in chosen_ops.values() for op in ops})
    final_config = ClientConfig(timeout_ms=scenario.final_read_ms, retry_ms=20.0,
                                start_ms=scenario.duration_ms + scenario.settle_ms)
    reader = Client("final", [Get(k) for k in keys], adapter, reachable,
                    sim.derive_rng(), final_config)
    for client in [*clients, reader]:
        sim.add_client(client)
    sim.start()
    horizon = scenario.duration_ms + scenario.settle_ms + scenario.final_read_ms * (len(keys) + 1)
    while sim.now < horizon and sim.stopped is None and not reader.finished:
        sim.run(min(horizon, sim.now + 100.0))
    violations = [*invariants.violations, *role_invariants.violations]
    if scenario.indexes:
        violations += _index_divergence(sim, scenario.final_read_ms)
    history = [r for c in clients for r in c.records] + reader.records
    final_state = {r.key: r.read_value for r in reader.records if r.outcome == "ok"}
    return RunResult(scenario.name, seed, planted_bug, history, final_state,
                     violations, sim.stats, sim.network.stats.sent, chosen_faults,
                     chosen_ops, sim.trace, failover_time(sim.stats, history), sim.now,
                     scenario.invariants, elections(sim.announcements),
                     tuple(a.kind for _, _, a in sim.announcements if a.kind in HEALING_STEPS),
                     splits(sim.announcements),
                     sum(1 for _, _, a in sim.announcements if a.kind == "replica_removed"),
                     adapter.throttled,
                     sum(1 for _, _, a in sim.announcements if a.kind == "rebalancing"))


HEALING_STEPS = ("replica_unresponsive", "log_replica_added", "replacement_added",
                 "member_removed", "log_replica_removed", "healed")


def node_factories(scenario: Scenario, config: PaxosConfig,
                   planted_bug: str | None) -> dict[str, Any]:
    """The nodes' factories: a Paxos group, or a healing group with spares and autoadmin."""
    if scenario.fleet is not None and scenario.admission is not None:
        assert scenario.limits is not None
        return admission_factories(scenario.fleet, config, scenario.admission, scenario.limits,
                                   burst_seconds=1.0, balance=scenario.balance)
    if scenario.fleet is not None and scenario.indexes:
        return index_factories(scenario.fleet, config, index_bugs.get(planted_bug or ""))
    if scenario.fleet is not None:
        return fleet_factories(scenario.fleet, config, planted_bug)
    if scenario.zones:
        healing = HealingConfig(scenario.zones, replicas=len(scenario.nodes))
        return healing_factories(scenario.nodes, config, healing, planted_bug)
    factory = planted_factory(scenario.nodes, config, planted_bug)
    return {n: factory for n in scenario.nodes}


def _index_divergence(sim: Simulator, patience_ms: float) -> list[Violation]:
    """Once writes have stopped and faults healed, give the propagator `patience_ms` to
    bring every global index to its table's projection; what still differs then."""
    deadline = sim.now + patience_ms
    problems = divergence(sim.nodes)
    while problems and sim.now < deadline and sim.stopped is None:
        sim.run(sim.now + 100.0)
        problems = divergence(sim.nodes)
    return [Violation("indexes converge", sim.now, PROPAGATOR, p) for p in problems]


def elections(announcements: Sequence[tuple[float, str, Any]]) -> int:
    """How many times a replica announced it was elected (the first election included)."""
    return sum(1 for _, _, announce in announcements if announce.kind == "elected")


def splits(announcements: Sequence[tuple[float, str, Any]]) -> int:
    """How many partitions split (each member node announces its parent's split)."""
    return len({dict(a.detail)["partition"] for _, _, a in announcements
                if a.kind == "partition_split"})


def failover_time(stats: SimStats, history: Sequence[OpRecord]) -> float | None:
    """Simulated ms from the first leader crash to the first write acked after it."""
    if not stats.leader_crashes:
        return None
    crashed_at = stats.leader_crashes[0][0]
    acked = [r.complete_ms for r in history if r.kind != "get" and r.outcome == "ok"
             and r.complete_ms is not None and r.complete_ms > crashed_at]
    return min(acked) - crashed_at if acked else None


def scenario_named(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"no scenario {name!r}; known: {', '.join(SCENARIOS)}") from None
