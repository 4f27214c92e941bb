"""`dynamo lab run hot-key`: a real short Locust run against a real `dynamo serve`, per era.

§4: under static allocation "the table's throughput was divided evenly across
its partitions", so a hot key is throttled once it passes its partition's
share, "even though the table as a whole was within its provisioned
throughput"; with global admission control (§4.2) the routers admit against
the table's tokens, so the same traffic is served. One run of the command,
10 s of load per era, is judged from Locust's own CSVs, from the server's
/admin/state samples, and by its report.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
SECONDS = 10
CAPACITY = 100  # the experiment's default: provisioned RCU and WCU


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hot-key")
    run = subprocess.run([sys.executable, "-m", "dynamo.cli.main", "lab", "run", "hot-key",
                          "--eras", "static,gac", "--duration", str(SECONDS), "--out", str(out)],
                         capture_output=True, text=True, cwd=REPO, timeout=240)
    assert run.returncode == 0, run.stderr[-3000:]
    return out


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def hot_requests(out: Path, era: str) -> tuple[int, int]:
    """(requests, throttled) of the hot key, from Locust's stats and failures CSVs."""
    requests = sum(int(row["Request Count"]) for row in rows(out / f"{era}_stats.csv")
                   if row["Type"] == "hot")
    throttled = sum(int(row["Occurrences"]) for row in rows(out / f"{era}_failures.csv")
                    if row["Method"] == "hot" and row["Error"].startswith("throttled"))
    return requests, throttled


def test_a_hot_key_is_throttled_under_static_allocation_and_far_less_under_gac(
        report: Path) -> None:
    """§4 static allocation throttles the hot key's partition; §4.2 GAC serves it."""
    static_requests, static_throttled = hot_requests(report, "static")
    gac_requests, gac_throttled = hot_requests(report, "gac")
    assert static_requests > 100 and gac_requests > 100
    static_share = static_throttled / static_requests
    gac_share = gac_throttled / gac_requests
    assert static_share > 0.1, (static_throttled, static_requests)
    assert gac_share < static_share / 4, (gac_share, static_share)

    # The table as a whole stayed within its provisioned writes (1 WCU per order placed).
    writes = sum(int(row["Request Count"]) for row in rows(report / "static_stats.csv")
                 if row["Name"] == "PutItem")
    assert writes / SECONDS < CAPACITY


def test_throttles_are_their_own_failure_kind_and_match_the_servers_count(
        report: Path) -> None:
    """A throttle reaches Locust once, as "throttled (ProvisionedThroughputExceededException)",
    and the server counted about as many refusals at its storage nodes (static has no GAC)."""
    failures = rows(report / "static_failures.csv")
    assert failures
    assert all(row["Error"] == "throttled (ProvisionedThroughputExceededException)"
               for row in failures), failures
    locust_count = sum(int(row["Occurrences"]) for row in failures)
    samples = [json.loads(line) for line in
               (report / "static_admin.jsonl").read_text().splitlines()]
    server_count = samples[-1]["throttles"]["storage"]  # sampled once Locust had stopped
    # Locust drops the answers still in flight when it stops its users at the end, and a
    # router drops a refusal that comes after it has retried a slow read elsewhere.
    assert 0.95 * locust_count <= server_count <= 1.1 * locust_count + 10, (
        server_count, locust_count)


def test_the_report_has_every_era_and_valid_plots(report: Path) -> None:
    """summary.md has a row per era, summary.json the same figures, the PNGs are drawn."""
    summary = (report / "summary.md").read_text()
    table = [line for line in summary.splitlines() if line.startswith("| ")]
    assert [line.split("|")[1].strip() for line in table[1:]] == ["static", "gac"]
    figures = json.loads((report / "summary.json").read_text())
    assert list(figures["eras"]) == ["static", "gac"]
    assert figures["eras"]["static"]["throttled"] > figures["eras"]["gac"]["throttled"]
    assert (figures["eras"]["gac"]["served_per_s"]
            > figures["eras"]["static"]["served_per_s"])
    for name in ("requests.png", "admission.png"):
        with Image.open(report / name) as image:
            image.verify()  # a well-formed PNG
        with Image.open(report / name) as image:
            assert image.format == "PNG" and image.width > 500 and image.height > 400
            colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
            assert colours is not None and len(colours) > 50, name  # drawn, not blank
    for era in ("static", "gac"):
        for suffix in ("_stats.csv", "_stats_history.csv", "_failures.csv", "_admin.jsonl"):
            assert (report / f"{era}{suffix}").stat().st_size > 0
