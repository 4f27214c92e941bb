"""The two demos a newcomer runs: `python -m dynamo.api` (the wire protocol alone) and
`make demo` (`python -m dynamo.cli.demo`, a boto3 tour against a real server)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_api_layer_demo_shows_raw_exchanges_and_errors():
    out = run("-m", "dynamo.api")
    assert '"Plays":{"N":"7.5"}' in out
    assert "x-amz-crc32:" in out
    assert "3 validation errors detected" in out
    assert "MissingAuthenticationTokenException" in out


def test_make_demo_tours_the_api_and_stops_its_server():
    out = run("-m", "dynamo.cli.demo")
    assert "status right after CreateTable: CREATING" in out
    assert "ConditionalCheckFailedException: The conditional request failed" in out
    assert "Missing the key SongTitle in the item" in out
    assert "5.0 WCU" in out
    assert "the index is CREATING" in out and "...then ACTIVE" in out
    assert "['Call Me Today', 'Howdy']" in out, "the global index caught up with both songs"
    assert "plays now: Howdy 4, Happy Day 11" in out, "the transaction moved one play"
    assert "TransactionCanceledException: ['None', 'ConditionalCheckFailed']" in out
    assert "Happy Day still has 11 plays" in out
    assert "writes went through, out of the burst bucket" in out
    assert "ProvisionedThroughputExceededException: The level of configured" in out
