"""Primary keys: where an item lives, as bytes that sort the way DynamoDB does.

Every item is found by its primary key: a partition key, and optionally a sort
key (paper §2, Developer Guide "Core components"). The partition key is hashed
to place the item on the ring of partitions (paper §3); inside a partition,
items with the same partition key are kept in sort-key order, which is what
makes a Query a cheap range read rather than a search.

A replica stores items in a B-tree (SQLite), ordered by the *bytes* of its
key columns. So each key value is turned into bytes whose plain bytewise
order is exactly DynamoDB's order of the values (`encode_value`):

* S (string): its UTF-8 bytes. UTF-8 was designed so that byte order equals
  code-point order, which is the order DynamoDB documents for strings.
* B (binary): the raw bytes, compared unsigned, as DynamoDB does.
* N (number): numeric order needs work, because text order is wrong
  ("10" < "9" as text). Write the number in scientific form,
  ±d.ddd × 10^e with the digits trimmed of trailing zeros, then:

      zero      ->  0x02
      positive  ->  0x03, (e + 130), the digits as ASCII
      negative  ->  0x01, (255 - (e + 130)), each digit d as (9 - d), 0xFF

  The first byte puts every negative below zero below every positive. For
  positives, a larger exponent means a larger number (the digits start with
  a non-zero digit), so the exponent byte comes next; DynamoDB's range
  1E-130 .. 9.99E+125 makes e + 130 fit a byte exactly (0..255). With equal
  exponents the digits decide, read left to right, and a shorter run of
  digits that is a prefix of a longer one is the smaller number (1.2 < 1.23)
  - just as bytewise order treats a prefix. Negatives are the mirror image:
  a larger magnitude must sort *lower*, so the exponent byte and each digit
  are flipped (255 - x, 9 - d). Flipping breaks the prefix rule (-1.2 must
  sort *above* -1.23), so negatives end with 0xFF, a byte above every
  flipped digit: "-1.2" ends ...0xFF where "-1.23" has the digit '6'.

  Example: 12.5 = 1.25 × 10^1 -> 03 83 31 32 35; -12.5 -> 01 7C 38 37 34 FF.

Because the encodings sort correctly, the storage engine answers
`pk = :p AND sk BETWEEN :a AND :b` by seeking the B-tree to the encoding of
:a and reading forward until it passes :b: an index range scan in SQLite,
not a Python filter over every item.

The hash that places a partition key in the key space is the MD5 of its
encoding (`hash_position`): any stable, well-spread hash will do (the paper
does not name DynamoDB's), and its 16 bytes sort as a 128-bit position, the
space that partitions divide into contiguous ranges (`dynamo.partitioning`).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dynamo.storage.attributes import (
    AttributeValue,
    Item,
    decode_binary,
    type_of,
    validate_value,
)
from dynamo.storage.errors import ValidationException
from dynamo.storage.numbers import format_number

MAX_PARTITION_KEY_BYTES = 2048
MAX_SORT_KEY_BYTES = 1024
KEY_TYPES = frozenset({"S", "N", "B"})

_INVALID = "One or more parameter values were invalid: "
NO_MATCH = "The provided key element does not match the schema"
PARTITION_TOO_LARGE = (_INVALID + "Size of hashkey has exceeded the maximum size limit "
                       "of2048 bytes")  # "of2048": DynamoDB's own text
SORT_TOO_LARGE = (_INVALID + "Aggregated size of all range keys has exceeded the size "
                  "limit of 1024 bytes")
_EMPTY_KEY = ("One or more parameter values are not valid. The AttributeValue for a key "
              "attribute cannot contain an empty {kind} value. Key: {name}")

_ZERO, _NEGATIVE, _POSITIVE = 0x02, 0x01, 0x03
_NEGATIVE_END = 0xFF
_EXPONENT_BIAS = 130  # smallest exponent DynamoDB allows is -130
_FLIP_DIGITS = bytes.maketrans(b"0123456789", b"9876543210")


# --8<-- [start:key-schema]
@dataclass(frozen=True)
class KeyAttribute:
    """One key attribute of a table: its name and scalar type ('S', 'N' or 'B')."""

    name: str
    type: str


@dataclass(frozen=True)
class KeySchema:
    """A table's primary key: a partition key and an optional sort key."""

    partition: KeyAttribute
    sort: KeyAttribute | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The key attribute names, partition key first."""
        if self.sort is None:
            return (self.partition.name,)
        return (self.partition.name, self.sort.name)


@dataclass(frozen=True, order=True)
class EncodedKey:
    """A primary key as the B-tree stores it, in the B-tree's order.

    `hash` places the partition key on the ring (paper §3); `partition` and
    `sort` are order-preserving encodings (`sort` is b"" without a sort key).
    Ordering by (hash, partition, sort) groups an item collection together
    and keeps it in sort-key order.
    """

    hash: bytes
    partition: bytes
    sort: bytes
# --8<-- [end:key-schema]


# -- the order-preserving encoding ---------------------------------------------


def encode_value(value: AttributeValue) -> bytes:
    """Bytes of a validated S, N or B value whose bytewise order is DynamoDB's order."""
    kind = type_of(value)
    if kind == "S":
        return value["S"].encode("utf-8")
    if kind == "B":
        return decode_binary(value["B"])
    if kind == "N":
        return encode_number(value["N"])
    raise ValueError(f"only S, N and B values are keys, not {kind}")


# --8<-- [start:encode-number]
def encode_number(text: str) -> bytes:
    """The order-preserving encoding of a Number (see the module docstring)."""
    sign, digits, exponent = Decimal(text).as_tuple()
    if not any(digits):
        return bytes([_ZERO])
    text_digits = "".join(map(str, digits)).rstrip("0")
    # Scientific exponent: the power of ten of the first digit.
    scientific = int(exponent) + len(digits) - 1
    biased = scientific + _EXPONENT_BIAS
    if not sign:
        return bytes([_POSITIVE, biased]) + text_digits.encode("ascii")
    flipped = text_digits.encode("ascii").translate(_FLIP_DIGITS)
    return bytes([_NEGATIVE, 255 - biased]) + flipped + bytes([_NEGATIVE_END])
# --8<-- [end:encode-number]


def decode_value(data: bytes, type: str) -> AttributeValue:
    """Invert `encode_value`: the wire value behind an encoded key."""
    if type == "S":
        return {"S": data.decode("utf-8")}
    if type == "B":
        return {"B": base64.b64encode(data).decode("ascii")}
    if type == "N":
        return {"N": decode_number(data)}
    raise ValueError(f"only S, N and B values are keys, not {type}")


def decode_number(data: bytes) -> str:
    """Invert `encode_number`, giving canonical Number text."""
    if data[0] == _ZERO:
        return "0"
    if data[0] == _POSITIVE:
        negative, biased, digits = False, data[1], data[2:]
    else:
        negative, biased, digits = True, 255 - data[1], data[2:-1].translate(_FLIP_DIGITS)
    # d.ddd x 10^e is the integer dddd x 10^(e - number of digits + 1).
    exponent = biased - _EXPONENT_BIAS - len(digits) + 1
    return format_number(Decimal((negative, tuple(byte - 0x30 for byte in digits), exponent)))


def hash_position(partition_encoded: bytes) -> bytes:
    """The partition key's place in the 128-bit hashed key space (paper §3), as 16 bytes."""
    return hashlib.md5(partition_encoded, usedforsecurity=False).digest()


# -- keys of items and requests ---------------------------------------------------


def item_key(schema: KeySchema, item: Item) -> EncodedKey:
    """The key of an item being written, checking its key attributes.

    The item's values are already validated (attributes.validate_item); this
    checks what only the table's schema knows: presence, type, non-emptiness
    and size of each key attribute.
    """
    partition = _item_part(schema.partition, item, MAX_PARTITION_KEY_BYTES, PARTITION_TOO_LARGE)
    sort = b""
    if schema.sort is not None:
        sort = _item_part(schema.sort, item, MAX_SORT_KEY_BYTES, SORT_TOO_LARGE)
    return EncodedKey(hash_position(partition), partition, sort)


def _item_part(attribute: KeyAttribute, item: Item, limit: int, too_large: str) -> bytes:
    value = item.get(attribute.name)
    if value is None:
        raise ValidationException(_INVALID + f"Missing the key {attribute.name} in the item")
    actual = type_of(value)
    if actual != attribute.type:
        raise ValidationException(_INVALID + f"Type mismatch for key {attribute.name} "
                                  f"expected: {attribute.type} actual: {actual}")
    return _checked_encoding(attribute, value, limit, too_large)


def request_key(schema: KeySchema, key: Any) -> EncodedKey:
    """The key named by a request's `Key` parameter: exactly the key attributes."""
    if not isinstance(key, dict) or len(key) != len(schema.names):
        raise ValidationException(NO_MATCH)
    partition = _request_part(schema.partition, key, MAX_PARTITION_KEY_BYTES,
                              PARTITION_TOO_LARGE)
    sort = b""
    if schema.sort is not None:
        sort = _request_part(schema.sort, key, MAX_SORT_KEY_BYTES, SORT_TOO_LARGE)
    return EncodedKey(hash_position(partition), partition, sort)


def _request_part(attribute: KeyAttribute, key: dict[str, Any], limit: int,
                  too_large: str) -> bytes:
    value = key.get(attribute.name)
    if not isinstance(value, dict) or len(value) != 1 or attribute.type not in value:
        raise ValidationException(NO_MATCH)
    # A request's key comes straight off the wire: check its payload's type and
    # number syntax before encoding, so {"N": "abc"} is a ValidationException.
    return _checked_encoding(attribute, validate_value(value), limit, too_large)


def _checked_encoding(attribute: KeyAttribute, value: AttributeValue, limit: int,
                      too_large: str) -> bytes:
    encoded = encode_value(value)
    if attribute.type != "N":
        if not encoded:
            kind = "string" if attribute.type == "S" else "binary"
            raise ValidationException(_EMPTY_KEY.format(kind=kind, name=attribute.name))
        # S and B encodings are exactly their UTF-8 / raw bytes: the size DynamoDB limits.
        if len(encoded) > limit:
            raise ValidationException(too_large)
    return encoded


def key_attributes(schema: KeySchema, item: Item) -> Item:
    """Just the key attributes of an item (for LastEvaluatedKey and the like)."""
    return {name: item[name] for name in schema.names}
