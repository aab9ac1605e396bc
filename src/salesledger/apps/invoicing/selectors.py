"""Reading invoices and credit notes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.db.models import Exists, F, OuterRef, Q

from salesledger.apps.core.models import Company
from salesledger.apps.customers.selectors import customer_get
from salesledger.domain.errors import NotFound
from salesledger.domain.invoicing import DocumentChargeInput, LineInput
from salesledger.domain.lifecycle import Settlement
from salesledger.money import Money

from .issuing import compute_invoice_totals, document_currency
from .models import Instalment, Invoice


def invoice_get(company: Company, number_or_id: str | int) -> Invoice:
    """An invoice or credit note by its number, else by its id."""
    qs = Invoice.objects.filter(company=company).select_related("customer")
    inv = qs.filter(number=str(number_or_id)).first()
    if inv is None and str(number_or_id).isdigit():
        inv = qs.filter(pk=int(number_or_id)).first()
    if inv is None:
        raise NotFound(f"no invoice or credit note {number_or_id!r}", document=number_or_id)
    return inv


def _m(minor: int, currency: str) -> dict[str, str]:
    return Money.from_minor(minor, currency).to_json()


def invoice_list(
    company: Company,
    *,
    customer_code: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    issued_from: date | None = None,
    issued_to: date | None = None,
    overdue_on: date | None = None,
    settlement: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """A page of invoices and credit notes, newest first, filtered by customer, status,
    kind, issue dates, ``overdue_on``: those with an instalment due before that day and
    not settled, and ``settlement`` (``SETTLEMENTS``, see ``settled_as``). One query,
    whatever the number of documents."""
    qs = Invoice.objects.filter(company=company)
    if customer_code:
        qs = qs.filter(customer__code=customer_code)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if issued_from:
        qs = qs.filter(issue_date__gte=issued_from)
    if issued_to:
        qs = qs.filter(issue_date__lte=issued_to)
    if overdue_on:
        late = Instalment.objects.filter(invoice=OuterRef("pk"), due_date__lt=overdue_on,
                                         settled__lt=F("amount"))
        qs = qs.filter(Exists(late))
    if settlement:
        qs = qs.filter(settled_as(settlement))
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


# The states a list filters by: a posted document's settlement now (domain.lifecycle), kept
# on the document (docs/design/web.md, "Settlement filter").
SETTLEMENTS = tuple(s.value for s in Settlement)


def settled_as(state: str) -> Q:
    """The posted documents in settlement ``state`` now: open, partially paid, paid or
    written off (nothing open and part of it written off as a bad debt), as kept on each
    document by the writer of its allocations and adjustments (``Invoice.settlement``; the
    page of a document says the same, ``payments.selectors.invoice_detail``). Read through
    the (company, settlement, issue date) index, newest first, however rare the state; a
    draft is in none. ``ValueError`` for another state."""
    if state not in SETTLEMENTS:
        raise ValueError(f"no settlement {state!r}: one of {', '.join(SETTLEMENTS)}")
    return Q(status="posted", settlement=state)


def invoice_numbers(company: Company, ids: Iterable[int]) -> dict[int, str]:
    """The number of each invoice or credit note of ``ids``, in one query whatever their
    count: what a list of rows that point at documents (adjustments) prints for them."""
    return dict(Invoice.objects.filter(company=company, pk__in=list(ids))
                .values_list("id", "number"))


def instalment_invoice_numbers(company: Company, ids: Iterable[int]) -> dict[int, str]:
    """The number of the invoice each instalment of ``ids`` belongs to, in one query
    whatever their count: what a list of allocations prints for them."""
    return dict(Instalment.objects.filter(company=company, pk__in=list(ids))
                .values_list("id", "invoice__number"))


def document_kind(company: Company, number: str) -> str | None:
    """The kind (``invoice`` or ``credit_note``) of the document numbered ``number``, or
    ``None`` when the company has none of that number. Read from the document, never guessed
    from its number: an imported document keeps the number another system gave it
    (docs/csv-formats.md)."""
    return (Invoice.objects.filter(company=company, number=number)
            .values_list("kind", flat=True).first())


def document_totals(company: Company, lines: list[LineInput], *, customer_code: str,
                    currency: str = "", charges: Sequence[DocumentChargeInput] = ()
                    ) -> dict[str, Any]:
    """What a document of ``customer_code`` with ``lines`` (and the document-level
    allowances and charges ``charges``) would total, in ``currency`` or else the customer's
    (the rule of ``invoice_create``), under the company's tax rounding and rounding policy:
    the pure core's totals (``domain.invoicing``), the same that saving and posting compute,
    as money JSON per line, per allowance or charge and for the document (``line_net``: the
    sum of the lines, BT-106; ``net``: after the allowances and charges, BT-109). The web's
    draft editor shows them as one types; what the core refuses raises its error."""
    currency = document_currency(company, customer_get(company, customer_code), currency)
    totals = compute_invoice_totals(company, currency, lines, charges)
    return {"lines": [{"net": _m(lt.net, currency), "tax": _m(lt.tax, currency)}
                      for lt in totals.lines],
            "charges": [{"amount": _m(ct.amount, currency), "tax": _m(ct.tax, currency)}
                        for ct in totals.charges],
            "line_net": _m(totals.line_net, currency),
            "allowance_total": _m(totals.allowance_total, currency),
            "charge_total": _m(totals.charge_total, currency),
            "net": _m(totals.net, currency), "tax": _m(totals.tax, currency),
            "total": _m(totals.total, currency)}
