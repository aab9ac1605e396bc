"""Aged receivables for any day, in one set-based query (docs/design/reporting.md).

What is open on a day D is rolled back from what is open now, which the settlement caches
hold (``Instalment.settled``, ``Invoice.allocated``, kept in the transaction of every
allocation and checked by ``salesledger check``):

    open on D = amount - settled now + Σ allocations dated after D

for the instalments of invoices issued up to D, and likewise for credit notes. Only items open
now (the partial index ``instalment_open``) and items that an allocation dated after D touched
(the index on allocations by company and date) are read, so D = today reads the open items
alone, and a past day adds what was settled since. Reversals are allocation rows too (negative),
so an allocation reversed after D is counted as it stood on D.

The base-currency amount is what the receivable control account carries: the item's base
amount at its booking rate less the base each allocation dated up to D relieved
(``base_receivable`` of an instalment, ``base_unapplied`` of a credit note). Credit notes are
open items with a negative amount, aged by their issue date; unapplied cash is not on the
receivable account and is reported beside the buckets, not in them (unapplied.py).

The database sums the buckets: the age limits become reference dates (domain/aging.py), one
``CASE`` picks the bucket, and the result is grouped by customer, currency and bucket.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection

from salesledger.apps.core.models import Company
from salesledger.apps.customers.models import Customer
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.apps.payments.models import Allocation
from salesledger.domain.aging import AgeBy, Bucket, bucket_starts


@dataclass(frozen=True)
class AgingScope:
    """Which open items a report takes, and how it ages them."""

    as_of: date
    buckets: tuple[Bucket, ...]
    by: AgeBy = AgeBy.DUE
    customer_id: int | None = None
    country: str = ""
    currency: str = ""  # only items in this document currency


def _tables() -> dict[str, str]:
    return {"inst": Instalment._meta.db_table, "inv": Invoice._meta.db_table,
            "alloc": Allocation._meta.db_table, "cust": Customer._meta.db_table}


def _items_sql(company: Company, scope: AgingScope) -> tuple[str, list[Any]]:
    """The CTEs ``later`` and ``items``: one row per item open on the day, with ``kind``,
    ``id``, ``invoice_id`` (the document), ``customer_id``, ``currency``, ``seq``,
    ``issue_date``, ``due_date``, ``open`` and ``base_open`` (minor units, credit notes
    negative)."""
    t, d, base = _tables(), scope.as_of, company.base_currency
    where_i, where_c, extra = "", "", []
    if scope.customer_id is not None:
        where_i += " AND i.customer_id = %s"
        where_c += " AND c.customer_id = %s"
        extra.append(scope.customer_id)
    if scope.currency:
        where_i += " AND i.currency = %s"
        where_c += " AND c.currency = %s"
        extra.append(scope.currency)
    if scope.country:
        where_i += f" AND i.customer_id IN (SELECT id FROM {t['cust']} WHERE company_id = %s" \
                   " AND country = %s)"
        where_c += f" AND c.customer_id IN (SELECT id FROM {t['cust']} WHERE company_id = %s" \
                   " AND country = %s)"
        extra += [company.pk, scope.country]
    # An instalment's open amounts on D; ``l`` holds what allocations after D took from it.
    inst_cols = f"""
        'instalment' AS kind, i.id AS id, i.invoice_id AS invoice_id,
        i.customer_id AS customer_id, i.currency AS currency, i.seq AS seq,
        inv.issue_date AS issue_date, i.due_date AS due_date,
        i.amount - i.settled + COALESCE(l.amt, 0) AS open,
        CASE WHEN i.currency = %s THEN i.amount - i.settled + COALESCE(l.amt, 0)
             WHEN i.settled = 0 AND l.instalment_id IS NULL THEN i.base_amount
             ELSE i.base_amount - COALESCE((SELECT SUM(a.base_receivable) FROM {t['alloc']} a
                                            WHERE a.instalment_id = i.id AND a.date <= %s), 0)
        END AS base_open"""
    sql = f"""
    WITH later AS (
        SELECT instalment_id, SUM(amount) AS amt
        FROM {t['alloc']}
        WHERE company_id = %s AND date > %s
        GROUP BY instalment_id
    ),
    items AS (
        SELECT {inst_cols}
        FROM {t['inst']} i
        JOIN {t['inv']} inv ON inv.id = i.invoice_id
        LEFT JOIN later l ON l.instalment_id = i.id
        WHERE i.company_id = %s AND i.settled < i.amount AND inv.issue_date <= %s{where_i}
        UNION ALL
        SELECT {inst_cols}
        FROM later l
        JOIN {t['inst']} i ON i.id = l.instalment_id
        JOIN {t['inv']} inv ON inv.id = i.invoice_id
        WHERE i.settled = i.amount AND inv.issue_date <= %s{where_i}
        UNION ALL
        SELECT 'credit_note', c.id, c.id, c.customer_id, c.currency, 0, c.issue_date,
               c.issue_date,
               -(c.total - COALESCE((SELECT SUM(a.amount) FROM {t['alloc']} a
                                     WHERE a.credit_note_id = c.id AND a.date <= %s), 0)),
               -(c.base_total - COALESCE((SELECT SUM(a.base_unapplied) FROM {t['alloc']} a
                                          WHERE a.credit_note_id = c.id AND a.date <= %s), 0))
        FROM {t['inv']} c
        WHERE c.company_id = %s AND c.kind = %s AND c.status = 'posted'
              AND c.issue_date <= %s{where_c}
    )"""
    params: list[Any] = [company.pk, d,
                         base, d, company.pk, d, *extra,
                         base, d, d, *extra,
                         d, d, company.pk, DocKind.CREDIT_NOTE.value, d, *extra]
    return sql, params


def _bucket_case(scope: AgingScope) -> tuple[str, list[Any]]:
    ref = "items.due_date" if scope.by == AgeBy.DUE else "items.issue_date"
    starts = bucket_starts(scope.as_of, scope.buckets)
    whens = " ".join(f"WHEN {ref} >= %s THEN {n}" for n in range(len(starts)))
    return f"CASE {whens} ELSE {len(starts)} END", list(starts)


@dataclass(frozen=True)
class AgingCell:
    """What one customer has open in one currency and bucket."""

    customer_id: int
    currency: str
    bucket: int
    open: int
    base_open: int
    items: int


def aging_cells(company: Company, scope: AgingScope) -> list[AgingCell]:
    """The open items of the day summed per customer, currency and bucket, in the database:
    the rows returned are as many as the cells, whatever the number of items."""
    items, params = _items_sql(company, scope)
    case, case_params = _bucket_case(scope)
    sql = f"""{items}
    SELECT customer_id, currency, {case} AS bucket, SUM(open), SUM(base_open), COUNT(*)
    FROM items WHERE open <> 0
    GROUP BY customer_id, currency, bucket"""
    with connection.cursor() as cur:
        cur.execute(sql, [*params, *case_params])
        rows = cur.fetchall()
    return [AgingCell(int(c), cy, int(b), int(o), int(bo), int(n))
            for c, cy, b, o, bo, n in rows]


def aging_item_rows(company: Company, scope: AgingScope, *, chunk: int = 2000
                    ) -> Iterator[dict[str, Any]]:
    """Every item open on the day with its bucket, ordered by customer code, reference date
    and document; streamed from the database (a server-side cursor on PostgreSQL), never
    loaded whole."""
    items, params = _items_sql(company, scope)
    case, case_params = _bucket_case(scope)
    t = _tables()
    ref = "items.due_date" if scope.by == AgeBy.DUE else "items.issue_date"
    sql = f"""{items}
    SELECT items.kind, cu.code, cu.name, d.number, items.seq, items.issue_date,
           items.due_date, items.currency, items.open, items.base_open, {case} AS bucket
    FROM items
    JOIN {t['cust']} cu ON cu.id = items.customer_id
    JOIN {t['inv']} d ON d.id = items.invoice_id
    WHERE items.open <> 0
    ORDER BY cu.code, {ref}, d.number, items.seq"""
    with connection.chunked_cursor() as cur:
        cur.execute(sql, [*params, *case_params])
        while True:
            rows = cur.fetchmany(chunk)
            if not rows:
                return
            for kind, code, name, number, seq, issued, due, currency, op, bop, bucket in rows:
                yield {"type": kind, "customer": code, "name": name, "document": number,
                       "seq": int(seq) or None, "issue_date": _day(issued),
                       "due_date": _day(due), "currency": currency, "open": int(op),
                       "base_open": int(bop), "bucket": int(bucket)}


def _day(value: Any) -> date:
    """A date column as read through raw SQL (SQLite gives the ISO text)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def customer_names(company: Company, ids: Sequence[int]) -> dict[int, tuple[str, str, str]]:
    """(code, name, country) of the customers named."""
    rows = Customer.objects.filter(company=company, pk__in=list(ids)).values_list(
        "pk", "code", "name", "country")
    return {pk: (code, name, country) for pk, code, name, country in rows}
