"""The request router: find the partition, carry the request there, retry what may be (§3, §6.6).

Each test steps a `RequestRouter` with the events a driver would hand it
(a client's request, a replica's `Forwarded` answer, the metadata service's
`MapReply`, a timer) and reads the effects: where it forwards, what it asks
the metadata service, what it answers the client.
"""

from __future__ import annotations

import random
from typing import Any

from dynamo.contract import ClientRequest, Effect, Receive, Reply, Send, SetTimer, TimerFired
from dynamo.partitioning.keyspace import position_of
from dynamo.partitioning.messages import Forward, Forwarded, MapReply, MapRequest
from dynamo.partitioning.partition_map import PartitionMap
from dynamo.partitioning.partition_store import WrongPartition
from dynamo.partitioning.router import Indefinite, RequestRouter, RouterConfig, locate
from dynamo.paxos.operations import KV_TABLE, Get, NotLeader, Ok, Put, QueryKey, Unavailable

TABLE = KV_TABLE.tbl
NODES = ("n1", "n2", "n3")
CONFIG = RouterConfig()
LEADER = "n2"
MAP = PartitionMap.single(TABLE, "p", NODES).led_by("p", LEADER)  # version 2


class Client:
    """One client of one router, and a record of everything the router did."""

    def __init__(self, seed: int = 1) -> None:
        self.router = RequestRouter("r1", random.Random(seed), CONFIG)
        self.now = 0.0
        self.next_id = 0

    def step(self, event: Any, now: float | None = None) -> list[Effect]:
        if now is not None:
            self.now = now
        return self.router.step(self.now, event)

    def request(self, operation: Any) -> tuple[int, list[Effect]]:
        self.next_id += 1
        return self.next_id, self.step(ClientRequest("c", self.next_id, operation))

    def map(self, partition_map: PartitionMap) -> list[Effect]:
        return self.step(Receive("memds", MapReply(TABLE, partition_map)))

    def answer(self, forward: Send, result: Any) -> list[Effect]:
        message = forward.message
        assert type(message) is Forward
        return self.step(Receive(forward.dst, Forwarded(message.request_id, result)))

    def fire(self, effects: list[Effect], prefix: str, now: float | None = None) -> list[Effect]:
        """Fire the timer named `prefix:...` that `effects` set."""
        (timer,) = [e for e in effects if type(e) is SetTimer and e.name.startswith(prefix)]
        return self.step(TimerFired(timer.name), now)


def warm(seed: int = 1) -> Client:
    client = Client(seed)
    client.map(MAP)
    return client


def forwards(effects: list[Effect]) -> list[Send]:
    return [e for e in effects if type(e) is Send and type(e.message) is Forward]


def map_requests(effects: list[Effect]) -> list[Send]:
    return [e for e in effects if type(e) is Send and type(e.message) is MapRequest]


def replies(effects: list[Effect]) -> list[Reply]:
    return [e for e in effects if type(e) is Reply]


def one_forward(effects: list[Effect]) -> Send:
    sent = forwards(effects)
    assert len(sent) == 1, effects
    return sent[0]


def other_half(key: str) -> PartitionMap:
    """MAP after a split that puts `key` in the right child, "p1"."""
    position = position_of(locate(Put(key, ""))[1])
    assert position is not None and position > 0
    return MAP.split("p", position, "p0", "p1").led_by("p1", "n3")


# --- constant work --------------------------------------------------------------------


def test_every_request_asks_the_metadata_service_once_whether_the_cache_hits_or_misses() -> None:
    """§6.6: "an asynchronous call to MemDS to refresh the cache" per request, hit or
    miss, so the metadata service's load follows the request rate, not cache misses."""
    client = Client()
    _, cold = client.request(Put("a", "1"))
    client.map(MAP)
    _, hot = client.request(Put("b", "1"))
    assert forwards(cold) == [] and len(forwards(hot)) == 1  # one missed, one hit
    assert [s.message for s in map_requests(hot)] == [MapRequest(TABLE)]
    assert len(map_requests(cold)) == len(map_requests(hot))


def test_with_no_cached_map_a_request_waits_and_is_dispatched_when_the_map_arrives() -> None:
    client = Client()
    _, effects = client.request(Put("a", "1"))
    assert forwards(effects) == [] and replies(effects) == []
    sent = one_forward(client.map(MAP))
    assert sent.dst == LEADER
    assert sent.message.partition == "p" and sent.message.operation == Put("a", "1")


def test_a_request_whose_map_never_comes_asks_again() -> None:
    client = Client()
    _, effects = client.request(Put("a", "1"))
    again = client.fire(effects, "retry:", now=100.0)
    assert map_requests(again) and forwards(again) == []


# --- where a request goes -------------------------------------------------------------


def test_writes_go_to_the_leader_hint_and_eventual_reads_to_any_replica() -> None:
    """§3: only the leader serves writes; "any replica" serves eventually consistent reads."""
    client = warm()
    writes = {one_forward(client.request(Put(f"k{i}", "v"))[1]).dst for i in range(20)}
    strong = {one_forward(client.request(Get(f"k{i}"))[1]).dst for i in range(20)}
    eventual = {one_forward(client.request(Get(f"k{i}", consistent=False))[1]).dst
                for i in range(30)}
    assert writes == strong == {LEADER}
    assert eventual == set(NODES)


def test_a_query_goes_where_its_item_collections_writes_went() -> None:
    assert locate(QueryKey("a"))[:2] == locate(Put("a", "x"))[:2] == locate(Get("a"))[:2]
    client = warm()
    split = other_half("a")
    client.map(split)
    assert one_forward(client.request(QueryKey("a"))[1]).message.partition == "p1"


def test_an_answer_is_handed_to_the_client() -> None:
    client = warm()
    request_id, effects = client.request(Get("a"))
    done = client.answer(one_forward(effects), Ok("1"))
    assert replies(done) == [Reply("c", request_id, Ok("1"))]
    assert client.router.pending == {} and client.router.attempts == {}


# --- what comes back decides what happens next ---------------------------------------------


def test_not_leader_with_a_hint_resends_to_the_hinted_node() -> None:
    client = warm()
    _, effects = client.request(Put("a", "1"))
    first = one_forward(effects)
    again = one_forward(client.answer(first, NotLeader("n3")))
    assert again.dst == "n3"
    assert again.message.request_id != first.message.request_id  # a new attempt
    assert again.message.operation == Put("a", "1")


def test_unavailable_sets_a_retry_timer_and_resends_when_it_fires() -> None:
    client = warm()
    _, effects = client.request(Put("a", "1"))
    first = one_forward(effects)
    waiting = client.answer(first, Unavailable("no lease yet"))
    assert forwards(waiting) == [] and replies(waiting) == []
    retry = [e for e in waiting if type(e) is SetTimer and e.name.startswith("retry:")]
    assert [t.delay_ms for t in retry] == [CONFIG.retry_ms]
    again = one_forward(client.fire(waiting, "retry:", now=CONFIG.retry_ms))
    assert again.dst == LEADER and again.message.request_id != first.message.request_id


def test_wrong_partition_parks_the_request_until_a_newer_map_then_routes_it_to_the_child() -> None:
    """§4.4: the partition split; the router's map is stale until the metadata service
    shows the children, and the request must go to the child that holds its key."""
    client = warm()
    _, effects = client.request(Put("a", "1"))
    parked = client.answer(one_forward(effects), WrongPartition("p"))
    assert forwards(parked) == [] and replies(parked) == []
    assert map_requests(parked)  # it asks for the newer map
    assert forwards(client.map(MAP)) == []  # the same map again: still stale
    assert forwards(client.fire(parked, "retry:", now=50.0)) == []
    sent = one_forward(client.map(other_half("a")))
    assert sent.message.partition == "p1" and sent.dst == "n3"


def test_a_newer_map_that_arrived_before_the_wrong_partition_answer_is_used_at_once() -> None:
    """The race: the refresh that follows every request may bring the children's map
    while the attempt is still out; the request must not wait for a newer one still."""
    client = warm()
    _, effects = client.request(Put("a", "1"))
    first = one_forward(effects)
    assert forwards(client.map(other_half("a"))) == []  # one attempt at a time
    sent = one_forward(client.answer(first, WrongPartition("p")))
    assert sent.message.partition == "p1"


def test_an_unanswered_write_is_indefinite_and_never_resent() -> None:
    """A write whose replica never answered may still be chosen: retrying could apply it
    twice, so the client is told the outcome is unknown (a DynamoDB 500)."""
    client = warm()
    request_id, effects = client.request(Put("a", "1"))
    first = one_forward(effects)
    timed_out = client.fire(effects, "attempt:", now=CONFIG.attempt_ms)
    assert forwards(timed_out) == []
    (reply,) = replies(timed_out)
    assert reply.request_id == request_id and type(reply.result) is Indefinite
    assert client.answer(first, Ok()) == []  # the late answer changes nothing
    assert client.router.pending == {}


def test_an_unanswered_read_is_resent_to_another_replica() -> None:
    client = warm()
    _, effects = client.request(Get("a"))
    first = one_forward(effects)
    again = one_forward(client.fire(effects, "attempt:", now=CONFIG.attempt_ms))
    assert again.dst != first.dst and again.dst in NODES
    assert again.message.request_id != first.message.request_id


def test_a_late_answer_to_an_abandoned_attempt_is_ignored() -> None:
    client = warm()
    request_id, effects = client.request(Get("a"))
    first = one_forward(effects)
    retried = client.fire(effects, "attempt:", now=CONFIG.attempt_ms)
    second = one_forward(retried)
    assert client.answer(first, Ok("old")) == []
    done = client.answer(second, Ok("new"))
    assert replies(done) == [Reply("c", request_id, Ok("new"))]
    assert client.answer(second, Ok("new")) == []  # a duplicate of the answer


def test_a_duplicated_not_leader_answer_sends_one_attempt_only() -> None:
    client = warm()
    _, effects = client.request(Put("a", "1"))
    first = one_forward(effects)
    assert len(forwards(client.answer(first, NotLeader("n3")))) == 1
    assert client.answer(first, NotLeader("n3")) == []


def test_a_request_still_unserved_past_its_deadline_is_answered_unavailable() -> None:
    client = warm()
    request_id, effects = client.request(Put("a", "1"))
    waiting = client.answer(one_forward(effects), Unavailable("electing"))
    late = client.fire(waiting, "retry:", now=CONFIG.deadline_ms)
    assert forwards(late) == []
    (reply,) = replies(late)
    assert reply.request_id == request_id and type(reply.result) is Unavailable
    assert client.router.pending == {}
