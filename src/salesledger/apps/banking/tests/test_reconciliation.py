"""The book-to-bank reconciliation: the statement balance and the book balance of an account
on a day, and the items that explain the difference, which must leave nothing unexplained."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from salesledger.apps.banking.matching import bank_match
from salesledger.apps.banking.reconciliation import reconciliation
from salesledger.apps.banking.services import statement_import
from salesledger.apps.core.services import company_profile_update
from salesledger.apps.invoicing.tests.books import line as inv_line
from salesledger.apps.invoicing.tests.books import (
    make_company,
    make_customer,
    make_owner,
    post_single,
)
from salesledger.apps.payments.models import Receipt
from salesledger.apps.payments.receipts import receipts_record
from salesledger.apps.payments.refunds import receipt_reverse
from salesledger.domain.receipts import ReceiptRequest

pytestmark = pytest.mark.django_db(transaction=False)

IBAN = "NL26VAYB8060476890"


def mt940(opening: str, lines: list[tuple[str, str, str]], number: str = "1") -> bytes:
    """An MT940 statement: its opening balance, then (day, C/D and amount, text) per line."""
    body = [":20:STMT", f":25:{IBAN}", f":28C:{number}/1", f":60F:C250301EUR{opening}"]
    total = Decimal(opening.replace(",", "."))
    for day, mark_amount, text in lines:
        mark, amount = mark_amount[0], mark_amount[1:]
        total += Decimal(amount.replace(",", ".")) * (1 if mark == "C" else -1)
        body += [f":61:{day}{day[2:]}{mark}{amount}NTRFNONREF", f":86:/NAME/Someone/REMI/{text}"]
    body += [f":62F:C250331EUR{str(total).replace('.', ',')}", "-"]
    return "\r\n".join(body).encode()


@pytest.fixture
def books() -> dict[str, Any]:
    owner = make_owner("rec-owner")
    company = make_company(owner, "recco")
    company = company_profile_update(actor=owner, company=company, iban=IBAN)
    make_customer(company, owner, "ACME", name="ACME Trading GmbH")
    inv = [post_single(company, owner, "ACME", [inv_line(f"i{n}", "1", price)])
           for n, price in enumerate(("100", "40", "25"))]
    return {"owner": owner, "company": company, "inv": inv}


def test_the_difference_is_explained_item_by_item(books):
    owner, company, inv = books["owner"], books["company"], books["inv"]
    statement_import(actor=owner, company=company, data=mt940("1000,00", [
        ("250310", "C100,00", inv[0].payment_reference),  # applied: a receipt is made of it
        ("250311", "C77,00", "who knows"),  # money in nobody can place
        ("250312", "D12,50", "bank fees"),  # money out: not a receivables movement
    ]))
    bank_match(actor=owner, company=company, auto_apply=True)
    # A receipt recorded by hand whose line has not arrived, and one recorded then reversed.
    receipts_record(actor=owner, company=company, requests=[
        ReceiptRequest(day=date(2025, 3, 20), amount=Decimal("40"), customer_code="ACME"),
        ReceiptRequest(day=date(2025, 3, 21), amount=Decimal("25"), customer_code="ACME")])
    twice = Receipt.objects.get(company=company, amount=2500)
    receipt_reverse(actor=owner, company=company, number=twice.number, day=date(2025, 3, 22),
                    reason="recorded twice")

    r = reconciliation(company, as_of=date(2025, 3, 31))
    assert r.statement_balance == 100000 + 10000 + 7700 - 1250
    assert r.book_balance == 10000 + 4000
    assert r.opening_balance == 100000 and r.opening_known
    assert [(i.amount, i.status) for i in r.on_statement_not_in_books] == [
        (7700, "unmatched"), (-1250, "other")]
    by_hand = Receipt.objects.get(company=company, amount=4000)
    assert [(i.amount, i.kind, i.reference) for i in r.in_books_not_on_statement] == [
        (4000, "receipt", by_hand.number)]
    assert r.difference == r.explained and r.unexplained == 0


def test_a_day_before_the_lines_sees_only_what_was_there(books):
    owner, company, inv = books["owner"], books["company"], books["inv"]
    statement_import(actor=owner, company=company, data=mt940("0,00", [
        ("250310", "C100,00", inv[0].payment_reference),
        ("250315", "C40,00", inv[1].payment_reference)]))
    bank_match(actor=owner, company=company, auto_apply=True)
    r = reconciliation(company, as_of=date(2025, 3, 12))
    assert (r.statement_balance, r.book_balance, r.unexplained) == (10000, 10000, 0)
    assert r.on_statement_not_in_books == [] and r.in_books_not_on_statement == []
    r = reconciliation(company, as_of=date(2025, 3, 31))
    assert (r.statement_balance, r.book_balance, r.unexplained) == (14000, 14000, 0)


def test_a_receipt_recorded_by_hand_and_applied_from_its_line_shows_as_a_double(books):
    owner, company, inv = books["owner"], books["company"], books["inv"]
    receipts_record(actor=owner, company=company, requests=[
        ReceiptRequest(day=date(2025, 3, 10), amount=Decimal("77"), customer_code="ACME")])
    statement_import(actor=owner, company=company, data=mt940("0,00", [
        ("250310", "C100,00", inv[0].payment_reference)]))
    bank_match(actor=owner, company=company, auto_apply=True)
    r = reconciliation(company, as_of=date(2025, 3, 31))
    assert r.difference == -7700
    assert [(i.amount, i.kind) for i in r.in_books_not_on_statement] == [(7700, "receipt")]
    assert r.unexplained == 0
