"""`dynamo serve --processes`: the partitioned fleet, each storage node a process (§3, §4).

Real boto3 against a real server whose storage nodes are real processes, each with its
own write-ahead log, B-trees and placement, talking TCP to one another and to the
router, MemDS and the rest of the front end in the server's process. Tables split
while the tests write (`--split-size` of a few KB), and a storage node killed with
SIGKILL in the middle of a split loses no acknowledged write: the split completes or
is rolled back, and the node, started again from its disk, catches up (issue #12). The
leader's process killed while boto3 writes: writes resume under a new leader, none
acknowledged is lost, and the node rejoins from its log (issue #11).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from dynamo.cli.launch import Server, start_server
from dynamo.partitioning.keyspace import KEY_SPACE

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "AKIDLAB", "aws_secret_access_key": "secret"}


def client(url: str, attempts: int = 1):  # type: ignore[no-untyped-def]
    return boto3.client("dynamodb", endpoint_url=url, region_name=REGION, **CREDENTIALS,
                        config=Config(retries={"total_max_attempts": attempts,
                                               "mode": "standard"}, read_timeout=15))


def create_table(dynamodb, name: str, sort: str | None = None) -> None:  # type: ignore[no-untyped-def]
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    if sort is not None:
        keys.append({"AttributeName": sort, "KeyType": "RANGE"})
        attributes.append({"AttributeName": sort, "AttributeType": "S"})
    dynamodb.create_table(TableName=name, KeySchema=keys, AttributeDefinitions=attributes,
                          BillingMode="PAY_PER_REQUEST")


def admin(url: str, what: str) -> Any:
    with urllib.request.urlopen(f"{url}/admin/{what}", timeout=10) as answer:
        body = answer.read()
    return [json.loads(line) for line in body.splitlines()] if what == "events" else json.loads(body)


def fault(url: str, action: str, node: str | None = None, to: str | None = None) -> None:
    body = {"action": action, "node": node, "to": to}
    request = urllib.request.Request(f"{url}/admin/fault", method="POST",
                                     data=json.dumps(body).encode())
    urllib.request.urlopen(request, timeout=10).close()


def partitions(url: str, table: str) -> list[dict[str, Any]]:
    return [p for p in admin(url, "state")["partitions"] if p["table"] == f"{REGION}/{table}"]


def wait_for(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return value


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = start_server("--in-memory", "--processes", "--split-size", "4096")
    yield running
    running.stop()


def test_the_api_works_while_a_table_of_processes_splits(server: Server) -> None:
    """§4: a table split across storage-node processes serves puts, gets, queries, scans and
    batches; every item is where the partition map says, and the scan sees each once."""
    dynamodb = client(server.url)
    create_table(dynamodb, "fleet-api", sort="sk")
    items = [{"pk": {"S": f"p{i % 10}"}, "sk": {"S": f"{i:03}"}, "pad": {"S": "x" * 80}}
             for i in range(150)]
    for item in items[:100]:
        dynamodb.put_item(TableName="fleet-api", Item=item)
    for start in range(100, 150, 25):
        batch = {"fleet-api": [{"PutRequest": {"Item": i}} for i in items[start:start + 25]]}
        while batch:  # what a partition could not take now comes back as UnprocessedItems
            batch = dynamodb.batch_write_item(RequestItems=batch)["UnprocessedItems"]
    assert wait_for(lambda: len(found := partitions(server.url, "fleet-api")) > 1
                    and all(p["leader"] is not None for p in found))
    nodes = admin(server.url, "state")["nodes"]
    assert len({n["pid"] for n in nodes}) == 3 and server.pid not in {n["pid"] for n in nodes}
    key = {"pk": {"S": "p3"}, "sk": {"S": "013"}}
    assert dynamodb.get_item(TableName="fleet-api", Key=key, ConsistentRead=True)["Item"] == \
        items[13]
    page = dynamodb.query(TableName="fleet-api", KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": {"S": "p7"}}, ConsistentRead=True)
    assert [i["sk"]["S"] for i in page["Items"]] == [f"{i:03}" for i in range(7, 150, 10)]
    scanned, start_key = [], None
    while True:
        more = {} if start_key is None else {"ExclusiveStartKey": start_key}
        page = dynamodb.scan(TableName="fleet-api", Limit=40, ConsistentRead=True, **more)
        scanned += [(i["pk"]["S"], i["sk"]["S"]) for i in page["Items"]]
        start_key = page.get("LastEvaluatedKey")
        if start_key is None:
            break
    assert sorted(scanned) == sorted((i["pk"]["S"], i["sk"]["S"]) for i in items)
    got = dynamodb.batch_get_item(RequestItems={"fleet-api": {
        "Keys": [{"pk": i["pk"], "sk": i["sk"]} for i in items[:60]], "ConsistentRead": True}})
    assert len(got["Responses"]["fleet-api"]) == 60
    assert wait_for(lambda: dynamodb.describe_table(TableName="fleet-api")["Table"]["ItemCount"]
                    == 150)


class Writers:
    """boto3 writers putting distinct keys until stopped; they keep what was acknowledged."""

    def __init__(self, url: str, table: str, count: int = 3) -> None:
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
        dynamodb = client(url, attempts=5)
        i = 0
        while not self.stop.is_set():
            key = f"w{writer}-{i}"
            i += 1
            sent = time.monotonic()
            try:
                dynamodb.put_item(TableName=self.table, Item={"pk": {"S": key},
                                                              "pad": {"S": "y" * 60}})
            except ClientError:
                continue  # not acknowledged: it may or may not have happened
            self.acked.append((sent, time.monotonic(), key))

    def longest_stall(self, since: float) -> float:
        """The longest time after `since` without an acknowledged write."""
        done = sorted([since] + [ack for _, ack, _ in self.acked if ack > since])
        return max(b - a for a, b in zip(done, done[1:], strict=False))


def split_elsewhere(url: str, seen: int, node: str) -> dict[str, Any] | None:
    """A split that other members announced after the first `seen` events, and `node` not."""
    events = admin(url, "events")[seen:]
    made = {(e["partition"], e["node"]) for e in events if e["kind"] == "partition_split"}
    return next(({"partition": p} for p, by in sorted(made) if by != node
                 and (p, node) not in made), None)


def test_sigkill_a_storage_node_mid_split_loses_no_acknowledged_write(tmp_path: Path) -> None:
    """Issue #12's proof: boto3 writers run while a table splits; a storage-node process is
    killed with SIGKILL while a split is under way (the other members made the children,
    it had not: their messages to it were cut, one way, §6.2); 0 acknowledged writes are
    lost (each read back with ConsistentRead), the table's partitions tile its key space,
    each led, with three replicas, and the killed node, started again from its disk,
    makes the children from its log and catches up with every partition's leader."""
    server = start_server("--data-dir", str(tmp_path), "--processes", "--split-size", "8192",
                          "--allow-faults")
    try:
        dynamodb = client(server.url)
        create_table(dynamodb, "fleet-kill")
        seen, victim = len(admin(server.url, "events")), "n3"
        for peer in ("n1", "n2"):
            fault(server.url, "cut", peer, to=victim)
        with Writers(server.url, "fleet-kill") as writers:
            split = wait_for(lambda: split_elsewhere(server.url, seen, victim), timeout=30)
            pid = next(n["pid"] for n in admin(server.url, "state")["nodes"]
                       if n["id"] == victim)
            killed_at = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            fault(server.url, "heal")
            wait_for(lambda: sum(sent > killed_at for sent, _, _ in writers.acked) >= 30)
            fault(server.url, "restart", victim)
            restarted_at = time.monotonic()
            wait_for(lambda: sum(sent > restarted_at for sent, _, _ in writers.acked) >= 30)
        stalled = writers.longest_stall(killed_at)
        print(f"\nSIGKILL of {victim} during the split of {split['partition']}: writes "
              f"stalled at most {stalled:.2f} s; {len(writers.acked)} writes acknowledged")
        assert stalled < 10.0
        caught_up = wait_for(lambda: _caught_up(server.url, "fleet-kill", victim), timeout=30)
        events = admin(server.url, "events")
        restart = max(i for i, e in enumerate(events) if e["kind"] == "restarted")
        assert any(e["kind"] == "partition_split" and e["node"] == victim  # from its log
                   and e["partition"] == split["partition"] for e in events[restart:])
        ranges = sorted((int(low, 16), int(high, 16)) for low, high in
                        (p["key_range"] for p in caught_up))
        # Ranges are [low, high); the last high, 2**128, is shown as 32 f's.
        assert ranges[0][0] == 0 and ranges[-1][1] == KEY_SPACE - 1
        assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
        assert all(len(p["replicas"]) == 3 for p in caught_up)
        keys = [key for _, _, key in writers.acked]
        for start in range(0, len(keys), 100):
            asked = [{"pk": {"S": key}} for key in keys[start:start + 100]]
            found = _batch_get(dynamodb, "fleet-kill", asked)
            assert found == {k["pk"]["S"] for k in asked}, "an acknowledged write was lost"
        new_pid = next(n["pid"] for n in admin(server.url, "state")["nodes"]
                       if n["id"] == victim)
        assert new_pid not in (None, pid)
    finally:
        server.stop()


def test_sigkill_the_leaders_process_loses_no_acknowledged_write(tmp_path: Path) -> None:
    """§6.1: the process of the storage node that leads the table's partition dies by
    SIGKILL while boto3 writes; the other two replicas elect a leader and writes resume;
    every acknowledged write is read back (ConsistentRead); the killed node restarts from
    its write-ahead log and B-trees and catches up with the new leader."""
    server = start_server("--data-dir", str(tmp_path), "--processes", "--allow-faults")
    try:
        dynamodb = client(server.url)
        create_table(dynamodb, "leader-kill")
        leader = wait_for(lambda: (found := partitions(server.url, "leader-kill"))
                          and found[0]["leader"])
        with Writers(server.url, "leader-kill") as writers:
            wait_for(lambda: len(writers.acked) >= 20)
            pid = next(n["pid"] for n in admin(server.url, "state")["nodes"]
                       if n["id"] == leader)
            killed_at = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            # a write sent after the SIGKILL can only be acknowledged by a new leader
            after = wait_for(lambda: [done for sent, done, _ in writers.acked
                                      if sent > killed_at])
            resumed_s = min(after) - killed_at
            wait_for(lambda: sum(sent > killed_at for sent, _, _ in writers.acked) >= 20)
        print(f"\nwrites resumed {resumed_s:.2f} s after SIGKILL of the leader {leader}")
        assert resumed_s < 10.0
        new_leader = wait_for(lambda: (n := partitions(server.url, "leader-kill")[0]["leader"])
                              != leader and n)
        kinds = [(e["kind"], e.get("node")) for e in admin(server.url, "events")]
        assert kinds.index(("crashed", leader)) < kinds.index(("elected", new_leader))
        keys = [{"pk": {"S": key}} for _, _, key in writers.acked]
        for start in range(0, len(keys), 100):
            asked = keys[start:start + 100]
            assert _batch_get(dynamodb, "leader-kill", asked) == {k["pk"]["S"] for k in asked}, (
                "an acknowledged write was lost")
        fault(server.url, "restart", leader)
        wait_for(lambda: _caught_up(server.url, "leader-kill", leader), timeout=30)
        restarted = next(n for n in admin(server.url, "state")["nodes"] if n["id"] == leader)
        assert restarted["pid"] not in (None, pid) and restarted["up"]
    finally:
        server.stop()


def _caught_up(url: str, table: str, node: str) -> list[dict[str, Any]] | None:
    """The table's partitions, once each is led and `node`'s replica (where it has one) has
    applied as far as the leader."""
    found = partitions(url, table)
    for partition in found:
        if partition["leader"] is None:
            return None
        applied = {r["node"]: r["applied_lsn"] for r in partition["replicas"]}
        if node in applied and applied[node] != applied[partition["leader"]]:
            return None
    return found


def _batch_get(dynamodb, table: str, keys: list[dict[str, Any]]) -> set[str]:  # type: ignore[no-untyped-def]
    found: set[str] = set()
    while keys:
        got = dynamodb.batch_get_item(RequestItems={table: {"Keys": keys,
                                                            "ConsistentRead": True}})
        found |= {item["pk"]["S"] for item in got["Responses"].get(table, [])}
        keys = got.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
    return found
