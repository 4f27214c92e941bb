"""Log replication: quorum commit, in-order apply, catch-up, snapshots, durable records (§3, §5.1, §6.1)."""

from __future__ import annotations

import random

from paxos_pump import Pump

from dynamo.contract import ClientRequest, Persist, Send
from dynamo.paxos import (
    ConditionalPut,
    ConditionFailed,
    Delete,
    Get,
    Ok,
    PaxosConfig,
    Put,
    Replica,
    Unavailable,
)
from dynamo.paxos.log import AcceptedEntry, Promised, Snapshot
from dynamo.paxos.messages import Commit, InstallSnapshot
from dynamo.paxos.statemachine import WriteRecord


def test_a_write_is_acknowledged_once_a_quorum_has_it() -> None:
    """§3 the leader acks "once a quorum of peers persists the log record": 2 of 3 (§6.1)."""
    pump = Pump()
    leader = pump.elect()
    down = pump.followers()
    for follower in down:
        pump.crash(follower)
    assert pump.request(leader, Put("k", "v"), wait_ms=200) is None  # alone: no quorum, no ack
    pump.start(down[0])  # one follower back: leader + follower = 2 of 3
    pump.advance(100)
    assert pump.replies[("client", pump.next_request)] == Ok()
    written = {"k": {"S": "k"}, "v": {"S": "v"}}  # the log holds the after-image (§3)
    assert any(isinstance(r, AcceptedEntry) and isinstance(r.command, WriteRecord)
               and [c.item for c in r.command.changes] == [written]
               for r in pump.records[down[0]])


def test_the_leader_persists_before_it_sends_its_accept() -> None:
    """Contract rule 2: the leader's own acceptance is durable before its peers hear of it."""
    pump = Pump()
    leader = pump.elect()
    replica = pump.nodes[leader]
    effects = replica.step(pump.now, ClientRequest("c", 1, Put("k", "v")))
    kinds = [type(e) for e in effects]
    assert kinds.index(Persist) < kinds.index(Send)


def test_followers_apply_the_same_commands_in_the_same_order() -> None:
    """§3 every replica builds its items from the replicated log, in log order."""
    pump = Pump()
    leader = pump.elect()
    ops = [Put("a", "1"), Put("b", "2"), ConditionalPut("a", "3", "1"), Delete("b"), Put("c", "4")]
    for op in ops:
        assert pump.request(leader, op) == Ok()
    pump.advance(100)
    views = [pump.nodes[n].snapshot() for n in pump.ids]
    assert all(pump.nodes[n].kv_items() == {"a": "3", "c": "4"} for n in pump.ids)
    assert len({v["commit_index"] for v in views}) == 1
    committed = {n: [] for n in pump.ids}
    for _, node, announce in pump.kinds("committed"):
        committed[node] += list(dict(announce.detail)["commands"])
    assert committed["a"] == committed["b"] == committed["c"]


def test_conditional_put_is_decided_when_applied() -> None:
    """DynamoDB conditional writes: a false condition is a definite ConditionFailed with the current value."""
    pump = Pump()
    leader = pump.elect()
    assert pump.request(leader, ConditionalPut("k", "v1", None)) == Ok()
    assert pump.request(leader, ConditionalPut("k", "v2", None)) == ConditionFailed("v1")
    assert pump.request(leader, ConditionalPut("k", "v2", "v0")) == ConditionFailed("v1")
    assert pump.request(leader, ConditionalPut("k", "v2", "v1")) == Ok()
    assert pump.request(leader, Delete("k")) == Ok()
    assert pump.request(leader, Delete("k")) == Ok()  # deleting a missing item succeeds
    assert pump.request(leader, Get("k")) == Ok(None)


def test_a_restarted_replica_catches_up_by_log_shipping() -> None:
    """§6.1 healing: a replica that missed writes is sent the chosen entries it lacks."""
    pump = Pump()
    leader = pump.elect()
    lagging = pump.followers()[0]
    pump.crash(lagging)
    for i in range(5):
        assert pump.request(leader, Put(f"k{i}", str(i))) == Ok()
    pump.start(lagging)
    pump.advance(200)
    assert pump.nodes[lagging].kv_items() == pump.nodes[leader].kv_items()
    assert any(dst == lagging and isinstance(m, Commit) for _, dst, m in pump.sent)


def test_a_replica_behind_the_leaders_snapshot_gets_the_snapshot() -> None:
    """§5.1 the log is truncated once applied; a replica that lags that far is sent a snapshot."""
    pump = Pump(config=PaxosConfig(snapshot_every=4))
    leader = pump.elect()
    lagging = pump.followers()[0]
    pump.crash(lagging)
    for i in range(10):
        assert pump.request(leader, Put(f"k{i}", str(i))) == Ok()
    assert pump.nodes[leader].log.snapshot.index >= 4
    pump.start(lagging)
    pump.advance(200)
    assert pump.nodes[lagging].kv_items() == pump.nodes[leader].kv_items()
    assert any(dst == lagging and isinstance(m, InstallSnapshot) for _, dst, m in pump.sent)
    assert any(isinstance(r, Snapshot) for r in pump.records[lagging])


def test_a_replica_rebuilds_its_promise_and_log_from_its_records() -> None:
    """Contract rule 3: a crash loses everything but what was persisted."""
    pump = Pump(config=PaxosConfig(snapshot_every=3))
    leader = pump.elect()
    for i in range(5):
        pump.request(leader, Put(f"k{i}", str(i)))
    pump.advance(100)
    follower = pump.followers()[0]
    live = pump.nodes[follower]
    rebuilt = Replica(follower, pump.ids, pump.records[follower], random.Random(0), pump.config,
                      live.store)  # the B-tree is the replica's disk: it survives the crash
    assert rebuilt.acceptor.promised == live.acceptor.promised
    assert rebuilt.log.snapshot == live.log.snapshot
    assert rebuilt.log.entries == live.log.entries
    assert rebuilt.log.commit_index == live.log.snapshot.index  # the rest is learned again
    assert any(isinstance(r, Promised) for r in pump.records[follower])


def test_no_acknowledged_write_is_lost_across_failovers() -> None:
    """§3, [DG: ReadConsistency] an HTTP 200 write is durable: it survives leader crashes."""
    pump = Pump()
    acked: dict[str, str] = {}
    for round_ in range(3):
        leader = pump.elect()
        for i in range(3):
            key, value = f"k{i}", f"r{round_}"
            if pump.request(leader, Put(key, value)) == Ok():
                acked[key] = value
        pump.crash(leader)
        pump.elect()
        pump.start(leader)
    leader = pump.elect()
    for key, value in acked.items():
        assert pump.request(leader, Get(key)) == Ok(value)
    assert len(acked) == 3


def test_an_unknown_operation_is_refused_and_nothing_is_proposed() -> None:
    """A definite refusal for what the group does not understand; the log does not change."""
    pump = Pump()
    leader = pump.elect()
    last = pump.nodes[leader].log.last_index
    refused = pump.request(leader, "DROP TABLE")
    assert isinstance(refused, Unavailable) and "not an operation" in refused.reason
    assert pump.nodes[leader].log.last_index == last
