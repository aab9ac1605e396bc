"""Remittance advice through the services: the invoices it names drive the line's
allocation (applied on confirm, or by bank match --auto-apply); what does not fit the books
is refused with the row it comes from, and nothing is kept."""

from __future__ import annotations

from typing import Any

import pytest

from salesledger.apps.banking.matching import bank_confirm, bank_match
from salesledger.apps.banking.models import LineMatch, Remittance
from salesledger.apps.banking.remittance import bank_remittance
from salesledger.apps.banking.services import statement_import
from salesledger.apps.banking.tests.test_matching import books as match_books  # noqa: F401
from salesledger.apps.banking.tests.test_matching import statement
from salesledger.apps.invoicing.tests.books import ledger_problems
from salesledger.apps.payments.models import Allocation, Receipt
from salesledger.domain.errors import NotFound, ValidationFailed

pytestmark = pytest.mark.django_db(transaction=False)


def line_of(books: dict[str, Any], amount: str, text: str = "payment") -> int:
    statement_import(actor=books["owner"], company=books["company"], data=statement([
        ("250320", f"C{amount}", "", "Unknown payer", text)]))
    [r] = bank_match(actor=books["owner"], company=books["company"])
    return r.line.pk


def test_the_advice_decides_what_a_payment_pays(match_books):  # noqa: F811
    b = match_books
    a1, a2 = b["inv"]["a1"], b["inv"]["a2"]
    line = line_of(b, "360,00")  # 100 + 250, and 10 more
    csv = (f"Invoice;Paid\n{a1.number};100,00\n{a2.number.replace('-', ' ')};250,00\n").encode()
    advice, proposal = bank_remittance(actor=b["owner"], company=b["company"], line_id=line,
                                       data=csv, file_name="advice.csv")
    assert proposal.allocations == ((a1.number, 10000), (a2.number, 25000))
    assert advice.unapplied == 1000 and proposal.confidence == 0.99
    assert LineMatch.objects.get(line_id=line).status == "suggested"
    # a later run keeps the advice as the line's proposal, and applies it
    [r] = bank_match(actor=b["owner"], company=b["company"], auto_apply=True)
    assert r.decision == "applied" and "remittance advice advice.csv" in r.evidence[0]
    paid = dict(Allocation.objects.values_list("instalment__invoice__number", "amount"))
    assert paid == {a1.number: 10000, a2.number: 25000}
    receipt = Receipt.objects.get(number=r.receipt)
    assert (receipt.amount, receipt.allocated) == (36000, 35000)
    assert ledger_problems(b["company"]) == []


def test_confirm_applies_the_advice(match_books):  # noqa: F811
    b = match_books
    g1 = b["inv"]["g1"]
    line = line_of(b, "300,00")
    bank_remittance(actor=b["owner"], company=b["company"], line_id=line,
                    data=f"Payment for invoice {g1.number} 300.00 EUR\n".encode())
    number = bank_confirm(actor=b["owner"], company=b["company"], line_id=line)
    assert Receipt.objects.get(number=number).customer.code == "GLOBEX"


@pytest.mark.parametrize(("advice", "error", "message"), [
    ("Invoice,Amount\nNOPE-999,10.00\n", NotFound, "line 2: no posted invoice 'NOPE-999'"),
    ("Invoice,Amount\n{a1},100.00\n{g1},10.00\n", ValidationFailed, "several customers"),
    ("Invoice,Amount\n{a1},150.00\n", ValidationFailed, "which has 100.00 EUR open"),
    ("Invoice,Amount\n{a2},250.00\n{a3},70.00\n", ValidationFailed, "more than the 300.00"),
])
def test_an_advice_that_does_not_fit_is_refused_and_nothing_kept(
        match_books, advice, error, message):  # noqa: F811
    b = match_books
    line = line_of(b, "300,00")
    numbers = {k: v.number for k, v in b["inv"].items()}
    with pytest.raises(error, match=message):
        bank_remittance(actor=b["owner"], company=b["company"], line_id=line,
                        data=advice.format(**numbers).encode())
    assert not Remittance.objects.exists()


def test_an_advice_sent_as_an_e_mail_with_a_pdf_drives_the_allocation(match_books):  # noqa: F811
    from tests.unit.test_remittance_advice import eml, pdf

    b = match_books
    a1, a3 = b["inv"]["a1"], b["inv"]["a3"]
    line = line_of(b, "170,00")
    message = eml("Please find our payment advice attached.\nKind regards\n", (
        ("advice.pdf", "application/pdf", pdf("Our payment of 2025-03-20",
                                              f"{a1.number}   100.00", f"{a3.number}    70.00")),))
    _, proposal = bank_remittance(actor=b["owner"], company=b["company"], line_id=line,
                                  data=message, file_name="advice.eml")
    assert proposal.allocations == ((a1.number, 10000), (a3.number, 7000))
    bank_confirm(actor=b["owner"], company=b["company"], line_id=line)
    paid = dict(Allocation.objects.values_list("instalment__invoice__number", "amount"))
    assert paid == {a1.number: 10000, a3.number: 7000}
