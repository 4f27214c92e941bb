"""`dynamo bench` drives a real server and reports throughput, latency, CPU and memory."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import boto3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bench_reports_figures_including_cpu_per_operation() -> None:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "dynamo.cli.main", "serve", "--in-memory",
                               "--port", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.1)
        done = subprocess.run(
            [sys.executable, "-m", "dynamo.cli.main", "bench", "--endpoint",
             f"http://127.0.0.1:{port}", "--mix", "mixed", "--concurrency", "2", "--duration",
             "1.5", "--warmup", "0.5", "--keys", "50", "--server-pid", str(server.pid), "--json"],
            capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        client = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port}",
                              region_name="us-east-1", aws_access_key_id="x",
                              aws_secret_access_key="x")
        loaded = client.scan(TableName="bench", Select="COUNT")["Count"]
    finally:
        server.kill()
        server.wait()
    assert result["operations"] > 0 and result["errors"] == 0
    assert result["ops_per_s"] == result["operations"] / 1.5
    assert 0 < result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
    assert result["client_cpu_us_per_op"] > 0
    assert result["server_cpu_us_per_op"] is not None and result["server_cpu_us_per_op"] > 0
    assert result["server_peak_rss_mb"] > 10
    assert loaded == 50  # every key was loaded before the measured window
