"""Other real clients against `dynamo serve`: the AWS CLI and PynamoDB, and data that
survives a server restart with --data-dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from apitools import create_table, make_client, start_server

AWS = str(Path(sys.executable).with_name("aws"))


def test_aws_cli_creates_puts_and_gets(server, table_name):
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "AKIDLAB", "AWS_SECRET_ACCESS_KEY": "secret",
           "AWS_DEFAULT_REGION": "us-east-1"}

    def aws(*args: str) -> dict:
        done = subprocess.run([AWS, "dynamodb", *args, "--endpoint-url", server.url,
                               "--output", "json"], env=env, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}

    created = aws("create-table", "--table-name", table_name,
                  "--attribute-definitions", "AttributeName=pk,AttributeType=S",
                  "--key-schema", "AttributeName=pk,KeyType=HASH",
                  "--billing-mode", "PAY_PER_REQUEST")
    assert created["TableDescription"]["TableName"] == table_name
    aws("put-item", "--table-name", table_name,
        "--item", json.dumps({"pk": {"S": "cli"}, "v": {"N": "42"}}))
    got = aws("get-item", "--table-name", table_name, "--key", json.dumps({"pk": {"S": "cli"}}))
    assert got["Item"] == {"pk": {"S": "cli"}, "v": {"N": "42"}}


def test_pynamodb_model_round_trip(server, table_name):
    from pynamodb.attributes import NumberAttribute, UnicodeAttribute
    from pynamodb.exceptions import PutError
    from pynamodb.models import Model

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "AKIDLAB")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "secret")
    songs_table, url = f"{table_name}-songs", server.url

    class Song(Model):
        class Meta:
            table_name = songs_table
            region = "us-east-1"
            host = url
            read_capacity_units = 1
            write_capacity_units = 1

        artist = UnicodeAttribute(hash_key=True)
        title = UnicodeAttribute(range_key=True)
        plays = NumberAttribute(default=0)

    Song.create_table(wait=True)
    Song("Acme", "Happy Day", plays=3).save()
    Song("Acme", "Sad Day").save()
    assert Song.get("Acme", "Happy Day").plays == 3
    assert [song.title for song in Song.query("Acme")] == ["Happy Day", "Sad Day"]
    song = Song.get("Acme", "Sad Day")
    song.update(actions=[Song.plays.add(5)], condition=Song.plays == 0)
    assert Song.get("Acme", "Sad Day").plays == 5
    with pytest.raises(PutError):
        Song("Acme", "Sad Day").save(condition=Song.artist.does_not_exist())
    assert Song.get("Acme", "Sad Day").plays == 5


def test_data_survives_a_restart_with_data_dir(tmp_path, table_name):
    first = start_server("--data-dir", str(tmp_path))
    try:
        client = make_client(first.url)
        create_table(client, table_name)
        client.put_item(TableName=table_name, Item={"pk": {"S": "kept"}, "v": {"S": "yes"}})
    finally:
        first.stop()
    # three storage nodes, each with its log, its placement and a B-tree per replica,
    # and the catalog beside them
    assert (tmp_path / "catalog.sqlite3").exists()
    nodes = [tmp_path / "nodes" / n for n in ("n1", "n2", "n3")]
    assert all((n / "wal").is_dir() and (n / "placement.json").exists() for n in nodes)
    assert all(len(list((n / "partitions").glob("*.sqlite3"))) == 1 for n in nodes)
    second = start_server("--data-dir", str(tmp_path))
    try:
        client = make_client(second.url)
        assert client.describe_table(TableName=table_name)["Table"]["TableStatus"] == "ACTIVE"
        item = client.get_item(TableName=table_name, Key={"pk": {"S": "kept"}})["Item"]
        assert item == {"pk": {"S": "kept"}, "v": {"S": "yes"}}
    finally:
        second.stop()
