"""The account an invoice is paid into (domain/bank_accounts.py)."""

from __future__ import annotations

from salesledger.domain.bank_accounts import Payee, PayeeAccount, pay_into, pay_to

MAIN = PayeeAccount("MAIN", "EUR", iban="FR7630006000011234567890189", bic="AGRIFRPP",
                    is_main=True)
USD_B = PayeeAccount("USD-B", "USD", iban="DE89370400440532013000", bic="COBADEFFXXX")
USD_A = PayeeAccount("USD-A", "USD", number="12345678")
USD_NONE = PayeeAccount("USD-0", "USD")  # neither IBAN nor number
EUR_2 = PayeeAccount("EUR2", "EUR", iban="FR1420041010050500013M02606")


def test_the_main_account_when_it_holds_the_currency():
    assert pay_into([EUR_2, MAIN, USD_B], "EUR") is MAIN


def test_else_the_account_in_the_currency_with_the_lowest_code_that_can_be_paid_into():
    assert pay_into([MAIN, USD_B, USD_A, USD_NONE], "USD") is USD_A
    assert pay_into([MAIN, USD_B, USD_NONE], "USD") is USD_B


def test_else_the_main_account():
    assert pay_into([MAIN, USD_NONE], "USD") is MAIN
    assert pay_into([MAIN, USD_B], "GBP") is MAIN


def test_a_main_account_without_details_gives_way_and_none_means_nothing_to_name():
    empty_main = PayeeAccount("MAIN", "EUR", is_main=True)
    assert pay_into([empty_main, EUR_2], "EUR") is EUR_2
    assert pay_into([empty_main], "EUR") is None
    assert pay_into([], "EUR") is None


def test_pay_to_is_what_the_snapshot_freezes():
    payee = Payee("Acme Conseil SARL", (MAIN, USD_A, USD_B))
    assert pay_to(payee, kind="invoice", currency="EUR") == {
        "code": "MAIN", "iban": MAIN.iban, "bic": "AGRIFRPP", "holder": "Acme Conseil SARL"}
    # an account without an IBAN is named by its number
    assert pay_to(payee, kind="invoice", currency="USD") == {
        "code": "USD-A", "iban": "", "bic": "", "holder": "Acme Conseil SARL",
        "number": "12345678"}
    assert pay_to(payee, kind="credit_note", currency="EUR") is None  # nothing is paid in
    assert pay_to(None, kind="invoice", currency="EUR") is None
    assert pay_to(Payee("X", ()), kind="invoice", currency="EUR") is None
