"""The settlement history of an invoice, and lists of adjustments and refunds.

``invoice_history`` tells what happened to an invoice as a timeline: its posting, every
allocation to its instalments and every reversal of one (with the receipt, credit note or
adjustment it came from: a write-off, a deduction, an early-payment discount, a bad debt),
and what became of the receipts that paid it (refunded in part, returned by the bank). Each
event carries what was open on the invoice after it. A fixed number of queries, whatever the
history's length. Events are ordered by date, then by the order they were written in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from salesledger.apps.core.models import Company
from salesledger.apps.customers.selectors import customer_get
from salesledger.apps.invoicing.models import DocKind
from salesledger.apps.invoicing.selectors import invoice_get
from salesledger.money import Money

from .models import Adjustment, Allocation, ReceiptReversal, Refund


def _m(minor: int, currency: str) -> dict[str, str]:
    return Money.from_minor(minor, currency).to_json()


def _event(day: date, at: datetime, rank: int, row_id: int, **data: Any) -> dict[str, Any]:
    return {"date": day, "_key": (day, at, rank, row_id), **data}


def invoice_history(company: Company, number: str) -> list[dict[str, Any]]:
    """Events of one invoice (or credit note), oldest first: ``date``, ``event``, ``source``
    (the document or adjustment it came from), ``amount`` (signed: what it settled, negative
    when it reopened; for a refund or a returned receipt, the amount of that event), ``open``
    (what was open on the invoice after it), and details per kind."""
    inv = invoice_get(company, number)
    cur = inv.currency
    posted = inv.posted_at or datetime.min
    events = [_event(inv.issue_date, posted.replace(tzinfo=None), 0, inv.pk,
                     event="posted" if inv.status == "posted" else "draft",
                     source=inv.number, amount=_m(inv.total, cur), settles=0)]
    if inv.kind == DocKind.CREDIT_NOTE:
        rows = (Allocation.objects.filter(credit_note=inv)
                .select_related("instalment__invoice").order_by("date", "id"))
        events += [_event(a.date, a.created_at.replace(tzinfo=None), 1, a.pk,
                          event="applied" if a.amount > 0 else "applied_reversed",
                          source=a.instalment.invoice.number, instalment=a.instalment.seq,
                          allocation=a.pk, amount=_m(a.amount, a.currency), settles=a.amount)
                   for a in rows]
        return _finish(events, inv.total, cur)
    allocations = list(Allocation.objects.filter(instalment__invoice=inv)
                       .select_related("receipt", "credit_note", "adjustment", "instalment")
                       .order_by("date", "id"))
    events += _allocation_events(a for a in allocations if a.adjustment_id is None)
    events += _adjustment_events(a for a in allocations if a.adjustment_id is not None)
    receipt_ids = {a.receipt_id for a in allocations if a.receipt_id}
    for r in (Refund.objects.filter(receipt_id__in=receipt_ids)
              .select_related("receipt", "reversal_of")):
        events.append(_event(
            r.date, r.created_at.replace(tzinfo=None), 3, r.pk,
            event="refund" if r.amount > 0 else "refund_reversed", source=r.receipt.number,
            refund=r.number or (r.reversal_of.number if r.reversal_of else ""),
            amount=_m(r.amount, r.currency), settles=0, method=r.method))
    for rv in (ReceiptReversal.objects.filter(receipt_id__in=receipt_ids)
               .select_related("receipt", "fee_invoice")):
        events.append(_event(
            rv.date, rv.created_at.replace(tzinfo=None), 4, rv.pk, event="receipt_reversed",
            source=rv.receipt.number, amount=_m(rv.amount, rv.receipt.currency), settles=0,
            reason=rv.reason, fee_invoice=rv.fee_invoice.number if rv.fee_invoice else None))
    return _finish(events, inv.total if inv.status == "posted" else 0, cur)


def _allocation_events(rows: Iterable[Allocation]) -> list[dict[str, Any]]:
    out = []
    for a in rows:
        if a.receipt_id:
            kind, source = "payment", a.receipt.number if a.receipt else ""
        else:
            kind, source = "credit", a.credit_note.number if a.credit_note else ""
        extra: dict[str, Any] = {}
        if a.source_amount is not None:
            extra = {"source_amount": _m(a.source_amount, a.source_currency),
                     "rate": format(a.fx_rate, "f")}
        out.append(_event(a.date, a.created_at.replace(tzinfo=None), 1, a.pk,
                          event=kind if a.amount > 0 else f"{kind}_reversed", source=source,
                          instalment=a.instalment.seq, allocation=a.pk,
                          amount=_m(a.amount, a.currency), settles=a.amount, **extra))
    return out


def _adjustment_events(rows: Iterable[Allocation]) -> list[dict[str, Any]]:
    """One event per adjustment (however many instalments it settled)."""
    by_adj: dict[int, list[Allocation]] = {}
    for a in rows:
        by_adj.setdefault(a.adjustment_id or 0, []).append(a)
    out = []
    for parts in by_adj.values():
        adj = parts[0].adjustment
        assert adj is not None
        total = sum(a.amount for a in parts)
        data: dict[str, Any] = {
            "event": adj.kind if adj.amount > 0 else f"{adj.kind}_reversed",
            "source": f"adjustment {adj.reversal_of_id or adj.pk}", "adjustment": adj.pk,
            "amount": _m(total, adj.currency), "settles": total,
            "instalments": sorted(a.instalment.seq for a in parts)}
        if adj.reason_code:
            data["reason_code"] = adj.reason_code
        if adj.tax_amount:
            data["tax"] = _m(adj.tax_amount, adj.currency)
        if adj.memo:
            data["memo"] = adj.memo
        if adj.dispute_requested:
            data["dispute_requested"] = True
        out.append(_event(adj.date, adj.created_at.replace(tzinfo=None), 2, adj.pk, **data))
    return out


def _finish(events: list[dict[str, Any]], total: int, cur: str) -> list[dict[str, Any]]:
    events.sort(key=lambda e: e["_key"])
    open_now = total
    for e in events:
        del e["_key"]
        open_now -= e.pop("settles")
        e["open"] = _m(open_now, cur)
    return events


# ---------------------------------------------------------------- lists
def adjustment_list(company: Company, *, kind: str | None = None,
                    customer_code: str | None = None, disputed: bool | None = None,
                    limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Adjustments newest first, with whether each was reversed: the report of write-offs,
    deductions (``disputed``: those flagged for a dispute) and discounts."""
    qs = Adjustment.objects.filter(company=company)
    if kind:
        qs = qs.filter(kind=kind)
    if customer_code:
        qs = qs.filter(customer=customer_get(company, customer_code))
    if disputed is not None:
        qs = qs.filter(dispute_requested=disputed)
    rows = (qs.order_by("-date", "-id")
            .values("id", "kind", "reason_code", "date", "currency", "amount", "tax_amount",
                    "memo", "dispute_requested", "invoice__number", "customer__code",
                    "receipt__number", "reversal_of_id", "reversed_by__id")[offset:offset + limit])
    return [{"id": r["id"], "kind": r["kind"], "reason_code": r["reason_code"] or None,
             "date": r["date"], "invoice": r["invoice__number"], "customer": r["customer__code"],
             "amount": _m(r["amount"], r["currency"]), "tax": _m(r["tax_amount"], r["currency"]),
             "receipt": r["receipt__number"], "memo": r["memo"],
             "dispute_requested": r["dispute_requested"], "reverses": r["reversal_of_id"],
             "reversed_by": r["reversed_by__id"]} for r in rows]
