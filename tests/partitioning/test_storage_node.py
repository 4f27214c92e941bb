"""The storage node: the replicas of many partitions behind one node id (§3, §4.3, §4.4).

Three `StorageNode`s are stepped by hand through a small pump (below): one
virtual clock, messages between the nodes delivered in order, timers fired in
time order, each node's persisted records kept so it can be rebuilt from them.
What a node sends elsewhere (to a router, to the metadata service) is kept for
the test to read. Every replica's B-tree is an in-memory `BTree(None)`, its
"disk", which outlives the node.
"""

from __future__ import annotations

import random
from collections import deque
from typing import Any

from dynamo.contract import (
    CancelTimer,
    ClientRequest,
    Effect,
    Persist,
    Receive,
    Reply,
    Send,
    SetTimer,
    Start,
    TimerFired,
)
from dynamo.partitioning.keyspace import KEY_SPACE, KeyRange, position_of
from dynamo.partitioning.messages import Forward, Forwarded, PartitionReport
from dynamo.partitioning.partition_store import Split, SplitRecord, WrongPartition
from dynamo.partitioning.router import locate
from dynamo.partitioning.storage_node import (
    Hosted,
    HostPartition,
    NodeConfig,
    StorageNode,
    Tagged,
    growth_bound,
)
from dynamo.paxos import PaxosConfig
from dynamo.paxos.operations import KV_TABLE, Add, Get, Ok, Put, Unavailable
from dynamo.paxos.statemachine import Noop, WriteRecord
from dynamo.storage.attributes import item_size
from dynamo.storage.btree import BTree, Mutation
from dynamo.storage.keys import item_key

TABLE = KV_TABLE.tbl
NODES = ("n1", "n2", "n3")
ROOT = HostPartition("p", TABLE, 0, KEY_SPACE, NODES)
ROUTER = "r1"


class Fleet:
    """Three storage nodes, a shared clock, FIFO delivery, timers in time order."""

    def __init__(self, config: NodeConfig | None = None) -> None:
        self.config = config or NodeConfig()
        self.now = 0.0
        self.disks: dict[tuple[str, str], BTree] = {}
        self.records: dict[str, list[Any]] = {n: [] for n in NODES}
        self.nodes: dict[str, StorageNode] = {}
        self.timers: dict[str, dict[str, float]] = {n: {} for n in NODES}
        self.queue: deque[tuple[str, str, Any]] = deque()
        self.outside: list[tuple[str, str, Any]] = []  # sent to routers and the metadata service
        self.replies: list[Reply] = []
        self.cut: str | None = None  # a node whose messages, both ways, are lost
        self.next_id = 0
        for node in NODES:
            self.boot(node)

    def disk(self, node: str, partition: str) -> BTree:
        return self.disks.setdefault((node, partition), BTree(None))

    # --- lifecycle -----------------------------------------------------------------

    def boot(self, node: str) -> None:
        """Build `node` from its records (as after a crash) and start it."""
        rng = random.Random(f"{node}/{len(self.records[node])}")
        self.nodes[node] = StorageNode(node, list(self.records[node]), rng, self.config,
                                       self.disk)
        self.timers[node] = {}
        self.run(node, Start())

    def host_root(self) -> None:
        for node in NODES:
            self.run(node, ClientRequest("control", 0, ROOT))

    # --- stepping --------------------------------------------------------------------

    def run(self, node: str, event: Any) -> list[Effect]:
        effects = self.nodes[node].step(self.now, event)
        for effect in effects:
            kind = type(effect)
            if kind is Send:
                target = self.queue if effect.dst in NODES else self.outside
                target.append((node, effect.dst, effect.message))
            elif kind is SetTimer:
                self.timers[node][effect.name] = self.now + effect.delay_ms
            elif kind is CancelTimer:
                self.timers[node].pop(effect.name, None)
            elif kind is Persist:
                self.records[node].append(effect.record)
            elif kind is Reply:
                self.replies.append(effect)
        return effects

    def deliver(self) -> None:
        steps = 0
        while self.queue:
            steps += 1
            assert steps < 100_000, "message storm"
            src, dst, message = self.queue.popleft()
            if self.cut not in (src, dst):
                self.run(dst, Receive(src, message))

    def advance(self, ms: float) -> None:
        target = self.now + ms
        while True:
            self.deliver()
            due = [(t, n, name) for n, ts in self.timers.items() for name, t in ts.items()]
            if not due:
                break
            when, node, name = min(due)
            if when > target:
                break
            self.now = max(self.now, when)
            del self.timers[node][name]
            self.run(node, TimerFired(name))
        self.now = target

    # --- a router's view ---------------------------------------------------------------

    def send_forward(self, node: str, partition: str, operation: Any) -> int:
        """A router's Forward reaches `node` (not yet delivered onward); its request id."""
        self.next_id += 1
        self.run(node, Receive(ROUTER, Forward(self.next_id, partition, operation)))
        return self.next_id

    def answers(self, request_id: int) -> list[Any]:
        return [m.result for _, dst, m in self.outside
                if dst == ROUTER and type(m) is Forwarded and m.request_id == request_id]

    def forward(self, node: str, partition: str, operation: Any, wait_ms: float = 0.0) -> Any:
        """Forward one request and deliver everything it causes; the one answer."""
        request_id = self.send_forward(node, partition, operation)
        self.deliver()
        if wait_ms:
            self.advance(wait_ms)
        (answer,) = self.answers(request_id)
        return answer

    # --- looking -----------------------------------------------------------------------

    def leader(self, partition: str) -> str:
        leaders = [n for n in NODES if partition in self.nodes[n].replicas
                   and self.nodes[n].replicas[partition].leader is not None]
        assert len(leaders) == 1, f"{partition}: leaders {leaders}"
        return leaders[0]

    def elect(self, partition: str, max_ms: float = 4000.0) -> str:
        """Advance until `partition` has one leader holding its lease."""
        for _ in range(int(max_ms / 10)):
            self.advance(10)
            found = [n for n in NODES if partition in self.nodes[n].replicas
                     and self.nodes[n].replicas[partition].leader is not None]
            if len(found) == 1:
                leader = self.nodes[found[0]].replicas[partition].leader
                assert leader is not None
                if leader.lease.holds(self.now):
                    return found[0]
        raise AssertionError(f"{partition} elected no leader with a lease")

    def keys(self, node: str, partition: str) -> set[str]:
        return set(self.nodes[node].replicas[partition].kv_items())


def running(keys: int = 12, config: NodeConfig | None = None) -> tuple[Fleet, str]:
    """A fleet hosting the root partition, its leader elected, `keys` items written."""
    fleet = Fleet(config)
    fleet.host_root()
    leader = fleet.elect("p")
    for i in range(keys):
        assert fleet.forward(leader, "p", Put(f"key{i}", f"value{i}")) == Ok()
    fleet.advance(100)  # followers learn the last commit
    return fleet, leader


def position(key: str) -> int:
    found = position_of(locate(Put(key, ""))[1])
    assert found is not None
    return found


def split_point(fleet: Fleet, leader: str) -> int:
    """A position with written keys on both sides of it."""
    positions = sorted(position(k) for k in fleet.keys(leader, "p"))
    return positions[len(positions) // 2]


def split(fleet: Fleet, leader: str) -> int:
    at = split_point(fleet, leader)
    assert fleet.forward(leader, "p", Split(at, "p0", "p1")) == Ok()
    fleet.advance(100)
    return at


def assert_children_hold_the_parents_halves(fleet: Fleet, at: int) -> None:
    for node in NODES:
        everything = fleet.keys(node, "p")
        left = {k for k in everything if position(k) < at}
        assert left and left != everything
        assert fleet.keys(node, "p0") == left, node
        assert fleet.keys(node, "p1") == everything - left, node
        hosted = fleet.nodes[node].hosted
        assert (hosted["p0"].low, hosted["p0"].high) == (0, at)
        assert (hosted["p1"].low, hosted["p1"].high) == (at, KEY_SPACE)
        assert fleet.nodes[node].store("p0").key_range == KeyRange(0, at)


# --- hosting ---------------------------------------------------------------------------


def test_host_partition_persists_hosted_before_anything_else_and_starts_a_replica() -> None:
    node = StorageNode("n1", [], random.Random(1), NodeConfig(), lambda n, p: BTree(None))
    node.step(0.0, Start())
    effects = node.step(1.0, ClientRequest("control", 7, ROOT))
    [hosted] = [e.record for e in effects[:1] if type(e) is Persist]
    assert hosted == Hosted("p", TABLE, 0, KEY_SPACE, NODES, hosted.incarnation)
    assert hosted.incarnation != 0  # a new hosting, told from any earlier one here
    assert effects[-1] == Reply("control", 7, Ok())
    assert any(type(e) is SetTimer and e.name == "p|election" for e in effects)  # its timers
    assert set(node.replicas) == {"p"} and node.replicas["p"].members == NODES
    assert node.step(2.0, ClientRequest("control", 8, ROOT)) == [Reply("control", 8, Ok())]


def test_three_nodes_elect_a_leader_and_a_forwarded_write_is_answered_ok() -> None:
    fleet = Fleet()
    fleet.host_root()
    leader = fleet.elect("p")
    assert fleet.forward(leader, "p", Put("a", "1")) == Ok()
    assert fleet.forward(leader, "p", Get("a")) == Ok("1")
    fleet.advance(100)
    assert all(fleet.keys(n, "p") == {"a"} for n in NODES)


def test_a_node_reports_what_it_hosts_and_leads_to_the_metadata_service() -> None:
    """§6.6: storage nodes are the authority; the metadata service serves what they publish."""
    fleet = Fleet()
    fleet.host_root()
    leader = fleet.elect("p")
    fleet.advance(fleet.config.check_ms)
    last = [m for src, dst, m in fleet.outside if src == leader and dst == "memds"][-1]
    assert type(last) is PartitionReport and last.node == leader
    (status,) = last.partitions
    assert (status.partition, status.low, status.high, status.leads) == ("p", 0, KEY_SPACE, True)


def test_a_forward_for_a_partition_not_hosted_answers_wrong_partition() -> None:
    fleet = Fleet()
    assert fleet.forward("n1", "p", Put("a", "1")) == WrongPartition("p")


def test_a_node_rebuilt_from_its_records_hosts_the_same_partitions_with_the_same_items() -> None:
    """Contract rule 3: a crash keeps only what was persisted, here `Hosted` and `Tagged`."""
    fleet, leader = running(keys=5)
    follower = next(n for n in NODES if n != leader)
    before = fleet.keys(follower, "p")
    assert {type(r) for r in fleet.records[follower]} == {Hosted, Tagged}
    fleet.boot(follower)
    rebuilt = fleet.nodes[follower]
    assert set(rebuilt.hosted) == {"p"} and set(rebuilt.replicas) == {"p"}
    assert fleet.keys(follower, "p") == before == {f"key{i}" for i in range(5)}
    assert fleet.forward(leader, "p", Put("later", "x")) == Ok()
    fleet.advance(200)
    assert "later" in fleet.keys(follower, "p")  # and it is a member of the group again


def test_a_duplicated_forward_is_executed_once() -> None:
    """Contract rule 4: messages may be duplicated; an increment must be applied once."""
    fleet = Fleet()
    fleet.host_root()
    leader = fleet.elect("p")
    request_id = fleet.send_forward(leader, "p", Add("counter", 5))
    fleet.deliver()
    fleet.run(leader, Receive(ROUTER, Forward(request_id, "p", Add("counter", 5))))
    fleet.deliver()
    fleet.advance(100)
    assert fleet.answers(request_id) == [Ok("5")]
    for node in NODES:
        assert fleet.nodes[node].store("p").items(TABLE) == [{"k": {"S": "counter"},
                                                              "v": {"N": "5"}}]


# --- splitting ---------------------------------------------------------------------------


def test_a_split_makes_both_children_on_every_member_with_exactly_the_parents_items() -> None:
    """§4.4: each child starts from exactly the parent's items in its half."""
    fleet, leader = running()
    at = split(fleet, leader)
    assert_children_hold_the_parents_halves(fleet, at)
    for node in NODES:
        children = [r for r in fleet.records[node] if type(r) is Hosted and r.partition != "p"]
        assert [c.partition for c in children] == ["p0", "p1"]


def test_the_children_are_new_groups_that_elect_their_own_leaders_and_take_writes() -> None:
    fleet, leader = running()
    at = split(fleet, leader)
    key = next(f"new{i}" for i in range(100) if position(f"new{i}") >= at)
    right = fleet.elect("p1")
    assert fleet.forward(right, "p1", Put(key, "x")) == Ok()
    assert fleet.forward(right, "p1", Get(key)) == Ok("x")


def test_after_the_split_the_parent_answers_wrong_partition_to_reads_and_writes() -> None:
    fleet, leader = running()
    split(fleet, leader)
    assert type(fleet.forward(leader, "p", Put("key1", "again"))) is WrongPartition
    assert type(fleet.forward(leader, "p", Get("key1"))) is WrongPartition
    for node in NODES:  # an eventually consistent read, at any replica
        assert type(fleet.forward(node, "p", Get("key1", consistent=False))) is WrongPartition
    assert all(fleet.keys(n, "p0") | fleet.keys(n, "p1") == fleet.keys(n, "p") for n in NODES)


def test_a_write_that_lands_in_the_log_after_the_split_is_answered_unavailable() -> None:
    """The split has one place in the log: a write after it is applied nowhere, and its
    client is told to retry (it will be routed to a child)."""
    fleet, leader = running()
    at = split_point(fleet, leader)
    split_id = fleet.send_forward(leader, "p", Split(at, "p0", "p1"))
    # In the same instant, before the split is chosen: the write is planned on the parent.
    write_id = fleet.send_forward(leader, "p", Put("straggler", "x"))
    fleet.deliver()
    fleet.advance(100)
    assert fleet.answers(split_id) == [Ok()]
    (answer,) = fleet.answers(write_id)
    assert type(answer) is Unavailable
    log = fleet.nodes[leader].replicas["p"].log
    last_two = [type(e.command) for e in log.entries_from(log.last_index - 1)]
    assert last_two == [SplitRecord, WriteRecord]  # logged after the split, not refused
    for node in NODES:
        for partition in ("p", "p0", "p1"):
            assert "straggler" not in fleet.keys(node, partition)
    assert_children_hold_the_parents_halves(fleet, at)


def test_a_replica_that_missed_the_split_makes_the_children_from_the_snapshot_it_is_sent() -> None:
    """The split marker travels in the B-tree: a replica too far behind for the log is
    sent a snapshot (§5.1), and learns of the split, and its halves, from that."""
    fleet = Fleet(NodeConfig(paxos=PaxosConfig(snapshot_every=4)))
    fleet.host_root()
    leader = fleet.elect("p")
    fleet.cut = lagging = next(n for n in NODES if n != leader)
    for i in range(12):
        assert fleet.forward(leader, "p", Put(f"key{i}", f"value{i}")) == Ok()
    at = split(fleet, leader)
    assert set(fleet.nodes[lagging].hosted) == {"p"}
    assert fleet.nodes[leader].replicas["p"].log.snapshot.index > 0  # the log was truncated
    fleet.cut = None
    fleet.advance(500)
    assert fleet.nodes[lagging].store("p").split is not None
    assert_children_hold_the_parents_halves(fleet, at)


def test_a_partition_past_split_size_is_split_by_its_leaders_check() -> None:
    """Split for size (§4.4): the leading node checks sizes on its timer."""
    config = NodeConfig(split_size=100, check_ms=200.0)
    fleet, leader = running(keys=12, config=config)
    assert fleet.nodes[leader].store("p").btree.size(TABLE) > config.split_size
    fleet.advance(2 * config.check_ms)
    store = fleet.nodes[leader].store("p")
    assert store.split is not None and (store.split.left, store.split.right) == ("p0", "p1")
    assert_children_hold_the_parents_halves(fleet, store.split.at)
    assert all(fleet.nodes[leader].store(c).btree.size(TABLE) <= config.split_size
               for c in ("p0", "p1"))


def test_a_partition_far_below_split_size_is_not_counted_on_every_check() -> None:
    """Counting a partition's bytes is a pass over its items: a node counts them only once
    the bytes written since the last count could have taken it past the split size."""
    config = NodeConfig(split_size=10_000, check_ms=200.0)
    fleet, leader = running(keys=3, config=config)
    node = fleet.nodes[leader]
    fleet.advance(2 * config.check_ms)
    counted = node.size_bound["p"]
    assert counted == node.store("p").btree.size(TABLE)
    for value in range(5):
        assert fleet.forward(leader, "p", Put(f"k{value}", "x" * 10)) == Ok()
        fleet.advance(config.check_ms)
    grown = node.size_bound["p"] - counted
    assert grown > 0, "the bound follows the writes"
    assert node.size_bound["p"] >= node.store("p").btree.size(TABLE), "it is an upper bound"
    assert node.store("p").split is None


def test_the_growth_bound_counts_stored_items_and_gives_up_on_other_commands() -> None:
    item = {"k": {"S": "a"}, "v": {"S": "b" * 20}}
    put = WriteRecord((Mutation(KV_TABLE.tbl, item_key(KV_TABLE.key_schema, item), item),))
    delete = WriteRecord((Mutation(KV_TABLE.tbl, item_key(KV_TABLE.key_schema, item), None),))
    assert growth_bound([put, put, delete, Noop()]) == 2 * item_size(item)
    assert growth_bound([put, SplitRecord(5, "p0", "p1", NODES)]) is None


def test_a_node_restarted_after_the_split_but_before_hosting_the_children_makes_them() -> None:
    """A crash between applying the split and persisting the children's `Hosted` records:
    the parent's B-tree keeps the split and its items, so the node makes them on Start."""
    fleet, leader = running()
    at = split(fleet, leader)
    victim = next(n for n in NODES if n != leader)
    # Lost with the children's records: the parent's later record that they were made.
    fleet.records[victim] = [r for r in fleet.records[victim]
                             if not (type(r) in (Hosted, Tagged) and r.partition != "p")
                             and not (type(r) is Hosted and r.children_made)]
    for child in ("p0", "p1"):  # nothing of the children was made durable
        fleet.disks[(victim, child)] = BTree(None)
    before_start = StorageNode(victim, list(fleet.records[victim]), random.Random(2),
                               fleet.config, fleet.disk)
    assert set(before_start.hosted) == {"p"}
    assert fleet.records[victim]  # the parent's log and Hosted record survive
    fleet.boot(victim)
    assert set(fleet.nodes[victim].hosted) == {"p", "p0", "p1"}
    assert_children_hold_the_parents_halves(fleet, at)
    assert [r.partition for r in fleet.records[victim]
            if type(r) is Hosted and not r.children_made] == ["p", "p0", "p1"]
