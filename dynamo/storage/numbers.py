"""DynamoDB numbers: 38 significant digits, a fixed range, one canonical text.

A Number travels as a string and is stored exactly, as a decimal (Developer
Guide, "Naming rules and data types"): at most 38 significant digits, positive
magnitudes from 1E-130 to 9.9999999999999999999999999999999999999E+125 (and
their negatives), and zero. DynamoDB trims leading and trailing zeros, so
"1.0", "01" and "1e0" are all stored and returned as "1".

Arithmetic (UpdateExpression `SET a = a + :n`, `ADD`) happens in a 38-digit
context that refuses to round: a result that needs a 39th digit is an error,
never a silently different number.
"""

from __future__ import annotations

import decimal
import re
from decimal import Decimal

from dynamo.storage.errors import ValidationException

MAX_DIGITS = 38
LARGEST = Decimal("9.9999999999999999999999999999999999999E+125")
SMALLEST = Decimal("1E-130")

# What DynamoDB accepts as a number literal: optional sign, digits with an
# optional fraction, an optional exponent. No "Infinity", "NaN", hex or spaces,
# and only ASCII digits (a bare \d would also take "١", which Decimal reads as 1).
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")

_CONTEXT = decimal.Context(
    prec=MAX_DIGITS,
    Emax=999_999,
    Emin=-999_999,
    traps=[decimal.InvalidOperation, decimal.Inexact, decimal.DivisionByZero],
)

# Wide enough to hold any sum of two in-range numbers exactly.
_WIDE = decimal.Context(prec=1000, Emax=999_999, Emin=-999_999)

NOT_A_NUMBER = "The parameter cannot be converted to a numeric value"
TOO_PRECISE = "Attempting to store more than 38 significant digits in a Number"
OVERFLOW = "Number overflow. Attempting to store a number with magnitude larger than supported range"
UNDERFLOW = "Number underflow. Attempting to store a number with magnitude smaller than supported range"


def parse_number(text: str) -> Decimal:
    """Read a wire Number, checking DynamoDB's precision and range rules.

    Raises:
        ValidationException: not a number, more than 38 significant digits,
            or a magnitude outside 1E-130 .. 9.99…E+125.
    """
    if not isinstance(text, str) or not _NUMBER.match(text):
        suffix = f": {text}" if isinstance(text, str) and text else ""
        raise ValidationException(NOT_A_NUMBER + suffix)
    try:
        value = Decimal(text)
    except decimal.InvalidOperation:
        # An exponent past what a decimal can hold (1e9999999999999999999): no number at
        # all, as for Java's BigDecimal, which DynamoDB's messages come from.
        raise ValidationException(f"{NOT_A_NUMBER}: {text}") from None
    return check_number(value)


def check_number(value: Decimal) -> Decimal:
    """Check precision and range of a decimal; return it normalised."""
    if value.is_zero():
        return Decimal(0)
    # Range first, on the exponent alone: normalising 1e999999999 would overflow
    # the decimal context itself, and DynamoDB reports range before precision.
    if value.adjusted() > LARGEST.adjusted():
        raise ValidationException(OVERFLOW)
    if value.adjusted() < SMALLEST.adjusted():
        raise ValidationException(UNDERFLOW)
    normal = value.normalize(decimal.Context(prec=1000))
    if len(normal.as_tuple().digits) > MAX_DIGITS:
        raise ValidationException(TOO_PRECISE)
    if normal.copy_abs() > LARGEST:
        raise ValidationException(OVERFLOW)
    if normal.copy_abs() < SMALLEST:
        raise ValidationException(UNDERFLOW)
    return normal


def format_number(value: Decimal) -> str:
    """The canonical text DynamoDB returns: no exponent, no padding zeros.

    >>> format_number(Decimal("1.50")), format_number(Decimal("12E+2"))
    ('1.5', '1200')
    """
    if value.is_zero():
        return "0"
    return format(value.normalize(decimal.Context(prec=1000)), "f")


def normalise_number(text: str) -> str:
    """Parse and re-format a wire Number: "0012.50" becomes "12.5"."""
    return format_number(parse_number(text))


def add(a: Decimal, b: Decimal) -> Decimal:
    """a + b in DynamoDB's 38-digit arithmetic."""
    return _exact(lambda context: context.add(a, b))


def subtract(a: Decimal, b: Decimal) -> Decimal:
    """a - b in DynamoDB's 38-digit arithmetic."""
    return _exact(lambda context: context.subtract(a, b))


def _exact(compute) -> Decimal:  # type: ignore[no-untyped-def]
    try:
        result = compute(_CONTEXT)
    except decimal.Inexact:
        # A sum out of range needs more than 38 digits too; name the range first.
        if compute(_WIDE).copy_abs() > LARGEST:
            raise ValidationException(OVERFLOW) from None
        raise ValidationException(TOO_PRECISE) from None
    return check_number(result)
