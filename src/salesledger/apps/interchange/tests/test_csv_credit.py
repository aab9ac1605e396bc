"""The invoices import and credit control: every document the credit checks refuse is listed
with its line and nothing is written; a refused document does not count for the next one; a
credit controller's override lets the file in, each override recorded (docs/design/credit.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesledger.apps.credit.models import CreditOverride
from salesledger.apps.credit.services import credit_limit_set
from salesledger.apps.interchange.csvio import import_file
from salesledger.apps.invoicing.models import Invoice
from salesledger.domain.errors import ImportFailed


def test_a_csv_import_lists_every_refused_document_and_writes_nothing(
        company, owner, customer, make_customer, tmp_path: Path):
    make_customer("C002")
    credit_limit_set(actor=owner, company=company, customer_id=customer.pk, amount="200",
                     reason="new customer")
    path = tmp_path / "invoices.csv"
    path.write_text(
        "ref,customer,issue_date,description,quantity,unit_price,tax_rate\n"
        "a,C001,2025-03-10,Consulting,1,100.00,20\n"
        "b,C002,2025-03-10,Consulting,1,100.00,20\n"
        "c,C001,2025-03-10,Consulting,1,100.00,20\n"
        "d,C001,2025-03-11,Consulting,1,100.00,20\n")
    with pytest.raises(ImportFailed) as failed:
        import_file(kind="invoices", path=path, company=company, actor=owner)
    problems = [(p.line, p.code) for p in failed.value.problems]
    assert problems == [(4, "credit_limit_exceeded"), (5, "credit_limit_exceeded")]
    # a refused document does not count for the next one
    assert [p.reason for p in failed.value.problems] == [
        "invoice of 120.00 EUR would take customer C001's exposure from 120.00 EUR to "
        "240.00 EUR, over its credit limit of 200.00 EUR by 40.00 EUR"] * 2
    assert not Invoice.objects.filter(company=company).exists()
    # a credit controller's override lets the file in, each override recorded
    result = import_file(kind="invoices", path=path, company=company, actor=owner,
                         credit_override="year-end orders approved by the CFO")
    assert result["rows"] == 4
    assert CreditOverride.objects.filter(company=company).count() == 2
