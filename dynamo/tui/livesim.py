"""A simulation you can watch: a seeded `dynamo.sim` run, advanced a slice at a time.

`dynamo.sim.scenarios.run` plays a scenario from start to finish in one call,
which is what tests and seed sweeps want. A student wants to *watch* it: the
replicas elect a leader, the leader takes its lease, writes commit, the
leader crashes, the others wait out its lease and elect again (§3, §6.2).
`LiveSimulation` builds the same kind of run (the scenario's replicas,
network, faults and client workload, all drawn from one seed) and lets its
driver advance it by a slice of *virtual* time, and break things between
slices: crash the leader, restart what crashed, cut the leader off.

Rules of operation:

  L1  Nothing here is random and nothing reads a clock. The simulator draws
      every choice from the seed; the driver (the dashboard's timer) only
      decides how much virtual time each slice covers. The same seed, with
      the same actions taken at the same virtual times, is the same run.
  L2  What is shown is what the layers expose (DESIGN, "Observability is a
      feature"): each replica's `snapshot()`, the `Announce` event stream, the
      faults carried out, and the operations the clients saw acknowledged.
  L3  Faults, scheduled or asked for, are carried out by the simulator's own
      `apply_fault`, at an exact virtual instant, and each one is told in the
      event log with what it did.
  L4  The invariants of `dynamo.sim.invariants` are checked at every step; a
      violation stops the run, and the event log says which and where.

Commits are frequent (every write is one), so the log tells them a virtual
second at a time: "slots 41-57 committed".

A scenario with spare nodes (`logreplica-heal`, §5.1) runs as `run` runs it:
the group, its spares and autoadmin, the replica lost for good and the
second failure drawn from the seed, the log replica's invariants checked. Its
rows show every storage node, members and spares, each member's role (a log
replica's is `log`), and its log tells each healing step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from dynamo.logreplica.invariants import LogReplicaInvariants
from dynamo.paxos.replica import PaxosConfig
from dynamo.sim.clients import Client
from dynamo.sim.faults import Fault, healing_nemesis, nemesis
from dynamo.sim.invariants import Invariants
from dynamo.sim.scenarios import PaxosAdapter, Scenario, draw_operations, node_factories
from dynamo.sim.simulator import Simulator

LIVE_OPERATIONS = 20_000
"""Operations per client: half an hour of virtual time, where a scenario's own
workload lasts a few seconds (it only has to outlast its faults)."""

COMMIT_WINDOW_MS = 1_000.0
BUCKET_MS = 250.0
"""The throughput sparkline counts acknowledged operations per quarter second."""

HEALING = {  # what a healing step's announcement says (§5.1), from its detail
    "replica_unresponsive": "{node}, the leader, has not heard {replica} ({zone}): "
                            "{log_replica} ({log_replica_zone}) answers it can stand in",
    "log_replica_added": "log replica {replica} ({zone}) joins: the write quorum is durable "
                         "again",
    "replacement_added": "autoadmin's full replacement {replica} ({zone}) joins: a snapshot "
                         "of the B-tree, then the log tail",
    "member_removed": "{replica} leaves the group",
    "log_replica_removed": "log replica {replica} leaves the group",
    "healed": "healed: {members} are full replicas again",
}

CUT_OFF_MS = 3_000.0
"""How long a leader stays cut off: long enough for the others to elect a
successor, which must first wait out the old leader's lease (§6.2)."""


@dataclass(frozen=True)
class LogLine:
    """One line of the event log: when (virtual ms), what kind, what happened."""

    at_ms: float
    kind: str  # "election", "lease", "step-down", "commit", "membership", "healing",
    # "fault", "violation"
    text: str


@dataclass(frozen=True)
class ReplicaRow:
    """One replica as the dashboard's table shows it (from its snapshot)."""

    id: str
    up: bool
    role: str = "-"
    ballot: str = "-"
    leader: str = "-"
    lease_ms: float | None = None  # the lease left, on the replica's own clock
    commit_index: int | None = None
    last_index: int | None = None
    links: str = ""


@dataclass(frozen=True)
class Tally:
    """What the clients saw happen to their operations so far."""

    acknowledged: int = 0
    failed: int = 0  # definite failures: a condition was false
    timed_out: int = 0  # indefinite: may or may not have happened


class LiveSimulation:
    """A scenario's run that a driver advances and breaks, a slice at a time."""

    def __init__(self, scenario: Scenario, seed: int, *, planted_bug: str | None = None) -> None:
        self.scenario = scenario
        self.seed = seed
        config = PaxosConfig(max_drift=scenario.max_drift, pre_vote=scenario.pre_vote)
        self.sim = Simulator(seed, node_factories(scenario, config, planted_bug),
                             network=scenario.network, max_drift=scenario.max_drift)
        plan_rng = self.sim.derive_rng()
        faults = list(scenario.faults)
        if scenario.nemesis is not None:
            faults += nemesis(plan_rng, list(scenario.nodes), scenario.nemesis)
        if scenario.zones:  # a replica lost for good, and a second failure (§5.1)
            faults += healing_nemesis(plan_rng, list(scenario.nodes), list(scenario.zones))
        self._pending: list[Fault] = sorted(faults)
        workload = replace(scenario.workload, operations=LIVE_OPERATIONS)
        adapter = PaxosAdapter()
        self.clients = [Client(name, ops, adapter, list(scenario.storage_nodes),
                               self.sim.derive_rng(), scenario.workload.client)
                        for name, ops in draw_operations(plan_rng, workload).items()]
        for client in self.clients:
            self.sim.add_client(client)
        self.invariants = Invariants(enabled=frozenset(scenario.invariants))
        self.sim.add_observer(self.invariants)
        self.roles = LogReplicaInvariants()
        if scenario.zones:
            self.sim.add_observer(self.roles)
        self.log: list[LogLine] = []
        self.tally = Tally()
        self._acks: dict[int, int] = {}  # bucket -> acknowledged operations
        self._seen = [0] * len(self.clients)  # per client: records already tallied
        self._announced = 0
        self._violations = 0
        self._commits: tuple[int, int, int] | None = None  # (window, first slot, last slot)
        self._high = 0  # the highest slot told as committed
        self._configurations: set[tuple[str, ...]] = set()  # memberships told already
        self.sim.start()
        self._collect()

    # --- advancing ----------------------------------------------------------

    @property
    def now_ms(self) -> float:
        return self.sim.now

    @property
    def stopped(self) -> str | None:
        """Why the run stopped (an invariant was violated), or None."""
        return self.sim.stopped

    # --8<-- [start:advance]
    def advance(self, ms: float) -> None:
        """Run `ms` of virtual time, carrying out the faults that fall due in it."""
        until = self.sim.now + ms
        while self._pending and self._pending[0].at_ms <= until and self.stopped is None:
            fault = self._pending.pop(0)
            self.sim.run(fault.at_ms)
            self._collect()
            if self.stopped is None:
                self._carry_out(fault)
        self.sim.run(until)
        self._collect()
    # --8<-- [end:advance]

    # --- breaking things ----------------------------------------------------

    def crash_leader(self) -> None:
        """Crash whichever replica leads now (its lease may still run)."""
        self._carry_out(Fault(self.sim.now, "crash_leader"))

    def restart_crashed(self) -> None:
        """Restart every crashed replica from what it persisted."""
        if all(node is not None for node in self.sim.nodes.values()):
            self._tell("fault", "restart: no replica is down")
            return
        self._carry_out(Fault(self.sim.now, "restart"))

    def cut_off_leader(self, one_way: bool = False, for_ms: float = CUT_OFF_MS) -> None:
        """Cut the leader off from the other replicas for a while, then heal.

        Both ways by default; `one_way` makes it deaf only (the others still
        hear it), the gray failure of §6.2. Clients still reach it either way.
        """
        if self.sim.current_leader() is None:
            self._tell("fault", "no leader right now: nobody to cut off")
            return
        self._carry_out(Fault(self.sim.now, "deafen_leader" if one_way else "isolate_leader"))
        self._pending = sorted([*self._pending, Fault(self.sim.now + for_ms, "heal")])

    # --- what it shows ------------------------------------------------------

    def replicas(self) -> list[ReplicaRow]:
        """Every storage node's row (members and spares), in node order. A node that is no
        member of the group, as its leader sees it (or itself, with no leader), is a "spare"."""
        rows = []
        leader = self.sim.current_leader()
        members = None if leader is None else self.sim.nodes[leader].snapshot()["members"]
        for node_id in self.scenario.storage_nodes:
            node = self.sim.nodes[node_id]
            links = self._links(node_id)
            if node is None:
                rows.append(ReplicaRow(node_id, up=False, links=links))
                continue
            view = node.snapshot()
            lease_until = view.get("lease_until")
            lease = None if lease_until is None else lease_until - self.sim.local_time(node_id)
            role = view["role"] if node_id in (members or view["members"]) else "spare"
            rows.append(ReplicaRow(node_id, True, role, view["ballot"],
                                   view["leader"] or "-", lease, view["commit_index"],
                                   view["last_index"], links))
        return rows

    def throughput(self, buckets: int) -> list[float]:
        """Acknowledged operations per virtual second, over the last `buckets` quarter seconds
        (the one still running left out, so the last bar does not always sag)."""
        last = int(self.sim.now // BUCKET_MS) - 1
        per_second = 1000.0 / BUCKET_MS
        return [self._acks.get(b, 0) * per_second for b in range(last - buckets + 1, last + 1)]

    # --- helpers ------------------------------------------------------------

    def _carry_out(self, fault: Fault) -> None:
        """Apply one fault now and tell what it did (L3)."""
        sim = self.sim
        down_before = {n for n, node in sim.nodes.items() if node is None}
        blocked_before = bool(sim.network.blocked)
        leader = sim.current_leader()
        self._flush_commits(sim.now)
        sim.apply_fault(fault)
        down_after = {n for n, node in sim.nodes.items() if node is None}
        others = ",".join(n for n in sim.node_ids if n != leader)
        if fault.kind in ("crash_leader", "isolate_leader", "deafen_leader") and leader is None:
            self._tell("fault", f"{fault.kind.replace('_', ' ')}: no leader right now")
        elif fault.kind == "crash_leader":
            self._tell("fault", f"{leader}, the leader, crashes (its lease may still run)")
        elif fault.kind == "isolate_leader":
            self._tell("fault", f"{leader}, the leader, is cut off from {others} both ways "
                                "(clients still reach it)")
        elif fault.kind == "deafen_leader":
            self._tell("fault", f"{leader}, the leader, stops hearing {others}; they still "
                                "hear it (a gray failure)")
        elif fault.kind == "restart":
            restarted = sorted(down_before - down_after)
            if restarted:
                self._tell("fault", f"{' and '.join(restarted)} restart"
                                    + ("s from what it persisted" if len(restarted) == 1
                                       else " from what they persisted"))
        elif fault.kind == "crash":
            self._tell("fault", f"{', '.join(sorted(down_after - down_before))} crashes")
        elif fault.kind == "heal":
            if blocked_before:
                self._tell("fault", "every link heals")
        else:
            self._tell("fault", fault.describe().split("ms ", 1)[1])

    def _collect(self) -> None:
        """Turn what happened since the last slice into log lines and counts (L2, L4)."""
        announcements = self.sim.announcements
        for at, node_id, announce in announcements[self._announced:]:
            self._tell_announcement(at, node_id, announce.kind, dict(announce.detail))
        self._announced = len(announcements)
        self._flush_commits(self.sim.now)
        violations = [*self.invariants.violations, *self.roles.violations]
        for violation in violations[self._violations:]:
            self.log.append(LogLine(violation.at_ms, "violation", violation.describe()))
        self._violations = len(violations)
        self._tally_operations()

    def _tell_announcement(self, at: float, node_id: str, kind: str,
                           detail: dict[str, Any]) -> None:
        if kind == "committed":
            self._note_commit(at, detail["first"], detail["last"])
            return
        self._flush_commits(at)
        if kind == "elected":
            recovered = detail.get("recovered", 0)
            self.log.append(LogLine(at, "election", f"{node_id} is elected leader in ballot "
                                    f"{detail['ballot']} (recovered {recovered} slot{'s' * (recovered != 1)})"))
        elif kind == "lease_acquired":
            self.log.append(LogLine(at, "lease", f"{node_id} holds the lease: it serves "
                                    "writes and consistent reads"))
        elif kind == "stepped_down":
            self.log.append(LogLine(at, "step-down", f"{node_id} steps down from ballot "
                                    f"{detail['ballot']}: {detail.get('reason', '')}"))
        elif kind == "membership_changed" and detail["members"] not in self._configurations:
            self._configurations.add(detail["members"])  # told once, not by every replica
            self.log.append(LogLine(at, "membership",
                                    f"members are now {', '.join(detail['members'])}"))
        elif kind in HEALING:
            plain = {k: ", ".join(v) if isinstance(v, tuple) else v for k, v in detail.items()}
            self.log.append(LogLine(at, "healing", HEALING[kind].format(node=node_id, **plain)))

    def _note_commit(self, at: float, first: int, last: int) -> None:
        """Gather the group's new commits into one line per virtual second."""
        window = int(at // COMMIT_WINDOW_MS)
        if self._commits is not None and self._commits[0] != window:
            self._flush_commits(at)
        if self._commits is None:
            if last <= self._high:
                return  # a follower learning slots the group already committed
            self._commits = (window, max(first, self._high + 1), last)
        else:
            self._commits = (window, self._commits[1], max(self._commits[2], last))

    def _flush_commits(self, now: float) -> None:
        if self._commits is None:
            return
        window, first, last = self._commits
        end = (window + 1) * COMMIT_WINDOW_MS
        if now < end:
            return  # the window is still open
        self._high = last
        self._commits = None
        slots = f"slot {first}" if first == last else f"slots {first}-{last}"
        self.log.append(LogLine(min(end, now), "commit", f"{slots} committed by a quorum"))

    def _tally_operations(self) -> None:
        """Count operations the clients finished: a client has at most one in flight, its last."""
        acknowledged, failed, timed_out = (self.tally.acknowledged, self.tally.failed,
                                           self.tally.timed_out)
        for i, client in enumerate(self.clients):
            records = client.records
            while self._seen[i] < len(records):
                record = records[self._seen[i]]
                done = (self._seen[i] < len(records) - 1 or client.finished
                        or record.complete_ms is not None)
                if not done:
                    break
                self._seen[i] += 1
                if record.outcome == "ok" and record.complete_ms is not None:
                    acknowledged += 1
                    bucket = int(record.complete_ms // BUCKET_MS)
                    self._acks[bucket] = self._acks.get(bucket, 0) + 1
                elif record.outcome == "fail":
                    failed += 1
                else:
                    timed_out += 1
        self.tally = Tally(acknowledged, failed, timed_out)

    def _links(self, node_id: str) -> str:
        """Which of a replica's links to its peers are cut, and which way."""
        peers = [n for n in self.sim.node_ids if n != node_id]
        blocked = self.sim.network.blocked
        out = {p for p in peers if (node_id, p) in blocked}
        into = {p for p in peers if (p, node_id) in blocked}
        parts = []
        for label, group in (("cut off from", out & into), ("cannot reach", out - into),
                             ("cannot hear", into - out)):
            if group:
                parts.append(f"{label} {','.join(sorted(group))}")
        return "; ".join(parts)

    def _tell(self, kind: str, text: str) -> None:
        self.log.append(LogLine(self.sim.now, kind, text))


def describe_lease(row: ReplicaRow) -> str:
    """The lease column: time left on the leader's lease, on its own clock."""
    if row.lease_ms is None:
        return "-"
    return f"{row.lease_ms:.0f} ms" if row.lease_ms > 0 else "expired"
