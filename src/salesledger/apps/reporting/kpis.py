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
from salesledger.domain.aging import parse_buckets
from salesledger.domain.kpis import MonthInputs

from .aging import AgingScope, aging_cells

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
    """(receivable, not yet due, over 90 days past due) in base currency on ``day``."""
    scope = AgingScope(as_of=day, buckets=parse_buckets("current,90"))
    parts = [0, 0, 0]
    for c in aging_cells(company, scope):
        parts[c.bucket] += c.base_open
    return sum(parts), parts[0], parts[2]


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
    ends = {m: receivable_at(company, month_end(m)) for m in months}
    start_ar = receivable_at(company, first - timedelta(days=1))[0]
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
