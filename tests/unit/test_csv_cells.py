"""Cells of an import file: numbers and dates in ASCII digits only, and no negative zero."""

from __future__ import annotations

from decimal import Decimal

import pytest

from salesledger.formats.csv_rows import CellError, parse_date, parse_decimal


@pytest.mark.parametrize("text", ["١٢", "１２", "12.٥", "٢٠٢٥-٠٣-٠١"])
def test_digits_of_other_scripts_are_not_numbers(text: str) -> None:
    with pytest.raises(CellError):
        parse_decimal(text)
    with pytest.raises(CellError):
        parse_date(text)


@pytest.mark.parametrize("text", ["-0", "-0.00", "+0", "0"])
def test_zero_has_no_sign(text: str) -> None:
    value = parse_decimal(text)
    assert value == 0 and not value.is_signed()


def test_ordinary_numbers_still_read() -> None:
    assert parse_decimal("1234.50") == Decimal("1234.50")
    assert parse_decimal("-3") == Decimal(-3)
    assert parse_decimal(".5") == Decimal("0.5")
