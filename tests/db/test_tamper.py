"""Tampering that goes around the database's guards is still caught by ``salesledger check``.

Anyone with access to the database can drop the triggers (``docs/design/immutability.md``).
What they change afterwards must still show: a posted document's content is proven by the
hash of its snapshot that the audit chain recorded at posting, a frozen file's bytes by the
hash recorded when it was frozen, the settlement caches by their allocations. Each test drops
the guards inside its own transaction (DDL is transactional on SQLite and PostgreSQL), so they
are back for the next test.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from salesledger.apps.core.invariants import check_company
from salesledger.apps.documents.services import pdfs_freeze
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post
from salesledger.domain.invoicing import DocumentChargeInput, LineInput, SupplyDetails
from salesledger.money import format_minor
from tests.support import raw_sql


def drop_guards() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                           "AND name LIKE 'guard_%'")
            for (name,) in cursor.fetchall():
                cursor.execute(f'DROP TRIGGER "{name}"')
        else:
            cursor.execute("SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c "
                           "ON c.oid = t.tgrelid WHERE t.tgname LIKE 'guard_%'")
            for name, table in cursor.fetchall():
                cursor.execute(f'DROP TRIGGER "{name}" ON "{table}"')


@pytest.fixture
def posted(company, customer, post_invoice):
    inv = post_invoice(lines=[("Consulting", "6", "100.00", "20")])
    assert check_company(company) == []
    drop_guards()
    return inv


def _problems(company) -> list[str]:
    return [str(p) for p in check_company(company)]


@pytest.mark.parametrize(("sql", "found"), [
    ("UPDATE invoicing_invoiceline SET unit_price = '9999' WHERE invoice_id = {inv}",
     "line 1 unit_price 9999, issued 100.00"),
    ("UPDATE invoicing_invoiceline SET quantity = '60' WHERE invoice_id = {inv}",
     "line 1 quantity 60, issued 6"),
    ("UPDATE invoicing_invoiceline SET description = 'Nothing' WHERE invoice_id = {inv}",
     "line 1 description 'Nothing', issued 'Consulting'"),
    ("DELETE FROM invoicing_invoiceline WHERE invoice_id = {inv}", "0 lines stored, 1 issued"),
    ("UPDATE invoicing_invoice SET po_number = 'PO-9' WHERE id = {inv}",
     "po_number 'PO-9', issued ''"),
])
def test_a_changed_document_is_named_by_check(company, posted, sql, found):
    raw_sql(sql.format(inv=posted.pk))
    assert any(p.startswith("issued_content: ") and posted.number in p and found in p
               for p in _problems(company)), _problems(company)


@pytest.fixture
def posted_supply(company, owner, customer):
    """A posted invoice that says what it supplied: delivered on a day, for a month, under
    a contract and a project, services; a line with its item identifiers; an allowance in
    percent."""
    draft = invoice_create(actor=owner, company=company, data=InvoiceInput(
        customer_code="C001", issue_date=date(2025, 3, 10),
        lines=[LineInput("Drill", Decimal(2), Decimal("129.00"), Decimal(20),
                         unit_code="H87", seller_item_id="DR-18V",
                         standard_item_id="4006381333931", standard_item_scheme="0160")],
        charges=[DocumentChargeInput(False, Decimal(0), "Framework discount", "95",
                                     Decimal(20), percent=Decimal(5))],
        supply=SupplyDetails(delivery_date=date(2025, 3, 7), period_start=date(2025, 2, 1),
                             period_end=date(2025, 2, 28), contract_reference="CT-2024-17",
                             project_reference="Lyon plant", supply_type="services")))
    inv = invoice_post(actor=owner, company=company, invoice_id=draft.pk)
    assert check_company(company) == []
    drop_guards()
    return inv


@pytest.mark.parametrize(("sql", "found"), [
    ("UPDATE invoicing_invoice SET delivery_date = '2025-04-30' WHERE id = {inv}",
     "delivery date 2025-04-30, issued 2025-03-07"),
    ("UPDATE invoicing_invoice SET delivery_date = NULL WHERE id = {inv}",
     "delivery date none, issued 2025-03-07"),
    ("UPDATE invoicing_invoice SET period_start = '2025-01-01' WHERE id = {inv}",
     "period start 2025-01-01, issued 2025-02-01"),
    ("UPDATE invoicing_invoice SET period_end = '2025-03-31' WHERE id = {inv}",
     "period end 2025-03-31, issued 2025-02-28"),
    ("UPDATE invoicing_invoice SET contract_reference = 'CT-9' WHERE id = {inv}",
     "contract_reference 'CT-9', issued 'CT-2024-17'"),
    ("UPDATE invoicing_invoice SET project_reference = '' WHERE id = {inv}",
     "project_reference '', issued 'Lyon plant'"),
    ("UPDATE invoicing_invoice SET supply_type = 'goods' WHERE id = {inv}",
     "supply_type 'goods', issued 'services'"),
    ("UPDATE invoicing_invoiceline SET seller_item_id = 'DR-36V' WHERE invoice_id = {inv}",
     "line 1 seller_item_id 'DR-36V', issued 'DR-18V'"),
    ("UPDATE invoicing_invoiceline SET standard_item_id = '4006381333948' "
     "WHERE invoice_id = {inv}",
     "line 1 standard_item_id '4006381333948', issued '4006381333931'"),
    ("UPDATE invoicing_invoiceline SET standard_item_scheme = '0088' WHERE invoice_id = {inv}",
     "line 1 standard_item_scheme '0088', issued '0160'"),
    ("UPDATE invoicing_documentcharge SET percent = '50' WHERE invoice_id = {inv}",
     "charge 1 percent 50, issued 5"),
    ("UPDATE invoicing_documentcharge SET percent = NULL WHERE invoice_id = {inv}",
     "charge 1 percent None, issued 5"),
])
def test_a_changed_supply_or_item_id_is_named_by_check(company, posted_supply, sql, found):
    raw_sql(sql.format(inv=posted_supply.pk))
    problems = _problems(company)
    assert any(p.startswith("issued_content: ") and posted_supply.number in p and found in p
               for p in problems), problems


@pytest.mark.parametrize(("sql", "found"), [
    ("UPDATE invoicing_invoice SET delivery_date = '2025-03-01' WHERE id = {inv}",
     "delivery date 2025-03-01, issued none"),
    ("UPDATE invoicing_invoice SET supply_type = 'mixed' WHERE id = {inv}",
     "supply_type 'mixed', issued ''"),
    ("UPDATE invoicing_invoiceline SET standard_item_id = '4006381333931', "
     "standard_item_scheme = '0160' WHERE invoice_id = {inv}",
     "line 1 standard_item_id '4006381333931', issued ''"),
])
def test_supply_details_added_after_posting_are_named_by_check(company, posted, sql, found):
    # a document posted without them: what is added later was never issued
    raw_sql(sql.format(inv=posted.pk))
    problems = _problems(company)
    assert any(p.startswith("issued_content: ") and posted.number in p and found in p
               for p in problems), problems


def test_an_edited_snapshot_is_caught_even_with_its_hash_updated(company, posted):
    snap = Invoice.objects.get(pk=posted.pk).snapshot
    snap["lines"][0]["unit_price"] = "1.00"
    text = json.dumps(snap, sort_keys=True, separators=(",", ":"))
    raw_sql("UPDATE invoicing_invoice SET snapshot = %s, snapshot_hash = %s WHERE id = %s",
            [text, hashlib.sha256(text.encode()).hexdigest(), posted.pk])
    problems = _problems(company)
    assert f"issued_content: {posted.number}: snapshot hash differs from the one recorded " \
           "at posting" in problems, problems


def test_an_invoice_allocated_cache_pushed_up_is_caught(company, posted):
    raw_sql("UPDATE invoicing_invoice SET allocated = allocated + 1 WHERE id = %s", [posted.pk])
    assert (f"settlement_cache: invoice {posted.number}: allocated "
            f"{format_minor(1, posted.currency)}, allocations "
            f"{format_minor(0, posted.currency)}") in _problems(company)


def test_an_instalment_issue_date_moved_is_caught(company, posted):
    # the copy the aging of a past day reads instead of the invoice's (reporting/aging.py)
    raw_sql("UPDATE invoicing_instalment SET issue_date = '2020-01-01' WHERE invoice_id = %s",
            [posted.pk])
    assert (f"instalments_sum: {posted.number} #1: issue date 2020-01-01 != the invoice's "
            f"{posted.issue_date}") in _problems(company), _problems(company)


def test_a_changed_frozen_file_is_caught(company, owner, posted):
    assert pdfs_freeze(actor=owner, company=company, invoice_ids=[posted.pk])["frozen"] == 1
    assert _problems(company) == []
    # the bytes changed, the stored hash left alone
    raw_sql("UPDATE invoicing_documentfile SET content = %s WHERE invoice_id = %s",
            [b"%PDF-1.7 forged", posted.pk])
    assert f"frozen_files: {posted.number} pdf: content changed since it was frozen" in \
        _problems(company)
    # the bytes and the stored hash changed together: the audit chain still knows
    raw_sql("UPDATE invoicing_documentfile SET sha256 = %s WHERE invoice_id = %s",
            [hashlib.sha256(b"%PDF-1.7 forged").hexdigest(), posted.pk])
    assert _problems(company) == [
        f"frozen_files: {posted.number} pdf: hash differs from the one recorded"]
