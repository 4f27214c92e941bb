"""`python -m dynamo.storage` runs the storage layer alone and prints what happened."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_storage_demo_runs_and_reports_each_request() -> None:
    result = subprocess.run([sys.executable, "-m", "dynamo.storage"], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert "WAL mode, synchronous=FULL" in out
    assert "CreateTable Music: partition key Artist (S), sort key SongTitle (S)" in out
    # Four puts: three small items at 1 WCU, one with 3 KB of lyrics at 3 WCU.
    assert out.count("PutItem {") == 4
    assert out.count("-> 1 WCU") >= 3 and "-> 3 WCU" in out
    # The conditional put fails, returns the old item, and is still charged.
    assert "ConditionalCheckFailedException: The conditional request failed" in out
    assert "still costs 1 WCU" in out
    # The update adds one play.
    assert "UPDATED_NEW {Plays=1}" in out
    # The Query reads two songs beginning with C, the filter keeps the one now played.
    assert 'SongTitle="Call Me Today"' in out.split("Query")[1]
    assert "Count 1, ScannedCount 2, 0.5 RCU" in out
    # The parallel scan sees every song exactly once across its two segments.
    scan = out.split("Scan in 2 parallel segments")[1].split("The replica holds")[0]
    for title in ("Call Me Today", "Crazy Train", "Somewhere Down The Road", "Summertime"):
        assert scan.count(title) - scan.count(f'SongTitle="{title}"') == 1
    assert "The replica holds 4 items" in out
