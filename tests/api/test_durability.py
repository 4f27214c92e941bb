"""`dynamo serve --data-dir` writes through the write-ahead log (paper §3, §5.1).

A write is acknowledged only after its log record is fsynced, so no acknowledged
write may be missing after `kill -9`; writes to one item are serialised from
reading the old item to logging the new one, so concurrent read-modify-writes
lose nothing. The tests run a real server process, real boto3 clients and a real
SIGKILL; the two that must force an interleaving or watch startup refuse run the
node in-process, on real files.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from pathlib import Path

import pytest
from apitools import REGION, Server, create_table, make_client, start_server
from botocore.exceptions import ClientError

from dynamo.api import items, tables
from dynamo.cli.main import main
from dynamo.cluster.node import SingleNode
from dynamo.storage.errors import ResourceNotFoundException

ROUNDS = 5
WRITERS = 4


def scan_all(client, table: str) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """Every item of the table by its `pk`, read consistently page by page."""
    found: dict[str, dict] = {}
    params = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**params)
        found.update((item["pk"]["S"], item) for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            return found
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def put_until_stopped(url: str, table: str, writer: int, acknowledged: list[str],
                      stop: threading.Event) -> None:
    """Put fresh items until told to stop or the server dies; record each acknowledged key."""
    client = make_client(url)
    for n in range(1_000_000):
        if stop.is_set():
            return
        key = f"w{writer}-{uuid.uuid4().hex[:8]}-{n}"
        try:
            client.put_item(TableName=table, Item={"pk": {"S": key}, "n": {"N": str(n)}})
        except Exception:  # the server was killed: this write's outcome is unknown
            return
        acknowledged.append(key)


def test_acknowledged_puts_survive_sigkill_mid_load(tmp_path: Path) -> None:
    """§5.1: acknowledged means in the log on disk. Five times: load the server with
    concurrent writers, SIGKILL it mid-load, restart it on the same directory, and find
    every put that was ever acknowledged."""
    acknowledged: list[str] = []
    server = start_server("--data-dir", str(tmp_path))
    create_table(make_client(server.url), "Durable")
    for round_ in range(ROUNDS):
        stop = threading.Event()
        writers = [threading.Thread(target=put_until_stopped,
                                    args=(server.url, "Durable", w, acknowledged, stop))
                   for w in range(WRITERS)]
        for thread in writers:
            thread.start()
        time.sleep(0.4 + 0.1 * round_)
        before_kill = len(acknowledged)
        server.process.kill()  # SIGKILL: no shutdown code runs
        server.process.wait()
        stop.set()
        for thread in writers:
            thread.join(timeout=10)
        assert before_kill > 0, f"round {round_}: no write was acknowledged before the kill"
        server = start_server("--data-dir", str(tmp_path))
        stored = scan_all(make_client(server.url), "Durable")
        missing = [key for key in acknowledged if key not in stored]
        assert not missing, f"round {round_}: {len(missing)} acknowledged puts lost, e.g. {missing[:3]}"
    server.stop()


def test_a_put_is_in_the_log_before_it_is_acknowledged(tmp_path: Path) -> None:
    """With --fsync always the record holding the item is in a log segment (wal/*.seg)
    by the time the answer arrives: kill the server at once and it is there."""
    server = start_server("--nodes", "1", "--data-dir", str(tmp_path), "--fsync", "always")
    client = make_client(server.url)
    create_table(client, "Logged")
    marker = f"marker-{uuid.uuid4().hex}"
    client.put_item(TableName="Logged", Item={"pk": {"S": marker}, "v": {"S": "after-image"}})
    server.process.kill()
    server.process.wait()
    log = b"".join(path.read_bytes() for path in sorted((tmp_path / "wal").glob("*.seg")))
    assert marker.encode().hex().encode() in log  # the record's encoded key (records.py)
    assert marker.encode() in log and b"after-image" in log  # and its after-image


def add_one(url: str, table: str, times: int, errors: list[BaseException]) -> None:
    client = make_client(url)
    try:
        for _ in range(times):
            client.update_item(TableName=table, Key={"pk": {"S": "counter"}},
                               UpdateExpression="ADD n :one",
                               ExpressionAttributeValues={":one": {"N": "1"}})
    except BaseException as error:
        errors.append(error)


def conditional_create(url: str, table: str, who: int, winners: list[int],
                       errors: list[BaseException]) -> None:
    client = make_client(url)
    try:
        client.put_item(TableName=table, Item={"pk": {"S": "once"}, "by": {"N": str(who)}},
                        ConditionExpression="attribute_not_exists(pk)")
        winners.append(who)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            errors.append(error)


@pytest.fixture(scope="module")
def logged_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    running = start_server("--data-dir", str(tmp_path_factory.mktemp("data")))
    yield running
    running.stop()


def test_concurrent_increments_of_one_item_are_not_lost(logged_server: Server) -> None:
    """16 clients × 25 `ADD n :one` on one key end at exactly 400: each UpdateItem reads
    the item only after the previous write to it is logged and applied."""
    client = make_client(logged_server.url)
    create_table(client, "Counter")
    errors: list[BaseException] = []
    threads = [threading.Thread(target=add_one, args=(logged_server.url, "Counter", 25, errors))
               for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    item = client.get_item(TableName="Counter", Key={"pk": {"S": "counter"}}, ConsistentRead=True)
    assert item["Item"]["n"] == {"N": "400"}


def test_only_one_of_concurrent_conditional_creates_succeeds(logged_server: Server) -> None:
    """`attribute_not_exists(pk)` is a create-once guard: of 16 racing puts one wins,
    and the stored item is the winner's."""
    client = make_client(logged_server.url)
    create_table(client, "Once")
    winners: list[int] = []
    errors: list[BaseException] = []
    threads = [threading.Thread(target=conditional_create,
                                args=(logged_server.url, "Once", who, winners, errors))
               for who in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    assert len(winners) == 1
    item = client.get_item(TableName="Once", Key={"pk": {"S": "once"}}, ConsistentRead=True)
    assert item["Item"]["by"] == {"N": str(winners[0])}


def test_sealed_segments_are_archived(tmp_path: Path) -> None:
    """--archive DIR: once a 4 MB log segment seals, it is archived with its manifest
    (§5.1, §5.2) and dropped locally; the data is all still there after a restart."""
    archive = tmp_path / "archive"
    data = tmp_path / "data"
    server = start_server("--nodes", "1", "--data-dir", str(data), "--archive", str(archive))
    client = make_client(server.url)
    create_table(client, "Big")
    blob = "x" * 200_000
    for batch in range(2):  # 2 × 25 × 200 KB = 10 MB: at least two segments seal
        client.batch_write_item(RequestItems={"Big": [
            {"PutRequest": {"Item": {"pk": {"S": f"{batch}-{i}"}, "blob": {"S": blob}}}}
            for i in range(25)]})
    deadline = time.monotonic() + 10
    while not list(archive.rglob("*.manifest.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    manifests = list(archive.rglob("*.manifest.json"))
    assert manifests, "no segment was archived"
    assert manifests[0].name.startswith("00000000000000000001-")
    server.process.kill()
    server.process.wait()
    server = start_server("--nodes", "1", "--data-dir", str(data), "--archive", str(archive))
    assert len(scan_all(make_client(server.url), "Big")) == 50
    server.stop()


def test_log_options_need_a_data_directory(capsys: pytest.CaptureFixture[str]) -> None:
    """--fsync and --archive configure the log; an in-memory server has none."""
    assert main(["serve", "--in-memory", "--fsync", "none"]) == 2
    assert main(["serve", "--in-memory", "--archive", "backups"]) == 2
    assert "need a data directory" in capsys.readouterr().err


def test_a_write_racing_delete_table_never_reaches_a_recreated_table(tmp_path: Path) -> None:
    """DeleteTable's drop is logged behind every write already in the log; a write that
    comes after it is refused, rather than logged after the drop, where it would outlive
    its table and show up in a new table of the same name. In-process, to force the
    interleaving: the put runs while DeleteTable waits for its record's fsync."""
    node = SingleNode(str(tmp_path / "dynamo.db"))
    definition = {"TableName": "Racy", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                  "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                  "BillingMode": "PAY_PER_REQUEST"}
    put = {"TableName": "Racy", "Item": {"pk": {"S": "orphan"}}}

    async def put_next_tick() -> object:
        # one tick later the group commit has taken the drop's record into a batch and
        # waits for its fsync: the put would go into the next batch, applied after the drop
        await asyncio.sleep(0)
        return await items.put_item(node, REGION, put)

    async def race() -> list[object]:
        await tables.create_table(node, REGION, definition)
        outcomes = await asyncio.gather(tables.delete_table(node, REGION, {"TableName": "Racy"}),
                                        put_next_tick(), return_exceptions=True)
        await tables.create_table(node, REGION, definition)
        return [*outcomes, await items.get_item(node, REGION, {"TableName": "Racy",
                                                               "Key": {"pk": {"S": "orphan"}}})]

    try:
        deleted, put_outcome, found = asyncio.run(race())
    finally:
        node.close()
    assert isinstance(deleted, dict) and deleted["TableDescription"]["TableStatus"] == "DELETING"
    assert isinstance(put_outcome, ResourceNotFoundException)
    assert found == {}


def test_a_data_directory_whose_log_is_gone_is_refused(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """The B-tree says it applied records the log no longer has: serving it would hide
    that acknowledged writes are unrecoverable, so `dynamo serve` refuses, saying why."""
    node = SingleNode(str(tmp_path / "dynamo.db"))
    definition = {"TableName": "T", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                  "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                  "BillingMode": "PAY_PER_REQUEST"}

    async def write() -> None:
        await tables.create_table(node, REGION, definition)
        await items.put_item(node, REGION, {"TableName": "T", "Item": {"pk": {"S": "a"}}})

    asyncio.run(write())
    node.close()
    for segment in (tmp_path / "wal").iterdir():
        segment.unlink()
    assert main(["serve", "--nodes", "1", "--data-dir", str(tmp_path)]) == 1
    assert "refusing to serve" in capsys.readouterr().err
