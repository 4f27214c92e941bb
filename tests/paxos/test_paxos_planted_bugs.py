"""Each planted bug is one small, real deviation from a rule, and it shows.

The simulator's scenarios are expected to catch these (as linearizability or
durability violations); here each is pinned to the rule it breaks.
"""

from __future__ import annotations

from paxos_pump import Pump

from dynamo.contract import Receive
from dynamo.paxos import Get, Ok, PaxosConfig, Put, Unavailable
from dynamo.paxos.ballot import Ballot
from dynamo.paxos.messages import Accept, Accepted, Nack


def test_commit_before_quorum_acknowledges_a_write_no_follower_has() -> None:
    """Breaks §3's "acknowledged once a quorum has it": the leader acks on its own accept."""
    for bug, expected in ((None, None), ("commit_before_quorum", Ok())):
        pump = Pump(config=PaxosConfig(planted_bug=bug))
        leader = pump.elect()
        for follower in pump.followers():
            pump.crash(follower)
        assert pump.request(leader, Put("k", "v")) == expected


def test_read_without_lease_lets_a_deposed_leader_answer_stale_reads() -> None:
    """Breaks §6.2's lease check: a cut-off old leader still answers consistent reads."""
    for bug in (None, "read_without_lease"):
        pump = Pump(config=PaxosConfig(planted_bug=bug))
        old = pump.elect()
        pump.request(old, Put("k", "v1"))
        pump.isolate(old)
        while not [n for n in pump.leaders() if n != old and
                   pump.nodes[n].leader.lease.holds(pump.now)]:
            pump.advance(10)
        new = next(n for n in pump.leaders() if n != old)
        assert pump.nodes[old].role == "leader"  # cut off, it has not heard of the new ballot
        assert pump.request(new, Put("k", "v2")) == Ok()
        stale = pump.request(old, Get("k"))
        if bug is None:
            assert isinstance(stale, Unavailable)
        else:
            assert stale == Ok("v1")  # v2 was acknowledged before this read began


def test_accept_stale_ballot_accepts_below_its_promise() -> None:
    """Breaks Paxos phase 2b: an acceptor must refuse a ballot lower than the one it promised."""
    for bug, reply in ((None, Nack), ("accept_stale_ballot", Accepted)):
        pump = Pump(config=PaxosConfig(planted_bug=bug))
        pump.elect()
        follower = pump.nodes[pump.followers()[0]]
        stale = Ballot(0, "a")
        effects = follower.step(pump.now, Receive("x", Accept(stale, ((99, Put("k", "old")),), 0)))
        answers = [e.message for e in effects if hasattr(e, "message")]
        assert [type(m) for m in answers] == [reply]
        assert follower.acceptor.promised > stale  # the promise itself is unchanged either way
