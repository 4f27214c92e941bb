"""`python -m dynamo.partitioning`: a table grows and splits, the routers follow, nothing is lost.

The demo runs as a student runs it, in a process of its own, and what it prints
is checked: splits through the log (§4.4), MemDS's map versions and the routers'
constant work (§6.6), and the history checker's verdict.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys

import pytest

from dynamo.partitioning.__main__ import run_fleet, verdict

SPLIT = re.compile(r"^\s*(\d+) ms  (p[01]*) splits at ([0-9a-f]{32}): (p[01]*) starts from "
                   r"(\d+) items \((\d+) B\), (p[01]*) from (\d+) \((\d+) B\)$", re.M)
MAP = re.compile(r"^\s*\d+ ms\s+map v(\d+): (.*)$", re.M)
REDIRECT = re.compile(r"^\s*\d+ ms\s+(r\d): (Put|Get) k\d+ routed by map v(\d+) to (p[01]*): "
                      r"WrongPartition; (retried by map v\d+|it asks MemDS for a newer map)$",
                      re.M)
VERDICT = ("The checker: every key's history is linearizable, and the final reads of",
           "no acknowledged write lost.")


def demo(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "dynamo.partitioning", *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def seed7() -> str:
    return demo()


def test_a_growing_table_splits_in_two_at_a_hash_position_each_child_from_the_parents_items(
        seed7: str) -> None:
    """§4.4: a partition past the split size splits; each child starts from the
    parent's items in its half (a split for size divides the bytes)."""
    splits = SPLIT.findall(seed7)
    assert len(splits) >= 2, seed7
    for _, parent, position, left, items, _, right, right_items, _ in splits:
        assert (left, right) == (parent + "0", parent + "1")
        assert int(items) > 0 and int(right_items) > 0
        assert 0 < int(position, 16) < 1 << 128
    assert [s[1] for s in splits][0] == "p"  # the table's first partition splits first


def test_each_map_version_tiles_the_table_with_the_partitions_left_by_the_splits(
        seed7: str) -> None:
    """§6.6: MemDS's map only moves forward; its last version holds the split children."""
    maps = MAP.findall(seed7)
    versions = [int(v) for v, _ in maps]
    assert versions == list(range(1, len(versions) + 1))
    first, last = maps[0][1], maps[-1][1].split()
    assert first == "p@?"
    splits = SPLIT.findall(seed7)
    parents = {s[1] for s in splits}
    children = {c for s in splits for c in (s[3], s[6])}
    assert {p.split("@")[0] for p in last} == children - parents
    assert all(not p.endswith("@?") for p in last), "every child elected a leader"


def test_a_stale_map_is_answered_wrong_partition_and_the_router_retries_at_a_child(
        seed7: str) -> None:
    """§6.6: a request routed by a map older than the split reaches the parent, which
    answers WrongPartition; the router takes a newer map and retries."""
    redirects = REDIRECT.findall(seed7)
    assert redirects, seed7
    split_parents = {s[1] for s in SPLIT.findall(seed7)}
    assert {partition for _, _, _, partition, _ in redirects} <= split_parents
    for router in ("r1", "r2"):
        counted = re.search(rf"^{router}: (\d+) requests, (\d+) answered WrongPartition", seed7,
                            re.M)
        assert counted is not None
        assert int(counted[2]) == sum(r[0] == router for r in redirects)


def test_routers_ask_memds_once_per_request_hit_or_miss(seed7: str) -> None:
    """§6.6, constant work: MemDS's load is the request rate, not the cache-miss rate."""
    found = re.search(r"MemDS answered (\d+) map requests for (\d+) requests", seed7)
    assert found is not None
    asked, requests = int(found[1]), int(found[2])
    assert requests > 100 and requests <= asked < requests + 20


def test_storage_nodes_host_a_replica_of_every_partition_and_its_split_parents(
        seed7: str) -> None:
    """§3: a storage node hosts replicas of many partitions."""
    hosted = re.findall(r"^(n\d) hosts (\d+) replicas: (\d+) of live partitions .*, "
                        r"(\d+) of split parents$", seed7, re.M)
    live = len(MAP.findall(seed7)[-1][1].split())
    assert [h[0] for h in hosted] == ["n1", "n2", "n3"]
    assert all(int(h[2]) == live and int(h[1]) == live + int(h[3]) for h in hosted)


def test_the_demo_ends_with_the_checkers_verdict(seed7: str) -> None:
    assert all(part in seed7 for part in VERDICT)
    assert re.search(r"^(\d+) of \1 operations acknowledged\.$", seed7, re.M)


def test_a_seed_tells_the_same_story_every_time_and_another_seed_another() -> None:
    assert demo("--seed", "3") == demo("--seed", "3")
    assert demo("--seed", "3") != demo("--seed", "4")


def test_a_crashed_storage_node_costs_availability_never_a_write() -> None:
    """§4.4 under a fault: the busiest leader crashes mid-run and restarts; the splits
    go on, and every key's history is still linearizable with no acknowledged write lost."""
    out = demo("--faults", "--seed", "7")
    crash = re.search(r"^\s*1500 ms  \*\* (n\d) crashes \(it leads (.+)\)$", out, re.M)
    assert crash is not None, out
    assert f"3000 ms  ** {crash[1]} restarts from its records" in out
    assert len(SPLIT.findall(out)) >= 2
    assert all(part in out for part in VERDICT)


def test_the_verdict_is_the_history_checkers() -> None:
    """"No acknowledged write lost" is `dynamo.checker`'s verdict: a final read that
    misses the last acknowledged write of a key is reported."""
    run = run_fleet(7, 300)
    assert verdict(run) == []
    last = max((r for r in run.records if r.kind == "put" and r.outcome == "ok"),
               key=lambda r: r.complete_ms)
    lost = dataclasses.replace(run, final={**run.final, last.key: "never-written"})
    assert any(last.key in problem for problem in verdict(lost))
