"""The server view: a running `dynamo serve`'s tables, as the DynamoDB API describes them.

`dynamo dashboard --endpoint http://127.0.0.1:8000` polls the endpoint every
second with signed ListTables and DescribeTable requests (`TablePoller`) and
shows:

    a line   the endpoint, its region, how many tables, when it last answered,
             or why it did not
    a table  one row per table: name, status, key schema, item count, size and
             billing mode, exactly as DescribeTable returns them
    a log    what changed between two polls: a table appeared or went, its
             status or its item count changed

    a grid   the replication group, from the server's admin endpoint
             (`GET /admin/state`): zone, node, role, leader's ballot, and how
             far each replica's log is persisted and applied (§3, §5.1)

Those are the "tables" tab (key t). The "partitions" tab (key p) shows the
same admin state as tables split into partitions on storage nodes
(`partitions.py`), and the "admission" tab (key a) its token buckets,
allocations and throttles over time (`admission.py`), refreshed by the same
poll.

The tables come from what the API returns. Request rates, latencies and
throttles are not part of the DynamoDB API (AWS publishes them through
CloudWatch), so the tables tab does not show them rather than estimate them
from polling. The partitions tab shows the rates the server's partitions
measure themselves, as its admin endpoint reports them, and the admission tab
the buckets that admit or throttle each request.
"""

from __future__ import annotations

import time

import aiohttp
from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, RichLog, Static, TabbedContent, TabPane
from textual.worker import Worker

from dynamo.tui.admission import AdmissionView
from dynamo.tui.partitions import PartitionsView
from dynamo.tui.tables import PollError, RequestSigner, TableInfo, TablePoller, human_bytes

COLUMNS = ("table", "status", "key schema", "items", "size", "billing mode")
REPLICA_COLUMNS = ("zone", "node", "role", "ballot", "persisted LSN", "applied LSN")
ROLE_STYLES = {"leader": "bold green", "follower": "", "candidate": "yellow", "down": "bold red"}
NOTE = ("Item counts and sizes are DescribeTable's ItemCount and TableSizeBytes. Request rates "
        "are not part of the DynamoDB API, so they are not shown here; the partitions tab (p) "
        "shows what the server's partitions measure.")


class ServerDashboard(App[None]):
    """A live view of an endpoint's tables, polled through the API."""

    TITLE = "Dynamo Lab"
    ENABLE_COMMAND_PALETTE = False
    CSS = """
    #status { height: 1; padding: 0 1; }
    TabbedContent, TabPane { height: auto; }
    TabPane { padding: 0; }
    #tables { height: auto; max-height: 40vh; margin: 1 0 0 0; }
    #replicas { height: auto; max-height: 30vh; margin: 1 0 0 0; }
    #note { height: auto; padding: 0 1; margin: 1 0 0 0; color: $text-muted; }
    #changes { border: round $primary; height: 1fr; }
    """
    BINDINGS = [
        Binding("r", "refresh", "poll now"),
        Binding("t", "show_tab('tables')", "tables"),
        Binding("p", "show_tab('partitions')", "partitions"),
        Binding("a", "show_tab('admission')", "admission"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, endpoint: str, signer: RequestSigner, *, region: str = "us-east-1",
                 interval: float = 1.0) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.signer = signer
        self.region = region
        self.interval = interval
        self.known: dict[str, TableInfo] | None = None  # None until the first answer
        self.polls = 0
        self.sub_title = f"server {endpoint} · {region}"
        self._session: aiohttp.ClientSession | None = None
        self._polling: Worker[None] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"asking {self.endpoint} ...", id="status")
        with TabbedContent(initial="tables-tab"):
            with TabPane("tables", id="tables-tab"):
                yield DataTable(id="tables", cursor_type="none", zebra_stripes=True)
                yield DataTable(id="replicas", cursor_type="none", zebra_stripes=True)
                yield Static(NOTE, id="note")
            with TabPane("partitions", id="partitions-tab"):
                yield PartitionsView(id="partitions-view")
            with TabPane("admission", id="admission-tab"):
                yield AdmissionView(id="admission-view")
        yield RichLog(id="changes", max_lines=1_000, wrap=True)
        yield Footer()

    async def on_mount(self) -> None:
        self.query_one("#tables", DataTable).add_columns(*COLUMNS)
        self.query_one("#replicas", DataTable).add_columns(*REPLICA_COLUMNS)
        self.query_one("#changes", RichLog).border_title = "changes seen between polls"
        self._session = aiohttp.ClientSession()
        self.request_poll()
        self.set_interval(self.interval, self.request_poll)

    async def on_unmount(self) -> None:
        if self._session is not None:
            await self._session.close()

    def action_refresh(self) -> None:
        self.request_poll()

    def action_show_tab(self, name: str) -> None:
        self.query_one(TabbedContent).active = f"{name}-tab"

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """On the partitions and admission tabs, up and down move through the first list at
        once."""
        first = {"partitions-tab": "#partition-tables", "admission-tab": "#admission-partitions"}
        if event.pane.id in first:
            self.query_one(first[event.pane.id], DataTable).focus()

    def request_poll(self) -> None:
        """Poll, unless a poll is still waiting for its answer (a slow server is not
        asked faster than it answers)."""
        if self._polling is None or self._polling.is_finished:
            self._polling = self.poll()

    @work(group="poll")
    async def poll(self) -> None:
        """Ask the endpoint for its tables and show the answer (or why there is none)."""
        assert self._session is not None
        if not self.is_running:
            # The timer fired as the app began to close, and the worker starts after its
            # screen went (the more widgets, the longer that takes): nothing to show it in.
            return
        status = self.query_one("#status", Static)
        try:
            tables = await TablePoller(self.endpoint, self.signer, self._session).tables()
        except PollError as error:
            status.update(Text(f"{error} (trying again every {self.interval:g} s)", "bold red"))
            return
        if not self.is_running:
            # The app began to close while the answer was on its way: Textual stops
            # running first, then removes the screen, so there is nothing to show it in.
            return
        self.show(tables)
        await self.show_group()
        self.polls += 1  # counted once everything it brought is on screen
        count = f"{len(tables)} table{'s' * (len(tables) != 1)}"
        status.update(Text.assemble((self.endpoint, "bold"), f"  region {self.region}  {count}  ",
                                    ("answered at " + time.strftime("%H:%M:%S"), "green")))

    def show(self, tables: list[TableInfo]) -> None:
        """Fill the table of tables and log what changed since the last answer."""
        grid = self.query_one("#tables", DataTable)
        grid.clear()
        for table in tables:
            status = Text(table.status, "green" if table.status == "ACTIVE" else "yellow")
            grid.add_row(table.name, status, table.keys, f"{table.items:,}",
                         human_bytes(table.size_bytes), table.billing, key=table.name)
        now = {table.name: table for table in tables}
        self.log_changes(changes(self.known, now))
        self.known = now

    def log_changes(self, lines: list[str]) -> None:
        log = self.query_one("#changes", RichLog)
        stamp = time.strftime("%H:%M:%S")
        for line in lines:
            log.write(Text.assemble((f"{stamp}  ", "dim"), line), expand=True)

    async def show_group(self) -> None:
        """Fill the replica grid, the partitions view and the admission view from /admin/state
        (left empty if the server has none), and log the partitions that appeared, went,
        changed status or were boosted."""
        assert self._session is not None
        try:
            async with self._session.get(f"{self.endpoint}/admin/state") as answer:
                state = await answer.json() if answer.status == 200 else None
        except (aiohttp.ClientError, ValueError):
            state = None
        if not self.is_running:  # closed while the answer was on its way, as in poll()
            return
        grid = self.query_one("#replicas", DataTable)
        grid.clear()
        for row in replica_rows(state):
            grid.add_row(*row)
        self.log_changes(self.query_one(PartitionsView).show(state))
        self.log_changes(self.query_one(AdmissionView).show(state, time.monotonic()))


def replica_rows(state: dict | None) -> list[tuple[object, ...]]:
    """One row per replica of the group: zone, node, role, ballot, persisted and applied LSN."""
    if not state:
        return []
    # One replication group; without one (a single node, or many partitions), the first
    # partition's group: the partitions tab shows them all.
    group = state.get("group") or (state.get("partitions") or [{}])[0]
    rows = []
    for replica in group.get("replicas", []):
        role = replica.get("role", "?")
        ballot = group.get("ballot") if role == "leader" else ""
        rows.append((replica.get("zone", ""), replica.get("node", ""),
                     Text(role, ROLE_STYLES.get(role, "")), ballot or "",
                     f"{replica.get('persisted_lsn', 0):,}", f"{replica.get('applied_lsn', 0):,}"))
    return rows


def changes(before: dict[str, TableInfo] | None, after: dict[str, TableInfo]) -> list[str]:
    """What differs between two polls, as lines for the log."""
    if before is None:
        return [f"{len(after)} table{'s' * (len(after) != 1)} at the first poll"]
    lines = [f"table {name} appears ({after[name].status})" for name in after if name not in before]
    lines += [f"table {name} is gone" for name in before if name not in after]
    for name in sorted(after.keys() & before.keys()):
        old, new = before[name], after[name]
        if old.status != new.status:
            lines.append(f"table {name}: {old.status} -> {new.status}")
        if old.items != new.items:
            lines.append(f"table {name}: {old.items:,} -> {new.items:,} items")
    return lines
