"""A replica process's disk: its log truncated behind its B-tree, and rebuilt from both (§5.2).

`run_node` (what `python -m dynamo.net node` and `dynamo serve --processes`
run) keeps a write-ahead log and an on-disk B-tree; each snapshot marker the
replica persists lets the log segments behind it go, and a restarted replica
rebuilds from its B-tree plus the log's tail, with every write it acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from dynamo.net.client import GroupClient
from dynamo.net.group import free_ports, paxos_codec, run_node
from dynamo.paxos import Get, NotLeader, Ok, PaxosConfig, Put, Unavailable
from dynamo.wal import WriteAheadLog

CONFIG = PaxosConfig(snapshot_every=50)
SEGMENT_BYTES = 16 * 1024
WRITES = 600


async def serving(data_dir: Path, port: int, work) -> None:  # type: ignore[no-untyped-def]
    """Run a one-replica group on `port` while `work(client)` runs, then stop it."""
    addresses = {"a": ("127.0.0.1", port)}
    node = asyncio.ensure_future(run_node("a", addresses, data_dir, "none", CONFIG,
                                          SEGMENT_BYTES))
    client = GroupClient("test", addresses, paxos_codec())
    try:
        await work(client)
    finally:
        await client.close()
        node.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await node


async def call(client: GroupClient, operation: object) -> object:
    answer = await client.call(operation, redirect_types=(NotLeader, Unavailable), timeout_s=10)
    assert isinstance(answer, Ok), answer
    return answer.value


def segments(wal_dir: Path) -> int:
    log, _report = WriteAheadLog.open(wal_dir)
    try:
        return len(log.segments())
    finally:
        log.close()


def test_the_log_is_truncated_behind_the_btree_and_a_restart_keeps_every_write(
        tmp_path: Path) -> None:
    """ARIES, as DESIGN "Storage and durability" says: the B-tree is a cache of the log;
    600 writes of ~300 bytes would fill ~11 segments of 16 KB, but the segments behind
    each snapshot marker go; a restart from the B-tree and the tail still has them all."""
    [port] = free_ports(1)

    async def write(client: GroupClient) -> None:
        for i in range(WRITES):
            await call(client, Put(f"k{i}", f"v{i}"))

    async def read(client: GroupClient) -> None:
        for i in range(0, WRITES, 7):
            assert await call(client, Get(f"k{i}", consistent=True)) == f"v{i}"
        assert await call(client, Get(f"k{WRITES - 1}", consistent=True)) == f"v{WRITES - 1}"

    asyncio.run(serving(tmp_path, port, write))
    assert segments(tmp_path / "wal") <= 3
    assert (tmp_path / "btree.sqlite3").exists()
    asyncio.run(serving(tmp_path, port, read))
