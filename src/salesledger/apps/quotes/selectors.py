"""Reading quotes: one quote with its revisions, lists, and the follow-up list of
outstanding quotes (sent, not yet answered), whose expiry is derived for ``as_of`` in SQL."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import BooleanField, Case, Count, Q, QuerySet, Sum, Value, When

from salesledger.apps.core.models import Company
from salesledger.domain.errors import NotFound
from salesledger.domain.quotes import (
    QuoteStatus,
    parse_revision_label,
    quote_state,
    revision_label,
)
from salesledger.money import Money

from .models import Quote


def quote_revisions(company: Company, label: str) -> QuerySet[Quote]:
    """The revisions a label names, latest first (with their customer): ``QUO2025-00001``
    names every revision of that number, ``QUO2025-00001-R2`` the one given."""
    number, revision = parse_revision_label(label)
    qs = Quote.objects.filter(company=company, number=number)
    if revision is not None:
        qs = qs.filter(revision=revision)
    return qs.select_related("customer").order_by("-revision")


def quote_get(company: Company, label: str) -> Quote:
    """A quote by its label: ``QUO2025-00001`` is the latest revision of that number,
    ``QUO2025-00001-R2`` a given revision."""
    quote = quote_revisions(company, label).first()
    if quote is None:
        raise NotFound(f"no quote {label!r}", quote=label)
    return quote


def _m(minor: int, currency: str) -> dict[str, str]:
    return Money.from_minor(minor, currency).to_json()


def quote_detail(company: Company, label: str, *, as_of: date) -> dict[str, Any]:
    quote = quote_get(company, label)
    revisions = list(Quote.objects.filter(company=company, number=quote.number)
                     .order_by("revision").values_list("revision", "status"))
    newer = next((r for r, _ in revisions if r == quote.revision + 1), None)
    cur = quote.currency
    return {
        "quote": quote.label,
        "number": quote.number,
        "revision": quote.revision,
        "replaces": revision_label(quote.number, quote.revision - 1) if quote.replaces_id
        else None,
        "replaced_by": revision_label(quote.number, newer) if newer else None,
        "revisions": [{"quote": revision_label(quote.number, r), "status": s}
                      for r, s in revisions],
        "status": quote.status,
        "state": quote_state(quote.status, quote.valid_until, as_of).value,
        "customer": quote.customer.code,
        "issue_date": quote.issue_date,
        "valid_until": quote.valid_until,
        "sent_on": quote.sent_on,
        "decided_on": quote.decided_on,
        "age_days": (as_of - quote.sent_on).days if quote.sent_on else None,
        "currency": cur,
        "terms": quote.terms.code if quote.terms_id and quote.terms else None,
        "po_number": quote.po_number,
        "buyer_reference": quote.buyer_reference,
        "notes": quote.notes,
        "net": _m(quote.net, cur),
        "tax": _m(quote.tax, cur),
        "total": _m(quote.total, cur),
        "invoice": (quote.invoice.number or f"draft #{quote.invoice.pk}")
        if quote.invoice_id and quote.invoice else None,
        "lines": [
            {"description": li.description, "quantity": str(li.quantity),
             "unit_price": str(li.unit_price), "discount_percent": str(li.discount_percent),
             "tax_rate": str(li.tax_rate), "tax_category": li.tax_category,
             "net": _m(li.net, cur), "tax": _m(li.tax, cur)}
            for li in quote.lines.all()
        ],
        # Document-level allowances and charges (EN 16931 BG-20/BG-21), as an invoice's.
        "charges": [
            {"kind": "charge" if c.is_charge else "allowance", "reason": c.reason,
             "reason_code": c.reason_code, "amount": _m(c.amount, cur),
             "tax_rate": str(c.tax_rate), "tax_category": c.tax_category,
             "percent": None if c.percent is None else str(c.percent)}
            for c in quote.charges.all()
        ],
    }


def _row(r: dict[str, Any], as_of: date) -> dict[str, Any]:
    return {
        "quote": revision_label(r["number"], r["revision"]),
        "customer": r["customer__code"],
        "customer_name": r["customer__name"],
        "status": r["status"],
        "state": quote_state(r["status"], r["valid_until"], as_of).value,
        "issue_date": r["issue_date"],
        "valid_until": r["valid_until"],
        "sent_on": r["sent_on"],
        "age_days": (as_of - r["sent_on"]).days if r["sent_on"] else None,
        "currency": r["currency"],
        "total": _m(r["total"], r["currency"]),
        "po_number": r["po_number"],
        "invoice": r["invoice__number"],
    }


_FIELDS = ("number", "revision", "customer__code", "customer__name", "status", "issue_date",
           "valid_until", "sent_on", "currency", "total", "po_number", "invoice__number")


def quote_list(company: Company, *, as_of: date, customer_code: str | None = None,
               status: str | None = None, include_superseded: bool = False,
               limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Quotes newest first, one query; superseded revisions only when asked."""
    qs = Quote.objects.filter(company=company)
    if customer_code:
        qs = qs.filter(customer__code=customer_code)
    if status == "expired":
        qs = qs.filter(status=QuoteStatus.SENT, valid_until__lt=as_of)
    elif status == "sent":
        qs = qs.filter(status=QuoteStatus.SENT, valid_until__gte=as_of)
    elif status:
        qs = qs.filter(status=status)
    elif not include_superseded:
        qs = qs.exclude(status=QuoteStatus.SUPERSEDED)
    rows = qs.order_by("-issue_date", "-number", "-revision").values(*_FIELDS)
    return [_row(r, as_of) for r in rows[offset:offset + limit]]


def quotes_outstanding(company: Company, *, as_of: date, order: str = "age",
                       expired: bool | None = None, customer_code: str | None = None,
                       limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """Sent quotes still waiting for an answer on ``as_of``, for follow-up: oldest first
    (``order="age"``) or largest first within each currency (``order="value"``), with
    ``expired`` derived in SQL (True: only expired, False: only still valid). Two queries:
    the page, and the totals per currency."""
    if order not in ("age", "value"):
        raise ValueError("order is 'age' or 'value'")
    qs = (Quote.objects.filter(company=company, status=QuoteStatus.SENT, sent_on__lte=as_of)
          .annotate(expired=Case(When(valid_until__lt=as_of, then=Value(True)),
                                 default=Value(False), output_field=BooleanField())))
    if customer_code:
        qs = qs.filter(customer__code=customer_code)
    if expired is not None:
        qs = qs.filter(expired=expired)
    ordering = (("sent_on", "-total", "number") if order == "age"
                else ("currency", "-total", "sent_on", "number"))
    rows = qs.order_by(*ordering).values(*_FIELDS, "expired")[offset:offset + limit]
    totals = (qs.order_by().values("currency")
              .annotate(n=Count("id"), value=Sum("total"),
                        n_expired=Count("id", filter=Q(valid_until__lt=as_of)),
                        expired_value=Sum("total", filter=Q(valid_until__lt=as_of)))
              .order_by("currency"))
    return {
        "as_of": as_of,
        "quotes": [{**_row(r, as_of), "expired": bool(r["expired"])} for r in rows],
        "totals": [{"currency": t["currency"], "count": t["n"],
                    "total": _m(t["value"], t["currency"]), "expired": t["n_expired"],
                    "expired_total": _m(t["expired_value"] or 0, t["currency"])}
                   for t in totals],
    }
