"""Chapter 3, graded: the pre-vote rule (`grants_pre_vote` and `may_stand` in
dynamo/paxos/prevote.py).

§6.2: a follower that wants to trigger a failover first asks the other replicas
whether they can still communicate with the leader, and drops the attempt if
they can. A replica grants the request only when it has heard no live leader
for the shortest election timeout (the *patience*); the follower stands for
election only with grants from a majority of the group, its own included.
"""

from __future__ import annotations

from dataclasses import replace

from ch03_simulated import assert_safe, seeds

from dynamo.paxos.prevote import grants_pre_vote, may_stand
from dynamo.sim.faults import Fault
from dynamo.sim.scenarios import SCENARIOS, run

PATIENCE = 150.0
THREE = ("a", "b", "c")
FIVE = ("a", "b", "c", "d", "e")


def test_a_replica_that_hears_its_leader_refuses() -> None:
    """P2: a leader heard 20 ms ago (or just now) is live: no pre-vote for anyone."""
    for now, heard in ((1000.0, 980.0), (1000.0, 1000.0), (500.0, 351.0)):
        got = grants_pre_vote(now, heard, PATIENCE)
        assert got is False, (
            f"§6.2: at {now} ms a replica that last heard its leader at {heard} ms "
            f"({now - heard:g} ms ago, less than the patience of {PATIENCE:g} ms) still "
            f"hears a healthy leader and must answer no, or a follower cut off for a "
            f"moment would depose it; grants_pre_vote returned {got!r}")


def test_a_replica_whose_leader_fell_silent_grants() -> None:
    """P2: a leader silent for the patience or longer, or never heard of, no longer counts."""
    for now, heard in ((1000.0, 800.0), (1000.0, 850.0), (300.0, float("-inf"))):
        got = grants_pre_vote(now, heard, PATIENCE)
        assert got is True, (
            f"§6.2: at {now} ms a replica that last heard a leader at {heard} ms has heard "
            f"none for at least the patience ({PATIENCE:g} ms): it must grant, or a group "
            f"whose leader crashed could never elect another; grants_pre_vote returned {got!r}")


def test_only_a_majority_of_the_members_lets_a_follower_stand() -> None:
    """P3: grants from a majority of the members, the asker's own included."""
    cases = ((["a"], THREE, False), (["a", "b"], THREE, True), (["a", "b", "c"], THREE, True),
             (["a", "b"], FIVE, False), (["a", "c", "e"], FIVE, True))
    for granted, members, expected in cases:
        got = may_stand(granted, members)
        assert got is expected, (
            f"§6.2: with grants from {granted} in a group of {list(members)}, a majority is "
            f"{len(members) // 2 + 1}: the follower {'may' if expected else 'must not'} stand "
            f"for election; may_stand returned {got!r}")


def test_grants_from_outside_the_group_do_not_count() -> None:
    """P3: a replica that is not a member (removed, or never added) cannot make a majority."""
    got = may_stand(["a", "x", "y"], THREE)
    assert got is False, (
        f"§6.2: only members' answers count towards the majority; 'x' and 'y' are not in "
        f"{list(THREE)}, so one member's grant is not a majority; may_stand returned {got!r}")


def test_a_cut_off_follower_deposes_no_one_and_a_crashed_leader_is_replaced() -> None:
    """Simulated, with your rule in every replica: a follower cut off from the group for
    2 s (paxos-rejoin), or only deaf to the leader while it still talks to the other
    follower, causes no election after the group's first; and a crashed leader is still
    replaced, safely (paxos-failover). A failure prints the replay command."""
    rejoin = SCENARIOS["paxos-rejoin"]
    deaf = replace(rejoin, faults=(Fault(500.0, "deafen_follower"), Fault(2500.0, "heal")))
    for scenario in (rejoin, deaf):
        how = scenario.faults[0].kind
        for seed in seeds(12):
            elections = run(scenario, seed).elections
            assert elections == 1, (
                f"§6.2: seed {seed} of paxos-rejoin with a {how} fault saw {elections} "
                f"elections, not 1: " + (
                    "a follower that could not hear the leader was granted pre-votes by peers "
                    "that still heard it, stood, and its higher ballot deposed the healthy "
                    "leader once the link healed" if elections > 1 else
                    "the group never elected a leader: a follower that hears no leader must "
                    "be granted the pre-vote"))
    assert_safe("paxos-failover", seeds(8))
    failover = SCENARIOS["paxos-failover"]
    assert all(run(failover, seed).failover_ms is not None for seed in seeds(6)), (
        "§6.2: after the leader crashed no write was acknowledged again: the followers "
        "must grant each other's pre-votes once the leader falls silent")
