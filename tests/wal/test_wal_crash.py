"""Crash test (§5.1, §5.4 "power-off tests"): SIGKILL a replica under load 50 times; every
acknowledged write survives and no unacknowledged write is half-applied.

More rounds: `python -m dynamo.wal.crashtest --rounds 1000`.
"""

from __future__ import annotations

from pathlib import Path

from dynamo.wal import crashtest
from dynamo.wal.segment import list_segments


def test_no_acknowledged_write_is_lost_across_50_sigkills(tmp_path: Path) -> None:
    acknowledged = crashtest.run(tmp_path, rounds=50, seed=20220711)
    assert acknowledged > 500, "the child must be killed under real load"
    manifests = list((tmp_path / "archive").rglob("*.manifest.json"))
    assert manifests, "checkpoints archived segments during the crash rounds"
    first_local = list_segments(tmp_path / "replica" / "wal")[0][0]
    assert first_local > 1, "archived segments were removed locally"
