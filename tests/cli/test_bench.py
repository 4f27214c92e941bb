"""`dynamo bench` drives a real server and reports throughput, latency, CPU and memory.

Operations per second are what completed inside the measured window over that
window's length as the clock measured it, never over the duration asked for.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import boto3

from dynamo.cli.bench import Window, _summarise
from dynamo.cli.launch import running_server


def bench(*arguments: str) -> tuple[dict, float]:
    """Run `dynamo bench ... --json`; its result and the wall time the run took."""
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "dynamo.cli.main", "bench", *arguments, "--json"],
                          capture_output=True, text=True, timeout=120)
    wall = time.monotonic() - began
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), wall


def test_bench_reports_figures_including_cpu_per_operation() -> None:
    with running_server("--in-memory") as server:
        result, wall = bench("--endpoint", server.url, "--mix", "mixed", "--concurrency", "2",
                             "--duration", "1.5", "--warmup", "0.5", "--keys", "50",
                             "--server-pid", str(server.pid))
        client = boto3.client("dynamodb", endpoint_url=server.url, region_name="us-east-1",
                              aws_access_key_id="x", aws_secret_access_key="x")
        loaded = client.scan(TableName="bench", Select="COUNT")["Count"]
    assert result["operations"] > 0 and result["errors"] == 0
    # The window is measured by the clock (the event loop's timers may wake a millisecond
    # early or, on a loaded machine, late), never copied from the request, and ops/s is
    # the operations over that measured length.
    assert 1.4 < result["duration_s"] < wall and result["duration_s"] != 1.5
    assert result["ops_per_s"] == result["operations"] / result["duration_s"]
    assert 0 < result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
    assert result["client_cpu_us_per_op"] > 0
    assert result["server_cpu_us_per_op"] is not None and result["server_cpu_us_per_op"] > 0
    assert result["server_peak_rss_mb"] > 10
    assert loaded == 50  # every key was loaded before the measured window


def test_only_operations_completed_inside_the_measured_window_count() -> None:
    window = Window(starts_at=0.0, duration=1.5, server_pid=None)
    window.began, window.ended = 10.0, 12.0  # the clock saw 2 s, though 1.5 were asked for
    window.done = [9.9, 10.0, 10.5, 11.0, 12.0, 12.1]  # the first and the last fall outside
    window.latencies = [0.001, 0.002, 0.003, 0.004, 0.005, 0.006]
    window.failed = [9.0, 11.5]
    args = argparse.Namespace(mix="get", concurrency=1, duration=1.5, server_pid=None)
    result = _summarise(args, window)
    assert result.operations == 4 and result.errors == 1
    assert result.duration_s == 2.0
    assert result.ops_per_s == 2.0  # 4 operations over the measured 2 s, not over 1.5 s
    assert result.max_ms == 5.0


def test_instant_target_shows_the_clients_own_ceiling() -> None:
    result, _ = bench("--target", "instant", "--mix", "put", "--concurrency", "4",
                      "--duration", "1", "--warmup", "0.2", "--keys", "10")
    assert result["operations"] > 0 and result["errors"] == 0
    assert result["server_cpu_us_per_op"] is not None  # the target's CPU, through its pid


def test_bench_requests_carry_valid_signatures(tmp_path: Path) -> None:
    """Requests the bench builds by hand pass a server that checks SigV4 (`--auth strict`)."""
    credentials = tmp_path / "credentials"
    credentials.write_text("[default]\naws_access_key_id = bench\naws_secret_access_key = bench\n")
    with running_server("--in-memory", "--auth", "strict", "--credentials",
                        str(credentials)) as server:
        result, _ = bench("--endpoint", server.url, "--mix", "mixed", "--concurrency", "2",
                          "--duration", "0.5", "--warmup", "0.1", "--keys", "20")
    assert result["operations"] > 0 and result["errors"] == 0


def test_consistent_gets_ask_for_a_strongly_consistent_read() -> None:
    """--consistent: GetItem with ConsistentRead, which the leader serves under its lease (§3)."""
    import orjson

    from dynamo.cli.bench import Workload

    strong = orjson.loads(Workload("bench", 10, consistent=True).get(7))
    eventual = orjson.loads(Workload("bench", 10).get(7))
    assert strong == {"TableName": "bench", "Key": {"pk": {"S": "user00000007"}},
                      "ConsistentRead": True}
    assert "ConsistentRead" not in eventual and eventual["Key"] == strong["Key"]
