"""The "1 validation error detected: " envelope of DynamoDB's 2026 validation framework.

From June 2026 DynamoDB moved its request validation to a new framework,
region by region (us-east-1 had moved by August 2026). The write operations
now answer several expression and placeholder mistakes inside the envelope
its parameter checks always had, e.g.

    1 validation error detected: Invalid UpdateExpression: The expression can not be empty;

where the older service (and every test suite recorded before 2026) answered
the bare reason. Which families moved is known from captures of the real
service (docs/api.md, "Which DynamoDB the messages match"); `ENVELOPED` lists
them, and any other message keeps its bare wording. Only PutItem and UpdateItem
were captured; DeleteItem shares their validation and is assumed to follow.
Reads (GetItem, Query, Scan) have no evidence either way and stay bare.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dynamo.storage.errors import ValidationException

ENVELOPE = "1 validation error detected: "
WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem"})

# How an enveloped message begins. Bare still (captured): key-attribute
# updates, ExpressionAttributeNames without an expression, errors found while
# applying an update to the item, the item size limit.
ENVELOPED = (
    "Invalid UpdateExpression: ",
    "Invalid ConditionExpression: ",
    "Can not use both expression and non-expression parameters",
    "ExpressionAttributeValues can only be specified",
    "ExpressionAttributeValues contains invalid value: ",
    "Value provided in ExpressionAttributeNames unused",
    "Value provided in ExpressionAttributeValues unused",
)


@contextmanager
def envelope(operation: str) -> Iterator[None]:
    """Re-raise a ValidationException of an enveloped family inside the envelope."""
    try:
        yield
    except ValidationException as error:
        if operation in WRITE_OPERATIONS and error.message.startswith(ENVELOPED):
            raise ValidationException(ENVELOPE + error.message) from None
        raise
