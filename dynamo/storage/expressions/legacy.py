"""The legacy parameters, translated onto the expression tree.

Before expressions, DynamoDB requests said the same things with structured
parameters (Developer Guide, "Legacy conditional parameters"), which the
service still accepts:

    Expected + ConditionalOperator   ->  a ConditionExpression
    QueryFilter / ScanFilter         ->  a FilterExpression
    KeyConditions                    ->  a KeyConditionExpression
    AttributeUpdates                 ->  an UpdateExpression
    AttributesToGet                  ->  a ProjectionExpression

Each is checked with DynamoDB's messages for that parameter, then rewritten
as the same AST nodes the parser produces, e.g. `{"a": {"ComparisonOperator":
"BETWEEN", "AttributeValueList": [x, y]}}` becomes `Between(a, x, y)`. One
evaluator then serves both styles. A request may not mix the two styles;
compile.py refuses that before anything here runs.
"""

from __future__ import annotations

from typing import Any

from dynamo.storage.attributes import compare_values, type_of, validate_value
from dynamo.storage.errors import ValidationException
from dynamo.storage.expressions.ast import (
    AddAction,
    And,
    AttributeValue,
    Between,
    Call,
    Clause,
    Comparison,
    Condition,
    DeleteAction,
    In,
    Literal,
    Not,
    Or,
    Path,
    PathRef,
    RemoveAction,
    SetAction,
    Update,
)
from dynamo.storage.expressions.keyrange import KeyConditions
from dynamo.storage.expressions.operands import legacy_accepts

INVALID = "One or more parameter values were invalid: "

# How many values each ComparisonOperator takes (IN: one or more).
_ARITY = {"NULL": 0, "NOT_NULL": 0, "EQ": 1, "NE": 1, "LE": 1, "LT": 1, "GE": 1, "GT": 1,
          "CONTAINS": 1, "NOT_CONTAINS": 1, "BEGINS_WITH": 1, "IN": None, "BETWEEN": 2}
_COMPARATORS = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}
_KEY_OPERATORS = {"EQ": "=", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">",
                  "BETWEEN": "BETWEEN", "BEGINS_WITH": "begins_with"}


# ------------------------------------------------------------------ Expected
def expected_condition(expected: Any, operator: Any) -> Condition:
    """`Expected` (+ `ConditionalOperator`) as a condition."""
    parts = [_expected_part(name, spec) for name, spec in _entries(expected, "Expected")]
    return _joined(parts, operator)


def _expected_part(name: str, spec: dict[str, Any]) -> Condition:
    if "AttributeValueList" in spec and "Value" in spec:
        raise ValidationException(INVALID + "Value and AttributeValueList cannot be used "
                                  f"together for Attribute: {name}")
    if "ComparisonOperator" in spec:
        if "Exists" in spec:
            raise ValidationException(INVALID + "Exists and ComparisonOperator cannot be used "
                                      f"together for Attribute: {name}")
        op = _operator(spec, "Expected")
        if op not in ("NULL", "NOT_NULL") and "AttributeValueList" not in spec \
                and "Value" not in spec:
            raise ValidationException(INVALID + "Value or AttributeValueList must be used with "
                                      f"ComparisonOperator: {op} for Attribute: {name}")
        values = spec.get("AttributeValueList")
        if values is None:
            values = [spec["Value"]] if "Value" in spec else []
        return _comparison(name, op, _checked_values(op, values))
    if "AttributeValueList" in spec:
        raise ValidationException(INVALID + "AttributeValueList can only be used with a "
                                  f"ComparisonOperator for Attribute: {name}")
    exists = spec.get("Exists")
    if exists is not False and spec.get("Value") is None:
        shown = "null" if exists is None else "true"
        raise ValidationException(INVALID + f"Value must be provided when Exists is {shown} "
                                  f"for Attribute: {name}")
    if exists is False:
        if spec.get("Value") is not None:
            raise ValidationException(INVALID + "Value cannot be used when Exists is false for "
                                      f"Attribute: {name}")
        return Call("attribute_not_exists", (PathRef((name,)),))
    return Comparison("=", PathRef((name,)), Literal(validate_value(spec["Value"])))


# ------------------------------------------------- QueryFilter, ScanFilter
def filter_condition(filters: Any, operator: Any, parameter: str) -> Condition:
    """`QueryFilter` / `ScanFilter` (+ `ConditionalOperator`) as a condition."""
    parts = []
    for name, spec in _entries(filters, parameter):
        op = _operator(spec, parameter)
        values = _checked_values(op, spec.get("AttributeValueList") or [])
        parts.append(_comparison(name, op, values))
    return _joined(parts, operator)


# ------------------------------------------------------------ KeyConditions
def legacy_key_conditions(conditions: Any) -> KeyConditions:
    """`KeyConditions` as one (operator, values) per attribute (see keyrange.py)."""
    result: KeyConditions = {}
    entries = _entries(conditions, "KeyConditions")
    for name, spec in entries:
        op = _operator(spec, "KeyConditions")
        values = _checked_values(op, spec.get("AttributeValueList") or [])
        result[name] = (op, tuple(values))
    if len(result) not in (1, 2):
        raise ValidationException("Conditions can be of length 1 or 2 only")
    # An operator no key condition has (NULL, CONTAINS...) keeps its legacy name: DynamoDB
    # refuses it only once it has the table (keyrange.key_range).
    return {name: (_KEY_OPERATORS.get(op, op), values) for name, (op, values) in result.items()}


# --------------------------------------------------------- AttributeUpdates
def attribute_updates(updates: Any) -> Update:
    """`AttributeUpdates` as an update: PUT is SET, DELETE without a value is REMOVE."""
    sets, removes, adds, deletes = [], [], [], []
    for name, spec in _entries(updates, "AttributeUpdates"):
        path = PathRef((name,))
        action = spec.get("Action") or "PUT"
        value = spec.get("Value")
        if value is None:
            if action != "DELETE":
                raise ValidationException(INVALID + "Only DELETE action is allowed when no "
                                          "attribute value is specified")
            removes.append(RemoveAction(path))
            continue
        value = validate_value(value)
        kind = type_of(value)
        if action == "PUT":
            sets.append(SetAction(path, Literal(value)))
        elif action == "ADD":
            if kind not in ("N", "SS", "NS", "BS", "L"):
                raise ValidationException(INVALID + f"ADD action is not supported for the type "
                                          f"{kind}")
            adds.append(AddAction(path, Literal(value)))
        elif action == "DELETE":
            if kind not in ("SS", "NS", "BS"):
                raise ValidationException(INVALID + "DELETE action with value is not supported "
                                          f"for the type {kind}")
            deletes.append(DeleteAction(path, Literal(value)))
        else:
            raise ValidationException(
                f"1 validation error detected: Value '{action}' at 'attributeUpdates.{name}."
                "member.action' failed to satisfy constraint: Member must satisfy enum value "
                "set: [ADD, PUT, DELETE]")
    clauses = [Clause(keyword, tuple(actions)) for keyword, actions in
               (("SET", sets), ("REMOVE", removes), ("ADD", adds), ("DELETE", deletes))
               if actions]
    return Update(tuple(clauses))


# ----------------------------------------------------------- AttributesToGet
def attributes_to_get(names: Any) -> tuple[Path, ...]:
    """`AttributesToGet` as projection paths of top-level attributes."""
    if not isinstance(names, list) or not names:
        raise ValidationException("1 validation error detected: Value '[]' at 'attributesToGet' "
                                  "failed to satisfy constraint: Member must have length "
                                  "greater than or equal to 1")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValidationException(INVALID + f"Duplicate value in attribute name: {name}")
        seen.add(name)
    return tuple((name,) for name in names)


# ------------------------------------------------------------------- shared
def check_conditional_operator(operator: Any, conditions: int) -> None:
    """ConditionalOperator joins two or more conditions of Expected or a filter.

    `conditions` is how many there are (0: the request has no Expected and no
    filter, or an empty one).
    """
    if operator is None:
        return
    if operator not in ("AND", "OR"):
        raise ValidationException(
            f"1 validation error detected: Value '{operator}' at 'conditionalOperator' failed "
            "to satisfy constraint: Member must satisfy enum value set: [OR, AND]")
    if conditions == 0:
        raise ValidationException("ConditionalOperator cannot be used without Filter or "
                                  "Expected")
    if conditions == 1:
        raise ValidationException("ConditionalOperator can only be used when Filter or "
                                  "Expected has two or more elements")


def _entries(mapping: Any, parameter: str) -> list[tuple[str, dict[str, Any]]]:
    if not isinstance(mapping, dict) or not all(isinstance(v, dict) for v in mapping.values()):
        raise ValidationException(f"{parameter} must be a map of attribute names to conditions")
    return list(mapping.items())


def _operator(spec: dict[str, Any], parameter: str) -> str:
    op = spec.get("ComparisonOperator")
    if op not in _ARITY:
        raise ValidationException(
            f"1 validation error detected: Value {'null' if op is None else repr(op)} at "
            f"'{parameter[0].lower() + parameter[1:]}.member.comparisonOperator' failed to "
            "satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, "
            "NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]")
    return op


def _checked_values(op: str, raw: Any) -> list[AttributeValue]:
    """Check a condition's values: how many, all of one type, a type the operator takes
    (operands.py)."""
    values = [validate_value(value) for value in (raw if isinstance(raw, list) else [raw])]
    arity = _ARITY[op]
    if (arity is None and not values) or (arity is not None and len(values) != arity):
        raise ValidationException(INVALID + f"Invalid number of argument(s) for the {op} "
                                  "ComparisonOperator")
    kinds = [type_of(value) for value in values]
    if any(kind != kinds[0] for kind in kinds):
        raise ValidationException(INVALID + "AttributeValues inside AttributeValueList must be "
                                  "of same type")
    for kind in kinds:
        if not legacy_accepts(op, kind):
            raise ValidationException(INVALID + f"ComparisonOperator {op} is not valid for "
                                      f"{kind} AttributeValue type")
    if op == "BETWEEN" and (compare_values(values[0], values[1]) or 0) > 0:
        raise ValidationException("The BETWEEN condition was provided a range where the lower "
                                  "bound is greater than the upper bound")
    return values


def _comparison(name: str, op: str, values: list[AttributeValue]) -> Condition:
    path = PathRef((name,))
    literals = tuple(Literal(value) for value in values)
    if op in _COMPARATORS:
        return Comparison(_COMPARATORS[op], path, literals[0])
    match op:
        case "NULL":
            return Call("attribute_not_exists", (path,))
        case "NOT_NULL":
            return Call("attribute_exists", (path,))
        case "CONTAINS":
            return Call("contains", (path, literals[0]))
        case "NOT_CONTAINS":
            # Unlike `NOT contains(...)`, NOT_CONTAINS is false on a missing attribute.
            return And((Call("attribute_exists", (path,)),
                        Not(Call("contains", (path, literals[0])))))
        case "BEGINS_WITH":
            return Call("begins_with", (path, literals[0]))
        case "IN":
            return In(path, literals)
    return Between(path, literals[0], literals[1])


def _joined(parts: list[Condition], operator: Any) -> Condition:
    check_conditional_operator(operator, len(parts))
    if len(parts) == 1:
        return parts[0]
    return Or(tuple(parts)) if operator == "OR" else And(tuple(parts))
