"""The layer's commands run: the demo (`python -m dynamo.wal`) and `dynamo wal-bench`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from dynamo.cli.main import main


def test_the_demo_shows_group_commit_crash_torn_tail_bit_flip_and_archive() -> None:
    result = subprocess.run([sys.executable, "-m", "dynamo.wal"], capture_output=True, text=True,
                            timeout=60, check=True)
    out = result.stdout
    assert "200 records acknowledged after" in out
    assert "every acknowledged LSN" in out
    assert re.search(r"torn tail truncated: \d+ bytes cut from \d+\.seg", out)
    assert "recovery refused: write-ahead log corrupt in segment" in out and "at offset 0" in out
    assert re.search(r"archived \d+ segments up to LSN \d+", out) and "manifest.json" in out


def test_wal_bench_prints_figures_and_saves_json_and_plot(tmp_path: Path, capsys) -> None:
    """The benchmark command works end to end (its figures are recorded in docs, not asserted)."""
    status = main(["wal-bench", "--seconds", "0.2", "--concurrency", "1,4",
                   "--dir", str(tmp_path), "--json", str(tmp_path / "figures.json"),
                   "--plot", str(tmp_path / "plot.png")])
    assert status == 0
    out = capsys.readouterr().out
    assert "appends/s" in out and "group commit at concurrency 4:" in out
    rows = json.loads((tmp_path / "figures.json").read_text())
    assert {(r["mode"], r["concurrency"]) for r in rows} == {
        ("group", 1), ("per-record", 1), ("group", 4), ("per-record", 4)}
    assert all(r["appends"] > 0 and r["p99_ms"] >= r["p50_ms"] > 0 for r in rows)
    per_record = [r for r in rows if r["mode"] == "per-record"]
    assert all(r["records_per_fsync"] == 1.0 for r in per_record)
    assert (tmp_path / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
