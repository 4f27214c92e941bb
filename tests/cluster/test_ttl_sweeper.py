"""Time to Live's sweeper on the partitioned fleet, in one process (dynamo.cluster.ttl).

What a server cannot show from outside: the TTL delete's mark in every replica's
log record, the conditional delete losing to a write that came after the scan,
a sweep that admission control neither throttles nor charges, and the setting's
place in the catalog.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from dynamo.admission.eras import Era
from dynamo.cluster.fleet import FleetSettings
from dynamo.cluster.node import SingleNode
from dynamo.cluster.partitioned import PartitionedNode
from dynamo.cluster.ttl import SERVICE, expired_scan
from dynamo.paxos.operations import GetItem, PutItem
from dynamo.paxos.statemachine import WriteRecord
from dynamo.storage.btree import BTree
from dynamo.storage.catalog import PROVISIONED, Catalog, TableDefinition
from dynamo.storage.errors import ProvisionedThroughputExceededException, ThrottlingException
from dynamo.storage.keys import KeyAttribute, KeySchema

REGION = "us-east-1"


async def ttl_table(node: Any, name: str, write_capacity: int = 1000) -> TableDefinition:
    """A table keyed by `pk`, with TTL enabled on `expires`."""
    definition = TableDefinition(
        REGION, name, KeySchema(KeyAttribute("pk", "S")),
        [{"AttributeName": "pk", "AttributeType": "S"}], billing_mode=PROVISIONED,
        read_capacity=1000, write_capacity=write_capacity)
    await node.create_table(definition)
    definition = node.table(REGION, name).definition
    definition.ttl_attribute = "expires"
    await node.update_table(definition)
    return node.table(REGION, name).definition


async def put(node: Any, definition: TableDefinition, key: str, expires: float) -> None:
    await node.write(PutItem(definition, {"pk": {"S": key}, "expires": {"N": str(expires)}}))


async def get(node: Any, definition: TableDefinition, key: str) -> Any:
    item, _ = await node.read(GetItem(definition, {"pk": {"S": key}}, consistent=True))
    return item


def test_a_ttl_delete_is_marked_as_the_systems_in_every_replicas_log_record() -> None:
    """DynamoDB Streams shows a TTL delete with userIdentity principalId
    dynamodb.amazonaws.com: the mark is in the replicated record a stream would read."""

    async def run() -> list[WriteRecord]:
        node = PartitionedNode(None)
        await node.start()
        try:
            definition = await ttl_table(node, "marked")
            await put(node, definition, "gone", time.time() - 60)
            assert await node.sweeper.sweep() == 1
            assert await get(node, definition, "gone") is None
            (partition,) = node.ttl_partitions(definition)
            records = []
            for storage_id in node.fleet.storage_nodes:
                replica = node.fleet.storage(storage_id).replicas[partition]
                records += [entry.command for entry in replica.log.entries.values()
                            if isinstance(entry.command, WriteRecord)
                            and entry.command.changes and entry.command.changes[0].item is None]
            return records
        finally:
            node.close()

    deletes = asyncio.run(run())
    assert len(deletes) == 3  # one record, on each of the three replicas
    assert {record.service for record in deletes} == {SERVICE}


def test_a_write_that_extends_the_ttl_after_the_scan_wins_over_the_delete() -> None:
    """The delete is conditional on the expiry the scan read: an item given a new life
    between the sweep's scan and its delete stays."""

    async def run() -> tuple[bool, Any]:
        node = PartitionedNode(None)
        await node.start()
        try:
            definition = await ttl_table(node, "extended")
            now = time.time()
            await put(node, definition, "renewed", now - 60)
            (partition,) = node.ttl_partitions(definition)
            page = await node.system_request(definition, partition,
                                             expired_scan(definition, now, None))
            (found,) = page.items
            await put(node, definition, "renewed", now + 3600)
            deleted = await node.sweeper.expire(definition, partition, found)
            return deleted, await get(node, definition, "renewed")
        finally:
            node.close()

    deleted, item = asyncio.run(run())
    assert not deleted
    assert item is not None and float(item["expires"]["N"]) > time.time()


# Under GAC a 1 WCU table has 300 s of burst to write the expired items with; the static
# era has no burst, so there the table starts larger and is cut to 1 WCU after.
@pytest.mark.parametrize(("era", "first_wcu"), [(Era.GAC, 1), (Era.STATIC, 1000)])
def test_a_table_throttled_at_its_throughput_is_still_swept(era: Era, first_wcu: int) -> None:
    """§4 admission control: TTL deletes consume no write capacity, so a 1 WCU table
    whose writes are being throttled (by the router's GAC tokens, or by the storage
    node's partition buckets) still has every expired item deleted."""

    async def run() -> tuple[int, int]:
        node = PartitionedNode(None, settings=FleetSettings(split_rate=None, admission=era))
        await node.start()
        try:
            definition = await ttl_table(node, "throttled", write_capacity=first_wcu)
            for i in range(40):
                await put(node, definition, f"expired{i}", time.time() - 60)
            definition.write_capacity = 1
            await node.update_table(definition)
            definition = node.table(REGION, "throttled").definition
            writes = 0
            while writes < 1000:
                try:
                    await put(node, definition, f"live{writes}", time.time() + 3600)
                except (ProvisionedThroughputExceededException, ThrottlingException):
                    break
                writes += 1
            assert writes < 1000, "the table was never throttled"
            return await node.sweeper.sweep(), node.stats(definition)[0]
        finally:
            node.close()

    deleted, left = asyncio.run(run())
    assert deleted == 40
    assert left > 0  # the live items, untouched


def test_the_single_node_sweeps_too() -> None:
    """`dynamo serve --nodes 1` runs the same sweeper over its one B-tree."""

    async def run() -> tuple[int, Any, Any]:
        node = SingleNode(None)
        try:
            definition = await ttl_table(node, "single")
            await put(node, definition, "gone", time.time() - 60)
            await put(node, definition, "kept", time.time() + 3600)
            deleted = await node.sweeper.sweep()
            return deleted, await get(node, definition, "gone"), await get(node, definition, "kept")
        finally:
            node.close()

    deleted, gone, kept = asyncio.run(run())
    assert deleted == 1
    assert gone is None and kept is not None


def test_a_catalog_written_before_ttl_reads_as_ttl_disabled(tmp_path: Path) -> None:
    """The TTL setting is stored in the table's catalog entry; an entry without it (a
    catalog from before TTL) reads as disabled, and a setting survives a reopen."""
    path = tmp_path / "catalog.sqlite3"
    btree = BTree(path)
    catalog = Catalog(btree)
    old = TableDefinition(REGION, "old", KeySchema(KeyAttribute("pk", "S")), [])
    stored = old.to_json()
    del stored["ttl_attribute"]
    btree.conn.execute("INSERT INTO tables VALUES (?, ?, ?)",
                       (REGION, "old", orjson.dumps(stored).decode()))
    new = TableDefinition(REGION, "new", KeySchema(KeyAttribute("pk", "S")), [],
                          ttl_attribute="expires")
    catalog.create(new)
    btree.conn.commit()
    btree.close()
    reopened = Catalog(BTree(path))
    assert reopened.get(REGION, "old").ttl_attribute is None
    assert reopened.get(REGION, "new").ttl_attribute == "expires"
    reopened.btree.close()
