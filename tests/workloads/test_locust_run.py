"""Real headless Locust runs of the workloads, against real endpoints.

The uniform workload (YCSB A, paper §7) runs against `dynamo serve`: Locust
must count requests and no failures, and the table must hold the loaded
900-byte profiles with some of them updated. The hot-key workload runs as
the lab's experiment runs it (§4), and the burst workload's LoadTestShape
must switch from quiet to burst (§4.1.1). A last run, against an endpoint
that throttles every data-plane request, checks the point of the custom
`DynamoUser` (§4): a throttle is a Locust failure, counted once, never
retried away by botocore.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from locusttools import REPO, read_csv, run_locust, stats_row

from dynamo.storage.attributes import item_size

KEYS = 200


def test_uniform_workload_serves_every_request(server_url: str, client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """YCSB A for 5 s with 4 users: requests counted, no failures, items stored and updated."""
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    run = run_locust("uniform.py", server_url, tmp_path / "uniform",
                     "-u", "4", "-r", "4", "-t", "5s", "--keys", str(KEYS))
    assert run.returncode == 0, run.stderr[-3000:]

    stats = read_csv(tmp_path / "uniform_stats.csv")
    total = stats_row(stats, "Aggregated")
    assert int(total["Request Count"]) > 0
    assert int(total["Failure Count"]) == 0
    for operation in ("GetItem", "UpdateItem"):  # workload A: reads and updates
        row = stats_row(stats, operation)
        assert row["Type"] == "DynamoDB"
        assert int(row["Request Count"]) > 0
    # Locust's own failure list is empty too.
    assert read_csv(tmp_path / "uniform_failures.csv") == []

    items = _scan_all(client, "profiles")
    assert len(items) == KEYS  # the load phase wrote every profile
    assert {item_size(item) for item in items} == {900}  # §7's item size, kept by updates
    touched = [item for item in items if item["last_seen"]["S"] >= started]
    assert touched, "no UpdateItem reached the table"


def test_hotkey_experiment_sends_most_requests_to_the_hot_keys(server_url: str, client,  # type: ignore[no-untyped-def]
                                                              tmp_path: Path) -> None:
    """§4's skew, as `lab.hotkey_locust` runs it: 90% of requests on 2 of 50 partition keys.

    Today nothing throttles (admission control is a later layer) and nothing is
    faked: every request must be served, hot and cold alike.
    """
    run = subprocess.run(
        [sys.executable, "-m", "lab.hotkey_locust", "--endpoint", server_url, "--users", "2",
         "--duration", "5", "--customers", "50", "--hot-keys", "2", "--hot-share", "0.9",
         "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=REPO, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]

    summary = json.loads((tmp_path / "hotkey_locust.json").read_text())
    assert summary["requests"]["hot"] > 0 and summary["requests"]["cold"] > 0
    assert 0.75 < summary["hot_share_measured"] < 0.99
    assert summary["failures"] == {"hot": 0, "cold": 0}
    operations = {row["Name"] for row in read_csv(tmp_path / "hotkey_locust_stats.csv")}
    assert operations == {"PutItem", "Query", "Aggregated"}
    history = read_csv(tmp_path / "hotkey_locust_stats_history.csv")
    assert {row["Type"] for row in history} >= {"hot", "cold"}  # --csv-full-history
    assert (tmp_path / "hotkey_locust.png").read_bytes().startswith(b"\x89PNG")

    orders = _scan_all(client, "orders")
    hot = [item for item in orders if item["customer"]["S"] in ("customer#0000", "customer#0001")]
    assert orders and len(hot) > len(orders) / 2


def test_burst_shape_alternates_quiet_and_burst_users(server_url: str, tmp_path: Path) -> None:
    """§4.1.1's traffic: the LoadTestShape goes from 1 user to a burst of 4, then stops."""
    run = run_locust("burst.py", server_url, tmp_path / "burst",
                     "--keys", "50", "--quiet-users", "1", "--burst-users", "4",
                     "--burst-period", "2", "--burst-seconds", "1", "--cycles", "1",
                     "--user-rate", "5")
    assert run.returncode == 0, run.stderr[-3000:]
    # Locust logs each change of the shape's tick(): quiet first, then the burst.
    quiet = run.stderr.index("Shape test updating to 1 users")
    burst = run.stderr.index("Shape test updating to 4 users")
    assert quiet < burst
    assert run.stderr.count("Shape test updating to") == 2
    assert "Shape test completed" in run.stderr
    total = stats_row(read_csv(tmp_path / "burst_stats.csv"), "Aggregated")
    assert int(total["Request Count"]) > 0 and int(total["Failure Count"]) == 0


def _scan_all(client, table: str) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    items, start = [], None
    while True:
        page = client.scan(TableName=table, **({"ExclusiveStartKey": start} if start else {}))
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


class ThrottlingEndpoint(ThreadingHTTPServer):
    """Answers DynamoDB's control-plane calls, throttles every data-plane call.

    Admission control (a later layer) is what will throttle `dynamo serve`;
    until then this stands in for a table at its limit, to check the client side.
    """

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ThrottlingHandler)
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ThrottlingHandler(BaseHTTPRequestHandler):
    server: ThrottlingEndpoint

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers["Content-Length"]))
        operation = self.headers["X-Amz-Target"].split(".")[-1]
        with self.server.lock:
            self.server.calls[operation] += 1
        status, body = 200, _CONTROL_PLANE.get(operation)
        if body is None:
            status, body = 400, {
                "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                "message": "The level of configured provisioned throughput for the table was "
                           "exceeded. Consider increasing your provisioning level with the "
                           "UpdateTable API."}
        payload = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # Locust stopped its user mid-request at the end of the run

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # keep the test output quiet


_TABLE = {"TableName": "profiles", "TableStatus": "ACTIVE"}
_CONTROL_PLANE = {"CreateTable": {"TableDescription": _TABLE}, "DescribeTable": {"Table": _TABLE},
                  "BatchWriteItem": {"UnprocessedItems": {}}}


@pytest.fixture
def throttling_endpoint() -> Iterator[ThrottlingEndpoint]:
    endpoint = ThrottlingEndpoint()
    thread = threading.Thread(target=endpoint.serve_forever, daemon=True)
    thread.start()
    yield endpoint
    endpoint.shutdown()
    endpoint.server_close()


def test_throttles_are_failures_and_not_retried(throttling_endpoint: ThrottlingEndpoint,
                                                tmp_path: Path) -> None:
    """§4: a throttled request is one Locust failure named for its operation, sent once."""
    run = run_locust("uniform.py", throttling_endpoint.url, tmp_path / "throttled",
                     "-u", "1", "-r", "1", "-t", "5s", "--keys", "25",
                     "--json-file", str(tmp_path / "throttled"),  # Locust adds .json
                     "--exit-code-on-error", "0")
    assert run.returncode == 0, run.stderr[-3000:]

    entries = {entry["name"]: entry for entry in json.loads((tmp_path / "throttled.json").read_text())}
    for operation in ("GetItem", "UpdateItem"):
        assert entries[operation]["num_requests"] > 0
        assert entries[operation]["num_failures"] == entries[operation]["num_requests"]
    failures = read_csv(tmp_path / "throttled_failures.csv")
    assert failures and all("ProvisionedThroughputExceededException" in row["Error"]
                            for row in failures)

    # Without retries the endpoint sees each request once (botocore's standard mode
    # would retry a throttle 3 times); a request in flight at shutdown is never counted.
    counted = entries["GetItem"]["num_requests"] + entries["UpdateItem"]["num_requests"]
    sent = throttling_endpoint.calls["GetItem"] + throttling_endpoint.calls["UpdateItem"]
    assert counted <= sent <= counted + 1
