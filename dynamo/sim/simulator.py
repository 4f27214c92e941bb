"""The discrete-event simulator: sans-IO nodes on a virtual clock, one seed for all.

This is the driver of `dynamo.contract` that tests and the lab use. It keeps
a queue of future events (message deliveries, timer expiries, client
requests and replies, nemesis faults), pops the earliest, jumps the virtual
clock to it, hands it to the node it concerns and carries out the node's
effects in order (contract rule 2):

    Send     -> the network decides if and when copies arrive
    SetTimer -> a TimerFired event after the delay, on the node's drifting clock
    Persist  -> appended to the node's records, which survive crashes
    Reply    -> back to the client, through the network
    Announce -> to observers (invariant checks, the trace, dashboards)

Every random choice comes from one `random.Random(seed)`: it seeds a
generator each for the network, the clocks and the nodes (a node gets a fresh
one, drawn from the nodes' generator, each time it boots). Ties in time are
broken by the order events were scheduled. So a run is a pure function of
(seed, nodes, clients, configuration, faults), which is what makes a failing
seed a bug report (§5.4 and §6 credit failure injection and formal methods;
this is the lab's version of both).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from random import Random
from typing import Any, Protocol

from dynamo.contract import (
    Announce,
    CancelTimer,
    ClientRequest,
    Effect,
    Event,
    Node,
    NodeFactory,
    NodeId,
    Persist,
    Receive,
    Reply,
    Send,
    SetTimer,
    Start,
    TimerFired,
    views_of,
)
from dynamo.sim.clock import DriftingClock, drifting_clocks
from dynamo.sim.faults import Fault
from dynamo.sim.network import Network, NetworkConfig
from dynamo.sim.trace import Trace

# event kinds in the queue; ints keep the heap's tuples cheap to compare
_DELIVER, _TIMER, _REQUEST, _REPLY, _CLIENT_TIMER, _FAULT = range(6)


class SimClient(Protocol):
    """A simulated client: a test harness, driven on the global clock."""

    name: str

    def start(self, sim: Simulator) -> None: ...

    def on_reply(self, sim: Simulator, reply: Reply) -> None: ...

    def on_timer(self, sim: Simulator, token: int) -> None: ...


class Observer(Protocol):
    """Something that watches every step: invariant checks, collectors."""

    def after_step(self, sim: Simulator, node_id: NodeId, effects: Sequence[Effect]) -> None: ...


@dataclass
class SimStats:
    """Counts for the run's summary."""

    events: int = 0
    steps: int = 0
    crashes: int = 0
    restarts: int = 0
    partitions: int = 0
    heals: int = 0
    leader_crashes: list[tuple[float, NodeId]] = field(default_factory=list)


class Simulator:
    """Runs sans-IO nodes deterministically from one seed.

    Args:
        seed: the run's only source of randomness.
        factories: how to build each node (first boot and after each crash).
        network: link behaviour (latency, loss, duplication, reordering).
        faults: the nemesis schedule, carried out at the faults' times.
        max_drift: ε, the bound on each node's clock rate error.
        trace: keep a canonical trace of every event (for determinism tests,
            replays and minimisation; off for fast seed sweeps).
    """

    def __init__(self, seed: int, factories: Mapping[NodeId, NodeFactory], *,
                 network: NetworkConfig | None = None, faults: Sequence[Fault] = (),
                 max_drift: float = 0.0, trace: bool = False) -> None:
        self.seed = seed
        self.rng = Random(seed)
        self.now = 0.0
        self.factories = dict(factories)
        self.node_ids: list[NodeId] = list(self.factories)
        self.clocks: dict[NodeId, DriftingClock] = drifting_clocks(
            self.node_ids, max_drift, self.derive_rng())
        self.network = Network(network or NetworkConfig(), self.derive_rng())
        self._node_rngs = self.derive_rng()
        self.clients: dict[str, SimClient] = {}
        self.observers: list[Observer] = []
        self.nodes: dict[NodeId, Node | None] = {n: None for n in self.node_ids}
        self.records: dict[NodeId, list[Any]] = {n: [] for n in self.node_ids}
        self.timers: dict[NodeId, dict[str, int]] = {n: {} for n in self.node_ids}
        self.announcements: list[tuple[float, NodeId, Announce]] = []
        self.stats = SimStats()
        self.trace = Trace() if trace else None
        self.stopped: str | None = None
        self._queue: list[tuple[float, int, int, Any, Any, Any]] = []
        self._seq = 0
        for fault in faults:
            self.schedule_fault(fault)

    # --- setting up ---------------------------------------------------------

    def derive_rng(self) -> Random:
        """A generator of its own for a part of the run (a workload, a client,
        the nemesis), drawn from the run's seed so the run stays replayable."""
        return Random(self.rng.getrandbits(64))

    def schedule_fault(self, fault: Fault) -> None:
        self._push(fault.at_ms, _FAULT, fault, None, None)

    def add_client(self, client: SimClient) -> None:
        self.clients[client.name] = client

    def add_observer(self, observer: Observer) -> None:
        self.observers.append(observer)

    def start(self) -> None:
        """Boot every node and every client, at time 0."""
        for node_id in self.node_ids:
            self._boot(node_id)
        for client in self.clients.values():
            client.start(self)

    # --- running ------------------------------------------------------------

    def run(self, until_ms: float) -> None:
        """Handle events in time order up to `until_ms`, or until stopped."""
        queue = self._queue
        while queue and queue[0][0] <= until_ms and self.stopped is None:
            at, _, kind, a, b, c = heapq.heappop(queue)
            self.now = at
            self.stats.events += 1
            if kind == _DELIVER:
                self._deliver(a, b, c)
            elif kind == _TIMER:
                self._fire(a, b, c)
            elif kind == _REQUEST:
                self._request(a, b)
            elif kind == _REPLY:
                self._reply(a, b)
            elif kind == _CLIENT_TIMER:
                self._note("client-timer", a, b)
                self.clients[a].on_timer(self, b)
            else:
                self.apply_fault(a)
        if self.stopped is None:
            self.now = max(self.now, until_ms)

    def stop(self, reason: str) -> None:
        """End the run early (an observer found a violation)."""
        if self.stopped is None:
            self.stopped = reason
            self._note("stop", "sim", reason)

    # --- what clients may do ------------------------------------------------

    def submit(self, client: str, node_id: NodeId, request_id: int, operation: Any) -> None:
        """Send a client request to a node, through the network."""
        request = ClientRequest(client, request_id, operation)
        self._note("submit", f"{client}->{node_id}", request)
        for delay in self.network.transit(client, node_id, may_duplicate=False):
            self._push(self.now + delay, _REQUEST, node_id, request, None)

    def client_timer(self, client: str, delay_ms: float, token: int) -> None:
        self._push(self.now + delay_ms, _CLIENT_TIMER, client, token, None)

    # --- faults -------------------------------------------------------------

    def apply_fault(self, fault: Fault) -> None:
        """Carry out one nemesis fault now."""
        self._note("fault", fault.kind, fault)
        if fault.kind == "crash":
            for node_id in fault.nodes:
                self.crash(node_id)
        elif fault.kind == "crash_leader":
            leader = self.current_leader()
            if leader is not None:
                self.stats.leader_crashes.append((self.now, leader))
                self.crash(leader)
        elif fault.kind in ("isolate_leader", "deafen_leader"):
            leader = self.current_leader()
            if leader is not None:
                self.stats.partitions += 1
                others = [n for n in self.node_ids if n != leader]
                if fault.kind == "isolate_leader":
                    self.network.partition([leader], others)
                else:
                    self.network.one_way(others, [leader])
        elif fault.kind in ("isolate_follower", "deafen_follower"):
            self._cut_off_follower(both_ways=fault.kind == "isolate_follower")
        elif fault.kind == "restart":
            for node_id in fault.nodes or tuple(self.node_ids):
                if self.nodes[node_id] is None:
                    self.restart(node_id)
        elif fault.kind == "partition":
            self.stats.partitions += 1
            self.network.partition(fault.nodes, fault.others)
        elif fault.kind == "one_way":
            self.stats.partitions += 1
            self.network.one_way(fault.nodes, fault.others)
        else:
            self.stats.heals += 1
            self.network.heal()

    def _cut_off_follower(self, both_ways: bool) -> None:
        """Cut the first live follower off from every other node, or only from the leader."""
        leader = self.current_leader()
        followers = [n for n in self.node_ids if n != leader and self.nodes[n] is not None]
        if leader is None or not followers:
            return
        self.stats.partitions += 1
        if both_ways:
            self.network.partition(followers[:1], [n for n in self.node_ids if n != followers[0]])
        else:
            self.network.one_way([leader], followers[:1])

    def crash(self, node_id: NodeId) -> None:
        """Stop a node: its memory and timers are gone, its records are kept."""
        if self.nodes[node_id] is None:
            return
        self.stats.crashes += 1
        self.nodes[node_id] = None
        self.timers[node_id] = {}
        self._note("crash", node_id)

    def restart(self, node_id: NodeId) -> None:
        """Rebuild a crashed node from exactly its persisted records (rule 3)."""
        self.stats.restarts += 1
        self._boot(node_id)

    def current_leader(self) -> NodeId | None:
        """The live node that claims to lead, preferring one whose lease runs."""
        claimants = []
        for node_id, node in self.nodes.items():
            for view in views_of(node):
                if view.role == "leader":
                    lease = view.lease_until
                    holds = lease is not None and lease > self.local_time(node_id)
                    claimants.append((not holds, node_id))
        return min(claimants)[1] if claimants else None

    def local_time(self, node_id: NodeId) -> float:
        """What the node's own (drifting) clock reads now."""
        return self.clocks[node_id].local(self.now)

    # --- the event handlers -------------------------------------------------

    def _boot(self, node_id: NodeId) -> None:
        rng = Random(self._node_rngs.getrandbits(64))
        records = tuple(self.records[node_id])
        self._note("boot", node_id, len(records))
        self.nodes[node_id] = self.factories[node_id](node_id, records, rng)
        self._step(node_id, Start())

    def _deliver(self, dst: NodeId, src: NodeId, message: Any) -> None:
        if self.nodes.get(dst) is None:
            self._note("drop", f"{src}->{dst}", message)
            return
        self.network.stats.delivered += 1
        self._step(dst, Receive(src, message))

    def _fire(self, node_id: NodeId, name: str, token: int) -> None:
        pending = self.timers[node_id]
        if pending.get(name) != token:
            return  # replaced, cancelled, or set before a crash
        del pending[name]
        self._step(node_id, TimerFired(name))

    def _request(self, node_id: NodeId, request: ClientRequest) -> None:
        if self.nodes.get(node_id) is None:
            self._note("drop", f"{request.client}->{node_id}", request)
            return
        self._step(node_id, request)

    def _reply(self, client: str, reply: Reply) -> None:
        self._note("reply", client, reply)
        self.clients[client].on_reply(self, reply)

    def _step(self, node_id: NodeId, event: Event) -> None:
        node = self.nodes[node_id]
        assert node is not None
        self.stats.steps += 1
        clock = self.clocks[node_id]
        if self.trace is not None:
            self._note("step", node_id, event)
        effects = node.step(clock.local(self.now), event)
        now = self.now
        for effect in effects:
            kind = type(effect)
            if self.trace is not None:
                self._note("  effect", node_id, effect)
            if kind is Send:
                for delay in self.network.transit(node_id, effect.dst):
                    self._push(now + delay, _DELIVER, effect.dst, node_id, effect.message)
            elif kind is SetTimer:
                self._seq += 1
                self.timers[node_id][effect.name] = self._seq
                self._push(clock.deadline(now, effect.delay_ms), _TIMER, node_id,
                           effect.name, self._seq)
            elif kind is CancelTimer:
                self.timers[node_id].pop(effect.name, None)
            elif kind is Persist:
                self.records[node_id].append(effect.record)
            elif kind is Reply:
                for delay in self.network.transit(node_id, effect.client, may_duplicate=False):
                    self._push(now + delay, _REPLY, effect.client, effect, None)
            elif kind is Announce:
                self.announcements.append((now, node_id, effect))
        for observer in self.observers:
            observer.after_step(self, node_id, effects)

    def _push(self, at: float, kind: int, a: Any, b: Any, c: Any) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (at, self._seq, kind, a, b, c))

    def _note(self, what: str, where: str, detail: Any = None) -> None:
        if self.trace is not None:
            self.trace.record(self.now, what, where, detail)
