"""Attribute values: DynamoDB's type rules, messages, sizes and comparisons.

Developer Guide, "Naming rules and data types" and "Item sizes"; the messages
are the ones DynamoDB answers with (as recorded by dynalite's test suite).
"""

from __future__ import annotations

import base64
import copy
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dynamo.storage.attributes import (
    ITEM_TOO_LARGE,
    MAX_ITEM_BYTES,
    NESTING,
    compare_values,
    decode_binary,
    item_size,
    number_size,
    type_of,
    validate_item,
    validate_value,
    value_size,
    values_equal,
)
from dynamo.storage.errors import DynamoError, SerializationException, ValidationException
from dynamo.storage.numbers import normalise_number

INVALID = "One or more parameter values were invalid: "
EMPTY = "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
MANY = ("Supplied AttributeValue has more than one datatypes set, must contain exactly one of "
        "the supported datatypes")


def nested(levels: int, kind: str = "L") -> dict[str, Any]:
    """A value with `levels` documents (L or M) wrapped around a string."""
    value: dict[str, Any] = {"S": "deep"}
    for _ in range(levels):
        value = {"L": [value]} if kind == "L" else {"M": {"x": value}}
    return value


# -- what passes, and how it comes out ---------------------------------------------


def test_valid_values_come_back_normalised() -> None:
    item = {
        "n": {"N": "0012.50"},
        "ns": {"NS": ["1e2", "-0.50"]},
        "doc": {"M": {"inner": {"L": [{"N": "1.0"}, {"S": "é"}, {"NULL": True}]}}},
        "b": {"B": "aGk="},
        "flag": {"BOOL": False},
    }
    assert validate_item(item) == {
        "n": {"N": "12.5"},
        "ns": {"NS": ["100", "-0.5"]},
        "doc": {"M": {"inner": {"L": [{"N": "1"}, {"S": "é"}, {"NULL": True}]}}},
        "b": {"B": "aGk="},
        "flag": {"BOOL": False},
    }


def test_validation_returns_a_copy_and_leaves_the_input_alone() -> None:
    value = {"M": {"a": {"L": [{"N": "01"}]}, "s": {"SS": ["x"]}}}
    before = copy.deepcopy(value)
    result = validate_value(value)
    result["M"]["a"]["L"].append({"S": "new"})
    result["M"]["s"]["SS"].append("y")
    assert value == before


def test_empty_strings_and_binaries_are_allowed_outside_keys() -> None:
    """Since May 2020, non-key S and B values may be empty, also inside sets and documents."""
    for value in ({"S": ""}, {"B": ""}, {"SS": ["", "a"]}, {"BS": ["", "YQ=="]},
                  {"L": [{"S": ""}]}, {"M": {"": {"S": ""}}}, {"L": []}, {"M": {}}):
        assert validate_value(value) == value


def test_coral_reads_booleans_from_strings() -> None:
    assert validate_value({"BOOL": "yes"}) == {"BOOL": True}
    assert validate_value({"BOOL": "False"}) == {"BOOL": False}
    assert validate_value({"NULL": "TRUE"}) == {"NULL": True}


def test_unknown_members_and_nulls_are_dropped_before_counting_types() -> None:
    assert validate_value({"S": "a", "X": 1, "N": None}) == {"S": "a"}


# -- what fails, with DynamoDB's words -------------------------------------------------


@pytest.mark.parametrize(("value", "message"), [
    ({}, EMPTY),
    (None, EMPTY),
    ({"a": ""}, EMPTY),
    ({"S": None}, EMPTY),
    ({"S": "a", "N": "1"}, MANY),
    ({"S": "a", "N": "b"}, "The parameter cannot be converted to a numeric value: b"),
    ({"S": "", "N": ""}, "The parameter cannot be converted to a numeric value"),
    ({"N": "1e126"}, "Number overflow. Attempting to store a number with magnitude larger "
                     "than supported range"),
    ({"NULL": False}, INVALID + "Null attribute value types must have the value of true"),
    ({"SS": []}, INVALID + "An string set  may not be empty"),
    ({"NS": []}, INVALID + "An number set  may not be empty"),
    ({"BS": []}, INVALID + "Binary sets should not be empty"),
    ({"SS": ["a", "a"]}, INVALID + "Input collection [a, a] contains duplicates."),
    ({"NS": ["1", "1"]}, "Input collection contains duplicates"),
    ({"NS": ["1", "1.0"]}, "Input collection contains duplicates"),
    ({"NS": ["1", "b"]}, "The parameter cannot be converted to a numeric value: b"),
    ({"NS": ["1", ""]}, "The parameter cannot be converted to a numeric value"),
    ({"BS": ["Yg==", "Yg=="]},
     INVALID + "Input collection [Yg==, Yg==]of type BS contains duplicates."),
    ({"SS": ["a", None]}, INVALID + "An string set may not have a null string as a member"),
    ({"M": {"a": {}}}, EMPTY),
    ({"L": [{}]}, EMPTY),
    ({"L": [{"a": {}}]}, EMPTY),
    ({"L": [{"NS": []}]}, INVALID + "An number set  may not be empty"),
    (nested(32), NESTING),
    (nested(32, "M"), NESTING),
])
def test_invalid_values_get_dynamodbs_validation_messages(value: Any, message: str) -> None:
    with pytest.raises(ValidationException) as caught:
        validate_value(value)
    assert caught.value.message == message


@pytest.mark.parametrize(("value", "message"), [
    ({"S": 5}, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be "
               "converted to an String"),
    ({"S": True}, "class java.lang.Boolean can not be converted to an String"),
    ({"N": 5}, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be "
               "converted to an String"),
    ({"S": ["a"]}, "Start of list found where not expected"),
    ({"S": {}}, "Start of structure or map found where not expected."),
    ({"B": "abc"}, "'abc' can not be converted to a Blob: Base64 encoded length is expected "
                   "a multiple of 4 bytes but found: 3"),
    ({"B": "ab!="}, "'ab!=' can not be converted to a Blob: Invalid Base64 character: '!'"),
    ({"B": "YR=="}, "'YR==' can not be converted to a Blob: Invalid last non-pad Base64 "
                    "character dectected"),
    ({"B": False}, "class java.lang.Boolean can not be converted to a Blob"),
    ({"BOOL": "maybe"}, "'MAYBE' can not be converted to an Boolean"),
    ({"BOOL": 1}, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be "
                  "converted to an Boolean"),
    ({"SS": "a"}, "Expected list or null"),
    ({"L": {}}, "Start of structure or map found where not expected."),
    ({"M": []}, "Start of list found where not expected"),
    ({"M": "a"}, "Expected map or null"),
    ("a", "Expected null"),
    ([], "Start of list found where not expected"),
    ({"S": "\ud800"}, "Invalid UTF-8 middle byte"),
])
def test_wrong_json_shapes_are_serialization_errors(value: Any, message: str) -> None:
    with pytest.raises(SerializationException) as caught:
        validate_value(value)
    assert caught.value.message == message


def test_documents_nest_32_levels_counting_the_item() -> None:
    """An item is level 0, so its attributes may hold 31 nested documents."""
    assert validate_value(nested(31)) == nested(31)
    assert validate_item({"a": nested(31, "M")})["a"] == nested(31, "M")
    with pytest.raises(ValidationException, match="Nesting Levels"):
        validate_item({"a": nested(32)})


def test_items_must_be_maps_with_named_attributes() -> None:
    with pytest.raises(SerializationException):
        validate_item([{"S": "a"}])
    with pytest.raises(ValidationException):
        validate_item({"": {"S": "a"}})


# -- sizes --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "size"), [
    ("0", 1),
    ("1", 2),
    ("10", 2),
    ("12", 2),
    ("123", 3),
    ("1.5", 3),
    ("0.5", 2),
    ("0.05", 2),
    ("0.15", 2),
    ("-1", 3),
    ("12.3456", 4),
    ("9" * 38, 20),
    ("9" * 37, 20),
    ("1" + "0" * 125, 2),
])
def test_number_size_is_base_100_digits_plus_exponent(text: str, size: int) -> None:
    assert number_size(text) == size


def test_item_size_counts_names_and_values() -> None:
    """Developer Guide: "shirt-color"="R" and "shirt-size"="M" is 23 bytes."""
    assert item_size({"shirt-color": {"S": "R"}, "shirt-size": {"S": "M"}}) == 23


def test_strings_and_names_count_utf8_bytes() -> None:
    assert item_size({"é": {"S": "日本"}}) == 2 + 6
    assert value_size({"SS": ["a", "é"]}) == 3


def test_binary_counts_raw_bytes() -> None:
    assert value_size({"B": "AQI="}) == 2
    assert value_size({"B": ""}) == 0
    assert value_size({"BS": ["AQI=", "Ag==", "AQ=="]}) == 4
    assert value_size({"B": "AAAA"}) == len(decode_binary("AAAA")) == 3


def test_documents_cost_three_bytes_and_one_per_element() -> None:
    assert value_size({"L": []}) == 3
    assert value_size({"L": [{"S": "a"}, {"S": "aa"}, {"S": "bb"}, {"S": "ccc"}]}) == 15
    assert value_size({"M": {"aa": {"S": "aa"}, "bbb": {"S": "bbb"}}}) == 15
    assert value_size({"BOOL": True}) == value_size({"NULL": True}) == 1


def test_items_up_to_400_kb_are_accepted() -> None:
    name = "big"
    fits = {name: {"S": "x" * (MAX_ITEM_BYTES - len(name))}}
    assert item_size(validate_item(fits)) == MAX_ITEM_BYTES
    with pytest.raises(ValidationException) as caught:
        validate_item({name: {"S": "x" * (MAX_ITEM_BYTES - len(name) + 1)}})
    assert caught.value.message == ITEM_TOO_LARGE


# -- comparing ------------------------------------------------------------------------


def test_numbers_compare_numerically() -> None:
    assert compare_values({"N": "9"}, {"N": "10"}) == -1
    assert compare_values({"N": "-1"}, {"N": "-0.5"}) == -1
    assert compare_values({"N": "1.0"}, {"N": "1"}) == 0


def test_strings_compare_by_utf8_bytes() -> None:
    assert compare_values({"S": "a"}, {"S": "A"}) == 1
    # U+FFFD sorts below U+1F600 in UTF-8 (and code points), above it in UTF-16.
    assert compare_values({"S": "\ufffd"}, {"S": "\U0001f600"}) == -1


def test_binaries_compare_as_unsigned_bytes() -> None:
    assert compare_values({"B": "/w=="}, {"B": "AA=="}) == 1  # 0xff > 0x00
    assert compare_values({"B": "AA=="}, {"B": "AAA="}) == -1  # a prefix sorts first


def test_only_same_typed_scalars_are_ordered() -> None:
    assert compare_values({"N": "1"}, {"S": "1"}) is None
    assert compare_values({"BOOL": True}, {"BOOL": False}) is None
    assert compare_values({"SS": ["a"]}, {"SS": ["a"]}) is None


def test_equality_is_by_value_and_sets_ignore_order() -> None:
    assert values_equal({"N": "1.0"}, {"N": "1"})
    assert values_equal({"NS": ["1", "2"]}, {"NS": ["2.0", "1"]})
    assert values_equal({"SS": ["a", "b"]}, {"SS": ["b", "a"]})
    assert values_equal({"M": {"a": {"L": [{"N": "1"}]}}}, {"M": {"a": {"L": [{"N": "1.00"}]}}})
    assert not values_equal({"L": [{"N": "1"}, {"N": "2"}]}, {"L": [{"N": "2"}, {"N": "1"}]})
    assert not values_equal({"S": "1"}, {"N": "1"})
    assert not values_equal({"M": {"a": {"S": "x"}}}, {"M": {"b": {"S": "x"}}})
    assert type_of({"BS": ["AA=="]}) == "BS"


# -- properties -------------------------------------------------------------------------

json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=8) | st.sampled_from(["1", "-0.5", "1e400", "Yg==", "", "true"]),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L",
                                       "M", "x"]), children, max_size=3),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(json_like)
def test_any_json_is_either_valid_or_a_dynamodb_error(value: Any) -> None:
    try:
        result = validate_value(value)
    except DynamoError as error:
        assert isinstance(error, ValidationException | SerializationException)
        return
    assert validate_value(result) == result
    assert value_size(result) == reference_size(result)


def reference_size(value: dict[str, Any]) -> int:
    """DynamoDB's size of a value (Developer Guide, "Item sizes and formats"), the slow,
    obvious way: real UTF-8 encoding, real base64 decoding, Decimal for numbers."""
    ((kind, payload),) = value.items()
    if kind in ("SS", "NS", "BS"):
        return sum(reference_size({kind[0]: member}) for member in payload)
    if kind == "L":
        return 3 + sum(1 + reference_size(element) for element in payload)
    if kind == "M":
        return 3 + sum(1 + len(name.encode("utf-8")) + reference_size(element)
                       for name, element in payload.items())
    if kind == "S":
        return len(payload.encode("utf-8"))
    if kind == "B":
        return len(base64.b64decode(payload))
    if kind == "N":
        return reference_number_size(Decimal(payload))
    return 1  # BOOL, NULL


def reference_number_size(number: Decimal) -> int:
    """Base 100: an exponent byte, two digits a byte aligned on the decimal point, one more
    byte when negative."""
    if number == 0:
        return 1
    sign, digits, _ = number.as_tuple()  # not normalize(): it rounds to 28 digits
    count, exponent = len("".join(map(str, digits)).rstrip("0")), number.adjusted()
    aligned = 0 if count % 2 or exponent % 2 else 1
    return 1 + (count + 1) // 2 + aligned + sign


scalars = st.one_of(
    st.text(max_size=6).map(lambda s: {"S": s}),
    st.integers(-10**40, 10**40).map(lambda n: {"N": str(n)}),
    st.binary(max_size=6).map(lambda b: {"B": __import__("base64").b64encode(b).decode()}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.sets(st.text(max_size=4), min_size=1, max_size=4).map(lambda s: {"SS": sorted(s)}),
)
valid_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3).map(lambda items: {"L": items})
    | st.dictionaries(st.text(max_size=4), children, max_size=3).map(lambda m: {"M": m}),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(valid_values)
def test_validation_is_idempotent_and_keeps_equal_values(value: dict[str, Any]) -> None:
    try:
        once = validate_value(value)
    except ValidationException as error:
        assert error.message.startswith(("Attempting to store more than 38", "Number overflow"))
        return
    assert validate_value(once) == once
    assert values_equal(once, value)
    assert value_size(once) == reference_size(once)


number_texts = st.builds(
    lambda sign, whole, fraction, exponent: f"{sign}{whole}{fraction}{exponent}",
    st.sampled_from(["", "-", "+"]),
    st.text("0123456789", max_size=45),
    st.one_of(st.just(""), st.text("0123456789", max_size=12).map(lambda f: "." + f)),
    st.one_of(st.just(""), st.integers(-135, 130).map(lambda e: f"e{e}")),
)


@settings(max_examples=300, deadline=None)
@given(number_texts)
def test_numbers_in_values_are_stored_as_numbers_py_normalises_them(text: str) -> None:
    """validate_value skips parsing text that is already canonical; it must agree."""
    try:
        expected = {"N": normalise_number(text)}
    except ValidationException as error:
        with pytest.raises(ValidationException) as caught:
            validate_value({"N": text})
        assert caught.value.message == error.message
        return
    assert validate_value({"N": text}) == expected
    assert validate_value({"NS": [text]}) == {"NS": [expected["N"]]}
    assert value_size(expected) == reference_number_size(Decimal(expected["N"]))
