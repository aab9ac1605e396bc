"""Everything the database holds about one customer, in one file: the answer to a person's
request for access to their data and for a copy they can take elsewhere (GDPR arts. 15 and 20;
docs/security.md, "Personal data").

It reads across the apps (customers, invoicing, quotes, payments, recurring, the ledger and
the audit trail), so it lives here, on the top floor, where every app is below. Each row is
written whole, column by column, so that a column added later is exported without a change
here; money columns are written as money (``{"amount": "12.30", "currency": "EUR"}``), and a
whole-number column that is neither money nor known to be a count is refused, so that minor
units never reach a person by mistake. The zip holds ``customer.json`` and the frozen files
of the customer's issued documents (PDF, e-invoices), byte for byte.

Exporting is an act on personal data, so it takes the manager role and is audited
(``customer.data_export``: counts, never the data).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.db.models import Q

from salesledger.apps.collections.models import (
    Assignment,
    CallTask,
    Dispute,
    DisputeAttachment,
    PaymentPlan,
    Promise,
    Reply,
)
from salesledger.apps.core.actors import Actor
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import AuditEvent, Company, Role
from salesledger.apps.core.services import require_role
from salesledger.apps.customers.models import Communication
from salesledger.apps.customers.selectors import customer_get
from salesledger.apps.dunning.models import DunningNotice
from salesledger.apps.invoicing.models import DocumentFile, Invoice
from salesledger.apps.ledger.models import JournalLine
from salesledger.apps.payments.models import (
    Adjustment,
    Allocation,
    Receipt,
    ReceiptReversal,
    Refund,
)
from salesledger.apps.quotes.models import Quote
from salesledger.apps.recurring.models import RecurringRun, RecurringSchedule
from salesledger.money import Money

FORMAT = "salesledger.customer-data/1"
# Whole-number columns that are not money.
COUNTS = frozenset({"seq", "fiscal_year", "period_index", "position", "revision", "interval",
                    "count", "discount_days"})
_BASE = "base"


def _row(obj: models.Model, money: dict[str, str] | None = None,
         skip: Iterable[str] = ()) -> dict[str, Any]:
    """A row as JSON values: every concrete column but ``skip`` and the company; a foreign
    key as ``<name>_id``; the columns of ``money`` as money in the currency named (a code, or
    the name of the row's currency column)."""
    money, skip = money or {}, {"company", *skip}
    out: dict[str, Any] = {}
    for f in obj._meta.concrete_fields:
        if f.name in skip or isinstance(f, models.BinaryField):
            continue
        value = getattr(obj, f.attname)
        if f.name in money:
            cur = money[f.name]
            cur = getattr(obj, cur, cur) if len(cur) != 3 or not cur.isupper() else cur
            value = None if value is None or not cur else Money.from_minor(value, cur).to_json()
        elif (isinstance(f, models.BigIntegerField) and not f.is_relation
              and not isinstance(f, models.AutoField) and f.name not in COUNTS):
            raise TypeError(f"{obj._meta.label}.{f.name}: a whole number neither money nor a "
                            "count; say which in interchange/personal_data.py")
        out[f.attname if f.is_relation else f.name] = value
    return out


def customer_data(company: Company, code: str) -> dict[str, Any]:
    """Everything held about customer ``code``, as JSON-ready values."""
    c = customer_get(company, code)
    base = company.base_currency
    docs = list(Invoice.objects.filter(company=company, customer=c).order_by("pk")
                .prefetch_related("lines", "charges", "instalments", "files"))
    quotes = list(Quote.objects.filter(company=company, customer=c).order_by("pk")
                  .prefetch_related("lines"))
    receipts = list(Receipt.objects.filter(company=company, customer=c).order_by("pk"))
    allocations = list(Allocation.objects.filter(company=company, customer=c).order_by("pk"))
    adjustments = list(Adjustment.objects.filter(company=company, customer=c).order_by("pk"))
    refunds = list(Refund.objects.filter(company=company, customer=c).order_by("pk"))
    reversals = list(ReceiptReversal.objects.filter(company=company, customer=c)
                     .select_related("receipt").order_by("pk"))
    schedules = list(RecurringSchedule.objects.filter(company=company, customer=c)
                     .order_by("pk").prefetch_related("lines"))
    runs = RecurringRun.objects.filter(company=company, schedule__in=schedules).order_by("pk")
    casework = _casework(company, c.pk)
    return {
        "format": FORMAT,
        "company": {"code": company.code, "name": company.name,
                    "legal_name": company.legal_name, "base_currency": base},
        "customer": {
            **_row(c, {"credit_limit": "currency"}),
            "payment_terms": c.payment_terms.code if c.payment_terms_id else None,
            "parent": c.parent.code if c.parent_id else None,
            "addresses": [_row(a, skip=("customer",)) for a in c.addresses.order_by("pk")],
            "contacts": [_row(x, skip=("customer",)) for x in c.contacts.order_by("pk")],
            "bank_accounts": [_row(b, skip=("customer",))
                              for b in c.bank_accounts.order_by("pk")],
        },
        "communications": [_row(m, skip=("customer",)) for m in
                           Communication.objects.filter(company=company, customer=c)
                           .order_by("at", "pk")],
        "documents": [_document(d, base) for d in docs],
        "quotes": [{**_row(q, {"net": "currency", "tax": "currency", "total": "currency"},
                           skip=("customer",)),
                    "lines": [_row(x, {"net": q.currency, "tax": q.currency}, skip=("quote",))
                              for x in q.lines.all()]} for q in quotes],
        "receipts": [_row(r, {"amount": "currency", "allocated": "currency",
                              "base_amount": base}, skip=("customer",)) for r in receipts],
        "allocations": [_row(a, {"amount": "currency", "source_amount": "source_currency",
                                 "base_unapplied": base, "base_receivable": base},
                             skip=("customer",)) for a in allocations],
        "adjustments": [_row(a, {"amount": "currency", "tax_amount": "currency",
                                 "base_amount": base}, skip=("customer",)) for a in adjustments],
        "refunds": [_row(r, {"amount": "currency", "base_amount": base}, skip=("customer",))
                    for r in refunds],
        "receipt_reversals": [_row(r, {"amount": r.receipt.currency}, skip=("customer",))
                              for r in reversals],
        "recurring_schedules": [
            {**_row(s, skip=("customer",)),
             "lines": [_row(x, skip=("schedule",)) for x in s.lines.order_by("position")],
             "runs": [_row(r, skip=("schedule",)) for r in runs if r.schedule_id == s.pk]}
            for s in schedules],
        "journal_lines": [
            {**_row(j, {"amount_currency": "currency", "amount": base}, skip=("customer",)),
             "account": j.account.code, "entry_kind": j.entry.kind, "entry_memo": j.entry.memo}
            for j in JournalLine.objects.filter(company=company, customer=c)
            .select_related("account", "entry").order_by("entry_id", "pk")],
        **casework,
        "audit_events": [_row(e, skip=("prev_hash",)) for e in _audit_events(
            company, c.pk, docs, quotes, receipts, allocations, adjustments, refunds,
            schedules, casework)],
    }


def _casework(company: Company, customer_id: int) -> dict[str, Any]:
    """Collections and dunning: disputes (their attachments in ``files/``), promises, plans,
    replies, call tasks, the collector, and the reminders and statements sent."""
    mine = {"company": company, "customer_id": customer_id}
    disputes = list(Dispute.objects.filter(**mine).order_by("pk")
                    .prefetch_related("attachments"))
    plans = list(PaymentPlan.objects.filter(**mine).order_by("pk")
                 .prefetch_related("items", "instalments"))
    notices = list(DunningNotice.objects.filter(**mine).order_by("pk")
                   .prefetch_related("items__instalment", "plan_reminders__instalment__plan"))
    money = {"amount": "currency", "open_at_opening": "currency"}
    return {
        "disputes": [{**_row(d, money, skip=("customer",)),
                      "attachments": [{**_row(a, skip=("dispute",)), "path": _attachment_path(a)}
                                      for a in d.attachments.order_by("pk")]}
                     for d in disputes],
        "promises": [_row(p, {"amount": "currency"}, skip=("customer",))
                     for p in Promise.objects.filter(**mine).order_by("pk")],
        "payment_plans": [
            {**_row(p, {"total": "currency", "settled_before": "currency"}, skip=("customer",)),
             "items": [_row(i, {"amount": p.currency}, skip=("plan",))
                       for i in p.items.order_by("pk")],
             "instalments": [_row(i, {"amount": p.currency}, skip=("plan",))
                             for i in p.instalments.order_by("number")]} for p in plans],
        "replies": [_row(r, skip=("customer",))
                    for r in Reply.objects.filter(**mine).order_by("pk")],
        "call_tasks": [_row(t, skip=("customer",))
                       for t in CallTask.objects.filter(**mine).order_by("pk")],
        "collector": [_row(a, skip=("customer",))
                      for a in Assignment.objects.filter(**mine)],
        "dunning_notices": [
            # (the summary repeats the items in minor units: the items below say it as money)
            {**_row(n, skip=("customer", "summary")),
             "letter_pdf_bytes": len(bytes(n.letter_pdf or b"")),
             "items": [_row(i, {"amount": i.instalment.currency, "fee": i.instalment.currency,
                                "interest": i.instalment.currency,
                                "compensation": i.instalment.currency}, skip=("notice",))
                       for i in n.items.all()],
             "plan_reminders": [_row(r, {"amount": r.instalment.plan.currency},
                                     skip=("notice",)) for r in n.plan_reminders.all()]}
            for n in notices],
    }


def _attachment_path(a: Any) -> str:
    return f"files/dispute-{a.dispute_id}-{a.pk}-{a.name.replace('/', '_')}"


def _document(d: Invoice, base: str) -> dict[str, Any]:
    cur = d.currency
    return {
        **_row(d, {"net": cur, "tax": cur, "total": cur, "allocated": cur, "base_total": base},
               skip=("customer",)),
        "lines": [_row(x, {"net": cur, "tax": cur}, skip=("invoice",)) for x in d.lines.all()],
        "charges": [_row(x, {"amount": cur}, skip=("invoice",)) for x in d.charges.all()],
        "instalments": [_row(i, {"amount": cur, "settled": cur, "discount_amount": cur,
                                 "base_amount": base}, skip=("invoice", "customer"))
                        for i in sorted(d.instalments.all(), key=lambda i: i.seq)],
        "files": [{**_row(f, skip=("invoice",)), "bytes": len(bytes(f.content)),
                   "path": _file_path(d, f)}
                  for f in sorted(d.files.all(), key=lambda f: f.kind)],
    }


_EXTENSIONS = {"pdf": "pdf", "facturx": "pdf", "ubl": "xml", "cii": "xml"}


def _file_path(d: Invoice, f: DocumentFile) -> str:
    """Where the frozen file is in the zip."""
    return f"files/{d.number or d.pk}-{f.kind}.{_EXTENSIONS.get(f.kind, 'bin')}"


def _audit_events(company: Company, customer_id: int, *groups: Iterable[Any]) -> Any:
    """The audit events about the customer or one of its rows (by entity and id)."""
    docs, quotes, receipts, allocations, adjustments, refunds, schedules, casework = groups
    by_entity = {"customer": [customer_id], "invoice": [x.pk for x in docs],
                 "quote": [x.pk for x in quotes], "receipt": [x.pk for x in receipts],
                 "allocation": [x.pk for x in allocations],
                 "adjustment": [x.pk for x in adjustments], "refund": [x.pk for x in refunds],
                 "recurring_schedule": [x.pk for x in schedules],
                 "dispute": [x["id"] for x in casework["disputes"]],
                 "promise": [x["id"] for x in casework["promises"]],
                 "plan": [x["id"] for x in casework["payment_plans"]],
                 "dunning_notice": [x["id"] for x in casework["dunning_notices"]]}
    about = Q()
    for entity, ids in by_entity.items():
        if ids:
            about |= Q(entity=entity, entity_id__in=[str(i) for i in ids])
    return AuditEvent.objects.filter(about, company=company).order_by("seq").iterator()


def _json_default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def data_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, default=_json_default, indent=2, ensure_ascii=False).encode()


def customer_data_export(*, actor: Actor, company: Company, code: str, archive: bool = True
                         ) -> tuple[bytes, dict[str, int]]:
    """The customer's data as a zip (``customer.json`` and ``files/``) or, with
    ``archive=False``, as the JSON alone (the files named, not included). Manager role;
    audited. Returns the bytes and what they hold, counted."""
    require_role(company, actor, Role.MANAGER)
    with transaction.atomic():  # one consistent read, and the audit event with it
        data = customer_data(company, code)
        counts = {k: len(v) for k, v in data.items() if isinstance(v, list)}
        files = {f["path"]: f["id"] for d in data["documents"] for f in d["files"]}
        counts["files"] = len(files) if archive else 0
        audit(company, actor, "customer.data_export", "customer", data["customer"]["id"],
              archive=archive, counts=counts)
        if not archive:
            return data_json(data), counts
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("customer.json", data_json(data))
            contents = dict(DocumentFile.objects.filter(pk__in=files.values())
                            .values_list("pk", "content"))
            for path, pk in files.items():
                z.writestr(path, bytes(contents[pk]))
            attachments = {a["path"]: a["id"] for d in data["disputes"]
                           for a in d["attachments"]}
            blobs = dict(DisputeAttachment.objects.filter(pk__in=attachments.values())
                         .values_list("pk", "content"))
            for path, pk in attachments.items():
                z.writestr(path, bytes(blobs[pk]))
    return out.getvalue(), counts
