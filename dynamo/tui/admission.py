"""The admission view: a server's token buckets, allocations and throttles (§4, §4.1, §4.2).

DynamoDB admits a request only while a token bucket holds capacity for it
(§4). Which buckets decide depends on the era the server runs (`dynamo serve
--admission`): a partition's share of its table (static, §4), plus 300
seconds of unused capacity and the storage node's own bucket (bursting,
§4.1.1), allocations raised for throttled partitions (adaptive capacity,
§4.1.2), or table-level tokens that GAC vends to request routers, the
partition buckets staying as a safety cap (global admission control, §4.2).
This view shows all of them as the server's admin endpoint (`GET
/admin/state`, its "admission" object) reports them:

    a line      the era, and how many requests routers and storage nodes have
                throttled since the server started
    sparklines  throttles a second at the routers and at the storage nodes,
                from the change in those counts between two refreshes
    partitions  one row per partition and kind (read, write) with a bucket:
                its table, the node whose bucket it is (the leader's),
                requests/s, the units/s it consumed against its allocation
                (a bar), the allocated bucket's tokens, the burst bucket's
                level, and whether adaptive capacity boosted it
    nodes       each storage node's own bucket: its tokens against its capacity
    GAC tables  GAC's table buckets: the limit, the routers' demand against it
                (a bar), and the tokens left to vend (the gac era only)

The view reads the state as data: a figure the server does not report shows
as "-", and a server that reports no admission object at all (an older one)
is said to, rather than shown as throttling nothing. Storage nodes make a
partition's read or write bucket at its first read or write, so a partition
appears here once it has had traffic.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Label, Sparkline, Static

from dynamo.admission.bursting import BURST_SECONDS
from dynamo.tui.partitions import MISSING, partitions_of

KINDS = ("read", "write")
WHERE = ("router", "storage")  # where a request is throttled: the two cumulative counts
PLACES = {"router": "routers", "storage": "storage nodes"}
SPARK_SAMPLES = 60  # a minute of refreshes, at the dashboard's one a second
BAR_CELLS = 10
NOT_REPORTED = "admission control: not reported (this server's /admin/state has no admission)"
ERAS = {
    "static": "static allocation: each partition an even share of its table's throughput (§4)",
    "bursting": "bursting: unused capacity kept for 300 s, spent while the node has room (§4.1.1)",
    "adaptive": "adaptive capacity: throttled partitions get a larger allocation (§4.1.2)",
    "gac": "global admission control: routers spend table tokens vended by GAC (§4.2)",
}

PARTITION_COLUMNS = ("table", "partition", "node", "kind", "requests/s", "units/s of allocation",
                     "tokens", "burst", "boosted")
NODE_COLUMNS = ("node", "read tokens of capacity", "write tokens of capacity")
TABLE_COLUMNS = ("table", "mode", "kind", "limit/s", "demand of limit", "tokens")

Row = tuple[object, ...]


@dataclass
class ThrottleHistory:
    """Throttles a second, from successive samples of cumulative throttle counts."""

    last: tuple[float, dict[str, int]] | None = None  # (when, counts) of the last sample
    rates: dict[str, deque[float]] = field(
        default_factory=lambda: {w: deque(maxlen=SPARK_SAMPLES) for w in WHERE})

    def sample(self, counts: dict[str, int], now_s: float) -> None:
        """Add one sample of the counts, taken at `now_s` (any clock that only goes forward)."""
        if self.last is not None and now_s > self.last[0]:
            when, before = self.last
            for where in WHERE:
                self.rates[where].append(throttled_since(before.get(where, 0),
                                                         counts.get(where, 0)) / (now_s - when))
        self.last = (now_s, counts)

    def forget(self) -> None:
        """No counts this time: the next sample starts afresh rather than spanning the gap."""
        self.last = None


def throttled_since(before: int, now: int) -> int:
    """Throttles between two samples of a cumulative count. A count that went down was
    restarted (the server was), so everything it counts now is new."""
    return now - before if now >= before else now


class AdmissionView(Vertical):
    """The era, throttles over time, and the partition, node and GAC buckets of one state.

    `show(state, now_s)` refreshes them all, and returns what changed that is
    worth a line in the changes log: partitions boosted by adaptive capacity, or
    back to their share.
    """

    DEFAULT_CSS = """
    AdmissionView { height: auto; }
    AdmissionView DataTable { height: auto; border: round $primary-darken-2; }
    #admission-era { height: auto; padding: 0 1; }
    AdmissionView Horizontal { height: 2; padding: 0 1; }
    AdmissionView Label { width: 34; }
    AdmissionView Sparkline { width: 1fr; }
    #admission-partitions { max-height: 30vh; }
    #admission-nodes { max-height: 20vh; }
    #admission-tables { max-height: 20vh; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.history = ThrottleHistory()
        self.boosted: dict[str, bool] | None = None  # partition -> boosted, at the last state

    def compose(self) -> ComposeResult:
        yield Static(NOT_REPORTED, id="admission-era")
        for where in WHERE:
            with Horizontal():
                yield Label(id=f"{where}-throttles-label")
                yield Sparkline([], id=f"{where}-throttles")
        yield DataTable(id="admission-partitions", cursor_type="row", zebra_stripes=True)
        yield DataTable(id="admission-nodes", cursor_type="none", zebra_stripes=True)
        yield DataTable(id="admission-tables", cursor_type="none", zebra_stripes=True)

    def on_mount(self) -> None:
        self._grid("admission-partitions").add_columns(*PARTITION_COLUMNS)
        self._grid("admission-nodes").add_columns(*NODE_COLUMNS)
        self._grid("admission-tables").add_columns(*TABLE_COLUMNS)
        self._grid("admission-partitions").border_title = "partition buckets (at the leader)"
        self._grid("admission-nodes").border_title = "storage node buckets"
        self.show_throttles()

    def show(self, state: dict[str, Any] | None, now_s: float) -> list[str]:
        """Show a new admin state, sampled at `now_s`; return the boosts that changed."""
        admission = admission_of(state)
        self.query_one("#admission-era", Static).update(era_line(admission))
        if admission is None:
            self.history.forget()
        else:
            self.history.sample(throttle_counts(admission), now_s)
        self.show_throttles()
        self._fill("admission-partitions", partition_rows(state))
        self._fill("admission-nodes", node_rows(admission))
        self._fill("admission-tables", table_rows(admission))
        self._grid("admission-tables").border_title = (
            "GAC table buckets" if (admission or {}).get("era") == "gac"
            else "GAC table buckets (the gac era only)")
        now = boosts(admission)
        lines = boost_changes(self.boosted, now, admission)
        self.boosted = now
        return lines

    def show_throttles(self) -> None:
        for where in WHERE:
            rates = list(self.history.rates[where])
            self.query_one(f"#{where}-throttles", Sparkline).data = rates
            self.query_one(f"#{where}-throttles-label", Label).update(
                f"throttled at {PLACES[where]}\n" + (
                    f"now {rates[-1]:,.1f}/s, peak {max(rates):,.1f}/s" if rates
                    else f"now {MISSING}"))

    def _fill(self, name: str, rows: list[Row]) -> None:
        """Refill a grid, keeping its cursor where it was, so a refresh does not scroll away
        what the reader moved to."""
        grid = self._grid(name)
        cursor = grid.cursor_row
        grid.clear()
        for row in rows:
            grid.add_row(*row)
        if rows:
            grid.move_cursor(row=min(cursor, len(rows) - 1))

    def _grid(self, name: str) -> DataTable:
        return self.query_one(f"#{name}", DataTable)


# -- reading the admission object --------------------------------------------------------------

def admission_of(state: dict[str, Any] | None) -> dict[str, Any] | None:
    """The state's admission object, or None if the server does not report one."""
    admission = (state or {}).get("admission")
    return admission if isinstance(admission, dict) else None


def throttle_counts(admission: dict[str, Any]) -> dict[str, int]:
    throttles = admission.get("throttles") or {}
    return {where: int(throttles.get(where) or 0) for where in WHERE}


def era_line(admission: dict[str, Any] | None) -> Text:
    """What admits requests on this server, and how many it has throttled so far."""
    if admission is None:
        return Text(NOT_REPORTED, "dim")
    era = admission.get("era")
    if era is None:
        return Text("admission control: off (dynamo serve --admission off): nothing is throttled",
                    "yellow")
    counts = throttle_counts(admission)
    return Text.assemble(("admission control: ", "bold"), (str(era), "bold cyan"), " · ",
                         ERAS.get(str(era), ""), "\nthrottled since the server started: ",
                         (f"{counts['router']:,}", "bold"), " at routers, ",
                         (f"{counts['storage']:,}", "bold"), " at storage nodes")


def boosts(admission: dict[str, Any] | None) -> dict[str, bool]:
    return {str(pid): bool(entry.get("boosted"))
            for pid, entry in _partitions(admission).items()}


def boost_changes(before: dict[str, bool] | None, after: dict[str, bool],
                  admission: dict[str, Any] | None) -> list[str]:
    """Adaptive capacity raised a partition's allocation, or gave it back its share (§4.1.2)."""
    if before is None:
        return []
    entries = _partitions(admission)
    lines = []
    for pid in sorted(after):
        if after[pid] == before.get(pid, False):
            continue
        allocations = ", ".join(f"{kind} {entries[pid][kind]['allocation']:,.0f}/s"
                                for kind in KINDS if isinstance(entries[pid].get(kind), dict))
        what = "boosted by adaptive capacity" if after[pid] else "back to its share"
        lines.append(f"partition {pid} {what} ({allocations})")
    return lines


# -- rows --------------------------------------------------------------------------------------

def partition_rows(state: dict[str, Any] | None) -> list[Row]:
    """One row per partition and kind with a bucket, by table, then partition (a split's
    children, named after their parent, follow it)."""
    entries = _partitions(admission_of(state))
    requests = {str(p.get("partition")): p for p in partitions_of(state)}
    rows = []
    for pid, entry in sorted(entries.items(), key=lambda item: (str(item[1].get("table")),
                                                               item[0])):
        for kind in KINDS:
            bucket = entry.get(kind)
            if not isinstance(bucket, dict):
                continue  # no request of this kind yet: the node has made no bucket for it
            consumed = (entry.get("rate") or {}).get(kind)
            boosted = entry.get("boosted")
            rows.append((_text(entry.get("table")), pid, _text(entry.get("node")), kind,
                         _rate(requests.get(pid, {}).get(f"{kind}s_per_s")),
                         usage_bar(consumed, bucket.get("allocation")),
                         tokens_text(bucket.get("tokens")),
                         burst_text(bucket.get("burst"), bucket.get("allocation")),
                         MISSING if boosted is None else
                         Text("yes", "bold magenta") if boosted else Text("no", "dim")))
    return rows


def node_rows(admission: dict[str, Any] | None) -> list[Row]:
    """Each storage node's own bucket per kind (none in the static era: nothing bursts)."""
    nodes = (admission or {}).get("nodes") or {}
    rows = []
    for node in sorted(nodes):
        buckets = nodes[node] if isinstance(nodes[node], dict) else {}
        rows.append((node, *(level_bar((buckets.get(k) or {}).get("tokens"),
                                       (buckets.get(k) or {}).get("capacity")) for k in KINDS)))
    return rows


def table_rows(admission: dict[str, Any] | None) -> list[Row]:
    """GAC's buckets, one row per table and kind: its limit, the routers' demand, its tokens."""
    tables = (admission or {}).get("tables") or {}
    rows = []
    for name in sorted(tables):
        table = tables[name] if isinstance(tables[name], dict) else {}
        on_demand = table.get("on_demand")
        mode = MISSING if on_demand is None else "on-demand" if on_demand else "provisioned"
        for kind in KINDS:
            bucket = table.get(kind)
            if isinstance(bucket, dict):
                rows.append((name, mode, kind, _rate(bucket.get("rate")),
                             usage_bar(bucket.get("demand"), bucket.get("rate")),
                             tokens_text(bucket.get("tokens"))))
    return rows


def _partitions(admission: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    found = (admission or {}).get("partitions") or {}
    return {str(pid): entry for pid, entry in found.items() if isinstance(entry, dict)}


# -- cells -------------------------------------------------------------------------------------

def usage_bar(used: object, allowed: object) -> Text:
    """`used` units/s against `allowed` ones: a bar, green within it, yellow beyond it (a
    partition spending burst capacity, or routers asking more of a table than its limit)."""
    if not isinstance(allowed, int | float):
        return Text(MISSING)
    if not isinstance(used, int | float):
        return Text(f"{MISSING} / {allowed:,.0f}")
    share = used / allowed if allowed > 0 else 0.0
    cells = min(BAR_CELLS, round(share * BAR_CELLS))
    return Text.assemble(("▇" * cells, "yellow" if share > 1 else "green"),
                         ("░" * (BAR_CELLS - cells), "dim"), f" {used:,.1f} / {allowed:,.0f}")


def level_bar(tokens: object, capacity: object) -> Text:
    """How full a bucket is: a bar, and its tokens of its capacity (red once it is empty)."""
    if not isinstance(tokens, int | float) or not isinstance(capacity, int | float):
        return Text(MISSING)
    cells = max(0, min(BAR_CELLS, round(tokens / capacity * BAR_CELLS))) if capacity > 0 else 0
    return Text.assemble(("▇" * cells, "cyan" if tokens > 0 else "red"),
                         ("░" * (BAR_CELLS - cells), "dim"), f" {tokens:,.0f} / {capacity:,.0f}")


def tokens_text(tokens: object) -> Text:
    """A bucket's tokens: red at or below zero, when it admits nothing. Below zero is a debt:
    a request's cost is known only after it ran, and the next refills pay it back."""
    if not isinstance(tokens, int | float):
        return Text(MISSING)
    return Text(f"{tokens:,.1f}", "bold red" if tokens <= 0 else "")


def burst_text(burst: object, allocation: object) -> Text:
    """The burst bucket's tokens, and how many seconds of the allocation they are: up to
    300, five minutes of unused capacity (§4.1.1). None: the era keeps no burst bucket."""
    if not isinstance(burst, int | float):
        return Text(MISSING, "dim")
    seconds = f" ({burst / allocation:,.0f} s)" if isinstance(allocation, int | float) \
        and allocation > 0 else ""
    full = isinstance(allocation, int | float) and burst >= allocation * BURST_SECONDS
    return Text(f"{burst:,.0f}{seconds}", "green" if full else "bold red" if burst <= 0 else "")


def _text(value: object) -> str:
    return MISSING if value is None else str(value)


def _rate(value: object) -> str:
    return f"{value:,.1f}" if isinstance(value, int | float) else MISSING
