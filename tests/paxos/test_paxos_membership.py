"""Membership change through the log, one member at a time (§3, §4.3, §5.1)."""

from __future__ import annotations

from paxos_pump import Pump

from dynamo.paxos import AddMember, Get, Ok, Put, RemoveMember, Unavailable


def test_an_added_replica_catches_up_and_counts_in_the_quorum() -> None:
    """§4.3 a replica is added through the log; it learns the items, then votes like any member."""
    pump = Pump()
    leader = pump.elect()
    pump.request(leader, Put("k", "v"))
    pump.add_node("d")
    assert pump.nodes["d"].role == "follower" and "d" not in pump.nodes["d"].members
    assert pump.request(leader, AddMember("d")) == Ok()
    pump.advance(200)
    for node in pump.ids:
        assert pump.nodes[node].members == ("a", "b", "c", "d")
    assert pump.nodes["d"].kv_items() == {"k": "v"}
    # four members: a quorum is three, so with one follower down writes still commit...
    others = [n for n in pump.ids if n not in (leader, "d")]
    pump.crash(others[0])
    assert pump.request(leader, Put("k", "w")) == Ok()
    # ...and with two down they do not.
    pump.crash(others[1])
    assert pump.request(leader, Put("k", "x"), wait_ms=200) is None


def test_a_removed_replica_no_longer_counts() -> None:
    """§3 autoadmin replaces replicas: after removal, the quorum is a majority of the rest."""
    pump = Pump()
    leader = pump.elect()
    gone, stays = pump.followers()
    assert pump.request(leader, RemoveMember(gone)) == Ok()
    pump.advance(100)
    assert pump.nodes[leader].members == tuple(sorted((leader, stays)))
    pump.crash(gone)
    assert pump.request(leader, Put("k", "v")) == Ok()  # 2 of 2
    pump.advance(1000)
    assert pump.leaders() == [leader]


def test_only_one_membership_change_at_a_time() -> None:
    """One at a time: a second change waits until the first is chosen."""
    pump = Pump()
    leader = pump.elect()
    for follower in pump.followers():
        pump.crash(follower)
    pump.add_node("d")
    assert pump.request(leader, AddMember("d")) is None  # in flight, no quorum yet
    refused = pump.request(leader, AddMember("e"))
    assert isinstance(refused, Unavailable) and "membership" in refused.reason


def test_a_removed_leader_steps_down_and_the_rest_elect_a_new_one() -> None:
    """A leader removed from the group stops leading once the removal is applied."""
    pump = Pump()
    leader = pump.elect()
    pump.request(leader, Put("k", "v"))
    assert pump.request(leader, RemoveMember(leader)) == Ok()
    assert pump.nodes[leader].role == "follower"
    pump.advance(3000)
    new = pump.leader()
    assert new != leader
    assert leader not in pump.nodes[new].members
    assert pump.request(new, Get("k")) == Ok("v")
    assert pump.nodes[leader].role == "follower"  # a non-member never runs an election
