"""Open items and balances, derived from posted documents and allocations.

A customer's open items are: the unsettled part of each invoice instalment (a debit), the
unapplied part of each credit note and of each receipt (credits). The balance is their sum,
which equals invoices - credit notes - receipts - adjustments + refunds + reversed receipts
(docs/design/adjustments.md): allocations move amounts between open items but never change
the balance. Everything here is set-based SQL; with no ``as_of`` the
cached ``settled``/``allocated`` columns are read, with ``as_of`` the allocations dated up
to that day are summed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from typing import Any

from django.db.models import F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from salesledger.apps.core.models import Company
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice

from .models import Adjustment, Allocation, Receipt, ReceiptReversal, Refund


def _alloc_sum(as_of: date, value: Any = "amount", **match: Any) -> Subquery:
    qs = (Allocation.objects.filter(date__lte=as_of, **match).order_by()
          .values(*match.keys()).annotate(s=Sum(value)).values("s"))
    return Coalesce(Subquery(qs, output_field=IntegerField()), Value(0))


# What an allocation took from its receipt, in the receipt's currency (``source_amount``
# when it paid an instalment in another currency, docs/design/multi-currency.md).
TAKEN_FROM_RECEIPT = Coalesce(F("source_amount"), F("amount"))


def _used_otherwise(as_of: date) -> Any:
    """What a receipt gave up other than by allocation up to ``as_of``: refunds (reversals
    netted) and its reversal, if the bank returned it (refunds.py)."""
    refunds = (Refund.objects.filter(receipt=OuterRef("pk"), date__lte=as_of).order_by()
               .values("receipt").annotate(s=Sum("amount")).values("s"))
    returned = (ReceiptReversal.objects.filter(receipt=OuterRef("pk"), date__lte=as_of)
                .values("amount"))
    return (Coalesce(Subquery(refunds, output_field=IntegerField()), Value(0))
            + Coalesce(Subquery(returned, output_field=IntegerField()), Value(0)))


def open_items(company: Company, *, customer_id: int | None = None, as_of: date | None = None,
               overdue_only: bool = False) -> Iterator[dict[str, Any]]:
    """Yield open items as dicts ordered by customer, due date; streamed, not loaded."""
    scope = Q(company=company) & (Q(customer_id=customer_id) if customer_id else Q())
    inst = Instalment.objects.filter(scope)
    cn = Invoice.objects.filter(scope, kind=DocKind.CREDIT_NOTE, status="posted")
    rc = Receipt.objects.filter(scope)
    if as_of is None:
        inst = inst.annotate(open=F("amount") - F("settled"))
        cn = cn.annotate(open=F("total") - F("allocated"))
        rc = rc.annotate(open=F("amount") - F("allocated"))
    else:
        inst = inst.filter(invoice__issue_date__lte=as_of).annotate(
            open=F("amount") - _alloc_sum(as_of, instalment=OuterRef("pk")))
        cn = cn.filter(issue_date__lte=as_of).annotate(
            open=F("total") - _alloc_sum(as_of, credit_note=OuterRef("pk")))
        rc = rc.filter(date__lte=as_of).annotate(
            open=F("amount") - _alloc_sum(as_of, TAKEN_FROM_RECEIPT, receipt=OuterRef("pk"))
            - _used_otherwise(as_of))
    if overdue_only and as_of:
        inst = inst.filter(due_date__lt=as_of)
    inst_rows = (inst.filter(open__gt=0).order_by("customer_id", "due_date", "id")
                 .values("id", "customer_id", "customer__code", "due_date", "currency", "open",
                         "amount", "seq", "invoice__number", "invoice__issue_date"))
    for r in inst_rows.iterator(chunk_size=2000):
        yield {"type": "instalment", "id": r["id"], "customer": r["customer__code"],
               "document": r["invoice__number"], "seq": r["seq"],
               "date": r["invoice__issue_date"], "due_date": r["due_date"],
               "currency": r["currency"], "amount": r["amount"], "open": r["open"]}
    if overdue_only:
        return
    for r in (cn.filter(open__gt=0).order_by("customer_id", "issue_date", "id")
              .values("id", "customer__code", "number", "issue_date", "currency", "total", "open")
              .iterator(chunk_size=2000)):
        yield {"type": "credit_note", "id": r["id"], "customer": r["customer__code"],
               "document": r["number"], "seq": None, "date": r["issue_date"],
               "due_date": r["issue_date"], "currency": r["currency"], "amount": -r["total"],
               "open": -r["open"]}
    for r in (rc.filter(open__gt=0).order_by("customer_id", "date", "id")
              .values("id", "customer__code", "number", "date", "currency", "amount", "open")
              .iterator(chunk_size=2000)):
        yield {"type": "receipt", "id": r["id"], "customer": r["customer__code"],
               "document": r["number"], "seq": None, "date": r["date"], "due_date": r["date"],
               "currency": r["currency"], "amount": -r["amount"], "open": -r["open"]}


def customer_balances(company: Company, *, as_of: date | None = None,
                      customer_id: int | None = None) -> dict[tuple[int, str], int]:
    """Balance per (customer id, currency) in minor units: invoices - credit notes -
    receipts dated up to ``as_of``. Three grouped aggregates, whatever the data size."""
    scope = Q(company=company) & (Q(customer_id=customer_id) if customer_id else Q())
    docs = Invoice.objects.filter(scope, status="posted")
    rc = Receipt.objects.filter(scope)
    if as_of:
        docs = docs.filter(issue_date__lte=as_of)
        rc = rc.filter(date__lte=as_of)
    out: dict[tuple[int, str], int] = defaultdict(int)
    for r in docs.values("customer_id", "currency", "kind").annotate(s=Sum("total")).order_by():
        sign = -1 if r["kind"] == DocKind.CREDIT_NOTE else 1
        out[(r["customer_id"], r["currency"])] += sign * r["s"]
    # Receipts, and in the same query the allocations that moved value between currencies
    # (a receipt in one paying an instalment in another): the receipt's currency owes less
    # by what was taken from it, the instalment's by what it was settled with.
    cross = Allocation.objects.filter(scope, source_amount__isnull=False)
    if as_of:
        cross = cross.filter(date__lte=as_of)
    receipts = rc.values("customer_id", "currency").annotate(s=Sum("amount")).order_by()
    taken = (cross.values("customer_id", "source_currency").annotate(s=-Sum("source_amount"))
             .order_by())
    settled = cross.values("customer_id", "currency").annotate(s=Sum("amount")).order_by()
    # Adjustments settle without money (the balance falls); refunds and reversed receipts
    # give back what a receipt took off it (docs/design/adjustments.md).
    adjusted, refunded, returned = (
        Adjustment.objects.filter(scope), Refund.objects.filter(scope),
        ReceiptReversal.objects.filter(scope))
    if as_of:
        adjusted, refunded, returned = (adjusted.filter(date__lte=as_of),
                                        refunded.filter(date__lte=as_of),
                                        returned.filter(date__lte=as_of))
    more = (adjusted.values("customer_id", "currency").annotate(s=Sum("amount")).order_by(),
            refunded.values("customer_id", "currency").annotate(s=-Sum("amount")).order_by(),
            returned.values("customer_id", "receipt__currency").annotate(s=-Sum("amount"))
            .order_by())
    for r in receipts.union(taken, settled, *more, all=True):
        out[(r["customer_id"], r["currency"])] -= r["s"]
    return dict(out)


def open_item_totals(company: Company) -> dict[tuple[int, str], dict[str, int]]:
    """Per (customer, currency): instalments open, credit notes open, receipts unapplied,
    from the cached columns (used by the ledger check)."""
    out: dict[tuple[int, str], dict[str, int]] = defaultdict(
        lambda: {"instalments": 0, "credit_notes": 0, "receipts": 0})
    for r in (Instalment.objects.filter(company=company).values("customer_id", "currency")
              .annotate(s=Sum(F("amount") - F("settled"))).order_by()):
        out[(r["customer_id"], r["currency"])]["instalments"] = r["s"]
    for r in (Invoice.objects.filter(company=company, kind=DocKind.CREDIT_NOTE, status="posted")
              .values("customer_id", "currency").annotate(s=Sum(F("total") - F("allocated")))
              .order_by()):
        out[(r["customer_id"], r["currency"])]["credit_notes"] = r["s"]
    for r in (Receipt.objects.filter(company=company).values("customer_id", "currency")
              .annotate(s=Sum(F("amount") - F("allocated"))).order_by()):
        out[(r["customer_id"], r["currency"])]["receipts"] = r["s"]
    return dict(out)
