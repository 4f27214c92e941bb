"""Determinism as a tested property: same seed, same trace, byte for byte.

The whole point of the simulator (DESIGN.md, "sans-IO nodes"): a failing seed
is a bug report only if replaying it repeats the run exactly. The trace is
compared across two fresh interpreters with different hash seeds, so nothing
may depend on set order or object addresses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sim_toys import trace_of

HERE = Path(__file__).parent


def trace_in_fresh_process(seed: int, hash_seed: str) -> bytes:
    code = f"import sys; sys.path.insert(0, {str(HERE)!r}); import sim_toys; " \
           f"sys.stdout.write(sim_toys.trace_of({seed}))"
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    return subprocess.run([sys.executable, "-c", code], env=env, check=True,
                          capture_output=True).stdout


def test_same_seed_gives_byte_identical_trace_across_processes() -> None:
    first = trace_in_fresh_process(7, "1")
    second = trace_in_fresh_process(7, "2")
    assert len(first.splitlines()) > 500
    assert first == second
    assert first.decode() == trace_of(7)


def test_different_seeds_give_different_traces() -> None:
    traces = {trace_of(seed) for seed in range(5)}
    assert len(traces) == 5


def test_trace_prints_sets_in_sorted_order() -> None:
    text = trace_of(3)
    assert "tags={'t0', 't1', 't2', 't3', 't4'}" in text
