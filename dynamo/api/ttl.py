"""Time to Live's two operations: UpdateTimeToLive and DescribeTimeToLive.

A table may name one attribute as its items' expiry time (API Reference,
"UpdateTimeToLive"; Developer Guide, "Time to Live (TTL)"). The setting is part
of the table's definition in the catalog (`TableDefinition.ttl_attribute`); what
acts on it, deleting the items whose time has passed, is the cluster's sweeper
(`dynamo.cluster.ttl`).

The checks, in DynamoDB's order (dynalite's recorded answers, and what
clients that manage TTL handle):

1. the request's shape (`shapes.UPDATE_TIME_TO_LIVE`), then an empty
   `AttributeName`: "TimeToLiveSpecification.AttributeName must be non empty";
2. the table: ResourceNotFoundException if there is none;
3. the change: enabling what is enabled is "TimeToLive is already enabled",
   disabling what is disabled "TimeToLive is already disabled", and naming
   another attribute than the enabled one "TimeToLive is active on a different
   AttributeName: current AttributeName is <name>" (to change the attribute,
   disable TTL, then enable it again).

Where the lab differs: DynamoDB takes up to an hour to process a change and
refuses another one within it ("Time to live has been modified multiple times
within a fixed interval"). Here a change takes effect at once and may be
changed again at once, so a test or PynamoDB's `create_table` need not wait.
"""

from __future__ import annotations

from typing import Any

from dynamo.api import shapes
from dynamo.cluster import Database
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.errors import ResourceInUseException, ValidationException

ACTIVE = "ACTIVE"


async def update_time_to_live(node: Database, region: str,
                              params: dict[str, Any]) -> dict[str, Any]:
    """UpdateTimeToLive: enable TTL on an attribute, or disable it."""
    specification = params["TimeToLiveSpecification"]
    attribute, enabled = specification["AttributeName"], specification["Enabled"]
    if attribute == "":
        raise ValidationException("TimeToLiveSpecification.AttributeName must be non empty")
    definition = await node.describe_table(region, params["TableName"])
    if definition.status != ACTIVE:
        raise ResourceInUseException(
            f"Attempt to change a resource which is still in use: Table is not ACTIVE: "
            f"{definition.name}")
    check_change(definition, attribute, enabled)
    definition.ttl_attribute = attribute if enabled else None
    await node.update_table(definition)
    if not enabled:
        return {"TimeToLiveSpecification": {"Enabled": False}}
    return {"TimeToLiveSpecification": {"AttributeName": attribute, "Enabled": True}}


async def describe_time_to_live(node: Database, region: str,
                                params: dict[str, Any]) -> dict[str, Any]:
    """DescribeTimeToLive: ENABLED with its attribute, or DISABLED (no attribute named)."""
    definition = await node.describe_table(region, params["TableName"])
    if definition.status != ACTIVE:
        raise ValidationException(
            f"Cannot describe time to live while table is in {definition.status} state")
    if definition.ttl_attribute is None:
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
    return {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED",
                                      "AttributeName": definition.ttl_attribute}}


def check_change(definition: TableDefinition, attribute: str, enabled: bool) -> None:
    """Refuse a change that changes nothing, or that names another attribute than the
    enabled one."""
    current = definition.ttl_attribute
    if current is not None and current != attribute:
        raise ValidationException(
            f"TimeToLive is active on a different AttributeName: current AttributeName is "
            f"{current}")
    if enabled and current is not None:
        raise ValidationException("TimeToLive is already enabled")
    if not enabled and current is None:
        raise ValidationException("TimeToLive is already disabled")


OPERATIONS = {
    "UpdateTimeToLive": (shapes.UPDATE_TIME_TO_LIVE, update_time_to_live),
    "DescribeTimeToLive": (shapes.DESCRIBE_TIME_TO_LIVE, describe_time_to_live),
}
