"""Healing groups in the simulator, with your `choose_spare` placing their new members.

Not graded: these runs stand on chapter 3's Paxos as well as on your placement, and a
graded test may depend on its own chapter's code only (a handout of chapter 3 stubs
the acceptor that every run needs). Run them once the graded tests pass,
`pytest chapters/04-log-replicas`: the leader and autoadmin call your function, and a
wrong placement shows here as a group that heals into two replicas in one zone, or
not at all.
"""

from __future__ import annotations

from typing import Any

from dynamo.cli.sim import judge
from dynamo.logreplica.__main__ import CRASH_MS, ZONES, lost_writes, run_healing
from dynamo.sim.scenarios import SCENARIOS, run

PLACEMENT = ("P2: a log replica goes to a zone with no live member; P3: a full replacement "
             "to a zone with no live full member (dynamo/logreplica/placement.py)")


def zone(node: str) -> str:
    return dict(ZONES)[node]


def first(steps: list[tuple[float, str, dict[str, Any]]], kind: str) -> tuple[float, dict[str, Any]]:
    """When the first announcement of `kind` came, and its detail."""
    found = [(at, detail) for at, announced, detail in steps if announced == kind]
    kinds = [announced for _, announced, _ in steps]
    assert found, f"no {kind!r} announced; the healing steps were {kinds}"
    return found[0]


def test_a_lost_replica_is_covered_in_its_zone_and_healed_to_three_zones() -> None:
    """§5.1, §6.1: a replica of the demo's three-replica group crashes for good. The leader adds
    a log replica in the lost replica's zone within seconds, autoadmin builds a full
    replacement there, and the group ends as three full replicas in three zones, with every
    acknowledged write on every one of them."""
    for seed, lost in ((7, "n2"), (3, "n1"), (11, "n3")):
        sim, records = run_healing(seed, writes=40, lost=lost)
        steps = [(at, a.kind, dict(a.detail)) for at, _, a in sim.announcements]
        where = f"the demo's group, seed {seed}, with {lost} ({zone(lost)}) lost at {CRASH_MS:.0f} ms"
        at, log_replica = first(steps, "log_replica_added")
        assert log_replica["zone"] == zone(lost) and at - CRASH_MS < 3000.0, (
            f"{where}: the log replica should join in {zone(lost)} within seconds; it joined on "
            f"{log_replica['replica']} ({log_replica['zone']}) at {at:.0f} ms.\n{PLACEMENT}")
        _, replacement = first(steps, "replacement_added")
        assert replacement["zone"] == zone(lost), (
            f"{where}: the full replacement should join in {zone(lost)}; it joined on "
            f"{replacement['replica']} ({replacement['zone']}).\n{PLACEMENT}")
        _, healed = first(steps, "healed")
        zones = sorted(zone(member) for member in healed["members"])
        assert zones == ["az1", "az2", "az3"], (
            f"{where}: healed as {healed['members']}, in zones {zones}: the group should be "
            f"three full replicas in three zones.\n{PLACEMENT}")
        problems = lost_writes(sim, records)
        assert not problems, f"{where}: " + "; ".join(problems[:3])


def test_healing_loses_no_acknowledged_write_while_a_second_failure_strikes() -> None:
    """§5.1, §5.4: the scenario logreplica-heal loses a replica, and while the group heals a
    second failure strikes: another member or the stand-in crashes, the leader crashes or is
    cut off, a member is partitioned away. Every history must be linearizable, no
    acknowledged write lost, a log replica never leads or serves a read, every committed
    write on a write quorum's disks; and the groups heal."""
    runs = range(20)
    healed = 0
    for seed in runs:
        result = run(SCENARIOS["logreplica-heal"], seed)
        status, problems = judge(result)
        assert status != "violation", (
            f"seed {seed} of logreplica-heal: {'; '.join(problems[:3])}\n"
            f"replay: dynamo sim replay --seed {seed} --scenario logreplica-heal --minimise")
        healed += "healed" in result.healing
    assert healed >= 0.8 * len(runs), (
        f"only {healed} of {len(runs)} runs of logreplica-heal (seeds {runs.start}-"
        f"{runs.stop - 1}) healed.\n{PLACEMENT}")
