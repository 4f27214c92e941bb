"""The partitions view: a server's tables, split into partitions placed on storage nodes (§3, §4).

"A table is divided into multiple partitions", each holding "a disjoint and
contiguous part of the table's key-range" of the hashed partition keys, and
each a replication group of three replicas in three availability zones (§3).
Storage nodes host replicas of many partitions of many tables, and autoadmin
moves replicas to keep nodes balanced (§4.3); a partition that grows too
large (§4) or too hot (§4.4) is split in two. This view shows all of that as
the server's admin endpoint (`GET /admin/state`) reports it:

    tables      one row per table: how many partitions, the partition map's
                version, and items, size and request rates summed over them
    partitions  the highlighted table's partitions in key order: status (active,
                splitting, retired), the key range (first hex digits of each
                bound), a bar showing where the range lies in the key space and
                how much of it it covers, the leader, the nodes holding its
                replicas (with their zones; a log replica, which stands in for a
                lost one until the group is healed, marked "log", §5.1), items,
                size, reads/s and writes/s
    nodes       each storage node's zone, whether it is up, and how many
                replicas and leaders it hosts, so the balance can be seen

The view reads the admin state as data: a key the server does not report (an
older server, or a single partition per table) shows as "-", and a table or
partition that appears or goes between two refreshes (a split) simply shows
or disappears. A retired partition (a split's parent, about to go) is listed
but not counted in its table's totals: its children hold its items now.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable

from dynamo.tui.tables import human_bytes

KEY_SPACE = 16 ** 32  # key_range bounds are 32 hex digits: the 128-bit hashed key space
SHOWN_DIGITS = 6  # how much of each bound the view shows
BAR_CELLS = 12
MISSING = "-"
RETIRED = "retired"

TABLE_COLUMNS = ("table", "partitions", "map version", "items", "size", "reads/s", "writes/s")
PARTITION_COLUMNS = ("partition", "status", "key range", "share of key space", "leader",
                     "replicas", "items", "size", "reads/s", "writes/s")
NODE_COLUMNS = ("node", "zone", "up", "replicas", "leaders")
STATUS_STYLES = {"active": "green", "splitting": "bold yellow", RETIRED: "dim"}
ROLE_STYLES = {"leader": "bold green", "down": "bold red", "log": "bold cyan"}

Row = tuple[object, ...]


class PartitionsView(Vertical):
    """Tables, the highlighted table's partitions, and the storage nodes, from one admin state.

    `show(state)` refreshes all three; moving the cursor in the table list
    (up and down) shows another table's partitions.
    """

    DEFAULT_CSS = """
    PartitionsView { height: auto; }
    PartitionsView DataTable { height: auto; border: round $primary-darken-2; }
    #partition-tables { max-height: 20vh; }
    #partitions { max-height: 30vh; }
    #nodes { max-height: 30vh; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state: dict[str, Any] | None = None
        self.selected: str | None = None  # the table whose partitions are shown
        self.known: dict[tuple[str, str], str] | None = None  # (table, partition) -> status

    def compose(self) -> ComposeResult:
        yield DataTable(id="partition-tables", cursor_type="row", zebra_stripes=True)
        yield DataTable(id="partitions", cursor_type="none", zebra_stripes=True)
        yield DataTable(id="nodes", cursor_type="none", zebra_stripes=True)

    def on_mount(self) -> None:
        self._grid("partition-tables").add_columns(*TABLE_COLUMNS)
        self._grid("partitions").add_columns(*PARTITION_COLUMNS)
        self._grid("nodes").add_columns(*NODE_COLUMNS)
        self._grid("partition-tables").border_title = "tables (up and down choose one)"
        self._grid("nodes").border_title = "storage nodes"
        self.show_partitions()

    def show(self, state: dict[str, Any] | None) -> list[str]:
        """Show a new admin state; return what changed in the partitions since the last one."""
        self.state = state
        self.show_tables()
        self.show_partitions()
        nodes = self._grid("nodes")
        nodes.clear()
        for row in node_rows(state):
            nodes.add_row(*row)
        now = partition_statuses(state)
        lines = partition_changes(self.known, now)
        self.known = now
        return lines

    def show_tables(self) -> None:
        """The table list, keeping the chosen table chosen (the first, if it went away)."""
        grid = self._grid("partition-tables")
        grid.clear()
        rows = table_rows(self.state)
        for name, row in rows:
            grid.add_row(*row, key=name)
        names = [name for name, _ in rows]
        if self.selected not in names:
            self.selected = names[0] if names else None
        if self.selected is not None:
            # Clearing moved the cursor off the chosen table; put it back.
            grid.move_cursor(row=names.index(self.selected))

    def show_partitions(self) -> None:
        grid = self._grid("partitions")
        grid.clear()
        if self.selected is None:
            grid.border_title = "partitions (no table)"
            return
        rows = partition_rows(self.state, self.selected)
        for row in rows:
            grid.add_row(*row)
        grid.border_title = f"partitions of {self.selected} in key order"

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id != "partition-tables" or event.row_key.value == self.selected:
            return
        self.selected = event.row_key.value
        self.show_partitions()

    def _grid(self, name: str) -> DataTable:
        return self.query_one(f"#{name}", DataTable)


# -- rows from an admin state ------------------------------------------------------------------

def partitions_of(state: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every partition the state reports (none for a server without an admin state)."""
    return [p for p in (state or {}).get("partitions") or [] if isinstance(p, dict)]


def table_rows(state: dict[str, Any] | None) -> list[tuple[str, Row]]:
    """(table, row) per table in name order: partitions, map version and the summed figures."""
    by_table: dict[str, list[dict[str, Any]]] = {}
    for partition in partitions_of(state):
        by_table.setdefault(str(partition.get("table", MISSING)), []).append(partition)
    versions = (state or {}).get("map_versions") or {}
    rows = []
    for name in sorted(by_table):
        serving = [p for p in by_table[name] if p.get("status") != RETIRED]
        rows.append((name, (name, str(len(serving)), _text(versions.get(name)),
                            _count(_total(serving, "items")), _size(_total(serving, "size_bytes")),
                            _rate(_total(serving, "reads_per_s")),
                            _rate(_total(serving, "writes_per_s")))))
    return rows


def partition_rows(state: dict[str, Any] | None, table: str) -> list[Row]:
    """One row per partition of `table`, in key order (retired ones too, dimmed)."""
    mine = [p for p in partitions_of(state) if str(p.get("table", MISSING)) == table]
    rows = []
    for partition in sorted(mine, key=_key_order):
        bounds = key_bounds(partition.get("key_range"))
        status = str(partition.get("status", MISSING))
        rows.append((_text(partition.get("partition")), Text(status, STATUS_STYLES.get(status, "")),
                     key_range_text(partition.get("key_range")), share_bar(bounds),
                     _text(partition.get("leader")), replicas_text(partition),
                     _count(partition.get("items")), _size(partition.get("size_bytes")),
                     _rate(partition.get("reads_per_s")), _rate(partition.get("writes_per_s"))))
    return rows


def node_rows(state: dict[str, Any] | None) -> list[Row]:
    """One row per storage node: zone, up, replicas hosted (with a bar) and leaders.

    A node that does not report its counts (today's single-group server) is
    counted from the partitions it appears in.
    """
    nodes = [n for n in (state or {}).get("nodes") or [] if isinstance(n, dict)]
    hosted, leading = Counter[str](), Counter[str]()
    for partition in partitions_of(state):
        hosted.update({str(r.get("node")) for r in partition.get("replicas") or []})
        leading[str(partition.get("leader"))] += 1
    counts = [(n.get("replicas", hosted[str(n.get("id"))]),
               n.get("leaders", leading[str(n.get("id"))])) for n in nodes]
    most = max((c for c, _ in counts if isinstance(c, int)), default=0)
    rows = []
    for node, (replicas, leaders) in zip(nodes, counts, strict=True):
        up = node.get("up")
        rows.append((_text(node.get("id")), _text(node.get("zone")),
                     MISSING if up is None else Text("up" if up else "down",
                                                     "green" if up else "bold red"),
                     balance_bar(replicas, most), _count(leaders)))
    return rows


def partition_statuses(state: dict[str, Any] | None) -> dict[tuple[str, str], str]:
    return {(str(p.get("table")), str(p.get("partition"))): str(p.get("status", MISSING))
            for p in partitions_of(state)}


def partition_changes(before: dict[tuple[str, str], str] | None,
                      after: dict[tuple[str, str], str]) -> list[str]:
    """Partitions that appeared, went, or changed status between two states, as log lines."""
    if before is None:
        return []
    lines = [f"partition {t} {p} appears" + ("" if after[t, p] == MISSING else f" ({after[t, p]})")
             for t, p in after if (t, p) not in before]
    lines += [f"partition {t} {p} is gone" for t, p in before if (t, p) not in after]
    lines += [f"partition {t} {p}: {before[t, p]} -> {after[t, p]}"
              for t, p in sorted(after.keys() & before.keys()) if before[t, p] != after[t, p]]
    return lines


# -- key ranges --------------------------------------------------------------------------------

def key_bounds(key_range: object) -> tuple[int, int] | None:
    """The range's bounds as integers, or None if the state has no readable range."""
    try:
        low, high = key_range  # type: ignore[misc]
        return int(low, 16), int(high, 16)
    except (TypeError, ValueError):
        return None


def key_range_text(key_range: object) -> str:
    """["0000…", "7fff…"] -> "000000–7fffff": the first digits of each bound, as the server
    gives them (whether its upper bound is inclusive or exclusive)."""
    if key_bounds(key_range) is None:
        return MISSING
    low, high = key_range  # type: ignore[misc]
    return f"{low[:SHOWN_DIGITS]}–{high[:SHOWN_DIGITS]}"


def share_bar(bounds: tuple[int, int] | None) -> Text:
    """Where the range lies in the key space, as BAR_CELLS cells, and the share it covers.

    A range too small for one cell still gets one, so that every partition is seen.
    """
    if bounds is None:
        return Text(MISSING)
    low, high = bounds
    first = low * BAR_CELLS // KEY_SPACE
    last = max(first + 1, -(-high * BAR_CELLS // KEY_SPACE))  # ceiling division
    share = max(high - low, 0) / KEY_SPACE
    return Text.assemble(("░" * first, "dim"), ("█" * (last - first), "cyan"),
                         ("░" * (BAR_CELLS - last), "dim"), f" {share * 100:.3g}%")


def replicas_text(partition: dict[str, Any]) -> Text:
    """ "n1@az1 n2@az2 n3@az3 n5@az2·log": the nodes holding the partition's replicas, the leader
    in green, a replica that is down in red, a log replica marked and in cyan."""
    parts = []
    for replica in partition.get("replicas") or []:
        role = replica.get("role")
        log = replica.get("replica_role") == "log"
        style = ROLE_STYLES.get("leader" if replica.get("node") == partition.get("leader")
                                and role != "down" else str(role), "")
        if log and role != "down":
            style = ROLE_STYLES["log"]
        parts.append(Text(f"{replica.get('node', '?')}@{replica.get('zone', '?')}"
                          + ("·log" if log else ""), style))
    return Text(" ").join(parts) if parts else Text(MISSING)


def balance_bar(replicas: object, most: int) -> Text:
    """The number of replicas a node hosts, with a bar relative to the busiest node."""
    if not isinstance(replicas, int):
        return Text(MISSING)
    cells = round(replicas * 10 / most) if most else 0
    return Text.assemble((f"{replicas:>4} ", ""), ("▇" * cells, "cyan"))


def _key_order(partition: dict[str, Any]) -> tuple[int, int, str]:
    bounds = key_bounds(partition.get("key_range"))
    return (0 if bounds else 1, bounds[0] if bounds else 0, str(partition.get("partition")))


# -- cells -------------------------------------------------------------------------------------

def _total(partitions: list[dict[str, Any]], key: str) -> float | None:
    """The sum over the partitions, or None unless every one reports it (a partial sum would
    pass for the table's total)."""
    values = [p.get(key) for p in partitions]
    if not values or not all(isinstance(v, int | float) for v in values):
        return None
    return sum(values)  # type: ignore[arg-type]


def _text(value: object) -> str:
    return MISSING if value is None else str(value)


def _count(value: object) -> str:
    return f"{value:,}" if isinstance(value, int | float) else MISSING


def _size(value: object) -> str:
    return human_bytes(int(value)) if isinstance(value, int | float) else MISSING


def _rate(value: object) -> str:
    return f"{value:,.1f}" if isinstance(value, int | float) else MISSING
