"""TransactWriteItems and TransactGetItems through boto3 and PynamoDB, against `dynamo serve`.

Each test speaks to the real server as an application would, twice: the
partitioned fleet, whose transaction coordinator runs two-phase commit
(ATC'23 §3), and `--nodes 1`, one node that plans every action and commits
them all in one B-tree transaction, as DynamoDB Local does. Both must give
the same answers: the operations, DynamoDB's errors with their exact shapes
(API Reference, TransactionCanceledException's CancellationReasons), the
doubled capacity, ClientRequestToken idempotency. The fleet alone runs the
issue's live proof: eight threads moving money among ten accounts while a
reader's TransactGetItems always finds the total unchanged (run with
`pytest -s` to see the throughput and the share of conflicts).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apitools import Server, create_table, make_client, serve_args, start_server
from botocore.exceptions import ClientError

from dynamo.cli.launch import report_splits


def one_node(data_dir: str) -> list[str]:
    """`dynamo serve --nodes 1` on a data directory: its write-ahead log is in play."""
    return ["--nodes", "1", "--data-dir", data_dir]


@pytest.fixture(scope="module", params=["fleet", "nodes-1"])
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """The partitioned fleet (or as DYNAMO_LAB_SERVE_ARGS says), then one node."""
    args = serve_args() if request.param == "fleet" else one_node(
        tempfile.mkdtemp(prefix="dynamo-lab-"))
    running = start_server(*args)
    yield running
    report_splits(running.url)
    running.stop()


def update(table: str, pk: str, expression: str, amount: int, **more: Any) -> dict[str, Any]:
    return {"Update": {"TableName": table, "Key": {"pk": {"S": pk}}, "UpdateExpression": expression,
                       "ExpressionAttributeValues": {":a": {"N": str(amount)}}, **more}}


def transfer(table: str, source: str, target: str, amount: int) -> list[dict[str, Any]]:
    return [update(table, source, "SET balance = balance - :a", amount,
                   ConditionExpression="balance >= :a",
                   ReturnValuesOnConditionCheckFailure="ALL_OLD"),
            update(table, target, "SET balance = balance + :a", amount)]


def get_all(client, table: str, accounts: list[str]) -> list[int]:  # type: ignore[no-untyped-def]
    answer = client.transact_get_items(TransactItems=[
        {"Get": {"TableName": table, "Key": {"pk": {"S": a}}}} for a in accounts])
    return [int(r["Item"]["balance"]["N"]) for r in answer["Responses"]]


@pytest.fixture
def bank(client, table_name):  # type: ignore[no-untyped-def]
    create_table(client, table_name, capacity=10_000)
    for name in ("a", "b", "c"):
        client.put_item(TableName=table_name, Item={"pk": {"S": name}, "balance": {"N": "100"}})
    return table_name


def error_of(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response


def test_transact_write_items_moves_money_and_reports_doubled_capacity(client, bank):
    answer = client.transact_write_items(TransactItems=transfer(bank, "a", "b", 30),
                                         ReturnConsumedCapacity="TOTAL")
    # Two items of under 1 KB: one WCU each, twice (prepare and commit).
    assert answer["ConsumedCapacity"] == [
        {"TableName": bank, "CapacityUnits": 4.0, "WriteCapacityUnits": 4.0}]
    assert get_all(client, bank, ["a", "b", "c"]) == [70, 130, 100]


def test_put_delete_and_condition_check_act_together(client, bank):
    client.transact_write_items(TransactItems=[
        {"Put": {"TableName": bank, "Item": {"pk": {"S": "d"}, "balance": {"N": "5"}},
                 "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Delete": {"TableName": bank, "Key": {"pk": {"S": "c"}}}},
        {"ConditionCheck": {"TableName": bank, "Key": {"pk": {"S": "a"}},
                            "ConditionExpression": "balance = :h",
                            "ExpressionAttributeValues": {":h": {"N": "100"}}}}])
    found = client.transact_get_items(TransactItems=[
        {"Get": {"TableName": bank, "Key": {"pk": {"S": k}}}} for k in ("c", "d")])
    assert found["Responses"] == [{}, {"Item": {"pk": {"S": "d"}, "balance": {"N": "5"}}}]


def test_a_failed_condition_cancels_everything_with_reasons_in_request_order(client, bank):
    response = error_of(lambda: client.transact_write_items(
        TransactItems=transfer(bank, "a", "b", 500)))
    assert response["Error"] == {
        "Code": "TransactionCanceledException",
        "Message": "Transaction cancelled, please refer cancellation reasons for specific "
                   "reasons [ConditionalCheckFailed, None]"}
    assert response["CancellationReasons"] == [
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed",
         "Item": {"pk": {"S": "a"}, "balance": {"N": "100"}}},
        {"Code": "None"}]
    assert get_all(client, bank, ["a", "b"]) == [100, 100]


def test_a_failed_condition_check_cancels_the_writes_beside_it(client, bank):
    response = error_of(lambda: client.transact_write_items(TransactItems=[
        update(bank, "b", "SET balance = balance + :a", 1),
        {"ConditionCheck": {"TableName": bank, "Key": {"pk": {"S": "zz"}},
                            "ConditionExpression": "attribute_exists(pk)"}}]))
    assert [r["Code"] for r in response["CancellationReasons"]] == [
        "None", "ConditionalCheckFailed"]
    assert get_all(client, bank, ["b"]) == [100]


def test_an_update_that_makes_an_item_too_large_is_a_validation_error_reason(client, bank):
    big = {"S": "x" * (400 * 1024)}
    response = error_of(lambda: client.transact_write_items(TransactItems=[
        {"Update": {"TableName": bank, "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET b = :b",
                    "ExpressionAttributeValues": {":b": big}}}]))
    assert response["CancellationReasons"] == [
        {"Code": "ValidationError",
         "Message": "Item size to update has exceeded the maximum allowed size"}]


def test_a_key_that_does_not_fit_the_schema_cancels_with_a_validation_error(client, bank):
    response = error_of(lambda: client.transact_write_items(TransactItems=[
        update(bank, "a", "SET balance = balance + :a", 1),
        {"Delete": {"TableName": bank, "Key": {"pk": {"N": "5"}}}}]))
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert response["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "ValidationError",
         "Message": "The provided key element does not match the schema"}]


@pytest.mark.parametrize(("items", "message"), [
    ([{"Delete": {"TableName": "tbl", "Key": {"pk": {"S": str(i)}}}} for i in range(101)],
     "Member must have length less than or equal to 100"),
    ([{"Put": {"TableName": "tbl", "Item": {"pk": {"S": "a"}}},
       "Delete": {"TableName": "tbl", "Key": {"pk": {"S": "a"}}}}],
     "TransactItems can only contain one of Check, Put, Update or Delete"),
])
def test_malformed_transact_items_are_validation_exceptions(client, items, message):
    response = error_of(lambda: client.transact_write_items(TransactItems=items))
    assert response["Error"]["Code"] == "ValidationException"
    assert message in response["Error"]["Message"]


def test_two_actions_on_one_item_are_refused_before_anything_runs(client, bank):
    response = error_of(lambda: client.transact_write_items(TransactItems=[
        update(bank, "a", "SET balance = balance + :a", 1),
        {"ConditionCheck": {"TableName": bank, "Key": {"pk": {"S": "a"}},
                            "ConditionExpression": "attribute_exists(pk)"}}]))
    assert response["Error"] == {
        "Code": "ValidationException",
        "Message": "Transaction request cannot include multiple operations on one item"}
    assert get_all(client, bank, ["a"]) == [100]


def test_a_missing_table_is_resource_not_found(client, bank):
    for call in (
        lambda: client.transact_write_items(TransactItems=[
            {"Put": {"TableName": "no-such-table", "Item": {"pk": {"S": "x"}}}}]),
        lambda: client.transact_get_items(TransactItems=[
            {"Get": {"TableName": "no-such-table", "Key": {"pk": {"S": "x"}}}}]),
    ):
        assert error_of(call)["Error"] == {"Code": "ResourceNotFoundException",
                                           "Message": "Requested resource not found"}


def test_the_same_client_request_token_applies_once(client, bank):
    """ClientRequestToken: an identical retry changes nothing and succeeds (reporting read
    units); the token with other parameters is IdempotentParameterMismatchException."""
    items = transfer(bank, "a", "b", 10)
    client.transact_write_items(TransactItems=items, ClientRequestToken="once")
    again = client.transact_write_items(TransactItems=items, ClientRequestToken="once",
                                        ReturnConsumedCapacity="TOTAL")
    assert again["ConsumedCapacity"] == [
        {"TableName": bank, "CapacityUnits": 2.0, "ReadCapacityUnits": 2.0}]
    assert get_all(client, bank, ["a", "b"]) == [90, 110]
    response = error_of(lambda: client.transact_write_items(
        TransactItems=transfer(bank, "a", "b", 20), ClientRequestToken="once"))
    assert response["Error"]["Code"] == "IdempotentParameterMismatchException"


def test_transact_get_items_projects_and_charges_two_reads_per_item(client, bank):
    answer = client.transact_get_items(TransactItems=[
        {"Get": {"TableName": bank, "Key": {"pk": {"S": "a"}},
                 "ProjectionExpression": "#b", "ExpressionAttributeNames": {"#b": "balance"}}},
        {"Get": {"TableName": bank, "Key": {"pk": {"S": "nobody"}}}}],
        ReturnConsumedCapacity="TOTAL")
    assert answer["Responses"] == [{"Item": {"balance": {"N": "100"}}}, {}]
    assert answer["ConsumedCapacity"] == [
        {"TableName": bank, "CapacityUnits": 4.0, "ReadCapacityUnits": 4.0}]


def test_transact_get_items_validates_its_gets(client, bank):
    response = error_of(lambda: client.transact_get_items(TransactItems=[
        {"Get": {"TableName": bank, "Key": {}}}]))
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert response["CancellationReasons"][0]["Code"] == "ValidationError"
    response = error_of(lambda: client.transact_get_items(TransactItems=[
        {"Get": {"TableName": bank, "Key": {"pk": {"S": "a"}}, "ProjectionExpression": "!!!"}}]))
    assert response["Error"] == {
        "Code": "ValidationException",
        "Message": 'Invalid ProjectionExpression: Syntax error; token: "!", near: "!!"'}


def test_one_node_keeps_a_committed_transaction_whole_across_kill_9(tmp_path: Path,
                                                                     table_name: str) -> None:
    """`--nodes 1` logs a transaction's items as one write-ahead log record (§3, §5.1):
    once acknowledged, a SIGKILL loses none of it."""
    single = start_server(*one_node(str(tmp_path)))
    try:
        client = make_client(single.url)
        create_table(client, table_name)
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": table_name, "Item": {"pk": {"S": k}, "balance": {"N": "1"}}}}
            for k in ("x", "y", "z")])
    finally:
        single.process.kill()
        single.process.wait()
        single.stop()
    again = start_server(*one_node(str(tmp_path)))
    try:
        assert get_all(make_client(again.url), table_name, ["x", "y", "z"]) == [1, 1, 1]
    finally:
        again.stop()


def test_pynamodb_transact_write_and_transact_get(server, table_name):
    from pynamodb.attributes import NumberAttribute, UnicodeAttribute
    from pynamodb.connection import Connection
    from pynamodb.exceptions import TransactWriteError
    from pynamodb.models import Model
    from pynamodb.transactions import TransactGet, TransactWrite

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "AKIDLAB")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "secret")
    accounts_table, url = f"{table_name}-accounts", server.url

    class Account(Model):
        class Meta:
            table_name = accounts_table
            region = "us-east-1"
            host = url
            read_capacity_units = 100
            write_capacity_units = 100

        owner = UnicodeAttribute(hash_key=True)
        balance = NumberAttribute(default=0)

    Account.create_table(wait=True)
    Account("ann", balance=50).save()
    Account("bob", balance=0).save()
    connection = Connection(host=url, region="us-east-1")
    with TransactWrite(connection=connection) as move:
        move.update(Account("ann"), actions=[Account.balance.add(-20)],
                    condition=Account.balance >= 20)
        move.update(Account("bob"), actions=[Account.balance.add(20)])
    with pytest.raises(TransactWriteError) as raised:
        with TransactWrite(connection=connection) as move:
            move.update(Account("ann"), actions=[Account.balance.add(-99)],
                        condition=Account.balance >= 99)
            move.update(Account("bob"), actions=[Account.balance.add(99)])
    # PynamoDB reads the "None" reason as no reason at all.
    assert [r and r.code for r in raised.value.cancellation_reasons] == \
        ["ConditionalCheckFailed", None]
    with TransactGet(connection=connection) as read:
        ann, bob = read.get(Account, "ann"), read.get(Account, "bob")
    assert (ann.get().balance, bob.get().balance) == (30, 20)


ACCOUNTS, OPENING, THREADS, SECONDS = 10, 1000, 8, 10.0


@pytest.mark.slow
@pytest.mark.parametrize("server", ["fleet"], indirect=True)  # one node has no conflicts
def test_eight_threads_transfer_while_every_transact_get_sees_the_total(server, table_name):
    """The issue's live proof: 8 threads move money among 10 accounts for 10 s, a teller
    races them with single-item writes, and a reader's TransactGetItems, every time it
    answers, sees the total the bank opened with (ATC'23 §3.4: never half a transaction)."""
    client = make_client(server.url)
    create_table(client, table_name, capacity=100_000)
    accounts = [f"acct{i}" for i in range(ACCOUNTS)]
    for account in accounts:
        client.put_item(TableName=table_name, Item={"pk": {"S": account},
                                                    "balance": {"N": str(OPENING)}})
    counts = {"committed": 0, "conditions": 0, "conflicts": 0, "reads": 0,
              "read_conflicts": 0, "single_conflicts": 0, "singles": 0}
    totals: list[int] = []
    lock, stop = threading.Lock(), time.monotonic() + SECONDS

    def count(name: str) -> None:
        with lock:
            counts[name] += 1

    def clerk(seed: int) -> None:
        own = make_client(server.url)
        step = 0
        while time.monotonic() < stop:
            step += 1
            source = accounts[(seed * 7 + step * 3) % ACCOUNTS]
            target = accounts[(seed * 5 + step * 7 + 1) % ACCOUNTS]
            if source == target:
                continue
            try:
                own.transact_write_items(TransactItems=transfer(table_name, source, target,
                                                                1 + (seed + step) % 50))
                count("committed")
            except ClientError as error:
                reasons = [r["Code"] for r in error.response.get("CancellationReasons", [])]
                count("conflicts" if "TransactionConflict" in reasons else "conditions")

    def reader() -> None:
        own = make_client(server.url)
        while time.monotonic() < stop:
            try:
                totals.append(sum(get_all(own, table_name, accounts)))
                count("reads")
            except ClientError:
                count("read_conflicts")

    def teller() -> None:
        own = make_client(server.url)
        while time.monotonic() < stop:
            try:
                own.update_item(TableName=table_name, Key={"pk": {"S": accounts[0]}},
                                UpdateExpression="ADD visits :one",
                                ExpressionAttributeValues={":one": {"N": "1"}})
                count("singles")
            except ClientError as error:
                assert error.response["Error"]["Code"] == "TransactionConflictException"
                count("single_conflicts")

    threads = [threading.Thread(target=clerk, args=(i,)) for i in range(THREADS)]
    threads += [threading.Thread(target=reader), threading.Thread(target=teller)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    attempted = counts["committed"] + counts["conditions"] + counts["conflicts"]
    print(f"\n{THREADS} threads, {SECONDS:.0f} s: {counts['committed'] / SECONDS:.0f} "
          f"transfers/s committed of {attempted / SECONDS:.0f}/s attempted; conflicts "
          f"{counts['conflicts'] / max(attempted, 1):.1%}, failed conditions "
          f"{counts['conditions'] / max(attempted, 1):.1%}; {counts['reads']} TransactGetItems "
          f"saw the total ({counts['read_conflicts']} cancelled); single writes "
          f"{counts['singles']} applied, {counts['single_conflicts']} refused")
    # Most reads meet an item a transfer holds and are cancelled (ATC'23 §5 finds
    # TransactGetItems the most cancelled under contention); every one that answers
    # must see the total.
    assert totals and set(totals) == {OPENING * ACCOUNTS}
    assert counts["committed"] > 100 and counts["single_conflicts"] > 0
    assert sum(get_all(client, table_name, accounts)) == OPENING * ACCOUNTS
    visits = client.get_item(TableName=table_name, Key={"pk": {"S": accounts[0]}},
                             ConsistentRead=True)["Item"]["visits"]["N"]
    assert int(visits) == counts["singles"]  # refused single writes were never applied
