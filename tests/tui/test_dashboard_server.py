"""The server view, against a real `dynamo serve --in-memory` and real boto3.

The dashboard polls the server through the DynamoDB API (signed ListTables and
DescribeTable), so what it shows must be what DescribeTable says: each table's
status, key schema, item count and billing mode, and the changes between polls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from textual.widgets import DataTable, RichLog, Static
from tui_screens import (
    boto3_client,
    create_tables,
    free_port,
    wait_for_polls,
)

from dynamo.cli.launch import running_server
from dynamo.cli.sigv4 import Signer
from dynamo.tui.serverview import COLUMNS, ServerDashboard

ITEMS, STATUS, KEYS, BILLING = (COLUMNS.index(c) for c in
                                ("items", "status", "key schema", "billing mode"))


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A real server with two tables: orders (12 items) and users (40 items)."""
    with running_server("--in-memory") as running:
        create_tables(boto3_client(running.url), {"orders": 12, "users": 40})
        yield running.url


def dashboard(url: str) -> ServerDashboard:
    return ServerDashboard(url, Signer("AKIDLAB", "secret", "us-east-1", url.split("//", 1)[1]),
                           interval=0.2)


def rows(app: ServerDashboard) -> dict[str, list[str]]:
    grid = app.query_one("#tables", DataTable)
    found = [[str(cell) for cell in grid.get_row_at(i)] for i in range(grid.row_count)]
    return {row[0]: row for row in found}


def test_both_tables_appear_with_their_item_counts(server: str) -> None:
    async def scenario() -> None:
        app = dashboard(server)
        async with app.run_test(size=(110, 24)) as pilot:
            await wait_for_polls(app, pilot, 1)
            shown = rows(app)
            assert set(shown) == {"orders", "users"}
            assert shown["orders"][ITEMS] == "12"
            assert shown["users"][ITEMS] == "40"
            assert shown["orders"][STATUS] == shown["users"][STATUS] == "ACTIVE"
            assert shown["orders"][KEYS] == "customer (HASH), placed (RANGE)"
            assert shown["orders"][BILLING] == "PROVISIONED (R 5, W 10)"
            assert shown["users"][BILLING] == "PAY_PER_REQUEST"
            assert "2 tables" in str(app.query_one("#status", Static).render())

    asyncio.run(scenario())


def test_new_items_and_tables_show_at_the_next_poll(server: str) -> None:
    async def scenario() -> None:
        client = boto3_client(server)
        app = dashboard(server)
        async with app.run_test(size=(110, 24)) as pilot:
            await wait_for_polls(app, pilot, 1)
            client.put_item(TableName="users", Item={"pk": {"S": "newcomer"}})
            client.create_table(TableName="audit", BillingMode="PAY_PER_REQUEST",
                                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                                AttributeDefinitions=[{"AttributeName": "id",
                                                       "AttributeType": "S"}])
            await wait_for_polls(app, pilot, app.polls + 2)  # one poll began after the changes
            shown = rows(app)
            assert shown["users"][ITEMS] == "41"
            assert shown["audit"][ITEMS] == "0"
            log = [strip.text for strip in app.query_one("#changes", RichLog).lines]
            assert any("table users: 40 -> 41 items" in line for line in log)
            assert any("table audit appears" in line for line in log)
            client.delete_table(TableName="audit")

    asyncio.run(scenario())


def test_a_server_that_is_not_there_is_reported_not_shown_empty() -> None:
    async def scenario() -> None:
        app = dashboard(f"http://127.0.0.1:{free_port()}")
        async with app.run_test(size=(110, 24)) as pilot:
            for _ in range(100):
                if "cannot reach" in str(app.query_one("#status", Static).render()):
                    break
                await pilot.pause(0.05)
            assert "cannot reach" in str(app.query_one("#status", Static).render())
            assert app.polls == 0 and app.query_one("#tables", DataTable).row_count == 0

    asyncio.run(scenario())


def test_the_replication_group_shows_its_zones_roles_and_log_positions(server: str) -> None:
    """§3: one partition is three replicas in three zones, one leading; the grid comes from
    /admin/state (the first table's partition: orders), and every replica has persisted
    and applied that partition's writes so far (12 items, each a slot of its log)."""
    async def scenario() -> None:
        app = dashboard(server)
        async with app.run_test(size=(110, 40)) as pilot:
            await wait_for_polls(app, pilot, 2)
            grid = app.query_one("#replicas", DataTable)
            found = [[str(cell) for cell in grid.get_row_at(i)] for i in range(grid.row_count)]
            zone, node, role, ballot, persisted, applied = range(6)
            assert [row[zone] for row in found] == ["az1", "az2", "az3"]
            assert [row[node] for row in found] == ["n1", "n2", "n3"]
            assert sorted(row[role] for row in found) == ["follower", "follower", "leader"]
            leader = next(row for row in found if row[role] == "leader")
            assert leader[ballot].endswith(leader[node])  # a ballot names its proposer
            assert all(int(row[applied].replace(",", "")) >= 12 for row in found)
            assert all(int(row[persisted].replace(",", "")) >= int(row[applied].replace(",", ""))
                       for row in found)

    asyncio.run(scenario())
