"""The simulation view: watch a replication group elect, commit, fail over (§3, §6.2).

`dynamo dashboard --sim paxos-failover` runs a seeded simulation of a
three-replica Paxos group (a `LiveSimulation`) and shows it as it goes:

    a line      simulated time, running or paused, speed, operations the
                clients saw acknowledged, failed or time out, and messages sent
    a table     one row per replica, from its snapshot(): role, ballot, whom it
                follows, the lease left, commit index, last log index, up or
                down, and which of its links are cut
                (`--sim logreplica-heal` adds the spare nodes: role "spare"
                until the group adds one, "log" for a log replica, §5.1)
    a sparkline acknowledged operations per simulated second
    a log       elections, leases, step-downs, commits and faults, in order

Time is virtual. Every FRAME_S of wall time the timer runs `speed` x FRAME_MS of
simulated time; space pauses, n steps one frame while paused, + and - change
the speed. The keys that break things (c, r, p, g) act at the simulated instant
the last frame ended, so a seed and a sequence of keys, pressed at the same
frames, replay the same run.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Label, RichLog, Sparkline, Static

from dynamo.sim.scenarios import scenario_named
from dynamo.tui.livesim import LiveSimulation, LogLine, ReplicaRow, describe_lease

FRAME_S = 0.1
"""Wall seconds between frames."""
FRAME_MS = 100.0
"""Simulated milliseconds per frame at speed 1 (so speed 1 is real time)."""
MIN_SPEED, MAX_SPEED = 1 / 32, 64.0
SPARK_BUCKETS = 40  # ten simulated seconds of quarter-second bars

COLUMNS = ("replica", "up", "role", "ballot", "leader", "lease left", "commit index",
           "last index", "links")
STYLES = {"election": "bold green", "lease": "green", "step-down": "yellow", "commit": "dim",
          "membership": "cyan", "healing": "bold cyan", "fault": "bold red",
          "violation": "bold white on red"}
ROLE_STYLES = {"leader": "bold green", "candidate": "yellow", "log": "bold cyan", "spare": "dim"}


class SimulationDashboard(App[None]):
    """A live view of a simulated replication group, with keys to break it."""

    TITLE = "Dynamo Lab"
    ENABLE_COMMAND_PALETTE = False
    CSS = """
    #status { height: 1; padding: 0 1; }
    #replicas { height: auto; max-height: 12; margin: 1 0 0 0; }
    #spark-row { height: 3; padding: 0 1; margin: 1 0 0 0; }
    #spark-label { width: 14; }
    #throughput { width: 1fr; }
    #events { border: round $primary; height: 1fr; }
    """
    BINDINGS = [
        Binding("space", "toggle_pause", "pause"),
        Binding("n", "step", "step"),
        Binding("c", "crash_leader", "crash leader"),
        Binding("r", "restart", "restart"),
        Binding("p", "cut_off", "partition"),
        Binding("g", "deafen", "one-way"),
        Binding("plus,equals_sign", "faster", "faster", key_display="+"),
        Binding("minus", "slower", "slower", key_display="-"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, scenario: str = "paxos-failover", seed: int = 1, speed: float = 1.0, *,
                 paused: bool = False, planted_bug: str | None = None) -> None:
        super().__init__()
        self.live = LiveSimulation(scenario_named(scenario), seed, planted_bug=planted_bug)
        self.speed = min(MAX_SPEED, max(MIN_SPEED, speed))
        self.paused = paused
        self._logged = 0
        self.sub_title = f"simulation {scenario} · seed {seed}" + (
            f" · planted bug {planted_bug}" if planted_bug else "")

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="status")
        yield DataTable(id="replicas", cursor_type="none", zebra_stripes=True)
        with Horizontal(id="spark-row"):
            yield Label("acked ops/s\n(simulated)", id="spark-label")
            yield Sparkline([], id="throughput")
        yield RichLog(id="events", max_lines=2_000, wrap=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#replicas", DataTable).add_columns(*COLUMNS)
        self.query_one("#events", RichLog).border_title = "events (simulated time)"
        self.render_state()
        self.set_interval(FRAME_S, self.frame)

    # --- frames ---------------------------------------------------------------

    def frame(self) -> None:
        """One timer tick: run a slice of simulated time unless paused."""
        if not self.paused:
            self.advance()

    def advance(self) -> None:
        self.live.advance(FRAME_MS * self.speed)
        self.render_state()

    def render_state(self) -> None:
        """Show the simulation as it is now."""
        live = self.live
        self.query_one("#status", Static).update(self.status_line())
        table = self.query_one("#replicas", DataTable)
        table.clear()
        for row in live.replicas():
            table.add_row(*replica_cells(row), key=row.id)
        self.query_one("#throughput", Sparkline).data = live.throughput(SPARK_BUCKETS)
        log = self.query_one("#events", RichLog)
        for line in live.log[self._logged:]:
            log.write(event_text(line), expand=True)
        self._logged = len(live.log)

    def status_line(self) -> Text:
        live, tally = self.live, self.live.tally
        state = ("STOPPED: an invariant was violated" if live.stopped else
                 "paused" if self.paused else "running")
        if all(client.finished for client in live.clients):
            state += " (the clients are done)"
        recent = live.throughput(4)
        rate = sum(recent) / len(recent)
        return Text.assemble(
            (f"t = {live.now_ms / 1000:8.3f} s", "bold"), f"  {state} · speed ×{self.speed:g}  ",
            ("acked ", "green"), f"{tally.acknowledged} ({rate:.0f}/s)  ",
            ("failed ", "yellow"), f"{tally.failed}  ",
            ("timed out ", "red"), f"{tally.timed_out}  ",
            f"messages {live.sim.network.stats.sent}",
        )

    # --- keys -------------------------------------------------------------------

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self.render_state()

    def action_step(self) -> None:
        if self.paused:
            self.advance()

    def action_crash_leader(self) -> None:
        self.live.crash_leader()
        self.render_state()

    def action_restart(self) -> None:
        self.live.restart_crashed()
        self.render_state()

    def action_cut_off(self) -> None:
        self.live.cut_off_leader()
        self.render_state()

    def action_deafen(self) -> None:
        self.live.cut_off_leader(one_way=True)
        self.render_state()

    def action_faster(self) -> None:
        self.speed = min(MAX_SPEED, self.speed * 2)
        self.render_state()

    def action_slower(self) -> None:
        self.speed = max(MIN_SPEED, self.speed / 2)
        self.render_state()


def replica_cells(row: ReplicaRow) -> tuple[str | Text, ...]:
    """A replica's row of the table, as text."""
    if not row.up:
        return (row.id, Text("DOWN", "bold red"), "-", "-", "-", "-", "-", "-", row.links)
    role = Text(row.role, ROLE_STYLES.get(row.role, ""))
    lease = describe_lease(row)
    return (row.id, Text("up", "green"), role, row.ballot, row.leader,
            Text(lease, "red") if lease == "expired" else lease,
            str(row.commit_index), str(row.last_index), Text(row.links, "red"))


def event_text(line: LogLine) -> Text:
    """A line of the event log: simulated time, then what happened."""
    return Text.assemble((f"{line.at_ms / 1000:8.3f} s  ", "dim"),
                         (line.text, STYLES.get(line.kind, "")))
