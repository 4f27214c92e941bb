"""The embedded fleet on disk: its logs stay bounded and it recovers (§3, §5.1).

Real SQLite files and real write-ahead logs: three storage nodes on one asyncio loop,
each with one log shared by the replicas it hosts. A node's log is truncated once
every replica it hosts has marked its log as held by its B-tree (a snapshot marker,
made every `snapshot_every` slots and on a period), so writing on does not grow the
log without bound; and a fleet reopened from the same directory serves every
acknowledged write, rebuilt from the B-trees plus the log tails.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from dynamo.cluster.fleet import METADATA, ROUTER, Fleet, FleetSettings
from dynamo.partitioning.keyspace import KEY_SPACE
from dynamo.partitioning.metadata import RegisterTable
from dynamo.partitioning.storage_node import HostPartition, NodeConfig
from dynamo.paxos import PaxosConfig
from dynamo.paxos.operations import KV_TABLE, Get, Ok, Put

IDS = ("n1", "n2", "n3")
SETTINGS = FleetSettings(node=NodeConfig(paxos=PaxosConfig(snapshot_every=50)),
                         segment_bytes=16 * 1024, split_size=None, split_rate=None)


def log_bytes(root: Path, node: str) -> int:
    return sum(f.stat().st_size for f in (root / node / "wal").iterdir())


async def open_fleet(root: Path) -> Fleet:
    fleet = Fleet(root, SETTINGS, lambda event: None)
    fleet.start()
    for node in IDS:  # a no-op where the partition is hosted already
        await fleet.request(node, HostPartition("p", KV_TABLE.tbl, 0, KEY_SPACE, IDS))
    await fleet.request(METADATA, RegisterTable(KV_TABLE.tbl, "p", IDS))
    return fleet


async def write_all(root: Path, writes: int) -> None:
    fleet = await open_fleet(root)
    try:
        for i in range(writes):
            assert await fleet.request(ROUTER, Put(f"k{i}", "x" * 100)) == Ok()
    finally:
        fleet.close()


async def read_all(root: Path, writes: int) -> list[object]:
    fleet = await open_fleet(root)
    try:
        return [await fleet.request(ROUTER, Get(f"k{i}")) for i in range(writes)]
    finally:
        fleet.close()


def test_each_nodes_log_is_truncated_behind_its_btrees(tmp_path: Path) -> None:
    asyncio.run(write_all(tmp_path, 100))
    after_100 = {n: log_bytes(tmp_path, n) for n in IDS}
    asyncio.run(write_all(tmp_path / "more", 600))
    after_600 = {n: log_bytes(tmp_path / "more", n) for n in IDS}
    for node in IDS:
        # six times the writes, not six times the log (about 100 KB kept whole): sealed
        # segments behind every replica's snapshot marker are gone (a segment is 16 KB)
        assert after_600[node] < after_100[node] + 32 * 1024, (node, after_100, after_600)
        assert len(list((tmp_path / "more" / node / "wal").iterdir())) <= 4


def test_a_reopened_fleet_serves_every_acknowledged_write(tmp_path: Path) -> None:
    asyncio.run(write_all(tmp_path, 300))
    answers = asyncio.run(read_all(tmp_path, 300))
    assert answers == [Ok("x" * 100)] * 300
