"""Admission control through boto3: provisioned tables throttle, on-demand tables do not (§4).

A real `dynamo serve` under global admission control (the default) and under
the static era, driven by boto3 with retries off, so every throttle is seen.
"""

from __future__ import annotations

import json
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from apitools import REGION, make_client, start_server

THROTTLED = "ProvisionedThroughputExceededException"


@pytest.fixture(scope="module")
def gac() -> Any:
    running = start_server("--in-memory")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def static() -> Any:
    running = start_server("--in-memory", "--admission", "static")
    yield running
    running.stop()


def provisioned(client: Any, name: str, read: int, write: int) -> None:
    client.create_table(
        TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": read, "WriteCapacityUnits": write})


def writes_until_throttled(client: Any, table: str, most: int) -> int:
    """PutItems one after another until one is throttled; how many went through."""
    for done in range(most):
        try:
            client.put_item(TableName=table, Item={"pk": {"S": f"k{done}"}})
        except client.exceptions.ProvisionedThroughputExceededException as error:
            assert "provisioned throughput for the table was exceeded" in str(error)
            return done
    return most


def events(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{url}/admin/events") as answer:
        return [json.loads(line) for line in answer.read().splitlines()]


def state(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/admin/state") as answer:
        return json.loads(answer.read())["admission"]


def test_a_1_wcu_table_absorbs_about_300_writes_of_burst_then_throttles(gac: Any) -> None:
    """§4.1.1: unused capacity is retained for up to 300 seconds; a 1 WCU table has
    about 300 writes of it, then is throttled; UpdateTable raising its throughput
    lifts the throttling."""
    client = make_client(gac.url)
    provisioned(client, "burst_one", 5, 1)
    absorbed = writes_until_throttled(client, "burst_one", 400)
    assert 250 <= absorbed <= 330, absorbed
    with pytest.raises(client.exceptions.ProvisionedThroughputExceededException):
        client.put_item(TableName="burst_one", Item={"pk": {"S": "refused"}})
    # A throttled write changed nothing.
    found = client.get_item(TableName="burst_one", Key={"pk": {"S": "refused"}},
                            ConsistentRead=True)
    assert "Item" not in found
    client.update_table(TableName="burst_one",
                        ProvisionedThroughput={"ReadCapacityUnits": 5,
                                               "WriteCapacityUnits": 1000})
    # Within GAC's refill period the router holds the new throughput's tokens.
    assert writes_until_throttled_after_refill(client, "burst_one", 200) == 200
    admission = state(gac.url)
    assert admission["era"] == "gac"
    assert admission["throttles"]["router"] >= 2
    table = admission["tables"][f"{REGION}/burst_one"]
    assert table["write"]["rate"] == 1000


def writes_until_throttled_after_refill(client: Any, table: str, most: int) -> int:
    """Writes that go through once the router's next grant is in (≤ 2 s)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            client.put_item(TableName=table, Item={"pk": {"S": "probe"}})
            break
        except client.exceptions.ProvisionedThroughputExceededException:
            time.sleep(0.1)
    return writes_until_throttled(client, table, most)


def test_an_on_demand_table_takes_double_its_previous_peak_without_a_throttle(gac: Any) -> None:
    """§4.5: an on-demand table instantly accommodates up to double its previous peak;
    a new table's is 2,000 WRU, so 4,000 writes a second pass (more than this client
    sends) with no throttle."""
    client = make_client(gac.url)
    client.create_table(
        TableName="on_demand", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])

    def batch(start: int) -> int:
        own = make_client(gac.url)
        items = [{"PutRequest": {"Item": {"pk": {"S": f"k{start + i}"}}}} for i in range(25)]
        answer = own.batch_write_item(RequestItems={"on_demand": items})
        return len(answer["UnprocessedItems"].get("on_demand", []))

    with ThreadPoolExecutor(8) as pool:
        unprocessed = list(pool.map(batch, range(0, 3000, 25)))
    assert sum(unprocessed) == 0
    assert client.describe_table(TableName="on_demand")["Table"]["ItemCount"] == 3000
    assert state(gac.url)["tables"][f"{REGION}/on_demand"]["on_demand"] is True


def test_static_allocation_has_no_burst(static: Any) -> None:
    """§4: in the first era a partition has its share of the table and nothing more:
    a 1 WCU table takes about one write, then throttles."""
    client = make_client(static.url)
    provisioned(client, "no_burst", 5, 1)
    assert writes_until_throttled(client, "no_burst", 50) <= 2
    admission = state(static.url)
    assert admission["era"] == "static"
    assert admission["throttles"]["storage"] >= 1
    shown = [{"partition": pid, **p} for pid, p in admission["partitions"].items()
             if p["table"] == f"{REGION}/no_burst"]
    assert shown and shown[0]["write"]["allocation"] == 1 and shown[0]["write"]["burst"] is None
    assert shown[0]["write"]["consumed"] >= 1  # what the admitted writes were charged
    assert set(shown[0]["rate"]) == {"read", "write"}
    # Within a second the leader's node announces the throttles in the event stream.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        throttled = [e for e in events(static.url) if e["kind"] == "throttled"
                     and e["partition"] == shown[0]["partition"]]
        if throttled:
            break
        time.sleep(0.2)
    assert throttled and throttled[0]["writes"] >= 1


def test_a_throttled_batch_returns_its_refused_writes_as_unprocessed_items(static: Any) -> None:
    """BatchWriteItem returns the writes it could not make for lack of throughput in
    UnprocessedItems, and makes the others; when none could be made, the batch fails
    with ProvisionedThroughputExceededException (API Reference)."""
    client = make_client(static.url)
    provisioned(client, "batch_static", 100, 1)
    items = [{"PutRequest": {"Item": {"pk": {"S": f"b{i}"}}}} for i in range(25)]
    answer = client.batch_write_item(RequestItems={"batch_static": items})
    left = answer["UnprocessedItems"].get("batch_static", [])
    assert 20 <= len(left) < 25
    made = {i["PutRequest"]["Item"]["pk"]["S"] for i in items} - {
        i["PutRequest"]["Item"]["pk"]["S"] for i in left}
    for key in sorted(made):
        got = client.get_item(TableName="batch_static", Key={"pk": {"S": key}},
                              ConsistentRead=True)
        assert "Item" in got
    for item in left[:3]:
        got = client.get_item(TableName="batch_static", Key=item["PutRequest"]["Item"],
                              ConsistentRead=True)
        assert "Item" not in got
    with pytest.raises(client.exceptions.ProvisionedThroughputExceededException):
        client.batch_write_item(RequestItems={"batch_static": left})


def test_a_throttled_batch_read_returns_its_refused_keys_as_unprocessed_keys(static: Any) -> None:
    """BatchGetItem returns the keys it could not read for lack of throughput in
    UnprocessedKeys (API Reference)."""
    client = make_client(static.url)
    provisioned(client, "batch_reads", 1, 100)
    for i in range(10):
        client.put_item(TableName="batch_reads", Item={"pk": {"S": f"r{i}"}})
    keys = [{"pk": {"S": f"r{i}"}} for i in range(10)]
    answer = client.batch_get_item(
        RequestItems={"batch_reads": {"Keys": keys, "ConsistentRead": True}})
    got = answer["Responses"]["batch_reads"]
    left = answer["UnprocessedKeys"]["batch_reads"]["Keys"]
    assert 1 <= len(got) <= 2 and len(got) + len(left) == 10
    assert {k["pk"]["S"] for k in left}.isdisjoint({i["pk"]["S"] for i in got})
