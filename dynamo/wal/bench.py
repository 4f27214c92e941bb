"""Benchmark: group commit against fsync-per-record (DynamoDB ATC'22 §5.1).

For each concurrency (clients appending in a loop) and each mode it measures, on a
fresh log in a real directory, appends per second and the p50/p99 latency of one
append (submit to acknowledgement, i.e. including the fsync):

- `group`: GroupCommit batches whatever is queued into one write and one fsync;
- `per-record`: GroupCommit with max_batch=1, one fsync per record;
- `none` (optional): group commit with fsync policy "none" — fast and not durable.

Run it with `dynamo wal-bench` (dynamo/cli/walbench.py); it prints a table and
can save the figures as JSON and a plot.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from dynamo.wal.group_commit import GroupCommit
from dynamo.wal.log import WriteAheadLog

MODES = ("group", "per-record", "none")
LABELS = {"group": "group commit", "per-record": "fsync per record", "none": "group, no fsync (not durable)"}


@dataclass(frozen=True)
class Measurement:
    mode: str
    concurrency: int
    appends: int
    seconds: float
    appends_per_second: float
    p50_ms: float
    p99_ms: float
    records_per_fsync: float


def measure(directory: Path, mode: str, concurrency: int, seconds: float, payload_bytes: int) -> Measurement:
    """Run `concurrency` appending clients for about `seconds` on a fresh log."""
    log, _ = WriteAheadLog.open(directory, fsync="none" if mode == "none" else "always")
    commit = GroupCommit(log, max_batch=1 if mode == "per-record" else None)
    payload = b"x" * payload_bytes
    latencies: list[float] = []

    async def client(deadline: float) -> None:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            await commit.submit(payload)
            latencies.append(time.perf_counter() - start)

    async def run() -> float:
        start = time.perf_counter()
        await asyncio.gather(*(client(start + seconds) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
        await commit.close()
        return elapsed

    elapsed = asyncio.run(run())
    log.close()
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Measurement(
        mode, concurrency, len(latencies), round(elapsed, 3),
        round(len(latencies) / elapsed, 1), round(cuts[49] * 1000, 3), round(cuts[98] * 1000, 3),
        round(commit.records / max(commit.batches, 1), 1),
    )


def run_benchmark(
    concurrencies: list[int], modes: list[str], seconds: float, payload_bytes: int,
    directory: Path | None = None,
) -> list[Measurement]:
    """Every (mode, concurrency) pair, each on its own fresh log under `directory`."""
    with tempfile.TemporaryDirectory(prefix="wal-bench-", dir=directory) as tmp:
        results = []
        for concurrency in concurrencies:
            for mode in modes:
                path = Path(tmp) / f"{mode}-{concurrency}"
                results.append(measure(path, mode, concurrency, seconds, payload_bytes))
        return results


def format_table(results: list[Measurement]) -> str:
    lines = [f"{'mode':<11} {'clients':>7} {'appends/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'rec/fsync':>9}"]
    for r in results:
        lines.append(f"{r.mode:<11} {r.concurrency:>7} {r.appends_per_second:>10.0f} "
                     f"{r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {r.records_per_fsync:>9.1f}")
    return "\n".join(lines)


def speedups(results: list[Measurement]) -> dict[int, float]:
    """Group commit's throughput over fsync-per-record, per concurrency."""
    by = {(r.mode, r.concurrency): r.appends_per_second for r in results}
    return {
        c: round(by[("group", c)] / by[("per-record", c)], 1)
        for (mode, c) in by
        if mode == "group" and ("per-record", c) in by
    }


def as_json(results: list[Measurement]) -> list[dict[str, object]]:
    return [asdict(r) for r in results]


def plot(results: list[Measurement], path: Path) -> None:
    """Throughput and p99 latency against concurrency, one line per mode (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for mode in MODES:
        rows = sorted((r for r in results if r.mode == mode), key=lambda r: r.concurrency)
        if not rows:
            continue
        xs = [r.concurrency for r in rows]
        left.plot(xs, [r.appends_per_second for r in rows], marker="o", label=LABELS[mode])
        right.plot(xs, [r.p99_ms for r in rows], marker="o", label=LABELS[mode])
    for axis, label in ((left, "appends per second"), (right, "p99 append latency (ms)")):
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_xlabel("concurrent clients")
        axis.set_ylabel(label)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    figure.suptitle("Write-ahead log: group commit vs one fsync per record")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
