"""Layer 1, storage: what one replica stores, and DynamoDB's per-item semantics.

A storage replica (paper §3) holds items in a B-tree and answers the data
plane's per-item requests: PutItem, GetItem, UpdateItem, DeleteItem, Query
and Scan, with DynamoDB's types, keys, expressions, limits and capacity
units (§4). The modules, bottom up:

- errors.py, numbers.py: DynamoDB's errors and its 38-digit numbers;
- attributes.py, keys.py, capacity.py: values, primary keys as ordered
  bytes, capacity units;
- expressions/: conditions, filters, key conditions, updates, projections;
- btree.py: the replica's B-tree, one SQLite file;
- catalog.py: table definitions, beside the items;
- table.py: a table's items with DynamoDB's semantics.

`python -m dynamo.storage` runs the layer alone.
"""

from dynamo.storage.attributes import (
    AttributeValue,
    Item,
    item_size,
    validate_item,
    validate_value,
)
from dynamo.storage.btree import BTree, Entry, Mutation
from dynamo.storage.capacity import ConsumedCapacity
from dynamo.storage.catalog import PAY_PER_REQUEST, PROVISIONED, Catalog, TableDefinition
from dynamo.storage.errors import (
    ConditionalCheckFailedException,
    DynamoError,
    ResourceInUseException,
    ResourceNotFoundException,
    SerializationException,
    ValidationException,
)
from dynamo.storage.expressions import CompiledRequest, compile_request
from dynamo.storage.keys import EncodedKey, KeyAttribute, KeySchema, item_key, request_key
from dynamo.storage.table import Page, Table, WritePlan

__all__ = [
    "PAY_PER_REQUEST",
    "PROVISIONED",
    "AttributeValue",
    "BTree",
    "Catalog",
    "CompiledRequest",
    "ConditionalCheckFailedException",
    "ConsumedCapacity",
    "DynamoError",
    "EncodedKey",
    "Entry",
    "Item",
    "KeyAttribute",
    "KeySchema",
    "Mutation",
    "Page",
    "ResourceInUseException",
    "ResourceNotFoundException",
    "SerializationException",
    "Table",
    "TableDefinition",
    "ValidationException",
    "WritePlan",
    "compile_request",
    "item_key",
    "item_size",
    "request_key",
    "validate_item",
    "validate_value",
]
