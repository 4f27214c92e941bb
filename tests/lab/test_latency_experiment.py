"""The latency-vs-concurrency experiment runs end to end (paper §7, Figs. 5 and 6).

A tiny sweep — concurrency 1 and 4, get and put, 1 s each — against the fresh
`dynamo serve` the experiment starts itself; the results and the plot must be
written, and hold measured numbers. (The figures themselves are not judged
here: speed is measured by running the experiment, not by tests.)
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_latency_experiment_writes_results_and_plot(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "lab.latency_vs_concurrency", "--concurrency", "1", "4",
         "--mixes", "get", "put", "--duration", "1", "--warmup", "0.2", "--keys", "200",
         "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=REPO, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "ops/s" in run.stdout  # the progress table was printed

    results = json.loads((tmp_path / "latency_vs_concurrency.json").read_text())
    assert sorted((r["mix"], r["concurrency"]) for r in results) == [
        ("get", 1), ("get", 4), ("put", 1), ("put", 4)]
    for result in results:
        assert result["operations"] > 0
        assert result["errors"] == 0
        assert result["ops_per_s"] > 0
        assert 0 < result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
        assert result["server_peak_rss_mb"] > 0  # the experiment's own server was measured

    with open(tmp_path / "latency_vs_concurrency.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4
    for row in rows:
        assert float(row["ops_per_s"]) > 0 and float(row["p99_ms"]) > 0

    png = (tmp_path / "latency_vs_concurrency.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 10_000
