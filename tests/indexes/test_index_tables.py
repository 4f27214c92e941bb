"""A global index's partitions are named after its own id (§2, §3).

DeleteTable and a global index's deletion remove the index's replicas from
every storage node that is up; a node that was down keeps its replicas until
it restarts. Were an index created again under its old name given its old
partitions' ids, such a replica could be taken for the new index's, with
entries of items long gone. So each global index draws an id when it is
created, and its first partition is named after it.
"""

from __future__ import annotations

from dataclasses import replace

import orjson

from dynamo.api.tables import secondary_index
from dynamo.indexes.fleet import INDEXED_KV
from dynamo.indexes.tables import index_root, index_tables
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.indexes import SecondaryIndex

SPEC = {"IndexName": "by-value", "KeySchema": [{"AttributeName": "v", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"}}


def created() -> SecondaryIndex:
    """A global index as CreateTable or UpdateTable defines it."""
    return secondary_index(SPEC, {"v": "S"}, set(), is_global=True)


def test_an_index_created_again_under_its_name_gets_partitions_of_its_own() -> None:
    first, again = created(), created()
    assert first.name == again.name
    assert index_root(INDEXED_KV, first) != index_root(INDEXED_KV, again)


def test_the_index_id_survives_the_catalog() -> None:
    """The id is stored with the definition: a restarted server finds the same partitions."""
    definition = replace(INDEXED_KV, indexes=[created()])
    stored = TableDefinition.from_json(orjson.loads(orjson.dumps(definition.to_json())))
    assert stored.indexes[0].index_id == definition.indexes[0].index_id != ""
    assert index_tables(stored) == index_tables(definition)
