"""The server view's admission tab: token buckets, allocations and throttles (§4, §4.1, §4.2).

The first test watches a real `dynamo serve --admission static` throttle a
table of 1 WCU. The others put the partitions tab's loopback front before a
real server: the DynamoDB API passes through, and `GET /admin/state` answers
with an admission object the test writes as data, in the format the server
serves, so every era's buckets can be shown on cue. The dashboard polls either
exactly as it polls a server, on its own timer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from test_dashboard_partitions import (
    MUSIC,
    THREADS,
    admin_state,
    dashboard,
    log_lines,
    next_refresh,
    partition,
    partitioned_front,
    shown,
)
from textual.widgets import DataTable, Label, Sparkline, Static, TabbedContent
from tui_screens import boto3_client

from dynamo.cli.launch import running_server
from dynamo.tui.admission import (
    NODE_COLUMNS,
    NOT_REPORTED,
    PARTITION_COLUMNS,
    TABLE_COLUMNS,
    ThrottleHistory,
)
from dynamo.tui.serverview import ServerDashboard

SIZE = (150, 60)
PARTITIONS = admin_state([
    partition(MUSIC, "p1", "00", "7f", ("n1", "n2", "n3"), items=30),
    partition(MUSIC, "p2", "80", "ff", ("n4", "n5", "n6"), items=10),
    partition(THREADS, "p0", "00", "ff", ("n2", "n3", "n4"), items=7),
], {MUSIC: 2, THREADS: 1})


def bucket(allocation: float, tokens: float, burst: float | None) -> dict[str, Any]:
    return {"allocation": allocation, "tokens": tokens, "burst": burst}


def admission(era: str, throttles: tuple[int, int], *, boosted: bool = False) -> dict[str, Any]:
    """An admission object: Music's p1 reads hot and writes beyond its allocation on n1,
    p2 only reads; Threads (on demand) has not been read; n1's write bucket is empty."""
    return {
        "era": era, "throttles": {"router": throttles[0], "storage": throttles[1]},
        "tables": {} if era != "gac" else {
            MUSIC: {"on_demand": False, "read": {"rate": 100.0, "tokens": 30_000.0, "demand": 50.0},
                    "write": {"rate": 20.0, "tokens": 0.0, "demand": 40.0}},
            THREADS: {"on_demand": True, "read": {"rate": 12_000.0, "tokens": 12_000.0,
                                                  "demand": 0.0}}},
        "partitions": {
            "p2": {"table": MUSIC, "node": "n4", "boosted": False,
                   "read": bucket(3000.0, 2990.0, 900_000.0), "rate": {"read": 10.0}},
            "p1": {"table": MUSIC, "node": "n1", "boosted": boosted,
                   "read": bucket(3000.0, 1500.0, 900_000.0),
                   "write": bucket(1000.0, -2.5, 1000.0),
                   "rate": {"read": 1500.0, "write": 1500.0}}},
        "nodes": {"n1": {"read": {"capacity": 24_000.0, "tokens": 12_000.0},
                         "write": {"capacity": 8_000.0, "tokens": 0.0}},
                  "n4": {} if era == "static" else {
                      "read": {"capacity": 24_000.0, "tokens": 24_000.0},
                      "write": {"capacity": 8_000.0, "tokens": 8_000.0}}},
    }


def with_admission(era: str, throttles: tuple[int, int], **kw: bool) -> dict[str, Any]:
    return PARTITIONS | {"admission": admission(era, throttles, **kw)}


def era_line(app: ServerDashboard) -> str:
    return str(app.query_one("#admission-era", Static).render())


def throttles_per_s(app: ServerDashboard, where: str) -> list[float]:
    return list(app.query_one(f"#{where}-throttles", Sparkline).data or [])


def latest(app: ServerDashboard, where: str) -> str:
    """The label's "now" figure: the latest throttles a second."""
    label = str(app.query_one(f"#{where}-throttles-label", Label).render())
    return label.split("now ")[1].split(", peak")[0]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A real server under static allocation, with Hot, a table of 1 RCU and 1 WCU (the
    fronts pass the DynamoDB API through to it)."""
    with running_server("--in-memory", "--admission", "static") as running:
        boto3_client(running.url).create_table(
            TableName="Hot", BillingMode="PROVISIONED",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
        yield running.url


def write_until_throttled(url: str, writes: int = 20) -> int:
    """Write as fast as one client can; return how many were throttled."""
    client, throttled = boto3_client(url), 0
    for i in range(writes):
        try:
            client.put_item(TableName="Hot", Item={"pk": {"S": f"k{i}"}})
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
            throttled += 1
    return throttled


# -- the tests ---------------------------------------------------------------------------------

def test_a_real_server_throttles_a_partition_beyond_its_static_allocation(server: str) -> None:
    """§4: under static allocation a partition of a 1 WCU table gets a bucket of 1 WCU and no
    burst bucket, at its leader's node; writes beyond it are throttled at the storage node,
    and the throttles show as a rise in throttles per second."""
    async def scenario() -> None:
        app = dashboard(server)
        async with app.run_test(size=SIZE) as pilot:
            await next_refresh(app, pilot)
            await pilot.press("a")
            assert app.query_one(TabbedContent).active == "admission-tab"
            assert "admission control: static" in era_line(app)
            throttled = await asyncio.to_thread(write_until_throttled, server)
            assert throttled > 0
            await next_refresh(app, pilot)
            assert f"{throttled:,} at storage nodes" in era_line(app)
            assert max(throttles_per_s(app, "storage")) > 0
            assert max(throttles_per_s(app, "router")) == 0  # no GAC tokens in this era
            [write] = shown(app, "admission-partitions", PARTITION_COLUMNS)
            assert (write["table"], write["kind"]) == ("us-east-1/Hot", "write")
            assert write["partition"].startswith("t") and write["node"] in {"n1", "n2", "n3"}
            assert write["units/s of allocation"].endswith(" / 1")
            assert write["burst"] == "-"  # the static era keeps no unused capacity
            assert shown(app, "admission-tables", TABLE_COLUMNS) == []  # GAC's: gac era only

    asyncio.run(scenario())


def test_partition_node_and_gac_buckets_show_with_their_levels(server: str) -> None:
    """§4.2: GAC keeps table buckets and compares the routers' demand with the table's limit;
    partition buckets (the 3,000 RCU / 1,000 WCU cap) and node buckets stay at the storage
    nodes; §4.1.1: a full burst bucket is 300 seconds of the allocation."""
    async def scenario() -> None:
        async with partitioned_front(server, {"now": with_admission("gac", (0, 0))}) as front:
            app = dashboard(front)
            async with app.run_test(size=SIZE) as pilot:
                await pilot.press("a")
                await next_refresh(app, pilot)
                assert "admission control: gac · global admission control" in era_line(app)
                rows = shown(app, "admission-partitions", PARTITION_COLUMNS)
                assert [(r["partition"], r["kind"], r["node"]) for r in rows] == [
                    ("p1", "read", "n1"), ("p1", "write", "n1"), ("p2", "read", "n4")]
                read, write, cold = rows
                assert read["requests/s"] == "3.0"  # from the partitions' own rates
                assert write["requests/s"] == "1.0"
                assert read["units/s of allocation"] == "▇▇▇▇▇░░░░░ 1,500.0 / 3,000"
                assert write["units/s of allocation"] == "▇" * 10 + " 1,500.0 / 1,000"
                assert cold["units/s of allocation"] == "░" * 10 + " 10.0 / 3,000"
                assert (read["tokens"], write["tokens"]) == ("1,500.0", "-2.5")
                assert (read["burst"], write["burst"]) == ("900,000 (300 s)", "1,000 (1 s)")
                assert {r["boosted"] for r in rows} == {"no"}

                nodes = {n["node"]: n for n in shown(app, "admission-nodes", NODE_COLUMNS)}
                assert nodes["n1"]["read tokens of capacity"] == "▇▇▇▇▇░░░░░ 12,000 / 24,000"
                assert nodes["n1"]["write tokens of capacity"] == "░" * 10 + " 0 / 8,000"
                assert nodes["n4"]["write tokens of capacity"] == "▇" * 10 + " 8,000 / 8,000"

                tables = shown(app, "admission-tables", TABLE_COLUMNS)
                assert [(t["table"], t["mode"], t["kind"]) for t in tables] == [
                    (MUSIC, "provisioned", "read"), (MUSIC, "provisioned", "write"),
                    (THREADS, "on-demand", "read")]
                assert tables[1]["demand of limit"] == "▇" * 10 + " 40.0 / 20"
                assert tables[1]["tokens"] == "0.0"
                assert tables[2]["limit/s"] == "12,000.0"

                await pilot.press("down", "down")  # to p2's row, which outlives a refresh
                await next_refresh(app, pilot)
                assert app.query_one("#admission-partitions", DataTable).cursor_row == 2

    asyncio.run(scenario())


def test_throttles_over_time_rise_when_the_counts_grow_and_fall_back_when_they_stop(server: str) -> None:
    """§4: throttles are counted where they happen, at the routers (GAC's tokens ran out) and
    at the storage nodes; the sparklines show the counts' growth a second between refreshes."""
    async def scenario() -> None:
        state = {"now": with_admission("gac", (0, 0))}
        async with partitioned_front(server, state) as front:
            app = dashboard(front)
            async with app.run_test(size=SIZE) as pilot:
                await pilot.press("a")
                await next_refresh(app, pilot)
                assert max(throttles_per_s(app, "router")) == 0
                assert latest(app, "router") == "0.0/s"

                state["now"] = with_admission("gac", (120, 3))
                await next_refresh(app, pilot)
                assert max(throttles_per_s(app, "router")) > 0
                assert max(throttles_per_s(app, "storage")) > 0
                assert "120 at routers, 3 at storage nodes" in era_line(app)

                await next_refresh(app, pilot)  # the counts stand still
                assert latest(app, "router") == "0.0/s"
                assert max(throttles_per_s(app, "router")) > 0  # the rise stays in view

    asyncio.run(scenario())


def test_adaptive_capacity_boosting_a_partition_is_shown_and_logged(server: str) -> None:
    """§4.1.2: adaptive capacity raises a throttled partition's allocation, and lowers it
    again; no GAC buckets outside the gac era."""
    async def scenario() -> None:
        state = {"now": with_admission("adaptive", (0, 40))}
        async with partitioned_front(server, state) as front:
            app = dashboard(front)
            async with app.run_test(size=SIZE) as pilot:
                await pilot.press("a")
                await next_refresh(app, pilot)
                assert "admission control: adaptive · adaptive capacity" in era_line(app)
                assert shown(app, "admission-tables", TABLE_COLUMNS) == []

                state["now"] = with_admission("adaptive", (0, 40), boosted=True)
                await next_refresh(app, pilot)
                rows = shown(app, "admission-partitions", PARTITION_COLUMNS)
                assert {(r["partition"], r["boosted"]) for r in rows} == {
                    ("p1", "yes"), ("p2", "no")}
                assert any("partition p1 boosted by adaptive capacity "
                           "(read 3,000/s, write 1,000/s)" in line for line in log_lines(app))

                state["now"] = with_admission("adaptive", (0, 40))
                await next_refresh(app, pilot)
                assert any("partition p1 back to its share" in line
                           for line in log_lines(app))

    asyncio.run(scenario())


def test_a_server_without_admission_control_is_said_to_be_so(server: str) -> None:
    """An older server reports no admission object: the tab says so, and shows no buckets;
    `dynamo serve --admission off` reports that nothing is throttled."""
    async def scenario() -> None:
        state = {"now": PARTITIONS}
        async with partitioned_front(server, state) as front:
            app = dashboard(front)
            async with app.run_test(size=SIZE) as pilot:
                await pilot.press("a")
                await next_refresh(app, pilot)
                assert era_line(app) == NOT_REPORTED
                assert shown(app, "admission-partitions", PARTITION_COLUMNS) == []
                assert shown(app, "admission-nodes", NODE_COLUMNS) == []
                assert throttles_per_s(app, "router") == []
                assert latest(app, "router") == "-"

                state["now"] = PARTITIONS | {"admission": {"era": None}}
                await next_refresh(app, pilot)
                assert "admission control: off" in era_line(app)

    asyncio.run(scenario())


def test_a_restarted_server_counts_its_throttles_from_zero() -> None:
    """Throttles a second come from successive samples of cumulative counts; a count that
    went down was restarted, so what it holds is all new."""
    history = ThrottleHistory()
    history.sample({"router": 0, "storage": 0}, 10.0)
    history.sample({"router": 30, "storage": 4}, 12.0)
    history.sample({"router": 5, "storage": 4}, 13.0)
    assert list(history.rates["router"]) == [15.0, 5.0]
    assert list(history.rates["storage"]) == [2.0, 0.0]
    history.forget()  # a state without counts: the next sample does not span the gap
    history.sample({"router": 500, "storage": 4}, 20.0)
    assert list(history.rates["router"]) == [15.0, 5.0]
