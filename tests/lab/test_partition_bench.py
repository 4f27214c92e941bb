"""The partition benchmark runs end to end: one partition beside a table split into several.

A partition splits once its items pass its size limit (§4, §4.4), so loading
about 900 KB with a 128 KiB split size must leave the partitioned server's
table in several partitions, and the default server's in one; both must then
serve the bench. The figures themselves are not judged here: speed is
measured by running the benchmark, not by tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_split_table_and_a_one_partition_table_are_both_measured(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "lab.partition_bench", "--quick",
                          "--out", str(tmp_path)],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]

    rows = printed_runs(run.stdout)
    assert {(r["mix"], r["server"]) for r in rows} == {
        ("get", "one-partition"), ("put", "one-partition"),
        ("get", "partitioned"), ("put", "partitioned")}
    for row in rows:
        assert row["ops/s"] > 0 and row["p50 ms"] > 0, row
        if row["server"] == "one-partition":
            assert row["partitions"] == 1, row
        else:
            assert row["partitions"] >= 4, row

    result = json.loads((tmp_path / "partition_bench.json").read_text())
    assert all(r["errors"] == 0 for r in result["runs"])
    assert {s["server"]: s["partitions"] for s in result["servers"]}["one-partition"] == 1


def printed_runs(stdout: str) -> list[dict[str, object]]:
    """The rows of the printed table of runs (its header starts `round  mix`)."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["round", "mix"])
    rows = []
    for line in lines[start + 1:]:
        if not line.strip():
            break
        _round, mix, server, partitions, ops, p50, *_ = line.split()
        rows.append({"mix": mix, "server": server, "partitions": int(partitions),
                     "ops/s": float(ops), "p50 ms": float(p50)})
    return rows
