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

import pytest
from django.db import connection

from salesledger.apps.core.invariants import check_company
from salesledger.apps.documents.services import pdfs_freeze
from salesledger.apps.invoicing.models import Invoice
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
