"""The references and amounts banks write into a line's free text (formats/bank/details.py,
formats/bank/mt940.py): SWIFT's ``/OCMT/`` original amount, read from field 61's
supplementary details or from field 86, ends the field before it, and a file whose original
amount is not a number says where."""

from __future__ import annotations

from decimal import Decimal

import pytest

from salesledger.formats.bank import read_statement
from salesledger.formats.bank.details import original_amount, parse_details
from salesledger.formats.bank.model import StatementUnreadable


@pytest.mark.parametrize(("text", "expected"), [
    ("/OCMT/USD1000,00/", ("USD", "1000,00")),
    ("/OCMT/GBP40,5//CHGS/EUR1,50/", ("GBP", "40,5")),
    ("/NAME/X/OCMT/chf 12.30/", ("CHF", "12.30")),
    ("/OCMT/JPY1500/\r\n", ("JPY", "1500")),
    ("/CHGS/EUR1,50/", None),
    ("no code word here", None),
])
def test_the_original_amount_is_read_from_the_ocmt_code_word(text, expected):
    assert original_amount(text) == expected


def test_the_amount_code_words_end_the_field_before_them():
    found = parse_details("/NAME/ACME Inc/OCMT/USD100,00//CHGS/EUR2,00//REMI/INV-7")
    assert (found["name"], found["text"]) == ("ACME Inc", "INV-7")


def statement(supplementary: str = "", details: str = "/NAME/ACME/REMI/INV-7") -> bytes:
    return "\r\n".join([
        ":20:S", ":25:NL26VAYB8060476890", ":28C:1/1", ":60F:C250301EUR0,00",
        ":61:2503150315C920,00NTRFNONREF//B1" + (f"\r\n{supplementary}" if supplementary
                                                  else ""),
        f":86:{details}", ":62F:C250331EUR920,00", "-"]).encode()


@pytest.mark.parametrize(("supplementary", "details"), [
    ("/OCMT/USD1000,00/", "/NAME/ACME/REMI/INV-7"),
    ("", "/NAME/ACME/OCMT/USD1000,00//REMI/INV-7"),
])
def test_an_mt940_line_keeps_its_original_amount_and_currency(supplementary, details):
    [line] = read_statement(statement(supplementary, details)).statements[0].lines
    assert (line.amount, line.currency) == (Decimal("920.00"), "EUR")
    assert (line.original_amount, line.original_currency) == (Decimal("1000.00"), "USD")
    assert (line.counterparty_name, line.text) == ("ACME", "INV-7")


def test_a_line_without_it_has_none():
    [line] = read_statement(statement()).statements[0].lines
    assert (line.original_amount, line.original_currency) == (None, "")


def test_an_original_amount_out_of_bounds_says_where():
    with pytest.raises(StatementUnreadable, match=r"line 1 .*/OCMT/.*not an amount"):
        read_statement(statement("/OCMT/USD1234567890123456,00/"))
