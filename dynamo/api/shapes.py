"""Request shapes: the first check every DynamoDB call goes through.

DynamoDB's front end (Amazon's "Coral" service framework) reads a request
against the operation's model before any code of the operation runs. Two kinds
of mistake are caught there, each with its own error (Developer Guide, "Error handling with DynamoDB"):

1. A member of the wrong JSON type (a number where a string belongs, a list
   where a structure belongs) cannot even be deserialised:
   `SerializationException`, e.g. "Start of list found where not expected".
2. A value that breaks a constraint of the model (a missing required member,
   a name too short, an enum outside its set, a number out of range):
   `ValidationException`, all problems in one message, in Coral's words:

       2 validation errors detected: Value null at 'tableName' failed to satisfy
       constraint: Member must not be null; Value '0' at 'limit' failed to satisfy
       constraint: Member must have value greater than or equal to 1

Member paths are the model's member names with a lower-case first letter,
list elements are `member` after a 1-based index (`keySchema.1.member.keyType`).
Unknown members are ignored, as Coral does.

The operation shapes at the end of the module are transcribed from the
DynamoDB API reference; the rules that tie members to each other (Segment
needs TotalSegments...) belong to the operations, not here. Where dynalite's
tests record the order in which DynamoDB lists several problems (not the
reference's order), the members are written in that order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dynamo.storage.errors import SerializationException, ValidationException

MAX_LISTED_ERRORS = 10


class Shape:
    """A node of an operation's input model."""

    def __init__(self, *, required: bool = False) -> None:
        self.required = required

    def check(self, value: Any, path: str, problems: list[str]) -> Any:
        """Raise SerializationException on a wrong JSON type; append constraint problems.

        Returns the value as Coral reads it (only booleans are ever converted).
        """
        raise NotImplementedError


def _problem(value: Any, path: str, constraint: str) -> str:
    shown = "null" if value is None else f"'{java_text(value)}'"
    return f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}"


def java_text(value: Any) -> str:
    """A value as Coral prints it in messages (Java's toString of the parsed model)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(java_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={java_text(v)}" for k, v in value.items()) + "}"
    return str(value)


# Coral's JSON reader names the Java class it was handed (the same words
# `dynamo.storage.attributes` uses for attribute values).
_BIG_NUMBER = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber"
_LIST_FOUND = "Start of list found where not expected"
_MAP_FOUND = "Start of structure or map found where not expected."
_TRUE_WORDS = frozenset({"TRUE", "1", "YES"})
_FALSE_WORDS = frozenset({"FALSE", "0", "NO"})


def _wrong_type(value: Any, java_type: str) -> SerializationException:
    """The error Coral's JSON reader gives for a scalar member of the wrong type.

    `java_type` comes with Coral's article, grammar and all: "an String", "a Blob".
    """
    if isinstance(value, list):
        return SerializationException(_LIST_FOUND)
    if isinstance(value, dict):
        return SerializationException(_MAP_FOUND)
    if isinstance(value, bool):
        return SerializationException(f"class java.lang.Boolean can not be converted to {java_type}")
    if isinstance(value, str):
        return SerializationException(f"class java.lang.String can not be converted to {java_type}")
    return SerializationException(f"{_BIG_NUMBER} can not be converted to {java_type}")


class String(Shape):
    """A string member, with optional length, pattern and enum constraints."""

    def __init__(self, *, required: bool = False, min_len: int | None = None,
                 max_len: int | None = None, pattern: str | None = None,
                 enum: tuple[str, ...] | None = None) -> None:
        super().__init__(required=required)
        self.min_len, self.max_len, self.enum = min_len, max_len, enum
        self.pattern = pattern
        self._regex = re.compile(pattern) if pattern else None

    def check(self, value: Any, path: str, problems: list[str]) -> Any:
        if not isinstance(value, str):
            raise _wrong_type(value, "an String")
        if self._regex is not None and not self._regex.fullmatch(value):
            problems.append(_problem(
                value, path, f"Member must satisfy regular expression pattern: {self.pattern}"))
        if self.min_len is not None and len(value) < self.min_len:
            problems.append(_problem(
                value, path, f"Member must have length greater than or equal to {self.min_len}"))
        if self.max_len is not None and len(value) > self.max_len:
            problems.append(_problem(
                value, path, f"Member must have length less than or equal to {self.max_len}"))
        if self.enum is not None and value not in self.enum:
            problems.append(_problem(
                value, path, f"Member must satisfy enum value set: [{', '.join(self.enum)}]"))
        return value


class ControlPlaneTableName(String):
    """TableName of UpdateTable, UpdateTimeToLive and DescribeTimeToLive.

    Each checks the name's length itself, before Coral, and says so in
    words of its own; a missing name is its check too, so the member is not
    `required` here. (dynalite records the same for DescribeTable and
    DeleteTable, but only from an older DynamoDB; they keep Coral's words.)
    """

    def __init__(self, missing: str) -> None:
        super().__init__(min_len=3, max_len=255, pattern=NAME_PATTERN)
        self.missing = missing

    def check(self, value: Any, path: str, problems: list[str]) -> Any:
        if isinstance(value, str) and not 3 <= len(value) <= 255:
            raise ValidationException(
                "TableName must be at least 3 characters long and at most 255 characters long")
        return super().check(value, path, problems)


def require_table_name(shape: Structure, params: dict[str, Any]) -> None:
    """A missing TableName, for an operation whose TableName is a ControlPlaneTableName."""
    member = shape.members.get("TableName")
    if params.get("TableName") is None and isinstance(member, ControlPlaneTableName):
        raise ValidationException(member.missing)


class Integer(Shape):
    """An Integer or Long member, with an optional range."""

    def __init__(self, *, required: bool = False, low: int | None = None,
                 high: int | None = None, java_type: str = "Integer") -> None:
        super().__init__(required=required)
        self.low, self.high, self.java_type = low, high, java_type

    def check(self, value: Any, path: str, problems: list[str]) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _wrong_type(value, f"an {self.java_type}")
        # Coral truncates a JSON number with a fraction to the integer type.
        value = int(value)
        if self.low is not None and value < self.low:
            problems.append(_problem(
                value, path, f"Member must have value greater than or equal to {self.low}"))
        if self.high is not None and value > self.high:
            problems.append(_problem(
                value, path, f"Member must have value less than or equal to {self.high}"))
        return value


class Boolean(Shape):
    """A boolean member; Coral also reads the strings true/false/1/0/yes/no."""

    def check(self, value: Any, path: str, problems: list[str]) -> Any:
        if value is True or value is False:
            return value
        if isinstance(value, str):
            word = value.upper()
            if word in _TRUE_WORDS or word in _FALSE_WORDS:
                return word in _TRUE_WORDS
            raise SerializationException(f"'{word}' can not be converted to an Boolean")
        raise _wrong_type(value, "an Boolean")


class ListOf(Shape):
    """A list member; `member` checks each element."""

    def __init__(self, member: Shape, *, required: bool = False,
                 min_len: int | None = None, max_len: int | None = None) -> None:
        super().__init__(required=required)
        self.member, self.min_len, self.max_len = member, min_len, max_len

    def check(self, value: Any, path: str, problems: list[str]) -> Any:
        if not isinstance(value, list):
            if isinstance(value, dict):
                raise SerializationException(_MAP_FOUND)
            raise SerializationException("Expected list or null")
        for constraint in self.length_problems(value):
            problems.append(_problem(value, path, constraint))
        self.check_members(value, path, problems)
        return value

    def check_members(self, value: list[Any], path: str, problems: list[str]) -> None:
        """Check each element of a list already known to be a list."""
        for index, element in enumerate(value, start=1):
            if element is not None:
                self.member.check(element, f"{path}.{index}.member", problems)
            elif _needs_value(self.member):
                problems.append(_problem(None, f"{path}.{index}.member", "Member must not be null"))

    def length_problems(self, value: list[Any]) -> list[str]:
        """The length constraints this list breaks, in Coral's words."""
        found = []
        if self.max_len is not None and len(value) > self.max_len:
            found.append(f"Member must have length less than or equal to {self.max_len}")
        if self.min_len is not None and len(value) < self.min_len:
            found.append(f"Member must have length greater than or equal to {self.min_len}")
        return found


class MapOf(Shape):
    """A map from strings to `value` shapes; `key`, when given, constrains the keys.

    A key that breaks its constraints is reported once for the whole map, with
    every constraint of the key listed: "Map keys must satisfy constraint: [...]".
    """

    def __init__(self, value: Shape, *, required: bool = False,
                 min_len: int | None = None, max_len: int | None = None,
                 key: String | None = None) -> None:
        super().__init__(required=required)
        self.value, self.min_len, self.max_len, self.key = value, min_len, max_len, key

    def check(self, value: Any, path: str, problems: list[str]) -> Any:
        if not isinstance(value, dict):
            raise _container_type_error(value)
        if self.key is not None and any(_key_problems(self.key, key) for key in value):
            constraints = ", ".join(_all_key_constraints(self.key))
            problems.append(_problem(
                value, path, f"Map keys must satisfy constraint: [{constraints}]"))
        if self.max_len is not None and len(value) > self.max_len:
            problems.append(_problem(
                value, path, f"Member must have length less than or equal to {self.max_len}"))
        if self.min_len is not None and len(value) < self.min_len:
            problems.append(_problem(
                value, path, f"Member must have length greater than or equal to {self.min_len}"))
        broken_lengths = False
        for key, element in value.items():
            if element is None:
                if _needs_value(self.value):
                    problems.append(_problem(None, f"{path}.{key}.member", "Member must not be null"))
                continue
            if isinstance(self.value, ListOf) and isinstance(element, list):
                # Coral reports a bad list length inside a map once, for the whole map.
                broken_lengths = broken_lengths or bool(self.value.length_problems(element))
                self.value.check_members(element, f"{path}.{key}.member", problems)
            else:
                self.value.check(element, f"{path}.{key}.member", problems)
        if broken_lengths:
            assert isinstance(self.value, ListOf)
            constraints = ", ".join(_all_length_constraints(self.value))
            problems.append(_problem(
                value, path, f"Map value must satisfy constraint: [{constraints}]"))
        return value


def _needs_value(shape: Shape) -> bool:
    """Whether a null list element or map value of this shape is refused.

    The operations read the members of a structure, list or map element, so a
    null one is "Member must not be null" at the element's path (a null string
    or attribute value is left for the operation's own check). DynamoDB's
    reference does not say what Coral answers here; this keeps it a 400.
    """
    return isinstance(shape, Structure | ListOf | MapOf)


def _key_problems(shape: String, key: str) -> bool:
    """Whether a map key breaks any constraint of its shape."""
    found: list[str] = []
    shape.check(key, "", found)
    return bool(found)


def _all_key_constraints(shape: String) -> list[str]:
    """Every constraint of a map key's shape, in Coral's order."""
    found = []
    if shape.max_len is not None:
        found.append(f"Member must have length less than or equal to {shape.max_len}")
    if shape.min_len is not None:
        found.append(f"Member must have length greater than or equal to {shape.min_len}")
    if shape.pattern is not None:
        found.append(f"Member must satisfy regular expression pattern: {shape.pattern}")
    return found


def _all_length_constraints(shape: ListOf) -> list[str]:
    found = []
    if shape.max_len is not None:
        found.append(f"Member must have length less than or equal to {shape.max_len}")
    if shape.min_len is not None:
        found.append(f"Member must have length greater than or equal to {shape.min_len}")
    return found


def _container_type_error(value: Any) -> SerializationException:
    if isinstance(value, list):
        return SerializationException(_LIST_FOUND)
    return SerializationException("Expected map or null")


class Structure(Shape):
    """A structure: named members, each with its own shape."""

    def __init__(self, members: Mapping[str, Shape], *, required: bool = False) -> None:
        super().__init__(required=required)
        self.members = dict(members)
        self._paths = {name: name[0].lower() + name[1:] for name in self.members}
        self._required = tuple(name for name, shape in self.members.items() if shape.required)

    def check(self, value: Any, path: str, problems: list[str]) -> Any:
        if not isinstance(value, dict):
            raise _container_type_error(value)
        found = len(problems)
        # The hot path: walk only the members present (a GetItem has 2 of 7).
        for name, member in list(value.items()):
            shape = self.members.get(name)
            if shape is None:
                continue
            if member is None:
                # Coral reads a JSON null as an absent member.
                del value[name]
                continue
            read = shape.check(member, self._member_path(path, name), problems)
            if read is not member:
                value[name] = read
        missing = [name for name in self._required if name not in value]
        if missing or len(problems) > found:
            # Coral lists problems in the model's member order: walk again in it.
            del problems[found:]
            for name, shape in self.members.items():
                if name in value:
                    shape.check(value[name], self._member_path(path, name), problems)
                elif shape.required:
                    problems.append(_problem(
                        None, self._member_path(path, name), "Member must not be null"))
        return value

    def _member_path(self, path: str, name: str) -> str:
        return f"{path}.{self._paths[name]}" if path else self._paths[name]


class AttributeValueShape(Shape):
    """DynamoDB's AttributeValue: a structure with one member per data type.

    Here: that it is an object, and that a scalar S, N or B member is a string,
    so a key like `{"pk": {"S": 5}}` gets Coral's SerializationException
    before any table is looked up. What makes a value valid beyond its JSON
    types (exactly one type, numbers, sets, nesting) is checked by storage's
    `attributes.validate_value`.
    """

    def check(self, value: Any, path: str, problems: list[str]) -> Any:
        if not isinstance(value, dict):
            raise _container_type_error(value)
        for kind in ("S", "N", "B"):
            payload = value.get(kind)
            if payload is not None and not isinstance(payload, str):
                raise _wrong_type(payload, "an String" if kind != "B" else "a Blob")
        return value


def validate(shape: Structure, params: dict[str, Any]) -> None:
    """Check a request against its shape; raise DynamoDB's error if it fails.

    Raises:
        SerializationException: a member has the wrong JSON type.
        ValidationException: one or more constraints are broken (all listed).
    """
    problems: list[str] = []
    shape.check(params, "", problems)
    if problems:
        raise ValidationException(validation_message(problems))


def validation_message(problems: list[str]) -> str:
    """Coral's summary: "1 validation error detected: ..." or "3 validation errors ..."."""
    count = len(problems)
    noun = "error" if count == 1 else "errors"
    listed = "; ".join(problems[:MAX_LISTED_ERRORS])
    return f"{count} validation {noun} detected: {listed}"


# -- the model ------------------------------------------------------------------------------

ATTRIBUTE_VALUE = AttributeValueShape()

NAME_PATTERN = "[a-zA-Z0-9_.-]+"


def table_name(required: bool = True) -> String:
    """A table or index name: 3 to 255 characters of [a-zA-Z0-9_.-]."""
    return String(required=required, min_len=3, max_len=255, pattern=NAME_PATTERN)


ATTRIBUTE_MAP = MapOf(ATTRIBUTE_VALUE)
NAMES = MapOf(String())
CAPACITY = String(enum=("INDEXES", "TOTAL", "NONE"))
METRICS = String(enum=("SIZE", "NONE"))
# Enum values are listed in the order DynamoDB prints them in messages.
RETURN_VALUES = String(enum=("ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"))
ON_CONDITION_FAILURE = String(enum=("ALL_OLD", "NONE"))
CONDITIONAL_OPERATOR = String(enum=("AND", "OR"))
COMPARISON = ("IN", "NULL", "BETWEEN", "LT", "NOT_CONTAINS", "EQ", "GT", "NOT_NULL", "NE", "LE",
              "BEGINS_WITH", "GE", "CONTAINS")
SELECT = String(enum=("SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES",
                      "ALL_PROJECTED_ATTRIBUTES"))
ATTRIBUTES_TO_GET = ListOf(String(), min_len=1)
CONDITION = Structure({
    "AttributeValueList": ListOf(ATTRIBUTE_VALUE),
    "ComparisonOperator": String(required=True, enum=COMPARISON),
})
EXPECTED = MapOf(Structure({
    "Value": ATTRIBUTE_VALUE,
    "Exists": Boolean(),
    "ComparisonOperator": String(enum=COMPARISON),
    "AttributeValueList": ListOf(ATTRIBUTE_VALUE),
}))
THROUGHPUT = Structure({
    "WriteCapacityUnits": Integer(required=True, low=1, java_type="Long"),
    "ReadCapacityUnits": Integer(required=True, low=1, java_type="Long"),
})
BILLING_MODE = String(enum=("PROVISIONED", "PAY_PER_REQUEST"))
ATTRIBUTE_DEFINITIONS = ListOf(Structure({
    "AttributeName": String(required=True, min_len=1, max_len=255),
    "AttributeType": String(required=True, enum=("B", "N", "S")),
}))
KEY_SCHEMA = ListOf(Structure({
    "AttributeName": String(required=True, min_len=1, max_len=255),
    "KeyType": String(required=True, enum=("HASH", "RANGE")),
}), required=True, min_len=1, max_len=2)
EXPRESSION = String()
# Dynalite's model: an index's KeyType is any string here (the operation checks it).
INDEX_KEY_SCHEMA = ListOf(Structure({
    "AttributeName": String(required=True, min_len=1, max_len=255),
    "KeyType": String(required=True),
}), required=True, min_len=1, max_len=2)
PROJECTION = Structure({
    "ProjectionType": String(enum=("ALL", "INCLUDE", "KEYS_ONLY")),
    "NonKeyAttributes": ListOf(String(), min_len=1, max_len=20),
}, required=True)
LOCAL_INDEX = Structure({
    "KeySchema": INDEX_KEY_SCHEMA,
    "Projection": PROJECTION,
    "IndexName": table_name(),
})
GLOBAL_INDEX = Structure({
    "KeySchema": INDEX_KEY_SCHEMA,
    "Projection": PROJECTION,
    "IndexName": table_name(),
    "ProvisionedThroughput": THROUGHPUT,
})

CREATE_TABLE = Structure({
    "AttributeDefinitions": ListOf(ATTRIBUTE_DEFINITIONS.member, required=True),
    "TableName": table_name(),
    "ProvisionedThroughput": THROUGHPUT,
    "KeySchema": KEY_SCHEMA,
    "LocalSecondaryIndexes": ListOf(LOCAL_INDEX),
    "GlobalSecondaryIndexes": ListOf(GLOBAL_INDEX),
    "BillingMode": BILLING_MODE,
    "StreamSpecification": Structure({"StreamEnabled": Boolean(required=True)}),
    "Tags": ListOf(Structure({})),
    "DeletionProtectionEnabled": Boolean(),
})
UPDATE_TABLE = Structure({
    "AttributeDefinitions": ATTRIBUTE_DEFINITIONS,
    "TableName": ControlPlaneTableName(
        "The parameter 'TableName' is required but was not present in the request"),
    "BillingMode": BILLING_MODE,
    "ProvisionedThroughput": THROUGHPUT,
    "GlobalSecondaryIndexUpdates": ListOf(Structure({})),
    "StreamSpecification": Structure({"StreamEnabled": Boolean(required=True)}),
})
TABLE_ONLY = Structure({"TableName": table_name()})
LIST_TABLES = Structure({
    "Limit": Integer(low=1, high=100),
    "ExclusiveStartTableName": table_name(required=False),
})
PUT_ITEM = Structure({
    "ReturnConsumedCapacity": CAPACITY,
    "TableName": table_name(),
    "Item": MapOf(ATTRIBUTE_VALUE, required=True),
    "ReturnValues": RETURN_VALUES,
    "ReturnItemCollectionMetrics": METRICS,
    "Expected": EXPECTED,
    "ConditionalOperator": CONDITIONAL_OPERATOR,
    "ConditionExpression": EXPRESSION,
    "ExpressionAttributeNames": NAMES,
    "ExpressionAttributeValues": ATTRIBUTE_MAP,
    "ReturnValuesOnConditionCheckFailure": ON_CONDITION_FAILURE,
})
GET_ITEM = Structure({
    "ReturnConsumedCapacity": CAPACITY,
    "AttributesToGet": ATTRIBUTES_TO_GET,
    "TableName": table_name(),
    "Key": MapOf(ATTRIBUTE_VALUE, required=True),
    "ConsistentRead": Boolean(),
    "ProjectionExpression": EXPRESSION,
    "ExpressionAttributeNames": NAMES,
})
UPDATE_ITEM = Structure({
    "ReturnConsumedCapacity": CAPACITY,
    "TableName": table_name(),
    "ReturnItemCollectionMetrics": METRICS,
    "ReturnValues": RETURN_VALUES,
    "Key": MapOf(ATTRIBUTE_VALUE, required=True),
    "AttributeUpdates": MapOf(Structure({
        "Value": ATTRIBUTE_VALUE,
        "Action": String(enum=("ADD", "PUT", "DELETE")),
    })),
    "Expected": EXPECTED,
    "ConditionalOperator": CONDITIONAL_OPERATOR,
    "UpdateExpression": EXPRESSION,
    "ConditionExpression": EXPRESSION,
    "ExpressionAttributeNames": NAMES,
    "ExpressionAttributeValues": ATTRIBUTE_MAP,
    "ReturnValuesOnConditionCheckFailure": ON_CONDITION_FAILURE,
})
DELETE_ITEM = Structure({
    "TableName": table_name(),
    "Key": MapOf(ATTRIBUTE_VALUE, required=True),
    "Expected": EXPECTED,
    "ConditionalOperator": CONDITIONAL_OPERATOR,
    "ReturnValues": RETURN_VALUES,
    "ReturnConsumedCapacity": CAPACITY,
    "ReturnItemCollectionMetrics": METRICS,
    "ConditionExpression": EXPRESSION,
    "ExpressionAttributeNames": NAMES,
    "ExpressionAttributeValues": ATTRIBUTE_MAP,
    "ReturnValuesOnConditionCheckFailure": ON_CONDITION_FAILURE,
})
QUERY = Structure({
    "Limit": Integer(low=1),
    "KeyConditions": MapOf(CONDITION),
    "ReturnConsumedCapacity": CAPACITY,
    "AttributesToGet": ATTRIBUTES_TO_GET,
    "TableName": table_name(),
    "Select": SELECT,
    "IndexName": table_name(required=False),
    "ConsistentRead": Boolean(),
    "QueryFilter": MapOf(CONDITION),
    "ConditionalOperator": CONDITIONAL_OPERATOR,
    "ScanIndexForward": Boolean(),
    "ExclusiveStartKey": ATTRIBUTE_MAP,
    "ProjectionExpression": EXPRESSION,
    "FilterExpression": EXPRESSION,
    "KeyConditionExpression": EXPRESSION,
    "ExpressionAttributeNames": NAMES,
    "ExpressionAttributeValues": ATTRIBUTE_MAP,
})
SCAN = Structure({
    "TableName": table_name(),
    "IndexName": table_name(required=False),
    "AttributesToGet": ATTRIBUTES_TO_GET,
    "Limit": Integer(low=1),
    "Select": SELECT,
    "ScanFilter": MapOf(CONDITION),
    "ConditionalOperator": CONDITIONAL_OPERATOR,
    "ExclusiveStartKey": ATTRIBUTE_MAP,
    "ReturnConsumedCapacity": CAPACITY,
    "TotalSegments": Integer(low=1, high=1_000_000),
    "Segment": Integer(low=0, high=999_999),
    "ProjectionExpression": EXPRESSION,
    "FilterExpression": EXPRESSION,
    "ExpressionAttributeNames": NAMES,
    "ExpressionAttributeValues": ATTRIBUTE_MAP,
    "ConsistentRead": Boolean(),
})
BATCH_GET_ITEM = Structure({
    "ReturnConsumedCapacity": CAPACITY,
    "RequestItems": MapOf(Structure({
        "Keys": ListOf(ATTRIBUTE_MAP, required=True, min_len=1, max_len=100),
        "AttributesToGet": ATTRIBUTES_TO_GET,
        "ConsistentRead": Boolean(),
        "ProjectionExpression": EXPRESSION,
        "ExpressionAttributeNames": NAMES,
    }), required=True, min_len=1, max_len=100, key=table_name()),
})
BATCH_WRITE_ITEM = Structure({
    "ReturnConsumedCapacity": CAPACITY,
    "ReturnItemCollectionMetrics": METRICS,
    "RequestItems": MapOf(ListOf(Structure({
        "DeleteRequest": Structure({"Key": MapOf(ATTRIBUTE_VALUE, required=True)}),
        "PutRequest": Structure({"Item": MapOf(ATTRIBUTE_VALUE, required=True)}),
    }), min_len=1, max_len=25), required=True, min_len=1, max_len=25, key=table_name()),
})
TABLE_NAME_REQUIRED = "The parameter 'TableName' is required but was not present in the request"
UPDATE_TIME_TO_LIVE = Structure({
    "TableName": ControlPlaneTableName(TABLE_NAME_REQUIRED),
    # An empty AttributeName is the operation's own check, in words of its own (dynalite).
    "TimeToLiveSpecification": Structure({
        "Enabled": Boolean(required=True),
        "AttributeName": String(required=True, max_len=255),
    }, required=True),
})
DESCRIBE_TIME_TO_LIVE = Structure({"TableName": ControlPlaneTableName(TABLE_NAME_REQUIRED)})
