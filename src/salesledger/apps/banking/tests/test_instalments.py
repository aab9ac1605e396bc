"""Amounts that pay an invoice in instalments after a part payment, by amount alone: what it
still owes in all (its open instalments together), one open instalment, or its first few
open instalments. From a payer the matcher knows (its name), the customer's own proposals
(``fit_customer``); from a stranger, the review's suggestions read across the ledger
(``wide_candidates``: the index on what each open instalment owes, and the invoices paid in
part through the settlement kept on each invoice)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from salesledger.apps.banking.matching import bank_confirm, bank_match, owed_in_parts
from salesledger.apps.banking.services import statement_import
from salesledger.apps.core.services import company_profile_update
from salesledger.apps.customers.services import payment_terms_create
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.invoicing.tests.books import (
    ledger_problems,
    line,
    make_company,
    make_customer,
    make_owner,
    post_single,
)
from salesledger.apps.payments.allocations import allocations_make
from salesledger.apps.payments.receipts import receipts_record
from salesledger.domain.allocation import AllocationRequest, SourceKind, SourceRef, ToInvoice
from salesledger.domain.receipts import ReceiptRequest
from salesledger.domain.terms import parse_terms

from .support import IBAN
from .test_matching import statement

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def books() -> dict[str, Any]:
    """Steady owes 900.00 in thirds (300.00 each) and has paid 100.00 of it: 200.00, 300.00
    and 300.00 are open, 800.00 in all. Other customers owe other amounts."""
    return thirds_paid(100, [20000, 30000, 30000])


def thirds_paid(paid: int, owed: list[int]) -> dict[str, Any]:
    """The books of ``books`` with ``paid`` (major units) allocated to Steady's invoice."""
    owner = make_owner("inst-owner")
    company = make_company(owner, "instco")
    company = company_profile_update(actor=owner, company=company, iban=IBAN)
    payment_terms_create(actor=owner, company=company, code="THIRDS", name="In thirds",
                         terms=parse_terms("30/60/90"))
    make_customer(company, owner, "STEADY", name="Steady Payments Ltd")
    make_customer(company, owner, "OTHER", name="Otherwise Trading")
    inv = post_single(company, owner, "STEADY", [line("Machine", "1", "900")],
                      terms_code="THIRDS")
    other = post_single(company, owner, "OTHER", [line("Parts", "1", "650")])
    _, [rid] = receipts_record(actor=owner, company=company, requests=[
        ReceiptRequest(day=date(2025, 3, 12), amount=paid * 100, customer_id=inv.customer_id,
                       currency="EUR")])
    allocations_make(actor=owner, company=company, requests=[AllocationRequest(
        SourceRef(SourceKind.RECEIPT, id=rid), date(2025, 3, 12),
        (ToInvoice(inv.number, paid),))])
    assert [i.amount - i.settled for i in inv.instalments.order_by("seq")] == owed
    return {"owner": owner, "company": company, "inv": inv, "other": other}


def match(books: dict[str, Any], lines: list[tuple[str, str, str, str, str]]) -> dict[int, Any]:
    statement_import(actor=books["owner"], company=books["company"], data=statement(lines))
    return {r.line.amount: r for r in bank_match(actor=books["owner"],
                                                 company=books["company"])}


def test_a_stranger_paying_what_an_invoice_paid_in_part_owes_is_suggested_it(books):
    number = books["inv"].number
    got = match(books, [
        ("250320", "C800,00", "", "Unknown Payer", "payment"),  # all three open instalments
        ("250320", "C500,00", "", "Someone Else", "payment"),  # the first two
        ("250320", "C200,00", "", "A Stranger", "payment"),  # what the first still owes
        ("250320", "C600,00", "", "Nobody Known", "payment"),  # two, but not the first two
    ])
    for amount, evidence in ((80000, f"amount equals open invoice {number}"),
                             (50000, f"amount equals the first 2 open instalments of invoice "
                                     f"{number}"),
                             (20000, f"amount equals one open instalment of invoice {number}")):
        r = got[amount]
        assert r.decision == "suggested", (amount, r.evidence)
        top = r.suggestions[0]
        assert (top.customer_id, top.allocations) == (books["inv"].customer_id,
                                                      ((number, amount),)), amount
        assert top.evidence[0].startswith(evidence), (amount, top.evidence)
        assert top.confidence < 0.5  # a suggestion for review, never applied
    assert got[60000].suggestions == ()


def test_the_suggestion_confirmed_pays_those_instalments(books):
    got = match(books, [("250320", "C500,00", "", "Someone Else", "payment")])
    bank_confirm(actor=books["owner"], company=books["company"], line_id=got[50000].line.pk)
    owed = [i.amount - i.settled for i in
            Invoice.objects.get(pk=books["inv"].pk).instalments.order_by("seq")]
    assert owed == [0, 0, 30000]
    assert ledger_problems(books["company"]) == []


def test_the_customer_known_by_name_pays_its_first_open_instalments(books):
    number = books["inv"].number
    got = match(books, [("250320", "C500,00", "", "Steady Payments", "march"),
                        ("250320", "C800,00", "", "Steady Payments", "all of it")])
    first = got[50000].suggestions[0]
    assert (first.allocations, first.evidence[-1]) == (
        ((number, 50000),), "amount equals the first 2 open instalments of one invoice")
    assert got[80000].suggestions[0].allocations == ((number, 80000),)
    assert got[80000].suggestions[0].confidence > got[50000].suggestions[0].confidence * 0.9


def test_the_invoices_paid_in_part_are_found_through_their_index(books):
    # as SQLite plans it: the invoices partially paid from the kept settlement's index, each
    # invoice's open instalments by invoice, never the company's open items (PostgreSQL's
    # plan of tables this small ties with a scan: see test_matching's plan test)
    from django.db import connection

    from salesledger.apps.banking.matching import owed_in_parts_sql

    if connection.vendor != "sqlite":
        pytest.skip("the plan of a small table on PostgreSQL ties")
    sql, params = owed_in_parts_sql(books["company"])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = "\n".join(str(row) for row in cursor.fetchall())
    assert "SEARCH p USING INDEX invoice_settlement (company_id=? AND settlement=?)" in plan, plan
    assert "SEARCH o USING INDEX" in plan and "(invoice_id=?)" in plan, plan
    assert "instalment_open" not in plan and "instalment_owed" not in plan, plan


def test_a_stranger_paying_the_rest_of_an_invoice_whose_first_instalment_is_paid():
    # 900.00 in thirds, the first 300.00 settled in full (no instalment settled in part):
    # 600.00 is what the invoice still owes, neither its total nor any one instalment
    first_paid = thirds_paid(300, [0, 30000, 30000])
    number = first_paid["inv"].number
    assert owed_in_parts(first_paid["company"]) == {60000: [first_paid["inv"].pk]}
    got = match(first_paid, [("250320", "C600,00", "", "Unknown Payer", "the rest")])
    r = got[60000]
    assert r.decision == "suggested", r.evidence
    top = r.suggestions[0]
    assert (top.customer_id, top.allocations) == (first_paid["inv"].customer_id,
                                                  ((number, 60000),))
    assert top.evidence[0].startswith(f"amount equals open invoice {number}"), top.evidence
    assert top.confidence < 0.5
    bank_confirm(actor=first_paid["owner"], company=first_paid["company"], line_id=r.line.pk)
    owed = [i.amount - i.settled for i in
            Invoice.objects.get(pk=first_paid["inv"].pk).instalments.order_by("seq")]
    assert owed == [0, 0, 0]
    assert owed_in_parts(first_paid["company"]) == {}
    assert ledger_problems(first_paid["company"]) == []
