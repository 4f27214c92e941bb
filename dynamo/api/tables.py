"""The control plane: CreateTable, DescribeTable, ListTables, UpdateTable, DeleteTable.

A table is a name, a primary key (a partition key and an optional sort key,
paper §3), a billing mode and, in provisioned mode, read and write
capacity units (§4). These operations check what the shape check cannot (how
the key schema and attribute definitions fit together, which capacity settings
go with which billing mode), then ask the node to change its catalog, and
answer with DynamoDB's `TableDescription`.

Not yet supported, and refused with a ValidationException rather than
silently ignored: secondary indexes, streams.
"""

from __future__ import annotations

import uuid
from typing import Any

from dynamo.api import shapes
from dynamo.cluster import Database
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.errors import ValidationException
from dynamo.storage.keys import KeyAttribute, KeySchema

PROVISIONED, ON_DEMAND = "PROVISIONED", "PAY_PER_REQUEST"
MAX_UNITS = 1_000_000_000_000
INVALID = "One or more parameter values were invalid: "


async def create_table(node: Database, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """CreateTable: a new table, answered as CREATING."""
    refuse_unsupported(params, ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"))
    check_bounds(params.get("ProvisionedThroughput"))  # DynamoDB checks these first
    schema = key_schema(params["KeySchema"], params["AttributeDefinitions"])
    mode, read, write = billing(params.get("BillingMode") or PROVISIONED,
                                params.get("ProvisionedThroughput"))
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
    )
    await node.create_table(definition)
    return {"TableDescription": describe(definition, (0, 0))}


async def describe_table(node: Database, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """DescribeTable: the table's description, with its item count and size."""
    definition = await node.describe_table(region, params["TableName"])
    return {"Table": describe(definition, node.stats(definition))}


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
    stats = node.stats(definition)
    definition = await node.delete_table(region, params["TableName"])
    return {"TableDescription": describe(definition, stats)}


async def update_table(node: Database, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """UpdateTable: change provisioned throughput or the billing mode."""
    check_bounds(params.get("ProvisionedThroughput"))  # even before the table is looked up
    definition = await node.describe_table(region, params["TableName"])
    refuse_unsupported(params, ("GlobalSecondaryIndexUpdates",))
    throughput = params.get("ProvisionedThroughput")
    requested_mode = params.get("BillingMode")
    if throughput is None and requested_mode is None:
        raise ValidationException(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
            "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required")
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
    description = describe(definition, node.stats(definition))
    description["TableStatus"] = "UPDATING"
    return {"TableDescription": description}


# -- checks that tie members together ----------------------------------------------------------

def refuse_unsupported(params: dict[str, Any], members: tuple[str, ...]) -> None:
    """Refuse features the lab does not have yet, rather than ignore them."""
    for member in members:
        if params.get(member):
            raise ValidationException(f"{member} are not supported by Dynamo Lab yet")
    stream = params.get("StreamSpecification")
    if stream and stream.get("StreamEnabled"):
        raise ValidationException("Streams are not supported by Dynamo Lab yet")


def key_schema(elements: list[dict[str, str]], definitions: list[dict[str, str]]) -> KeySchema:
    """Check a KeySchema against AttributeDefinitions (DynamoDB's rules and messages)."""
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
    if len(names) == 2 and names[0] == names[1]:
        raise ValidationException(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name")
    if elements[0]["KeyType"] != "HASH":
        raise ValidationException(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if len(elements) == 2 and elements[1]["KeyType"] != "RANGE":
        raise ValidationException(
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
    if len(names) != len(definitions):
        raise ValidationException(
            INVALID + "Number of attributes in KeySchema does not exactly match number of "
            "attributes defined in AttributeDefinitions")
    partition = KeyAttribute(names[0], types[names[0]])
    sort = KeyAttribute(names[1], types[names[1]]) if len(names) == 2 else None
    return KeySchema(partition, sort)


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

def describe(definition: TableDefinition, stats: tuple[int, int]) -> dict[str, Any]:
    """DynamoDB's TableDescription of a table."""
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
    if definition.billing_mode == ON_DEMAND:
        description["BillingModeSummary"] = {
            "BillingMode": ON_DEMAND,
            "LastUpdateToPayPerRequestDateTime": definition.created_at,
        }
    else:
        description["BillingModeSummary"] = {"BillingMode": PROVISIONED}
    return description


OPERATIONS = {
    "CreateTable": (shapes.CREATE_TABLE, create_table),
    "DescribeTable": (shapes.TABLE_ONLY, describe_table),
    "ListTables": (shapes.LIST_TABLES, list_tables),
    "DeleteTable": (shapes.TABLE_ONLY, delete_table),
    "UpdateTable": (shapes.UPDATE_TABLE, update_table),
}
