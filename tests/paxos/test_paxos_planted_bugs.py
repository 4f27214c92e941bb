"""Each planted bug is one small, real deviation from a rule, and it shows.

The simulator's scenarios are expected to catch these (as linearizability or
durability violations); here each is pinned to the rule it breaks. The bugs
are subclasses in dynamo/paxos/planted.py: the code students read has no trace
of them.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from paxos_pump import Pump

import dynamo.paxos
from dynamo.contract import Receive
from dynamo.paxos import Get, Ok, PaxosConfig, Put, Replica, Unavailable
from dynamo.paxos.ballot import Ballot
from dynamo.paxos.messages import Accept, Accepted, Nack
from dynamo.paxos.planted import PLANTED_BUGS, planted_factory


def pump_with(bug: str | None) -> Pump:
    return Pump(replica_class=PLANTED_BUGS[bug] if bug else Replica)


def test_commit_before_quorum_acknowledges_a_write_no_follower_has() -> None:
    """Breaks §3's "acknowledged once a quorum has it": the leader acks on its own accept."""
    for bug, expected in ((None, None), ("commit_before_quorum", Ok())):
        pump = pump_with(bug)
        leader = pump.elect()
        for follower in pump.followers():
            pump.crash(follower)
        assert pump.request(leader, Put("k", "v")) == expected


def test_read_without_lease_lets_a_deposed_leader_answer_stale_reads() -> None:
    """Breaks §6.2's lease check: a cut-off old leader still answers consistent reads."""
    for bug in (None, "read_without_lease"):
        pump = pump_with(bug)
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
        pump = pump_with(bug)
        pump.elect()
        follower = pump.nodes[pump.followers()[0]]
        stale = Ballot(0, "a")
        effects = follower.step(pump.now, Receive("x", Accept(stale, ((99, Put("k", "old")),), 0)))
        answers = [e.message for e in effects if hasattr(e, "message")]
        assert [type(m) for m in answers] == [reply]
        assert follower.acceptor.promised > stale  # the promise itself is unchanged either way


def test_the_code_students_read_has_no_trace_of_the_planted_bugs() -> None:
    """Planted bugs live in planted.py only: no other module of dynamo.paxos names one."""
    package = Path(dynamo.paxos.__file__).parent
    for source in sorted(package.glob("*.py")):
        if source.name == "planted.py":
            continue
        text = source.read_text()
        for word in ("planted", *PLANTED_BUGS):
            assert word not in text, f"{source.name} mentions {word!r}"


def test_the_factory_builds_each_bug_and_refuses_unknown_ones() -> None:
    members = ("a", "b", "c")
    for bug, cls in [*PLANTED_BUGS.items(), (None, Replica)]:
        replica = planted_factory(members, PaxosConfig(), bug)("a", [], random.Random(1))
        assert type(replica) is cls
    with pytest.raises(ValueError, match="unknown planted bug"):
        planted_factory(members, PaxosConfig(), "no_such_bug")
