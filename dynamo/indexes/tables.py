"""A global index as a table of its own: its storage id and its first partition's id (§2, §3).

The control plane places a global index like a table (`dynamo.cluster`): a
first partition on three storage nodes in three zones, registered with the
metadata service under the index's storage id (`indexes.index_tbl`: the
table's, "#", the index's name, which no table name can be). Its partitions
are named as a table's are (`partition_map.table_root`): a root ending in ".",
children adding 0 and 1; the root is drawn from the table's id and the
index's own id (drawn at CreateTable or UpdateTable), so a table created
again, or an index deleted and created again under its name, gets index
partitions of its own: a replica of the old ones, left on a node that was
down when they were dropped, can never be taken for the new index's.
"""

from __future__ import annotations

import hashlib

from dynamo.partitioning.partition_map import PartitionId
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.indexes import SecondaryIndex, index_tbl


def index_root(definition: TableDefinition, index: SecondaryIndex) -> PartitionId:
    """The first partition of a global index: `g<digest of table id, index name and id>.`."""
    digest = hashlib.blake2b(f"{definition.table_id}/{index.name}/{index.index_id}".encode(),
                             digest_size=6)
    return f"g{digest.hexdigest()}."


def index_tables(definition: TableDefinition) -> list[tuple[SecondaryIndex, str, PartitionId]]:
    """Each global index of the table, with its storage id and first partition."""
    return [(index, index_tbl(definition.tbl, index), index_root(definition, index))
            for index in definition.global_indexes]
