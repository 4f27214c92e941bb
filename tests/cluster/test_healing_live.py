"""Healing, live: `dynamo serve --nodes 6` loses a storage node while boto3 writes (§5.1).

Six storage nodes, two per zone, so each zone has a node to spare. A real
server process, real boto3 and real HTTP: while a writer puts items, a node
that holds a replica of the table's partition is killed
(`POST /admin/fault`). The partition's leader notices the silent replica and
adds a log replica on the other node of its zone (`/admin/state` shows a
replica whose role is `log`); autoadmin then builds a full replacement and
removes the dead replica and the log replica, until the group is three full
replicas on live nodes again. Every acknowledged write is read back. With
`pytest -s` it prints the seconds from the kill to the log replica, to the
full replacement and to the healed group.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.config import Config

from dynamo.cli.launch import start_server

TABLE = "healing"
HEAL_S = 30.0  # the whole heal, a full copy included, within this (it takes a few seconds)


def admin(url: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(f"{url}{path}", data=data,
                                     method="GET" if data is None else "POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        body = answer.read()
    if path == "/admin/events":
        return [json.loads(line) for line in body.splitlines()]
    return json.loads(body)


def the_partition(url: str) -> dict[str, Any]:
    [partition] = [p for p in admin(url, "/admin/state")["partitions"]
                   if p["table"] == f"us-east-1/{TABLE}"]
    return partition


def client(url: str):  # type: ignore[no-untyped-def]
    return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="AKIDLAB", aws_secret_access_key="secret",
                        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))


class Writer(threading.Thread):
    """Puts items one after another until stopped; remembers those acknowledged."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.dynamodb = client(url)
        self.acknowledged: list[str] = []
        self.failed = 0
        self.done = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.done.is_set():
            key = f"k{n:05d}"
            n += 1
            try:
                self.dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": key}})
                self.acknowledged.append(key)
            except self.dynamodb.exceptions.ClientError:
                self.failed += 1  # not acknowledged: may or may not have happened
                time.sleep(0.05)


def wait_for(what: str, check: Any, timeout: float = HEAL_S) -> float:
    """Poll `check()` until it is true; the seconds it took."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout, f"not {what} within {timeout:.0f} s"
        time.sleep(0.1)
    return time.monotonic() - started


@pytest.mark.parametrize("runtime", [(), ("--processes",)], ids=["embedded", "processes"])
def test_a_lost_node_is_replaced_by_a_log_replica_then_healed_with_no_write_lost(
        runtime: tuple[str, ...]) -> None:
    """§5.1: "when a replica becomes unhealthy, the leader adds a log replica"; autoadmin
    then heals the group with a full replica; acknowledged writes survive throughout. In
    the embedded fleet, and with each storage node a process of its own (a SIGKILL)."""
    server = start_server("--in-memory", "--nodes", "6", "--allow-faults", *runtime)
    writer = Writer(server.url)
    try:
        client(server.url).create_table(
            TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            ProvisionedThroughput={"ReadCapacityUnits": 1000, "WriteCapacityUnits": 1000})
        writer.start()
        wait_for("writing", lambda: len(writer.acknowledged) >= 50)
        group = the_partition(server.url)
        zones = {n["id"]: n["zone"] for n in admin(server.url, "/admin/state")["nodes"]}
        victim = next(r["node"] for r in group["replicas"] if r["node"] != group["leader"])
        admin(server.url, "/admin/fault", {"action": "kill", "node": victim})
        killed = time.monotonic()

        def log_replica() -> dict[str, Any] | None:
            return next((r for r in the_partition(server.url)["replicas"]
                         if r["role"] == "log"), None)

        to_log = wait_for("a log replica", lambda: log_replica() is not None)
        standing_in = log_replica()
        assert standing_in is not None and standing_in["replica_role"] == "log"
        assert zones[standing_in["node"]] == zones[victim]  # the zone the group lost

        original = {r["node"] for r in group["replicas"]}

        def replacement() -> bool:
            return any(r["replica_role"] == "full" and r["node"] not in original
                       for r in the_partition(server.url)["replicas"])

        wait_for("a full replacement", replacement)
        to_replacement = time.monotonic() - killed

        def healed() -> bool:
            replicas = the_partition(server.url)["replicas"]
            return (len(replicas) == 3 and victim not in {r["node"] for r in replicas}
                    and all(r["replica_role"] == "full" and r["role"] in ("leader", "follower")
                            for r in replicas))

        wait_for("healed", healed)
        to_healed = time.monotonic() - killed
        writer.done.set()
        writer.join()
        final = sorted(f"{r['node']}@{r['zone']}" for r in the_partition(server.url)["replicas"])
        print(f"\nkilled {victim}@{zones[victim]}: log replica {standing_in['node']} "
              f"{to_log:.1f} s later, a full replacement at {to_replacement:.1f} s; healed as "
              f"{', '.join(final)} {to_healed:.1f} s after the kill "
              f"({len(writer.acknowledged)} writes acknowledged, {writer.failed} failed)")

        kinds = [e["kind"] for e in admin(server.url, "/admin/events")]
        for step in ("crashed", "replica_unresponsive", "log_replica_added",
                     "replacement_added", "member_removed", "log_replica_removed", "healed"):
            assert step in kinds, step
        assert kinds.index("log_replica_added") < kinds.index("replacement_added")
        dynamodb = client(server.url)
        lost = [key for key in writer.acknowledged
                if "Item" not in dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": key}},
                                                   ConsistentRead=True)]
        assert lost == [], f"{len(lost)} acknowledged writes lost"
        assert len(writer.acknowledged) > 100
    finally:
        writer.done.set()
        server.stop()
