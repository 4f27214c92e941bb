"""KeyRange: what a Query's key condition asks of the B-tree.

A Query names one partition key value exactly and, optionally, one condition
on the sort key: `=`, `<`, `<=`, `>`, `>=`, `BETWEEN` or `begins_with`
(Developer Guide, "Key condition expressions for query"). Items of one
partition are stored in sort-key order (paper §2), and keys.encode_value
turns sort-key values into bytes that sort the same way, so every such
condition is a contiguous range of encoded sort keys: the engine seeks to
`low` and reads until it passes `high`, never filtering item by item.

`begins_with(sk, :p)` is a range too: every string (or binary) starting with
p encodes to bytes starting with p's bytes, and those are exactly the byte
strings from p (included) up to p with its last byte raised by one
(excluded), e.g. "ab" .. "ac".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dynamo.storage.attributes import type_of
from dynamo.storage.errors import ValidationException
from dynamo.storage.expressions.ast import (
    And,
    AttributeValue,
    Between,
    Call,
    Comparison,
    Condition,
    In,
    Literal,
    Not,
    Operand,
    Or,
    PathRef,
)
from dynamo.storage.keys import KeySchema, encode_value

SORT_OPERATORS = ("=", "<", "<=", ">", ">=", "BETWEEN", "begins_with")

Bounds = tuple[bytes | None, bool, bytes | None, bool]


@dataclass(frozen=True)
class KeyRange:
    """One partition, and optionally a condition on its sort keys."""

    partition_value: AttributeValue
    sort_op: str | None = None
    sort_values: tuple[AttributeValue, ...] = ()

    def bounds(self, schema: KeySchema) -> Bounds:
        """(low, low_inclusive, high, high_inclusive) over encoded sort keys.

        None for an open end. `schema` is the table's (or index's) key schema;
        the values were checked against its types when the request compiled.
        """
        if self.sort_op is None:
            return None, True, None, True
        encoded = [encode_value(value) for value in self.sort_values]
        match self.sort_op:
            case "=":
                return encoded[0], True, encoded[0], True
            case "<":
                return None, True, encoded[0], False
            case "<=":
                return None, True, encoded[0], True
            case ">":
                return encoded[0], False, None, True
            case ">=":
                return encoded[0], True, None, True
            case "BETWEEN":
                return encoded[0], True, encoded[1], True
            case "begins_with":
                return encoded[0], True, prefix_end(encoded[0]), False
        raise ValueError(f"not a sort key operator: {self.sort_op}")


def prefix_end(prefix: bytes) -> bytes | None:
    """The smallest byte string above every string that starts with `prefix`.

    None when there is none (an empty prefix, or one of only 0xFF bytes):
    the range is then open at the top.
    """
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return trimmed[:-1] + bytes([trimmed[-1] + 1])


# ------------------------------------------------ from conditions to a range
# A key condition reduced to one (operator, values) per attribute name, the
# shape both KeyConditionExpression and legacy KeyConditions take.
KeyConditions = dict[str, tuple[str, tuple[AttributeValue, ...]]]

_EMPTY_KEY = ("One or more parameter values are not valid. The AttributeValue for a key "
              "attribute cannot contain an empty {kind} value. Key: {name}")


def key_range(conditions: KeyConditions, schema: KeySchema) -> KeyRange:
    """Check per-attribute key conditions against the schema; the range they ask for.

    Raises:
        ValidationException: the partition key is missing or not compared with
            `=`, a condition names a non-key attribute, or a value's type is
            not the key's type.
    """
    partition, sort = schema.partition, schema.sort
    if len(conditions) not in (1, 2):
        raise ValidationException("Conditions can be of length 1 or 2 only")
    if sort is None and len(conditions) > 1:
        raise ValidationException("Query key condition not supported")
    for attribute in (partition, sort):
        if attribute is not None and attribute.name not in conditions and (
                attribute is partition or len(conditions) > 1):
            raise ValidationException("Query condition missed key schema element: "
                                      f"{attribute.name}")
    if any(op not in SORT_OPERATORS for op, _ in conditions.values()):
        raise ValidationException("Attempted conditional constraint is not an indexable "
                                  "operation")
    for attribute in (partition, sort):
        if attribute is None or attribute.name not in conditions:
            continue
        op, values = conditions[attribute.name]
        if any(type_of(value) != attribute.type for value in values):
            raise ValidationException("One or more parameter values were invalid: Condition "
                                      "parameter type does not match schema type")
        if attribute is partition and op != "=":
            raise ValidationException("Query key condition not supported")
    partition_value = conditions[partition.name][1][0]
    if type_of(partition_value) in ("S", "B") and not partition_value[partition.type]:
        kind = "string" if partition.type == "S" else "binary"
        raise ValidationException(_EMPTY_KEY.format(kind=kind, name=partition.name))
    if sort is None or sort.name not in conditions:
        return KeyRange(partition_value)
    op, values = conditions[sort.name]
    return KeyRange(partition_value, op, values)


def key_conditions(condition: Condition) -> KeyConditions:
    """Reduce a substituted KeyConditionExpression to one condition per attribute.

    Only `pk = :v` and one sort key condition joined by AND are allowed; the
    messages are DynamoDB's for each way a key condition can go wrong.
    """
    parts = condition.operands if isinstance(condition, And) else (condition,)
    result: KeyConditions = {}
    for part in parts:
        name, op, values = _key_condition(part)
        if name in result:
            raise ValidationException("KeyConditionExpressions must only contain one condition "
                                      "per key")
        result[name] = (op, values)
    return result


_FLIPPED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _key_condition(part: Condition) -> tuple[str, str, tuple[AttributeValue, ...]]:
    match part:
        case Or():
            raise _invalid_operator("OR")
        case Not():
            raise _invalid_operator("NOT")
        case In():
            raise _invalid_operator("IN")
        case And():
            raise _invalid_operator("AND")
        case Comparison("<>", _, _):
            raise _invalid_operator("<>")
        case Call(name, _) if name != "begins_with":
            raise _invalid_operator(name)
        case Comparison(op, left, right):
            name, values = _key_and_values((left, right))
            return name, op if isinstance(left, PathRef) else _FLIPPED[op], values
        case Between(subject, low, high):
            _require_key_first("BETWEEN", subject)
            name, values = _key_and_values((subject, low, high))
            return name, "BETWEEN", values
        case Call("begins_with", args):
            _require_key_first("begins_with", args[0])
            name, values = _key_and_values(args)
            return name, "begins_with", values
    raise TypeError(f"not a condition: {part!r}")


def _invalid_operator(name: str) -> ValidationException:
    return ValidationException(f"Invalid operator used in KeyConditionExpression: {name}")


def _require_key_first(name: str, first: Operand) -> None:
    if isinstance(first, Call):
        raise ValidationException("KeyConditionExpressions cannot contain nested operations")
    if not isinstance(first, PathRef):
        raise ValidationException(f"Invalid condition in KeyConditionExpression: {name} "
                                  "operator must have the key attribute as its first operand")


def _key_and_values(operands: Sequence[Operand]) -> tuple[str, tuple[AttributeValue, ...]]:
    name: str | None = None
    values: list[AttributeValue] = []
    for operand in operands:
        if isinstance(operand, Call):
            raise ValidationException("KeyConditionExpressions cannot contain nested operations")
        if isinstance(operand, PathRef):
            if name is not None:
                raise ValidationException("Invalid condition in KeyConditionExpression: "
                                          "Multiple attribute names used in one condition")
            if len(operand.path) > 1:
                raise ValidationException("KeyConditionExpressions cannot have conditions on "
                                          "nested attributes")
            name = str(operand.path[0])
        elif isinstance(operand, Literal):
            values.append(operand.value)
    if name is None:
        raise ValidationException("Invalid condition in KeyConditionExpression: No key "
                                  "attribute specified")
    return name, tuple(values)
