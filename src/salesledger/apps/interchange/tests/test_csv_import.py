"""CSV import and export: clean imports, every problem of a broken file, duplicates, the
round trip, and bulk posting giving what single posting gives."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db.models import F
from django.utils import timezone

from salesledger.apps.core.models import AuditEvent, ImportBatch, NumberCounter
from salesledger.apps.core.services import company_close_period
from salesledger.apps.credit.tasks import duplicates_rescans_enqueue
from salesledger.apps.customers.duplicates import (
    duplicate_pairs,
    duplicate_pairs_store,
    duplicate_scan,
)
from salesledger.apps.customers.models import Address, BankAccount, Contact, Customer, PaymentTerms
from salesledger.apps.invoicing.models import Instalment, Invoice
from salesledger.apps.invoicing.posting.check import BulkDoc
from salesledger.apps.invoicing.services import documents_post_bulk
from salesledger.apps.invoicing.tests.books import (
    DAY,
    ledger_problems,
    line,
    make_company,
    make_customer,
    post_single,
)
from salesledger.apps.ledger.models import JournalLine
from salesledger.apps.payments.adjustments.settings import settlement_settings_set
from salesledger.apps.payments.models import Adjustment, Allocation, Receipt
from salesledger.apps.payments.reads import open_on
from salesledger.apps.payments.services import ReceiptInput, Target, allocate, receipt_record
from salesledger.domain.errors import DuplicateImport, ImportFailed
from salesledger.domain.identifiers import normalise_tax_id
from salesledger.domain.snapshot import snapshot_hash

CUSTOMERS = "\n".join((
    "code,name,country,currency,terms,tax_id,iban,bic,billing_line1,billing_postal_code,"
    "billing_city,contact_name,contact_email,contact_roles,po_required,parent,credit_limit",
    "K1,Kunde Eins GmbH,DE,EUR,NET14,DE136695976,DE89370400440532013000|DE0212030000000020205"
    "1,COBADEFFXXX,Hauptstr. 1,10115,Berlin,Hans Meier,hans@example.com,billing|payables,false,"
    "K2,1000.50",
    "K2,Parent SA,FR,EUR,,,FR1420041010050500013M02606,,1 rue de la Paix,75002,Paris,,,,true,,",
    "K3,US Corp,US,USD,30-60-90,,,,,,,,,,,,",
    ""))

INVOICES = """
    number,kind,customer,issue_date,currency,rate,terms,po_number,corrects,description,quantity,unit_price,tax_rate,discount_percent,tax_category
    OLD-101,invoice,K1,2025-03-01,,,NET14,,,Consulting,2,150.00,20,,
    OLD-101,,,,,,,,,Books,3,12.50,5.5,10,
    OLD-101,,,,,,,,,Export freight,1,40,0,,Z
    OLD-102,invoice,K3,2025-03-02,USD,0.9,,,,Licence,1,1000.00,0,,Z
    OLD-103,credit_note,K1,2025-03-05,,,,,OLD-101,Consulting refund,1,150.00,20,,
"""


@pytest.fixture
def with_customers(csv_file: Any, csv_import: Any) -> dict[str, Any]:
    return csv_import("customers", csv_file("customers.csv", CUSTOMERS))


@pytest.fixture
def with_invoices(with_customers: Any, csv_file: Any, csv_import: Any) -> dict[str, Any]:
    return csv_import("invoices", csv_file("invoices.csv", INVOICES))


# ---------------------------------------------------------------- clean imports
def test_customers_import_writes_customers_with_bank_accounts(csv_company: Any,
                                                              with_customers: Any) -> None:
    assert with_customers["rows"] == 3 and with_customers["customers"] == 3
    k1 = Customer.objects.get(company=csv_company, code="K1")
    assert (k1.name, k1.country, k1.currency, k1.payment_terms.code) == (
        "Kunde Eins GmbH", "DE", "EUR", "NET14")
    assert k1.tax_id == normalise_tax_id("DE136695976", "DE")  # as customer_create stores it
    assert k1.credit_limit == 100050 and not k1.po_required
    assert k1.parent.code == "K2"  # a parent given on a later row of the file
    accounts = list(BankAccount.objects.filter(customer=k1).order_by("iban")
                    .values_list("iban", "bic", "holder"))
    assert accounts == [("DE02120300000000202051", "BYLADEM1001", "Kunde Eins GmbH"),
                        ("DE89370400440532013000", "COBADEFFXXX", "Kunde Eins GmbH")]
    contact = Contact.objects.get(customer=k1)
    assert (contact.name, contact.email, contact.roles) == (
        "Hans Meier", "hans@example.com", "billing,payables")
    billing = Address.objects.get(customer=k1, kind="billing")
    assert (billing.line1, billing.postal_code, billing.city, billing.country) == (
        "Hauptstr. 1", "10115", "Berlin", "DE")
    k2 = Customer.objects.get(company=csv_company, code="K2")
    assert k2.po_required and k2.bank_accounts.get().bic == "PSSTFRPP"
    batch = ImportBatch.objects.get(pk=with_customers["batch"])
    assert (batch.kind, batch.rows, batch.forced, batch.sha256) == (
        "customers", 3, False, with_customers["sha256"])
    events = AuditEvent.objects.filter(company=csv_company, action="customer.create")
    assert sorted(e.data["after"]["code"] for e in events) == ["K1", "K2", "K3"]
    assert ledger_problems(csv_company) == []


def test_a_customers_import_marks_the_duplicate_scan_behind(
        csv_company: Any, with_customers: Any, csv_file: Any, csv_import: Any) -> None:
    """New records are what duplicate detection reads: after an import the worker's next
    round scans again (customers.duplicates), as after ``customer_add``, not the next night."""
    duplicate_pairs_store(csv_company)
    assert duplicate_scan(csv_company).changed_at is None  # type: ignore[union-attr]
    assert duplicates_rescans_enqueue(now=timezone.now()) == []
    # K4 shares K1's tax id (written another way): a pair once scanned
    csv_import("customers", csv_file("more.csv", "\n".join((
        "code,name,country,currency,tax_id,billing_line1,billing_postal_code,billing_city",
        "K4,Kunde 1 Vertrieb,DE,EUR,DE 136 695 976,Hauptstr. 2,10115,Berlin", ""))))
    assert duplicate_scan(csv_company).changed_at is not None  # type: ignore[union-attr]
    assert len(duplicates_rescans_enqueue(now=timezone.now())) == 1
    duplicate_pairs_store(csv_company)  # what the queued task does
    assert ("K1", "K4") in {(p["a"], p["b"]) for p in duplicate_pairs(csv_company)}


def test_invoices_import_keeps_numbers_and_posts_multi_line_multi_rate(
        csv_company: Any, with_invoices: Any) -> None:
    assert with_invoices == {**with_invoices, "rows": 5, "documents": 3, "invoices": 2,
                             "credit_notes": 1, "allocations": 1}
    docs = {i.number: i for i in Invoice.objects.filter(company=csv_company)}
    assert set(docs) == {"OLD-101", "OLD-102", "OLD-103"}
    inv = docs["OLD-101"]
    # 2 x 150.00 at 20 %; 3 x 12.50 less 10 % = 33.75 at 5.5 % (1.86); 40.00 zero rated.
    assert (inv.status, inv.series, inv.seq, inv.net, inv.tax, inv.total) == (
        "posted", "IMP", None, 37375, 6186, 43561)
    assert [(li.net, li.tax) for li in inv.lines.all()] == [(30000, 6000), (3375, 186),
                                                           (4000, 0)]
    assert inv.import_batch_id == with_invoices["batch"]
    assert list(inv.instalments.values_list("due_date", "amount", "settled")) == [
        (date(2025, 3, 15), 43561, 18000)]  # NET14; the credit note is applied to it
    usd = docs["OLD-102"]  # the customer's 30-60-90 terms; booked at 0.9
    assert (usd.currency, usd.rate, usd.total, usd.base_total) == (
        "USD", Decimal("0.9"), 100000, 90000)
    parts = list(usd.instalments.order_by("seq").values_list("due_date", "amount",
                                                             "base_amount"))
    assert [p[0] for p in parts] == [date(2025, 4, 1), date(2025, 5, 1), date(2025, 5, 31)]
    assert sum(p[1] for p in parts) == 100000 and max(p[1] for p in parts) < 33400
    # Base amounts in proportion, the last taking the remainder: they sum to the base total.
    assert [p[2] for p in parts[:2]] == [90000 * p[1] // 100000 for p in parts[:2]]
    assert sum(p[2] for p in parts) == 90000
    cn = docs["OLD-103"]
    assert (cn.kind, cn.corrects_id, cn.total, cn.allocated) == (
        "credit_note", inv.pk, 18000, 18000)
    receivable = JournalLine.objects.filter(entry=usd.journal_entry, account__role="receivable")
    assert list(receivable.values_list("amount_currency", "amount")) == [(100000, 90000)]
    assert AuditEvent.objects.filter(company=csv_company, action="invoice.post").count() == 2
    assert ledger_problems(csv_company) == []


def test_invoices_without_numbers_take_gapless_numbers_in_date_order(
        csv_company: Any, with_customers: Any, csv_file: Any, csv_import: Any) -> None:
    path = csv_file("new.csv", """
        ref,customer,issue_date,description,quantity,unit_price,tax_rate
        x,K1,2025-03-20,Late,1,10.00,20
        y,K1,2025-03-05,Early,1,20.00,20
        y,K1,,Early too,2,5.00,20
        z,K3,2025-03-10,Middle,1,30.00,0
    """)
    with pytest.raises(ImportFailed) as failed:  # K3 is in USD: a rate is needed
        csv_import("invoices", path)
    assert [(p.line, p.column) for p in failed.value.problems] == [(5, "rate")]
    result = csv_import("invoices", csv_file("new2.csv", path.read_text().replace("z,K3", "z,K1")))
    assert result["documents"] == 3
    numbers = dict(Invoice.objects.filter(company=csv_company).values_list("number", "total"))
    assert numbers == {"INV2025-00001": 3600, "INV2025-00002": 3000, "INV2025-00003": 1200}
    assert NumberCounter.objects.get(company=csv_company, series="INV", fiscal_year=2025).last == 3
    assert ledger_problems(csv_company) == []


def test_receipts_import_records_and_allocates_to_named_invoices(
        csv_company: Any, with_invoices: Any, csv_file: Any, csv_import: Any) -> None:
    result = csv_import("receipts", csv_file("receipts.csv", """
        customer,date,amount,currency,rate,method,invoice,memo
        K1,2025-03-10,200.00,,,bank_transfer,OLD-101,first
        K1,2025-03-11,100.00,,,,OLD-101,pays the rest
        K3,2025-03-12,333.30,USD,0.95,,OLD-102,
        K3,2025-03-12,50.00,USD,0.95,cheque,,on account
    """))
    assert (result["receipts"], result["allocations"]) == (4, 3)
    receipts = list(Receipt.objects.filter(company=csv_company).order_by("number")
                    .values_list("number", "amount", "allocated", "method", "base_amount"))
    assert receipts == [
        ("RCT2025-00001", 20000, 20000, "bank_transfer", 20000),
        ("RCT2025-00002", 10000, 5561, "bank_transfer", 10000),  # 255.61 was open
        ("RCT2025-00003", 33330, 33330, "bank_transfer", 31664),
        ("RCT2025-00004", 5000, 0, "cheque", 4750)]
    inv = Invoice.objects.get(company=csv_company, number="OLD-101")
    assert list(inv.instalments.values_list("amount", "settled")) == [(43561, 43561)]
    first = Allocation.objects.get(receipt__number="RCT2025-00003")
    # Booked at 0.9 on the invoice, received at 0.95: the receivable is relieved at 0.9, the
    # whole receipt's base leaves unapplied cash, the difference is an exchange gain.
    assert (first.amount, first.base_receivable, first.base_unapplied) == (33330, 29997, 31664)
    fx = JournalLine.objects.get(entry=first.journal_entry, account__role="exchange_differences")
    assert fx.amount == -1667
    assert ledger_problems(csv_company) == []


# Early-payment discounts (docs/csv-formats.md, receipts): invoices of 120.00 at 2 % 10 days
# net 30 (I1-I3, I5; 2.40 of discount) and 50.00 (I4; 1.00), issued on DAY; I5 already has a
# payment of 60.00 received late (DAY + 12). Each row: (days after DAY, amount, invoice).
DISCOUNT_ROWS = [
    (3, "117.60", 1),  # exactly less the discount, in time: the discount is taken
    (15, "117.60", 2),  # the same, too late: 2.40 stays open
    (2, "60.00", 3),  # in two payments, both in time: the second one earns it
    (4, "57.60", 3),
    (5, "10.00", 3),  # nothing left for it: the discount settled the rest
    (3, "49.00", 4),
    (5, "57.60", 5),  # in time, but the payment in the books was late: no discount
]


def _discount_books(owner: Any, code: str) -> tuple[Any, list[Invoice]]:
    company = make_company(owner, code)
    settlement_settings_set(actor=owner, company=company, discount_tax_policy="adjust_vat")
    make_customer(company, owner, "K1", terms_code="2-10-NET30")
    invoices = [post_single(company, owner, "K1", [line("Goods", "1", price, "20")])
                for price in ("100.00", "100.00", "100.00", "41.67", "100.00")]
    late = receipt_record(actor=owner, company=company, data=ReceiptInput(
        customer_code="K1", date=DAY + timedelta(days=12), amount=Decimal("60.00")))
    allocate(actor=owner, company=company, day=late.date, receipt=late.number,
             targets=[Target(invoices[4].number, Decimal("60.00"))])
    return company, invoices


def _discount_state(company: Any) -> dict[str, Any]:
    instalments = {i: n for n, i in enumerate(
        Instalment.objects.filter(company=company).order_by("id").values_list("id", flat=True))}
    adjustments = [
        (a.invoice.number, a.kind, a.amount, a.base_amount, a.tax_amount, a.date,
         a.receipt.number, a.memo, sorted(
             (li.account.role, li.amount_currency, li.amount, li.customer_id is not None)
             for li in JournalLine.objects.filter(entry=a.journal_entry)
             .select_related("account")))
        for a in Adjustment.objects.filter(company=company).select_related(
            "invoice", "receipt", "journal_entry").order_by("id")]
    audit = []
    for e in AuditEvent.objects.filter(company=company, action="adjustment.create").order_by(
            "seq"):
        data = dict(e.data)
        data["allocations"] = [{**a, "instalment": instalments[a["instalment"]]}
                               for a in data["allocations"]]
        audit.append(data)
    return {
        "open": list(Instalment.objects.filter(company=company).order_by("id").values_list(
            F("amount") - F("settled"), flat=True)),
        "receipts": list(Receipt.objects.filter(company=company).order_by("number")
                         .values_list("number", "date", "amount", "allocated")),
        "adjustments": adjustments, "audit": audit}


def test_receipts_import_takes_the_discount_as_a_single_allocation_does(csv_owner: Any,
                                                                        tmp_path: Path) -> None:
    from salesledger.apps.interchange.csvio import import_file

    # given the same books in two companies
    bulk, bulk_invoices = _discount_books(csv_owner, "bulkdisc")
    single, single_invoices = _discount_books(csv_owner, "singledisc")
    # when one imports the receipts
    text = "customer,date,amount,invoice\n" + "".join(
        f"K1,{(DAY + timedelta(days=d)).isoformat()},{amount},{bulk_invoices[n - 1].number}\n"
        for d, amount, n in DISCOUNT_ROWS)
    path = tmp_path / "receipts.csv"
    path.write_text(text, encoding="utf-8")
    result = import_file(kind="receipts", path=path, company=bulk, actor=csv_owner)
    # and the other records and allocates them one by one, in date order then file order
    for d, amount, _ in sorted(DISCOUNT_ROWS, key=lambda r: r[0]):
        day = DAY + timedelta(days=d)
        receipt_record(actor=csv_owner, company=single, data=ReceiptInput(
            customer_code="K1", date=day, amount=Decimal(amount)))
    for d, amount, n in DISCOUNT_ROWS:
        day = DAY + timedelta(days=d)
        inv = single_invoices[n - 1]
        receipt = Receipt.objects.get(company=single, date=day,
                                      amount=int(Decimal(amount) * 100))
        paid = min(receipt.amount, open_on(inv))
        if paid:
            allocate(actor=csv_owner, company=single, day=day, receipt=receipt.number,
                     targets=[Target(inv.number, Decimal(paid) / 100)])
    # then both have the same discounts, journals, audit events and open items
    assert (result["receipts"], result["allocations"], result["discounts"]) == (7, 6, 3)
    state = _discount_state(bulk)
    assert state == _discount_state(single)
    assert state["open"] == [0, 240, 0, 0, 240]
    assert [(a[0], a[2], a[4], a[5], a[6]) for a in state["adjustments"]] == [
        (bulk_invoices[0].number, 240, 40, DAY + timedelta(days=3), "RCT2025-00003"),
        (bulk_invoices[2].number, 240, 40, DAY + timedelta(days=4), "RCT2025-00005"),
        (bulk_invoices[3].number, 100, 17, DAY + timedelta(days=3), "RCT2025-00004")]
    assert state["adjustments"][0][8] == [("discounts", 200, 200, False),
                                          ("receivable", -240, -240, True),
                                          ("tax_payable", 40, 40, False)]
    # the row left with nothing to pay stays unapplied
    assert ("RCT2025-00006", DAY + timedelta(days=5), 1000, 0) in state["receipts"]
    assert ledger_problems(bulk) == [] and ledger_problems(single) == []


# ---------------------------------------------------------------- broken files
def test_broken_invoices_file_writes_nothing_and_reports_every_problem(
        csv_company: Any, csv_owner: Any, with_customers: Any, csv_file: Any,
        csv_import: Any) -> None:
    company_close_period(actor=csv_owner, company=csv_company, through=date(2025, 1, 31))
    events = AuditEvent.objects.filter(company=csv_company).count()
    path = csv_file("broken.csv", """
        ref,customer,issue_date,description,quantity,unit_price,tax_rate,tax_category,po_number
        a,K1,2025-03-01,A good line,1,10.00,20,,
        b,K1,2025-03-01,Negative,-3,10.00,20,,
        c,K9,2025-03-01,Unknown customer,1,10,20,,
        d,K1,2025-02-30,No such day,1,10,20,,
        e,K1,2025-03-01,Comma,1,"10,50",20,,
        f,K2,2025-03-01,No PO number,1,10,20,,
        g,K1,2025-01-15,Closed period,1,10,20,,
        h,K1,2025-03-01,Zero rated but taxed,1,10,20,Z,
    """)
    with pytest.raises(ImportFailed) as failed:
        csv_import("invoices", path)
    problems = failed.value.problems
    assert [(p.line, p.column) for p in problems] == [
        (3, "quantity"), (4, "customer"), (5, "issue_date"), (6, "unit_price"),
        (7, "po_number"), (8, "issue_date"), (9, "tax_rate")]
    assert str(problems[0]).startswith("line 3, column quantity: -3 is negative")
    assert "K2 requires a purchase order number" in str(problems[4])
    assert "closed period" in str(problems[5])
    assert problems[3].as_dict() == {"line": 6, "column": "unit_price", "reason": (
        "10,50 uses a comma; write decimals with a dot, e.g. 10.50"), "code": "invalid"}
    assert failed.value.as_dict()["problems"][1]["column"] == "customer"
    # each problem carries the code the command for one document gives the same input
    assert [p.code for p in problems] == [
        "negative_quantity", "unknown_customer", "invalid", "invalid",
        "purchase_order_required", "period_closed", "invalid"]
    assert failed.value.code == "import_failed" and "7 problems" in failed.value.message
    # Nothing was written: no document, no number taken, no batch, no audit event.
    assert not Invoice.objects.filter(company=csv_company).exists()
    assert not NumberCounter.objects.filter(company=csv_company, series="INV").exists()
    assert ImportBatch.objects.filter(company=csv_company, kind="invoices").count() == 0
    assert AuditEvent.objects.filter(company=csv_company).count() == events


def test_broken_customers_and_receipts_rows_are_all_reported(
        with_invoices: Any, csv_file: Any, csv_import: Any) -> None:
    with pytest.raises(ImportFailed) as failed:
        csv_import("customers", csv_file("c.csv", """
            code,name,tax_id,country,iban,email,parent,po_required
            K1,Already there,,,,,,
            N1,New One,FR123,FR,,,,
            N2,New Two,,,DE00370400440532013000,,,
            N3,New Three,,,,not-an-email,,
            N4,New Four,,,,,NOPE,
            N4,Twice,,,,,,maybe
        """))
    assert [(p.line, p.column) for p in failed.value.problems] == [
        (2, "code"), (3, "tax_id"), (4, "iban"), (5, "email"), (6, "parent"), (7, "code"),
        (7, "po_required")]
    with pytest.raises(ImportFailed) as failed:
        csv_import("receipts", csv_file("r.csv", """
            customer,date,amount,currency,method,invoice
            K1,2025-03-10,-5,,,
            K1,2025-03-10,5.001,,,
            K1,2025-03-10,5,,telepathy,
            K1,2025-03-10,5,,,OLD-102
            K1,2025-03-10,5,,,NOPE
            K3,2025-03-10,5,USD,,
        """))
    assert [(p.line, p.column) for p in failed.value.problems] == [
        (2, "amount"), (3, "amount"), (4, "method"), (5, "invoice"), (6, "invoice"),
        (7, "rate")]
    assert not Receipt.objects.exists()


@pytest.mark.parametrize(("content", "message", "reason"), [
    (b"code,name\nK9,Caf\xe9 de Paris\n", "not UTF-8", "line 2: byte 0xe9"),
    (b"", "is empty", "line 1: the file is empty"),
    (b"\xef\xbb\xbfcode,name\r\n\r\n", "1 problem", "line 2: the file has a header but no rows"),
    (b"K1,Widget,2\n", "has no header", "line 1: the first line must name the columns"),
    (b"code,name,colour\nK9,X,red\n", "header is not valid", "line 1, column colour: unknown"),
    (b"code,legal_name\nK9,X\n", "header is not valid",
     "line 1, column name: required column is missing"),
])
def test_unreadable_files_get_a_clear_error(csv_company: Any, csv_import: Any, tmp_path: Path,
                                            content: bytes, message: str, reason: str) -> None:
    path = tmp_path / "file.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFailed) as failed:
        csv_import("customers", path)
    assert message in failed.value.message
    assert str(failed.value.problems[0]).startswith(reason)
    assert not Customer.objects.filter(company=csv_company).exists()


def test_same_file_twice_is_refused_unless_forced(csv_company: Any, with_customers: Any,
                                                   csv_file: Any, csv_import: Any) -> None:
    path = csv_file("r.csv", """
        customer,date,amount
        K1,2025-03-10,10.00
    """)
    first = csv_import("receipts", path)
    with pytest.raises(DuplicateImport) as refused:
        csv_import("receipts", path)
    assert refused.value.code == "duplicate_import"
    assert f"batch {first['batch']}" in refused.value.message
    assert Receipt.objects.filter(company=csv_company).count() == 1
    again = csv_import("receipts", path, force=True)
    assert again["forced"] is True
    batches = ImportBatch.objects.filter(company=csv_company, kind="receipts").order_by("pk")
    assert [(b.sha256, b.forced) for b in batches] == [(first["sha256"], False),
                                                       (first["sha256"], True)]
    assert Receipt.objects.filter(company=csv_company).count() == 2
    assert ledger_problems(csv_company) == []


# ---------------------------------------------------------------- export
def _export(kind: str, company: Any, as_of: date | None = None) -> str:
    from salesledger.apps.interchange.csvio import export_csv

    out = io.StringIO()
    export_csv(kind=kind, company=company, out=out, as_of=as_of or date(2025, 12, 31))
    return out.getvalue()


def test_export_then_import_round_trips(csv_company: Any, csv_owner: Any, with_customers: Any,
                                        tmp_path: Path, csv_import: Any) -> None:
    # Books written by the single-document services, with this company's own numbers.
    a = csv_company
    post_single(a, csv_owner, "K1", [line("Consulting", "2", "150.00", "20"),
                                     line("Books", "3", "12.50", "5.5", "10")],
                issue_date=date(2025, 3, 1))
    post_single(a, csv_owner, "K3", [line("Licence", "1", "999.99")], currency="USD",
                rate=Decimal("0.9"), issue_date=date(2025, 3, 2))
    post_single(a, csv_owner, "K1", [line("Refund", "1", "150.00", "20")], kind="credit_note",
                corrects_number="INV2025-00001", issue_date=date(2025, 3, 5))
    receipt_record(actor=csv_owner, company=a, data=ReceiptInput(
        customer_code="K3", date=date(2025, 3, 9), amount=Decimal("300"), rate=Decimal("0.95")))
    allocate(actor=csv_owner, company=a, day=date(2025, 3, 9), receipt="RCT2025-00001",
             targets=[Target("INV2025-00002", Decimal("300"))])
    exports = {k: _export(k, a) for k in ("customers", "invoices", "receipts", "open-items")}
    assert exports["invoices"].count("\n") == 5 and "INV2025-00002" in exports["receipts"]

    b = make_company(csv_owner, "copy")
    for kind in ("customers", "invoices", "receipts"):
        path = tmp_path / f"{kind}-export.csv"
        path.write_text(exports[kind], encoding="utf-8")
        csv_import(kind, path, company=b)
    assert {k: _export(k, b) for k in exports} == exports
    assert ledger_problems(a) == [] and ledger_problems(b) == []
    # Own-series numbers continued their series: the next invoice does not collide.
    make_customer(b, csv_owner, "K4")
    assert post_single(b, csv_owner, "K4", [line("Next", "1", "1")]).number == "INV2025-00003"
    assert ledger_problems(b) == []


def test_open_items_export(csv_company: Any, with_invoices: Any) -> None:
    lines = _export("open-items", csv_company, as_of=date(2025, 4, 10)).splitlines()
    assert lines[0] == "customer,type,document,seq,date,due_date,currency,amount,open,days_overdue"
    assert "K1,instalment,OLD-101,1,2025-03-01,2025-03-15,EUR,435.61,255.61,26" in lines
    first = Instalment.objects.get(invoice__number="OLD-102", seq=1)
    amount = f"{Decimal(first.amount).scaleb(-2)}"
    assert f"K3,instalment,OLD-102,1,2025-03-02,2025-04-01,USD,{amount},{amount},9" in lines
    assert len(lines) == 5


# ---------------------------------------------------------------- bulk = single
@pytest.mark.parametrize("tax_rounding", ["per_line", "per_document"])
@pytest.mark.parametrize("terms_code", ["", "30-60-90"])  # "": the customer's 2/10 net 30
def test_bulk_posting_gives_what_single_posting_gives(csv_owner: Any, tax_rounding: str,
                                                      terms_code: str) -> None:
    company = make_company(csv_owner, "same", tax_rounding=tax_rounding)
    make_customer(company, csv_owner, "U1", currency="USD", terms_code="2-10-NET30")
    make_customer(company, csv_owner, "U2", currency="USD", terms_code="2-10-NET30")
    lines = [line("Hours", "7.5", "83.33", "20", "3"), line("Parts", "3", "19.99", "5.5"),
             line("Parts", "1", "0.07", "5.5"), line("Export", "2", "49.50", "0", "0", "Z")]
    terms = PaymentTerms.objects.filter(company=company, code=terms_code).first()
    single = post_single(company, csv_owner, "U1", lines, currency="USD",
                         rate=Decimal("0.8731"), terms_code=terms_code)
    [bulk_id] = documents_post_bulk(actor=csv_owner, company=company, docs=[BulkDoc(
        customer_id=Customer.objects.get(company=company, code="U2").pk, kind="invoice",
        issue_date=single.issue_date, currency="USD", lines=lines, rate=Decimal("0.8731"),
        terms_id=terms.pk if terms else None)])
    bulk = Invoice.objects.get(pk=bulk_id)

    def doc(i: Invoice) -> tuple[Any, ...]:
        return (i.status, i.series, i.fiscal_year, i.currency, i.rate, i.due_date, i.net,
                i.tax, i.total, i.base_total, i.terms_id)

    assert doc(bulk) == doc(single)
    assert (single.number, bulk.number) == ("INV2025-00001", "INV2025-00002")
    fields = ("position", "description", "quantity", "unit_price", "discount_percent",
              "tax_rate", "tax_category", "net", "tax")
    assert list(bulk.lines.values_list(*fields)) == list(single.lines.values_list(*fields))
    fields = ("seq", "due_date", "currency", "amount", "base_amount", "discount_date",
              "discount_amount", "settled")
    instalments = list(bulk.instalments.order_by("seq").values_list(*fields))
    assert instalments == list(single.instalments.order_by("seq").values_list(*fields))
    assert len(instalments) == (3 if terms_code else 1)
    assert bool(instalments[0][6]) == (not terms_code)  # the 2 % early-payment discount

    def journal(i: Invoice) -> list[tuple[Any, ...]]:
        return sorted((li.account.role, li.currency, li.amount_currency, li.amount,
                       li.customer_id is not None, li.date)
                      for li in JournalLine.objects.filter(entry=i.journal_entry)
                      .select_related("account"))

    assert journal(bulk) == journal(single)
    assert (bulk.journal_entry.kind, bulk.journal_entry.source_type,
            bulk.journal_entry.source_id) == ("invoice", "invoice", bulk.pk)
    # The payment reference derives from the number (RF check digits + its alphanumerics).
    assert (bulk.payment_reference, single.payment_reference) == (
        "RF54INV202500002", "RF81INV202500001")
    assert bulk.snapshot["payment_reference"] == bulk.payment_reference
    other = {"customer", "number", "payment_reference"}
    assert ({k: v for k, v in bulk.snapshot.items() if k not in other}
            == {k: v for k, v in single.snapshot.items() if k not in other})
    assert bulk.snapshot["customer"]["code"] == "U2"
    assert bulk.snapshot_hash == snapshot_hash(bulk.snapshot)
    events = {e.entity_id: e.data["after"] for e in AuditEvent.objects.filter(
        company=company, action="invoice.post")}
    expected = {**events[str(single.pk)], "number": bulk.number,
                "customer": "U2", "snapshot_hash": bulk.snapshot_hash}
    assert events[str(bulk.pk)] == expected
    assert ledger_problems(company) == []


def test_kept_numbers_must_be_new_and_not_collide_with_own_series(
        csv_company: Any, with_invoices: Any, csv_file: Any, csv_import: Any) -> None:
    with pytest.raises(ImportFailed) as failed:
        csv_import("invoices", csv_file("again.csv", """
            number,customer,issue_date,description,quantity,unit_price
            OLD-101,K1,2025-04-01,Same number again,1,10
            INV2025-00007,K1,2025-04-01,Looks like ours but skips 1..6,1,10
            CN2025-00001,K1,2025-04-01,An invoice with a credit-note number,1,10
            NEW-1,K1,2025-04-01,Fine,1,10
        """))
    problems = failed.value.problems
    assert [(p.line, p.column) for p in problems] == [(2, "number"), (3, "number"),
                                                      (4, "number")]
    assert "already used" in problems[0].reason
    assert "next number is INV2025-00001" in problems[1].reason
    assert not Invoice.objects.filter(company=csv_company, number="NEW-1").exists()


@pytest.mark.parametrize("name", ["=cmd|' /C calc'!A0", "+1 555 0100", "-Dupont-", "@SUM(A1)",
                                  "'=already quoted", "'plain quote"])
def test_an_export_cannot_run_as_a_spreadsheet_formula_and_still_round_trips(
        csv_company: Any, csv_owner: Any, tmp_path: Path, csv_import: Any, name: str) -> None:
    make_customer(csv_company, csv_owner, "F1", name=name)
    exported = _export("customers", csv_company)
    [cell] = [r[1] for r in csv.reader(io.StringIO(exported)) if r[0] == "F1"]
    if name.lstrip("'")[:1] in "=+-@":
        assert cell == "'" + name  # shown as text by a spreadsheet, never run
    else:
        assert cell == name
    copy = make_company(csv_owner, "copyf")
    path = tmp_path / "customers.csv"
    path.write_text(exported, encoding="utf-8")
    csv_import("customers", path, company=copy)
    assert Customer.objects.get(company=copy, code="F1").name == name
