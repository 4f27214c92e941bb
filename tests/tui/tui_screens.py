"""Drive the dashboard for the tests, and render the screenshots docs/dashboard.md shows.

    .venv/bin/python tests/tui/tui_screens.py      # rewrites docs/img/dashboard-*.svg

The images come from the real app (`App.save_screenshot`), never drawn by hand:
the simulation image from a fixed seed and frame count, so it is the same on
every machine (a test checks the committed one is current); the server image
from a real `dynamo serve --in-memory` with two tables.
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

from dynamo.cli.launch import start_server
from dynamo.tui.simview import SimulationDashboard

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "img"
SIM_IMAGE, SERVER_IMAGE = IMAGES / "dashboard-sim.svg", IMAGES / "dashboard-server.svg"
SIZE = (110, 34)
SIM_SCENARIO, SIM_SEED, SIM_FRAMES = "paxos-failover", 1, 45  # 4.5 s: crash, failover, restart


async def frames(pilot, count: int) -> None:  # type: ignore[no-untyped-def]
    """Step the paused simulation `count` frames, as pressing n does."""
    for _ in range(count):
        await pilot.press("n")


async def sim_screenshot() -> str:
    """The SVG of the simulation view after SIM_FRAMES frames of a fixed seed."""
    app = SimulationDashboard(SIM_SCENARIO, SIM_SEED, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(SIM_FRAMES):
            app.advance()  # what each timer tick does; the tests press the keys
        await pilot.pause()
        return app.export_screenshot()


# --- a real server, for the server view -------------------------------------------------------

def free_port() -> int:
    """A port nothing listens on right now, for the test of an absent server."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def boto3_client(url: str):  # type: ignore[no-untyped-def]
    import boto3
    from botocore.config import Config

    return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="AKIDLAB", aws_secret_access_key="secret",
                        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))


def create_tables(client, items: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    """`orders` (provisioned, with a sort key) and `users` (on demand), with some items."""
    client.create_table(
        TableName="orders", BillingMode="PROVISIONED",
        KeySchema=[{"AttributeName": "customer", "KeyType": "HASH"},
                   {"AttributeName": "placed", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "customer", "AttributeType": "S"},
                              {"AttributeName": "placed", "AttributeType": "N"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 10})
    client.create_table(
        TableName="users", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    for i in range(items["orders"]):
        client.put_item(TableName="orders", Item={"customer": {"S": f"c{i % 3}"},
                                                  "placed": {"N": str(i)}})
    for i in range(items["users"]):
        client.put_item(TableName="users", Item={"pk": {"S": f"user{i}"},
                                                 "name": {"S": "x" * 100}})


async def wait_for_polls(app, pilot, polls: int, timeout_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Let the app's timer poll the server until it has answered `polls` times."""
    deadline = time.monotonic() + timeout_s
    while app.polls < polls:
        assert time.monotonic() < deadline, f"only {app.polls} answers in {timeout_s} s"
        await pilot.pause(0.05)


async def server_screenshot(url: str) -> str:
    from dynamo.cli.sigv4 import Signer
    from dynamo.tui.serverview import ServerDashboard

    app = ServerDashboard(url, Signer("docs", "docs", "us-east-1", url.split("//", 1)[1]))
    async with app.run_test(size=(110, 24)) as pilot:
        await wait_for_polls(app, pilot, 1)
        return app.export_screenshot()


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    SIM_IMAGE.write_text(asyncio.run(sim_screenshot()), encoding="utf-8")
    server = start_server("--in-memory")
    try:
        create_tables(boto3_client(server.url), {"orders": 12, "users": 40})
        SERVER_IMAGE.write_text(asyncio.run(server_screenshot(server.url)), encoding="utf-8")
    finally:
        server.stop()
    print(f"wrote {SIM_IMAGE.relative_to(ROOT)} and {SERVER_IMAGE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
