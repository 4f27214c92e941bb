"""`dynamo serve --processes`: each replica its own process, the router talking TCP (§3, §6.1).

Real boto3 against a real server whose three replicas are real processes:
typed requests, results and DynamoDB's errors cross the wire (`dynamo.net`'s
codec), and a leader killed with SIGKILL while writers run loses no
acknowledged write, and rejoins from its write-ahead log and B-tree.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from apitools import CREDENTIALS, REGION, Server, create_table, make_client, start_server
from botocore.config import Config
from botocore.exceptions import ClientError


def state(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/admin/state", timeout=10) as answer:
        return json.loads(answer.read())


def events(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{url}/admin/events", timeout=10) as answer:
        return [json.loads(line) for line in answer.read().splitlines()]


def replicas(url: str) -> dict[str, dict[str, Any]]:
    return {r["node"]: r for r in state(url)["group"]["replicas"]}


def wait_for(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return value


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = start_server("--in-memory", "--processes")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(server: Server):  # type: ignore[no-untyped-def]
    return make_client(server.url)


def test_each_replica_is_a_process_of_its_own(server: Server, client) -> None:  # type: ignore[no-untyped-def]
    """§3: three replicas in three zones; here three processes, none of them the server."""
    create_table(client, "procs-state")
    client.put_item(TableName="procs-state", Item={"pk": {"S": "a"}})
    shown = state(server.url)
    assert shown["mode"] == "processes"
    pids = [n["pid"] for n in shown["nodes"]]
    assert len(set(pids)) == 3 and server.pid not in pids
    for pid in pids:
        os.kill(pid, 0)  # a live process (raises if not)
    roles = wait_for(lambda: "leader" in (r := sorted(
        n["role"] for n in state(server.url)["group"]["replicas"])) and "starting" not in r and r)
    assert roles == ["follower", "follower", "leader"]  # as each process reports itself


def test_typed_requests_and_results_cross_the_wire(client) -> None:  # type: ignore[no-untyped-def]
    """PutItem, UpdateItem (an expression AST), GetItem, Query with a filter, Scan, batches."""
    create_table(client, "procs-items", sort="sk")
    key = {"pk": {"S": "p"}, "sk": {"S": "1"}}
    client.put_item(TableName="procs-items", Item={**key, "n": {"N": "1"}, "tags": {"SS": ["x"]}})
    updated = client.update_item(
        TableName="procs-items", Key=key, UpdateExpression="ADD n :two SET note = :note",
        ExpressionAttributeValues={":two": {"N": "2"}, ":note": {"S": "hi"}},
        ReturnValues="ALL_NEW", ReturnConsumedCapacity="TOTAL")
    assert updated["Attributes"]["n"] == {"N": "3"}
    assert updated["ConsumedCapacity"]["CapacityUnits"] == 1.0
    got = client.get_item(TableName="procs-items", Key=key, ConsistentRead=True)
    assert got["Item"] == {**key, "n": {"N": "3"}, "tags": {"SS": ["x"]}, "note": {"S": "hi"}}
    client.batch_write_item(RequestItems={"procs-items": [
        {"PutRequest": {"Item": {"pk": {"S": "p"}, "sk": {"S": str(i)}, "n": {"N": str(i)}}}}
        for i in range(2, 6)]})
    page = client.query(TableName="procs-items", KeyConditionExpression="pk = :p AND sk > :s",
                        FilterExpression="n >= :min", ConsistentRead=True,
                        ExpressionAttributeValues={":p": {"S": "p"}, ":s": {"S": "1"},
                                                   ":min": {"N": "3"}})
    assert [i["sk"]["S"] for i in page["Items"]] == ["3", "4", "5"]
    assert page["ScannedCount"] == 4
    scanned = client.scan(TableName="procs-items", Limit=2, ConsistentRead=True)
    assert scanned["Count"] == 2 and "LastEvaluatedKey" in scanned
    batch = client.batch_get_item(RequestItems={"procs-items": {
        "Keys": [key, {"pk": {"S": "p"}, "sk": {"S": "5"}}], "ConsistentRead": True}})
    assert len(batch["Responses"]["procs-items"]) == 2


def test_errors_cross_the_wire_as_dynamodb_errors(client) -> None:  # type: ignore[no-untyped-def]
    """A rejected write comes back from the leader as DynamoDB's error, with ALL_OLD's item;
    an update that is invalid against the stored item is the replica's ValidationException."""
    create_table(client, "procs-errors")
    item = {"pk": {"S": "a"}, "v": {"S": "old"}}
    client.put_item(TableName="procs-errors", Item=item)
    with pytest.raises(ClientError) as failed:
        client.put_item(TableName="procs-errors", Item={"pk": {"S": "a"}},
                        ConditionExpression="attribute_not_exists(pk)",
                        ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert failed.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert failed.value.response["Item"] == item
    with pytest.raises(ClientError) as invalid:
        client.update_item(TableName="procs-errors", Key={"pk": {"S": "a"}},
                           UpdateExpression="ADD v :one",
                           ExpressionAttributeValues={":one": {"N": "1"}})
    assert invalid.value.response["Error"]["Code"] == "ValidationException"
    got = client.get_item(TableName="procs-errors", Key={"pk": {"S": "a"}}, ConsistentRead=True)
    assert got["Item"] == item  # neither rejected write changed anything


class Writers:
    """boto3 writers putting distinct keys until stopped; they keep what was acknowledged."""

    def __init__(self, url: str, table: str, count: int = 2) -> None:
        self.table = table
        self.acked: list[tuple[float, float, str]] = []  # (sent, acknowledged, key)
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(url, w)) for w in range(count)]

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def _run(self, url: str, writer: int) -> None:
        client = boto3.client("dynamodb", endpoint_url=url, region_name=REGION, **CREDENTIALS,
                              config=Config(retries={"total_max_attempts": 5, "mode": "standard"},
                                            read_timeout=15))
        i = 0
        while not self.stop.is_set():
            key = f"w{writer}-{i}"
            i += 1
            sent = time.monotonic()
            try:
                client.put_item(TableName=self.table, Item={"pk": {"S": key}})
            except ClientError:
                continue  # not acknowledged: it may or may not have happened
            self.acked.append((sent, time.monotonic(), key))


def test_sigkill_the_leader_process_no_acknowledged_write_lost(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """§6.1: the leader's process dies by SIGKILL while boto3 writes; the other two elect a
    leader and writes resume; every acknowledged write is read back (ConsistentRead); the
    killed replica restarts from its WAL and B-tree and catches up to the leader's LSN."""
    server = start_server("--data-dir", str(tmp_path), "--processes", "--allow-faults")
    try:
        client = make_client(server.url)
        create_table(client, "procs-kill")
        leader = wait_for(lambda: state(server.url)["group"]["leader"])
        with Writers(server.url, "procs-kill") as writers:
            wait_for(lambda: len(writers.acked) >= 20)
            pid = replicas(server.url)[leader]["pid"]
            killed_at = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            # a write sent after the SIGKILL can only be acknowledged by a new leader
            after = wait_for(lambda: [done for sent, done, _ in writers.acked if sent > killed_at])
            resumed_s = min(after) - killed_at
            wait_for(lambda: sum(sent > killed_at for sent, _, _ in writers.acked) >= 20)
        print(f"writes resumed {resumed_s:.2f} s after SIGKILL of the leader {leader}")
        assert resumed_s < 10.0
        new_leader = wait_for(lambda: (n := state(server.url)["group"]["leader"]) != leader
                              and n)
        assert replicas(server.url)[leader]["role"] == "down"
        kinds = [(e["kind"], e.get("node")) for e in events(server.url)]
        assert kinds.index(("crashed", leader)) < kinds.index(("elected", new_leader))
        for _, _, key in writers.acked:
            got = client.get_item(TableName="procs-kill", Key={"pk": {"S": key}},
                                  ConsistentRead=True)
            assert got.get("Item") == {"pk": {"S": key}}, f"acknowledged {key} was lost"
        request = urllib.request.Request(
            f"{server.url}/admin/fault", method="POST",
            data=json.dumps({"action": "restart", "node": leader}).encode())
        urllib.request.urlopen(request, timeout=10).close()
        rejoined = wait_for(lambda: (r := replicas(server.url))[leader]["applied_lsn"]
                            == r[new_leader]["applied_lsn"] and r)
        assert rejoined[leader]["pid"] not in (None, pid)
        assert rejoined[leader]["role"] == "follower"
        assert rejoined[leader]["applied_lsn"] >= len(writers.acked)
    finally:
        server.stop()
