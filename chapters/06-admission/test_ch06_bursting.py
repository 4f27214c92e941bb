"""Chapter 6, graded: a partition's token buckets with bursting (`refill`, `admit` and
`charge` of `PartitionBuckets` in dynamo/admission/bursting.py).

The paper: unused capacity is retained "for up to 300 seconds" as burst capacity;
while a partition has tokens in its allocated bucket, a request is admitted and both
the partition's bucket and the node's are debited; once the allocated tokens are
exhausted, a request may burst only if both the burst bucket and the node's bucket
have tokens (§4.1). Static allocation, the era before, had the allocated bucket only
(§4).

Time is virtual, in milliseconds, and passed to every call, so each test is exact.
The last tests run the buckets in a storage node's `StorageAdmission`, and in the
chapter's standard experiment, a hot partition under each era. A failure says what
was done, what should have been admitted, what your code did, and the rule.
"""

from __future__ import annotations

from dynamo.admission.adaptive_capacity import PartitionLoad, control
from dynamo.admission.allocation import Throughput, static_allocation
from dynamo.admission.bursting import ALLOCATED, BURST, PartitionBuckets
from dynamo.admission.eras import Era
from dynamo.admission.storage_admission import StorageAdmission, TableLimits
from dynamo.admission.token_bucket import TokenBucket

TABLE = "t00000000c0de."  # a table's first partition: "t", 12 hex digits, "."
ROOM = Throughput(read=1e9, write=1e9)  # a storage node that never runs out
LIMIT = 100_000  # admissions a test counts at most (a wrong admit may never refuse)

REFILL = ("B1: refill earns `rate` tokens a second into the allocated bucket; what a full "
          "allocated bucket cannot hold spills into the burst bucket (if the partition has one)")
ADMIT = ("B2: refill first; a request is admitted by ALLOCATED while the allocated bucket holds "
         "more than 0 tokens; otherwise by BURST while the burst bucket holds more than 0 tokens "
         "and the node bucket (when there is one) has tokens; otherwise None: throttled")
CHARGE = ("B3: refill first, then take the units from the bucket that admitted the request: "
          "the burst bucket for BURST (if there is one), the allocated bucket otherwise; a "
          "bucket may go into debt")


def drain(buckets: PartitionBuckets, now_ms: float, node: TokenBucket | None = None,
          units: float = 1.0) -> list[str]:
    """Admit and charge requests of `units` at one instant until one is throttled: the
    source of each request admitted, in order."""
    sources = []
    while len(sources) < LIMIT:
        source = buckets.admit(now_ms, node)
        if source is None:
            break
        buckets.charge(source, units, now_ms)
        if node is not None:
            node.spend(units, now_ms)  # what the storage node does for every admitted request
        sources.append(source)
    return sources


def tally(admitted: list[str]) -> str:
    """The sources of requests admitted, in short, e.g. "10 allocated, then 990 burst"."""
    runs: list[list] = []
    for source in admitted:
        if runs and runs[-1][0] == source:
            runs[-1][1] += 1
        else:
            runs.append([source, 1])
    return ", then ".join(f"{count} {source}" for source, count in runs) or "nothing"


def sources(node: StorageAdmission, partition: str, now_ms: float,
            attempts: int = LIMIT) -> list[str]:
    """Writes of 1 WCU admitted and charged at `now_ms`, of `attempts`, stopping at the first
    throttle: the source of each one admitted."""
    found: list[str] = []
    for _ in range(attempts):
        source = node.admit(partition, "write", now_ms)
        if source is None:
            break
        node.charge(partition, "write", source, 1.0, now_ms)
        found.append(source)
    return found


def served(node: StorageAdmission, partition: str, now_ms: float, attempts: int) -> int:
    return len(sources(node, partition, now_ms, attempts))


def check_admits(buckets: PartitionBuckets, now_ms: float, node: TokenBucket | None,
                 expected: str | None, done: str) -> None:
    got = buckets.admit(now_ms, node)
    assert got == expected, (
        f"{done}\nadmit at {now_ms:g} ms should answer {expected!r}, but it answered {got!r}.\n"
        f"The rule: {ADMIT}.")


def check_drain(buckets: PartitionBuckets, now_ms: float, expected: str, done: str,
                node: TokenBucket | None = None) -> None:
    got = tally(drain(buckets, now_ms, node))
    assert got == expected, (
        f"{done}\nRequests of 1 unit at {now_ms:g} ms, until one is throttled: expected {expected}; "
        f"your buckets admitted {got}.\nThe rules: {ADMIT}.\n{REFILL}.")


def test_a_request_is_admitted_while_the_allocated_bucket_has_tokens() -> None:
    """§4: each partition's allocation is enforced by a token bucket at its storage node."""
    static = PartitionBuckets.for_allocation(1.0, bursting=False, now_ms=0.0)
    done = "A static partition of 1 unit a second, full (1 token)."
    check_admits(static, 0.0, None, ALLOCATED, done)
    static.charge(ALLOCATED, 1.0, 0.0)
    done += " One request of 1 unit charged at 0 ms: exactly 0 tokens left."
    check_admits(static, 0.0, None, None, done)
    check_admits(static, 500.0, None, ALLOCATED, done + " Half a second later it has earned 0.5.")


def test_a_request_that_cost_more_than_was_left_puts_the_bucket_in_debt() -> None:
    """A request's cost is known only once it has run: the bucket goes below zero, and the
    debt is paid back out of the next refills before anything else is admitted."""
    static = PartitionBuckets.for_allocation(2.0, bursting=False, now_ms=0.0)
    static.charge(ALLOCATED, 3.0, 0.0)
    assert static.allocated.tokens == -1.0, (
        f"2 tokens, then a request that cost 3 units: the bucket should hold -1, it holds "
        f"{static.allocated.tokens}.\nThe rule: {CHARGE}.")
    done = "A static partition of 2 units a second, in debt by 1 unit at 0 ms."
    for now_ms, expected in ((0.0, None), (250.0, None), (500.0, None), (750.0, ALLOCATED)):
        check_admits(static, now_ms, None, expected, done)


def test_static_allocation_has_no_burst_capacity() -> None:
    """§4: before bursting, a partition had its allocation and nothing more, however idle
    it had been and however much room its storage node had."""
    static = PartitionBuckets.for_allocation(5.0, bursting=False, now_ms=0.0)
    node = TokenBucket.full(1000.0, 1000.0)
    check_drain(static, 0.0, "5 allocated", "A static partition of 5 units a second, full.", node)
    static.refill(600_000.0)
    assert static.allocated.tokens == 5.0 and static.burst is None, (
        f"Ten idle minutes later a static partition holds one second of its allocation (5) and "
        f"no burst; it holds {static.allocated.tokens} and burst {static.burst}.\nThe rule: {REFILL}.")
    check_drain(static, 600_000.0, "5 allocated", "Ten minutes later.", node)


def test_unused_capacity_is_retained_for_up_to_300_seconds() -> None:
    """§4.1: unused capacity is retained "for up to 300 seconds" and spent in a burst."""
    buckets = PartitionBuckets.for_allocation(10.0, bursting=True, now_ms=0.0)
    buckets.charge(ALLOCATED, 10.0, 0.0)
    buckets.charge(BURST, 3000.0, 0.0)
    done = ("A partition of 10 units a second, its allocated and burst buckets emptied at 0 ms, "
            "then idle for 100 s: 1,000 units earned, 10 refill the allocated bucket and 990 "
            "spill into burst.")
    check_drain(buckets, 100_000.0, "10 allocated, then 990 burst", done)
    done = ("Emptied again at 100 s, then idle for 600 s: 6,000 units earned, but only 300 "
            "seconds of them (3,000) are kept.")
    check_drain(buckets, 700_000.0, "10 allocated, then 3000 burst", done)


def test_burst_capacity_is_spent_only_once_the_allocated_tokens_are_exhausted() -> None:
    """§4.1: "once the allocated tokens are exhausted", requests burst."""
    buckets = PartitionBuckets.for_allocation(5.0, bursting=True, now_ms=0.0)
    sources = drain(buckets, 0.0)[:7]
    assert tally(sources) == "5 allocated, then 2 burst", (
        f"A new partition of 5 units a second starts full (5 allocated tokens, 1,500 burst): the "
        f"first 7 requests should be 5 allocated, then 2 burst; got {tally(sources)}.\n"
        f"The rule: {ADMIT}.")


def test_a_partition_bursts_only_while_its_storage_node_has_tokens() -> None:
    """§4.1: burst only if both the burst bucket and the node-level bucket have tokens; a
    request within the allocation is admitted whatever the node's bucket holds."""
    buckets = PartitionBuckets.for_allocation(1.0, bursting=True, now_ms=0.0)
    empty = TokenBucket(rate=1000.0, capacity=1000.0, tokens=0.0, updated_ms=0.0)
    done = ("A new partition of 1 unit a second (1 allocated token, 300 burst) on a node whose "
            "bucket is empty (0 tokens, 1 earned a millisecond).")
    check_admits(buckets, 0.0, empty, ALLOCATED, done)
    buckets.charge(ALLOCATED, 11.0, 0.0)
    done += " A request of 11 units puts the allocated bucket 10 units in debt."
    check_admits(buckets, 0.0, empty, None, done + " The node has no tokens.")
    check_admits(buckets, 1.0, empty, BURST, done + " 1 ms later the node has 1 token.")
    check_admits(buckets, 1.0, None, BURST, done + " Admitted with no node bucket at all.")
    indebted = TokenBucket(rate=1000.0, capacity=1000.0, tokens=-5.0, updated_ms=0.0)
    check_admits(buckets, 1.0, indebted, None, done + " The node's bucket is at -4 tokens.")


def test_a_burst_is_charged_to_the_burst_bucket_and_the_rest_to_the_allocated_one() -> None:
    buckets = PartitionBuckets.for_allocation(4.0, bursting=True, now_ms=0.0)
    buckets.charge(BURST, 2.5, 0.0)
    buckets.charge(ALLOCATED, 1.5, 0.0)
    got = (buckets.allocated.tokens, buckets.burst.tokens if buckets.burst else None)
    assert got == (2.5, 1197.5), (
        f"A new partition of 4 units a second (4 allocated tokens, 1,200 burst), charged 2.5 units "
        f"for a burst and 1.5 for an allocated request: the buckets should hold (allocated, burst) "
        f"(2.5, 1197.5); they hold {got}.\nThe rule: {CHARGE}.")
    static = PartitionBuckets.for_allocation(4.0, bursting=False, now_ms=0.0)
    static.charge(ALLOCATED, 1.5, 0.0)
    assert static.allocated.tokens == 2.5, f"a static partition: {static.allocated.tokens}; {CHARGE}"


def test_a_burst_bucket_with_no_tokens_left_admits_nothing() -> None:
    buckets = PartitionBuckets.for_allocation(1.0, bursting=True, now_ms=0.0)
    buckets.charge(ALLOCATED, 1001.0, 0.0)  # 1,000 s in debt: nothing spills meanwhile
    buckets.charge(BURST, 299.0, 0.0)
    done = "A partition whose allocated bucket is deep in debt, 1 burst token left."
    check_admits(buckets, 10.0, None, BURST, done)
    buckets.charge(BURST, 1.0, 10.0)
    check_admits(buckets, 20.0, None, None, done + " That token spent: exactly 0 left.")
    buckets.charge(BURST, 0.5, 20.0)
    check_admits(buckets, 30.0, None, None, done + " Then 0.5 more spent: the burst is in debt.")


def test_capacity_earned_while_a_request_ran_spills_into_burst_before_its_charge() -> None:
    """A request is charged when its answer leaves: the time gone by since it was admitted is
    refilled first, so a full bucket's spill-over is kept, not lost to the charge."""
    buckets = PartitionBuckets.for_allocation(10.0, bursting=True, now_ms=0.0)
    buckets.charge(BURST, 100.0, 0.0)
    buckets.charge(ALLOCATED, 4.0, 1000.0)
    got = (buckets.allocated.tokens, buckets.burst.tokens if buckets.burst else None)
    assert got == (6.0, 2910.0), (
        f"A new partition of 10 units a second (10 allocated, 3,000 burst); 100 burst units "
        f"charged at 0 ms; at 1,000 ms 4 allocated units: the 10 units earned meanwhile spill "
        f"into burst first, so (allocated, burst) should be (6, 2910); got {got}.\n"
        f"The rule: {CHARGE}.\n{REFILL}.")


def test_a_table_of_one_wcu_absorbs_300_writes_from_burst_then_throttles() -> None:
    """§4.1, at a storage node: a new table of 1 WCU takes about 300 writes at once, then one
    a second; UpdateTable to 100 WCU lifts the throttling."""
    node = StorageAdmission(Era.BURSTING, node_capacity=ROOM)
    node.set_table(TABLE, TableLimits(Throughput(read=1.0, write=1.0)), 0.0)
    admitted = served(node, TABLE, 0.0, LIMIT)
    assert admitted == 301, (
        f"A new table of 1 WCU: 1 allocated token and 300 of burst, so 301 writes of 1 WCU at once; "
        f"your buckets admitted {admitted}.\nThe rules: {ADMIT}.")
    each_second = [served(node, TABLE, second * 1000.0, 2) for second in range(1, 61)]
    assert each_second == [1] * 60 and node.throttles == 61, (
        f"Then two writes a second for a minute: 1 admitted and 1 throttled each second; your "
        f"buckets admitted {each_second} and throttled {node.throttles} in all.\nThe rules: {ADMIT}.")
    node.set_table(TABLE, TableLimits(Throughput(read=1.0, write=100.0)), 60_000.0)
    admitted = served(node, TABLE, 61_000.0, LIMIT)
    assert admitted == 100, (
        f"UpdateTable to 100 WCU at 60 s: a second later 100 writes are admitted (burst is spent); "
        f"your buckets admitted {admitted}.\nThe rules: {ADMIT}.\n{REFILL}.")


def test_under_gac_a_partition_is_capped_at_the_partition_maximum_and_its_nodes_room() -> None:
    """§4.2: under global admission control the partition-level buckets stay, as a cap at the
    partition maximum (1,000 WCU), and the node-level bucket keeps one partition from taking
    its storage node."""
    node = StorageAdmission(Era.GAC, node_capacity=Throughput(read=3000.0, write=1500.0))
    node.set_table(TABLE, TableLimits(Throughput(read=10.0, write=10.0)), 0.0)
    first = tally(sources(node, TABLE, 0.0))
    assert first == "1000 allocated, then 500 burst", (
        f"A new partition under GAC is allocated the partition maximum, 1,000 WCU; its node has "
        f"1,500 WCU. Writes of 1 WCU at once: 1,000 allocated, then 500 burst (the node's bucket "
        f"is then empty), then throttled; your buckets admitted {first}.\nThe rule: {ADMIT}.")
    later = tally(sources(node, TABLE, 100.0))
    assert later == "100 allocated, then 50 burst", (
        f"100 ms later the partition has earned 100 tokens and the node 150: expected 100 "
        f"allocated, then 50 burst; your buckets admitted {later}.\nThe rule: {ADMIT}.")


HOT, SECONDS, RATE = TABLE + "11", 900, 15
TABLE_WCU = Throughput(read=40.0, write=40.0)


def hot_partition(era: Era) -> list[int]:
    """The chapter's standard experiment: a table of 40 WCU in 4 partitions (10 WCU each); one
    partition takes 15 writes a second for 15 minutes (Developer Guide, burst and adaptive
    capacity: 400 WCU, one partition at 150). Writes throttled each second, under `era`."""
    node = StorageAdmission(era, node_capacity=ROOM)
    node.set_table(TABLE, TableLimits(TABLE_WCU), 0.0)
    share = static_allocation(TABLE_WCU, HOT)
    throttled = []
    for second in range(SECONDS):
        now = second * 1000.0
        throttled.append(RATE - served(node, HOT, now, RATE))
        usage = node.take_usage().get(HOT)
        if era is Era.ADAPTIVE and usage is not None:  # the controller, once a second
            load = PartitionLoad(share, node.allocation(HOT),
                                 Throughput(usage.consumed["read"], usage.consumed["write"]),
                                 (usage.throttled["read"], usage.throttled["write"]))
            for partition, allocation in control(TABLE_WCU, {HOT: load}).items():
                node.boost(partition, allocation, now)
    return throttled


def test_the_standard_experiment_each_era_throttles_the_hot_partition_less() -> None:
    """§4, §4.1, §4.2: static allocation throttles a hot partition from the start, bursting
    only once 300 s of its share are spent, adaptive capacity then boosts it within a
    second, and under GAC the partition may take up to the partition maximum."""
    runs = {era: hot_partition(era) for era in Era}
    report = "\n".join(f"  {era.value:>8}: {sum(runs[era]):5} of {SECONDS * RATE} writes throttled, "
                       f"the first at {first_throttle(runs[era])}" for era in Era)
    expected = {Era.STATIC: 4500, Era.BURSTING: 1500, Era.GAC: 0}
    got = {era: sum(runs[era]) for era in expected}
    adaptive = runs[Era.ADAPTIVE]
    assert got == expected and sum(adaptive) == 5 and first_throttle(adaptive) == "600 s", (
        f"A partition of 10 WCU takes 15 writes a second for {SECONDS} s. Static: 5 of every 15 "
        f"throttled after the first second (4,500). Bursting: 300 s x 10 WCU = 3,000 units of "
        f"burst last 600 s at 5 extra a second, then 5 a second are throttled (1,500). Adaptive: "
        f"as bursting until 600 s, then boosted (5). GAC: none. Your buckets:\n{report}\n"
        f"The rules: {ADMIT}.\n{REFILL}.\n{CHARGE}.")


def first_throttle(throttled: list[int]) -> str:
    return next((f"{second} s" for second, count in enumerate(throttled) if count), "never")
