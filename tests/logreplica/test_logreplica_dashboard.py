"""The dashboard shows healing (§5.1): in the simulation view, and in a server's partitions.

The simulation view runs the scenario as the seed sweep does: three
replicas, six spares and autoadmin, a replica lost for good and a second
failure. Stepped frame by frame (n, while paused, at speed 4: 400 simulated
ms a frame), its table shows a spare turn into a log replica (role `log`)
and then leave, and its event log tells each step in order. A live server's
partitions tab marks a log replica in the group's list of replicas.
"""

from __future__ import annotations

import asyncio

from textual.widgets import DataTable, RichLog

from dynamo.tui.partitions import ROLE_STYLES, replicas_text
from dynamo.tui.simview import COLUMNS, SimulationDashboard

ROLE = COLUMNS.index("role")


def test_the_dashboard_shows_a_log_replica_stand_in_and_the_group_heal() -> None:

    async def scenario() -> None:
        app = SimulationDashboard("logreplica-heal", seed=1, speed=4, paused=True)
        async with app.run_test(size=(120, 44)) as pilot:
            grid = app.query_one("#replicas", DataTable)
            roles_seen: dict[str, set[str]] = {}
            for _ in range(12):  # 4.8 simulated seconds
                await pilot.press("n")
                for i in range(grid.row_count):
                    row = [str(cell) for cell in grid.get_row_at(i)]
                    roles_seen.setdefault(row[0], set()).add(row[ROLE])
            assert grid.row_count == 9  # three members and six spares
            stood_in = [node for node, roles in roles_seen.items() if "log" in roles]
            assert stood_in and all("spare" in roles_seen[n] for n in stood_in)
            text = "\n".join(strip.text for strip in app.query_one("#events", RichLog).lines)
            steps = ("crashes", "answers it can stand in", "the write quorum is durable again",
                     "autoadmin's full replacement", "leaves the group", "healed:")
            positions = [text.find(step) for step in steps]
            assert -1 not in positions and positions == sorted(positions), positions

    asyncio.run(scenario())


def test_the_partitions_view_marks_a_log_replica_and_a_replica_down() -> None:
    """The server view's partitions tab, from `/admin/state`: while a group heals, its
    replicas read "n1@az1 n2@az2 n3@az3 n5@az2·log", n2 in red (down), n5 in cyan."""
    partition = {"leader": "n1", "replicas": [
        {"node": "n1", "zone": "az1", "role": "leader", "replica_role": "full"},
        {"node": "n2", "zone": "az2", "role": "down", "replica_role": "full"},
        {"node": "n3", "zone": "az3", "role": "follower", "replica_role": "full"},
        {"node": "n5", "zone": "az2", "role": "log", "replica_role": "log"}]}
    text = replicas_text(partition)
    assert text.plain == "n1@az1 n2@az2 n3@az3 n5@az2·log"
    styles = {text.plain[span.start:span.end]: str(span.style) for span in text.spans}
    assert styles["n1@az1"] == ROLE_STYLES["leader"] and styles["n2@az2"] == ROLE_STYLES["down"]
    assert styles["n5@az2·log"] == ROLE_STYLES["log"]
