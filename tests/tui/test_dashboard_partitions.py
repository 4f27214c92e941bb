"""The server view's partitions tab: tables split into partitions on storage nodes (§3, §4).

The first test watches a real `dynamo serve --in-memory`, which runs one
partition per table today. The others need a server that runs many partitions
per table, so they put a loopback front before the same real server: the
DynamoDB API passes through to it, and `GET /admin/state` answers with a
partitioned admin state the test writes as data, in the format the
partitioned server serves. The dashboard polls the front exactly as it polls a
server, on its own timer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from textual.widgets import DataTable, RichLog, TabbedContent
from tui_screens import boto3_client, wait_for_polls

from dynamo.cli.launch import running_server
from dynamo.cli.sigv4 import Signer
from dynamo.tui.partitions import NODE_COLUMNS, PARTITION_COLUMNS, TABLE_COLUMNS
from dynamo.tui.serverview import ServerDashboard

SIZE = (150, 50)
ZONES = {"n1": "az1", "n2": "az2", "n3": "az3", "n4": "az1", "n5": "az2", "n6": "az3"}
MUSIC, THREADS = "us-east-1/Music", "us-east-1/Threads"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A real server with two tables, Music and Threads."""
    with running_server("--in-memory") as running:
        client = boto3_client(running.url)
        for name in ("Music", "Threads"):
            client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                AttributeDefinitions=[{"AttributeName": "pk",
                                                       "AttributeType": "S"}])
        client.put_item(TableName="Music", Item={"pk": {"S": "song"}})
        yield running.url


# -- the partitioned admin state, as data ------------------------------------------------------

def partition(table: str, name: str, low: str, high: str, nodes: tuple[str, str, str], *,
              items: int, status: str = "active") -> dict[str, Any]:
    """One partition as the partitioned server reports it; `low` and `high` are the first hex
    digits of its bounds (padded), the first of `nodes` leads."""
    return {"table": table, "partition": name,
            "key_range": [low.ljust(32, "0"), high.ljust(32, "f")],
            "leader": nodes[0], "ballot": f"(3, '{nodes[0]}')",
            "replicas": [{"node": n, "zone": ZONES[n], "role": "leader" if n == nodes[0]
                          else "follower", "persisted_lsn": 40, "applied_lsn": 40}
                         for n in nodes],
            "items": items, "size_bytes": items * 100, "reads_per_s": items / 10,
            "writes_per_s": 1.0, "status": status}


def admin_state(partitions: list[dict[str, Any]], versions: dict[str, int]) -> dict[str, Any]:
    """The whole state: the nodes, each with the replicas and leaders it hosts, and the maps."""
    nodes = [{"id": n, "zone": zone, "pid": 100 + i, "up": True,
              "replicas": sum(n in [r["node"] for r in p["replicas"]] for p in partitions),
              "leaders": sum(p["leader"] == n for p in partitions)}
             for i, (n, zone) in enumerate(ZONES.items())]
    return {"mode": "partitioned", "nodes": nodes, "map_versions": versions,
            "partitions": partitions}


# Music in four quarters of the key space (listed out of key order), Threads in one.
FOUR_QUARTERS = admin_state([
    partition(MUSIC, "p3", "80", "bf", ("n3", "n4", "n5"), items=30),
    partition(MUSIC, "p1", "00", "3f", ("n1", "n2", "n3"), items=10),
    partition(MUSIC, "p4", "c0", "ff", ("n4", "n5", "n6"), items=40),
    partition(MUSIC, "p2", "40", "7f", ("n2", "n3", "n4"), items=20),
    partition(THREADS, "p0", "00", "ff", ("n1", "n5", "n6"), items=7),
], {MUSIC: 7, THREADS: 1})


# -- the front, and reading the screen ---------------------------------------------------------

@asynccontextmanager
async def partitioned_front(server_url: str, state: dict[str, Any]) -> AsyncIterator[str]:
    """A loopback HTTP front for the real server whose `/admin/state` is `state["now"]`."""
    async with aiohttp.ClientSession() as session:
        async def answer(request: web.Request) -> web.Response:
            if request.path == "/admin/state":
                return web.json_response(state["now"])
            headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
            async with session.request(request.method, server_url + request.path_qs,
                                       data=await request.read(), headers=headers) as reply:
                return web.Response(status=reply.status, body=await reply.read(),
                                    content_type=reply.content_type)

        app = web.Application()
        app.router.add_route("*", "/{path:.*}", answer)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            await runner.cleanup()


def dashboard(url: str) -> ServerDashboard:
    return ServerDashboard(url, Signer("AKIDLAB", "secret", "us-east-1", url.split("//", 1)[1]),
                           interval=0.1)


def shown(app: ServerDashboard, grid: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """The rows of one of the partitions tab's grids, as {column: text}."""
    table = app.query_one(f"#{grid}", DataTable)
    return [dict(zip(columns, (str(cell) for cell in table.get_row_at(i)), strict=True))
            for i in range(table.row_count)]


def log_lines(app: ServerDashboard) -> list[str]:
    return [strip.text for strip in app.query_one("#changes", RichLog).lines]


async def next_refresh(app: ServerDashboard, pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait until a poll that began after now has been shown (one may be under way)."""
    await wait_for_polls(app, pilot, app.polls + 2)
    await pilot.pause()


# -- the tests ---------------------------------------------------------------------------------

def test_a_real_server_shows_each_tables_first_partition_over_the_whole_key_space(
        server: str) -> None:
    """§3: a new table is one partition over the whole hashed key space, its three replicas
    on three nodes in three zones; the map version and item counts come from the server."""
    async def scenario() -> None:
        app = dashboard(server)
        async with app.run_test(size=SIZE) as pilot:
            await next_refresh(app, pilot)
            await pilot.press("p")
            assert app.query_one(TabbedContent).active == "partitions-tab"
            tables = shown(app, "partition-tables", TABLE_COLUMNS)
            assert [(t["table"], t["partitions"], t["items"]) for t in tables] \
                == [(MUSIC, "1", "1"), (THREADS, "1", "0")]
            assert all(t["map version"].isdigit() for t in tables)
            [only] = shown(app, "partitions", PARTITION_COLUMNS)
            assert only["partition"].startswith("t")  # named after the table's id
            assert only["key range"] == "000000–ffffff"
            assert only["share of key space"] == "█" * 12 + " 100%"
            assert only["replicas"] == "n1@az1 n2@az2 n3@az3"
            nodes = shown(app, "nodes", NODE_COLUMNS)
            assert [(n["node"], n["zone"], n["up"]) for n in nodes] \
                == [("n1", "az1", "up"), ("n2", "az2", "up"), ("n3", "az3", "up")]
            assert [n["replicas"].split()[0] for n in nodes] == ["2", "2", "2"]
            leaders = {n["node"]: n["leaders"] for n in nodes}
            assert sum(int(count) for count in leaders.values()) == 2  # one per partition
            assert leaders[only["leader"]] != "0"

    asyncio.run(scenario())


def test_a_table_shows_its_partitions_in_key_order_with_leaders_and_node_balance(
        server: str) -> None:
    """§3: a table is divided into partitions, each a contiguous part of the hashed key range
    with three replicas in three zones; §4.3: the storage nodes' share of replicas and leaders."""
    async def scenario() -> None:
        async with partitioned_front(server, {"now": FOUR_QUARTERS}) as front:
            app = dashboard(front)
            async with app.run_test(size=SIZE) as pilot:
                await next_refresh(app, pilot)
                await pilot.press("p")
                tables = {t["table"]: t for t in shown(app, "partition-tables", TABLE_COLUMNS)}
                assert tables[MUSIC]["partitions"] == "4" and tables[THREADS]["partitions"] == "1"
                assert tables[MUSIC]["map version"] == "7"
                assert tables[MUSIC]["items"] == "100"  # 10 + 20 + 30 + 40
                assert tables[MUSIC]["size"] == "10.0 kB"
                assert tables[MUSIC]["reads/s"] == "10.0"
                assert tables[MUSIC]["writes/s"] == "4.0"

                music = shown(app, "partitions", PARTITION_COLUMNS)
                assert [p["partition"] for p in music] == ["p1", "p2", "p3", "p4"]
                assert [p["key range"] for p in music] == [
                    "000000–3fffff", "400000–7fffff", "800000–bfffff", "c00000–ffffff"]
                assert [p["share of key space"] for p in music] == [
                    "███░░░░░░░░░ 25%", "░░░███░░░░░░ 25%",
                    "░░░░░░███░░░ 25%", "░░░░░░░░░███ 25%"]
                assert [p["leader"] for p in music] == ["n1", "n2", "n3", "n4"]
                assert music[2]["replicas"] == "n3@az3 n4@az1 n5@az2"
                assert [p["items"] for p in music] == ["10", "20", "30", "40"]

                nodes = {n["node"]: n for n in shown(app, "nodes", NODE_COLUMNS)}
                hosted = {name: n["replicas"].split()[0] for name, n in nodes.items()}
                assert hosted == {"n1": "2", "n2": "2", "n3": "3", "n4": "3", "n5": "3", "n6": "2"}
                assert nodes["n3"]["replicas"] == "   3 " + "▇" * 10  # the busiest: a full bar
                assert {name: n["leaders"] for name, n in nodes.items()} == {
                    "n1": "2", "n2": "1", "n3": "1", "n4": "1", "n5": "0", "n6": "0"}

                await pilot.press("down")  # the next table in the list
                [threads] = shown(app, "partitions", PARTITION_COLUMNS)
                assert (threads["key range"], threads["leader"]) == ("000000–ffffff", "n1")
                await next_refresh(app, pilot)  # the choice outlives a refresh
                assert app.query_one("#partition-tables", DataTable).cursor_row == 1
                assert shown(app, "partitions", PARTITION_COLUMNS)[0]["leader"] == "n1"

    asyncio.run(scenario())


def test_a_split_replaces_one_partition_by_two_between_refreshes(server: str) -> None:
    """§4.4: a partition is split in two at a key; the parent is retired and its children
    serve its range. The view follows each step, and a table that goes away does not crash it."""
    whole = partition(MUSIC, "p1", "00", "ff", ("n1", "n2", "n3"), items=90)
    left = partition(MUSIC, "p2", "00", "5f", ("n1", "n2", "n3"), items=40)
    right = partition(MUSIC, "p3", "60", "ff", ("n4", "n5", "n6"), items=50)
    threads = partition(THREADS, "p0", "00", "ff", ("n2", "n3", "n1"), items=7)
    steps = [
        admin_state([whole, threads], {MUSIC: 1, THREADS: 1}),
        admin_state([whole | {"status": "splitting"}, threads], {MUSIC: 1, THREADS: 1}),
        admin_state([right, whole | {"status": "retired"}, left, threads], {MUSIC: 2, THREADS: 1}),
        admin_state([right, left], {MUSIC: 2}),
    ]

    async def scenario() -> None:
        state = {"now": steps[0]}
        async with partitioned_front(server, state) as front:
            app = dashboard(front)
            async with app.run_test(size=SIZE) as pilot:
                await next_refresh(app, pilot)
                await pilot.press("p")
                assert [p["partition"] for p in shown(app, "partitions", PARTITION_COLUMNS)] \
                    == ["p1"]

                state["now"] = steps[1]
                await next_refresh(app, pilot)
                [splitting] = shown(app, "partitions", PARTITION_COLUMNS)
                assert splitting["status"] == "splitting"

                state["now"] = steps[2]
                await next_refresh(app, pilot)
                music = shown(app, "partitions", PARTITION_COLUMNS)
                assert [(p["partition"], p["key range"], p["status"]) for p in music] == [
                    ("p1", "000000–ffffff", "retired"),
                    ("p2", "000000–5fffff", "active"), ("p3", "600000–ffffff", "active")]
                table = shown(app, "partition-tables", TABLE_COLUMNS)[0]
                assert (table["partitions"], table["map version"], table["items"]) \
                    == ("2", "2", "90")  # the retired parent is not counted twice

                await pilot.press("down")  # show Threads, then let it go
                assert shown(app, "partitions", PARTITION_COLUMNS)[0]["leader"] == "n2"
                state["now"] = steps[3]
                await next_refresh(app, pilot)
                assert [t["table"] for t in shown(app, "partition-tables", TABLE_COLUMNS)] \
                    == [MUSIC]
                assert [p["partition"] for p in shown(app, "partitions", PARTITION_COLUMNS)] \
                    == ["p2", "p3"]
                log = log_lines(app)
                for line in (f"partition {MUSIC} p1: active -> splitting",
                             f"partition {MUSIC} p2 appears (active)",
                             f"partition {MUSIC} p1 is gone", f"partition {THREADS} p0 is gone"):
                    assert any(line in seen for seen in log), line

    asyncio.run(scenario())
