"""Chapter 3, graded: lease arithmetic (`leader_lease_until` and `grant_until` in
dynamo/paxos/lease.py).

A leader serves strongly consistent reads alone only while it holds a lease
granted by a majority, and a new leader waits out the old lease (§3, §6.2).
Clocks drift: each runs between (1-ε) and (1+ε) times real time.
"""

from __future__ import annotations

import itertools

from ch03_simulated import assert_safe, seeds

from dynamo.paxos.lease import grant_until, leader_lease_until

L, EPS = 1000.0, 0.01


def test_a_grantor_waits_lease_ms_times_one_plus_drift() -> None:
    """Rule 1: a grantor refuses other ballots for L·(1+ε) of its own clock."""
    got = grant_until(50.0, L, EPS)
    assert got == 50.0 + L * (1 + EPS), (
        f"§6.2: a replica that grants at 50 ms must refuse other leaders until 50 + L·(1+ε) = "
        f"{50.0 + L * (1 + EPS)} ms of its own clock — its clock may run slow by ε, and the "
        f"leader's lease must expire first in real time; grant_until returned {got}")
    got = grant_until(0.0, 200.0, 0.0)
    assert got == 200.0, f"with no drift (ε = 0) a grant of 200 ms lasts exactly 200 ms; got {got}"


def test_the_lease_rests_on_the_latest_time_a_majority_granted() -> None:
    """Rule 2: with grants for heartbeats sent at 100, 300 and 200, a majority (2) granted 200."""
    for sent, quorum, base in (([100.0, 300.0, 200.0], 2, 200.0),
                               ([100.0, 300.0, 200.0], 3, 100.0),
                               ([400.0, 300.0, 200.0, 100.0, 50.0], 3, 200.0)):
        got = leader_lease_until(sent, quorum, L, EPS)
        assert got == base + L * (1 - EPS), (
            f"§6.2: grants came back for heartbeats the leader sent at {sent} ms; a quorum of "
            f"{quorum} granted at {base} ms or later, so the lease runs to {base} + L·(1−ε) = "
            f"{base + L * (1 - EPS)} ms (the leader's clock may run fast by ε); got {got}")


def test_no_lease_without_a_majority_of_grants() -> None:
    """Rule 2: fewer grants than a quorum is no lease at all."""
    for sent, quorum in (([100.0], 2), ([], 1)):
        got = leader_lease_until(sent, quorum, L, EPS)
        assert got == float("-inf"), (
            f"§6.2: {len(sent)} grant(s) cannot make a quorum of {quorum}: no lease at all "
            f"(-inf), or a leader could serve consistent reads alone; got {got}")


def test_a_lease_ends_before_its_grants_under_any_drift() -> None:
    """The safety argument: whatever the clock rates within ε, the leader's lease ends (in real
    time) no later than the grant of any member of its majority."""
    for rate_leader, rate_grantor, delay in itertools.product(
            (1 - EPS, 1.0, 1 + EPS), (1 - EPS, 1.0, 1 + EPS), (0.0, 3.0, 40.0)):
        sent_real = 1000.0  # the leader sends its heartbeat at this real time...
        sent_local = sent_real * rate_leader  # ...which its clock reads as this
        lease_local = leader_lease_until([sent_local, sent_local], 2, L, EPS)
        lease_end_real = sent_real + (lease_local - sent_local) / rate_leader
        granted_real = sent_real + delay  # the grantor grants when the heartbeat arrives
        granted_local = granted_real * rate_grantor
        grant_end_real = granted_real + (grant_until(granted_local, L, EPS) - granted_local) / rate_grantor
        assert lease_end_real <= grant_end_real + 1e-9, (
            f"§6.2 safety: with the leader's clock at {rate_leader}× and the grantor's at "
            f"{rate_grantor}× real time and a {delay} ms delivery delay, the lease ends at real "
            f"time {lease_end_real:.2f} ms but the grant at {grant_end_real:.2f} ms — a new "
            "leader could serve while the old one still believes it holds the lease")


def test_leases_never_overlap_through_failovers() -> None:
    """Simulated: every scenario that can break the lease (§3, §6.2). An *isolated* leader, cut
    off from its peers but not from its clients, keeps serving consistent reads while a
    successor is elected, unless its lease runs out before the grants it rests on; leaders
    also crash mid-workload, and links fail one way (gray failures). At no real instant may
    two replicas hold a lease, and every consistent read must be linearizable. A failure
    prints the replay command."""
    assert_safe("paxos-isolation", seeds(10))
    assert_safe("paxos-failover", seeds(15))
    assert_safe("paxos-gray", seeds(15))
