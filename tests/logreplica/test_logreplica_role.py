"""The log-replica role, rule by rule (§5.1; rules L1-L6 of dynamo.logreplica).

Replicas are stepped by hand with tests/paxos's message pump: a group a, b,
c of full replicas, to which d is added as a log replica through the log.
"""

from __future__ import annotations

from paxos_pump import Pump

from dynamo.contract import Receive, Send
from dynamo.paxos import AddMember, ChangeRole, Get, NotLeader, Ok, Put, RemoveMember
from dynamo.paxos.ballot import Ballot
from dynamo.paxos.messages import Prepare, Promise
from dynamo.paxos.operations import Unavailable


def group_with_log_replica() -> tuple[Pump, str]:
    pump = Pump()
    leader = pump.elect()
    pump.request(leader, Put("k", "v0"))
    pump.add_node("d")
    assert pump.request(leader, AddMember("d", role="log")) == Ok()
    pump.advance(200)
    return pump, leader


def test_a_log_replica_joins_through_the_log_and_shows_its_role() -> None:
    """L1 §5.1 "the leader adds a log replica to the group": every member agrees it is one."""
    pump, leader = group_with_log_replica()
    for node in ("a", "b", "c", "d"):
        assert pump.nodes[node].members == ("a", "b", "c", "d")
        assert pump.nodes[node].log_members == ("d",)
    view = pump.nodes["d"].snapshot()
    assert view["role"] == "log" and view["replica_role"] == "log"
    assert pump.nodes[leader].snapshot()["replica_role"] == "full"


def test_a_log_replica_counts_toward_the_write_quorum() -> None:
    """L2 §5.1 a log replica "counts toward the write quorum": a full follower down, writes go on."""
    pump, leader = group_with_log_replica()
    full_followers = [n for n in ("a", "b", "c") if n != leader]
    pump.crash(full_followers[0])
    assert pump.request(leader, Put("k", "v1")) == Ok()  # leader, full follower, log replica
    pump.crash(full_followers[1])
    assert pump.request(leader, Put("k", "v2"), wait_ms=300) is None  # 2 of 4: no quorum


def test_a_log_replica_holds_the_log_and_applies_nothing() -> None:
    """L5 §5.1 "a log replica holds only recent write-ahead-log entries, with no B-tree"."""
    pump, leader = group_with_log_replica()
    assert pump.request(leader, Put("k", "v1")) == Ok()
    pump.advance(200)
    log_replica = pump.nodes["d"]
    assert log_replica.log.commit_index == pump.nodes[leader].log.commit_index
    # v0 came before d was a member (it caught up like any newcomer); v1 is in its log only
    assert log_replica.kv_items() == {"k": "v0"}
    assert any(e.command == pump.nodes[leader].log.entries[e.index].command
               for e in log_replica.log.entries.values()) or log_replica.log.snapshot.index > 0
    assert pump.nodes[leader].kv_items() == {"k": "v1"}


def test_a_log_replica_never_answers_a_read() -> None:
    """L4 §5.1 log replicas "never serve reads": strong or eventually consistent, NotLeader."""
    pump, leader = group_with_log_replica()
    assert pump.request("d", Get("k")) == NotLeader(leader)
    assert pump.request("d", Get("k", consistent=False)) == NotLeader(leader)
    assert pump.request("d", Put("k", "x")) == NotLeader(leader)


def test_a_log_replica_never_stands_for_election() -> None:
    """L3 §5.1 log replicas "never lead": with the leader gone, a full replica takes over."""
    pump, leader = group_with_log_replica()
    pump.crash(leader)
    pump.advance(5000)
    new = pump.leader()
    assert new is not None and new != "d"
    assert pump.request(new, Get("k")) == Ok("v0")
    assert not any(isinstance(m, Prepare) for src, _, m in pump.sent if src == "d")


def test_without_a_second_full_replica_no_one_leads() -> None:
    """L3: leader and one full follower down: the log replica and the last full replica
    make 2 of 4, no election quorum, and the log replica does not try."""
    pump, leader = group_with_log_replica()
    pump.crash(leader)
    pump.crash(next(n for n in ("a", "b", "c") if n != leader))
    pump.advance(5000)
    assert pump.leaders() == []


def test_a_log_replica_truncates_what_every_full_replica_has_applied() -> None:
    """L6 §5.1 "holds only recent" entries: it drops what all full replicas applied, no more."""
    pump, leader = group_with_log_replica()
    for i in range(5):
        assert pump.request(leader, Put("k", f"v{i}")) == Ok()
    pump.advance(300)
    log_replica = pump.nodes["d"]
    applied = min(pump.nodes[n].log.commit_index for n in ("a", "b", "c"))
    assert 0 < log_replica.log.snapshot.index <= applied
    assert all(i > log_replica.log.snapshot.index for i in log_replica.log.entries)


def test_a_full_replica_that_stops_hearing_keeps_the_log_replica_from_truncating() -> None:
    """L6: a full replica that has not said how far it applied holds the truncation back."""
    pump, leader = group_with_log_replica()
    pump.advance(300)
    truncated = pump.nodes["d"].log.snapshot.index
    pump.crash(next(n for n in ("a", "b", "c") if n != leader))
    for i in range(4):
        assert pump.request(leader, Put("k", f"w{i}")) == Ok()
    pump.advance(300)
    assert pump.nodes["d"].log.snapshot.index <= truncated + 1


def test_a_log_replica_makes_no_promise_for_slots_it_has_dropped() -> None:
    """L6: a candidate behind the truncation point is a removed replica: no promise."""
    pump, leader = group_with_log_replica()
    for i in range(3):
        pump.request(leader, Put("k", f"v{i}"))
    pump.advance(300)
    log_replica = pump.nodes["d"]
    assert log_replica.log.snapshot.index > 1
    high = Ballot(99, "z")
    # (handoff=True: past R7's loyalty to the live leader, to reach the rule under test)
    assert log_replica.step(pump.now, Receive("z", Prepare(high, 1, True))) == []
    current = Prepare(high, log_replica.log.commit_index + 1, True)
    answer = log_replica.step(pump.now, Receive("z", current))
    assert [type(e.message) for e in answer if isinstance(e, Send)] == [Promise]


def test_a_full_replica_becomes_a_log_replica_and_not_back() -> None:
    """L1: ChangeRole moves a member to the log role through the log; back to full is refused
    (a log replica's B-tree is stale: autoadmin replaces it with a new full replica, §5.1)."""
    pump = Pump()
    leader = pump.elect()
    follower = pump.followers()[0]
    assert pump.request(leader, ChangeRole(follower, "log")) == Ok()
    pump.advance(200)
    assert pump.nodes[follower].snapshot()["role"] == "log"
    refused = pump.request(leader, ChangeRole(follower, "full"))
    assert isinstance(refused, Unavailable) and "replaced" in refused.reason
    assert pump.request(leader, RemoveMember(follower)) == Ok()
    pump.advance(200)
    assert pump.nodes[leader].members == tuple(sorted({"a", "b", "c"} - {follower}))
    assert pump.nodes[leader].log_members == ()


def test_a_leader_made_a_log_replica_steps_down() -> None:
    """L3: a leader whose own role becomes "log" stops leading once the change is applied."""
    pump = Pump()
    leader = pump.elect()
    assert pump.request(leader, ChangeRole(leader, "log")) == Ok()
    assert pump.nodes[leader].role == "follower"
    pump.advance(3000)
    assert pump.leader() not in (None, leader)
