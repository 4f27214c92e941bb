"""The catalog: which tables exist, and how each is defined.

DynamoDB keeps table definitions in its control plane (autoadmin, paper §3)
apart from the data. The lab keeps them in the replica's own SQLite file, in a
`tables` table beside the items, so that a table's definition and its items
live and die together: DeleteTable removes both in one transaction, and a
table re-created under the same name never sees its predecessor's items.

A definition is what DescribeTable reports about a table: its region and
name, key schema and attribute definitions, billing mode and provisioned
throughput, creation time, status and a unique table id; and its Time to Live
attribute, when UpdateTimeToLive has enabled it (DescribeTimeToLive reports it).
A definition also lists the table's secondary indexes (`indexes`, see
`dynamo.storage.indexes`). The engine below addresses a table's items by an
opaque storage id, `TableDefinition.tbl` (e.g. "us-east-1/Music"), and an
index's entries by `index_tbl` beside it.

Definitions are stored as JSON. A member added later has a default, so a
catalog written before it was added still reads (`from_json`).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson

from dynamo.storage.btree import BTree
from dynamo.storage.errors import ResourceInUseException, ResourceNotFoundException
from dynamo.storage.indexes import Projection, SecondaryIndex
from dynamo.storage.keys import KeyAttribute, KeySchema

PROVISIONED = "PROVISIONED"
PAY_PER_REQUEST = "PAY_PER_REQUEST"


@dataclass
class TableDefinition:
    """One table as CreateTable made it and UpdateTable changed it.

    `ttl_attribute` is the attribute Time to Live reads an item's expiry from
    (None: TTL is disabled; `dynamo.cluster.ttl` sweeps the tables that have one).
    `indexes` are its local and global secondary indexes, in definition order.
    `extra` keeps the DescribeTable members the engine does not interpret
    (tags, stream specification, ...) for the layers above.
    """

    region: str
    name: str
    key_schema: KeySchema
    attribute_definitions: list[dict[str, str]]
    billing_mode: str = PROVISIONED
    read_capacity: int = 0
    write_capacity: int = 0
    created_at: float = field(default_factory=time.time)
    status: str = "ACTIVE"
    table_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    ttl_attribute: str | None = None
    indexes: list[SecondaryIndex] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def tbl(self) -> str:
        """The storage id the B-tree files this table's items under."""
        return f"{self.region}/{self.name}"

    @property
    def local_indexes(self) -> list[SecondaryIndex]:
        """The local secondary indexes: kept in the base partition, in the item's write."""
        return [index for index in self.indexes if not index.is_global]

    @property
    def global_indexes(self) -> list[SecondaryIndex]:
        """The global secondary indexes: tables of their own, kept asynchronously."""
        return [index for index in self.indexes if index.is_global]

    @property
    def live_global_indexes(self) -> list[SecondaryIndex]:
        """The global indexes still kept up to date: all but one being deleted, which is
        told nothing more and charged nothing more."""
        return [index for index in self.global_indexes if index.status != "DELETING"]

    def index(self, name: str) -> SecondaryIndex | None:
        """The index of that name, or None."""
        return next((index for index in self.indexes if index.name == name), None)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the catalog's stored form)."""
        return {
            "region": self.region,
            "name": self.name,
            "key_schema": _schema_json(self.key_schema),
            "attribute_definitions": self.attribute_definitions,
            "billing_mode": self.billing_mode,
            "read_capacity": self.read_capacity,
            "write_capacity": self.write_capacity,
            "created_at": self.created_at,
            "status": self.status,
            "table_id": self.table_id,
            "ttl_attribute": self.ttl_attribute,
            "indexes": [_index_json(index) for index in self.indexes],
            "extra": self.extra,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TableDefinition:
        """The inverse of `to_json` (members missing from older catalogs take their defaults)."""
        fields = dict(data)
        fields["key_schema"] = _schema_from_json(data["key_schema"])
        fields["indexes"] = [_index_from_json(index) for index in data.get("indexes", [])]
        return cls(**fields)


def _schema_json(schema: KeySchema) -> dict[str, Any]:
    sort = schema.sort
    return {
        "partition": _attribute_json(schema.partition),
        "sort": None if sort is None else _attribute_json(sort),
    }


def _schema_from_json(data: dict[str, Any]) -> KeySchema:
    sort = data["sort"]
    return KeySchema(KeyAttribute(**data["partition"]),
                     None if sort is None else KeyAttribute(**sort))


def _attribute_json(attribute: KeyAttribute) -> dict[str, str]:
    return {"name": attribute.name, "type": attribute.type}


def _index_json(index: SecondaryIndex) -> dict[str, Any]:
    return {
        "name": index.name,
        "key_schema": _schema_json(index.key_schema),
        "projection": {"type": index.projection.type,
                       "non_key_attributes": list(index.projection.non_key_attributes)},
        "is_global": index.is_global,
        "read_capacity": index.read_capacity,
        "write_capacity": index.write_capacity,
        "status": index.status,
        "backfilling": index.backfilling,
        "index_id": index.index_id,
    }


def _index_from_json(data: dict[str, Any]) -> SecondaryIndex:
    fields = dict(data)
    fields["key_schema"] = _schema_from_json(data["key_schema"])
    projection = data["projection"]
    fields["projection"] = Projection(projection["type"],
                                      tuple(projection["non_key_attributes"]))
    return SecondaryIndex(**fields)


class Catalog:
    """Table definitions, stored in the same SQLite file as the items."""

    def __init__(self, btree: BTree) -> None:
        self.btree = btree
        self._tables = btree.db["tables"]
        self._tables.create(  # type: ignore[union-attr]
            {"region": str, "name": str, "definition": str},
            pk=("region", "name"),
            if_not_exists=True,
        )

    def create(self, definition: TableDefinition) -> None:
        """Add a table (CreateTable).

        Raises:
            ResourceInUseException: a table of that name exists in the region.
        """
        if self.get(definition.region, definition.name) is not None:
            raise ResourceInUseException(f"Table already exists: {definition.name}")
        self._tables.insert(_row(definition))  # type: ignore[union-attr]

    def get(self, region: str, name: str) -> TableDefinition | None:
        """The definition of a table, or None when there is none."""
        row = self.btree.conn.execute(
            "SELECT definition FROM tables WHERE region = ? AND name = ?", (region, name)
        ).fetchone()
        return None if row is None else TableDefinition.from_json(orjson.loads(row[0]))

    def list(self, region: str) -> list[str]:
        """The names of the region's tables, sorted (ListTables' order)."""
        rows = self.btree.conn.execute(
            "SELECT name FROM tables WHERE region = ? ORDER BY name", (region,)
        ).fetchall()
        return [name for (name,) in rows]

    def all(self) -> list[tuple[str, str]]:
        """Every (region, name), sorted: the tables of every region."""
        rows = self.btree.conn.execute("SELECT region, name FROM tables ORDER BY region, name")
        return [(region, name) for region, name in rows]

    def update(self, definition: TableDefinition) -> None:
        """Replace a table's definition (UpdateTable, status changes).

        Raises:
            ResourceNotFoundException: there is no such table.
        """
        self._require(definition.region, definition.name)
        self._tables.upsert(_row(definition), pk=("region", "name"))  # type: ignore[union-attr]

    def delete(self, region: str, name: str) -> TableDefinition:
        """Remove a table, its items and its index entries in one transaction (DeleteTable).

        Returns the definition as it was.

        Raises:
            ResourceNotFoundException: there is no such table.
        """
        definition = self._require(region, name)
        with self.btree.db.atomic():
            self.btree.drop_table(definition.tbl)  # with its index entries
            self.btree.conn.execute(
                "DELETE FROM tables WHERE region = ? AND name = ?", (region, name))
        return definition

    def usage(self, region: str, name: str) -> tuple[int, int]:
        """(ItemCount, TableSizeBytes) of a table, counted from its items now.

        DynamoDB refreshes these about every six hours; the lab counts them
        when asked, which is an index walk over the table's items.
        """
        definition = self._require(region, name)
        return self.btree.count(definition.tbl), self.btree.size(definition.tbl)

    def _require(self, region: str, name: str) -> TableDefinition:
        definition = self.get(region, name)
        if definition is None:
            raise ResourceNotFoundException(f"Requested resource not found: Table: {name} not found")
        return definition


def _row(definition: TableDefinition) -> dict[str, str]:
    return {
        "region": definition.region,
        "name": definition.name,
        "definition": orjson.dumps(definition.to_json()).decode(),
    }
