"""Unapplied cash and credit notes not yet applied, as they stood on a day
(docs/design/reporting.md).

A receipt's unapplied part on D is its amount less what was taken from it up to D:
allocations (in the receipt's currency, reversals netted), refunds (reversals netted) and its
reversal if the bank returned it by then. In base currency, its base amount less the base that
each of these relieved: together they are the unapplied-cash account (2100) on D. A credit
note's unapplied part is its total less its allocations dated up to D; it is on the receivable
account, which is why the aged receivables count it as a negative item as well.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from salesledger.apps.core.models import Company
from salesledger.apps.customers.models import Customer
from salesledger.apps.invoicing.models import DocKind, Invoice
from salesledger.apps.payments.models import Allocation, Receipt, ReceiptReversal, Refund
from salesledger.apps.payments.selectors import TAKEN_FROM_RECEIPT


def _sum(grouped: Any, value: Any) -> Any:
    """The sum of ``value`` over a correlated queryset grouped by its link (0 if none)."""
    sub = grouped.order_by().annotate(s=Sum(value)).values("s")
    return Coalesce(Subquery(sub, output_field=IntegerField()), Value(0))


def _scope(company: Company, customer_id: int | None, country: str, currency: str,
           family: Sequence[int] = ()) -> Q:
    q = Q(company=company)
    if customer_id is not None:
        # a survivor of a merge takes in its aliases (customers.selectors.customer_family)
        q &= Q(customer_id__in=list(family)) if len(family) > 1 else Q(customer_id=customer_id)
    if country:
        q &= Q(customer__country=country)
    if currency:
        q &= Q(currency=currency)
    return q


def _receipts_left(company: Company, as_of: date, customer_id: int | None, country: str,
                   currency: str, family: Sequence[int] = ()) -> Any:
    """The receipts dated up to ``as_of`` with what was left of each on that day (``left``,
    ``base_left``)."""
    allocs = Allocation.objects.filter(receipt=OuterRef("pk"), date__lte=as_of)
    refunds = Refund.objects.filter(receipt=OuterRef("pk"), date__lte=as_of)
    returned = ReceiptReversal.objects.filter(receipt=OuterRef("pk"), date__lte=as_of)
    return (Receipt.objects.filter(_scope(company, customer_id, country, currency, family),
                                   date__lte=as_of)
            .annotate(left=F("amount") - _sum(allocs.values("receipt"), TAKEN_FROM_RECEIPT)
                      - _sum(refunds.values("receipt"), "amount")
                      - _sum(returned.values("receipt"), "amount"),
                      base_left=F("base_amount")
                      - _sum(allocs.values("receipt"), "base_unapplied")
                      - _sum(refunds.values("receipt"), "base_amount"))
            .filter(left__gt=0))


def unapplied_cash_totals(company: Company, *, as_of: date, customer_id: int | None = None,
                          country: str = "", currency: str = "", family: Sequence[int] = ()
                          ) -> dict[str, tuple[int, int]]:
    """Unapplied cash on ``as_of`` per currency: (amount, base amount), summed in the
    database. Rolled back from today like the aged receivables (aging.py): what is left of a
    receipt on D is what is left now (``amount - allocated``: the cache counts allocations,
    refunds and a reversal) plus what allocations, refunds and a reversal dated after D took.
    The base amount is read from the rows only for a receipt in another currency that
    something has used."""
    t = {"rc": Receipt._meta.db_table, "alloc": Allocation._meta.db_table,
         "refund": Refund._meta.db_table, "rev": ReceiptReversal._meta.db_table,
         "cust": Customer._meta.db_table}
    d, base = as_of, company.base_currency
    where, extra = "", []
    if customer_id is not None and len(family) > 1:
        where += f" AND r.customer_id IN ({', '.join(['%s'] * len(family))})"
        extra += list(family)
    elif customer_id is not None:
        where += " AND r.customer_id = %s"
        extra.append(customer_id)
    if currency:
        where += " AND r.currency = %s"
        extra.append(currency)
    if country:
        where += f" AND r.customer_id IN (SELECT id FROM {t['cust']} WHERE company_id = %s" \
                 " AND country = %s)"
        extra += [company.pk, country]
    left = "r.amount - r.allocated + COALESCE(b.amt, 0)"
    sql = f"""
    WITH later AS (
        SELECT receipt_id, COALESCE(source_amount, amount) AS amt FROM {t['alloc']}
        WHERE company_id = %s AND date > %s AND receipt_id IS NOT NULL
        UNION ALL
        SELECT receipt_id, amount FROM {t['refund']} WHERE company_id = %s AND date > %s
        UNION ALL
        SELECT receipt_id, amount FROM {t['rev']} WHERE company_id = %s AND date > %s
    ), back AS (
        SELECT receipt_id, CAST(SUM(amt) AS BIGINT) AS amt FROM later GROUP BY receipt_id
    )
    SELECT currency, SUM(left_on), SUM(base_left) FROM (
        SELECT r.currency AS currency, {left} AS left_on,
               CASE WHEN r.currency = %s THEN {left}
                    WHEN r.allocated = 0 AND b.receipt_id IS NULL THEN r.base_amount
                    ELSE r.base_amount
                         - COALESCE((SELECT SUM(CASE WHEN a.date <= %s THEN a.base_unapplied
                                                     ELSE 0 END)
                                     FROM {t['alloc']} a WHERE a.receipt_id = r.id), 0)
                         - COALESCE((SELECT SUM(CASE WHEN f.date <= %s THEN f.base_amount
                                                     ELSE 0 END)
                                     FROM {t['refund']} f WHERE f.receipt_id = r.id), 0)
               END AS base_left
        FROM {t['rc']} r LEFT JOIN back b ON b.receipt_id = r.id
        WHERE r.company_id = %s AND r.date <= %s{where}
    ) receipts WHERE left_on > 0
    GROUP BY currency"""
    params = [company.pk, d, company.pk, d, company.pk, d, base, d, d, company.pk, d, *extra]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return {cy: (int(a), int(b)) for cy, a, b in cur.fetchall()}


def unapplied_receipts(company: Company, *, as_of: date, customer_id: int | None = None,
                       country: str = "", currency: str = "", family: Sequence[int] = ()
                       ) -> Iterator[dict[str, Any]]:
    """Receipts with an unapplied part on ``as_of``, by customer and date; streamed."""
    rows = (_receipts_left(company, as_of, customer_id, country, currency, family)
            .order_by("customer__code", "date", "number")
            .values("customer__code", "customer__name", "number", "date", "currency", "amount",
                    "left", "base_left"))
    for r in rows.iterator(chunk_size=2000):
        yield {"type": "receipt", "customer": r["customer__code"], "name": r["customer__name"],
               "document": r["number"], "date": r["date"], "currency": r["currency"],
               "amount": r["amount"], "open": r["left"], "base_open": r["base_left"]}


def unapplied_credit_notes(company: Company, *, as_of: date, customer_id: int | None = None,
                           country: str = "", currency: str = "", family: Sequence[int] = ()
                           ) -> Iterator[dict[str, Any]]:
    """Posted credit notes with an unapplied part on ``as_of``, by customer and date."""
    allocs = Allocation.objects.filter(credit_note=OuterRef("pk"), date__lte=as_of)
    rows = (Invoice.objects.filter(_scope(company, customer_id, country, currency, family),
                                   kind=DocKind.CREDIT_NOTE, status="posted",
                                   issue_date__lte=as_of)
            .annotate(left=F("total") - _sum(allocs.values("credit_note"), "amount"),
                      base_left=F("base_total")
                      - _sum(allocs.values("credit_note"), "base_unapplied"))
            .filter(left__gt=0).order_by("customer__code", "issue_date", "number")
            .values("customer__code", "customer__name", "number", "issue_date", "currency",
                    "total", "left", "base_left"))
    for r in rows.iterator(chunk_size=2000):
        yield {"type": "credit_note", "customer": r["customer__code"],
               "name": r["customer__name"], "document": r["number"], "date": r["issue_date"],
               "currency": r["currency"], "amount": r["total"], "open": r["left"],
               "base_open": r["base_left"]}
