"""The inputs of the monthly KPIs, read set-based (docs/design/kpis.md).

Per month: the receivable, its part not yet due and its part over 90 days late at the month's
end (the aging of that day, one grouped query per month end, exact for any past day); the
credit sales (one query grouped by month); the receipts applied in each month with their
amount-weighted days from issue and past due (one query grouped by month); the bad debts (one
query grouped by month). The formulas are in ``domain/kpis.py``.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date, timedelta

from django.db import connection

from salesledger.apps.core.models import Company
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.apps.payments.models import Adjustment, Allocation
from salesledger.domain.adjustments import AdjustmentKind
from salesledger.domain.aging import bucket_of_reference, bucket_starts, parse_buckets
from salesledger.domain.kpis import MonthInputs

from .aging import AgingScope, _day, aging_cells

# Months of sales read before the first month reported, for the countback DSO.
COUNTBACK_MONTHS = 24


def month_start(d: date) -> date:
    return d.replace(day=1)


def month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def add_months(d: date, n: int) -> date:
    """The first day of the month ``n`` months after ``d``'s."""
    k = d.year * 12 + d.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


def months_ending(as_of: date, months: int) -> list[date]:
    """The first days of the ``months`` whole months ending on or before ``as_of``, oldest
    first (the month of ``as_of`` counts when ``as_of`` is its last day)."""
    last = month_start(as_of) if as_of == month_end(as_of) else add_months(as_of, -1)
    return [add_months(last, -k) for k in range(months - 1, -1, -1)]


def days_between(later: str, earlier: str) -> str:
    """SQL for the whole days from the date column ``earlier`` to ``later``."""
    if connection.vendor == "postgresql":
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def month_key(column: str) -> str:
    """SQL for ``YYYY-MM`` of a date column."""
    if connection.vendor == "postgresql":
        return f"to_char({column}, 'YYYY-MM')"
    return f"strftime('%%Y-%%m', {column})"


def _key(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def _positive(sql: str) -> str:
    return f"GREATEST({sql}, 0)" if connection.vendor == "postgresql" else f"MAX({sql}, 0)"


def receivable_at(company: Company, day: date) -> tuple[int, int, int]:
    """(receivable, not yet due, over 90 days past due) in base currency on ``day``: one
    aging of that day. The KPIs read every month end at once (``month_end_receivables``);
    this is the reference they are tested and benchmarked against."""
    scope = AgingScope(as_of=day, buckets=parse_buckets("current,90"))
    parts = [0, 0, 0]
    for c in aging_cells(company, scope):
        parts[c.bucket] += c.base_open
    return sum(parts), parts[0], parts[2]


def month_end_receivables(company: Company, ends: list[date]
                           ) -> dict[date, tuple[int, int, int]]:
    """``receivable_at`` of every day of ``ends`` (consecutive month ends, oldest first), in
    one statement whatever their number: what is open now, and what each allocation dated
    after the first day took, grouped by month of the allocation, month of issue and
    reference date (the due date; a credit note's issue date), then rolled back month by
    month here.

    On a month end E an item issued by then holds what it holds now plus what the allocations
    dated after E took (the aging's own identity, ``aging.py``); so each group counts at every
    month end from its month of issue up to the one before its allocation's month, in the
    bucket its reference date falls in on that day. The rows are as many as the groups, not
    the items."""
    t, base = {"inst": Instalment._meta.db_table, "inv": Invoice._meta.db_table,
               "alloc": Allocation._meta.db_table}, company.base_currency
    first, last = ends[0], ends[-1]
    cn = DocKind.CREDIT_NOTE.value
    sql = f"""
    SELECT NULL, {month_key('inv.issue_date')}, i.due_date,
           SUM(CASE WHEN i.currency = %s THEN i.amount - i.settled
                    WHEN i.settled = 0 THEN i.base_amount
                    ELSE i.base_amount - COALESCE((SELECT SUM(a.base_receivable)
                         FROM {t['alloc']} a WHERE a.instalment_id = i.id), 0) END)
    FROM {t['inst']} i JOIN {t['inv']} inv ON inv.id = i.invoice_id
    WHERE i.company_id = %s AND i.settled < i.amount AND inv.issue_date <= %s
    GROUP BY 2, 3
    UNION ALL
    SELECT {month_key('a.date')}, {month_key('inv.issue_date')}, i.due_date,
           SUM(CASE WHEN i.currency = %s THEN a.amount ELSE a.base_receivable END)
    FROM {t['alloc']} a JOIN {t['inst']} i ON i.id = a.instalment_id
         JOIN {t['inv']} inv ON inv.id = i.invoice_id
    WHERE a.company_id = %s AND a.date > %s AND inv.issue_date <= %s
    GROUP BY 1, 2, 3
    UNION ALL
    SELECT NULL, {month_key('c.issue_date')}, c.issue_date,
           -SUM(CASE WHEN c.currency = %s THEN c.total - c.allocated
                     ELSE c.base_total - COALESCE((SELECT SUM(a.base_unapplied)
                          FROM {t['alloc']} a WHERE a.credit_note_id = c.id), 0) END)
    FROM {t['inv']} c
    WHERE c.company_id = %s AND c.kind = '{cn}' AND c.status = 'posted'
          AND c.issue_date <= %s AND c.allocated < c.total
    GROUP BY 2, 3
    UNION ALL
    SELECT {month_key('a.date')}, {month_key('c.issue_date')}, c.issue_date,
           -SUM(CASE WHEN c.currency = %s THEN a.amount ELSE a.base_unapplied END)
    FROM {t['alloc']} a JOIN {t['inv']} c ON c.id = a.credit_note_id
    WHERE a.company_id = %s AND a.date > %s AND c.kind = '{cn}' AND c.status = 'posted'
          AND c.issue_date <= %s
    GROUP BY 1, 2, 3"""
    params = [base, company.pk, last, base, company.pk, first, last,
              base, company.pk, last, base, company.pk, first, last]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    keys = [_key(e) for e in ends]
    position = {k: n for n, k in enumerate(keys)}
    starts = [bucket_starts(e, parse_buckets("current,90")) for e in ends]
    parts = [[0, 0, 0] for _ in ends]
    for later, issued, ref, amount in rows:
        # the month ends it counts at: from its month of issue to the one before the
        # allocation's month (what is open now counts up to the last)
        since = 0 if issued <= keys[0] else position[issued]
        until = len(ends) if later is None or later > keys[-1] else position[later]
        day = _day(ref)
        for k in range(since, until):
            parts[k][bucket_of_reference(day, starts[k])] += int(amount)
    return {e: (sum(p), p[0], p[2]) for e, p in zip(ends, parts, strict=True)}


def monthly_sales(company: Company, start: date, end: date) -> dict[str, int]:
    """Invoices issued from ``start`` to ``end``, base total per ``YYYY-MM``."""
    sql = f"""SELECT {month_key('issue_date')}, SUM(base_total) FROM {Invoice._meta.db_table}
              WHERE company_id = %s AND kind = %s AND status = 'posted'
                    AND issue_date >= %s AND issue_date <= %s
              GROUP BY 1"""
    with connection.cursor() as cur:
        cur.execute(sql, [company.pk, DocKind.INVOICE.value, start, end])
        return {k: int(v) for k, v in cur.fetchall()}


def monthly_payments(company: Company, start: date, end: date) -> dict[str, tuple[int, int, int]]:
    """Receipts applied to invoices from ``start`` to ``end``, per ``YYYY-MM`` of the
    allocation: (base applied, Σ base × days from issue, Σ base × days past due). An
    allocation later reversed, and its reversal, are left out: that money did not pay."""
    a, i, inv = Allocation._meta.db_table, Instalment._meta.db_table, Invoice._meta.db_table
    sql = f"""SELECT {month_key('a.date')}, SUM(a.base_receivable),
                     SUM(a.base_receivable * {days_between('a.date', 'v.issue_date')}),
                     SUM(a.base_receivable * {_positive(days_between('a.date', 'i.due_date'))})
              FROM {a} a JOIN {i} i ON i.id = a.instalment_id
                   JOIN {inv} v ON v.id = i.invoice_id
              WHERE a.company_id = %s AND a.date >= %s AND a.date <= %s
                    AND a.receipt_id IS NOT NULL AND a.reversal_of_id IS NULL
                    AND NOT EXISTS (SELECT 1 FROM {a} r WHERE r.reversal_of_id = a.id)
              GROUP BY 1"""
    with connection.cursor() as cur:
        cur.execute(sql, [company.pk, start, end])
        return {k: (int(p), int(d), int(late)) for k, p, d, late in cur.fetchall()}


def monthly_bad_debts(company: Company, start: date, end: date) -> dict[str, int]:
    """Bad debts written off from ``start`` to ``end`` (reversals negative), per month."""
    out: dict[str, int] = defaultdict(int)
    rows = Adjustment.objects.filter(
        company=company, kind=AdjustmentKind.BAD_DEBT.value, date__gte=start,
        date__lte=end).values_list("date", "base_amount")
    for d, amount in rows.iterator():
        out[_key(d)] += amount
    return dict(out)


def kpi_inputs(company: Company, months: list[date]
               ) -> list[tuple[date, MonthInputs, list[tuple[int, int]]]]:
    """Each month's inputs and its countback history (``(sales, days)``, newest first)."""
    first, last = months[0], month_end(months[-1])
    history_start = add_months(first, -COUNTBACK_MONTHS)
    sales = monthly_sales(company, history_start, last)
    paid = monthly_payments(company, first, last)
    bad = monthly_bad_debts(company, first, last)
    month_ends = [first - timedelta(days=1), *(month_end(m) for m in months)]
    at = month_end_receivables(company, month_ends)
    ends = {m: at[month_end(m)] for m in months}
    start_ar = at[month_ends[0]][0]
    out: list[tuple[date, MonthInputs, list[tuple[int, int]]]] = []
    for m in months:
        ar, current, over = ends[m]
        p = paid.get(_key(m), (0, 0, 0))
        days = month_end(m).day
        history = []
        k = m
        while k >= history_start:
            history.append((sales.get(_key(k), 0), month_end(k).day))
            k = add_months(k, -1)
        out.append((m, MonthInputs(
            days=days, sales=sales.get(_key(m), 0), receivable_start=start_ar,
            receivable_end=ar, current_end=current, over_90_end=over, paid=p[0],
            paid_days=p[1], late_days=p[2], bad_debt=bad.get(_key(m), 0)), history))
        start_ar = ar
    return out


def month_label(m: date) -> str:
    return _key(m)
