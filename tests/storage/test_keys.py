"""Primary keys and the order-preserving key encoding.

Paper §3: items are placed by a hash of the partition key, and kept in
sort-key order inside a partition. The encoding must make bytewise order
equal DynamoDB's order of key values, so a Query can be an index range scan.
"""

from __future__ import annotations

import base64
import hashlib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dynamo.storage.errors import ValidationException
from dynamo.storage.keys import (
    NO_MATCH,
    PARTITION_TOO_LARGE,
    SORT_TOO_LARGE,
    EncodedKey,
    KeyAttribute,
    KeySchema,
    decode_value,
    encode_value,
    hash_position,
    item_key,
    key_attributes,
    request_key,
)
from dynamo.storage.numbers import check_number, format_number

INVALID = "One or more parameter values were invalid: "
HASH_ONLY = KeySchema(KeyAttribute("pk", "S"))
HASH_RANGE = KeySchema(KeyAttribute("pk", "S"), KeyAttribute("sk", "N"))
BINARY_RANGE = KeySchema(KeyAttribute("pk", "N"), KeyAttribute("sk", "B"))


def n(text: str) -> bytes:
    return encode_value({"N": text})


# -- the number encoding --------------------------------------------------------------


def test_numbers_encode_in_numeric_order_across_signs_and_exponents() -> None:
    ordered = ["-9.9999999999999999999999999999999999999E+125", "-1E+125", "-10", "-9.5",
               "-9", "-1.23", "-1.2", "-1", "-0.5", "-1E-130", "0", "1E-130", "0.5", "1",
               "1.2", "1.23", "9", "9.5", "10", "1E+125",
               "9.9999999999999999999999999999999999999E+125"]
    encodings = [n(text) for text in ordered]
    assert encodings == sorted(encodings)
    assert len(set(encodings)) == len(encodings)


def test_the_encoding_is_the_documented_one() -> None:
    """12.5 = 1.25 x 10^1: sign 03, exponent 1 + 130, digits "125"."""
    assert n("12.5") == bytes([0x03, 131]) + b"125"
    assert n("-12.5") == bytes([0x01, 255 - 131]) + b"874" + b"\xff"
    assert n("0") == b"\x02"


def test_equal_numbers_encode_equally() -> None:
    assert n("1") == n("1.0") == n("1e0") == n("0001.000")
    assert n("-0") == n("0")


def test_strings_encode_as_utf8_and_binaries_as_raw_bytes() -> None:
    assert encode_value({"S": "é"}) == "é".encode()
    assert encode_value({"B": "AP8="}) == b"\x00\xff"
    # UTF-8 order, not UTF-16: U+FFFD below U+1F600.
    assert encode_value({"S": "\ufffd"}) < encode_value({"S": "\U0001f600"})
    assert encode_value({"S": "a"}) > encode_value({"S": "B"})


@pytest.mark.parametrize("value", [
    {"N": "0"}, {"N": "-1.5"}, {"N": "0." + "0" * 129 + "1"}, {"N": "-1" + "0" * 125},
    {"N": "123456789012345678901234567890123456.78"},
    {"S": ""}, {"S": "日本"}, {"B": ""}, {"B": "AP8="},
])
def test_decode_inverts_encode(value: dict[str, str]) -> None:
    kind = next(iter(value))
    assert decode_value(encode_value(value), kind) == value


def test_only_scalars_are_keys() -> None:
    with pytest.raises(ValueError):
        encode_value({"BOOL": True})
    with pytest.raises(ValueError):
        decode_value(b"x", "SS")


# -- properties over every valid number ---------------------------------------------------


@st.composite
def dynamo_numbers(draw: st.DrawFn) -> str:
    """Canonical text of any valid DynamoDB number, often near another one."""
    if draw(st.integers(0, 20)) == 0:
        return "0"
    count = draw(st.integers(1, 38))
    digits = [draw(st.integers(1, 9))] + draw(st.lists(st.integers(0, 9), min_size=count - 1,
                                                         max_size=count - 1))
    # Half the time a narrow exponent range, so equal exponents and shared prefixes occur.
    wide = draw(st.booleans())
    scientific = draw(st.integers(-130, 125) if wide else st.integers(-2, 2))
    sign = draw(st.integers(0, 1))
    return format_number(check_number(Decimal((sign, tuple(digits), scientific - count + 1))))


@settings(max_examples=300, deadline=None)
@given(st.lists(dynamo_numbers(), min_size=2, max_size=12))
def test_bytewise_order_of_encodings_is_numeric_order(numbers: list[str]) -> None:
    by_value = sorted(numbers, key=Decimal)
    by_encoding = sorted(numbers, key=n)
    assert [Decimal(x) for x in by_encoding] == [Decimal(x) for x in by_value]


@settings(max_examples=300, deadline=None)
@given(dynamo_numbers(), dynamo_numbers())
def test_encodings_compare_exactly_as_numbers_do(a: str, b: str) -> None:
    da, db = Decimal(a), Decimal(b)
    ea, eb = n(a), n(b)
    assert (ea < eb) == (da < db)
    assert (ea == eb) == (da == db)


@settings(max_examples=300, deadline=None)
@given(dynamo_numbers())
def test_numbers_round_trip_through_their_encoding(text: str) -> None:
    assert decode_value(n(text), "N") == {"N": text}


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text())
def test_string_encodings_order_like_utf8(a: str, b: str) -> None:
    assert (encode_value({"S": a}) < encode_value({"S": b})) == (a.encode() < b.encode())
    assert decode_value(encode_value({"S": a}), "S") == {"S": a}


@settings(max_examples=200, deadline=None)
@given(st.binary(), st.binary())
def test_binary_encodings_order_like_bytes(a: bytes, b: bytes) -> None:
    va = {"B": base64.b64encode(a).decode()}
    vb = {"B": base64.b64encode(b).decode()}
    assert (encode_value(va) < encode_value(vb)) == (a < b)
    assert decode_value(encode_value(va), "B") == va


# -- keys of items -------------------------------------------------------------------------


def test_item_key_places_the_item_by_hash_then_keys() -> None:
    key = item_key(HASH_RANGE, {"pk": {"S": "a"}, "sk": {"N": "3"}, "x": {"S": "y"}})
    assert key == EncodedKey(hashlib.md5(b"a").digest(), b"a", n("3"))
    assert hash_position(b"a") == key.hash and len(key.hash) == 16


def test_a_table_without_sort_key_has_an_empty_sort_encoding() -> None:
    assert item_key(HASH_ONLY, {"pk": {"S": "a"}}).sort == b""


def test_keys_of_one_partition_sort_by_sort_key() -> None:
    keys = [item_key(HASH_RANGE, {"pk": {"S": "p"}, "sk": {"N": s}})
            for s in ("10", "-3", "2.5", "0", "9")]
    assert [decode_value(k.sort, "N")["N"] for k in sorted(keys)] == ["-3", "0", "2.5", "9", "10"]


@pytest.mark.parametrize(("item", "message"), [
    ({"sk": {"N": "1"}}, INVALID + "Missing the key pk in the item"),
    ({"pk": {"S": "a"}}, INVALID + "Missing the key sk in the item"),
    ({"pk": {"N": "1"}, "sk": {"N": "1"}},
     INVALID + "Type mismatch for key pk expected: S actual: N"),
    ({"pk": {"S": "a"}, "sk": {"SS": ["1"]}},
     INVALID + "Type mismatch for key sk expected: N actual: SS"),
    ({"pk": {"S": ""}, "sk": {"N": "1"}},
     "One or more parameter values are not valid. The AttributeValue for a key attribute "
     "cannot contain an empty string value. Key: pk"),
    ({"pk": {"S": "a" * 2049}, "sk": {"N": "1"}}, PARTITION_TOO_LARGE),
    ({"pk": {"S": "é" * 1025}, "sk": {"N": "1"}}, PARTITION_TOO_LARGE),
])
def test_item_key_errors(item: dict, message: str) -> None:
    with pytest.raises(ValidationException) as caught:
        item_key(HASH_RANGE, item)
    assert caught.value.message == message


def test_key_sizes_are_limited_in_bytes() -> None:
    """Partition keys up to 2048 bytes, sort keys up to 1024 (Developer Guide, quotas)."""
    assert item_key(HASH_RANGE, {"pk": {"S": "é" * 1024}, "sk": {"N": "1"}})
    big_sort = base64.b64encode(b"x" * 1024).decode()
    assert item_key(BINARY_RANGE, {"pk": {"N": "1"}, "sk": {"B": big_sort}})
    too_big = base64.b64encode(b"x" * 1025).decode()
    with pytest.raises(ValidationException) as caught:
        item_key(BINARY_RANGE, {"pk": {"N": "1"}, "sk": {"B": too_big}})
    assert caught.value.message == SORT_TOO_LARGE
    assert caught.value.message == (INVALID + "Aggregated size of all range keys has exceeded "
                                    "the size limit of 1024 bytes")


def test_empty_binary_keys_are_refused() -> None:
    with pytest.raises(ValidationException) as caught:
        item_key(BINARY_RANGE, {"pk": {"N": "1"}, "sk": {"B": ""}})
    assert caught.value.message.endswith("cannot contain an empty binary value. Key: sk")


# -- keys of requests -----------------------------------------------------------------------


@pytest.mark.parametrize("key", [
    {}, {"b": {"S": "a"}}, {"pk": {"S": "a"}, "b": {"S": "a"}}, {"pk": {"N": "1"}},
    {"pk": {"B": "abcd"}}, {"pk": {"BOOL": True}}, {"pk": {"SS": ["a"]}}, {"pk": {"L": []}},
    {"pk": "a"}, "pk",
])
def test_request_keys_must_match_the_schema_exactly(key: object) -> None:
    with pytest.raises(ValidationException) as caught:
        request_key(HASH_ONLY, key)
    assert caught.value.message == NO_MATCH


def test_request_key_needs_the_sort_key_too() -> None:
    with pytest.raises(ValidationException) as caught:
        request_key(HASH_RANGE, {"pk": {"S": "a"}})
    assert caught.value.message == NO_MATCH


def test_request_key_finds_what_item_key_stored() -> None:
    item = {"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"S": "x"}}
    assert request_key(HASH_RANGE, {"pk": {"S": "a"}, "sk": {"N": "1.0"}}) == \
        item_key(HASH_RANGE, item)
    assert key_attributes(HASH_RANGE, item) == {"pk": {"S": "a"}, "sk": {"N": "1"}}
    assert HASH_RANGE.names == ("pk", "sk") and HASH_ONLY.names == ("pk",)


def test_request_key_checks_emptiness_and_size() -> None:
    with pytest.raises(ValidationException, match="empty string value. Key: pk"):
        request_key(HASH_ONLY, {"pk": {"S": ""}})
    with pytest.raises(ValidationException) as caught:
        request_key(HASH_ONLY, {"pk": {"S": "a" * 2049}})
    assert caught.value.message == PARTITION_TOO_LARGE


def test_request_key_checks_wire_types_of_key_values() -> None:
    """A Key straight off the wire is validated before it is encoded (never a 500)."""
    from dynamo.storage.errors import SerializationException

    schema = KeySchema(KeyAttribute("pk", "N"))
    with pytest.raises(ValidationException, match="cannot be converted to a numeric value: abc"):
        request_key(schema, {"pk": {"N": "abc"}})
    with pytest.raises(SerializationException):
        request_key(schema, {"pk": {"N": 5}})
    assert request_key(schema, {"pk": {"N": "1.50"}}) == request_key(schema, {"pk": {"N": "1.5"}})
