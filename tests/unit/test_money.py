"""Money: exact amounts, no floats, no currency mixing, splits that add up."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesledger.money import (
    EXPONENTS,
    CurrencyMismatchError,
    Money,
    Rounding,
    UnknownCurrency,
    get_currency,
    major_text,
    major_texter,
    money_sum,
    quantize,
)

CURRENCIES = st.sampled_from(["EUR", "USD", "JPY", "KWD", "CLF", "GBP"])
MINOR = st.integers(min_value=-10**15, max_value=10**15)


@pytest.mark.parametrize("bad", [0.1, 1.0, float("nan"), True, False])
def test_floats_and_booleans_are_refused(bad):
    with pytest.raises(TypeError):
        Money(bad, "EUR")
    with pytest.raises(TypeError):
        Money.of(bad, "EUR")


def test_multiplying_by_a_float_is_refused():
    with pytest.raises(TypeError):
        Money("10.00", "EUR") * 1.5
    with pytest.raises(TypeError):
        1.5 * Money("10.00", "EUR")
    assert Money("10.00", "EUR") * Decimal("1.5") == Money("15.000", "EUR")
    assert 3 * Money("0.10", "EUR") == Money("0.30", "EUR")


def test_text_and_decimal_amounts_are_exact():
    assert Money("0.10", "EUR") + Money("0.20", "EUR") == Money("0.30", "EUR")
    assert Money.of(Decimal("0.1"), "EUR").amount == Decimal("0.1")
    with pytest.raises(ValueError):
        Money("ten", "EUR")
    with pytest.raises(ValueError):
        Money("Infinity", "EUR")


def test_unknown_currency_is_refused():
    with pytest.raises(UnknownCurrency):
        Money("1", "XXX")
    with pytest.raises(UnknownCurrency):
        Money("1", "eur")


@pytest.mark.parametrize("op", [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a < b, lambda a, b: a <= b,
    lambda a, b: a > b, lambda a, b: a >= b,
])
def test_currencies_do_not_mix(op):
    with pytest.raises(CurrencyMismatchError) as exc:
        op(Money("1.00", "EUR"), Money("1.00", "USD"))
    assert (exc.value.left, exc.value.right) == ("EUR", "USD")


def test_money_sum_refuses_a_foreign_item():
    items = [Money("1.00", "EUR"), Money("2.00", "EUR")]
    assert money_sum(items, "EUR") == Money("3.00", "EUR")
    with pytest.raises(CurrencyMismatchError):
        money_sum([*items, Money("1", "JPY")], "EUR")


def test_adding_a_number_is_refused():
    with pytest.raises(TypeError):
        Money("1.00", "EUR") + 1  # type: ignore[operator]


@pytest.mark.parametrize(("code", "exponent"), [("EUR", 2), ("USD", 2), ("JPY", 0),
                                                ("KWD", 3), ("BHD", 3), ("CLF", 4)])
def test_iso_4217_exponents(code, exponent):
    assert get_currency(code).exponent == exponent == EXPONENTS[code]
    assert Money.from_minor(1, code).amount == Decimal(1).scaleb(-exponent)


def test_minor_units_per_exponent():
    assert Money("1234", "JPY").minor() == 1234
    assert Money("1.234", "KWD").minor() == 1234
    assert Money("12.34", "EUR").minor() == 1234
    with pytest.raises(ValueError):
        Money("1.5", "JPY").minor()  # half a yen cannot be stored
    with pytest.raises(ValueError):
        Money("0.001", "EUR").minor()
    with pytest.raises(TypeError):
        Money.from_minor(Decimal(1), "EUR")  # type: ignore[arg-type]


@given(MINOR, CURRENCIES)
def test_minor_round_trip(minor, currency):
    m = Money.from_minor(minor, currency)
    assert m.minor() == minor
    assert Money.of(m.format_plain(), currency).minor() == minor


def test_json_carries_the_amount_as_a_string():
    assert Money.from_minor(1230, "EUR").to_json() == {"amount": "12.30", "currency": "EUR"}
    assert Money.from_minor(5, "JPY").to_json() == {"amount": "5", "currency": "JPY"}
    assert Money.from_minor(-1, "KWD").to_json() == {"amount": "-0.001", "currency": "KWD"}
    assert str(Money("7", "EUR")) == "7.00 EUR"


@pytest.mark.parametrize(("value", "policy", "expected"), [
    ("2.345", Rounding.HALF_UP, "2.35"), ("2.345", Rounding.HALF_EVEN, "2.34"),
    ("2.355", Rounding.HALF_EVEN, "2.36"), ("2.349", Rounding.DOWN, "2.34"),
    ("2.341", Rounding.UP, "2.35"), ("-2.345", Rounding.HALF_UP, "-2.35"),
    ("-2.349", Rounding.DOWN, "-2.34"), ("-2.341", Rounding.UP, "-2.35"),
])
def test_rounding_policies(value, policy, expected):
    assert quantize(Decimal(value), 2, policy) == Decimal(expected)
    assert Money(value, "EUR").round(policy) == Money(expected, "EUR")


def test_rounding_policies_have_storable_names():
    assert {r.value for r in Rounding} == {"half_up", "half_even", "down", "up"}
    assert Rounding("half_even") is Rounding.HALF_EVEN
    with pytest.raises(TypeError):
        quantize(2.5, 0)  # type: ignore[arg-type]


@given(st.integers(min_value=-10**12, max_value=10**12), st.integers(1, 60), CURRENCIES)
def test_equal_split_sums_to_whole_and_parts_differ_by_at_most_one_unit(minor, parts, currency):
    whole = Money.from_minor(minor, currency)
    split = whole.split(parts)
    assert len(split) == parts
    assert money_sum(split, currency) == whole
    units = [p.minor() for p in split]
    assert max(units) - min(units) <= 1
    assert all(p.currency == currency for p in split)


@given(st.integers(min_value=0, max_value=10**12),
       st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12)
       .filter(lambda ws: sum(ws) > 0),
       CURRENCIES)
def test_split_by_weights_sums_to_whole(minor, weights, currency):
    whole = Money.from_minor(minor, currency)
    parts = whole.split_by(weights)
    assert len(parts) == len(weights)
    assert money_sum(parts, currency) == whole
    total = sum(weights)
    for part, w in zip(parts[:-1], weights[:-1], strict=True):
        exact = Decimal(minor) * w / total
        # every part but the last is rounded down to a whole minor unit
        assert 0 <= exact - part.minor() < 1
    assert all(p.minor() >= 0 for p in parts)


def test_split_gives_the_remainder_to_the_last_part():
    assert [str(p) for p in Money("100.00", "EUR").split(3)] == [
        "33.33 EUR", "33.33 EUR", "33.34 EUR"]
    assert [p.minor() for p in Money("10", "JPY").split_by([1, 1, 1])] == [3, 3, 4]
    # a remainder of several units is spread one unit at a time over the last parts
    assert [p.minor() for p in Money("0.05", "EUR").split(3)] == [1, 2, 2]
    assert [p.minor() for p in Money("-0.05", "EUR").split(3)] == [-1, -2, -2]


def test_split_refuses_bad_weights():
    m = Money("1.00", "EUR")
    for weights in ([], [0, 0], [1, -1]):
        with pytest.raises(ValueError):
            m.split_by(weights)
    with pytest.raises(ValueError):
        m.split(0)


@given(whole=st.integers(min_value=0, max_value=10**80), thousandths=st.integers(0, 999))
def test_rounding_is_exact_at_any_size(whole, thousandths):
    # far beyond the default context's 28 digits, rounding stays exact (half up: 5 goes up)
    value = Money.of(f"{whole}.{thousandths:03d}", "EUR")
    cents = whole * 100 + (thousandths + 5) // 10
    expected = f"{cents // 100}.{cents % 100:02d}"
    assert value.round().amount == Decimal(expected)
    assert str(value.round()) == f"{expected} EUR"


@given(st.one_of(MINOR, st.integers(-1000, 1000)), CURRENCIES)
def test_major_texter_writes_what_major_text_writes(minor, currency):
    assert major_texter(currency)(minor) == major_text(minor, currency)


@pytest.mark.parametrize(("minor", "currency", "text"), [
    (0, "EUR", "0.00"), (5, "EUR", "0.05"), (-5, "EUR", "-0.05"), (-150, "EUR", "-1.50"),
    (1234, "JPY", "1234"), (-1, "KWD", "-0.001"), (100000, "CLF", "10.0000")])
def test_major_texter_examples(minor, currency, text):
    assert major_texter(currency)(minor) == text
