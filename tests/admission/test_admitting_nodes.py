"""Admission control's sans-IO nodes, stepped by hand (§4, §4.1.2, §4.2).

Each test hands a node the events a driver would (`step(now, event)`) and
reads its effects: an `AdmittingStorageNode` hosting a one-replica partition
(an in-memory `BTree(None)` as its disk, its own leader once its election
timer fires), a `GacServer`, an `AdmittingRouter` with a warm partition map,
and a `CapacityController`.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from dynamo.admission.allocation import Throughput
from dynamo.admission.capacity_controller import CONTROL_TIMER, CapacityController
from dynamo.admission.eras import Era
from dynamo.admission.gac_server import GacServer
from dynamo.admission.global_admission import GlobalAdmission, TokenGrant, TokenRequest
from dynamo.admission.messages import Boost, ForgetTable, SetTableLimits, Usage
from dynamo.admission.router import TOKENS_TIMER, AdmittingRouter
from dynamo.admission.storage_admission import TableLimits
from dynamo.admission.storage_node import (
    ON_DEMAND_MESSAGE,
    PROVISIONED_MESSAGE,
    USAGE_TIMER,
    AdmittingStorageNode,
)
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
from dynamo.partitioning.keyspace import KEY_SPACE
from dynamo.partitioning.messages import Forward, Forwarded, MapReply
from dynamo.partitioning.partition_map import PartitionMap
from dynamo.partitioning.storage_node import HostPartition, NodeConfig
from dynamo.paxos.operations import KV_TABLE, Ok, Put, PutItem, Rejected
from dynamo.storage.btree import BTree
from dynamo.storage.capacity import ConsumedCapacity
from dynamo.storage.errors import ProvisionedThroughputExceededException, ThrottlingException
from dynamo.storage.table import WritePlan

ROOT = "t0123456789ab."
TABLE = KV_TABLE.tbl
ROUTER = "r1"
ONE_WCU = TableLimits(Throughput(read=1.0, write=1.0))


def item(kilobytes: int) -> dict[str, Any]:
    """An item of about `kilobytes` KB: that many WCU to write (DG: 1 WCU per 1 KB)."""
    return {"k": {"S": "a"}, "v": {"S": "x" * (kilobytes * 1024 - 50)}}


def refusal(result: Any) -> tuple[type, str]:
    """A Rejected answer's error, as its type and message (errors compare by identity)."""
    assert type(result) is Rejected, result
    return type(result.error), str(result.error)


PROVISIONED = (ProvisionedThroughputExceededException, PROVISIONED_MESSAGE)
ON_DEMAND = (ThrottlingException, ON_DEMAND_MESSAGE)


def sends(effects: list[Effect], kind: type) -> list[Send]:
    return [e for e in effects if type(e) is Send and type(e.message) is kind]


# --- the storage node ----------------------------------------------------------------------


class OneNode:
    """An `AdmittingStorageNode` hosting ROOT alone, its timers fired in time order."""

    def __init__(self, era: Era, limits: TableLimits = ONE_WCU,
                 controller: str | None = None, partition: str = ROOT) -> None:
        self.partition = partition
        disks: dict[str, BTree] = {}
        self.node = AdmittingStorageNode(
            "n1", [], random.Random(1), NodeConfig(),
            lambda node, partition: disks.setdefault(partition, BTree(None)), era,
            controller=controller)
        self.now = 0.0
        self.timers: dict[str, float] = {}
        self.next_id = 0
        self.step(Start())
        self.step(ClientRequest("control", 1, HostPartition(partition, TABLE, 0, KEY_SPACE,
                                                            ("n1",))))
        self.step(ClientRequest("control", 2, SetTableLimits(ROOT, limits)))
        while not self.leads():
            self.fire_next()

    def leads(self) -> bool:
        leader = self.node.replicas[self.partition].leader
        return leader is not None and leader.lease.holds(self.now)

    def step(self, event: Any) -> list[Effect]:
        effects = self.node.step(self.now, event)
        for effect in effects:
            if type(effect) is SetTimer:
                self.timers[effect.name] = self.now + effect.delay_ms
            elif type(effect) is CancelTimer:
                self.timers.pop(effect.name, None)
        return effects

    def fire_next(self) -> list[Effect]:
        name, when = min(self.timers.items(), key=lambda timer: timer[1])
        del self.timers[name]
        self.now = max(self.now, when)
        return self.step(TimerFired(name))

    def advance(self, ms: float) -> list[Effect]:
        """Let `ms` go by, firing the timers due (the leader renews its lease)."""
        target, effects = self.now + ms, []
        while self.timers and min(self.timers.values()) <= target:
            effects += self.fire_next()
        self.now = target
        return effects

    def write(self, kilobytes: int = 1) -> tuple[Any, list[Effect]]:
        """A router's Forward of a PutItem now: the node's answer, and all its effects."""
        self.next_id += 1
        forward = Forward(self.next_id, self.partition, PutItem(KV_TABLE, item(kilobytes)))
        effects = self.step(Receive(ROUTER, forward))
        (answer,) = [s.message for s in sends(effects, Forwarded)]
        assert answer.request_id == self.next_id
        return answer.result, effects


def test_a_storage_node_throttles_once_the_partitions_bucket_is_empty() -> None:
    """§4: the storage node admits a request only while its partition's bucket has
    tokens; past that it answers at once with DynamoDB's
    ProvisionedThroughputExceededException, and the replica never sees the request."""
    node = OneNode(Era.STATIC)
    served, _ = node.write()
    assert type(served) is Ok
    refused, effects = node.write()
    assert refusal(refused) == PROVISIONED
    assert refused.error.retryable
    assert [e for e in effects if type(e) is Persist] == []  # nothing logged
    assert node.node.admission.throttles == 1


def test_a_storage_node_charges_what_the_replicas_answer_says_it_cost() -> None:
    """§4, capacity units: a 3 KB write costs 3 WCU, known from the replica's answer; a
    1 WCU partition is in debt for 2 after it, and serves nothing until that is paid."""
    node = OneNode(Era.STATIC)
    served, _ = node.write(kilobytes=3)
    assert served.value.capacity.write == 3.0
    assert node.node.admission.take_usage()[ROOT].consumed["write"] == 3.0
    node.advance(1900.0)
    assert type(node.write()[0]) is Rejected
    node.advance(200.0)
    assert type(node.write()[0]) is Ok


def test_a_burst_partition_absorbs_about_300_writes_then_throttles() -> None:
    """§4.1.1: a 1 WCU partition, idle, absorbs about 300 writes from burst, then the
    node throttles it."""
    node = OneNode(Era.BURSTING)
    results = [type(node.write()[0]) for _ in range(305)]
    assert results.count(Ok) == 301
    assert results[301:] == [Rejected] * 4


def test_an_on_demand_table_is_throttled_with_throttling_exception() -> None:
    """DG, errors: on-demand tables are throttled with ThrottlingException, not
    ProvisionedThroughputExceededException."""
    node = OneNode(Era.STATIC, TableLimits(Throughput(0.0, 0.0), on_demand=True))
    node.node.admission.boost(ROOT, Throughput(1.0, 1.0), node.now)  # a tiny partition
    node.write()
    refused, _ = node.write()
    assert refusal(refused) == ON_DEMAND


def test_set_table_limits_is_answered_and_reallocates_the_partition() -> None:
    """UpdateTable reaches the storage nodes as SetTableLimits: the node acknowledges it
    and its partitions' buckets follow."""
    node = OneNode(Era.STATIC)
    node.write()
    raised = TableLimits(Throughput(read=300.0, write=100.0))
    effects = node.step(ClientRequest("control", 9, SetTableLimits(ROOT, raised)))
    assert effects == [Reply("control", 9, Ok())]
    assert node.node.admission.allocation(ROOT) == raised.throughput
    node.advance(100.0)
    assert type(node.write()[0]) is Ok


def test_a_node_reports_usage_to_adaptive_capacity_and_takes_its_boost() -> None:
    """§4.1.2: adaptive capacity monitors each partition's consumed capacity and
    throttling: the node reports them once an interval, the controller boosts the
    throttled partition of a table under its provisioned total, and the node applies
    the boost to the partition's buckets."""
    table = TableLimits(Throughput(read=30.0, write=20.0))
    # One half of a split table: its share is 10 WCU, and a boost may take it up to 20.
    half = ROOT + "0"
    node = OneNode(Era.ADAPTIVE, table, controller="adaptive", partition=half)
    assert USAGE_TIMER in node.timers
    while type(node.write(kilobytes=100)[0]) is Ok:
        pass  # a spike of 100 KB writes spends the allocation and the 3,000 WCU of burst
    # The table consumed far beyond its 10 WCU in that spike: that interval boosts nothing.
    node.advance(node.timers[USAGE_TIMER] - node.now)
    throttled, _ = node.write()
    assert refusal(throttled) == PROVISIONED
    (usage,) = sends(node.advance(node.timers[USAGE_TIMER] - node.now), Usage)
    assert usage.dst == "adaptive"
    ((partition, load),) = usage.message.loads
    assert partition == half and load.share == table.throughput.scaled(0.5)
    assert load.throttled == (0, 1) and load.consumed.write < table.throughput.write

    controller = CapacityController("adaptive", ["n1"])
    assert controller.step(0.0, Start()) == [SetTimer(CONTROL_TIMER, 1000.0)]
    controller.step(node.now, Receive("n1", usage.message))
    (boost,) = sends(controller.step(node.now, TimerFired(CONTROL_TIMER)), Boost)
    assert boost.dst == "n1" and boost.message.partition == half
    assert load.share.write < boost.message.allocation.write <= table.throughput.write

    node.step(Receive("adaptive", boost.message))
    assert node.node.admission.allocation(half) == boost.message.allocation


# --- the GAC server ------------------------------------------------------------------------


def ask(table: str = TABLE, writes: float = 50.0) -> TokenRequest:
    none = Throughput(0.0, 0.0)
    return TokenRequest(table, none, none, Throughput(0.0, writes))


def gac_server(wcu: float = 100.0) -> GacServer:
    server = GacServer("gac")
    limits = TableLimits(Throughput(read=3 * wcu, write=wcu))
    assert server.step(0.0, ClientRequest("control", 1, SetTableLimits(TABLE, limits))) == [
        Reply("control", 1, Ok())]
    return server


def test_the_gac_server_answers_a_token_request_with_a_grant() -> None:
    """§4.2: a router asks GAC for tokens and GAC vends it its share: the answer goes back
    to the router that asked."""
    (effect,) = gac_server().step(1000.0, Receive(ROUTER, ask()))
    assert type(effect) is Send and effect.dst == ROUTER
    grant = effect.message
    assert type(grant) is TokenGrant and grant.table == TABLE
    assert grant.tokens.write == pytest.approx(100.0)  # one interval of the table's rate
    assert grant.lifetime_ms > 0


def test_a_gac_server_restarted_is_told_the_table_again_and_serves() -> None:
    """§4.2: GAC persists nothing: a GAC server built anew, told the table's throughput
    again, vends as before."""
    first = gac_server().step(1000.0, Receive(ROUTER, ask()))
    restarted = gac_server().step(1000.0, Receive(ROUTER, ask()))
    assert restarted == first


def test_a_deleted_table_is_forgotten_by_gac() -> None:
    server = gac_server()
    assert server.step(0.0, ClientRequest("control", 2, ForgetTable(TABLE))) == [
        Reply("control", 2, Ok())]
    (effect,) = server.step(1000.0, Receive(ROUTER, ask()))
    assert effect.message.tokens.write == float("inf")
    assert server.snapshot()["tables"] == {}


# --- the router ------------------------------------------------------------------------------


class Router:
    """An `AdmittingRouter` that knows the table's one partition, led by n1."""

    def __init__(self) -> None:
        self.router = AdmittingRouter(ROUTER, random.Random(1))
        self.now = 0.0
        self.next_id = 0
        self.started = self.router.step(0.0, Start())
        partition_map = PartitionMap.single(TABLE, "p", ("n1",)).led_by("p", "n1")
        self.router.step(0.0, Receive("memds", MapReply(TABLE, partition_map)))

    def put(self, at: float) -> list[Effect]:
        self.now, self.next_id = at, self.next_id + 1
        return self.router.step(at, ClientRequest("c", self.next_id, Put("a", "1")))

    def tick(self, at: float) -> list[Effect]:
        self.now = at
        return self.router.step(at, TimerFired(TOKENS_TIMER))

    def grant(self, tokens: Throughput, at: float, on_demand: bool = False) -> list[Effect]:
        self.now = at
        grant = TokenGrant(TABLE, tokens, 3000.0, on_demand)
        return self.router.step(at, Receive("gac", grant))


def throttle_replies(effects: list[Effect]) -> list[tuple[type, str]]:
    return [refusal(e.result) for e in effects
            if type(e) is Reply and type(e.result) is Rejected]


def test_a_new_router_routes_its_first_request_on_credit_and_asks_gac() -> None:
    """§4.2: a router keeps its table tokens locally and asks GAC for them at regular
    intervals; its first request, before any grant, is routed on credit."""
    router = Router()
    assert SetTimer(TOKENS_TIMER, 100.0) in router.started
    assert len(sends(router.put(0.0), Forward)) == 1
    (request,) = sends(router.tick(100.0), TokenRequest)
    assert request.dst == "gac" and request.message.table == TABLE
    assert request.message.demand.write > 0


def test_a_router_with_no_tokens_throttles_without_sending_a_forward() -> None:
    """§4.2: request routers admit or throttle locally: once GAC's grant holds nothing for
    the table, a request is refused with ProvisionedThroughputExceededException and
    never reaches a storage node."""
    router = Router()
    router.put(0.0)
    router.tick(100.0)
    router.grant(Throughput(0.0, 0.0), 110.0)
    asked = router.put(120.0)  # out of tokens: the router asks GAC, the request waits
    assert sends(asked, Forward) == []
    assert [s.dst for s in sends(asked, TokenRequest)] == ["gac"]
    answered = router.grant(Throughput(0.0, 0.0), 130.0)
    assert sends(answered, Forward) == []
    assert throttle_replies(answered) == [PROVISIONED]
    assert router.router.snapshot()["throttles"] == 1


def test_a_router_routes_requests_that_waited_once_gac_grants_tokens() -> None:
    """§4.2: a router that runs out of tokens asks GAC for more: requests that found the
    tokens gone go ahead once the grant holds some."""
    router = Router()
    router.put(0.0)
    router.tick(100.0)
    router.grant(Throughput(0.0, 0.0), 110.0)
    router.put(120.0)
    router.put(121.0)
    released = router.grant(Throughput(0.0, 5.0), 130.0)
    assert len(sends(released, Forward)) == 2
    assert throttle_replies(released) == []


def test_a_router_throttles_an_on_demand_table_with_throttling_exception() -> None:
    """DG, errors: an on-demand table's throttled requests get ThrottlingException."""
    router = Router()
    router.put(0.0)
    router.tick(100.0)
    router.grant(Throughput(0.0, 0.0), 110.0, on_demand=True)
    router.put(120.0)
    answered = router.grant(Throughput(0.0, 0.0), 130.0, on_demand=True)
    assert throttle_replies(answered) == [ON_DEMAND]


def test_a_router_reports_what_its_requests_cost_in_its_next_token_request() -> None:
    """§4.2: the router deducts each request's cost from its tokens and tells GAC what it
    used: a write the storage node answers as 3 WCU is 3 WCU used."""
    router = Router()
    (forward,) = sends(router.put(0.0), Forward)
    plan = WritePlan(None, None, ConsumedCapacity(KV_TABLE.name, write=3.0))
    answer = Forwarded(forward.message.request_id, Ok(plan))
    replies = [e for e in router.router.step(5.0, Receive("n1", answer)) if type(e) is Reply]
    assert [type(r.result) for r in replies] == [Ok]
    (request,) = sends(router.tick(100.0), TokenRequest)
    assert request.message.used == Throughput(0.0, 3.0)


def test_a_router_and_a_gac_server_together_keep_the_tables_rate() -> None:
    """§4.2: driven together, a router offered 500 writes a second of a 100 WCU table
    routes about 100 a second once its first tokens are spent, and throttles the rest."""
    router = Router()
    server = GacServer("gac", GlobalAdmission(burst_seconds=1.0))
    server.step(0.0, ClientRequest("control", 1, SetTableLimits(
        TABLE, TableLimits(Throughput(300.0, 100.0)))))
    one_wcu = Ok(WritePlan(None, None, ConsumedCapacity(KV_TABLE.name, write=1.0)))

    def exchange(effects: list[Effect], now: float) -> list[Effect]:
        """Carry token requests to GAC and forwards to a storage node (each write 1 WCU),
        and their answers back, until nothing more is sent."""
        done, todo = [], list(effects)
        while todo:
            effect = todo.pop(0)
            done.append(effect)
            if type(effect) is Send and type(effect.message) is TokenRequest:
                (grant,) = server.step(now, Receive(ROUTER, effect.message))
                todo += router.router.step(now, Receive("gac", grant.message))
            elif type(effect) is Send and type(effect.message) is Forward:
                answer = Forwarded(effect.message.request_id, one_wcu)
                todo += router.router.step(now, Receive(effect.dst, answer))
        return done

    forwarded = throttled = 0
    for step in range(1, 101):  # ten seconds, 50 writes every 100 ms
        now = step * 100.0
        effects = exchange(router.tick(now), now)
        for _ in range(50):
            effects += exchange(router.put(now), now)
        if step > 50:  # the last five seconds
            forwarded += len(sends(effects, Forward))
            throttled += len(throttle_replies(effects))
    assert forwarded / 5 == pytest.approx(100.0, rel=0.1)
    assert throttled / 5 == pytest.approx(400.0, rel=0.1)
