"""The coordinator's ledger log stays bounded on a real `dynamo serve` (ATC'23 §3.5, §5).

A long-running server's transaction coordinator persists three records per
transaction. Its checkpoints make the older ones redundant, so the log's
sealed segments behind the latest checkpoint are removed: the ledger
directory holds a few segments however many transactions ran. And a
server killed with SIGKILL and started again on the same directory rebuilds
the ledger from its checkpoint and what follows: a ClientRequestToken used
before the truncated segments is still answered as a repeat, and no
transaction is left holding an item.

boto3 gives every TransactWriteItems a fresh ClientRequestToken, which the
ledger must remember for 10 minutes; the load here goes without one (its
client does not fill it in), so what the ledger must keep is only the
transactions in flight.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.handlers import generate_idempotent_uuid

from dynamo.cli.launch import Server, start_server

pytestmark = pytest.mark.slow

TABLE = "ledger"
WORKERS = 6
TRANSFERS = 120  # per worker: several ledger segments' worth of transactions
OPENING = 1000


def client(url: str, tokens: bool = True) -> Any:
    made = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="x",
                        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
    if not tokens:
        made.meta.events.unregister("before-parameter-build", generate_idempotent_uuid)
    return made


def transfer(source: str, target: str, amount: int) -> list[dict[str, Any]]:
    def update(pk: str, sign: str) -> dict[str, Any]:
        return {"Update": {"TableName": TABLE, "Key": {"pk": {"S": pk}},
                           "UpdateExpression": f"SET balance = balance {sign} :a",
                           "ExpressionAttributeValues": {":a": {"N": str(amount)}}}}
    return [update(source, "-"), update(target, "+")]


def segments(data_dir: Path) -> list[str]:
    return sorted(p.name for p in (data_dir / "nodes" / "tc" / "wal").glob("*.seg"))


def move_money(url: str, worker: int, stop: threading.Event) -> None:
    """Transfers between this worker's own two accounts (no conflicts), until told or killed."""
    dynamodb = client(url, tokens=False)
    for n in range(TRANSFERS):
        if stop.is_set():
            return
        try:
            dynamodb.transact_write_items(
                TransactItems=transfer(f"w{worker}a", f"w{worker}b", 1 + n % 3))
        except ClientError:
            continue  # a throttle or conflict is an answer; the load goes on
        except Exception:  # the server was killed
            return


def run_load(server: Server, stop: threading.Event) -> list[threading.Thread]:
    threads = [threading.Thread(target=move_money, args=(server.url, w, stop))
               for w in range(WORKERS)]
    for thread in threads:
        thread.start()
    return threads


def accounts() -> list[str]:
    return ["kept-a", "kept-b"] + [f"w{w}{side}" for w in range(WORKERS) for side in "ab"]


def settle(dynamodb: Any) -> list[int]:
    """Every account, once a single-item write to each is accepted (none is held)."""
    deadline = time.monotonic() + 20.0
    for pk in accounts():
        while True:
            try:
                dynamodb.update_item(TableName=TABLE, Key={"pk": {"S": pk}},
                                     UpdateExpression="SET visited = :t",
                                     ExpressionAttributeValues={":t": {"BOOL": True}})
                break
            except ClientError as error:
                code = error.response["Error"]["Code"]
                assert code == "TransactionConflictException" and time.monotonic() < deadline, \
                    f"{pk} still refused: {code}"
                time.sleep(0.1)
    return [int(dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": pk}}, ConsistentRead=True)
                ["Item"]["balance"]["N"]) for pk in accounts()]


def test_the_ledger_log_is_truncated_behind_checkpoints_and_survives_sigkill(
        tmp_path: Path) -> None:
    server = start_server("--data-dir", str(tmp_path))
    try:
        dynamodb = client(server.url)
        dynamodb.create_table(
            TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST")
        for pk in accounts():
            dynamodb.put_item(TableName=TABLE,
                              Item={"pk": {"S": pk}, "balance": {"N": str(OPENING)}})
        kept = transfer("kept-a", "kept-b", 7)
        dynamodb.transact_write_items(TransactItems=kept, ClientRequestToken="kept")
        first = segments(tmp_path)[0]

        stop = threading.Event()
        threads = run_load(server, stop)
        seen = []
        while any(thread.is_alive() for thread in threads):
            seen.append(len(segments(tmp_path)))
            time.sleep(0.05)
        assert first not in segments(tmp_path), "the oldest ledger segment was never removed"
        assert max(seen) <= 4, f"the ledger held {max(seen)} segments"

        threads = run_load(server, stop)  # and once more, killed mid-load
        time.sleep(1.0)
        server.process.kill()
        server.process.wait()
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    finally:
        server.stop()

    server = start_server("--data-dir", str(tmp_path))
    try:
        dynamodb = client(server.url)
        again = dynamodb.transact_write_items(TransactItems=kept, ClientRequestToken="kept")
        assert again["ResponseMetadata"]["HTTPStatusCode"] == 200
        with pytest.raises(ClientError) as other:
            dynamodb.transact_write_items(TransactItems=transfer("kept-a", "kept-b", 8),
                                          ClientRequestToken="kept")
        assert other.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
        balances = settle(dynamodb)
        assert balances[:2] == [OPENING - 7, OPENING + 7]  # the repeat moved nothing
        assert sum(balances) == OPENING * len(accounts())
    finally:
        server.stop()
