"""Running Locust headless, and reading its CSV results: final statistics and history.

Locust runs in a process of its own: it patches the standard library with
gevent, which must not happen to the experiment's process.

`locust --csv PREFIX` writes `PREFIX_stats.csv` (one row per request Type and
Name, plus an "Aggregated" row) and, with `--csv-full-history`,
`PREFIX_stats_history.csv`: a row per entry per second. Locust's own
"Requests/s" column there is a moving average over several seconds, which
smooths a burst away; the rates below are instead the differences of the
cumulative "Total Request Count" between consecutive seconds.
`PREFIX_failures.csv` has a row per Type ("Method"), Name and kind of error;
`workloads/dynamo_user.py` names a throttle's kind "throttled (...)".
"""

from __future__ import annotations

import csv
import subprocess
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lab.server import REPO

AGGREGATED = "Aggregated"
THROTTLED = "throttled"  # how the workloads' failures of admission control begin


@dataclass(frozen=True)
class Rates:
    """Requests and failures per second over time, for one group of requests."""

    seconds: list[float]  # since the first row of the history
    requests_per_s: list[float]
    failures_per_s: list[float]


def run_locust(locustfile: str, host: str, prefix: Path, options: Sequence[str],
               log: Path, timeout: float) -> None:
    """`locust -f workloads/<locustfile> --headless` writing PREFIX_*.csv, with full history.

    Failures (throttles) are results, not errors: the exit status only reports
    that Locust itself failed.
    """
    command = [sys.executable, "-m", "locust", "-f", str(REPO / "workloads" / locustfile),
               "--headless", "--host", host, "--csv", str(prefix), "--csv-full-history",
               "--only-summary", "--exit-code-on-error", "0", *options]
    with open(log, "wb") as handle:
        completed = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, cwd=REPO,
                                   timeout=timeout)
    if completed.returncode != 0:
        raise RuntimeError(f"locust failed ({completed.returncode}); see {log}:\n"
                           f"{log.read_text(errors='replace')[-3000:]}")


def read_stats(path: Path) -> list[dict[str, str]]:
    """The rows of PREFIX_stats.csv: Type, Name, Request Count, Failure Count, ..."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def read_history(path: Path) -> list[dict[str, str]]:
    """The rows of PREFIX_stats_history.csv."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def read_failures(path: Path) -> list[dict[str, str]]:
    """The rows of PREFIX_failures.csv: Method (the Type), Name, Error, Occurrences."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def throttles_by_type(failures: list[dict[str, str]]) -> dict[str, int]:
    """How many requests of each Type were throttled, from PREFIX_failures.csv."""
    counts: dict[str, int] = defaultdict(int)
    for row in failures:
        if row["Error"].startswith(THROTTLED):
            counts[row["Method"]] += int(row["Occurrences"])
    return dict(counts)


def rates_by_type(history: list[dict[str, str]]) -> dict[str, Rates]:
    """Per request Type (e.g. "hot", "cold"), summed over its Names; "all" is the total."""
    totals: dict[str, dict[int, tuple[int, int]]] = defaultdict(dict)
    for row in history:
        second = int(row["Timestamp"])
        counts = (int(row["Total Request Count"]), int(row["Total Failure Count"]))
        if row["Name"] == AGGREGATED:
            totals["all"][second] = counts
            continue
        # Every entry is written at the same timestamp each second, so rows add up by second.
        key = f"{row['Type']}/{row['Name']}"
        totals[key][second] = counts
    return _group(totals)


def _group(totals: dict[str, dict[int, tuple[int, int]]]) -> dict[str, Rates]:
    """Sum the per-(Type/Name) cumulative counts per Type, then difference them."""
    seconds = sorted({second for series in totals.values() for second in series})
    by_type: dict[str, list[list[int]]] = {}
    for key, series in totals.items():
        group = by_type.setdefault(key.split("/", 1)[0], [[0, 0] for _ in seconds])
        # An entry appears with its first request: before that its counts are zero.
        last = (0, 0)
        for index, second in enumerate(seconds):
            last = series.get(second, last)
            group[index][0] += last[0]
            group[index][1] += last[1]
    return {group: _differences(seconds, counts) for group, counts in by_type.items()}


def _differences(seconds: list[int], counts: list[list[int]]) -> Rates:
    """Per-second rates from cumulative counts; the time is the end of each interval."""
    times, requests, failures = [], [], []
    for index in range(1, len(seconds)):
        elapsed = seconds[index] - seconds[index - 1]
        times.append(float(seconds[index] - seconds[0]))
        requests.append((counts[index][0] - counts[index - 1][0]) / elapsed)
        failures.append((counts[index][1] - counts[index - 1][1]) / elapsed)
    return Rates(times, requests, failures)


def users_over_time(history: list[dict[str, str]]) -> tuple[list[float], list[int]]:
    """Locust's running user count each second (same time origin as `rates_by_type`)."""
    rows = [row for row in history if row["Name"] == AGGREGATED]
    if not rows:
        return [], []
    start = min(int(row["Timestamp"]) for row in history)
    return ([float(int(row["Timestamp"]) - start) for row in rows],
            [int(row["User Count"]) for row in rows])
