"""The catalog: table definitions beside the items, in the replica's SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from dynamo.storage.btree import BTree, Mutation
from dynamo.storage.catalog import PAY_PER_REQUEST, Catalog, TableDefinition
from dynamo.storage.errors import ResourceInUseException, ResourceNotFoundException
from dynamo.storage.keys import KeyAttribute, KeySchema, item_key

MUSIC = KeySchema(KeyAttribute("Artist", "S"), KeyAttribute("SongTitle", "S"))
USERS = KeySchema(KeyAttribute("id", "N"))


def music(region: str = "us-east-1", name: str = "Music") -> TableDefinition:
    return TableDefinition(
        region, name, MUSIC,
        [{"AttributeName": "Artist", "AttributeType": "S"},
         {"AttributeName": "SongTitle", "AttributeType": "S"}],
        read_capacity=5, write_capacity=5, created_at=1700000000.5)


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    tree = BTree(tmp_path / "replica.db")
    yield Catalog(tree)
    tree.close()


def test_definition_json_round_trip() -> None:
    for definition in (music(), TableDefinition("eu-west-1", "Users", USERS,
                                                [{"AttributeName": "id", "AttributeType": "N"}],
                                                billing_mode=PAY_PER_REQUEST,
                                                extra={"Tags": [{"Key": "k", "Value": "v"}]})):
        assert TableDefinition.from_json(definition.to_json()) == definition


def test_definitions_get_unique_ids_and_a_storage_id() -> None:
    a, b = music(), music()
    assert a.table_id != b.table_id
    assert a.tbl == "us-east-1/Music"
    assert a.status == "ACTIVE" and a.billing_mode == "PROVISIONED"


def test_create_get_list(catalog: Catalog) -> None:
    assert catalog.get("us-east-1", "Music") is None
    created = {name: music(name=name) for name in ("Music", "Albums", "zeta", "Zeta")}
    for definition in created.values():
        catalog.create(definition)
    catalog.create(music(region="eu-west-1", name="Elsewhere"))
    assert catalog.get("us-east-1", "Music") == created["Music"]
    assert catalog.get("eu-west-1", "Music") is None
    assert catalog.list("us-east-1") == ["Albums", "Music", "Zeta", "zeta"]
    assert catalog.list("eu-west-1") == ["Elsewhere"]
    assert catalog.list("ap-south-1") == []


def test_create_twice_is_resource_in_use(catalog: Catalog) -> None:
    first = music()
    catalog.create(first)
    with pytest.raises(ResourceInUseException) as caught:
        catalog.create(music())
    assert caught.value.message == "Table already exists: Music"
    assert catalog.get("us-east-1", "Music").table_id == first.table_id


def test_update_replaces_the_definition(catalog: Catalog) -> None:
    definition = music()
    catalog.create(definition)
    definition.read_capacity, definition.status = 50, "UPDATING"
    catalog.update(definition)
    stored = catalog.get("us-east-1", "Music")
    assert (stored.read_capacity, stored.status) == (50, "UPDATING")
    with pytest.raises(ResourceNotFoundException) as caught:
        catalog.update(music(name="Missing"))
    assert caught.value.message == "Requested resource not found: Table: Missing not found"
    assert catalog.get("us-east-1", "Missing") is None


def test_delete_removes_definition_and_items_only_of_that_table(catalog: Catalog) -> None:
    doomed, kept = music(name="Doomed"), music(name="Kept")
    catalog.create(doomed)
    catalog.create(kept)
    song = {"Artist": {"S": "A"}, "SongTitle": {"S": "S"}}
    key = item_key(MUSIC, song)
    catalog.btree.apply([Mutation(doomed.tbl, key, song), Mutation(kept.tbl, key, song)])
    assert catalog.delete("us-east-1", "Doomed") == doomed
    assert catalog.get("us-east-1", "Doomed") is None
    assert catalog.btree.get(doomed.tbl, key) is None
    assert catalog.btree.get(kept.tbl, key) == song
    with pytest.raises(ResourceNotFoundException):
        catalog.delete("us-east-1", "Doomed")
    # A table re-created under the same name starts empty.
    catalog.create(music(name="Doomed"))
    assert catalog.usage("us-east-1", "Doomed") == (0, 0)


def test_usage_counts_items_and_bytes(catalog: Catalog) -> None:
    definition = music()
    catalog.create(definition)
    songs = [{"Artist": {"S": "A"}, "SongTitle": {"S": f"Song {i}"}} for i in range(10)]
    catalog.btree.apply([Mutation(definition.tbl, item_key(MUSIC, s), s) for s in songs])
    # Each item: "Artist"(6)+"A"(1) + "SongTitle"(9)+"Song i"(6) = 22 bytes.
    assert catalog.usage("us-east-1", "Music") == (10, 220)
    with pytest.raises(ResourceNotFoundException):
        catalog.usage("us-east-1", "Nope")


def test_catalog_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "replica.db"
    with BTree(path) as tree:
        Catalog(tree).create(music())
    with BTree(path) as tree:
        catalog = Catalog(tree)
        assert catalog.list("us-east-1") == ["Music"]
        stored = catalog.get("us-east-1", "Music")
        assert stored.created_at == 1700000000.5
        assert stored.key_schema == MUSIC
