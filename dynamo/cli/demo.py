"""`make demo` (and `dynamo demo`): a five-minute tour of Dynamo Lab with boto3.

It starts `dynamo serve --in-memory` on a port of its own in a subprocess, then talks
to it exactly as an application talks to DynamoDB, printing each request and
what came back: create a table, put and get an item, query an item
collection, update under a condition, watch a condition fail with the error
DynamoDB gives, see the capacity units each call consumed, add a global secondary
index and watch it catch up, move a value between two items in a transaction,
and watch a table of 1 WCU take a spike from its burst capacity, then throttle.
Then it stops the server.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from dynamo.cli.launch import running_server

BOLD, DIM, GREEN, RED, RESET = "\033[1m", "\033[2m", "\033[32m", "\033[31m", "\033[0m"
POLL_S = 0.01  # how often the tour asks whether the index has caught up


def register(subparsers: Any) -> None:
    """Add the `demo` subcommand."""
    parser = subparsers.add_parser("demo", help="a guided tour with boto3 against a fresh server")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace | None = None) -> int:
    """Start a server, run the tour, stop the server."""
    with running_server("--in-memory") as server:
        tour(server.url)
    return 0


def step(title: str, code: str) -> None:
    print(f"\n{BOLD}== {title}{RESET}")
    print(f"{DIM}{code}{RESET}")


def show(value: Any) -> None:
    print(f"   {GREEN}{json.dumps(value, default=str)}{RESET}")


def tour(url: str) -> None:
    """The walk-through itself: each step prints the call and the answer."""
    import boto3
    from botocore.exceptions import ClientError

    print(f"{BOLD}Dynamo Lab{RESET}: a DynamoDB you can read, running at {url}")
    print("Everything below is plain boto3, exactly as you would call AWS.")
    db = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                      aws_access_key_id="demo", aws_secret_access_key="demo")

    step("Create a table: partition key Artist, sort key SongTitle",
         'db.create_table(TableName="Music", KeySchema=[...], ...)')
    answer = db.create_table(
        TableName="Music",
        KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"},
                   {"AttributeName": "SongTitle", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"},
                              {"AttributeName": "SongTitle", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    print(f"   status right after CreateTable: {answer['TableDescription']['TableStatus']}")
    db.get_waiter("table_exists").wait(TableName="Music")
    print("   ...and once the waiter returns: "
          f"{db.describe_table(TableName='Music')['Table']['TableStatus']}")

    step("Put three songs", 'db.put_item(TableName="Music", Item={"Artist": {"S": ...}, ...})')
    songs = [("No One You Know", "Call Me Today", 2), ("No One You Know", "Howdy", 5),
             ("Acme Band", "Happy Day", 9)]
    for artist, title, plays in songs:
        db.put_item(TableName="Music", Item={
            "Artist": {"S": artist}, "SongTitle": {"S": title}, "Plays": {"N": str(plays)}})
        print(f"   put {artist!r} / {title!r}")

    step("Get one item by its full key (a strongly consistent read)",
         'db.get_item(TableName="Music", Key={...}, ConsistentRead=True)')
    show(db.get_item(TableName="Music", ConsistentRead=True, Key={
        "Artist": {"S": "No One You Know"}, "SongTitle": {"S": "Howdy"}})["Item"])

    step("Query one item collection: all songs of one artist, in sort-key order",
         'KeyConditionExpression="Artist = :a"')
    answer = db.query(TableName="Music", KeyConditionExpression="Artist = :a",
                      ExpressionAttributeValues={":a": {"S": "No One You Know"}})
    for item in answer["Items"]:
        print(f"   {item['SongTitle']['S']:<15} plays={item['Plays']['N']}")

    step("Update with a condition: add a play, only if the song exists",
         'UpdateExpression="SET Plays = Plays + :one", ConditionExpression="attribute_exists(Artist)"')
    answer = db.update_item(
        TableName="Music", Key={"Artist": {"S": "Acme Band"}, "SongTitle": {"S": "Happy Day"}},
        UpdateExpression="SET Plays = Plays + :one", ConditionExpression="attribute_exists(Artist)",
        ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="UPDATED_NEW")
    show(answer["Attributes"])

    step("A condition that fails: put only if the item does not exist yet",
         'ConditionExpression="attribute_not_exists(Artist)", '
         'ReturnValuesOnConditionCheckFailure="ALL_OLD"')
    try:
        db.put_item(
            TableName="Music", Item={"Artist": {"S": "Acme Band"}, "SongTitle": {"S": "Happy Day"}},
            ConditionExpression="attribute_not_exists(Artist)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except ClientError as error:
        print(f"{RED}   {error.response['Error']['Code']}: "
              f"{error.response['Error']['Message']}{RESET}")
        print("   the item that stopped it came back with the error:")
        show(error.response.get("Item"))

    step("A bad request: DynamoDB's validation, DynamoDB's words",
         'db.put_item(TableName="Music", Item={"Artist": {"S": "x"}, "Plays": {"N": "1"}})')
    try:
        db.put_item(TableName="Music", Item={"Artist": {"S": "x"}, "Plays": {"N": "1"}})
    except ClientError as error:
        print(f"{RED}   {error.response['Error']['Code']}: "
              f"{error.response['Error']['Message']}{RESET}")
    print("   (the sort key is missing; nothing was written)")

    step("Capacity units: what each call cost (paper §4)",
         'ReturnConsumedCapacity="TOTAL"')
    big = "x" * 5000
    put = db.put_item(TableName="Music", ReturnConsumedCapacity="TOTAL", Item={
        "Artist": {"S": "Acme Band"}, "SongTitle": {"S": "Long Song"}, "Lyrics": {"S": big}})
    print(f"   writing a ~5 KB item:            {put['ConsumedCapacity']['CapacityUnits']} WCU "
          "(1 per started KB)")
    key = {"Artist": {"S": "Acme Band"}, "SongTitle": {"S": "Long Song"}}
    strong = db.get_item(TableName="Music", Key=key, ConsistentRead=True,
                         ReturnConsumedCapacity="TOTAL")
    eventual = db.get_item(TableName="Music", Key=key, ReturnConsumedCapacity="TOTAL")
    print(f"   reading it, strongly consistent: {strong['ConsumedCapacity']['CapacityUnits']} RCU "
          "(1 per started 4 KB)")
    print(f"   reading it, eventually consistent: {eventual['ConsumedCapacity']['CapacityUnits']}"
          " RCU (half price)")

    global_index(db)
    transactions(db)
    throttling(db)

    print(f"\n{BOLD}That was DynamoDB's API, served by code you can read:{RESET} "
          "dynamo/api (the wire protocol), dynamo/storage (items, expressions, the B-tree), "
          "dynamo/indexes (global indexes), dynamo/transactions (the coordinator), "
          "dynamo/admission (the token buckets).")
    print("Next: `dynamo serve` and point your own boto3, AWS CLI or PynamoDB code at it; "
          "see docs/getting-started.md.")


def global_index(db: Any) -> None:
    """A global secondary index added to a live table: backfilled, then kept up asynchronously."""
    step("A global secondary index: query the songs by genre (paper §2, indexes)",
         'db.update_table(TableName="Music", GlobalSecondaryIndexUpdates=[{"Create": ...}])')
    db.update_table(
        TableName="Music",
        AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"},
                              {"AttributeName": "SongTitle", "AttributeType": "S"},
                              {"AttributeName": "Genre", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "ByGenre",
            "KeySchema": [{"AttributeName": "Genre", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}}])
    status = _index_status(db)
    print(f"   right after UpdateTable the index is {status}; the existing items are copied in")
    while _index_status(db) != "ACTIVE":
        time.sleep(POLL_S)
    print("   ...then ACTIVE. Now tag two songs with a genre:")
    for title in ("Call Me Today", "Howdy"):
        db.update_item(TableName="Music", Key={"Artist": {"S": "No One You Know"},
                                               "SongTitle": {"S": title}},
                       UpdateExpression="SET Genre = :g",
                       ExpressionAttributeValues={":g": {"S": "Country"}})
    polls = 1
    while len(_by_genre(db)) < 2:  # the index is eventually consistent: it lags the table
        time.sleep(POLL_S)
        polls += 1
    print(f"   the index had both after {polls} Query(s): "
          f"{sorted(item['SongTitle']['S'] for item in _by_genre(db))}")
    print("   (songs without a Genre are not in the index at all: it is sparse)")


def _index_status(db: Any) -> str:
    indexes = db.describe_table(TableName="Music")["Table"].get("GlobalSecondaryIndexes", [])
    return next(i["IndexStatus"] for i in indexes if i["IndexName"] == "ByGenre")


def _by_genre(db: Any) -> list[Any]:
    return db.query(TableName="Music", IndexName="ByGenre", KeyConditionExpression="Genre = :g",
                    ExpressionAttributeValues={":g": {"S": "Country"}})["Items"]


def transactions(db: Any) -> None:
    """Two writes that happen together or not at all (Idziorek et al., ATC'23)."""
    step("A transaction: move a play from one song to another, all or nothing",
         'db.transact_write_items(TransactItems=[{"Update": ...}, {"Update": ...}])')
    howdy = {"Artist": {"S": "No One You Know"}, "SongTitle": {"S": "Howdy"}}
    happy = {"Artist": {"S": "Acme Band"}, "SongTitle": {"S": "Happy Day"}}
    move = [{"Update": {"TableName": "Music", "Key": howdy,
                        "UpdateExpression": "SET Plays = Plays - :one",
                        "ConditionExpression": "Plays >= :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Update": {"TableName": "Music", "Key": happy,
                        "UpdateExpression": "SET Plays = Plays + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}}]
    db.transact_write_items(TransactItems=move)
    plays = db.transact_get_items(TransactItems=[
        {"Get": {"TableName": "Music", "Key": key, "ProjectionExpression": "Plays"}}
        for key in (howdy, happy)])["Responses"]
    print(f"   plays now: Howdy {plays[0]['Item']['Plays']['N']}, "
          f"Happy Day {plays[1]['Item']['Plays']['N']} (read together by TransactGetItems)")
    step("A transaction whose condition fails changes nothing",
         '{"ConditionCheck": {..., "ConditionExpression": "Plays > :many"}}')
    try:
        db.transact_write_items(TransactItems=[
            move[1], {"ConditionCheck": {"TableName": "Music", "Key": howdy,
                                         "ConditionExpression": "Plays > :many",
                                         "ExpressionAttributeValues": {":many": {"N": "100"}}}}])
    except db.exceptions.TransactionCanceledException as error:
        reasons = [r["Code"] for r in error.response["CancellationReasons"]]
        print(f"{RED}   TransactionCanceledException: {reasons}{RESET}")
        after = db.get_item(TableName="Music", Key=happy, ConsistentRead=True)["Item"]
        print(f"   Happy Day still has {after['Plays']['N']} plays: the Update did not happen")


def throttling(db: Any) -> None:
    """A 1 WCU table: 300 seconds of unused capacity absorb a spike, then it throttles."""
    import boto3
    from botocore.config import Config

    step("Admission control: a table of 1 WCU takes a spike from burst, then throttles "
         "(paper §4.1.1)", "db.put_item(...) in a loop, with boto3's retries off")
    db.create_table(TableName="Tiny", BillingMode="PROVISIONED",
                    KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                    ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    db.get_waiter("table_exists").wait(TableName="Tiny", WaiterConfig={"Delay": 0.2})
    # The same endpoint, with retries off, so that the throttle shows.
    tiny = boto3.client("dynamodb", endpoint_url=db.meta.endpoint_url, region_name="us-east-1",
                        aws_access_key_id="demo", aws_secret_access_key="demo",
                        config=Config(retries={"total_max_attempts": 1}))
    for written in range(1000):
        try:
            tiny.put_item(TableName="Tiny", Item={"k": {"S": str(written)}})
        except tiny.exceptions.ProvisionedThroughputExceededException as error:
            print(f"   {written} writes went through, out of the burst bucket (300 s x 1 WCU)")
            print(f"{RED}   ProvisionedThroughputExceededException: "
                  f"{error.response['Error']['Message']}{RESET}")
            print("   (an SDK backs off and retries; `dynamo serve --admission` picks the era)")
            return


if __name__ == "__main__":
    sys.exit(run())
