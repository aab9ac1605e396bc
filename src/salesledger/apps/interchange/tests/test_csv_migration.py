"""Bringing a ledger in from another system by CSV: due dates and instalments given with
each invoice, opening items known by their total, the e-invoice rules of documents an
import numbers (and not of history that keeps its numbers), and the country check of the
customers file."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from salesledger.apps.core.models import AuditEvent, ImportBatch
from salesledger.apps.customers.models import Customer
from salesledger.apps.customers.services import CustomerInput, customer_create
from salesledger.apps.documents.einvoice_files import einvoice_file
from salesledger.apps.invoicing.models import Instalment, Invoice, InvoiceLine
from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post
from salesledger.apps.invoicing.tests.books import (
    ledger_problems,
    line,
    make_company,
    make_customer,
)
from salesledger.apps.ledger.models import JournalLine
from salesledger.domain.errors import EInvoiceRuleBroken, ImportFailed

CUSTOMERS = """
    code,name,country,billing_line1,billing_city
    C1,Dupont SA,FR,1 rue de la Paix,Paris
    C2,Meier GmbH,DE,Hauptstr. 1,Berlin
"""


@pytest.fixture
def customers(csv_file: Any, csv_import: Any) -> None:
    csv_import("customers", csv_file("customers.csv", CUSTOMERS))


def _instalments(number: str) -> list[tuple[int, date, int]]:
    return list(Instalment.objects.filter(invoice__number=number).order_by("seq")
                .values_list("seq", "due_date", "amount"))


def _entry(number: str) -> list[tuple[str, int]]:
    inv = Invoice.objects.get(number=number)
    return sorted(JournalLine.objects.filter(entry_id=inv.journal_entry_id)
                  .values_list("account__role", "amount"))


def _export(company: Any) -> str:
    from salesledger.apps.interchange.csvio import export_csv

    out = io.StringIO()
    export_csv(kind="invoices", company=company, out=out, as_of=date(2025, 12, 31))
    return out.getvalue()


# ---------------------------------------------------------------- due dates
def test_invoices_keep_the_due_dates_and_instalments_given(
        csv_company: Any, customers: None, csv_file: Any, csv_import: Any) -> None:
    result = csv_import("invoices", csv_file("dated.csv", """
        number,customer,issue_date,due_date,due_amount,description,quantity,unit_price,tax_rate
        A-1,C1,2025-01-10,2025-02-17,,Work,1,100.00,20
        A-2,C1,2025-01-12,2025-02-01|2025-03-01|2025-04-01,40.00|40.00|40.00,Work,1,100.00,20
        A-3,C2,2025-01-15,,,Work,1,100.00,0
    """))
    assert result["invoices"] == 3 and result["opening_items"] == 0
    assert _instalments("A-1") == [(1, date(2025, 2, 17), 12000)]
    assert _instalments("A-2") == [(1, date(2025, 2, 1), 4000), (2, date(2025, 3, 1), 4000),
                                   (3, date(2025, 4, 1), 4000)]
    # Without a due date, the terms decide (the company's NET30).
    assert _instalments("A-3") == [(1, date(2025, 2, 14), 10000)]
    inv = Invoice.objects.get(number="A-2")
    assert (inv.due_date, inv.terms_id, inv.opening) == (date(2025, 4, 1), None, False)
    assert ledger_problems(csv_company) == []


def test_bad_due_dates_are_all_reported_and_nothing_is_written(
        csv_company: Any, customers: None, csv_file: Any, csv_import: Any) -> None:
    path = csv_file("bad-due.csv", """
        number,kind,customer,issue_date,terms,due_date,due_amount,corrects,description,quantity,unit_price
        B-1,,C1,2025-01-10,,2025-01-09,,,Before issue,1,100
        B-2,,C1,2025-01-10,,2025-03-01|2025-02-01,50|50,,Out of order,1,100
        B-3,,C1,2025-01-10,,2025-02-01|2025-03-01,50|49.99,,Short,1,100
        B-4,,C1,2025-01-10,,2025-02-01|2025-03-01,,,No amounts,1,100
        B-5,,C1,2025-01-10,NET14,2025-02-01,,,Both,1,100
        B-6,,C1,2025-01-10,,2025-02-31,,,No such day,1,100
        B-7,,C1,2025-01-10,,2025-02-01|2025-03-01,50.001|49.999,,Too many decimals,1,100
        B-8,credit_note,C1,2025-01-10,,2025-02-01,,,Credit with a due date,1,10
        B-9,,C1,2025-01-10,,2025-02-01,,,First row,1,60
        B-9,,,,,2025-03-01,,,Second row differs,1,40
    """)
    with pytest.raises(ImportFailed) as failed:
        csv_import("invoices", path)
    got = [(p.line, p.column, p.reason) for p in failed.value.problems]
    assert [(n, c) for n, c, _ in got] == [
        (2, "due_date"), (3, "due_date"), (4, "due_amount"), (5, "due_amount"),
        (6, "due_date"), (7, "due_date"), (8, "due_amount"), (9, "due_date"),
        (11, "due_date")], got
    reasons = dict(((n, c), r) for n, c, r in got)
    assert "before the issue date 2025-01-10" in reasons[(2, "due_date")]
    assert "in order" in reasons[(3, "due_date")]
    assert reasons[(4, "due_amount")] == ("the amounts due add up to 99.99 EUR but the "
                                          "document totals 100.00 EUR")
    assert "2 due dates need 2 amounts" in reasons[(5, "due_amount")]
    assert reasons[(6, "due_date")] == "give payment terms or due dates, not both"
    assert "not a real date" in reasons[(7, "due_date")]
    assert "more decimals than EUR" in reasons[(8, "due_amount")]
    assert "credit note falls due at once" in reasons[(9, "due_date")]
    assert "differs from 2025-02-01 on line 10" in reasons[(11, "due_date")]
    assert not Invoice.objects.filter(company=csv_company).exists()


# ---------------------------------------------------------------- opening items
OPENING = """
    kind,number,customer,issue_date,terms,due_date,due_amount,total,description
    opening,OLD-1001,C1,2025-01-10,,2025-02-09,,1200.00,Invoice 1001 of the old system
    opening,OLD-1002,C2,2025-02-20,,2025-03-20|2025-04-20,500.00|500.00,1000.00,
    opening,OLD-1004,C2,2025-02-21,NET14,,,10.00,By the terms
"""


def test_opening_items_book_the_receivable_against_opening_balances(
        csv_company: Any, customers: None, csv_file: Any, csv_import: Any) -> None:
    result = csv_import("invoices", csv_file("opening.csv", OPENING))
    assert (result["documents"], result["invoices"], result["opening_items"]) == (3, 3, 3)
    first = Invoice.objects.get(number="OLD-1001")
    assert (first.opening, first.series, first.net, first.tax, first.total) == (
        True, "IMP", 120000, 0, 120000)
    assert _entry("OLD-1001") == [("opening_balances", -120000), ("receivable", 120000)]
    assert list(InvoiceLine.objects.filter(invoice=first).values_list(
        "description", "quantity", "unit_price", "tax_rate", "tax_category")) == [
        ("Invoice 1001 of the old system", 1, 1200, 0, "O")]
    assert InvoiceLine.objects.get(invoice__number="OLD-1002").description == (
        "Opening item OLD-1002")
    assert _instalments("OLD-1002") == [(1, date(2025, 3, 20), 50000),
                                        (2, date(2025, 4, 20), 50000)]
    assert _instalments("OLD-1004") == [(1, date(2025, 3, 7), 1000)]
    # Nothing reached sales or output tax.
    assert not JournalLine.objects.filter(company=csv_company,
                                          account__role__in=["revenue", "tax_payable"]).exists()
    assert ledger_problems(csv_company) == []


def test_an_opening_item_has_no_e_invoice(csv_company: Any, csv_owner: Any, customers: None,
                                          csv_file: Any, csv_import: Any) -> None:
    from salesledger.domain.errors import ValidationFailed

    csv_import("invoices", csv_file("opening.csv", OPENING))
    with pytest.raises(ValidationFailed, match="opening item brought from another system"):
        einvoice_file(actor=csv_owner, company=csv_company,
                      invoice=Invoice.objects.get(number="OLD-1001"), kind="ubl")


def test_opening_items_only_file_needs_no_quantities_and_bad_ones_are_reported(
        csv_company: Any, customers: None, csv_file: Any, csv_import: Any) -> None:
    path = csv_file("bad-opening.csv", """
        kind,number,customer,issue_date,total,tax_category
        opening,,C1,2025-01-10,100.00,
        opening,O-2,C1,2025-01-10,,
        opening,O-3,C1,2025-01-10,-5,
        opening,O-4,C1,2025-01-10,100.00,S
        opening,O-5,C1,2025-01-10,100.001,
        opening,O-6,C1,2025-01-10,10,
        opening,O-6,,,10,
        invoice,O-7,C1,2025-01-10,10,
    """)
    with pytest.raises(ImportFailed) as failed:
        csv_import("invoices", path)
    got = [(p.line, p.column) for p in failed.value.problems]
    assert got == [(2, "number"), (3, "total"), (4, "total"), (5, "tax_category"),
                   (6, "total"), (8, None), (9, "description"), (9, "quantity"),
                   (9, "total"), (9, "unit_price")], failed.value.problems
    reasons = {(p.line, p.column): p.reason for p in failed.value.problems}
    assert "keeps the number its own system gave it" in reasons[(2, "number")]
    assert reasons[(3, "total")] == "an opening item needs its total"
    assert "more decimals" in reasons[(6, "total")]
    assert "an opening item is one row" in reasons[(8, None)]
    assert "only an opening item" in reasons[(9, "total")]
    # A header without quantities is still refused for a file of ordinary invoices.
    with pytest.raises(ImportFailed) as header:
        csv_import("invoices", csv_file("no-lines.csv", """
            customer,issue_date,description
            C1,2025-01-10,Work
        """))
    assert [(p.column, p.reason) for p in header.value.problems] == [
        ("quantity", "required column is missing"), ("unit_price", "required column is missing")]
    assert not Invoice.objects.filter(company=csv_company).exists()


def test_export_keeps_due_dates_and_opening_items_through_a_round_trip(
        csv_company: Any, csv_owner: Any, customers: None, csv_file: Any, csv_import: Any,
        tmp_path: Path) -> None:
    csv_import("invoices", csv_file("opening.csv", OPENING))
    csv_import("invoices", csv_file("dated.csv", """
        number,customer,issue_date,terms,due_date,due_amount,description,quantity,unit_price,tax_rate
        A-1,C1,2025-01-12,,2025-02-01|2025-03-01,60.00|60.00,Work,1,100.00,20
        A-1,,,,,,More work,0,1,20
        A-2,C2,2025-01-15,NET14,,,Work,1,100.00,0
    """))
    exported = _export(csv_company)
    rows = exported.splitlines()
    assert rows[0] == ("kind,number,ref,customer,issue_date,currency,rate,terms,due_date,"
                       "due_amount,po_number,buyer_reference,notes,corrects,total,description,"
                       "quantity,unit_price,tax_rate,discount_percent,tax_category,"
                       "exemption_reason,delivery_date,period_start,period_end,"
                       "contract_reference,project_reference,supply_type,seller_item_id,"
                       "standard_item_id")
    assert rows[1] == ("opening,OLD-1001,,C1,2025-01-10,EUR,1,,2025-02-09,,,,,,1200.00,"
                       "Invoice 1001 of the old system,,,,,,,,,,,,,,")
    assert ("invoice,A-1,,C1,2025-01-12,EUR,1,,2025-02-01|2025-03-01,60.00|60.00,,,,,,"
            "More work,0,1,20,0,S,,,,,,,,,") in rows
    assert ("invoice,A-2,,C2,2025-01-15,EUR,1,NET14,,,,,,,,Work,1,100.00,0,0,S,"
            ",,,,,,,,") in rows
    assert ("opening,OLD-1004,,C2,2025-02-21,EUR,1,NET14,,,,,,,10.00,By the terms,,,,,,"
            ",,,,,,,,") in rows
    copy = make_company(csv_owner, "copy")
    for kind, text in (("customers", CUSTOMERS), ("invoices", exported)):
        path = tmp_path / f"copy-{kind}.csv"
        path.write_text(text if kind == "invoices" else text.replace("\n    ", "\n").lstrip(),
                        encoding="utf-8")
        csv_import(kind, path, company=copy)
    assert _export(copy) == exported
    assert ledger_problems(copy) == []


# ---------------------------------------------------------------- e-invoice rules
def test_documents_numbered_by_an_import_follow_the_e_invoice_rules_history_does_not(
        csv_company: Any, csv_owner: Any, csv_file: Any, csv_import: Any) -> None:
    customer_create(actor=csv_owner, company=csv_company,
                    data=CustomerInput(code="N1", name="No country"))
    # By hand: refused with BR-10 ...
    draft = invoice_create(actor=csv_owner, company=csv_company, data=InvoiceInput(
        customer_code="N1", issue_date=date(2025, 3, 1), lines=[line("Work", "1", "100", "20")]))
    with pytest.raises(EInvoiceRuleBroken) as by_hand:
        invoice_post(actor=csv_owner, company=csv_company, invoice_id=draft.pk)
    # ... and the same invoice through an import that numbers it: refused the same way.
    events = AuditEvent.objects.filter(company=csv_company).count()
    with pytest.raises(ImportFailed) as imported:
        csv_import("invoices", csv_file("new.csv", """
            customer,issue_date,description,quantity,unit_price,tax_rate
            N1,2025-03-01,Work,1,100,20
        """))
    [problem] = imported.value.problems
    assert (problem.line, problem.reason) == (2, by_hand.value.message)
    assert "BR-10" in problem.reason
    assert not Invoice.objects.filter(company=csv_company, status="posted").exists()
    assert AuditEvent.objects.filter(company=csv_company).count() == events
    assert not ImportBatch.objects.filter(company=csv_company, kind="invoices").exists()
    # An exempt line needs its reason, as by hand; the exemption_reason column gives it.
    make_customer(csv_company, csv_owner, "F1", billing=None)
    with pytest.raises(ImportFailed) as exempt:
        csv_import("invoices", csv_file("exempt.csv", """
            customer,issue_date,description,quantity,unit_price,tax_category
            F1,2025-03-01,Training,1,100,E
        """))
    assert "BR-E-10" in exempt.value.problems[0].reason
    csv_import("invoices", csv_file("exempt-ok.csv", """
        customer,issue_date,description,quantity,unit_price,tax_category,exemption_reason
        F1,2025-03-01,Training,1,100,E,VATEX-EU-132 Education
    """))
    assert InvoiceLine.objects.get(invoice__customer__code="F1").exemption_reason == (
        "VATEX-EU-132 Education")
    # History keeps its numbers: it was issued elsewhere and is not checked again.
    csv_import("invoices", csv_file("old.csv", """
        number,customer,issue_date,description,quantity,unit_price,tax_rate
        OLD-7,N1,2025-03-01,Work,1,100,20
    """))
    assert Invoice.objects.get(number="OLD-7").status == "posted"


# ---------------------------------------------------------------- countries
def test_customers_file_refuses_countries_that_are_not_iso_codes(
        csv_company: Any, csv_file: Any, csv_import: Any) -> None:
    with pytest.raises(ImportFailed) as failed:
        csv_import("customers", csv_file("countries.csv", """
            code,name,country,billing_line1,billing_city,billing_country
            Q1,Nowhere,ZZ,,,
            Q2,Europe,EU,,,
            Q3,Britain,UK,,,
            Q4,Fine,FR,1 rue,Paris,QQ
            Q5,Fine,fr,1 rue,Paris,
            Q6,Belfast,XI,,,
        """))
    assert [(p.line, p.column) for p in failed.value.problems] == [
        (2, "country"), (3, "country"), (4, "country"), (5, "billing_country")]
    assert "the United Kingdom is GB" in failed.value.problems[2].reason
    assert not Customer.objects.filter(company=csv_company).exists()
