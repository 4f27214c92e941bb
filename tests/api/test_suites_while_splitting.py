"""The API and conformance suites, unchanged, against a server whose tables split (§4).

Partitioning must be invisible to a DynamoDB client, so every test of the
API and conformance suites must pass against a server whose tables split
while the tests run. The suites' tables are small and short-lived (the
biggest is a 19 MB batch of 400 KB items), and most live for a few requests,
so the server splits at 64 bytes (`--split-size 64`): then the tables of
several suites split, about 17 partitions in all on a quiet machine. (At 256 bytes only
four or five split, nearly all the 19 MB table's; at 65536 the suites pass as
well, and only the 19 MB table splits.)
The suites run as a process of their own, their servers started as
DYNAMO_LAB_SERVE_ARGS says; each server reports how many partitions it split
(DYNAMO_LAB_SPLIT_COUNT), so the test knows the splits really happened.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dynamo.cli.launch import SERVE_ARGS_VARIABLE, SPLIT_COUNT_VARIABLE

TESTS = Path(__file__).parent.parent
SUITES = [*sorted((TESTS / "conformance").glob("test_*_conformance.py")),
          *(TESTS / "api" / f"test_{name}.py" for name in ("items", "reads", "batches",
                                                            "tables", "fidelity"))]


def test_every_test_passes_while_the_tables_split(tmp_path: Path) -> None:
    counts = tmp_path / "splits"
    env = {**os.environ, SERVE_ARGS_VARIABLE: "--in-memory --split-size 64",
           SPLIT_COUNT_VARIABLE: str(counts)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "-p", "no:xdist", *map(str, SUITES)], env=env, capture_output=True,
                         text=True, timeout=900, cwd=TESTS.parent)
    assert run.returncode == 0, run.stdout[-3000:]
    splits = [int(line) for line in counts.read_text().split()]
    assert len(splits) == len(SUITES)  # every file's server reported
    # About 17 here on a quiet machine, fewer under CI's load (a table split only while it
    # lives, and most live for a few requests); the 19 MB table alone splits several times.
    assert sum(splits) >= 6, splits
