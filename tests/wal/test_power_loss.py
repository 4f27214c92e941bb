"""Power-loss tests (§5.1, §5.4 "power-off tests"): the log, the B-tree and the catalog of a
whole SingleNode survive a power cut at any of its disk operations.

`kill -9` keeps the page cache, so it never tests what fsync promised. Here the node runs
on `dynamo.wal.powerloss.SimulatedDisk`: the log through its file layer, SQLite (B-tree
and catalog) through a VFS (powerloss_vfs.py). A seeded cut point stops the disk at one
of the workload's operations; a seeded loss model decides what survives of the writes
not yet fsynced (all lost, the last one torn, or any subset, torn or not). The crash
image is then opened by a fresh SingleNode on the real disk, and:

1. recovery never refuses to start;
2. every table whose CreateTable was acknowledged is there, with its table id; every
   table whose DeleteTable was acknowledged is gone;
3. every acknowledged put is there, or a later submitted version of its item;
4. nothing that was never submitted is (no phantom), and a two-item write is all or
   nothing.

A third of the seeds cut the power again while that recovery runs, and check again.
A second test runs the log alone (a LoggedReplica) with 1 KB segments, so that cuts land
in segment rotation and in checkpoints (archive, then remove) too: POWERLOSS_SEEDS / 4 seeds.

`make test` runs POWERLOSS_SEEDS (default 200) cut points; run many more with
`POWERLOSS_SEEDS=5000 .venv/bin/python -m pytest tests/wal/test_power_loss.py -q`.
A failing seed prints how to replay it alone (POWERLOSS_SEED=N).
"""

from __future__ import annotations

import asyncio
import os
import random
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from powerloss_vfs import power_loss_disk

from dynamo.cluster.node import SingleNode
from dynamo.paxos.operations import PutItem
from dynamo.storage.btree import Mutation
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.keys import KeyAttribute, KeySchema, request_key
from dynamo.wal import DirectoryStore, LoggedReplica, ReplicaStateError, crashtest
from dynamo.wal.powerloss import Loss, SimulatedDisk

REGION = "us-east-1"
SEEDS = int(os.environ.get("POWERLOSS_SEEDS", "200"))
ONLY_SEED = os.environ.get("POWERLOSS_SEED")
KEYS = 5
FIRST_SEED = 20220711


@dataclass
class History:
    """What the workload was told, and what it asked for."""

    tables: dict[str, str | None] = field(default_factory=dict)  # name -> acknowledged table id
    unsure: set[str] = field(default_factory=set)  # tables with a control operation unanswered
    acked: dict[tuple[str, str], int] = field(default_factory=dict)  # (table id, key) -> version
    submitted: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    pairs: list[tuple[int, tuple[str, str], tuple[str, str]]] = field(default_factory=list)


def definition(name: str) -> TableDefinition:
    return TableDefinition(REGION, name, KeySchema(KeyAttribute("pk", "S")),
                           [{"AttributeName": "pk", "AttributeType": "S"}], created_at=0.0)


class Workload:
    """A fixed script of table operations and waves of concurrent puts (the same every run,
    so a dry run counts the disk operations a cut may land on)."""

    def __init__(self, node: SingleNode, history: History) -> None:
        self.node, self.history, self.version = node, history, 0
        self.rng = random.Random(7)  # item sizes: fixed, so every run makes the same writes

    async def run(self) -> None:
        await self.create("Music")
        await self.waves("Music", 3)
        await self.create("Books")
        await self.waves("Books", 2)
        await self.pair("Music", "Books")
        await self.waves("Music", 2)
        await self.delete("Books")
        await self.create("Books")
        await self.waves("Books", 2)
        await self.pair("Books", "Music")

    async def create(self, name: str) -> None:
        self.history.unsure.add(name)
        created = await self.node.create_table(definition(name))
        await self.node.describe_table(REGION, name)  # CREATING -> ACTIVE, a catalog write
        self.history.tables[name] = created.table_id
        self.history.unsure.discard(name)

    async def delete(self, name: str) -> None:
        self.history.unsure.add(name)
        await self.node.delete_table(REGION, name)
        self.history.tables[name] = None
        self.history.unsure.discard(name)

    async def waves(self, name: str, count: int) -> None:
        for _ in range(count):
            await asyncio.gather(*(self.put(name, f"k{n}") for n in range(4)))

    async def put(self, name: str, key: str) -> None:
        table = self.node.table(REGION, name)
        version = self.submit(table.definition.table_id, key)
        await self.node.write(PutItem(table.definition, self.item(key, version)))
        self.ack(table.definition.table_id, key, version)

    async def pair(self, first: str, second: str) -> None:
        """One log record with two items of the same version: all or nothing."""
        tables = [self.node.table(REGION, first), self.node.table(REGION, second)]
        key = f"k{self.rng.randrange(KEYS)}"
        version = self.version + 1
        ids = [t.definition.table_id for t in tables]
        for table_id in ids:
            self.submit(table_id, key, version)
        self.history.pairs.append((version, (ids[0], key), (ids[1], key)))
        await self.node.write_batch([PutItem(t.definition, self.item(key, version)) for t in tables])
        for table_id in ids:
            self.ack(table_id, key, version)

    def submit(self, table_id: str, key: str, version: int | None = None) -> int:
        self.version = version or self.version + 1
        self.history.submitted.setdefault((table_id, key), set()).add(self.version)
        return self.version

    def ack(self, table_id: str, key: str, version: int) -> None:
        self.history.acked[(table_id, key)] = max(version, self.history.acked.get((table_id, key), 0))

    def item(self, key: str, version: int) -> dict:
        return {"pk": {"S": key}, "v": {"N": str(version)}, "pad": {"S": "x" * self.rng.randrange(1, 1500)}}


def run_until_cut(root: Path, history: History) -> None:
    """Open a node and run the workload until it ends or the power goes (then every request
    fails, and is not acknowledged); close the node."""
    try:
        node = SingleNode(str(root / "btree.sqlite3"))
    except Exception:  # the power went while the node was being created
        return
    try:
        asyncio.run(Workload(node, history).run())
    except Exception:  # the disk is off: this request's outcome is unknown
        pass
    finally:
        node.close()


def check(path: Path, history: History, context: str) -> None:
    """Open the crash image on the real disk and check rules 1-4 of the module docstring."""
    node = SingleNode(str(path / "btree.sqlite3"))  # rule 1: must not raise
    try:
        versions: dict[tuple[str, str], int] = {}
        for name, table_id in history.tables.items():
            found = node.catalog.get(REGION, name)
            if name in history.unsure:
                continue
            if table_id is None:
                assert found is None, f"{context}: DeleteTable {name} was acknowledged, yet it is back"
                continue
            assert found is not None, f"{context}: CreateTable {name} was acknowledged, and it is lost"
            assert found.table_id == table_id, f"{context}: {name} is another incarnation"
        for (table_id, key), submitted in history.submitted.items():
            definition_ = next((d for d in (node.catalog.get(REGION, n) for n in history.tables)
                                if d is not None and d.table_id == table_id), None)
            if definition_ is None:
                continue
            item = node.btree.get(definition_.tbl, request_key(definition_.key_schema, {"pk": {"S": key}}))
            version = 0 if item is None else int(item["v"]["N"])
            versions[(table_id, key)] = version
            assert version == 0 or version in submitted, f"{context}: phantom version {version}"
        for (table_id, key), version in versions.items():
            acked = history.acked.get((table_id, key), 0)
            assert version >= acked, \
                f"{context}: {key} of table {table_id} acknowledged at version {acked}, found {version}"
        for version, *items in history.pairs:
            found = [versions.get(item) for item in items]
            if None not in found and version in found:  # then the other one, or a later write
                assert min(found) >= version, f"{context}: a two-item write is half there: {found}"
    finally:
        node.close()


def count_operations(root: Path) -> int:
    """Disk operations of the whole workload, without a cut."""
    root.mkdir()
    disk = SimulatedDisk(root)
    with power_loss_disk(disk):
        run_until_cut(root, History())
    return disk.operations


def one_cut(tmp: Path, seed: int, total: int) -> str:
    """One seeded power cut (and, for a third of the seeds, a second one during recovery)."""
    rng = random.Random(seed)
    loss = rng.choice(list(Loss))
    cut_at = rng.randint(1, total)
    context = f"seed {seed} (cut at operation {cut_at} of {total}, {loss.value}); replay: " \
              f"POWERLOSS_SEED={seed} pytest tests/wal/test_power_loss.py"
    root, image = tmp / f"s{seed}", tmp / f"s{seed}-image"
    root.mkdir()
    history = History()
    disk = SimulatedDisk(root, cut_at)
    with power_loss_disk(disk):
        run_until_cut(root, history)  # closing changes nothing: the power is off by then
        disk.crash_image(image, loss, rng)
    if seed % 3 == 0:  # the power goes again while recovery runs
        again = SimulatedDisk(image, rng.randint(1, 40))
        second = tmp / f"s{seed}-image2"
        with power_loss_disk(again):
            try:
                SingleNode(str(image / "btree.sqlite3")).close()
            except Exception:  # noqa: S110  the power cut this recovery short; the next one must finish it
                pass
            again.crash_image(second, rng.choice(list(Loss)), rng)
        image, context = second, context + " + a cut during recovery"
    check(image, history, context)
    return context


def test_a_power_loss_dry_run_counts_the_same_operations_twice(tmp_path: Path) -> None:
    """The cut points are replayable: the workload makes the same disk operations every run."""
    first, second = count_operations(tmp_path / "a"), count_operations(tmp_path / "b")
    assert first == second and first > 100, (first, second)


def test_the_simulated_disk_really_loses_unsynced_writes(tmp_path: Path) -> None:
    """The harness bites: with the catalog's FULL commits turned into NORMAL ones (no fsync),
    a cut right after CreateTable answered loses the table."""
    root = tmp_path / "n"
    root.mkdir()
    history = History()
    disk = SimulatedDisk(root)
    with power_loss_disk(disk):
        node = SingleNode(str(root / "btree.sqlite3"))
        node._durably = nullcontext  # type: ignore[method-assign]  # the bug planted: no FULL commit
        asyncio.run(Workload(node, history).create("Music"))
        disk.crash_image(tmp_path / "image", Loss.LOSE, random.Random(1))
        node.close()
    with pytest.raises(AssertionError, match="CreateTable Music was acknowledged"):
        check(tmp_path / "image", history, "planted")


def test_every_acknowledged_write_and_table_survive_seeded_power_cuts(tmp_path: Path) -> None:
    """§5.1, §5.4: at POWERLOSS_SEEDS seeded cut points, recovery starts and loses nothing
    that was acknowledged (see the module docstring for the rules)."""
    total = count_operations(tmp_path / "dry")
    seeds = [int(ONLY_SEED)] if ONLY_SEED else range(FIRST_SEED, FIRST_SEED + SEEDS)
    ran = [one_cut(tmp_path, seed, total) for seed in seeds]
    print(f"power-loss: {len(ran)} seeded cut points over {total} disk operations, all recovered")
    assert len(ran) == (1 if ONLY_SEED else SEEDS)


def test_a_delete_table_cut_short_is_finished_at_restart(tmp_path: Path) -> None:
    """A DeleteTable that was not answered either happened or did not. Cut the power
    after the drop of its items is in the log and before the catalog's row is deleted:
    the restarted node finishes the delete, and never shows the table there but empty
    (the bug this test found; a kill -9 at that moment did the same)."""
    root = tmp_path / "n"
    root.mkdir()
    history, disk = History(), SimulatedDisk(root)
    with power_loss_disk(disk):
        node = SingleNode(str(root / "btree.sqlite3"))
        workload = Workload(node, history)

        assert node.replica is not None
        drop_table = node.replica.drop_table

        async def drop_then_cut(tbl: str) -> int:
            lsn = await drop_table(tbl)  # the drop is in the log, fsynced, and applied
            disk.cut_at = disk.operations + 1  # the power goes at the next change
            return lsn

        node.replica.drop_table = drop_then_cut  # type: ignore[method-assign]

        async def run() -> None:
            await workload.create("Books")
            await workload.waves("Books", 1)
            await workload.delete("Books")

        with pytest.raises(Exception):  # noqa: B017, PT011  the power went mid-DeleteTable
            asyncio.run(run())
        log_tail = (root / "wal" / "00000000000000000001.seg").read_bytes()
        disk.crash_image(tmp_path / "image", Loss.LOSE, random.Random(1))
        node.close()
    assert b'"drop":"us-east-1/Books"' in log_tail, "the cut must come after the logged drop"
    check(tmp_path / "image", history, "DeleteTable cut short")
    restarted = SingleNode(str(tmp_path / "image" / "btree.sqlite3"))
    try:
        assert restarted.catalog.get(REGION, "Books") is None, "the delete was finished"
    finally:
        restarted.close()


def test_fsync_none_loses_acknowledged_writes_at_a_power_cut(tmp_path: Path) -> None:
    """`--fsync none` is the documented exception: the log is never fsynced, so a power cut
    loses puts it had acknowledged; and once a table operation has fsynced the B-tree past
    the log, recovery refuses to start (the B-tree holds writes the log lost)."""
    for name, then_create in (("puts", False), ("create", True)):
        root, image = tmp_path / name, tmp_path / f"{name}-image"
        root.mkdir()
        history, disk = History(), SimulatedDisk(root)
        with power_loss_disk(disk):
            node = SingleNode(str(root / "btree.sqlite3"), fsync="none")
            workload = Workload(node, history)

            async def run(workload: Workload = workload, then_create: bool = then_create) -> None:
                await workload.create("Music")
                await workload.waves("Music", 2)
                if then_create:
                    await workload.create("Books")

            asyncio.run(run())
            disk.crash_image(image, Loss.LOSE, random.Random(1))
            node.close()
        if then_create:
            with pytest.raises(ReplicaStateError, match="acknowledged writes are missing"):
                SingleNode(str(image / "btree.sqlite3"))
        else:
            with pytest.raises(AssertionError, match="acknowledged at version"):
                check(image, history, "fsync none")


# --- the log alone: small segments, so cuts land in rotation and checkpoints too ----------

REPLICA_SEEDS = max(1, SEEDS // 4)


def replica_workload(root: Path, archive: Path, expect: crashtest.Expectations) -> None:
    """Waves of concurrent two-item writes to a LoggedReplica whose 1 KB segments rotate
    often, with a checkpoint (archive, then remove segments) after every wave. The archive
    is an object store, outside the disk that loses power."""
    try:
        replica = LoggedReplica.open(root, segment_bytes=1024, archive=DirectoryStore(archive))
    except Exception:  # the power went while the replica was being created
        return

    async def write(writer: int, version: int) -> None:
        key, item = crashtest.item_key(writer, 0), {"v": {"N": str(version)}, "pad": {"S": "x" * 200}}
        expect.learn(f"S {writer} 0 {version}")
        await replica.write([Mutation("items", key, item), Mutation("mirror", key, item)])
        expect.learn(f"A {writer} 0 {version}")

    async def run() -> None:
        for wave in range(1, 7):
            await asyncio.gather(*(write(writer, wave) for writer in range(3)))
            await replica.checkpoint()

    try:
        asyncio.run(run())
    except Exception:  # noqa: S110  the power went: the outcome of what was in flight is unknown
        pass
    finally:
        replica.close_files()


def test_the_log_alone_survives_cuts_in_rotation_and_checkpoints(tmp_path: Path) -> None:
    """§5.1, §5.2: a LoggedReplica whose segments rotate and are archived and removed loses
    no acknowledged write and half-applies none, whatever change the power cut stops."""
    dry = tmp_path / "dry"
    dry.mkdir()
    disk = SimulatedDisk(dry)
    with power_loss_disk(disk):
        replica_workload(dry, tmp_path / "dry-archive", crashtest.Expectations())
    total = disk.operations
    assert total > 100, total
    seeds = [int(ONLY_SEED)] if ONLY_SEED else range(FIRST_SEED, FIRST_SEED + REPLICA_SEEDS)
    for seed in seeds:
        rng = random.Random(seed)
        loss, cut_at = rng.choice(list(Loss)), rng.randint(1, total)
        root, image, archive = tmp_path / f"r{seed}", tmp_path / f"r{seed}-image", tmp_path / f"a{seed}"
        root.mkdir()
        expect, disk = crashtest.Expectations(), SimulatedDisk(root, cut_at)
        with power_loss_disk(disk):
            replica_workload(root, archive, expect)
            disk.crash_image(image, loss, rng)
        replica = LoggedReplica.open(image, segment_bytes=1024, archive=DirectoryStore(archive))
        try:
            crashtest.verify(replica, expect)
        except AssertionError as error:
            raise AssertionError(f"seed {seed} (cut at operation {cut_at} of {total}, {loss.value}); "
                                 f"replay: POWERLOSS_SEED={seed} pytest tests/wal/test_power_loss.py"
                                 f": {error}") from error
        finally:
            replica.close_files()
