"""Operand types: every comparator and function, every pair of operand types (issue #9).

For each, DynamoDB either refuses the request with a ValidationException
(a `:value` of a type the operator does not take) or evaluates the condition
(Developer Guide, "Comparison operator and function reference"). Which pairs
are valid comes from one table, operands.OPERAND_TYPES; docs/api.md shows it.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dynamo.storage.errors import ValidationException
from dynamo.storage.expressions import compile_request, evaluate
from dynamo.storage.expressions.envelope import ENVELOPE
from dynamo.storage.expressions.operands import (
    ALL_TYPES,
    LEGACY_NAMES,
    OPERAND_TYPES,
    accepts,
    legacy_accepts,
    markdown_table,
)
from dynamo.storage.keys import KeyAttribute, KeySchema

SCHEMA = KeySchema(KeyAttribute("pk", "S"))
DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
COMPARATORS = ("=", "<>", "<", "<=", ">", ">=")
FUNCTIONS = ("begins_with", "contains")

_text = st.text(st.characters(codec="utf-8"), min_size=1, max_size=5)
_number = st.integers(-10**6, 10**6).map(str)
_binary = st.sampled_from(["AA==", "AQI=", "/w=="])
VALUES = {
    "S": _text.map(lambda s: {"S": s}),
    "N": _number.map(lambda n: {"N": n}),
    "B": _binary.map(lambda b: {"B": b}),
    "BOOL": st.booleans().map(lambda b: {"BOOL": b}),
    "NULL": st.just({"NULL": True}),
    "SS": st.lists(_text, min_size=1, max_size=3, unique=True).map(lambda v: {"SS": v}),
    "NS": st.lists(_number, min_size=1, max_size=3, unique=True).map(lambda v: {"NS": v}),
    "BS": st.just({"BS": ["AA==", "AQI="]}),
    "L": st.lists(_text.map(lambda s: {"S": s}), max_size=3).map(lambda v: {"L": v}),
    "M": st.dictionaries(st.sampled_from("abc"), _number.map(lambda n: {"N": n}),
                         max_size=2).map(lambda v: {"M": v}),
}
SAMPLE = {"S": {"S": "ab"}, "N": {"N": "1"}, "B": {"B": "AQI="}, "BOOL": {"BOOL": True},
          "NULL": {"NULL": True}, "SS": {"SS": ["a"]}, "NS": {"NS": ["1"]},
          "BS": {"BS": ["AA=="]}, "L": {"L": [{"S": "a"}]}, "M": {"M": {"a": {"N": "1"}}}}


def outcome(text: str, values: dict, item: dict) -> bool | str:
    """The condition's value for the item, or the reason DynamoDB refuses it."""
    params = {"ConditionExpression": text, "ExpressionAttributeValues": values}
    try:
        condition = compile_request("PutItem", params, SCHEMA).condition
    except ValidationException as error:
        return error.message
    return evaluate(condition, item)


def refused(name: str, kind: str) -> str:
    return (f"{ENVELOPE}Invalid ConditionExpression: Incorrect operand type for operator or "
            f"function; operator or function: {name}, operand type: {kind}")


def expected_for(name: str, kinds: tuple[str, ...]) -> str | None:
    """The refusal the table predicts for these :value types, or None (evaluated)."""
    for kind in kinds:
        if not accepts(name, kind):
            return refused(name, kind)
    return None


def check(name: str, text: str, values: dict, item: dict, kinds: tuple[str, ...]) -> None:
    result = outcome(text, values, {"pk": {"S": "k"}, **item})
    predicted = expected_for(name, kinds)
    if predicted is None:
        assert isinstance(result, bool), (text, values, result)
    else:
        assert result == predicted, (text, values)


# ------------------------------------------------ exhaustively, one value per type
@pytest.mark.parametrize("op", COMPARATORS)
def test_every_comparator_and_pair_of_value_types(op):
    for left, right in itertools.product(ALL_TYPES, repeat=2):
        check(op, f":x {op} :y", {":x": SAMPLE[left], ":y": SAMPLE[right]}, {}, (left, right))
        check(op, f"a {op} :y", {":y": SAMPLE[right]}, {"a": SAMPLE[left]}, (right,))


def test_between_and_in_for_every_pair():
    for stored, bound in itertools.product(ALL_TYPES, repeat=2):
        values = {":lo": SAMPLE[bound], ":hi": SAMPLE[bound]}
        check("BETWEEN", "a BETWEEN :lo AND :hi", values, {"a": SAMPLE[stored]}, (bound,))
        check("IN", "a IN (:v)", {":v": SAMPLE[bound]}, {"a": SAMPLE[stored]}, (bound,))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_and_pair_of_types(function):
    for stored, operand in itertools.product(ALL_TYPES, repeat=2):
        check(function, f"{function}(a, :v)", {":v": SAMPLE[operand]}, {"a": SAMPLE[stored]},
              (operand,))


@pytest.mark.parametrize("operator", sorted(LEGACY_NAMES))
def test_every_legacy_operator_and_value_type(operator):
    arity = {"BETWEEN": 2}.get(operator, 1)
    for kind in ALL_TYPES:
        spec = {"a": {"ComparisonOperator": operator,
                      "AttributeValueList": [SAMPLE[kind]] * arity}}
        try:
            compiled = compile_request("PutItem", {"Expected": spec}, SCHEMA)
        except ValidationException as error:
            assert not legacy_accepts(operator, kind), (operator, kind, error.message)
            assert error.message == ("One or more parameter values were invalid: ComparisonOperator "
                                     f"{operator} is not valid for {kind} AttributeValue type")
        else:
            assert legacy_accepts(operator, kind), (operator, kind)
            assert isinstance(evaluate(compiled.condition, {"a": SAMPLE[kind]}), bool)


# ------------------------------------------------------- on generated values
@settings(max_examples=120, deadline=None)
@given(st.sampled_from(COMPARATORS + ("BETWEEN", "IN") + FUNCTIONS),
       st.sampled_from(ALL_TYPES), st.sampled_from(ALL_TYPES), st.data())
def test_any_values_are_refused_or_evaluated(name, stored, operand, data):
    item = {"a": data.draw(VALUES[stored])}
    value = data.draw(VALUES[operand])
    text = {"BETWEEN": "a BETWEEN :v AND :v", "IN": "a IN (:v)"}.get(
        name, f"{name}(a, :v)" if name in FUNCTIONS else f"a {name} :v")
    check(name, text, {":v": value}, item, (operand,))


# ----------------------------------------------- what DynamoDB answers, by hand
@pytest.mark.parametrize(("text", "values", "name", "kind"), [
    ("a < :v", {":v": {"L": [{"N": "1"}]}}, "<", "L"),
    ("a >= :v", {":v": {"M": {}}}, ">=", "M"),
    ("a > :v", {":v": {"SS": ["x"]}}, ">", "SS"),
    ("a BETWEEN :v AND :w", {":v": {"NS": ["1"]}, ":w": {"NS": ["2"]}}, "BETWEEN", "NS"),
    ("a BETWEEN :v AND :w", {":v": {"L": []}, ":w": {"L": []}}, "BETWEEN", "L"),
    ("a IN (:v, :w)", {":v": {"S": "x"}, ":w": {"L": []}}, "IN", "L"),
    ("begins_with(a, :v)", {":v": {"N": "1"}}, "begins_with", "N"),
    ("contains(a, :v)", {":v": {"SS": ["x"]}}, "contains", "SS"),
    ("contains(a, :v)", {":v": {"M": {}}}, "contains", "M"),
])
def test_dynamodb_refuses_these_operands(text, values, name, kind):
    assert outcome(text, values, {}) == refused(name, kind)


def test_the_docs_show_the_table():
    assert markdown_table() in DOCS.read_text()
    assert set(OPERAND_TYPES) >= set(COMPARATORS + ("BETWEEN", "IN") + FUNCTIONS)
    assert re.search(r"\| `<` \| LT \|", markdown_table())
