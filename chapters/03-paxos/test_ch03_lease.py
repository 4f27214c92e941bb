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
    assert grant_until(50.0, L, EPS) == 50.0 + L * (1 + EPS)
    assert grant_until(0.0, 200.0, 0.0) == 200.0


def test_the_lease_rests_on_the_latest_time_a_majority_granted() -> None:
    """Rule 2: with grants for heartbeats sent at 100, 300 and 200, a majority (2) granted 200."""
    assert leader_lease_until([100.0, 300.0, 200.0], 2, L, EPS) == 200.0 + L * (1 - EPS)
    assert leader_lease_until([100.0, 300.0, 200.0], 3, L, EPS) == 100.0 + L * (1 - EPS)
    assert leader_lease_until([400.0, 300.0, 200.0, 100.0, 50.0], 3, L, EPS) == 200.0 + L * (1 - EPS)


def test_no_lease_without_a_majority_of_grants() -> None:
    """Rule 2: fewer grants than a quorum is no lease at all."""
    assert leader_lease_until([100.0], 2, L, EPS) == float("-inf")
    assert leader_lease_until([], 1, L, EPS) == float("-inf")


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
        assert lease_end_real <= grant_end_real + 1e-9, (rate_leader, rate_grantor, delay)


def test_leases_never_overlap_through_failovers() -> None:
    """Simulated: leaders crash mid-workload; at no real instant do two replicas hold a lease,
    and every consistent read is linearizable. A failure prints the replay command."""
    assert_safe("paxos-failover", seeds(15))
    assert_safe("paxos-gray", seeds(15))
