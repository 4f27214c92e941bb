"""The simulation view, driven by Textual's pilot as a student drives it with keys.

A seeded three-replica group runs in simulated time; the tests step it frame
by frame (n, while paused) so that the wall clock plays no part, then read
what the screen shows: the replicas table, the event log, the status line.
They run at speed 4 (a frame is 400 simulated ms), as a student in a hurry would.
§3: one leader at a time, holding a lease; §6.2: when it fails, another is
elected once the old lease has run out.
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.widgets import DataTable, RichLog, Static
from tui_screens import SIM_IMAGE, frames, sim_screenshot

from dynamo.tui.simview import COLUMNS, SimulationDashboard

ROLE, UP, LEADER, LEASE, LINKS = (COLUMNS.index(c) for c in
                                  ("role", "up", "leader", "lease left", "links"))
SIZE = (110, 34)


def table(app: SimulationDashboard) -> list[list[str]]:
    grid = app.query_one("#replicas", DataTable)
    return [[str(cell) for cell in grid.get_row_at(i)] for i in range(grid.row_count)]


def leaders(app: SimulationDashboard) -> list[str]:
    return [row[0] for row in table(app) if row[UP] == "up" and row[ROLE] == "leader"]


def events(app: SimulationDashboard) -> list[str]:
    return [strip.text for strip in app.query_one("#events", RichLog).lines]


def status(app: SimulationDashboard) -> str:
    rendered = app.query_one("#status", Static).render()
    return rendered.plain if isinstance(rendered, Text) else str(rendered)


def test_one_leader_is_elected_and_holds_a_lease() -> None:
    """§3: the group elects one leader; it holds the lease and the others follow it."""

    async def scenario() -> None:
        app = SimulationDashboard("paxos-basic", seed=3, speed=4, paused=True)
        async with app.run_test(size=SIZE) as pilot:
            assert leaders(app) == []  # nobody leads at time 0
            await frames(pilot, 3)
            assert app.live.now_ms == 1200.0
            [leader] = leaders(app)
            rows = {row[0]: row for row in table(app)}
            assert rows[leader][LEASE].endswith(" ms")
            assert all(row[LEADER] == leader for row in rows.values())
            assert any(f"{leader} is elected leader" in line for line in events(app))
            assert "acked" in status(app) and app.live.tally.acknowledged > 0

    asyncio.run(scenario())


def test_crashing_the_leader_elects_another_after_its_lease() -> None:
    """§6.2: c crashes the leader; a different replica is elected and serves again."""

    async def scenario() -> None:
        app = SimulationDashboard("paxos-basic", seed=3, speed=4, paused=True)
        async with app.run_test(size=SIZE) as pilot:
            await frames(pilot, 3)
            [old] = leaders(app)
            await pilot.press("c")
            rows = {row[0]: row for row in table(app)}
            assert rows[old][UP] == "DOWN"
            assert leaders(app) == []
            await frames(pilot, 6)
            [new] = leaders(app)
            assert new != old
            log = events(app)
            crash = next(i for i, line in enumerate(log) if f"{old}, the leader, crashes" in line)
            assert any(f"{new} is elected leader" in line for line in log[crash:])
            assert any(f"{new} holds the lease" in line for line in log[crash:])
            acked = app.live.tally.acknowledged
            await frames(pilot, 2)
            assert app.live.tally.acknowledged > acked  # writes resume under the new leader
            await pilot.press("r")
            assert {row[UP] for row in table(app)} == {"up"}
            assert any(f"{old} restarts" in line for line in events(app))

    asyncio.run(scenario())


def test_cutting_the_leader_off_elects_another_and_the_old_one_steps_down() -> None:
    """p isolates the leader both ways: the rest elect a successor; the old leader's lease
    runs out while it still believes it leads, and it steps down (§3, §6.2)."""

    async def scenario() -> None:
        app = SimulationDashboard("paxos-basic", seed=3, speed=4, paused=True)
        async with app.run_test(size=SIZE) as pilot:
            await frames(pilot, 3)
            [old] = leaders(app)
            await pilot.press("p")
            rows = {row[0]: row for row in table(app)}
            assert rows[old][LINKS].startswith("cut off from")
            await frames(pilot, 5)  # 2 s: a successor, while the old leader is still cut off
            rows = {row[0]: row for row in table(app)}
            assert set(leaders(app)) - {old}, "the connected majority elects a leader"
            assert rows[old][LEASE] in ("expired", "-")
            await frames(pilot, 4)  # the link heals at 3 s
            assert old not in leaders(app)
            assert len(leaders(app)) == 1
            log = events(app)
            assert any(f"{old} steps down" in line for line in log)
            assert any("every link heals" in line for line in log)

    asyncio.run(scenario())


async def _scripted_run(seed: int) -> tuple[list[list[str]], list[str], str]:
    app = SimulationDashboard("paxos-faults", seed=seed, speed=4, paused=True)
    async with app.run_test(size=SIZE) as pilot:
        await frames(pilot, 2)
        await pilot.press("c")
        await frames(pilot, 3)
        await pilot.press("plus", "p")
        await frames(pilot, 2)
        await pilot.press("r", "g", "minus")
        await frames(pilot, 3)
        return table(app), events(app), status(app)


def test_the_same_seed_and_keys_show_the_same_run() -> None:
    """The simulation owns the randomness: a seed and a key sequence replay exactly."""
    first = asyncio.run(_scripted_run(5))
    again = asyncio.run(_scripted_run(5))
    other = asyncio.run(_scripted_run(6))
    assert first == again
    assert first != other  # the comparison can tell runs apart
    assert "t =    4.800 s" in first[2]  # (2 + 3) x 400 ms, 2 x 800 ms, 3 x 400 ms


def test_space_runs_and_pauses_the_timer_and_plus_minus_set_the_speed() -> None:
    async def scenario() -> None:
        app = SimulationDashboard("paxos-failover", seed=1)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(0.4)
            assert app.live.now_ms > 0, "the timer advances simulated time"
            await pilot.press("space")
            stopped_at = app.live.now_ms
            await pilot.pause(0.3)
            assert app.live.now_ms == stopped_at
            assert "paused · speed ×1 " in status(app)
            await pilot.press("plus", "plus")
            assert "speed ×4 " in status(app)
            await pilot.press("n")
            assert app.live.now_ms == stopped_at + 400.0
            await pilot.press("minus", "minus", "minus")
            assert "speed ×0.5 " in status(app)

    asyncio.run(scenario())


def test_the_screenshot_in_the_docs_is_current() -> None:
    """docs/img/dashboard-sim.svg is what the app shows now (a seeded run renders the same).
    If the view changed on purpose, regenerate it: python tests/tui/tui_screens.py"""
    assert asyncio.run(sim_screenshot()) == SIM_IMAGE.read_text(encoding="utf-8")
