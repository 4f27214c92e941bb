"""Attribute values: DynamoDB's ten data types, their rules, sizes and order.

An item is a map from attribute names to *attribute values*, and an attribute
value travels as a one-key JSON object naming its type (Developer Guide,
"Naming rules and data types"; API Reference, "AttributeValue"):

    {"S": "text"}  {"N": "12.5"}  {"B": "aGk="}  {"BOOL": true}  {"NULL": true}
    {"SS": [...]}  {"NS": [...]}  {"BS": [...]}  {"L": [...]}    {"M": {...}}

This module is the gate every value passes on its way in. The rules it checks:

1. Exactly one type per value ("Supplied AttributeValue is empty ..." /
   "... has more than one datatypes set ...").
2. The payload has the JSON shape the type needs. A wrong shape is what the
   service's JSON layer (Coral) rejects, so it answers SerializationException
   with Coral's wording; every other rule answers ValidationException.
3. Numbers: 38 digits, a fixed range, stored canonically (see numbers.py).
4. Binary is base64 on the wire, in canonical form.
5. Sets are non-empty and have no duplicates; NS members are compared as
   numbers ("1" and "1.0" are duplicates), BS members as bytes.
6. NULL must be true.
7. Documents (L, M) nest at most 32 levels, counting the item itself.
8. An item is at most 400 KB by DynamoDB's size formula (`item_size`).

Sizes follow DynamoDB's accounting (Developer Guide, "Item sizes"): a name
counts its UTF-8 bytes, S its UTF-8 bytes, B its raw bytes, BOOL and NULL one
byte, L and M three bytes plus one per element, sets the sum of their members.
A number is stored in base 100, two digits a byte, plus an exponent byte, so
its size is about half its digit count plus one (`number_size` has the exact
rule). These sizes drive the 400 KB limit, the 1 MB page and the capacity
units of capacity.py (paper §4: RCUs and WCUs are counted in bytes).

Values are kept in their wire form throughout the lab (the WAL logs it, the
B-tree stores it); the validated copy returned here is that wire form with
numbers made canonical, so two equal numbers are stored as the same text.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from dynamo.storage.errors import SerializationException, ValidationException
from dynamo.storage.numbers import NOT_A_NUMBER, normalise_number

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

MAX_ITEM_BYTES = 400 * 1024
MAX_NESTING = 32  # levels, counting the item itself as level 0

INVALID = "One or more parameter values were invalid: "
EMPTY_VALUE = ("Supplied AttributeValue is empty, must contain exactly one of the "
               "supported datatypes")
MANY_TYPES = ("Supplied AttributeValue has more than one datatypes set, must contain "
              "exactly one of the supported datatypes")
NESTING = ("Nesting Levels have exceeded supported limits: Attributes in the item have "
           "nested levels beyond supported limit")
ITEM_TOO_LARGE = "Item size has exceeded the maximum allowed size"
NULL_NOT_TRUE = INVALID + "Null attribute value types must have the value of true"
# "An string set  may not be empty" (two spaces, "An") is DynamoDB's own text.
EMPTY_SET = {
    "SS": INVALID + "An string set  may not be empty",
    "NS": INVALID + "An number set  may not be empty",
    "BS": INVALID + "Binary sets should not be empty",
}
NULL_MEMBER = {
    "SS": INVALID + "An string set may not have a null string as a member",
    "NS": NOT_A_NUMBER,
    "BS": INVALID + "Binary sets may not contain null or empty values",
}
EMPTY_NAME = INVALID + "An attribute name cannot be empty"  # wording not confirmed ⚠

# -- Coral's JSON-shape errors (SerializationException) ----------------------

_BIG_NUMBER = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber"
_LIST_FOUND = "Start of list found where not expected"
_MAP_FOUND = "Start of structure or map found where not expected."
_BASE64_TEXT = re.compile(r"[A-Za-z0-9+/]*={0,2}\Z")
_BASE64_BAD = re.compile(r"[^A-Za-z0-9+/=]|=[^=]")
_TRUE_WORDS = frozenset({"TRUE", "1", "YES"})
_FALSE_WORDS = frozenset({"FALSE", "0", "NO"})


def _shape_error(payload: Any, scalar_message: str) -> SerializationException:
    """The error Coral gives when a JSON value has the wrong kind."""
    if isinstance(payload, list):
        return SerializationException(_LIST_FOUND)
    if isinstance(payload, dict):
        return SerializationException(_MAP_FOUND)
    return SerializationException(scalar_message)


def _string(payload: Any) -> str:
    if isinstance(payload, str):
        if not payload.isascii():
            _check_utf8(payload)
        return payload
    if isinstance(payload, bool):
        raise SerializationException("class java.lang.Boolean can not be converted to an String")
    raise _shape_error(payload, f"{_BIG_NUMBER} can not be converted to an String")


def _check_utf8(text: str) -> None:
    # Only a lone surrogate fails; JSON parsers let "\ud800" through, UTF-8 cannot hold it.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise SerializationException("Invalid UTF-8 middle byte") from None


def _blob(payload: Any) -> str:
    """Check base64 text as Coral does; only canonical encodings pass."""
    if not isinstance(payload, str):
        if isinstance(payload, bool):
            raise SerializationException("class java.lang.Boolean can not be converted to a Blob")
        raise _shape_error(payload, f"{_BIG_NUMBER} can not be converted to a Blob")
    if _BASE64_TEXT.match(payload) and len(payload) % 4 == 0:
        try:
            if base64.b64encode(base64.b64decode(payload)).decode() == payload:
                return payload
        except binascii.Error:
            pass
    prefix = f"'{payload}' can not be converted to a Blob: "
    if len(payload) % 4:
        raise SerializationException(
            prefix + "Base64 encoded length is expected a multiple of 4 bytes but found: "
            f"{len(payload)}")
    bad = _BASE64_BAD.search(payload)
    if bad:
        raise SerializationException(prefix + f"Invalid Base64 character: '{bad.group()[0]}'")
    # "dectected" is Coral's spelling.
    raise SerializationException(prefix + "Invalid last non-pad Base64 character dectected")


def _boolean(payload: Any) -> bool:
    """Coral reads a JSON boolean, and also the strings true/false/1/0/yes/no."""
    if payload is True or payload is False:
        return payload
    if isinstance(payload, str):
        word = payload.upper()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
        raise SerializationException(f"'{word}' can not be converted to an Boolean")
    raise _shape_error(payload, f"{_BIG_NUMBER} can not be converted to an Boolean")


def _list(payload: Any) -> list[Any]:
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        raise SerializationException(_MAP_FOUND)
    raise SerializationException("Expected list or null")


def _map(payload: Any) -> dict[str, Any]:
    if isinstance(payload, dict):
        return payload
    if isinstance(payload, list):
        raise SerializationException(_LIST_FOUND)
    raise SerializationException("Expected map or null")


# -- validation ---------------------------------------------------------------


def validate_value(value: Any) -> AttributeValue:
    """Check one attribute value and return its normalised copy.

    The value is taken to sit directly in an item (nesting level 1).

    Raises:
        ValidationException: a DynamoDB rule is broken (see the module docstring).
        SerializationException: a payload has the wrong JSON shape.
    """
    return _validate(value, 1)


def _validate(value: Any, level: int) -> AttributeValue:
    if isinstance(value, dict) and len(value) == 1:
        for kind, payload in value.items():
            check = _CHECKS.get(kind)
            if check is not None and payload is not None:
                return {kind: check(payload, level)}
    return _validate_unusual(value, level)


def _validate_unusual(value: Any, level: int) -> AttributeValue:
    """The slow path: no type, several types, unknown keys or nulls.

    Coral drops unknown members and JSON nulls before DynamoDB looks, and
    DynamoDB checks every type present before counting them.
    """
    if value is None:
        raise ValidationException(EMPTY_VALUE)
    if not isinstance(value, dict):
        raise _shape_error(value, "Expected null")
    checked = {kind: _CHECKS[kind](payload, level)
               for kind, payload in value.items()
               if kind in _CHECKS and payload is not None}
    if not checked:
        raise ValidationException(EMPTY_VALUE)
    if len(checked) > 1:
        raise ValidationException(MANY_TYPES)
    return checked


def _check_s(payload: Any, level: int) -> str:
    return _string(payload)


def _check_n(payload: Any, level: int) -> str:
    return _number(_string(payload))


# Text that is already canonical and short: at most 38 characters means at most
# 38 digits, and a magnitude far inside the range, so it can be stored as sent.
# Most numbers clients send look like this; parsing them is the slow path.
_CANONICAL = re.compile(r"(?!-0\Z)-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?\Z")


def _number(text: str) -> str:
    if len(text) <= 38 and _CANONICAL.match(text):
        return text
    return normalise_number(text)


def _check_b(payload: Any, level: int) -> str:
    return _blob(payload)


def _check_bool(payload: Any, level: int) -> bool:
    return _boolean(payload)


def _check_null(payload: Any, level: int) -> bool:
    if not _boolean(payload):
        raise ValidationException(NULL_NOT_TRUE)
    return True


def _check_ss(payload: Any, level: int) -> list[str]:
    members = _set_members("SS", payload, _string)
    if len(set(members)) != len(members):
        raise ValidationException(INVALID + f"Input collection [{', '.join(members)}] "
                                  "contains duplicates.")
    return members


def _check_ns(payload: Any, level: int) -> list[str]:
    members = _set_members("NS", payload, lambda text: _number(_string(text)))
    # Canonical text is equal exactly when the numbers are: "1.0" and "1" collide.
    if len(set(members)) != len(members):
        raise ValidationException("Input collection contains duplicates")
    return members


def _check_bs(payload: Any, level: int) -> list[str]:
    members = _set_members("BS", payload, _blob)
    # Only canonical base64 passes _blob, so equal text means equal bytes.
    if len(set(members)) != len(members):
        raise ValidationException(INVALID + f"Input collection [{', '.join(members)}]"
                                  "of type BS contains duplicates.")
    return members


def _set_members(kind: str, payload: Any, check: Callable[[Any], str]) -> list[str]:
    members = _list(payload)
    if not members:
        raise ValidationException(EMPTY_SET[kind])
    if None in members:
        raise ValidationException(NULL_MEMBER[kind])
    return [check(member) for member in members]


def _check_l(payload: Any, level: int) -> list[AttributeValue]:
    elements = _list(payload)
    if level >= MAX_NESTING:
        raise ValidationException(NESTING)
    return [_validate(element, level + 1) for element in elements]


def _check_m(payload: Any, level: int) -> dict[str, AttributeValue]:
    entries = _map(payload)
    if level >= MAX_NESTING:
        raise ValidationException(NESTING)
    return {name: _validate(value, level + 1) for name, value in entries.items()}


_CHECKS: dict[str, Callable[[Any, int], Any]] = {
    "S": _check_s, "N": _check_n, "B": _check_b, "BOOL": _check_bool, "NULL": _check_null,
    "SS": _check_ss, "NS": _check_ns, "BS": _check_bs, "L": _check_l, "M": _check_m,
}
TYPES = frozenset(_CHECKS)


def validate_item(item: Any) -> Item:
    """Check a whole item: names, every value, and the 400 KB limit.

    Returns the normalised copy. Key attributes are checked by keys.item_key.
    """
    attributes = _map(item)
    validated: Item = {}
    for name, value in attributes.items():
        if not name:
            raise ValidationException(EMPTY_NAME)
        validated[name] = _validate(value, 1)
    if item_size(validated) > MAX_ITEM_BYTES:
        raise ValidationException(ITEM_TOO_LARGE)
    return validated


# -- sizes ----------------------------------------------------------------------


# --8<-- [start:item-size]
def item_size(item: Item) -> int:
    """Bytes an item counts for: each name's UTF-8 bytes plus its value's size."""
    return sum(_utf8_length(name) + value_size(value) for name, value in item.items())


def value_size(value: AttributeValue) -> int:
    """Bytes one (validated) attribute value counts for in DynamoDB's formula."""
    for kind, payload in value.items():
        return _SIZES[kind](payload)
    raise ValueError("an attribute value has exactly one type")
# --8<-- [end:item-size]


def _utf8_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def binary_size(text: str) -> int:
    """Raw bytes behind canonical base64 text, without decoding it."""
    return len(text) // 4 * 3 - text.count("=", -2)


def number_size(text: str) -> int:
    """Bytes a Number takes: DynamoDB stores it in base 100, two digits a byte.

    One byte holds the exponent, then the digits go in pairs aligned on the
    decimal point (so "1.5" and "15" differ), and negative numbers carry a
    terminator byte. Zero is one byte. This is the rule DynamoDB's capacity
    figures bear out (and dynalite reproduces): 1 + ceil(digits / 2), one more
    when an even count of digits starts on an even power of ten, one more
    when negative.
    """
    negative = text.startswith("-")
    body = text[1:] if negative else text
    whole, _, fraction = body.partition(".")
    if whole != "0":
        exponent = len(whole) - 1
        digits = len((whole + fraction).rstrip("0"))
    else:
        significant = fraction.lstrip("0")
        if not significant:
            return 1  # zero
        exponent = len(significant) - len(fraction) - 1
        digits = len(significant)
    aligned = 0 if digits % 2 or exponent % 2 else 1
    return 1 + (digits + 1) // 2 + aligned + negative


def _set_size(members: list[str], member_size: Callable[[str], int]) -> int:
    return sum(member_size(member) for member in members)


def _list_size(elements: list[AttributeValue]) -> int:
    return 3 + sum(1 + value_size(element) for element in elements)


def _map_size(entries: dict[str, AttributeValue]) -> int:
    return 3 + sum(1 + _utf8_length(name) + value_size(value) for name, value in entries.items())


# --8<-- [start:sizes]
_SIZES: dict[str, Callable[[Any], int]] = {
    "S": _utf8_length,
    "N": number_size,
    "B": binary_size,
    "BOOL": lambda payload: 1,
    "NULL": lambda payload: 1,
    "SS": lambda members: _set_size(members, _utf8_length),
    "NS": lambda members: _set_size(members, number_size),
    "BS": lambda members: _set_size(members, binary_size),
    "L": _list_size,
    "M": _map_size,
}
# --8<-- [end:sizes]


# -- reading, comparing ---------------------------------------------------------


def decode_binary(text: str) -> bytes:
    """The bytes behind a (validated) B value or BS member."""
    return base64.b64decode(text)


def type_of(value: AttributeValue) -> str:
    """The type name of a validated value: 'S', 'N', 'M', ..."""
    for kind in value:
        return kind
    raise ValueError("an attribute value has exactly one type")


def compare_values(a: AttributeValue, b: AttributeValue) -> int | None:
    """Order two scalars as DynamoDB does: -1, 0 or 1.

    Numbers compare numerically, strings by UTF-8 bytes, binaries bytewise.
    Returns None when the types differ or are not ordered (sets, documents,
    BOOL, NULL): a condition like `a < :v` is then simply false.
    """
    kind = type_of(a)
    if kind != type_of(b) or kind not in _ORDERED:
        return None
    left, right = _ORDERED[kind](a[kind]), _ORDERED[kind](b[kind])
    return (left > right) - (left < right)


# Python orders str by code point, which is exactly the order of UTF-8 bytes.
_ORDERED: dict[str, Callable[[Any], Any]] = {"N": Decimal, "S": str, "B": decode_binary}


def values_equal(a: AttributeValue, b: AttributeValue) -> bool:
    """Deep equality as DynamoDB compares: numbers by value, sets without order."""
    kind = type_of(a)
    if kind != type_of(b):
        return False
    return _EQUAL[kind](a[kind], b[kind])


def _lists_equal(a: list[AttributeValue], b: list[AttributeValue]) -> bool:
    return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))


def _maps_equal(a: dict[str, AttributeValue], b: dict[str, AttributeValue]) -> bool:
    return a.keys() == b.keys() and all(values_equal(a[name], b[name]) for name in a)


def _same(a: Any, b: Any) -> bool:
    return bool(a == b)


_EQUAL: dict[str, Callable[[Any, Any], bool]] = {
    "S": _same,
    "N": lambda a, b: Decimal(a) == Decimal(b),
    "B": lambda a, b: decode_binary(a) == decode_binary(b),
    "BOOL": _same,
    "NULL": _same,
    "SS": lambda a, b: set(a) == set(b),
    "NS": lambda a, b: {Decimal(x) for x in a} == {Decimal(x) for x in b},
    "BS": lambda a, b: {decode_binary(x) for x in a} == {decode_binary(x) for x in b},
    "L": _lists_equal,
    "M": _maps_equal,
}
