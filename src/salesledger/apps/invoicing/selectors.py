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
    return {
        "id": inv.pk,
        "number": inv.number,
        "kind": inv.kind,
        "status": inv.status,
        "settlement": settlement(inv.total, settled_total).value
        if inv.status == "posted"
        else None,
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
                "net": _m(li.net, cur),
                "tax": _m(li.tax, cur),
            }
            for li in inv.lines.all()
        ],
        "instalments": instalments,
    }


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
