"""Reading remittance advice: CSV exports with their headers in several languages and
separators, and the text of an e-mail; clear errors for what says nothing readable."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesledger.domain.errors import ValidationFailed
from salesledger.formats.bank.remittance import parse_amount, read_remittance


def rows(data: str) -> list[tuple[str, Decimal]]:
    return [(r.reference, r.amount) for r in read_remittance(data.encode())]


def test_a_csv_with_a_semicolon_and_a_decimal_comma():
    assert rows("Datum;Rechnung;Betrag\n2025-03-01;INV2025-00001;1.234,50\n"
                "2025-03-01;INV2025-00002;99,00\n") == [
        ("INV2025-00001", Decimal("1234.50")), ("INV2025-00002", Decimal("99.00"))]


def test_a_csv_with_commas_and_english_headers():
    assert rows('Invoice number,Amount paid\n"INV 2025 00003","1,020.00"\n\n') == [
        ("INV 2025 00003", Decimal("1020.00"))]


def test_the_text_of_an_e_mail():
    text = ("Bonjour,\nnous vous réglons ce jour :\n- facture INV2025-00001 : 120,00 EUR\n"
            "- facture INV2025-00007   45.50\nCordialement\n")
    assert rows(text) == [("facture INV2025-00001", Decimal("120.00")),
                          ("facture INV2025-00007", Decimal("45.50"))]


@pytest.mark.parametrize(("data", "message"), [
    ("hello\nnothing here\n", "lists no invoice"),
    ("Invoice,Amount\nINV1,twelve\n", "line 2: 'twelve' is not an amount"),
    ("Invoice,Amount\n,12.00\n", "line 2: no invoice reference"),
    ("Invoice,Amount\nINV1,-12.00\n", "not positive"),
])
def test_what_cannot_be_read_says_where(data, message):
    with pytest.raises(ValidationFailed, match=message):
        read_remittance(data.encode())


@pytest.mark.parametrize(("text", "value"), [
    ("1.234,50", "1234.50"), ("1,234.50", "1234.50"), ("1 234,50", "1234.50"),
    ("1234.5", "1234.5"), ("12", "12"), ("1'000.00", "1000.00")])
def test_amounts_as_people_write_them(text, value):
    assert parse_amount(text) == Decimal(value)


@given(st.binary(max_size=400))
def test_any_bytes_give_rows_or_a_clear_error(data):
    try:
        read_remittance(data)
    except ValidationFailed:
        pass
