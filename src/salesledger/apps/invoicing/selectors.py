"""Reading invoices and credit notes."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Sum

from salesledger.apps.core.models import Company
from salesledger.domain.lifecycle import settlement
from salesledger.money import Money

from .models import Invoice
from .services import invoice_get


def _m(minor: int, currency: str) -> dict[str, str]:
    return Money.from_minor(minor, currency).to_json()


def invoice_detail(
    company: Company, ref: str | int, *, as_of: date | None = None
) -> dict[str, Any]:
    from salesledger.apps.payments.models import Allocation

    inv = invoice_get(company, ref)
    cur = inv.currency
    instalments = []
    for i in inv.instalments.order_by("seq"):
        if as_of is None:
            settled = i.settled
        else:
            settled = (
                Allocation.objects.filter(instalment=i, date__lte=as_of).aggregate(s=Sum("amount"))[
                    "s"
                ]
                or 0
            )
        instalments.append(
            {
                "seq": i.seq,
                "due_date": i.due_date,
                "amount": _m(i.amount, cur),
                "open": _m(i.amount - settled, cur),
                "_settled": settled,
                "discount_date": i.discount_date,
                "discount": _m(i.discount_amount, cur),
            }
        )
    if inv.kind == "credit_note":
        settled_total, open_total = inv.allocated, inv.total - inv.allocated
    else:
        settled_total = sum(i.pop("_settled") for i in instalments)
        open_total = inv.total - settled_total if inv.status == "posted" else 0
    for i in instalments:
        i.pop("_settled", None)
    adjusted = _adjusted(inv, as_of)
    return {
        "id": inv.pk,
        "number": inv.number,
        "kind": inv.kind,
        # An opening item of a migration (docs/design/opening-items.md).
        "opening": inv.opening,
        "status": inv.status,
        "settlement": _settlement_state(inv, settled_total, open_total, adjusted),
        "customer": inv.customer.code,
        "issue_date": inv.issue_date,
        "due_date": inv.due_date,
        "currency": cur,
        "rate": str(inv.rate),
        "po_number": inv.po_number,
        "buyer_reference": inv.buyer_reference,
        "corrects": inv.corrects.number if inv.corrects_id and inv.corrects else None,
        "net": _m(inv.net, cur),
        "tax": _m(inv.tax, cur),
        "total": _m(inv.total, cur),
        "open": _m(open_total, cur),
        "snapshot_hash": inv.snapshot_hash,
        "lines": [
            {
                "description": li.description,
                "quantity": str(li.quantity),
                "unit_price": str(li.unit_price),
                "discount_percent": str(li.discount_percent),
                "tax_rate": str(li.tax_rate),
                "tax_category": li.tax_category,
                "exemption_reason": li.exemption_reason,
                "unit_code": li.unit_code,
                "net": _m(li.net, cur),
                "tax": _m(li.tax, cur),
            }
            for li in inv.lines.all()
        ],
        # Document-level allowances and charges (EN 16931 BG-20/BG-21).
        "charges": [
            {
                "kind": "charge" if c.is_charge else "allowance",
                "reason": c.reason,
                "reason_code": c.reason_code,
                "amount": _m(c.amount, cur),
                "tax_rate": str(c.tax_rate),
                "tax_category": c.tax_category,
            }
            for c in inv.charges.all()
        ],
        "instalments": instalments,
        # What adjustments settled, net of reversals, per kind (docs/design/adjustments.md).
        "adjustments": {k: _m(v, cur) for k, v in sorted(adjusted.items())},
        "written_off": _m(adjusted.get("bad_debt", 0), cur),
    }


def _adjusted(inv: Invoice, as_of: date | None) -> dict[str, int]:
    """Net amount settled by each kind of adjustment on the invoice, as of a day."""
    from salesledger.apps.payments.models import Adjustment

    if inv.kind != "invoice" or inv.status != "posted":
        return {}
    qs = Adjustment.objects.filter(invoice=inv)
    if as_of is not None:
        qs = qs.filter(date__lte=as_of)
    rows = qs.values("kind").annotate(s=Sum("amount")).order_by()
    return {r["kind"]: r["s"] for r in rows if r["s"]}


def _settlement_state(inv: Invoice, settled: int, open_total: int,
                      adjusted: dict[str, int]) -> str | None:
    """Derived: open, partially paid, paid, or written off (nothing open and part of it
    written off as a bad debt)."""
    if inv.status != "posted":
        return None
    if inv.kind == "invoice" and open_total == 0 and adjusted.get("bad_debt", 0) > 0:
        return "written_off"
    return settlement(inv.total, settled).value


def invoice_list(
    company: Company,
    *,
    customer_code: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    qs = Invoice.objects.filter(company=company)
    if customer_code:
        qs = qs.filter(customer__code=customer_code)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    rows = qs.order_by("-issue_date", "-id").values(
        "id",
        "number",
        "kind",
        "status",
        "customer__code",
        "issue_date",
        "due_date",
        "currency",
        "total",
    )[offset : offset + limit]
    return [
        {
            "id": r["id"],
            "number": r["number"],
            "kind": r["kind"],
            "status": r["status"],
            "customer": r["customer__code"],
            "issue_date": r["issue_date"],
            "due_date": r["due_date"],
            "currency": r["currency"],
            "total": _m(r["total"], r["currency"]),
        }
        for r in rows
    ]
