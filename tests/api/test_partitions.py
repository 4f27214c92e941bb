"""A partitioned table through boto3: it splits as it grows, and clients see one table (§3, §4).

`dynamo serve --split-size 4096` splits a partition once its items pass 4 KB,
so a table of a few hundred small items becomes several partitions while the
tests write to it. Through all of it the client sees DynamoDB: no errors
beyond its SDK's own retries, Scans that see every item once, parallel-scan
segments that divide the table, counts that add up, batches across
partitions; and `/admin/state` shows the partitions tiling the key space, each
on three nodes in three zones.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from typing import Any

import boto3
import pytest
from apitools import CREDENTIALS, REGION, create_table, make_client, start_server
from botocore.config import Config

from dynamo.cli.launch import Server

ITEMS = 240
VALUE = "v" * 80


@pytest.fixture(scope="module")
def server() -> Any:
    running = start_server("--in-memory", "--split-size", "4096", "--nodes", "5")
    yield running
    running.stop()


def state(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/admin/state") as answer:
        return json.loads(answer.read())


def events(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{url}/admin/events") as answer:
        return [json.loads(line) for line in answer.read().splitlines()]


def partitions(url: str, table: str) -> list[dict[str, Any]]:
    return [p for p in state(url)["partitions"] if p["table"] == f"{REGION}/{table}"]


def retrying_client(url: str) -> Any:
    """A client with the SDK's standard retries, as an application would have."""
    return boto3.client("dynamodb", endpoint_url=url, region_name=REGION, **CREDENTIALS,
                        config=Config(retries={"total_max_attempts": 3, "mode": "standard"}))


def fill(server: Server, table: str) -> None:
    """Write ITEMS items from four threads while the table splits; no write may fail."""
    errors: list[Exception] = []

    def writer(first: int) -> None:
        client = retrying_client(server.url)
        for i in range(first, ITEMS, 4):
            try:
                client.put_item(TableName=table, Item={"pk": {"S": f"k{i:04d}"},
                                                       "v": {"S": VALUE}})
            except Exception as error:  # noqa: BLE001 - counted, and the test fails on any
                errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def settled(found: list[dict[str, Any]]) -> bool:
    """Split into four or more partitions, each with a leader elected."""
    return len(found) >= 4 and all(p["leader"] for p in found)


def settled_partitions(url: str, table: str, seconds: float = 15.0) -> list[dict[str, Any]]:
    """The table's partitions once they are settled: a child just split off may still be
    electing its leader, so the partitions are read until every one has one."""
    deadline = time.monotonic() + seconds
    while not settled(found := partitions(url, table)):
        assert time.monotonic() < deadline, "the table did not split, or a partition has no leader"
        time.sleep(0.2)
    return found


@pytest.fixture(scope="module")
def split_table(server: Server) -> str:
    client = make_client(server.url)
    create_table(client, "grown")
    fill(server, "grown")
    settled_partitions(server.url, "grown")
    return "grown"


def test_a_table_splits_as_it_grows_and_its_partitions_tile_the_key_space(
        server: Server, split_table: str) -> None:
    """§3: a table is divided into partitions, each a contiguous range of the hashed key
    space, each a replication group on three nodes in three zones."""
    found = settled_partitions(server.url, split_table)
    ranges = [tuple(p["key_range"]) for p in found]
    assert ranges[0][0] == "0" * 32 and ranges[-1][1] == "f" * 32
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))  # contiguous, in key order
    zones = {n["id"]: n["zone"] for n in state(server.url)["nodes"]}
    for partition in found:
        nodes = [r["node"] for r in partition["replicas"]]
        assert len({zones[n] for n in nodes}) == 3
        assert partition["leader"] in nodes
    assert sum(p["items"] for p in found) == ITEMS
    kinds = [e["kind"] for e in events(server.url)]
    assert "partition_split" in kinds and "map_refreshed" in kinds


def test_counts_add_up_over_the_partitions(server: Server, split_table: str) -> None:
    described = make_client(server.url).describe_table(TableName=split_table)["Table"]
    assert described["ItemCount"] == ITEMS
    assert described["TableSizeBytes"] == sum(p["size_bytes"] for p in
                                              partitions(server.url, split_table))


def test_a_scan_pages_across_partitions_and_sees_every_item_once(
        server: Server, split_table: str) -> None:
    client = make_client(server.url)
    seen, start, pages = [], None, 0
    while True:
        extra = {} if start is None else {"ExclusiveStartKey": start}
        page = client.scan(TableName=split_table, Limit=17, **extra)
        seen += [item["pk"]["S"] for item in page["Items"]]
        pages += 1
        start = page.get("LastEvaluatedKey")
        if start is None:
            break
    assert sorted(seen) == [f"k{i:04d}" for i in range(ITEMS)]
    assert pages >= ITEMS // 17


def test_parallel_scan_segments_divide_the_table(server: Server, split_table: str) -> None:
    client = make_client(server.url)
    segments = [[item["pk"]["S"] for item in
                 client.scan(TableName=split_table, Segment=s, TotalSegments=3)["Items"]]
                for s in range(3)]
    assert all(segments)
    assert sorted(k for segment in segments for k in segment) == [
        f"k{i:04d}" for i in range(ITEMS)]


def test_batches_fan_out_over_partitions(server: Server, split_table: str) -> None:
    client = make_client(server.url)
    keys = [{"pk": {"S": f"k{i:04d}"}} for i in range(0, ITEMS, 3)][:100]
    got = client.batch_get_item(RequestItems={split_table: {"Keys": keys,
                                                            "ConsistentRead": True}})
    assert sorted(i["pk"]["S"] for i in got["Responses"][split_table]) == sorted(
        k["pk"]["S"] for k in keys)
    client.batch_write_item(RequestItems={split_table: [
        {"DeleteRequest": {"Key": key}} for key in keys[:25]]})
    for key in keys[:25]:
        assert "Item" not in client.get_item(TableName=split_table, Key=key,
                                             ConsistentRead=True)
    for i in range(0, 75, 3):  # put them back for the other tests
        client.put_item(TableName=split_table, Item={"pk": {"S": f"k{i:04d}"},
                                                     "v": {"S": VALUE}})


def test_new_tables_spread_over_the_nodes_in_three_zones() -> None:
    """§4.3: replicas spread over the storage nodes; §3: each partition's in three zones."""
    server = start_server("--in-memory", "--nodes", "6", "--zones", "3")
    try:
        client = make_client(server.url)
        for n in range(6):
            create_table(client, f"spread{n}")
        shown = state(server.url)
        zones = {n["id"]: n["zone"] for n in shown["nodes"]}
        assert sorted(zones.values()) == ["az1", "az1", "az2", "az2", "az3", "az3"]
        for partition in shown["partitions"]:
            assert len({zones[r["node"]] for r in partition["replicas"]}) == 3
        assert [n["replicas"] for n in shown["nodes"]] == [3] * 6  # 18 replicas, 6 nodes
    finally:
        server.stop()


def test_autoadmin_moves_replicas_to_new_nodes_while_clients_write() -> None:
    """§4.3: a table split on three of five nodes is spread over all five by moving
    replicas (add the new one, let it catch up, remove the old one); writers see no
    error and every write is read back."""
    server = start_server("--in-memory", "--nodes", "5", "--split-size", "6000")
    try:
        # Written at a few hundred a second until replicas move (up to 30 s): more than a
        # 5 WCU table's 300 s of burst, so it is provisioned for that, as DynamoDB needs.
        create_table(make_client(server.url), "moving", capacity=1000)
        fill(server, "moving")
        deadline = time.monotonic() + 30
        while True:
            nodes = {n["id"]: n["replicas"] for n in state(server.url)["nodes"]}
            if nodes["n4"] and nodes["n5"]:
                break
            assert time.monotonic() < deadline, f"no replica moved: {nodes}"
            fill(server, "moving")  # write on while the moves go on
        kinds = [e["kind"] for e in events(server.url)]
        assert "move_started" in kinds and "replica_removed" in kinds
        client = make_client(server.url)
        for i in range(ITEMS):
            got = client.get_item(TableName="moving", Key={"pk": {"S": f"k{i:04d}"}},
                                  ConsistentRead=True)
            assert got["Item"]["v"]["S"] == VALUE
        zones = {n["id"]: n["zone"] for n in state(server.url)["nodes"]}
        for partition in partitions(server.url, "moving"):
            assert len({zones[r["node"]] for r in partition["replicas"]}) == 3
    finally:
        server.stop()


def test_the_admin_state_shows_each_partitions_request_rates(server: Server,
                                                            split_table: str) -> None:
    """DESIGN "Observability": each partition's reads and writes a second since the last
    look, as its replicas counted them."""
    client = make_client(server.url)
    partitions(server.url, split_table)  # the rates count from here
    for i in range(60):
        client.get_item(TableName=split_table, Key={"pk": {"S": f"k{i:04d}"}})
    client.put_item(TableName=split_table, Item={"pk": {"S": "k0000"}, "v": {"S": VALUE}})
    found = partitions(server.url, split_table)
    assert sum(p["reads_per_s"] for p in found) > 0 and sum(p["writes_per_s"] for p in found) > 0
    assert sum(p["reads_per_s"] > 0 for p in found) >= 2  # the reads spread over partitions


def test_a_split_table_is_served_after_a_restart_once_its_parents_are_gone(tmp_path) -> None:
    """The split parents' replicas are removed; a restarted server's metadata service
    relearns the map from the live partitions alone, and every item is served."""
    first = start_server("--data-dir", str(tmp_path), "--split-size", "2048")
    try:
        create_table(make_client(first.url), "restarted")
        fill(first, "restarted")
        deadline = time.monotonic() + 15
        while "partition_retired" not in [e["kind"] for e in events(first.url)]:
            assert time.monotonic() < deadline, "no split parent was removed"
            time.sleep(0.2)
        split_into = len(partitions(first.url, "restarted"))
    finally:
        first.stop()
    second = start_server("--data-dir", str(tmp_path), "--split-size", "2048")
    try:
        client = make_client(second.url)
        for i in range(ITEMS):
            got = client.get_item(TableName="restarted", Key={"pk": {"S": f"k{i:04d}"}},
                                  ConsistentRead=True)
            assert got["Item"]["v"]["S"] == VALUE
        assert len(partitions(second.url, "restarted")) >= split_into >= 2
    finally:
        second.stop()
