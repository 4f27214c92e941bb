"""What the coverage-guided fuzzer runs: the expression and number parsers, end to end.

Each target takes the fuzzer's bytes and drives one parser the way a request
would: a condition, update, projection, key-condition or filter expression
through `compile_expressions` and on to the code that runs it against an item
(Developer Guide, "Using expressions in DynamoDB"); a Number through
`parse_number` and DynamoDB's 38-digit arithmetic (Developer Guide, "Data
types", Number). A `DynamoError` (ValidationException, ...) is the answer a
client gets and is fine; any other exception would be a 500 and is a crash.
A number target also checks properties every valid number must keep.

`atheris_parsers.py` drives these under libFuzzer; `test_parser_crashers.py`
runs the seeds and every crasher found, in the test suite. No atheris here, so
the tests need none.
"""

from __future__ import annotations

import decimal
import re
from typing import Any

from dynamo.storage import numbers
from dynamo.storage.errors import DynamoError
from dynamo.storage.expressions import apply_update, compile_request, evaluate, project
from dynamo.storage.keys import KeyAttribute, KeySchema

SCHEMA = KeySchema(KeyAttribute("pk", "S"), KeyAttribute("sk", "N"))
ITEM: dict[str, Any] = {
    "pk": {"S": "p"}, "sk": {"N": "1"}, "a": {"S": "abc"}, "n": {"N": "12.5"},
    "b": {"B": "AAEC"}, "t": {"BOOL": True}, "z": {"NULL": True},
    "l": {"L": [{"N": "1"}, {"S": "x"}, {"L": [{"N": "2"}]}]},
    "m": {"M": {"k": {"S": "v"}, "n": {"N": "3"}, "deep": {"M": {"x": {"N": "4"}}}}},
    "ss": {"SS": ["p", "q"]}, "ns": {"NS": ["1", "2"]}, "bs": {"BS": ["AQ=="]},
}
NAMES = {f"#{name}": name for name in ITEM} | {"#r": "size", "#dot": "a.b"}
VALUES: dict[str, Any] = {
    ":s": {"S": "ab"}, ":n": {"N": "1"}, ":big": {"N": "9.9999999999999999999999999999999999999E+125"},
    ":b": {"B": "AA=="}, ":t": {"BOOL": False}, ":z": {"NULL": True},
    ":l": {"L": [{"N": "5"}]}, ":m": {"M": {"k": {"S": "w"}}},
    ":ss": {"SS": ["q", "r"]}, ":ns": {"NS": ["2", "3"]}, ":bs": {"BS": ["AQ=="]},
    ":type": {"S": "N"},
}
# Which request parameter each expression kind is sent as, and for which operation.
KINDS = (
    ("PutItem", "ConditionExpression"),
    ("UpdateItem", "UpdateExpression"),
    ("GetItem", "ProjectionExpression"),
    ("Query", "KeyConditionExpression"),
    ("Scan", "FilterExpression"),
)
_PLACEHOLDER = re.compile(r"[#:][0-9A-Za-z_]+")


def expression_request(kind: int, text: str) -> tuple[str, dict[str, Any]]:
    """The operation and request that carry `text` as expression kind `kind`.

    Only the placeholders the text uses are defined: DynamoDB refuses a request
    that defines one it does not use, which would stop every input early.
    """
    operation, parameter = KINDS[kind % len(KINDS)]
    used = set(_PLACEHOLDER.findall(text))
    params: dict[str, Any] = {"TableName": "t", parameter: text}
    names = {key: value for key, value in NAMES.items() if key in used}
    values = {key: value for key, value in VALUES.items() if key in used}
    if names:
        params["ExpressionAttributeNames"] = names
    if values and parameter != "ProjectionExpression":
        params["ExpressionAttributeValues"] = values
    return operation, params


def run_expression(kind: int, text: str) -> None:
    """Compile one expression and run it against ITEM; a DynamoError is a fine answer."""
    operation, params = expression_request(kind, text)
    try:
        compiled = compile_request(operation, params, SCHEMA)
        if compiled.condition is not None:
            evaluate(compiled.condition, ITEM)
        if compiled.filter is not None:
            evaluate(compiled.filter, ITEM)
        if compiled.update is not None:
            apply_update(compiled.update, ITEM)
        if compiled.projection is not None:
            project(ITEM, compiled.projection)
    except DynamoError:
        pass


def expression_target(data: bytes) -> None:
    """The fuzzer's bytes as (kind, text): the first byte picks the kind."""
    if not data:
        return
    run_expression(data[0], data[1:].decode("utf-8", "replace"))


def run_number(text: str, other: str) -> None:
    """Parse two Numbers; for valid ones, check the properties DynamoDB's numbers keep."""
    try:
        value = numbers.parse_number(text)
    except DynamoError:
        return
    canonical = numbers.format_number(value)
    # The canonical text parses back to the same number and is its own canonical form.
    assert numbers.parse_number(canonical) == value, (text, canonical)
    assert numbers.normalise_number(canonical) == canonical, (text, canonical)
    assert "e" not in canonical.lower() and not canonical.startswith("+"), canonical
    try:
        second = numbers.parse_number(other)
    except DynamoError:
        return
    for operation, exact in ((numbers.add, _EXACT.add(value, second)),
                             (numbers.subtract, _EXACT.subtract(value, second))):
        try:
            result = operation(value, second)
        except DynamoError:
            continue
        # 38-digit arithmetic never rounds: an answer it gives is the exact one.
        assert result == exact, (text, other, operation.__name__, result)


# Wide enough that the sum or difference of two valid Numbers is exact.
_EXACT = decimal.Context(prec=400, Emax=999_999, Emin=-999_999)


def number_target(data: bytes) -> None:
    """The fuzzer's bytes as two Number texts, split at the first NUL."""
    text, _, other = data.decode("utf-8", "replace").partition("\x00")
    run_number(text, other or "1")


SEED_EXPRESSIONS = (
    (0, "attribute_exists(#a) AND (#n BETWEEN :n AND :big OR NOT contains(#ss, :s))"),
    (0, "size(#l) > :n AND attribute_type(#m, :type) AND begins_with(#a, :s)"),
    (0, "#a IN (:s, :n, :b) OR #m.k = :s OR #l[2][0] <> :n"),
    (1, "SET #a = :s, #n = #n + :n, #l = list_append(#l, :l), #m.k = if_not_exists(#m.k, :s)"),
    (1, "REMOVE #l[0], #m.deep.x ADD #ns :ns DELETE #ss :ss"),
    (1, "SET #n = :big + :big"),
    (2, "#a, #l[1], #m.deep.x, #ss, sk"),
    (3, "pk = :s AND sk BETWEEN :n AND :big"),
    (3, "pk = :s AND sk < :n"),
    (4, "#t = :t AND attribute_not_exists(#z) OR size(#a) >= :n"),
)
SEED_NUMBERS = ("0", "-0.000", "1e-130", "9.9999999999999999999999999999999999999E+125",
                "12345678901234567890123456789012345678", "0.1\x00-0.1", "1E+125\x001E+125",
                "99999999999999999999999999999999999999\x001")
# the first byte of an expression seed picks its kind
SEEDS_BYTES = tuple(bytes([kind]) + text.encode() for kind, text in SEED_EXPRESSIONS)

