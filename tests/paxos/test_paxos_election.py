"""Leader election and log recovery (§3, §6.2; Paxos phase 1)."""

from __future__ import annotations

import random

from paxos_pump import Pump

from dynamo.contract import Receive
from dynamo.paxos import Get, Ok, PaxosConfig, Put, Replica, Unavailable
from dynamo.paxos.ballot import Ballot
from dynamo.paxos.messages import Accepted, Nack, Prepare, Promise


def test_three_replicas_elect_exactly_one_leader() -> None:
    """§3 "any replica can trigger a round of the election": one wins, the others follow it."""
    pump = Pump()
    leader = pump.elect()
    assert pump.leaders() == [leader]
    for follower in pump.followers():
        assert pump.nodes[follower].leader_id == leader
        assert pump.nodes[follower].snapshot()["promised"] == pump.nodes[leader].snapshot()["ballot"]
    assert [a[1] for a in pump.kinds("elected")] == [leader]


def test_randomised_timeouts_come_from_the_replicas_rng() -> None:
    """Election timeouts are drawn from the seeded RNG, so seeds differ and repeat."""
    firsts = {Pump(seed=seed).elect() for seed in range(8)}
    assert len(firsts) > 1
    assert Pump(seed=3).elect() == Pump(seed=3).elect()


def test_followers_elect_a_new_leader_when_the_leader_crashes() -> None:
    """§6.2 a follower that detects the leader as failed proposes an election to elect itself."""
    pump = Pump()
    old = pump.elect()
    old_ballot = pump.nodes[old].leader.ballot
    pump.crash(old)
    new = pump.elect()
    assert new != old
    assert pump.nodes[new].leader.ballot > old_ballot


def test_new_leader_recovers_a_write_a_majority_accepted() -> None:
    """Paxos phase 1: a command accepted by a majority is re-proposed, so it is never lost."""
    pump = Pump()
    old = pump.elect()
    for follower in pump.followers():
        pump.blocked.add((follower, old))  # the followers accept, but the leader never hears
    assert pump.request(old, Put("k", "v1")) is None  # not acknowledged: no quorum heard
    pump.crash(old)
    pump.heal()
    new = pump.elect()
    elected = [a for a in pump.kinds("elected") if a[1] == new][-1][2]
    assert dict(elected.detail)["recovered"] >= 1
    assert pump.request(new, Get("k")) == Ok("v1")


def test_new_leader_serves_only_after_its_recovered_log_is_chosen() -> None:
    """§3 a new leader recovers the log (phases 1 and 2) before it serves anything."""
    pump = Pump()
    old = pump.elect()
    pump.request(old, Put("k", "v1"))
    pump.crash(old)
    pump.drop_types.add(Accepted)  # phase 2 answers are lost: recovery cannot finish
    for _ in range(600):
        pump.advance(5)
        if pump.leaders():
            break
    new = pump.leader()
    pump.advance(1500)  # long past any lease: only recovery holds it back
    refused = pump.request(new, Get("k"))
    assert isinstance(refused, Unavailable) and "recovering" in refused.reason
    assert isinstance(pump.request(new, Put("k", "v2")), Unavailable)
    pump.drop_types.clear()
    pump.advance(PaxosConfig().heartbeat_ms)  # the leader sends its Accepts again
    assert pump.request(new, Get("k")) == Ok("v1")


def test_a_replica_that_hears_its_leader_refuses_to_elect_another() -> None:
    """§6.2 gray failures: a follower that can reach a healthy leader abandons the election."""
    pump = Pump()
    leader = pump.elect()
    follower = pump.followers()[0]
    replica = pump.nodes[follower]
    ballot = Ballot(replica.acceptor.promised.round + 5, "zz")
    effects = replica.step(pump.now, Receive("zz", Prepare(ballot, 1)))
    replies = [e.message for e in effects if hasattr(e, "message")]
    assert replies and isinstance(replies[0], Nack)
    assert replica.leader_id == leader
    assert replica.acceptor.promised < ballot


def test_a_replica_without_a_leader_promises_and_persists_before_answering() -> None:
    """Paxos phase 1b through a whole replica: a fresh replica promises and persists first."""
    replica = Replica("a", ("a", "b", "c"), [], random.Random(1), PaxosConfig())
    effects = replica.step(0.0, Receive("b", Prepare(Ballot(1, "b"), 1)))
    kinds = [type(e).__name__ for e in effects]
    assert kinds == ["Persist", "Send"]
    assert isinstance(effects[1].message, Promise)


def test_a_candidate_that_loses_retries_with_a_higher_ballot() -> None:
    """Ballots grow: a replica that hears of a higher ballot runs its next election above it."""
    pump = Pump()
    pump.elect()
    before = {n: pump.nodes[n].acceptor.promised for n in pump.ids}
    pump.crash(pump.leader())
    new = pump.elect()
    assert pump.nodes[new].leader.ballot.round > max(b.round for b in before.values())
