"""DynamoDB numbers: canonical text, 38 digits, a fixed range, exact arithmetic.

Developer Guide, "Naming rules and data types": a Number has up to 38
significant digits, a magnitude between 1E-130 and 9.99...E+125, and is
stored without leading or trailing zeros.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dynamo.storage.errors import ValidationException
from dynamo.storage.numbers import (
    LARGEST,
    NOT_A_NUMBER,
    OVERFLOW,
    SMALLEST,
    TOO_PRECISE,
    UNDERFLOW,
    add,
    check_number,
    format_number,
    normalise_number,
    parse_number,
    subtract,
)

MAX_38 = "9.9999999999999999999999999999999999999E+125"


@pytest.mark.parametrize(("text", "canonical"), [
    ("0012.50", "12.5"),
    ("1.0", "1"),
    ("01", "1"),
    ("1e0", "1"),
    ("12E+2", "1200"),
    ("1.5e-3", "0.0015"),
    (".5", "0.5"),
    ("5.", "5"),
    ("+5", "5"),
    ("-0", "0"),
    ("0.000", "0"),
    ("-00.100", "-0.1"),
    ("1E-130", "0." + "0" * 129 + "1"),
    (MAX_38, "9" * 38 + "0" * 88),
    ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
    ("1" + "0" * 60, "1" + "0" * 60),
])
def test_numbers_are_stored_in_one_canonical_text(text: str, canonical: str) -> None:
    assert normalise_number(text) == canonical


@pytest.mark.parametrize(("text", "message"), [
    ("", NOT_A_NUMBER),
    ("b", NOT_A_NUMBER + ": b"),
    ("1 ", NOT_A_NUMBER + ": 1 "),
    (" 1", NOT_A_NUMBER + ":  1"),
    ("Infinity", NOT_A_NUMBER + ": Infinity"),
    ("NaN", NOT_A_NUMBER + ": NaN"),
    ("0x10", NOT_A_NUMBER + ": 0x10"),
    ("1e", NOT_A_NUMBER + ": 1e"),
    ("--1", NOT_A_NUMBER + ": --1"),
    ("\u0661", NOT_A_NUMBER + ": \u0661"),  # an Arabic-Indic one: not an ASCII digit
    ("123456789012345678901234567890123456789", TOO_PRECISE),
    ("-1.23456789012345678901234567890123456789", TOO_PRECISE),
    ("1e126", OVERFLOW),
    ("-1e126", OVERFLOW),
    ("1e-131", UNDERFLOW),
    ("-1e-131", UNDERFLOW),
    ("1e999999999", OVERFLOW),
    ("1e-999999999", UNDERFLOW),
    ("123456789012345678901234567890123456789e200", OVERFLOW),
])
def test_bad_numbers_get_dynamodbs_messages(text: str, message: str) -> None:
    with pytest.raises(ValidationException) as caught:
        parse_number(text)
    assert caught.value.message == message


def test_the_range_ends_are_inclusive() -> None:
    assert parse_number(MAX_38) == LARGEST
    assert parse_number("-" + MAX_38) == LARGEST.copy_negate()
    assert parse_number("1E-130") == SMALLEST
    assert parse_number("-1E-130") == SMALLEST.copy_negate()


def test_non_text_is_not_a_number() -> None:
    with pytest.raises(ValidationException) as caught:
        parse_number(12)  # type: ignore[arg-type]
    assert caught.value.message == NOT_A_NUMBER


def test_check_number_normalises_trailing_zeros() -> None:
    assert check_number(Decimal("1200")).as_tuple().digits == (1, 2)
    assert format_number(check_number(Decimal("-0.0"))) == "0"


def test_arithmetic_is_exact_within_38_digits() -> None:
    assert add(Decimal("0.1"), Decimal("0.2")) == Decimal("0.3")
    assert subtract(Decimal("1"), Decimal("1")) == 0
    big = Decimal("9" * 38)
    assert subtract(big, Decimal(1)) == Decimal("9" * 37 + "8")


def test_arithmetic_refuses_to_round() -> None:
    with pytest.raises(ValidationException) as caught:
        add(Decimal("1e30"), Decimal("1e-30"))
    assert caught.value.message == TOO_PRECISE


def test_arithmetic_refuses_to_leave_the_range() -> None:
    with pytest.raises(ValidationException) as caught:
        add(LARGEST, LARGEST)
    assert caught.value.message == OVERFLOW
    with pytest.raises(ValidationException) as caught:
        subtract(Decimal("1.1e-130"), Decimal("1e-130"))
    assert caught.value.message == UNDERFLOW


# -- properties -------------------------------------------------------------------

number_texts = st.builds(
    lambda sign, whole, fraction, exponent: f"{sign}{whole}{fraction}{exponent}",
    st.sampled_from(["", "-", "+"]),
    st.text("0123456789", min_size=1, max_size=20),
    st.one_of(st.just(""), st.text("0123456789", max_size=20).map(lambda f: "." + f)),
    st.one_of(st.just(""), st.integers(-140, 140).map(lambda e: f"e{e}")),
)


@settings(max_examples=300, deadline=None)
@given(number_texts)
def test_normalise_is_idempotent_and_keeps_the_value(text: str) -> None:
    try:
        canonical = normalise_number(text)
    except ValidationException:
        return  # out of range or too precise; the message tests cover those
    assert normalise_number(canonical) == canonical
    assert Decimal(canonical) == Decimal(text)
    assert "e" not in canonical.lower()
    if "." in canonical:
        assert not canonical.endswith("0")


@settings(max_examples=200, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=6,
                   min_value=-10**20, max_value=10**20),
       st.decimals(allow_nan=False, allow_infinity=False, places=6,
                   min_value=-10**20, max_value=10**20))
def test_add_and_subtract_match_exact_decimal_arithmetic(a: Decimal, b: Decimal) -> None:
    # Operands of at most 27 digits: every sum fits 38 digits, so it must be exact.
    assert add(a, b) == a + b
    assert subtract(a, b) == a - b
