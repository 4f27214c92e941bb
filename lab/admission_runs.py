"""Admission control live: one `dynamo serve` per era, the same Locust workload against each (§4).

The paper's §4 tells DynamoDB's admission control as four eras, each fixing
what the one before did to skewed traffic. `dynamo serve --admission ERA`
runs any of them; this experiment starts one server per era, drives it with
the project's Locust workload headless (in a process of its own), samples
`/admin/state` every second, and compares. Nothing about the expected
outcome is coded here: what the report shows is what the servers did.

* `hot-key` (§4, §4.1.2, §4.2). The `orders` table is created on-demand,
  loaded with `--preload` past orders so that it splits by size
  (`dynamo serve --split-size`) into several partitions, then provisioned
  with `--capacity` RCU and WCU. `workloads/hotkey.py` sends `--hot-share`
  of `--users` x `--user-rate` requests a second to `--hot-keys` customers.
  Under static allocation the hot key's partition holds only its share of
  the table (half per split), far below what the hot key asks for, although
  the table as a whole is well within its provisioned throughput; when the
  partition splits again, its share halves again (throughput dilution).
  Bursting and adaptive capacity lend it burst capacity (five minutes of
  what it did not use) and raise its allocation; under GAC the routers admit
  against the table's tokens, so the hot key is served.
* `burst` (§4.1.1). `workloads/burst.py` loads its profiles, provisions the
  table with `--capacity`, and alternates quiet periods (`--users`) with
  bursts (`--burst-users`), every user paced at `--user-rate`. Quiet load is
  well within the table's throughput, a burst well above it. Static
  allocation throttles every burst; bursting pays for it with the capacity
  the quiet periods left unused, and GAC with the table's own burst tokens.

Throttles reach Locust as failures of their own kind, "throttled
(ProvisionedThroughputExceededException)", because the workloads' boto3
client does not retry (`workloads/dynamo_user.py`).

The report folder (`--out`, default `lab/out/EXPERIMENT`) holds, per era,
`ERA_stats.csv`, `ERA_stats_history.csv`, `ERA_failures.csv` (Locust's),
`ERA_admin.jsonl` (the samples of `/admin/state`) and the server's and
Locust's logs; and for the whole run `summary.md`, `summary.json`,
`requests.png` (Locust's view: served and throttled requests/s per era) and
`admission.png` (the server's view: throttles/s, and the hot key's partition
allocation or the capacity saved for bursts).

    dynamo lab run hot-key --quick          # static and gac, about a minute
    python -m lab.admission_runs burst --eras static,bursting,gac
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import boto3
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from dynamo.admission.eras import ERAS, Era
from dynamo.cli.lab import DEFAULTS, QUICK, add_run_arguments
from dynamo.storage.keys import encode_value, hash_position
from lab.locust_runs import (
    AGGREGATED,
    Rates,
    rates_by_type,
    read_failures,
    read_history,
    read_stats,
    run_locust,
    throttles_by_type,
    users_over_time,
)
from lab.server import REPO, Server, dynamo_server

REGION = "us-east-1"
SAMPLE_S = 1.0  # how often /admin/state is read while Locust runs
SETTLE_S = 1.0  # a table's partitions have settled once their count holds this long
ERA_COLOURS = {"static": "tab:red", "bursting": "tab:orange", "adaptive": "tab:purple",
               "gac": "tab:green"}

Client = Any  # boto3's low-level DynamoDB client
State = dict[str, Any]  # one answer of GET /admin/state


@dataclass(frozen=True)
class Settings:
    """One run's settings: the experiment's defaults, --quick's, then the command line's."""

    experiment: str
    eras: tuple[str, ...]
    out: Path
    users: int
    duration: float
    user_rate: float
    capacity: int
    seed: int
    hot_keys: int = 0
    hot_share: float = 0.0
    preload: int = 0
    split_size: int = 0
    burst_users: int = 0
    burst_period: float = 0.0
    burst_seconds: float = 0.0

    @property
    def cycles(self) -> int:
        """Burst periods in `duration`."""
        return max(1, round(self.duration / self.burst_period))


def settings(args: argparse.Namespace) -> Settings:
    chosen = dict(DEFAULTS[args.experiment])
    if args.quick:
        chosen.update(QUICK[args.experiment])
    for name in chosen:
        if getattr(args, name, None) is not None:
            chosen[name] = getattr(args, name)
    eras = tuple(era.strip() for era in str(chosen.pop("eras")).split(",") if era.strip())
    unknown = [era for era in eras if era not in ERAS]
    if unknown or not eras:
        raise SystemExit(f"--eras: {', '.join(unknown) or 'none given'}; "
                         f"choose from {', '.join(ERAS)}")
    out = args.out or REPO / "lab" / "out" / args.experiment
    return Settings(args.experiment, eras, out, **chosen)


# --- the two experiments ---------------------------------------------------------------


class Workload(Protocol):
    """What differs between the experiments: how the server is started, the table
    prepared and Locust run, and what the report shows of each era."""

    locustfile: str
    table: str
    question: str
    served_label: str  # the summary's served-throughput column
    tracked_label: str  # admission.png's lower panel

    def serve_args(self, s: Settings) -> list[str]: ...
    def prepare(self, server: Server, s: Settings) -> None: ...
    def locust_options(self, s: Settings) -> list[str]: ...
    def seconds(self, s: Settings) -> float: ...
    def offered(self, s: Settings) -> str: ...
    def served(self, history: list[dict[str, str]], s: Settings) -> float: ...
    def tracked(self, state: State, era: str, s: Settings) -> float | None: ...


class HotKey:
    """A hot key on a provisioned table split into several partitions (§4, §4.1.2, §4.2)."""

    locustfile = "hotkey.py"
    table = "orders"
    customers = 1000
    question = ("Is a hot key throttled while its table is within its provisioned "
                "throughput, and which era stops that? (§4 static allocation, §4.1.1 "
                "bursting, §4.1.2 adaptive capacity, §4.2 global admission control)")
    served_label = "hot key served req/s"
    tracked_label = "hot key's partition:\nwrite allocation (WCU/s)"

    def serve_args(self, s: Settings) -> list[str]:
        return ["--split-size", str(s.split_size)]

    def prepare(self, server: Server, s: Settings) -> None:
        """Create the table on-demand, load it so it splits by size, let the splits
        settle, then provision it: every era starts from a table in partitions."""
        client = dynamo_client(server.url)
        client.create_table(
            TableName=self.table, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "customer", "KeyType": "HASH"},
                       {"AttributeName": "order", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "customer", "AttributeType": "S"},
                                  {"AttributeName": "order", "AttributeType": "S"}])
        wait_active(client, self.table)
        batch_put(client, self.table, past_orders(s.preload, s.hot_keys, self.customers))
        settled_partitions(server.url, self.table)
        client.update_table(TableName=self.table, BillingMode="PROVISIONED",
                            ProvisionedThroughput={"ReadCapacityUnits": s.capacity,
                                                   "WriteCapacityUnits": s.capacity})
        wait_active(client, self.table)

    def locust_options(self, s: Settings) -> list[str]:
        return ["-u", str(s.users), "-r", str(s.users), "-t", f"{s.duration:g}s",
                "--user-rate", f"{s.user_rate:g}", "--customers", str(self.customers),
                "--hot-keys", str(s.hot_keys), "--hot-share", f"{s.hot_share:g}",
                "--seed", str(s.seed)]

    def seconds(self, s: Settings) -> float:
        return s.duration

    def offered(self, s: Settings) -> str:
        total = s.users * s.user_rate
        return (f"{s.users} users x {s.user_rate:g} requests/s = {total:g} requests/s "
                f"(PutItem and Query, half and half), {s.hot_share:.0%} of them "
                f"({total * s.hot_share:g} requests/s) on {s.hot_keys} hot key(s) of "
                f"{self.customers}")

    def served(self, history: list[dict[str, str]], s: Settings) -> float:
        """The hot keys' served (not throttled) requests a second while users ran."""
        rates = rates_by_type(history).get("hot", Rates([], [], []))
        return mean_served(rates, history, lambda users: users > 0)

    def tracked(self, state: State, era: str, s: Settings) -> float | None:
        """The write allocation of the partition holding the (first) hot key."""
        partition = partition_of(state, self.table, hot_position())
        entry = state.get("admission", {}).get("partitions", {}).get(partition, {})
        return entry.get("write", {}).get("allocation")


class Burst:
    """Quiet periods and bursts of ten times the load on a provisioned table (§4.1.1)."""

    locustfile = "burst.py"
    table = "profiles"
    question = ("Does a table absorb a short burst above its provisioned throughput with "
                "capacity it left unused? (§4.1.1 bursting)")
    served_label = "served req/s in bursts"
    tracked_label = "write units saved\nfor bursts"

    def serve_args(self, s: Settings) -> list[str]:
        return []

    def prepare(self, server: Server, s: Settings) -> None:
        """Nothing: the locustfile loads its profiles, then provisions the table."""

    def locust_options(self, s: Settings) -> list[str]:
        return ["--quiet-users", str(s.users), "--burst-users", str(s.burst_users),
                "--burst-period", f"{s.burst_period:g}", "--burst-seconds",
                f"{s.burst_seconds:g}", "--cycles", str(s.cycles), "--user-rate",
                f"{s.user_rate:g}", "--capacity", str(s.capacity), "--seed", str(s.seed)]

    def seconds(self, s: Settings) -> float:
        return s.cycles * s.burst_period

    def offered(self, s: Settings) -> str:
        return (f"{s.users} users ({s.users * s.user_rate:g} requests/s of YCSB A on 900-byte "
                f"profiles), and {s.burst_users} users ({s.burst_users * s.user_rate:g} "
                f"requests/s) for the last {s.burst_seconds:g} s of every {s.burst_period:g} s, "
                f"{s.cycles} times")

    def served(self, history: list[dict[str, str]], s: Settings) -> float:
        """Served requests a second in the seconds that ran the burst's user count."""
        rates = rates_by_type(history).get("all", Rates([], [], []))
        return mean_served(rates, history, lambda users: users == s.burst_users)

    def tracked(self, state: State, era: str, s: Settings) -> float | None:
        """Write units kept for bursts: the table's bucket at GAC under gac (§4.2), else
        the partitions' burst buckets (§4.1.1); None where nothing is kept (static)."""
        admission = state.get("admission", {})
        name = f"{REGION}/{self.table}"
        if era == Era.GAC:
            return admission.get("tables", {}).get(name, {}).get("write", {}).get("tokens")
        bursts = [entry["write"]["burst"] for entry in admission.get("partitions", {}).values()
                  if entry.get("table") == name and "write" in entry
                  and entry["write"].get("burst") is not None]
        return sum(bursts) if bursts else None


WORKLOADS: dict[str, Workload] = {"hot-key": HotKey(), "burst": Burst()}


# --- talking to the server -----------------------------------------------------------------


def dynamo_client(url: str) -> Client:
    return boto3.client("dynamodb", endpoint_url=url, region_name=REGION,
                        aws_access_key_id="AKIDLAB", aws_secret_access_key="lab")


def wait_active(client: Client, table: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while client.describe_table(TableName=table)["Table"]["TableStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise RuntimeError(f"table {table} did not become ACTIVE within {timeout:.0f} s")
        time.sleep(0.05)


def batch_put(client: Client, table: str, items: list[dict[str, Any]]) -> None:
    """BatchWriteItem, 25 at a time, resending what comes back unprocessed."""
    for first in range(0, len(items), 25):
        pending = {table: [{"PutRequest": {"Item": item}} for item in items[first:first + 25]]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if pending:
                time.sleep(0.05)


def customer_key(number: int) -> str:
    """The hot-key workload's partition key (workloads/faker_data.py: customer#0007)."""
    return f"customer#{number:04d}"


def past_orders(count: int, hot_keys: int, customers: int) -> list[dict[str, Any]]:
    """`count` delivered orders of about 250 bytes, round-robin over the cold customers:
    data for the table to split by, that the workload never asks for."""
    cold = range(min(hot_keys, customers), customers) or range(customers)
    return [{"customer": {"S": customer_key(cold[number % len(cold)])},
             "order": {"S": f"2024-01-01T00:00:00.000000Z#{number:08d}"},
             "status": {"S": "DELIVERED"},
             "note": {"S": "archived order " + "." * 180}} for number in range(count)]


def admin_state(url: str) -> State:
    with urllib.request.urlopen(f"{url}/admin/state", timeout=10) as answer:
        return json.loads(answer.read())


def table_partitions(state: State, table: str) -> list[dict[str, Any]]:
    return [entry for entry in state.get("partitions", [])
            if entry.get("table") == f"{REGION}/{table}"]


def settled_partitions(url: str, table: str, timeout: float = 30.0) -> int:
    """Wait until the table's partition count has held for SETTLE_S: splits are done."""
    deadline = time.monotonic() + timeout
    count, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now_count = len(table_partitions(admin_state(url), table))
        if now_count != count:
            count, since = now_count, time.monotonic()
        elif time.monotonic() - since >= SETTLE_S:
            return count
        time.sleep(0.1)
    return count


def hot_position() -> int:
    """Where the first hot customer's key lies in the hashed key space (§3)."""
    return int.from_bytes(hash_position(encode_value({"S": customer_key(0)})), "big")


def partition_of(state: State, table: str, position: int) -> str | None:
    """The id of the table's partition whose key range holds `position`."""
    for entry in table_partitions(state, table):
        low, high = (int(bound, 16) for bound in entry["key_range"])
        if low <= position <= high and (position < high or high == (1 << 128) - 1):
            return str(entry["partition"])
    return None


class StateSampler(threading.Thread):
    """Reads /admin/state every SAMPLE_S while Locust runs, keeping what the report needs."""

    def __init__(self, url: str, sample: Callable[[State], dict[str, Any]],
                 tick: Callable[[float], None]) -> None:
        super().__init__(daemon=True)
        self.url, self.sample, self.tick = url, sample, tick
        self.samples: list[dict[str, Any]] = []
        self.stopped = threading.Event()
        self.started = time.monotonic()

    def run(self) -> None:
        self.started = time.monotonic()
        while True:
            self.tick(self._take())
            if self.stopped.wait(SAMPLE_S):
                return

    def stop(self) -> None:
        """Stop sampling, with one last sample: the state once the load is over."""
        self.stopped.set()
        self.join()
        self._take()

    def _take(self) -> float:
        elapsed = time.monotonic() - self.started
        try:
            self.samples.append({"t": round(elapsed, 3), **self.sample(admin_state(self.url))})
        except OSError:
            pass  # a slow answer under load: the next second tries again
        return elapsed


# --- one era ---------------------------------------------------------------------------


def run_era(workload: Workload, s: Settings, era: str,
            tick: Callable[[str, float], None]) -> None:
    """One server under `era`, the table prepared, Locust's run, and the samples saved."""
    with dynamo_server(s.out / f"{era}.server.log", "--admission", era,
                       *workload.serve_args(s)) as server:
        tick(f"{era}: preparing the table", 0.0)
        workload.prepare(server, s)

        def sample(state: State) -> dict[str, Any]:
            admission = state.get("admission", {})
            return {"throttles": admission.get("throttles", {}),
                    "partitions": len(table_partitions(state, workload.table)),
                    "tracked": workload.tracked(state, era, s)}

        sampler = StateSampler(server.url, sample, lambda t: tick(f"{era}: load", t))
        sampler.start()
        try:
            run_locust(workload.locustfile, server.url, s.out / era, workload.locust_options(s),
                       s.out / f"{era}.locust.log", timeout=workload.seconds(s) + 120)
        finally:
            sampler.stop()
    with open(s.out / f"{era}_admin.jsonl", "w") as handle:
        for entry in sampler.samples:
            handle.write(json.dumps(entry) + "\n")


@contextmanager
def progress_bar(s: Settings, seconds: float) -> Iterator[Callable[[int, str, float], None]]:
    """A bar on stderr over every era's load; yields update(era index, what, seconds in)."""
    progress = Progress(TextColumn("{task.description:<28}"), BarColumn(),
                        TextColumn("{task.completed:>4.0f}/{task.total:.0f} s of load"),
                        TimeElapsedColumn(), console=Console(stderr=True))
    task = progress.add_task(s.experiment, total=seconds * len(s.eras))
    with progress:
        def update(index: int, what: str, elapsed: float) -> None:
            progress.update(task, description=f"{s.experiment} {what}",
                            completed=seconds * index + min(elapsed, seconds))
        yield update
        progress.update(task, description=f"{s.experiment}: done")


# --- the report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EraResult:
    """What one era's run came to, from Locust's CSVs and the server's samples."""

    era: str
    requests: int
    throttled: int
    throttled_by_type: dict[str, int]
    other_errors: int
    p50_ms: float | None
    p99_ms: float | None
    served_per_s: float
    server_throttles: dict[str, int]
    partitions: tuple[int, int]  # the table's, when first and last sampled

    @property
    def throttled_share(self) -> float:
        return self.throttled / self.requests if self.requests else 0.0


def era_result(workload: Workload, s: Settings, era: str) -> EraResult:
    stats = read_stats(s.out / f"{era}_stats.csv")
    total = next((row for row in stats if row["Name"] == AGGREGATED), None)
    by_type = throttles_by_type(read_failures(s.out / f"{era}_failures.csv"))
    samples = read_samples(s.out / f"{era}_admin.jsonl")
    failures = int(total["Failure Count"]) if total else 0
    throttled = sum(by_type.values())
    return EraResult(
        era=era, requests=int(total["Request Count"]) if total else 0, throttled=throttled,
        throttled_by_type=by_type, other_errors=failures - throttled,
        p50_ms=_ms(total, "50%"), p99_ms=_ms(total, "99%"),
        served_per_s=workload.served(read_history(s.out / f"{era}_stats_history.csv"), s),
        server_throttles=samples[-1]["throttles"] if samples else {},
        partitions=partitions_seen(samples))


def partitions_seen(samples: list[dict[str, Any]]) -> tuple[int, int]:
    """The table's partition count at the first sample that saw the table, and the last."""
    counts = [sample["partitions"] for sample in samples if sample["partitions"]]
    return (counts[0], counts[-1]) if counts else (0, 0)


def _ms(row: dict[str, str] | None, column: str) -> float | None:
    if row is None or row[column] in ("", "N/A"):
        return None
    return float(row[column])


def read_samples(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def mean_served(rates: Rates, history: list[dict[str, str]],
                counts: Callable[[int], bool]) -> float:
    """Mean served requests/s over the seconds whose user count, at both ends, `counts`."""
    seconds, users = users_over_time(history)
    users_at = dict(zip(seconds, users, strict=True))
    served = [requests - failures for second, requests, failures
              in zip(rates.seconds, rates.requests_per_s, rates.failures_per_s, strict=True)
              if counts(users_at.get(second, 0)) and counts(users_at.get(second - 1, 0))]
    return sum(served) / len(served) if served else 0.0


SERVE = "dynamo serve --in-memory --admission ERA"


def summary_markdown(workload: Workload, s: Settings, results: list[EraResult]) -> str:
    """The report: what ran, then one row per era."""
    lines = [f"# Admission control live: {s.experiment}", "",
             f"**Question.** {workload.question}", "",
             f"**Setup.** One `{' '.join([SERVE, *workload.serve_args(s)])}` per era; "
             f"table `{workload.table}`, "
             f"provisioned {s.capacity} RCU and {s.capacity} WCU; "
             f"{workload.offered(s)}; {workload.seconds(s):g} s of load per era "
             f"(`{workload.locustfile}`, seed {s.seed}).", "",
             f"| era | requests | throttled | throttled % | other errors | p50 ms | p99 ms "
             f"| {workload.served_label} | server throttles (router / storage) "
             f"| partitions (first / last seen) |",
             "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in results:
        lines.append(
            f"| {r.era} | {r.requests} | {r.throttled} | {r.throttled_share:.1%} "
            f"| {r.other_errors} | {_shown(r.p50_ms)} | {_shown(r.p99_ms)} "
            f"| {r.served_per_s:.1f} | {r.server_throttles.get('router', 0)} / "
            f"{r.server_throttles.get('storage', 0)} | {r.partitions[0]} / {r.partitions[1]} |")
    lines += ["",
              "*throttled*: requests Locust counted as failures of kind \"throttled\" "
              "(`ProvisionedThroughputExceededException`, `ThrottlingException`), by type: "
              + "; ".join(f"{r.era} {_by_type(r.throttled_by_type)}" for r in results) + ". "
              "*other errors*: every other failure. p50 and p99 include the throttled "
              "answers. *server throttles*: the server's own counts at the end (`/admin/state`"
              "'s admission throttles: refused by a request router under GAC, or by a "
              "storage node's buckets).", "",
              "Plots: `requests.png` (Locust: served and throttled requests/s per era), "
              "`admission.png` (the server: throttles/s, and "
              f"{workload.tracked_label.replace(chr(10), ' ')}, per era). "
              "Per era: `ERA_stats.csv`, `ERA_stats_history.csv`, `ERA_failures.csv`, "
              "`ERA_admin.jsonl`, `ERA.server.log`, `ERA.locust.log`.", ""]
    return "\n".join(lines)


def _by_type(counts: dict[str, int]) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items())) or "none"


def _shown(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def plot_requests(workload: Workload, s: Settings, path: Path) -> None:
    """Locust's view, per era: served requests/s, throttled requests/s, and the
    experiment's own series (the hot key's served requests/s, or the user count)."""
    figure = Figure(figsize=(10, 9))
    FigureCanvasAgg(figure)  # Agg: draw to a file, no display
    served, throttled, focus = figure.subplots(3, 1, sharex=True)
    for era in s.eras:
        history = read_history(s.out / f"{era}_stats_history.csv")
        rates = rates_by_type(history)
        colour = ERA_COLOURS.get(era, "black")
        every = rates.get("all", Rates([], [], []))
        served.plot(every.seconds, _minus(every), color=colour, label=era)
        throttled.plot(every.seconds, every.failures_per_s, color=colour, label=era)
        if s.experiment == "hot-key":
            hot = rates.get("hot", Rates([], [], []))
            focus.plot(hot.seconds, _minus(hot), color=colour, label=era)
        elif era == s.eras[0]:
            seconds, users = users_over_time(history)
            focus.step(seconds, users, where="post", color="tab:gray", label="users")
    served.set_ylabel("served requests / s")
    throttled.set_ylabel("throttled requests / s")
    if s.experiment == "hot-key":
        focus.axhline(s.users * s.user_rate * s.hot_share, color="gray", linestyle="--",
                      label="asked")
        focus.set_ylabel("hot key served\nrequests / s")
    else:
        focus.set_ylabel("users")
    focus.set_xlabel("seconds since Locust started")
    for axis in (served, throttled, focus):
        axis.set_ylim(bottom=0)
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize="small", loc="upper right")
    figure.suptitle(f"{s.experiment}: Locust's requests per era (paper §4)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def _minus(rates: Rates) -> list[float]:
    return [r - f for r, f in zip(rates.requests_per_s, rates.failures_per_s, strict=True)]


def plot_admission(workload: Workload, s: Settings, path: Path) -> None:
    """The server's view, per era, from /admin/state: throttles/s and the tracked series."""
    figure = Figure(figsize=(10, 6.5))
    FigureCanvasAgg(figure)
    throttles, tracked = figure.subplots(2, 1, sharex=True)
    logarithmic = False
    for era in s.eras:
        samples = read_samples(s.out / f"{era}_admin.jsonl")
        colour = ERA_COLOURS.get(era, "black")
        times = [sample["t"] for sample in samples]
        counts = [sum(sample["throttles"].values()) for sample in samples]
        rates = [(b - a) / max(t1 - t0, 1e-3) for a, b, t0, t1
                 in zip(counts, counts[1:], times, times[1:], strict=False)]
        throttles.plot(times[1:], rates, color=colour, label=era)
        points = [(sample["t"], sample["tracked"]) for sample in samples
                  if sample["tracked"] is not None]
        if points:
            tracked.plot(*zip(*points, strict=True), color=colour, label=era)
            logarithmic = logarithmic or any(value > 0 for _, value in points)
    throttles.set_ylabel("server throttles / s\n(router + storage)")
    throttles.set_ylim(bottom=0)
    tracked.set_ylabel(workload.tracked_label)
    if logarithmic:
        tracked.set_yscale("log")  # static's few units beside GAC's thousand
    tracked.set_xlabel("seconds since Locust started")
    for axis in (throttles, tracked):
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize="small", loc="upper right")
    figure.suptitle(f"{s.experiment}: admission control per era, from /admin/state")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def write_report(workload: Workload, s: Settings, results: list[EraResult]) -> str:
    summary = summary_markdown(workload, s, results)
    (s.out / "summary.md").write_text(summary)
    (s.out / "summary.json").write_text(json.dumps({
        "experiment": s.experiment, "settings": {**asdict(s), "out": str(s.out)},
        "eras": {r.era: {**asdict(r), "throttled_share": r.throttled_share}
                 for r in results}}, indent=2) + "\n")
    plot_requests(workload, s, s.out / "requests.png")
    plot_admission(workload, s, s.out / "admission.png")
    return summary


# --- the command ----------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """`dynamo lab run EXPERIMENT ...`: every era in turn, then the report."""
    s = settings(args)
    workload = WORKLOADS[s.experiment]
    s.out.mkdir(parents=True, exist_ok=True)
    with progress_bar(s, workload.seconds(s)) as update:
        for index, era in enumerate(s.eras):
            run_era(workload, s, era, lambda what, t, index=index: update(index, what, t))
    summary = write_report(workload, s, [era_result(workload, s, era) for era in s.eras])
    print(summary)
    print(f"wrote {s.out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.admission_runs", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
