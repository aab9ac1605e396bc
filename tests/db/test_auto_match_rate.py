"""The auto-match rate of bank lines: the worked example of docs/design/kpis.md ("The
auto-match rate"), written through the banking services (a statement imported, the matcher
run with auto-apply, a line confirmed by a clerk) and read back by ``report kpis --json``."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from salesledger.apps.banking.matching import bank_confirm, bank_match
from salesledger.apps.banking.services import statement_import
from salesledger.apps.banking.tests.test_matching import ACME_IBAN, books, statement
from salesledger.apps.reporting.selectors import auto_match_report
from salesledger.cli.main import main

__all__ = ["books"]
pytestmark = pytest.mark.django_db


def test_the_worked_example(books: dict[str, Any], capsys: pytest.CaptureFixture[str]
                            ) -> None:
    owner, company, a1 = books["owner"], books["company"], books["inv"]["a1"]
    statement_import(actor=owner, company=company, data=statement([
        ("250315", "C100,00", "", "Someone", a1.payment_reference),  # its reference: applied
        ("250315", "C320,00", ACME_IBAN, "ACME", "two invoices"),  # its IBAN: applied
        ("250316", "C300,00", "", "Globex Corp", "thanks"),  # a name only: to review
        ("250316", "D12,50", "", "Bank", "fees"),  # money out: not a receipt
    ]))
    results = bank_match(actor=owner, company=company, auto_apply=True)
    [waiting] = [r for r in results if r.decision == "suggested"]
    bank_confirm(actor=owner, company=company, line_id=waiting.line.pk)  # a clerk's decision
    rates = auto_match_report(company, as_of=date(2025, 3, 31), months=2)
    # February: no line, no rate; March: 2 of 3 lines, 420.00 of 720.00
    feb, mar = rates["2025-02"], rates["2025-03"]
    assert (feb[0].whole, feb[0].percent, feb[1].percent) == (0, None, None)
    assert (mar[0].part, mar[0].whole, str(mar[0].percent)) == (2, 3, "66.7")
    assert (mar[1].part, mar[1].whole, str(mar[1].percent)) == (42000, 72000, "58.3")
    assert main(["report", "kpis", "--company", company.code, "--user", owner.username,
                 "--months", "2", "--as-of", "2025-03-31", "--json"]) == 0
    months = json.loads(capsys.readouterr().out)["months"]
    assert [(m["month"], m["bank_lines"], m["auto_match_rate"], m["auto_match_amount_rate"])
            for m in months] == [("2025-02", 0, None, None), ("2025-03", 3, "66.7", "58.3")]
