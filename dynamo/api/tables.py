"""The control plane: CreateTable, DescribeTable, ListTables, UpdateTable, DeleteTable.

A table is a name, a primary key (a partition key and an optional sort key,
paper §3), a billing mode and, in provisioned mode, read and write
capacity units (§4), and its secondary indexes (`dynamo.storage.indexes`):
up to 5 local ones, defined at CreateTable only, and up to 20 global ones.
These operations check what the shape check cannot (how the key schemas and
attribute definitions fit together, which capacity settings go with which
billing mode), then ask the node to change its catalog, and answer with
DynamoDB's `TableDescription`.

UpdateTable's GlobalSecondaryIndexUpdates create a global index (backfilled
while CREATING), delete one, or change its throughput (`dynamo.indexes`).
A global index is a table of its own, kept by a propagator: only the
partitioned fleet has them (embedded, or its storage nodes as processes), so a
server of one node (`--nodes 1`) refuses global indexes with a ValidationException
(`check_global_indexes_served`).

Not yet supported, and refused with a ValidationException rather than
silently ignored: streams.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from dynamo.api import shapes
from dynamo.cluster import Database
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.errors import (
    LimitExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
    ValidationException,
)
from dynamo.storage.indexes import (
    INCLUDE,
    MAX_GLOBAL_INDEXES,
    MAX_LOCAL_INDEXES,
    Projection,
    SecondaryIndex,
)
from dynamo.storage.keys import KeyAttribute, KeySchema

PROVISIONED, ON_DEMAND = "PROVISIONED", "PAY_PER_REQUEST"
MAX_UNITS = 1_000_000_000_000
INVALID = "One or more parameter values were invalid: "


async def create_table(node: Database, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """CreateTable: a new table, answered as CREATING."""
    refuse_streams(params)
    check_bounds(params.get("ProvisionedThroughput"))  # DynamoDB checks these first
    local, global_ = params.get("LocalSecondaryIndexes"), params.get("GlobalSecondaryIndexes")
    definitions = params["AttributeDefinitions"]
    schema = key_schema(params["KeySchema"], definitions,
                        indexed=local is not None or global_ is not None)
    indexes = secondary_indexes(schema, definitions, local, global_)
    mode, read, write = billing(params.get("BillingMode") or PROVISIONED,
                                params.get("ProvisionedThroughput"))
    indexes = [index_billing(index, mode, spec) for index, spec in
               zip(indexes, [*(local or ()), *(global_ or ())], strict=True)]
    if global_:
        check_global_indexes_served(node)
    definition = TableDefinition(
        region=region,
        name=params["TableName"],
        key_schema=schema,
        attribute_definitions=params["AttributeDefinitions"],
        billing_mode=mode,
        read_capacity=read,
        write_capacity=write,
        created_at=node.clock(),
        status="CREATING",
        table_id=str(uuid.uuid4()),
        indexes=indexes,
    )
    await node.create_table(definition)
    return {"TableDescription": describe(definition, (0, 0))}


async def describe_table(node: Database, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """DescribeTable: the table's description, with its item count and size."""
    definition = await node.describe_table(region, params["TableName"])
    return {"Table": describe(definition, node.stats(definition), index_stats(node, definition))}


async def list_tables(node: Database, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """ListTables: names in order, at most `Limit` (100) per page."""
    names = await node.list_tables(region)
    start = params.get("ExclusiveStartTableName")
    if start is not None:
        names = [name for name in names if name > start]
    limit = params.get("Limit") or 100
    result: dict[str, Any] = {"TableNames": names[:limit]}
    if len(names) > limit:
        result["LastEvaluatedTableName"] = names[limit - 1]
    return result


async def delete_table(node: Database, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """DeleteTable: drops the table and its items, answered as DELETING."""
    definition = await node.describe_table(region, params["TableName"])
    stats, indexes = node.stats(definition), index_stats(node, definition)
    definition = await node.delete_table(region, params["TableName"])
    return {"TableDescription": describe(definition, stats, indexes)}


async def update_table(node: Database, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """UpdateTable: change provisioned throughput or the billing mode, or create, delete or
    re-provision a global secondary index (GlobalSecondaryIndexUpdates): a new index is
    CREATING and backfilled, then ACTIVE; a deleted one is DELETING, then gone."""
    check_bounds(params.get("ProvisionedThroughput"))  # even before the table is looked up
    definition = await node.describe_table(region, params["TableName"])
    refuse_streams(params)
    throughput = params.get("ProvisionedThroughput")
    requested_mode = params.get("BillingMode")
    updates = params.get("GlobalSecondaryIndexUpdates")
    if throughput is None and requested_mode is None and not updates:
        raise ValidationException(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
            "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required")
    if updates:
        if any("Create" in update for update in updates):
            check_global_indexes_served(node)
        global_index_updates(definition, updates, params.get("AttributeDefinitions") or [])
        if throughput is None and requested_mode is None:
            await node.update_table(definition)
            description = describe(definition, node.stats(definition), index_stats(node, definition))
            description["TableStatus"] = "UPDATING"
            return {"TableDescription": description}
    mode = requested_mode or definition.billing_mode
    if mode == PROVISIONED and throughput is None and definition.billing_mode == PROVISIONED:
        raise ValidationException(
            "One or more parameter values were invalid: ProvisionedThroughput must be "
            "specified when BillingMode is PROVISIONED")
    mode, read, write = billing(mode, throughput)
    if (mode == definition.billing_mode == PROVISIONED
            and (read, write) == (definition.read_capacity, definition.write_capacity)):
        raise ValidationException(
            "The provisioned throughput for the table will not change. The requested value "
            "equals the current value. Current ReadCapacityUnits provisioned for the table: "
            f"{read}. Requested ReadCapacityUnits: {read}. Current WriteCapacityUnits "
            f"provisioned for the table: {write}. Requested WriteCapacityUnits: {write}. "
            "Refer to the Amazon DynamoDB Developer Guide for current limits and how to "
            "request higher limits.")
    definition.billing_mode = mode
    definition.read_capacity, definition.write_capacity = read, write
    await node.update_table(definition)
    description = describe(definition, node.stats(definition), index_stats(node, definition))
    description["TableStatus"] = "UPDATING"
    return {"TableDescription": description}


def check_global_indexes_served(node: Database) -> None:
    """Refuse a global index where there are no partitions to keep it in.

    A global index is a partitioned table of its own, kept up to date by the
    propagator (`dynamo.indexes`): the partitioned fleet has both, embedded or as
    processes; one node has neither, and would otherwise answer its Queries wrongly.
    """
    if getattr(node, "mode", None) not in ("partitioned", "processes"):
        raise ValidationException(
            "Global secondary indexes are served by the partitioned fleet only: run "
            "dynamo serve with --nodes 3 or more")


def global_index_updates(definition: TableDefinition, updates: list[dict[str, Any]],
                         attributes: list[dict[str, str]]) -> None:
    """Apply UpdateTable's GlobalSecondaryIndexUpdates to `definition`, checked as DynamoDB
    checks them: one index created or deleted at a time, a new index's keys defined."""
    if sum(1 for update in updates if "Create" in update or "Delete" in update) > 1:
        raise LimitExceededException(
            "Subscriber limit exceeded: Only 1 online index can be created or deleted "
            "simultaneously per table")
    for update in updates:
        if "Create" in update:
            _create_global_index(definition, update["Create"], attributes)
        elif "Delete" in update:
            found = _global_index(definition, update["Delete"].get("IndexName"))
            _replace_index(definition, replace(found, status="DELETING"))
        elif "Update" in update:
            spec = update["Update"]
            found = _global_index(definition, spec.get("IndexName"))
            throughput = spec.get("ProvisionedThroughput")
            if definition.billing_mode == ON_DEMAND:
                raise ValidationException(
                    INVALID + f"ProvisionedThroughput should not be specified for index: "
                    f"{found.name} when BillingMode is PAY_PER_REQUEST")
            if throughput is None:
                raise ValidationException(
                    INVALID + f"ProvisionedThroughput is not specified for index: {found.name}")
            check_bounds(throughput)
            _replace_index(definition, replace(
                found, read_capacity=int(throughput["ReadCapacityUnits"]),
                write_capacity=int(throughput["WriteCapacityUnits"])))
        else:
            raise ValidationException(
                INVALID + "One of GlobalSecondaryIndexUpdate.Update, "
                "GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must "
                "not be null")


def _create_global_index(definition: TableDefinition, spec: dict[str, Any],
                         attributes: list[dict[str, str]]) -> None:
    """A new global index, CREATING with its backfill to come; its key attributes join
    the table's AttributeDefinitions."""
    known = {d["AttributeName"]: d for d in definition.attribute_definitions}
    for attribute in attributes:
        old = known.get(attribute["AttributeName"])
        if old is not None and old["AttributeType"] != attribute["AttributeType"]:
            raise ValidationException(
                INVALID + "Cannot update attribute " + attribute["AttributeName"]
                + ". This attribute is part of a index")
        known[attribute["AttributeName"]] = attribute
    types = {name: d["AttributeType"] for name, d in known.items()}
    names = {index.name for index in definition.indexes}
    index = index_billing(secondary_index(spec, types, names, is_global=True),
                          definition.billing_mode, spec)
    if len(definition.global_indexes) >= MAX_GLOBAL_INDEXES:
        raise LimitExceededException(
            "Subscriber limit exceeded: Global secondary index count exceeds the per-table "
            f"limit of {MAX_GLOBAL_INDEXES}")
    definition.attribute_definitions = list(known.values())
    definition.indexes = [*definition.indexes,
                          replace(index, status="CREATING", backfilling=True)]


def _global_index(definition: TableDefinition, name: str | None) -> SecondaryIndex:
    found = None if name is None else definition.index(name)
    if found is None or not found.is_global:
        raise ResourceNotFoundException(
            f"Requested resource not found: Index: {name} not found for table: "
            f"{definition.name}")
    if found.status != "ACTIVE":
        raise ResourceInUseException(
            f"Attempt to change a resource which is still in use: Index is being "
            f"{'created' if found.status == 'CREATING' else 'deleted'}: {found.name}")
    return found


def _replace_index(definition: TableDefinition, index: SecondaryIndex) -> None:
    definition.indexes = [index if i.name == index.name else i for i in definition.indexes]


# -- checks that tie members together ----------------------------------------------------------

def refuse_streams(params: dict[str, Any]) -> None:
    """Refuse streams, which the lab does not have yet, rather than ignore them."""
    stream = params.get("StreamSpecification")
    if stream and stream.get("StreamEnabled"):
        raise ValidationException("Streams are not supported by Dynamo Lab yet")


def key_schema(elements: list[dict[str, str]], definitions: list[dict[str, str]],
               indexed: bool = False) -> KeySchema:
    """Check a KeySchema against AttributeDefinitions (DynamoDB's rules and messages).

    `indexed`: the table has secondary indexes, whose keys may use the other
    definitions (`secondary_indexes` checks that every one is used).
    """
    types = {d["AttributeName"]: d["AttributeType"] for d in definitions}
    names = [e["AttributeName"] for e in elements]
    # Fewer definitions than keys counts as a missing one, even when every key is named
    # (HASH a, HASH a with only `a` defined).
    if any(name not in types for name in names) or len(definitions) < len(names):
        if len(names) == 2:
            raise ValidationException("Invalid KeySchema: Some index key attribute have no definition")
        raise ValidationException(
            INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: [{', '.join(names)}], AttributeDefinitions: [{', '.join(types)}]")
    check_key_elements(elements)
    if len(names) != len(definitions) and not indexed:
        raise ValidationException(
            INVALID + "Number of attributes in KeySchema does not exactly match number of "
            "attributes defined in AttributeDefinitions")
    partition = KeyAttribute(names[0], types[names[0]])
    sort = KeyAttribute(names[1], types[names[1]]) if len(names) == 2 else None
    return KeySchema(partition, sort)


def secondary_indexes(table: KeySchema, definitions: list[dict[str, str]],
                      local: list[dict[str, Any]] | None,
                      global_: list[dict[str, Any]] | None) -> list[SecondaryIndex]:
    """CreateTable's local and global indexes, checked as DynamoDB checks them, in order."""
    types = {d["AttributeName"]: d["AttributeType"] for d in definitions}
    names: set[str] = set()
    indexes: list[SecondaryIndex] = []
    if local is not None:
        if not local:
            raise ValidationException(INVALID + "List of LocalSecondaryIndexes is empty")
        if table.sort is None:
            raise ValidationException(
                INVALID + "Table KeySchema does not have a range key, which is required when "
                "specifying a LocalSecondaryIndex")
        for spec in local:
            index = secondary_index(spec, types, names, is_global=False)
            if index.key_schema.sort is None:
                raise ValidationException(
                    INVALID + "Index KeySchema does not have a range key for index: "
                    f"{index.name}")
            if index.key_schema.partition != table.partition:
                raise ValidationException(
                    INVALID + "Index KeySchema does not have the same leading hash key as "
                    f"table KeySchema for index: {index.name}. index hash key: "
                    f"{index.key_schema.partition.name}, table hash key: {table.partition.name}")
            indexes.append(index)
        if len(local) > MAX_LOCAL_INDEXES:
            raise ValidationException(
                INVALID + "Number of LocalSecondaryIndexes exceeds per-table limit of "
                f"{MAX_LOCAL_INDEXES}")
    if global_ is not None:
        if not global_:
            raise ValidationException(INVALID + "List of GlobalSecondaryIndexes is empty")
        indexes += [secondary_index(spec, types, names, is_global=True) for spec in global_]
        if len(global_) > MAX_GLOBAL_INDEXES:
            raise ValidationException(
                INVALID + "GlobalSecondaryIndex count exceeds the per-table limit of "
                f"{MAX_GLOBAL_INDEXES}")
    if indexes:
        check_definitions_used(table, indexes, list(types))
    return indexes


def check_key_elements(elements: list[dict[str, str]]) -> None:
    """A KeySchema's elements, a table's or an index's: a HASH key, then maybe a RANGE key
    of another name."""
    names = [element["AttributeName"] for element in elements]
    if len(names) == 2 and names[0] == names[1]:
        raise ValidationException(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name")
    if elements[0]["KeyType"] != "HASH":
        raise ValidationException(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if len(elements) == 2 and elements[1]["KeyType"] != "RANGE":
        raise ValidationException(
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")


def secondary_index(spec: dict[str, Any], types: dict[str, str], names: set[str], *,
                    is_global: bool) -> SecondaryIndex:
    """One index of CreateTable: its key schema and projection checked; its name unique."""
    elements = spec["KeySchema"]
    keys = [element["AttributeName"] for element in elements]
    if any(key not in types for key in keys):
        raise ValidationException(
            INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: [{', '.join(keys)}], AttributeDefinitions: [{', '.join(types)}]")
    check_key_elements(elements)
    projection = index_projection(spec["Projection"])
    name = spec["IndexName"]
    if name in names:
        raise ValidationException(INVALID + f"Duplicate index name: {name}")
    names.add(name)
    schema = KeySchema(KeyAttribute(keys[0], types[keys[0]]),
                       KeyAttribute(keys[1], types[keys[1]]) if len(keys) == 2 else None)
    return SecondaryIndex(name, schema, projection, is_global,
                          index_id=str(uuid.uuid4()) if is_global else "")


def index_projection(spec: dict[str, Any]) -> Projection:
    """An index's Projection: ALL, KEYS_ONLY, or INCLUDE with its NonKeyAttributes."""
    kind, attributes = spec.get("ProjectionType"), spec.get("NonKeyAttributes")
    if kind is None:
        raise ValidationException(INVALID + "Unknown ProjectionType: null")
    if attributes is not None and kind != INCLUDE:
        raise ValidationException(
            INVALID + f"ProjectionType is {kind}, but NonKeyAttributes is specified")
    if kind == INCLUDE and attributes is None:
        raise ValidationException(
            INVALID + "ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
    seen: set[str] = set()
    for attribute in attributes or ():
        if attribute in seen:
            raise ValidationException(
                INVALID + f"Duplicate element in NonKeyAttributes: {attribute}")
        seen.add(attribute)
    return Projection(kind, tuple(attributes or ()))


def check_definitions_used(table: KeySchema, indexes: list[SecondaryIndex],
                           defined: list[str]) -> None:
    """Every AttributeDefinition must be a key of the table or of one of its indexes."""
    used = list(dict.fromkeys(name for schema in (table, *(i.key_schema for i in indexes))
                              for name in schema.names))
    if len(defined) != len(used):
        raise ValidationException(
            INVALID + f"Some AttributeDefinitions are not used. AttributeDefinitions: "
            f"[{', '.join(defined)}], keys used: [{', '.join(used)}]")


def index_billing(index: SecondaryIndex, mode: str, spec: dict[str, Any]) -> SecondaryIndex:
    """A global index's own throughput: required in provisioned mode, refused on demand."""
    throughput = spec.get("ProvisionedThroughput")
    if not index.is_global:
        return index
    if mode == ON_DEMAND:
        if throughput is not None:
            raise ValidationException(
                INVALID + f"ProvisionedThroughput should not be specified for index: "
                f"{index.name} when BillingMode is PAY_PER_REQUEST")
        return index
    if throughput is None:
        raise ValidationException(
            INVALID + f"ProvisionedThroughput is not specified for index: {index.name}")
    check_bounds(throughput)
    return replace(index, read_capacity=int(throughput["ReadCapacityUnits"]),
                   write_capacity=int(throughput["WriteCapacityUnits"]))


def billing(mode: str, throughput: dict[str, int] | None) -> tuple[str, int, int]:
    """(billing mode, RCU, WCU), checking that the capacity fits the mode (§4, on-demand)."""
    if mode == ON_DEMAND:
        if throughput is not None:
            raise ValidationException(
                INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified "
                "when BillingMode is PAY_PER_REQUEST")
        return ON_DEMAND, 0, 0
    if throughput is None:
        raise ValidationException(
            INVALID + "ReadCapacityUnits and WriteCapacityUnits must both be specified "
            "when BillingMode is PROVISIONED")
    check_bounds(throughput)
    return PROVISIONED, int(throughput["ReadCapacityUnits"]), int(throughput["WriteCapacityUnits"])


def check_bounds(throughput: dict[str, int] | None) -> None:
    """Capacity units above DynamoDB's ceiling, read units first."""
    for member in ("ReadCapacityUnits", "WriteCapacityUnits"):
        if throughput is not None and throughput[member] > MAX_UNITS:
            raise ValidationException(
                f"Given value {throughput[member]} for {member} is out of bounds")


# -- the TableDescription ----------------------------------------------------------------------

def index_stats(node: Database, definition: TableDefinition) -> dict[str, tuple[int, int]]:
    """Each index's (ItemCount, IndexSizeBytes), from a database that counts them (the
    partitioned fleet: `index_stats`); none from one that does not (they read 0)."""
    counted = getattr(node, "index_stats", None)
    return {} if counted is None else counted(definition)


def describe(definition: TableDefinition, stats: tuple[int, int],
             indexes: dict[str, tuple[int, int]] | None = None) -> dict[str, Any]:
    """DynamoDB's TableDescription of a table; `indexes`: each index's count and size."""
    schema = definition.key_schema
    keys = [{"AttributeName": schema.partition.name, "KeyType": "HASH"}]
    if schema.sort is not None:
        keys.append({"AttributeName": schema.sort.name, "KeyType": "RANGE"})
    item_count, size = stats
    description: dict[str, Any] = {
        "AttributeDefinitions": definition.attribute_definitions,
        "TableName": definition.name,
        "KeySchema": keys,
        "TableStatus": definition.status,
        "CreationDateTime": definition.created_at,
        "ProvisionedThroughput": {
            "NumberOfDecreasesToday": 0,
            "ReadCapacityUnits": definition.read_capacity,
            "WriteCapacityUnits": definition.write_capacity,
        },
        "TableSizeBytes": size,
        "ItemCount": item_count,
        "TableArn": f"arn:aws:dynamodb:{definition.region}:000000000000:table/{definition.name}",
        "TableId": definition.table_id,
        "DeletionProtectionEnabled": False,
    }
    counts = indexes or {}
    local = [describe_index(definition, index, counts.get(index.name, (0, 0)))
             for index in definition.local_indexes]
    global_ = [describe_index(definition, index, counts.get(index.name, (0, 0)))
               for index in definition.global_indexes]
    if local:
        description["LocalSecondaryIndexes"] = local
    if global_:
        description["GlobalSecondaryIndexes"] = global_
    if definition.billing_mode == ON_DEMAND:
        description["BillingModeSummary"] = {
            "BillingMode": ON_DEMAND,
            "LastUpdateToPayPerRequestDateTime": definition.created_at,
        }
    else:
        description["BillingModeSummary"] = {"BillingMode": PROVISIONED}
    return description


def describe_index(definition: TableDefinition, index: SecondaryIndex,
                   stats: tuple[int, int] = (0, 0)) -> dict[str, Any]:
    """One index's description, as DescribeTable lists it, with its (ItemCount,
    IndexSizeBytes): DynamoDB refreshes its about every six hours, the lab counts live."""
    schema = index.key_schema
    keys = [{"AttributeName": schema.partition.name, "KeyType": "HASH"}]
    if schema.sort is not None:
        keys.append({"AttributeName": schema.sort.name, "KeyType": "RANGE"})
    projection: dict[str, Any] = {"ProjectionType": index.projection.type}
    if index.projection.type == INCLUDE:
        projection["NonKeyAttributes"] = list(index.projection.non_key_attributes)
    table_arn = f"arn:aws:dynamodb:{definition.region}:000000000000:table/{definition.name}"
    description: dict[str, Any] = {
        "IndexName": index.name,
        "KeySchema": keys,
        "Projection": projection,
        "IndexSizeBytes": stats[1],
        "ItemCount": stats[0],
        "IndexArn": f"{table_arn}/index/{index.name}",
    }
    if index.is_global:
        description["IndexStatus"] = index.status
        if index.backfilling:
            description["Backfilling"] = True
        description["ProvisionedThroughput"] = {
            "NumberOfDecreasesToday": 0,
            "ReadCapacityUnits": index.read_capacity,
            "WriteCapacityUnits": index.write_capacity,
        }
    return description


OPERATIONS = {
    "CreateTable": (shapes.CREATE_TABLE, create_table),
    "DescribeTable": (shapes.TABLE_ONLY, describe_table),
    "ListTables": (shapes.LIST_TABLES, list_tables),
    "DeleteTable": (shapes.TABLE_ONLY, delete_table),
    "UpdateTable": (shapes.UPDATE_TABLE, update_table),
}
