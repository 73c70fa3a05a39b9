"""Money: pence and currency, parsing typed amounts, half-up percentages and VAT (DESIGN.md §2)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.domain.money import (
    MAX_PENCE,
    Money,
    check_basis_points,
    parse_percent,
    round_half_up_div,
    sum_money,
)

PROPERTY = settings(max_examples=200, deadline=None)


def gbp(pence: int) -> Money:
    return Money(pence, "GBP")


# --- Worked examples ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "pence"),
    [("12.5", 1250), ("£1,234.56", 123456), (" 3 ", 300), ("0.01", 1), ("0", 0), ("250.00", 25000)],
)
def test_parse_reads_what_a_receptionist_types(typed: str, pence: int) -> None:
    assert Money.parse(typed) == gbp(pence)


@pytest.mark.parametrize("junk", ["abc", "", "1.234", "NaN", "Infinity", "-5", "12..5", "1e3.5", "£"])
def test_parse_refuses_junk_with_a_sentence(junk: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Money.parse(junk)
    assert str(refused.value).endswith(".")


def test_parse_accepts_a_negative_amount_only_when_asked() -> None:
    assert Money.parse("-5", allow_negative=True) == gbp(-500)


def test_parse_refuses_an_absurd_amount() -> None:
    with pytest.raises(InvalidInput, match="too large"):
        Money.parse("1000000000")


def test_ten_percent_of_33_35_is_3_34_half_up() -> None:
    assert gbp(3335).percent(1000) == gbp(334)


def test_twenty_percent_of_250_pounds() -> None:
    assert gbp(25000).percent(2000) == gbp(5000)


def test_vat_inside_200_pounds_at_20_percent_is_33_33() -> None:
    assert gbp(20000).vat_inside(2000) == gbp(3333)


def test_vat_inside_an_exempt_amount_is_zero() -> None:
    assert gbp(20000).vat_inside(0) == gbp(0)


def test_fraction_is_half_up() -> None:
    assert gbp(10000).fraction(1, 3) == gbp(3333)
    assert gbp(10000).fraction(2, 3) == gbp(6667)


def test_money_refuses_floats_and_mixed_currencies() -> None:
    with pytest.raises(TypeError):
        Money(12.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        gbp(100) + Money(100, "EUR")
    with pytest.raises(TypeError):
        gbp(100) * 1.5  # type: ignore[operator]


def test_sum_of_nothing_is_zero_of_the_currency() -> None:
    assert sum_money([], "EUR") == Money(0, "EUR")
    assert sum_money([gbp(1), gbp(2)]) == gbp(3)


@pytest.mark.parametrize(
    ("typed", "bp"), [("20", 2000), ("20%", 2000), ("12.5", 1250), ("0", 0), ("100", 10000)]
)
def test_parse_percent(typed: str, bp: int) -> None:
    assert parse_percent(typed) == bp


@pytest.mark.parametrize("junk", ["abc", "101", "-1", "12.345"])
def test_parse_percent_refuses_junk(junk: str) -> None:
    with pytest.raises(InvalidInput):
        parse_percent(junk)


def test_basis_points_must_be_whole_and_within_0_to_100_percent() -> None:
    with pytest.raises(InvalidInput):
        check_basis_points(10001)
    with pytest.raises(InvalidInput):
        check_basis_points(True)  # type: ignore[arg-type]


# --- Properties ----------------------------------------------------------------------------------------------------

amounts_in_pence = st.integers(min_value=0, max_value=MAX_PENCE - 1)


@PROPERTY
@given(amounts_in_pence)
def test_parse_round_trips_two_decimal_amounts(pence: int) -> None:
    whole, part = divmod(pence, 100)
    assert Money.parse(f"{whole}.{part:02d}") == gbp(pence)
    assert Money.parse(f"{whole:,}.{part:02d}") == gbp(pence)


@PROPERTY
@given(st.text(alphabet=st.characters(blacklist_categories=("Nd",)), min_size=1))
def test_parse_rejects_text_without_digits(text: str) -> None:
    with pytest.raises(InvalidInput):
        Money.parse(text)


@PROPERTY
@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=999))
def test_parse_rejects_three_decimals(whole: int, thousandths: int) -> None:
    with pytest.raises(InvalidInput):
        Money.parse(f"{whole}.{thousandths:03d}")


@PROPERTY
@given(amounts_in_pence, st.integers(min_value=0, max_value=10_000))
def test_percent_is_half_up_once(pence: int, bp: int) -> None:
    exact = Decimal(pence) * Decimal(bp) / Decimal(10_000)
    assert gbp(pence).percent(bp).pence == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@PROPERTY
@given(st.integers(min_value=-(10**12), max_value=10**12), st.integers(min_value=1, max_value=10**6))
def test_round_half_up_div_matches_decimal(numerator: int, denominator: int) -> None:
    exact = Decimal(numerator) / Decimal(denominator)
    assert round_half_up_div(numerator, denominator) == int(
        exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    )
