"""The admin endpoint of the default `dynamo serve`: one replication group of three (§3, §6.1).

A real server process, real boto3 and real HTTP: `/admin/state` shows the group,
`/admin/fault` kills its leader while writes go on, `/admin/events` tells the
story, and nobody but a loopback client ever sees any of it.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from apitools import create_table, make_client, start_server

from dynamo.api.server import DynamoApp
from dynamo.cli.main import main
from dynamo.cluster.node import SingleNode


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read()


def post(url: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def state(url: str) -> dict[str, Any]:
    return json.loads(get(f"{url}/admin/state"))


def events(url: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in get(f"{url}/admin/events").splitlines()]


def test_state_shows_three_replicas_in_three_zones_and_one_leader() -> None:
    server = start_server("--in-memory")
    try:
        client = make_client(server.url)
        name = f"t{uuid.uuid4().hex[:8]}"
        create_table(client, name)
        for i in range(5):
            client.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}})
        shown = state(server.url)
        assert [(n["id"], n["zone"], n["up"]) for n in shown["nodes"]] == [
            ("n1", "az1", True), ("n2", "az2", True), ("n3", "az3", True)]
        [partition] = [p for p in shown["partitions"] if p["table"] == f"us-east-1/{name}"]
        roles = sorted(r["role"] for r in partition["replicas"])
        assert roles == ["follower", "follower", "leader"]
        assert partition["leader"] in ("n1", "n2", "n3")
        assert partition["ballot"].endswith(partition["leader"])
        leader = next(r for r in partition["replicas"] if r["role"] == "leader")
        assert leader["applied_lsn"] >= 5  # five puts, each a slot of the log (§3: LSN = slot)
        assert all(r["persisted_lsn"] >= r["applied_lsn"] for r in partition["replicas"])
        assert any(e["kind"] == "elected" for e in events(server.url))
    finally:
        server.stop()


def test_killing_the_leader_elects_another_and_loses_no_acknowledged_write(tmp_path) -> None:
    """§6.1, §6.2: 2 of 3 replicas hold every acknowledged write; the others elect a leader,
    which serves once the old lease has run out; the killed replica rejoins and catches up."""
    server = start_server("--data-dir", str(tmp_path), "--allow-faults")
    try:
        client = make_client(server.url)
        create_table(client, "kvs")
        acked = []
        for i in range(20):
            client.put_item(TableName="kvs", Item={"pk": {"S": f"k{i}"}})
            acked.append(f"k{i}")
        old = partition_of(server.url, "kvs")["leader"]
        assert post(f"{server.url}/admin/fault", {"action": "kill", "node": old})[0] == 200
        started = time.monotonic()
        client.put_item(TableName="kvs", Item={"pk": {"S": "after"}})
        resumed = time.monotonic() - started
        acked.append("after")
        group = partition_of(server.url, "kvs")
        assert group["leader"] not in (None, old)
        assert resumed < 5.0, f"writes resumed only after {resumed:.1f} s"
        for key in acked:
            got = client.get_item(TableName="kvs", Key={"pk": {"S": key}}, ConsistentRead=True)
            assert got["Item"] == {"pk": {"S": key}}, key
        kinds = [(e["kind"], e.get("node")) for e in events(server.url)]
        assert ("crashed", old) in kinds
        assert kinds.index(("crashed", old)) < max(i for i, (k, _) in enumerate(kinds)
                                                   if k == "elected")
        assert post(f"{server.url}/admin/fault", {"action": "restart", "node": old})[0] == 200
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            replicas = {r["node"]: r for r in partition_of(server.url, "kvs")["replicas"]}
            if replicas[old]["applied_lsn"] == replicas[group["leader"]]["applied_lsn"]:
                break
            time.sleep(0.1)
        assert replicas[old]["role"] == "follower"
        assert replicas[old]["applied_lsn"] == replicas[group["leader"]]["applied_lsn"]
    finally:
        server.stop()


def partition_of(url: str, table: str) -> dict:
    """The one partition of a table that has not split, as /admin/state shows it."""
    [partition] = [p for p in state(url)["partitions"] if p["table"] == f"us-east-1/{table}"]
    return partition


def test_faults_need_allow_faults_and_bad_faults_are_refused() -> None:
    server = start_server("--in-memory")
    try:
        status, body = post(f"{server.url}/admin/fault", {"action": "kill", "node": "n1"})
        assert status == 403 and "--allow-faults" in body["error"]
        assert all(n["up"] for n in state(server.url)["nodes"])
    finally:
        server.stop()
    server = start_server("--in-memory", "--allow-faults")
    try:
        for fault in ({"action": "explode"}, {"action": "kill", "node": "n9"},
                      {"action": "cut", "node": "n1", "to": "n1"}):
            status, body = post(f"{server.url}/admin/fault", fault)
            assert status == 400 and body["error"], fault
        assert all(n["up"] for n in state(server.url)["nodes"])
    finally:
        server.stop()


@pytest.mark.parametrize("peer", [b"10.1.2.3", b"192.168.0.9", b""])
def test_only_loopback_clients_see_the_admin_endpoint(peer: bytes) -> None:
    """Anyone else gets what DynamoDB answers to a request that is not its protocol."""
    import asyncio

    app = DynamoApp(SingleNode(None), allow_faults=True)
    for method, path in (("GET", "/admin/state"), ("GET", "/admin/events"),
                         ("POST", "/admin/fault")):
        status, body, _ = asyncio.run(app.answer(method, path, {b":peer": peer}, b"{}"))
        assert status == 404 and body == b"<UnknownOperationException/>\n"
    status, body, _ = asyncio.run(app.answer("GET", "/admin/state", {b":peer": b"127.0.0.1"},
                                             b""))
    assert status == 200 and json.loads(body)["mode"] == "single"


def test_dynamo_admin_prints_state_and_events(capsys: pytest.CaptureFixture[str]) -> None:
    server = start_server("--in-memory", "--allow-faults")
    try:
        client = make_client(server.url)
        create_table(client, "cli")
        client.put_item(TableName="cli", Item={"pk": {"S": "a"}})  # a leader has served it
        assert main(["admin", "--endpoint", server.url, "state"]) == 0
        shown = json.loads(capsys.readouterr().out)
        assert len(shown["nodes"]) == 3 and shown["partitions"][0]["leader"]
        assert main(["admin", "--endpoint", server.url, "fault", "cut", "n1", "n2"]) == 0
        capsys.readouterr()
        assert main(["admin", "--endpoint", server.url, "events"]) == 0
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert {"kind": "link_cut", "src": "n1", "dst": "n2"}.items() <= lines[-1].items()
    finally:
        server.stop()


def longest_pause(client: Any, table: str, seconds: float) -> tuple[float, int]:
    """PutItems one after another for `seconds`: the longest a write took (a retried one
    counts from its first try) and how many failed."""
    longest, failed, end = 0.0, 0, time.monotonic() + seconds
    while time.monotonic() < end:
        began = time.monotonic()
        for _ in range(50):
            try:
                client.put_item(TableName=table, Item={"pk": {"S": uuid.uuid4().hex}})
                break
            except client.exceptions.ClientError:
                failed += 1
                time.sleep(0.02)
        longest = max(longest, time.monotonic() - began)
    return longest, failed


def test_a_deployment_hands_leadership_off_first_so_writes_barely_pause(tmp_path) -> None:
    """§6.4: before a storage node is stopped for a deployment, the leaders on it hand off
    their leadership, so its groups do not sit through a failover; a crash of the same
    node costs the lease and an election instead."""
    server = start_server("--data-dir", str(tmp_path), "--allow-faults")
    try:
        client = make_client(server.url)
        create_table(client, "deployed", capacity=1000)
        client.put_item(TableName="deployed", Item={"pk": {"S": "first"}})
        leader = partition_of(server.url, "deployed")["leader"]
        assert post(f"{server.url}/admin/fault", {"action": "deploy", "node": leader})[0] == 200
        deployed_pause, _ = longest_pause(client, "deployed", 2.5)
        kinds = [(e["kind"], e.get("node")) for e in events(server.url)]
        assert ("deploy_started", leader) in kinds and ("deployed", leader) in kinds
        done = next(e for e in events(server.url) if e["kind"] == "deployed")
        assert done["handed_off"] >= 1 and done["still_leading"] == 0
        assert kinds.index(("deploy_started", leader)) < kinds.index(("crashed", leader))
        new = partition_of(server.url, "deployed")["leader"]
        assert new not in (None, leader)

        time.sleep(1.0)  # the deployed node is back and caught up
        assert post(f"{server.url}/admin/fault", {"action": "kill", "node": new})[0] == 200
        crashed_pause, _ = longest_pause(client, "deployed", 2.5)
        print(f"longest write: {deployed_pause:.2f} s after a deploy, "
              f"{crashed_pause:.2f} s after a crash")  # shown with pytest -s
        assert deployed_pause < 0.5, f"a deployment paused writes for {deployed_pause:.2f} s"
        assert crashed_pause > 2 * deployed_pause
        got = client.get_item(TableName="deployed", Key={"pk": {"S": "first"}},
                              ConsistentRead=True)
        assert got["Item"] == {"pk": {"S": "first"}}
    finally:
        server.stop()
