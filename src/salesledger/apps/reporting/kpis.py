"""The inputs of the monthly KPIs, read set-based (docs/design/kpis.md).

Per month: the receivable, its part not yet due and its part over 90 days late at the month's
end (the aging of that day, one grouped query per month end, exact for any past day); the
credit sales (one query grouped by month); the receipts applied in each month with their
amount-weighted days from issue and past due (one query grouped by month); the bad debts (one
query grouped by month). The formulas are in ``domain/kpis.py``.

Every amount is in the company's currency at the booking rates; with ``currency`` (a
document currency), every query keeps the documents in that currency alone and sums their
amounts as invoiced, in it (docs/design/kpis.md#in-a-document-currency).
"""

from __future__ import annotations

import calendar
import json
from collections import defaultdict
from collections.abc import Collection, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection

from salesledger.apps.core.models import Company
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.apps.payments.models import Adjustment, Allocation
from salesledger.domain.adjustments import AdjustmentKind
from salesledger.domain.aging import bucket_of_reference, bucket_starts, parse_buckets
from salesledger.domain.kpis import MonthInputs, dso_simple

from .aging import AgingScope, _day, aging_cells

# A set of at most this many customers has its open items sought by customer; a larger one
# is kept from the company's, read in the order of due dates (``month_end_receivables_by``).
SEEK_AT_MOST = 5000

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
    """SQL for ``YYYY-MM`` of a date column. SQLite keeps a date as its ISO text, whose first
    seven characters are that: ``substr`` reads them where ``strftime`` parses the date
    first (a tenth of a CPU second per 640,000 invoices on the 2-core machine)."""
    if connection.vendor == "postgresql":
        return f"to_char({column}, 'YYYY-MM')"
    return f"substr({column}, 1, 7)"


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


def month_end_receivables(company: Company, ends: list[date], currency: str = ""
                           ) -> dict[date, tuple[int, int, int]]:
    """``receivable_at`` of every day of ``ends``, in one statement: see
    ``month_end_receivables_by``."""
    return month_end_receivables_by(company, ends, None, currency).get("", {
        e: (0, 0, 0) for e in ends})


def _only(column: str, currency: str) -> tuple[str, list[str]]:
    """The condition that keeps the rows of one document currency, and its parameter; none
    without ``currency``."""
    return (f" AND {column} = %s", [currency]) if currency else ("", [])


def among(column: str, customers: Collection[int] | None) -> tuple[str, list[Any]]:
    """The condition that keeps the rows of the customers ``customers`` (ids) by ``column``,
    and its parameter; none without ``customers``. The ids go as one parameter (an array on
    PostgreSQL, a JSON list that SQLite's ``json_each`` reads), whatever their number."""
    if customers is None:
        return "", []
    ids = sorted(int(c) for c in customers)
    if connection.vendor == "postgresql":
        return f" AND {column} = ANY(%s)", [ids]
    return f" AND {column} IN (SELECT value FROM json_each(%s))", [json.dumps(ids)]


def month_end_receivables_by(company: Company, ends: list[date],
                             segment_of: Mapping[int, str] | None, currency: str = "",
                             customers: Collection[int] | None = None
                             ) -> dict[str, dict[date, tuple[int, int, int]]]:
    """``receivable_at`` of every day of ``ends`` (consecutive month ends, oldest first), in
    one statement whatever their number: what is open now, grouped by due date and issue
    date (read in that order from ``instalment_open_due``, with no sort), and what each
    allocation dated after the first day took, grouped by month of the allocation, month of
    issue and reference date (the due date; a credit note's issue date), then rolled back
    month by month here.

    On a month end E an item issued by then holds what it holds now plus what the allocations
    dated after E took (the aging's own identity, ``aging.py``); so each group counts at every
    month end from its month of issue up to the one before its allocation's month, in the
    bucket its reference date falls in on that day. The rows are as many as the groups, not
    the items. With ``segment_of`` (customer id to segment) the groups are also by customer,
    and each segment gets its own month ends (every segment named, even one with nothing
    open); without it, everything is the segment ``""``. With ``currency``, the items in
    that currency alone, in it: each ``CASE`` below then always takes its first branch.
    With ``customers`` (ids), the items of those customers alone."""
    t = {"inst": Instalment._meta.db_table, "inv": Invoice._meta.db_table,
         "alloc": Allocation._meta.db_table}
    base = currency or company.base_currency
    (only_i, one), (only_c, _) = _only("i.currency", currency), _only("c.currency", currency)
    (of_i, chosen), (of_c, _) = among("i.customer_id", customers), among("c.customer_id", customers)
    only_i, only_c, one = only_i + of_i, only_c + of_c, one + chosen
    first, last = ends[0], ends[-1]
    cn = DocKind.CREDIT_NOTE.value
    who = ("i.customer_id", "c.customer_id") if segment_of is not None else ("0", "0")
    # what is open now, by due date and issue date (the month is taken here): the order of
    # the index ``instalment_open_due``, so that SQLite reads it grouped, with no sort. A few
    # customers' items are sought by customer instead (``instalment_open``), grouped by
    # customer too so that the planner is not drawn to the company's whole index.
    seek = customers is not None and len(customers) <= SEEK_AT_MOST
    by_customer = ", i.customer_id" if segment_of is not None or seek else ""
    sql = f"""
    SELECT NULL, CAST(i.issue_date AS TEXT), i.due_date, {who[0]},
           SUM(CASE WHEN i.currency = %s THEN i.amount - i.settled
                    WHEN i.settled = 0 THEN i.base_amount
                    ELSE i.base_amount - COALESCE((SELECT SUM(a.base_receivable)
                         FROM {t['alloc']} a WHERE a.instalment_id = i.id), 0) END)
    FROM {t['inst']} i
    WHERE i.company_id = %s AND i.settled < i.amount AND i.issue_date <= %s{only_i}
    GROUP BY i.due_date, i.issue_date{by_customer}
    UNION ALL
    SELECT {month_key('a.date')}, {month_key('i.issue_date')}, i.due_date, {who[0]},
           SUM(CASE WHEN i.currency = %s THEN a.amount ELSE a.base_receivable END)
    FROM {t['alloc']} a JOIN {t['inst']} i ON i.id = a.instalment_id
    WHERE a.company_id = %s AND a.date > %s AND i.issue_date <= %s{only_i}
    GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT NULL, {month_key('c.issue_date')}, c.issue_date, {who[1]},
           -SUM(CASE WHEN c.currency = %s THEN c.total - c.allocated
                     ELSE c.base_total - COALESCE((SELECT SUM(a.base_unapplied)
                          FROM {t['alloc']} a WHERE a.credit_note_id = c.id), 0) END)
    FROM {t['inv']} c
    WHERE c.company_id = %s AND c.kind = '{cn}' AND c.status = 'posted'
          AND c.issue_date <= %s AND c.allocated < c.total{only_c}
    GROUP BY 2, 3, 4
    UNION ALL
    SELECT {month_key('a.date')}, {month_key('c.issue_date')}, c.issue_date, {who[1]},
           -SUM(CASE WHEN c.currency = %s THEN a.amount ELSE a.base_unapplied END)
    FROM {t['alloc']} a JOIN {t['inv']} c ON c.id = a.credit_note_id
    WHERE a.company_id = %s AND a.date > %s AND c.kind = '{cn}' AND c.status = 'posted'
          AND c.issue_date <= %s{only_c}
    GROUP BY 1, 2, 3, 4"""
    params = [base, company.pk, last, *one, base, company.pk, first, last, *one,
              base, company.pk, last, *one, base, company.pk, first, last, *one]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    keys = [_key(e) for e in ends]
    position = {k: n for n, k in enumerate(keys)}
    starts = [bucket_starts(e, parse_buckets("current,90")) for e in ends]
    names = set(segment_of.values()) if segment_of is not None else {""}
    parts = {name: [[0, 0, 0] for _ in ends] for name in names}
    for later, issued, ref, customer, amount in rows:
        issued = issued[:7]  # the open part's issue date (as text): its month
        # the month ends it counts at: from its month of issue to the one before the
        # allocation's month (what is open now counts up to the last)
        since = 0 if issued <= keys[0] else position[issued]
        until = len(ends) if later is None or later > keys[-1] else position[later]
        day = _day(ref)
        mine = parts[segment_of[int(customer)] if segment_of is not None else ""]
        for k in range(since, until):
            mine[k][bucket_of_reference(day, starts[k])] += int(amount)
    return {name: {e: (sum(p), p[0], p[2]) for e, p in zip(ends, seg, strict=True)}
            for name, seg in parts.items()}


def _who(segment_of: Mapping[int, str] | None, column: str) -> str:
    """The column a query groups its rows by customer with, when they go to segments."""
    return column if segment_of is not None else "0"


def _segment(segment_of: Mapping[int, str] | None, customer: Any) -> str:
    return segment_of[int(customer)] if segment_of is not None else ""


def monthly_sales(company: Company, start: date, end: date,
                  segment_of: Mapping[int, str] | None = None, currency: str = "",
                  customers: Collection[int] | None = None) -> dict[str, dict[str, int]]:
    """Invoices issued from ``start`` to ``end``, base total per segment (``""`` without
    ``segment_of``) and ``YYYY-MM``; with ``currency``, the total of those in it; with
    ``customers`` (ids), of those customers."""
    only, one = _only("currency", currency)
    of, chosen = among("customer_id", customers)
    only, one = only + of, one + chosen
    sql = f"""SELECT {month_key('issue_date')}, {_who(segment_of, 'customer_id')},
                     SUM({'total' if currency else 'base_total'}) FROM {Invoice._meta.db_table}
              WHERE company_id = %s AND kind = %s AND status = 'posted'
                    AND issue_date >= %s AND issue_date <= %s{only}
              GROUP BY 1, 2"""
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with connection.cursor() as cur:
        cur.execute(sql, [company.pk, DocKind.INVOICE.value, start, end, *one])
        for k, who, v in cur.fetchall():
            out[_segment(segment_of, who)][k] += int(v)
    return out


def monthly_payments(company: Company, start: date, end: date,
                     segment_of: Mapping[int, str] | None = None, currency: str = "",
                     customers: Collection[int] | None = None
                     ) -> dict[str, dict[str, tuple[int, int, int]]]:
    """Receipts applied to invoices from ``start`` to ``end``, per ``YYYY-MM`` of the
    allocation: (base applied, Σ base × days from issue, Σ base × days past due). An
    allocation later reversed, and its reversal, are left out: that money did not pay. With
    ``currency``, those to instalments in it, by the amount they took off (in it); with
    ``customers`` (ids), the allocations of those customers."""
    a, i = Allocation._meta.db_table, Instalment._meta.db_table
    paid = "a.amount" if currency else "a.base_receivable"
    only, one = _only("i.currency", currency)
    of, chosen = among("a.customer_id", customers)
    only, one = only + of, one + chosen
    sql = f"""SELECT {month_key('a.date')}, {_who(segment_of, 'a.customer_id')},
                     SUM({paid}),
                     SUM({paid} * {days_between('a.date', 'i.issue_date')}),
                     SUM({paid} * {_positive(days_between('a.date', 'i.due_date'))})
              FROM {a} a JOIN {i} i ON i.id = a.instalment_id
              WHERE a.company_id = %s AND a.date >= %s AND a.date <= %s
                    AND a.receipt_id IS NOT NULL AND a.reversal_of_id IS NULL
                    AND NOT EXISTS (SELECT 1 FROM {a} r WHERE r.reversal_of_id = a.id){only}
              GROUP BY 1, 2"""
    out: dict[str, dict[str, tuple[int, int, int]]] = defaultdict(dict)
    with connection.cursor() as cur:
        cur.execute(sql, [company.pk, start, end, *one])
        for k, who, p, d, late in cur.fetchall():
            months = out[_segment(segment_of, who)]
            was = months.get(k, (0, 0, 0))
            months[k] = (was[0] + int(p), was[1] + int(d), was[2] + int(late))
    return out


def monthly_bad_debts(company: Company, start: date, end: date,
                      segment_of: Mapping[int, str] | None = None, currency: str = "",
                      customers: Collection[int] | None = None) -> dict[str, dict[str, int]]:
    """Bad debts written off from ``start`` to ``end`` (reversals negative), per segment and
    month; with ``currency``, those in it, by their amount; with ``customers`` (ids), those
    of those customers (few rows: kept here)."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = Adjustment.objects.filter(
        company=company, kind=AdjustmentKind.BAD_DEBT.value, date__gte=start,
        date__lte=end, **({"currency": currency} if currency else {})).values_list(
        "date", "amount" if currency else "base_amount", "customer_id")
    for d, amount, who in rows.iterator():
        if customers is None or who in customers:
            out[_segment(segment_of, who)][_key(d)] += amount
    return out


def last_month_dso(company: Company, as_of: date, receivable_on_day: int) -> Decimal | None:
    """The simple DSO of the last whole month ending on or before ``as_of`` (``kpi_report``
    of one month, its ``dso``), from what it needs alone: the receivable at the month's end
    and the month's credit sales (one query over the month's invoices). When ``as_of`` is
    that month's last day the receivable is ``receivable_on_day`` (the aging of ``as_of``,
    which the caller has read: the summary's totals, or the open items); else it is the
    month end's (``month_end_receivables``, one statement). The KPIs of a month also read
    two years of sales for the countback DSO, the receipts, the bad debts and the month end
    before: none of them is the DSO's."""
    [m] = months_ending(as_of, 1)
    end = month_end(m)
    receivable = (receivable_on_day if end == as_of
                  else month_end_receivables(company, [end])[end][0])
    sales = monthly_sales(company, m, end).get("", {}).get(_key(m), 0)
    return dso_simple(receivable, sales, end.day)


KpiInputs = list[tuple[date, MonthInputs, list[tuple[int, int]]]]


def kpi_inputs(company: Company, months: list[date], currency: str = "") -> KpiInputs:
    """Each month's inputs and its countback history (``(sales, days)``, newest first)."""
    return kpi_inputs_by(company, months, None, currency)[""]


Parts = tuple[dict[str, int], dict[str, tuple[int, int, int]], dict[str, int],
              dict[date, tuple[int, int, int]]]


def kpi_parts(company: Company, months: list[date], currency: str = "",
              customers: Collection[int] | None = None) -> Parts:
    """What ``kpi_inputs`` of ``months`` is made of, read from the books: the sales per
    ``YYYY-MM`` (from the countback's first month), the receipts and the bad debts per month,
    and the receivable (total, not yet due, over 90 days) at each month end from the one
    before the first (``kpi_keep.py`` keeps those of ended months). With ``customers`` (ids),
    of those customers alone (each query keeps their rows)."""
    first, last = months[0], month_end(months[-1])
    history_start = add_months(first, -COUNTBACK_MONTHS)
    month_ends = [first - timedelta(days=1), *(month_end(m) for m in months)]
    at = month_end_receivables_by(company, month_ends, None, currency, customers).get("", {})
    return (dict(monthly_sales(company, history_start, last, None, currency,
                               customers).get("", {})),
            dict(monthly_payments(company, first, last, None, currency, customers).get("", {})),
            dict(monthly_bad_debts(company, first, last, None, currency,
                                   customers).get("", {})),
            {e: at.get(e, (0, 0, 0)) for e in month_ends})


def parts_less(whole: Parts, part: Parts) -> Parts:
    """``whole`` less ``part``, input by input: every input of the KPIs is a sum over the
    customers, so the figures of the company less those of some customers are those of the
    others (``kpi_keep.kpi_inputs_among``)."""
    def less(a: Mapping[Any, Any], b: Mapping[Any, Any]) -> dict[Any, Any]:
        out = {}
        for k in a.keys() | b.keys():
            x, y = a.get(k), b.get(k)
            if isinstance(x if x is not None else y, tuple):
                zero = (0,) * len(x if x is not None else y)
                out[k] = tuple(p - q for p, q in zip(x or zero, y or zero, strict=True))
            else:
                out[k] = (x or 0) - (y or 0)
        return out

    return (less(whole[0], part[0]), less(whole[1], part[1]), less(whole[2], part[2]),
            less(whole[3], part[3]))


def kpi_inputs_by(company: Company, months: list[date],
                  segment_of: Mapping[int, str] | None, currency: str = "",
                  customers: Collection[int] | None = None) -> dict[str, KpiInputs]:
    """``kpi_inputs`` of each segment of ``segment_of`` (customer id to segment; every
    customer of the company must be in it), from the same queries grouped by customer as
    well: without it, the company's alone, as the segment ``""``. With ``currency``, of the
    documents in that currency, in it. With ``customers`` (ids), of those customers alone:
    each query keeps their rows (``among``), rather than grouping every row by customer."""
    first, last = months[0], month_end(months[-1])
    history_start = add_months(first, -COUNTBACK_MONTHS)
    sales = monthly_sales(company, history_start, last, segment_of, currency, customers)
    paid = monthly_payments(company, first, last, segment_of, currency, customers)
    bad = monthly_bad_debts(company, first, last, segment_of, currency, customers)
    month_ends = [first - timedelta(days=1), *(month_end(m) for m in months)]
    at = month_end_receivables_by(company, month_ends, segment_of, currency, customers)
    names = sorted(set(segment_of.values())) if segment_of is not None else [""]
    return {name: _inputs(months, history_start, sales.get(name, {}), paid.get(name, {}),
                          bad.get(name, {}), at.get(name) or {e: (0, 0, 0) for e in month_ends},
                          month_ends[0])
            for name in names}


def _inputs(months: list[date], history_start: date, sales: Mapping[str, int],
            paid: Mapping[str, tuple[int, int, int]], bad: Mapping[str, int],
            at: Mapping[date, tuple[int, int, int]], before: date) -> KpiInputs:
    ends = {m: at[month_end(m)] for m in months}
    start_ar = at[before][0]
    out: KpiInputs = []
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
