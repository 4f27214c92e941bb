"""compile_request: every expression of a request, checked and ready to run.

A data-plane request carries up to five expressions (Developer Guide, "Using
expressions in DynamoDB") plus the maps of placeholders they share, or the
legacy parameters that say the same things. compile_request turns all of
them into one `CompiledRequest` before the request touches any item, because
DynamoDB refuses a malformed request whole, and changes nothing:

1. The request uses one style: expressions or legacy parameters, never both
   ("Can not use both expression and non-expression parameters ...").
2. Each expression is parsed (parser.py, cached per text), its placeholders
   substituted (names.py), and what its own values make impossible refused
   (checks.py). Errors are prefixed with the parameter's name, e.g.
   "Invalid UpdateExpression: ...".
3. Every `#name` and `:value` the request defines must be used by one of its
   expressions.
4. Operation rules: a Query's key condition must name the partition key with
   `=` and at most one sort-key condition (keyrange.py); its filter may not
   use key attributes; an update may not change a key attribute.

Rules 1-3 need only the request; rule 4 needs the table's key schema. DynamoDB
checks the first kind before it looks the table up (a malformed expression on
a missing table is a ValidationException, not ResourceNotFoundException), so
the work is split in two: `compile_expressions` (the request alone) and
`CompiledRequest.for_schema` (against the table). `compile_request` does both.

Which parameters count depends on the operation (`PARAMETERS`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from dynamo.storage.errors import ValidationException
from dynamo.storage.expressions.ast import Condition, Path, Update
from dynamo.storage.expressions.checks import (
    check_condition,
    check_paths,
    check_update,
    condition_paths,
)
from dynamo.storage.expressions.envelope import envelope
from dynamo.storage.expressions.keyrange import (
    KeyConditions,
    KeyRange,
    key_conditions,
    key_range,
)
from dynamo.storage.expressions.legacy import (
    attribute_updates,
    attributes_to_get,
    check_conditional_operator,
    expected_condition,
    filter_condition,
    legacy_key_conditions,
)
from dynamo.storage.expressions.names import Substitution
from dynamo.storage.expressions.parser import parse_condition, parse_projection, parse_update
from dynamo.storage.keys import KeySchema

Tree = TypeVar("Tree")

# operation: (its expression parameters, its legacy parameters), in the order
# DynamoDB lists them in messages.
PARAMETERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "PutItem": (("ConditionExpression",), ("Expected", "ConditionalOperator")),
    "DeleteItem": (("ConditionExpression",), ("Expected", "ConditionalOperator")),
    "UpdateItem": (("UpdateExpression", "ConditionExpression"),
                   ("AttributeUpdates", "Expected", "ConditionalOperator")),
    "GetItem": (("ProjectionExpression",), ("AttributesToGet",)),
    "BatchGetItem": (("ProjectionExpression",), ("AttributesToGet",)),
    "Query": (("ProjectionExpression", "FilterExpression", "KeyConditionExpression"),
              ("AttributesToGet", "QueryFilter", "ConditionalOperator", "KeyConditions")),
    "Scan": (("ProjectionExpression", "FilterExpression"),
             ("AttributesToGet", "ScanFilter", "ConditionalOperator")),
}


@dataclass(frozen=True)
class CompiledRequest:
    """A request's expressions, substituted and checked.

    condition: ConditionExpression / Expected, for a conditional write.
    filter: FilterExpression / QueryFilter / ScanFilter, applied after reading.
    key_range: what a Query reads (KeyConditionExpression / KeyConditions),
        known once `for_schema` has matched `key_conditions` to the table.
    update: UpdateExpression / AttributeUpdates.
    projection: ProjectionExpression / AttributesToGet paths (None: everything).
    key_conditions: a Query's conditions per attribute, before the schema is known.
    filter_parameter: how messages name the filter ("QueryFilter" or "Filter Expression").
    """

    condition: Condition | None = None
    filter: Condition | None = None
    key_range: KeyRange | None = None
    update: Update | None = None
    projection: tuple[Path, ...] | None = None
    key_conditions: KeyConditions | None = None
    filter_parameter: str = "Filter Expression"

    def for_schema(self, schema: KeySchema) -> CompiledRequest:
        """Check the rules that need the table's key schema; resolve a Query's key range.

        Raises:
            ValidationException: a key condition that does not fit the key
                schema, a Query filter on a key attribute, an update of a key.
        """
        resolved = self
        if self.key_conditions is not None:
            resolved = replace(self, key_range=key_range(self.key_conditions, schema))
            _check_filter_keys(self.filter, schema, self.filter_parameter)
        if self.update is not None:
            _check_key_updates(self.update, schema)
        return resolved


def compile_request(operation: str, params: dict[str, Any], schema: KeySchema) -> CompiledRequest:
    """Check and compile the expressions of one request (see the module docstring).

    Raises:
        ValidationException: with DynamoDB's message for the first problem found.
    """
    return compile_expressions(operation, params).for_schema(schema)


def compile_expressions(operation: str, params: dict[str, Any]) -> CompiledRequest:
    """Check and compile what a request's expressions say on their own (rules 1-3).

    A Query comes back with its `key_conditions` and no `key_range` yet:
    `for_schema` resolves them once the table is known.

    Raises:
        ValidationException: with DynamoDB's message for the first problem found
            (in the 2026 envelope where DynamoDB uses it, envelope.py).
    """
    with envelope(operation):
        return _compile_expressions(operation, params)


def _compile_expressions(operation: str, params: dict[str, Any]) -> CompiledRequest:
    expressions, legacy = PARAMETERS[operation]
    present = _present(operation, params)
    _check_one_style(present, expressions, legacy)
    placeholders = Substitution(present.get("ExpressionAttributeNames"),
                                present.get("ExpressionAttributeValues"))
    compiled = _Expressions(present, placeholders)
    update = compiled.get("UpdateExpression", parse_update, check_update)
    condition = compiled.get("ConditionExpression", parse_condition, check_condition)
    key_condition = compiled.get("KeyConditionExpression", parse_condition, check_condition)
    filter_ = compiled.get("FilterExpression", parse_condition, check_condition)
    projection = compiled.get("ProjectionExpression", parse_projection,
                              lambda p: check_paths([ref.path for ref in p.paths]))
    placeholders.check_all_used()

    operator = present.get("ConditionalOperator")
    # DynamoDB checks AttributeUpdates before Expected.
    if "AttributeUpdates" in present:
        update = attribute_updates(present["AttributeUpdates"])
    joined = [name for name in ("Expected", "QueryFilter", "ScanFilter") if present.get(name)]
    if not joined:  # absent or empty: nothing for a ConditionalOperator to join
        check_conditional_operator(operator, 0)
    if "Expected" in joined:
        condition = expected_condition(present["Expected"], operator)
    for name in ("QueryFilter", "ScanFilter"):
        if name in joined:
            filter_ = filter_condition(present[name], operator, name)
    paths = tuple(ref.path for ref in projection.paths) if projection else None
    if "AttributesToGet" in present:
        paths = attributes_to_get(present["AttributesToGet"])

    conditions = _query_conditions(present, key_condition) if operation == "Query" else None
    filter_parameter = "QueryFilter" if "QueryFilter" in present else "Filter Expression"
    return CompiledRequest(condition, filter_, None, update, paths, conditions, filter_parameter)


def check_style(operation: str, params: dict[str, Any]) -> None:
    """Rule 1 alone: expressions or legacy parameters, never both.

    DynamoDB checks this before anything else in a request, even its
    attribute values; `compile_expressions` checks it again.
    """
    expressions, legacy = PARAMETERS[operation]
    with envelope(operation):
        _check_one_style(_present(operation, params), expressions, legacy)


def _present(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """The expression-related parameters a request carries (JSON nulls are absent)."""
    expressions, legacy = PARAMETERS[operation]
    return {name: params[name] for name in (*expressions, *legacy,
            "ExpressionAttributeNames", "ExpressionAttributeValues")
            if params.get(name) is not None}


class _Expressions:
    """Parses, substitutes and checks one expression parameter at a time."""

    def __init__(self, present: dict[str, Any], placeholders: Substitution) -> None:
        self.present = present
        self.placeholders = placeholders

    def get(self, parameter: str, parse: Callable[[str], Tree],
            check: Callable[[Tree], None]) -> Tree | None:
        text = self.present.get(parameter)
        if text is None:
            return None
        if not isinstance(text, str):
            raise ValidationException(f"Invalid {parameter}: The expression must be a string;")
        try:
            resolved = self.placeholders.apply(parse(text))
            check(resolved)
        except ValidationException as error:
            raise ValidationException(f"Invalid {parameter}: {error.message}") from None
        return resolved


def _check_one_style(present: dict[str, Any], expressions: tuple[str, ...],
                     legacy: tuple[str, ...]) -> None:
    used = [name for name in expressions if name in present]
    if used:
        # KeyConditions may go with a FilterExpression: only its own
        # expression form is excluded.
        excluded = [name for name in legacy if name in present and not (
            name == "KeyConditions" and "KeyConditionExpression" not in present)]
        if excluded:
            raise ValidationException(
                "Can not use both expression and non-expression parameters in the same request: "
                f"Non-expression parameters: {{{', '.join(excluded)}}} "
                f"Expression parameters: {{{', '.join(used)}}}")
    if "ExpressionAttributeNames" in present and not used:
        raise ValidationException("ExpressionAttributeNames can only be specified when using "
                                  "expressions")
    with_values = [name for name in expressions if name != "ProjectionExpression"]
    if "ExpressionAttributeValues" in present and with_values and \
            not any(name in present for name in with_values):
        verb = "are" if len(with_values) > 1 else "is"
        raise ValidationException("ExpressionAttributeValues can only be specified when using "
                                  f"expressions: {' and '.join(with_values)} {verb} null")


def _query_conditions(present: dict[str, Any], key_condition: Condition | None
                      ) -> KeyConditions:
    if key_condition is not None:
        return key_conditions(key_condition)
    if "KeyConditions" in present:
        return legacy_key_conditions(present["KeyConditions"])
    raise ValidationException("Either the KeyConditions or KeyConditionExpression parameter "
                              "must be specified in the request.")


def _check_filter_keys(condition: Condition | None, schema: KeySchema, parameter: str) -> None:
    if condition is None:
        return
    heads = {path[0] for path in condition_paths(condition)}
    for name in schema.names:
        if name in heads:
            raise ValidationException(f"{parameter} can only contain non-primary key "
                                      f"attributes: Primary key attribute: {name}")


def _check_key_updates(update: Update, schema: KeySchema) -> None:
    heads = {action.path.path[0] for action in update.actions}
    for name in schema.names:
        if name in heads:
            raise ValidationException("One or more parameter values were invalid: Cannot update "
                                      f"attribute {name}. This attribute is part of the key")
