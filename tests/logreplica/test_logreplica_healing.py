"""Healing (§5.1): the leader adds a log replica, autoadmin builds a full replacement and retires it.

Rules H1-H4 of dynamo.logreplica: placement and autoadmin's decisions as pure
functions, then whole runs in the simulator.
"""

from __future__ import annotations

import subprocess
import sys

from dynamo.logreplica import HealingConfig, choose_spare, next_change
from dynamo.logreplica.__main__ import CRASH_MS, ZONES, lost_writes, run_healing
from dynamo.logreplica.messages import GroupStatus
from dynamo.paxos import AddMember, RemoveMember

CONFIG = HealingConfig(ZONES)


def status(members: tuple[str, ...], logs: tuple[str, ...] = (), silent: tuple[str, ...] = (),
           caught_up: tuple[str, ...] | None = None, pending: bool = False) -> GroupStatus:
    caught = tuple(m for m in members if m not in silent) if caught_up is None else caught_up
    return GroupStatus("1.n1", members, logs, silent, caught, pending, 10)


def test_a_log_replica_goes_to_the_zone_the_group_lost() -> None:
    """§5.1, §6.1 replicas in distinct zones: n2 (az2) is silent, so a spare of az2 stands in."""
    assert choose_spare(ZONES, ("n1", "n2", "n3"), {"n2"}) == "s2"
    assert choose_spare(ZONES, ("n1", "n2", "n3"), {"n2", "s2"}) == "s5"  # s2 is down too
    assert choose_spare(ZONES, ("n1", "n2", "n3"), set()) is None  # every zone has a member


def test_a_full_replacement_goes_where_no_live_full_replica_is() -> None:
    """The log replica in az2 is on its way out: the full replacement may share its zone."""
    members = ("n1", "n2", "n3", "s2")
    assert choose_spare(ZONES, members, {"n2"}, ("s2",), for_log_replica=False) == "s5"
    assert choose_spare(ZONES, members, {"n2"}, ("s2",)) is None  # az2 has a live member


def test_autoadmin_waits_for_the_log_replica_then_replaces_then_retires() -> None:
    """H2-H4, in order: quorum first (the leader's log replica), then the full replacement,
    then the dead replica out, then the log replica out, one change at a time."""
    three = ("n1", "n2", "n3")
    assert next_change(status(three, silent=("n2",)), CONFIG) is None  # H2 is the leader's
    with_log = ("n1", "n2", "n3", "s2")
    assert next_change(status(with_log, ("s2",), ("n2",)), CONFIG) == AddMember("s5")
    assert next_change(status(with_log, ("s2",), ("n2",), pending=True), CONFIG) is None
    copying = ("n1", "n2", "n3", "s2", "s5")
    assert next_change(status(copying, ("s2",), ("n2",), caught_up=("n1", "n3")),
                       CONFIG) is None  # the replacement is still copying
    assert next_change(status(copying, ("s2",), ("n2",)), CONFIG) == RemoveMember("n2")
    assert next_change(status(("n1", "n3", "s2", "s5"), ("s2",)), CONFIG) == RemoveMember("s2")
    assert next_change(status(("n1", "n3", "s5")), CONFIG) is None  # healed


def test_a_silent_log_replica_is_removed_first() -> None:
    """H4: a dead log replica goes at once, so that the leader may add a live one."""
    change = next_change(status(("n1", "n2", "n3", "s2"), ("s2",), ("n2", "s2")), CONFIG)
    assert change == RemoveMember("s2")


def test_a_lost_replica_is_covered_in_seconds_and_healed() -> None:
    """§5.1 "the group regains full durability in seconds": a log replica within 1 s of the
    crash, in the lost zone; healed to three full replicas in three zones; no write lost."""
    sim, records = run_healing(seed=3, writes=60)
    steps = {a.kind: (at, dict(a.detail)) for at, _, a in reversed(sim.announcements)}
    added_at, added = steps["log_replica_added"]
    assert added["zone"] == "az2" and added_at - CRASH_MS < 1000.0
    healed_at, healed = steps["healed"]
    assert healed_at > steps["replacement_added"][0] > added_at
    members = healed["members"]
    assert "n2" not in members and len(members) == 3
    assert sorted(dict(ZONES)[m] for m in members) == ["az1", "az2", "az3"]
    assert all(sim.nodes[m].snapshot()["replica_role"] == "full" for m in members)
    assert lost_writes(sim, records) == []
    acked = [r for r in records if r.outcome == "ok" and r.complete_ms > healed_at]
    assert acked  # the healed group takes writes


def test_the_demo_tells_the_story() -> None:
    """`python -m dynamo.logreplica` runs alone and prints each healing step."""
    done = subprocess.run([sys.executable, "-m", "dynamo.logreplica", "--seed", "7"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for step in ("crashes and stays down", "proposes a log replica", "the write quorum is "
                 "restored", "full replacement", "leaves the group", "healed"):
        assert step in out
    assert out.index("write quorum is restored") < out.index("healed:")
    assert "every member holds the last acknowledged value" in out
