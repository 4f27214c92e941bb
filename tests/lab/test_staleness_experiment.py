"""The staleness experiment runs end to end against a fresh three-replica `dynamo serve`.

A strong read is served by the leader under its lease, so it is never stale: that is
judged here, on every read of a short real run (§3, [DG: HowItWorks.ReadConsistency]).
How stale eventual reads are is measured by running the experiment, not by this test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_staleness_experiment_never_sees_a_stale_strong_read(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "lab.staleness", "--duration", "2", "--readers", "1",
         "--link-delay-ms", "5", "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=REPO, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads((tmp_path / "staleness.json").read_text())
    assert result["writes"] > 0
    for kind in ("strong", "eventual"):
        assert result[kind]["reads"] > 0
        assert sum(result[kind]["versions_behind"].values()) == result[kind]["reads"]
    assert result["strong"]["stale"] == 0, result["strong"]  # linearizable reads
    assert (tmp_path / "staleness.png").read_bytes().startswith(PNG_MAGIC)
    assert "eventual reads" in run.stdout
