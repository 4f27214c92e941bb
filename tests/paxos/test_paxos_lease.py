"""Leader leases, consistent and eventual reads, redirects (§3, §6.2, [DG: HowItWorks.ReadConsistency])."""

from __future__ import annotations

from paxos_pump import Pump

from dynamo.paxos import Get, NotLeader, Ok, PaxosConfig, Put, Unavailable
from dynamo.paxos.messages import LeaseGrant

CONFIG = PaxosConfig()
GRANT_MS = CONFIG.lease_ms * (1 + CONFIG.max_drift)


def test_writes_and_strong_reads_at_a_follower_are_redirected_to_the_leader() -> None:
    """§3 only the leader serves writes and strongly consistent reads; others answer NotLeader."""
    pump = Pump()
    leader = pump.elect()
    follower = pump.followers()[0]
    assert pump.request(follower, Put("k", "v")) == NotLeader(leader)
    assert pump.request(follower, Get("k")) == NotLeader(leader)


def test_eventually_consistent_reads_are_served_by_any_replica() -> None:
    """§3 any replica serves eventually consistent reads, from what it has applied."""
    pump = Pump()
    leader = pump.elect()
    pump.request(leader, Put("k", "v"))
    pump.advance(CONFIG.heartbeat_ms)  # the followers learn the commit index
    for node in pump.ids:
        assert pump.request(node, Get("k", consistent=False)) == Ok("v")


def test_a_leader_serves_strong_reads_only_while_it_holds_its_lease() -> None:
    """§6.2 the leader answers consistent reads alone only under a lease granted by a majority."""
    pump = Pump()
    leader = pump.elect()
    pump.request(leader, Put("k", "v"))
    assert pump.request(leader, Get("k")) == Ok("v")
    pump.isolate(leader)
    pump.advance(CONFIG.lease_ms * (1 - CONFIG.max_drift) + 5)  # no grants: the lease runs out
    assert pump.nodes[leader].role == "leader"  # ...though it still believes it leads
    refused = pump.request(leader, Get("k"))
    assert isinstance(refused, Unavailable) and "lease" in refused.reason
    assert isinstance(pump.request(leader, Put("k", "w")), Unavailable)
    assert pump.request(leader, Get("k", consistent=False)) == Ok("v")


def test_a_new_leader_waits_out_the_old_lease() -> None:
    """§6.2 a newly elected leader serves no writes and no consistent reads until the previous
    leader's lease has expired."""
    pump = Pump()
    old = pump.elect()
    pump.request(old, Put("k", "v1"))
    old_lease = pump.nodes[old].leader.lease.until
    pump.crash(old)
    while not pump.leaders():
        pump.advance(5)
    new = pump.leader()
    elected_at = pump.now
    assert elected_at < old_lease  # elected well before the old lease ends...
    refused = pump.request(new, Put("k", "v2"))
    assert isinstance(refused, Unavailable) and "lease" in refused.reason
    pump.elect()
    acquired_at = pump.kinds("lease_acquired", new)[-1][0]
    assert acquired_at >= old_lease  # ...and serves only after it
    assert pump.request(new, Put("k", "v2")) == Ok()


def test_two_leases_never_overlap_when_the_old_leader_is_cut_off() -> None:
    """§6.2 a deposed leader that does not know it yet keeps its lease; no one else gets one meanwhile."""
    pump = Pump()
    old = pump.elect()
    pump.request(old, Put("k", "v1"))
    pump.isolate(old)
    old_lease = pump.nodes[old].leader.lease.until  # no grant can reach it any more
    first_write_at = None
    for _ in range(600):
        pump.advance(5)
        holders = [n for n in pump.leaders() if pump.nodes[n].leader.lease.holds(pump.now)]
        assert len(holders) <= 1, f"two leases at {pump.now}: {holders}"
        new = [n for n in holders if n != old]
        if new and first_write_at is None and pump.request(new[0], Put("k", "v2")) == Ok():
            first_write_at = pump.now
    assert first_write_at is not None and first_write_at >= old_lease


def test_a_restarted_replica_grants_no_lease_for_one_lease_period() -> None:
    """Lease rule 4: a grant made before a crash was not persisted, so a restarted replica
    refuses every lease for lease_ms*(1+ε)."""
    pump = Pump()
    leader = pump.elect()
    follower = pump.followers()[0]
    pump.crash(follower)
    pump.advance(100)
    restarted_at = pump.now
    pump.start(follower)
    seen = len(pump.sent)
    pump.advance(GRANT_MS + 200)
    grants = [(m.sent_at, m.granted) for src, dst, m in pump.sent[seen:]
              if src == follower and dst == leader and isinstance(m, LeaseGrant)]
    assert grants
    assert not any(granted for sent_at, granted in grants if sent_at < restarted_at + GRANT_MS)
    assert any(granted for sent_at, granted in grants if sent_at >= restarted_at + GRANT_MS)


def test_a_fresh_group_leases_at_once() -> None:
    """A replica with no records has promised nothing, so it granted nothing: no wait at first boot."""
    pump = Pump()
    leader = pump.elect()
    elected_at = pump.kinds("elected", leader)[0][0]
    assert pump.kinds("lease_acquired", leader)[0][0] == elected_at


def test_a_cut_off_leader_serves_nothing_and_steps_down_when_it_hears_a_higher_ballot() -> None:
    """§6.2 a leader that lost its peers keeps no lease; on reconnecting it learns it was deposed."""
    pump = Pump()
    old = pump.elect()
    pump.isolate(old)
    pump.advance(CONFIG.lease_ms * 1.2)
    assert pump.nodes[old].role == "leader" and pump.leaders() != [old]  # two claim to lead...
    assert isinstance(pump.request(old, Get("k")), Unavailable)  # ...one of them serves nothing
    pump.heal()
    pump.advance(CONFIG.heartbeat_ms * 2)
    assert pump.nodes[old].role == "follower"
    assert pump.kinds("stepped_down", old)


def test_a_leader_that_hears_no_majority_steps_down_so_the_others_can_elect() -> None:
    """§6.2 gray failure: a leader that can send but not hear keeps the followers loyal by its
    heartbeats; it must give up leadership for the group to elect a leader it can reach."""
    pump = Pump()
    deaf = pump.elect()
    for follower in pump.followers():
        pump.blocked.add((follower, deaf))  # the leader's inbound links fail; outbound work
    pump.advance(2 * CONFIG.lease_ms + 100)
    reasons = [dict(a.detail)["reason"] for _, _, a in pump.kinds("stepped_down", deaf)]
    assert reasons and "no majority" in reasons[0]
    new = pump.elect()
    assert new != deaf
    assert pump.request(new, Put("k", "v")) == Ok()
