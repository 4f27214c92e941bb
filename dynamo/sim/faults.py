"""The nemesis: a schedule of faults drawn from the seed.

FoundationDB and Jepsen call the component that breaks things on purpose the
*nemesis*. Here it is plain data: a list of `Fault`s, each at a simulated
time, drawn from the run's seed before the run starts. Being data, a schedule
can be printed, replayed, and shrunk by the minimiser to the few faults a
failure really needs.

Fault kinds:
    crash        the nodes stop; they keep only what they persisted (contract rule 3)
    restart      crashed nodes are rebuilt from their records and started
    crash_leader whichever node currently claims to lead is crashed (§6.2 failover)
    partition    links between `nodes` and `others` are cut both ways
    one_way      links from `nodes` to `others` are cut, the reverse still works:
                 the gray failures of §6.2
    isolate_leader   the current leader is cut off from the other replicas, both
                 ways (clients still reach it: the deposed leader that does not
                 know it yet)
    deafen_leader    the current leader stops hearing the other replicas, which
                 still hear it (a one-way, inbound gray failure, §6.2)
    isolate_follower a follower of the current leader (the first live one, in node
                 order) is cut off from the other replicas, both ways: when healed,
                 it must rejoin without deposing a healthy leader (§6.2)
    deafen_follower  that follower stops hearing the leader, and only the leader: it
                 still reaches everyone and hears the other follower (a one-way
                 gray failure, §6.2: the peers must tell it the leader is healthy)
    heal         every link is restored

`healing_nemesis` draws the schedule of a healing group (§5.1): a replica is
lost for the rest of the run, and a second failure arrives while the group
heals.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

FAULT_KINDS = ("crash", "restart", "crash_leader", "partition", "one_way", "isolate_leader",
               "deafen_leader", "isolate_follower", "deafen_follower", "heal")


@dataclass(frozen=True, order=True)
class Fault:
    """One fault at one simulated instant."""

    at_ms: float
    kind: str
    nodes: tuple[str, ...] = ()
    others: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")

    def describe(self) -> str:
        if self.kind in ("partition", "one_way"):
            arrow = "<-/->" if self.kind == "partition" else "-/->"
            return f"{self.at_ms:.1f}ms {self.kind} {','.join(self.nodes)} {arrow} " \
                   f"{','.join(self.others)}"
        return f"{self.at_ms:.1f}ms {self.kind} {','.join(self.nodes)}".rstrip()


@dataclass(frozen=True)
class NemesisConfig:
    """What kinds of faults to draw, how many and when.

    Each *episode* is a fault and, `duration_ms` later, its repair (a restart
    after a crash, a heal after a partition). Episodes start at random times
    in [start_ms, end_ms) and may overlap: two crashes at once take a
    three-replica group below quorum, which must cost availability, never
    safety.
    """

    kinds: tuple[str, ...] = ("crash", "partition", "one_way")
    episodes: tuple[int, int] = (1, 4)
    start_ms: float = 200.0
    end_ms: float = 2000.0
    duration_ms: tuple[float, float] = (100.0, 800.0)


def nemesis(rng: Random, nodes: list[str], config: NemesisConfig) -> list[Fault]:
    """Draw a fault schedule, sorted by time."""
    faults: list[Fault] = []
    if not config.kinds or not nodes:
        return faults
    for _ in range(rng.randint(*config.episodes)):
        at = rng.uniform(config.start_ms, config.end_ms)
        repair_at = at + rng.uniform(*config.duration_ms)
        kind = config.kinds[rng.randrange(len(config.kinds))]
        faults.extend(_episode(rng, nodes, kind, at, repair_at))
    return sorted(faults)


def _episode(rng: Random, nodes: list[str], kind: str, at: float, repair_at: float) -> list[Fault]:
    if kind == "crash":
        victim = (nodes[rng.randrange(len(nodes))],)
        return [Fault(at, "crash", victim), Fault(repair_at, "restart", victim)]
    if kind == "crash_leader":
        # the restart names no node: the simulator restarts every crashed node
        return [Fault(at, "crash_leader"), Fault(repair_at, "restart")]
    if kind in ("isolate_leader", "deafen_leader", "isolate_follower", "deafen_follower"):
        return [Fault(at, kind), Fault(repair_at, "heal")]
    side_size = rng.randint(1, max(1, len(nodes) - 1))
    side = tuple(sorted(rng.sample(nodes, side_size)))
    rest = tuple(n for n in nodes if n not in side)
    if kind == "partition":
        return [Fault(at, "partition", side, rest), Fault(repair_at, "heal")]
    if kind == "one_way":
        return [Fault(at, "one_way", side, rest), Fault(repair_at, "heal")]
    raise ValueError(f"the nemesis cannot draw {kind!r} episodes")


SECOND_FAILURES = ("crash", "crash_stand_in", "crash_leader", "isolate_leader", "partition")
"""What the second failure of a healing run may be: another member crashes, the
spare that stands in for the lost replica (the log replica) crashes, the leader
crashes or is cut off, or a member is partitioned from the rest."""


def healing_nemesis(rng: Random, members: list[str],
                    zones: list[tuple[str, str]]) -> list[Fault]:
    """A member crashes and stays down; 0.4-1.6 s later, as the group heals, a second
    failure, repaired 0.3-1.5 s after (§5.1). `zones` lists every node and its zone."""
    lost_at = rng.uniform(300.0, 800.0)
    lost = members[rng.randrange(len(members))]
    faults = [Fault(lost_at, "crash", (lost,))]
    at = lost_at + rng.uniform(400.0, 1600.0)
    repair_at = at + rng.uniform(300.0, 1500.0)
    kind = SECOND_FAILURES[rng.randrange(len(SECOND_FAILURES))]
    others = [m for m in members if m != lost]
    if kind in ("crash", "crash_stand_in"):
        zone = dict(zones)[lost]
        stand_ins = [n for n, z in zones if z == zone and n not in members]
        pool = stand_ins[:1] if kind == "crash_stand_in" and stand_ins else others
        victim = (pool[rng.randrange(len(pool))],)
        return faults + [Fault(at, "crash", victim), Fault(repair_at, "restart", victim)]
    if kind == "crash_leader":  # down to the run's end: a restart would revive `lost` too
        return faults + [Fault(at, "crash_leader")]
    if kind == "isolate_leader":
        return faults + [Fault(at, kind), Fault(repair_at, "heal")]
    side = (others[rng.randrange(len(others))],)
    rest = tuple(n for n, _ in zones if n not in side)
    return faults + [Fault(at, "partition", side, rest), Fault(repair_at, "heal")]
