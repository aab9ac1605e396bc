"""Posted is forever, enforced three times: the service refuses, the model and queryset
refuse, and the database refuses even raw SQL (a trigger on SQLite and on PostgreSQL)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import F

from salesledger.apps.core.guards import ALLOW_TRUNCATE
from salesledger.apps.invoicing.models import Instalment, Invoice, InvoiceLine
from salesledger.apps.ledger.models import JournalEntry, JournalLine
from salesledger.apps.payments.models import Allocation, Receipt
from salesledger.domain.errors import PostedIsImmutable
from tests.support import raw_sql


@pytest.fixture
def books(company, customer, create_invoice, post_invoice, record_receipt, allocate_to):
    inv = post_invoice(terms="30-60-90")
    draft = create_invoice()
    receipt = record_receipt(amount="50.00")
    [alloc, _] = allocate_to(receipt.number, {inv.number: "50.00"})
    return SimpleNamespace(
        company=company, inv=inv, draft=draft, receipt=receipt, alloc=alloc,
        entry=inv.journal_entry_id, inst=inv.instalments.order_by("seq").first(),
        line=inv.lines.first(), draft_line=draft.lines.first())


# ---------------------------------------------------------------- the model layer
def test_a_posted_invoice_cannot_be_saved_or_deleted(books):
    inv = Invoice.objects.get(pk=books.inv.pk)
    inv.notes = "changed"
    with pytest.raises(PostedIsImmutable) as exc:
        inv.save()
    assert exc.value.code == "posted_is_immutable"
    with pytest.raises(PostedIsImmutable):
        inv.delete()
    posted = Invoice.objects.filter(pk=books.inv.pk)
    with pytest.raises(PostedIsImmutable):
        posted.update(notes="changed")
    with pytest.raises(PostedIsImmutable):
        posted.delete()
    # a queryset that reaches one posted row among drafts is refused as a whole
    with pytest.raises(PostedIsImmutable):
        Invoice.objects.all().update(notes="changed")
    assert Invoice.objects.get(pk=books.inv.pk).notes == ""
    # the cached settlement column may change; a draft may change
    assert posted.update(allocated=F("allocated")) == 1
    draft = Invoice.objects.get(pk=books.draft.pk)
    draft.notes = "still a draft"
    draft.save()


def test_lines_of_a_posted_invoice_cannot_change(books):
    line = InvoiceLine.objects.get(pk=books.line.pk)
    line.description = "changed"
    with pytest.raises(PostedIsImmutable):
        line.save()
    with pytest.raises(PostedIsImmutable):
        InvoiceLine.objects.filter(pk=line.pk).update(description="changed")
    with pytest.raises(PostedIsImmutable):
        InvoiceLine.objects.filter(pk=line.pk).delete()
    assert InvoiceLine.objects.filter(pk=books.draft_line.pk).update(description="draft") == 1


@pytest.mark.parametrize(("rows", "change"), [
    (lambda b: JournalLine.objects.filter(entry_id=b.entry), {"amount": 0}),
    (lambda b: JournalEntry.objects.filter(pk=b.entry), {"memo": "changed"}),
    (lambda b: Allocation.objects.filter(pk=b.alloc.pk), {"amount": 1}),
    (lambda b: Instalment.objects.filter(pk=b.inst.pk), {"amount": 1}),
    (lambda b: Receipt.objects.filter(pk=b.receipt.pk), {"amount": 1}),
], ids=["journal_line", "journal_entry", "allocation", "instalment", "receipt"])
def test_journal_and_settlement_rows_refuse_updates_and_deletes(books, rows, change):
    qs = rows(books)
    with pytest.raises(PostedIsImmutable):
        qs.update(**change)
    with pytest.raises(PostedIsImmutable):
        qs.delete()
    obj = qs.first()
    for field, value in change.items():
        setattr(obj, field, value)
    with pytest.raises(PostedIsImmutable):
        obj.save()


def test_cached_settlement_columns_may_change(books):
    assert Instalment.objects.filter(pk=books.inst.pk).update(settled=F("settled")) == 1
    assert Receipt.objects.filter(pk=books.receipt.pk).update(allocated=F("allocated")) == 1


# ---------------------------------------------------------------- the database layer
REFUSED = [
    ("UPDATE invoicing_invoice SET notes = 'x' WHERE id = {inv}", "posted invoice"),
    ("UPDATE invoicing_invoice SET total = total + 1 WHERE id = {inv}", "posted total"),
    ("UPDATE invoicing_invoice SET status = 'draft' WHERE id = {inv}", "unpost"),
    ("DELETE FROM invoicing_invoice WHERE id = {inv}", "delete posted invoice"),
    ("UPDATE invoicing_invoiceline SET unit_price = '1' WHERE invoice_id = {inv}", "line"),
    ("DELETE FROM invoicing_invoiceline WHERE invoice_id = {inv}", "delete line"),
    ("INSERT INTO invoicing_invoiceline (company_id, invoice_id, position, description, "
     "quantity, unit_price, discount_percent, tax_rate, tax_category, exemption_reason, net, "
     "tax) VALUES ({company}, {inv}, 99, 'extra', '1', '1', '0', '0', 'S', '', 100, 0)",
     "add line"),
    ("UPDATE ledger_journalline SET amount = amount + 1 WHERE entry_id = {entry}", "journal"),
    ("UPDATE ledger_journalline SET customer_id = NULL WHERE entry_id = {entry}", "journal"),
    ("DELETE FROM ledger_journalline WHERE entry_id = {entry}", "delete journal line"),
    ("UPDATE ledger_journalentry SET date = '2030-01-01' WHERE id = {entry}", "entry"),
    ("UPDATE payments_allocation SET amount = 1 WHERE id = {alloc}", "allocation"),
    ("DELETE FROM payments_allocation WHERE id = {alloc}", "delete allocation"),
    ("UPDATE invoicing_instalment SET amount = amount + 1 WHERE id = {inst}", "instalment"),
    ("UPDATE invoicing_instalment SET due_date = '2030-01-01' WHERE id = {inst}", "due date"),
    ("DELETE FROM invoicing_instalment WHERE id = {inst}", "delete instalment"),
    ("UPDATE payments_receipt SET amount = amount + 1 WHERE id = {receipt}", "receipt"),
    ("DELETE FROM payments_receipt WHERE id = {receipt}", "delete receipt"),
]

ALLOWED = [
    ("UPDATE invoicing_invoice SET notes = 'x' WHERE id = {draft}", "draft"),
    ("UPDATE invoicing_invoiceline SET description = 'x' WHERE invoice_id = {draft}", "draft"),
    ("UPDATE invoicing_instalment SET settled = settled WHERE id = {inst}", "cache"),
    ("UPDATE payments_receipt SET allocated = allocated WHERE id = {receipt}", "cache"),
    ("UPDATE invoicing_invoice SET allocated = allocated WHERE id = {inv}", "cache"),
]


def _ids(books):
    return {"company": books.company.pk, "inv": books.inv.pk, "draft": books.draft.pk,
            "entry": books.entry, "alloc": books.alloc.pk, "inst": books.inst.pk,
            "receipt": books.receipt.pk}


@pytest.mark.parametrize(("sql", "what"), REFUSED, ids=[f"{w}:{s.split()[0]}" for s, w in REFUSED])
def test_raw_sql_cannot_change_posted_rows(books, sql, what):
    with pytest.raises(DatabaseError, match="posted_is_immutable"):
        raw_sql(sql.format(**_ids(books)))


@pytest.mark.parametrize(("sql", "what"), ALLOWED, ids=[w for _, w in ALLOWED])
def test_raw_sql_may_change_drafts_and_caches(books, sql, what):
    assert raw_sql(sql.format(**_ids(books))) >= 1


# ---------------------------------------------------------------- TRUNCATE (PostgreSQL)
TRUNCATED = ["ledger_journalline", "ledger_journalentry", "payments_allocation",
             "core_auditevent", "invoicing_invoice", "invoicing_instalment", "payments_receipt"]


@pytest.mark.postgres
@pytest.mark.parametrize("table", TRUNCATED)
def test_truncate_of_posted_rows_is_refused(books, table):
    """Row triggers do not fire on TRUNCATE; a statement trigger refuses it. The suite's own
    connections may truncate (Django's flush), so the test first takes that right away."""
    with transaction.atomic(), connection.cursor() as cursor:
        # The fixture's deferred foreign-key checks run first: PostgreSQL refuses to
        # truncate a table with pending trigger events, which would hide the guard.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"SET LOCAL {ALLOW_TRUNCATE} = 'off'")
        with pytest.raises(DatabaseError, match="posted_is_immutable"):
            with transaction.atomic():
                cursor.execute(f"TRUNCATE {table} CASCADE")
    assert JournalLine.objects.filter(entry_id=books.entry).exists()
    assert Allocation.objects.filter(pk=books.alloc.pk).exists()
