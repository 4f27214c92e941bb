"""The errors DynamoDB names on the wire.

Every client mistake the lab detects is raised as one of these, carrying the
name and message DynamoDB itself would answer with (DynamoDB Developer Guide,
"Error handling"; the `__type` namespaces are those the service sends). The
API layer turns them into `{"__type": ..., "message": ...}` bodies; nothing
below the API ever formats a wire error itself.

A request that raises one of these must leave stored data unchanged: layers
validate fully before they mutate.
"""

from __future__ import annotations

from typing import Any

DYNAMODB = "com.amazonaws.dynamodb.v20120810"
CORAL_VALIDATE = "com.amazon.coral.validate"
CORAL_SERVICE = "com.amazon.coral.service"


class DynamoError(Exception):
    """An error with a DynamoDB name, HTTP status and message."""

    namespace: str = DYNAMODB
    status: int = 400
    retryable: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @classmethod
    def type_name(cls) -> str:
        """The short name clients see, e.g. ``ValidationException``."""
        return cls.__name__

    def wire_type(self) -> str:
        """The full ``__type`` value of the error body."""
        return f"{self.namespace}#{self.type_name()}"

    def body(self) -> dict[str, Any]:
        """The JSON body DynamoDB answers with."""
        return {"__type": self.wire_type(), "message": self.message}


class ValidationException(DynamoError):
    """Bad parameters, a type mismatch, a size limit, a malformed expression."""

    namespace = CORAL_VALIDATE


class SerializationException(DynamoError):
    """The request body is not JSON, or a member has the wrong JSON type."""

    namespace = CORAL_SERVICE


class UnknownOperationException(DynamoError):
    """`X-Amz-Target` names no DynamoDB operation."""

    namespace = CORAL_SERVICE


class MissingAuthenticationTokenException(DynamoError):
    """The request carries no `Authorization` header."""

    namespace = CORAL_SERVICE


class ConditionalCheckFailedException(DynamoError):
    """A ConditionExpression (or legacy Expected) evaluated to false.

    `item` is the stored item, returned to the client when the request asked
    for `ReturnValuesOnConditionCheckFailure=ALL_OLD`. `capacity` is what the
    failed write still cost: DynamoDB charges a failed conditional write.
    """

    def __init__(self, message: str = "The conditional request failed",
                 item: dict[str, Any] | None = None, capacity: Any = None) -> None:
        super().__init__(message)
        self.item = item
        self.capacity = capacity

    def body(self) -> dict[str, Any]:
        body = super().body()
        if self.item is not None:
            body["Item"] = self.item
        return body


class ResourceNotFoundException(DynamoError):
    """The table (or index) does not exist, or is not yet ACTIVE."""


class ResourceInUseException(DynamoError):
    """The table already exists, or is busy with another change."""


class LimitExceededException(DynamoError):
    """Too many concurrent control-plane operations."""


class ItemCollectionSizeLimitExceededException(DynamoError):
    """An item collection with a local secondary index grew past 10 GB."""


class ProvisionedThroughputExceededException(DynamoError):
    """The request was throttled: the table or partition is over its capacity."""

    retryable = True


class ThrottlingException(DynamoError):
    """The request rate is too high (control plane, or on-demand tables)."""

    retryable = True


class RequestLimitExceeded(DynamoError):
    """The account's throughput limit was exceeded."""

    retryable = True


class TransactionConflictException(DynamoError):
    """A single write conflicted with a transaction in flight on the item."""


class InternalServerError(DynamoError):
    """Something failed on the server side; the request may have happened."""

    status = 500
    retryable = True


class TransactionCanceledException(DynamoError):
    """A transaction was cancelled: nothing of it happened.

    `reasons` says why, one per action in request order, in wire form
    (`{"Code": "ConditionalCheckFailed", "Message": ..., "Item": ...}`;
    `{"Code": "None"}` for an action that was not the cause).
    """

    def __init__(self, message: str, reasons: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.reasons = reasons or []

    @classmethod
    def for_reasons(cls, reasons: list[dict[str, Any]]) -> TransactionCanceledException:
        """The error with DynamoDB's message, which lists the reasons' codes."""
        codes = ", ".join(str(reason["Code"]) for reason in reasons)
        return cls("Transaction cancelled, please refer cancellation reasons for specific "
                   f"reasons [{codes}]", reasons)

    def body(self) -> dict[str, Any]:
        body = super().body()
        body["CancellationReasons"] = self.reasons
        return body


class TransactionInProgressException(DynamoError):
    """A TransactWriteItems with the same ClientRequestToken is still running."""


class IdempotentParameterMismatchException(DynamoError):
    """A ClientRequestToken was used again, within 10 minutes, for another request."""
