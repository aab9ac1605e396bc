"""Late-payment and default-rate trends by invoice-month cohort, read in one grouped query
(docs/design/kpis.md#trends).

The items are the instalments of the invoices issued in each month. On the report's day T,
counting only what is dated up to T:

- **paid late**: paid (by receipts or credit notes) after its due date, by count (items with
  any such payment) and by amount (what was so paid);
- **unpaid past 90 days**: still open 90 days after its due date, among the items whose due
  date is at least 90 days before T (the *mature* ones: the others cannot be yet);
- **written off**: settled by a bad debt, by count and amount (net of reversals).

Amounts are in the company's currency at the booking rates; with ``currency`` (a document
currency), of the invoices in it alone, in it (docs/design/kpis.md#in-a-document-currency).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection

from salesledger.apps.core.models import Company
from salesledger.apps.customers.models import Customer
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.apps.payments.models import Adjustment, Allocation
from salesledger.domain.adjustments import AdjustmentKind
from salesledger.domain.trends import Rate

from .kpis import among, days_between, month_end, month_key


@dataclass(frozen=True)
class CohortRow:
    cohort: str  # YYYY-MM of the invoices' issue
    segment: str  # "" or the customers' country
    items: int
    amount: int  # base minor units (or of the document currency asked)
    late: Rate  # by count
    late_amount: Rate
    unpaid_90: Rate  # by count, among the mature items
    unpaid_90_amount: Rate
    written_off: Rate
    written_off_amount: Rate


def _when(d: date | str) -> str:
    """``YYYY-MM`` of a date as the database gives it (SQLite: its ISO text)."""
    return d[:7] if isinstance(d, str) else f"{d.year:04d}-{d.month:02d}"


def cohort_rows(company: Company, *, first: date, last: date, as_of: date,
                by_country: bool = False, by_customer: bool = False, currency: str = "",
                customers: Collection[int] | None = None) -> list[CohortRow]:
    """The cohorts of the invoices issued in the months from ``first`` to ``last``, on
    ``as_of``, in order (then by country, or by customer id as text: what the trends by
    customer group or size band fold into their segments); with ``currency``, of the
    invoices in it, the amounts in it; with ``customers`` (ids), of their invoices alone.

    Two statements, each grouped by the invoices' issue date (a month's cohort is the sum of
    its days'). The items: every instalment, counted, summed, and the mature ones apart,
    read from the invoices' covering index by date (``invoice_issued``) and their
    instalments; grouped by the issue date alone, the index's order, there is no sort. What
    paid them: the allocations dated up to ``as_of`` summed per instalment (paid late, paid
    within 90 days of the due date, by a bad debt), for the few instalments that have any.
    An instalment nothing paid is neither late nor written off, and unpaid past 90 days when
    mature: so the unpaid are the mature items less those paid within 90 days, as the
    reference's join of every item to its payments gives (``cohort_rows_reference``)."""
    a, i, v = Allocation._meta.db_table, Instalment._meta.db_table, Invoice._meta.db_table
    adj, cu = Adjustment._meta.db_table, Customer._meta.db_table
    past_due = days_between("a.date", "i.due_date")
    paid, owed = ("a.amount", "i.amount") if currency else ("a.base_receivable", "i.base_amount")
    only, one = (" AND v.currency = %s", [currency]) if currency else ("", [])
    of, chosen_ids = among("i.customer_id", customers)
    segment = ("c.country" if by_country
               else "CAST(i.customer_id AS VARCHAR(20))" if by_customer else "''")
    country = f" JOIN {cu} c ON c.id = i.customer_id" if by_country else ""
    group = "1, 2" if by_country or by_customer else "1"
    # SQLite's planner would read the allocations of every instalment of the cohorts by the
    # instalment's index (a million probes, most finding none); read from the allocations
    # instead (CROSS JOIN keeps SQLite's join order; PostgreSQL chooses for itself)
    then = "CROSS JOIN" if connection.vendor == "sqlite" else "JOIN"
    end = month_end(last)
    mature_by = as_of - timedelta(days=90)  # due that many days before as_of or earlier
    invoices = (f"v.company_id = %s AND v.issue_date >= %s AND v.issue_date <= %s"
                f" AND v.kind = %s AND v.status = 'posted'{only}{of}")
    chosen = [company.pk, first, end, DocKind.INVOICE.value, *one, *chosen_ids]
    items_sql = f"""
    SELECT v.issue_date, {segment}, COUNT(*), SUM({owed}),
           SUM(CASE WHEN i.due_date <= %s THEN 1 ELSE 0 END),
           SUM(CASE WHEN i.due_date <= %s THEN {owed} ELSE 0 END)
    FROM {v} v JOIN {i} i ON i.invoice_id = v.id{country}
    WHERE {invoices}
    GROUP BY {group}"""
    paid_sql = f"""
    WITH per AS (
        SELECT a.instalment_id AS id,
               SUM(CASE WHEN a.adjustment_id IS NULL AND {past_due} > 0
                        THEN {paid} ELSE 0 END) AS late,
               SUM(CASE WHEN {past_due} <= 90 THEN a.amount ELSE 0 END) AS by90,
               SUM(CASE WHEN {past_due} <= 90 THEN {paid} ELSE 0 END) AS base_by90,
               SUM(CASE WHEN ad.kind = %s THEN {paid} ELSE 0 END) AS bad
        FROM {a} a {then} {i} i ON i.id = a.instalment_id
             {then} {v} v ON v.id = i.invoice_id
             LEFT JOIN {adj} ad ON ad.id = a.adjustment_id
        WHERE a.company_id = %s AND a.date <= %s AND {invoices}
        GROUP BY a.instalment_id
    )
    SELECT v.issue_date, {segment},
           SUM(CASE WHEN p.late > 0 THEN 1 ELSE 0 END),
           SUM(CASE WHEN p.late > 0 THEN p.late ELSE 0 END),
           SUM(CASE WHEN i.due_date <= %s AND i.amount <= p.by90 THEN 1 ELSE 0 END),
           SUM(CASE WHEN i.due_date > %s THEN 0 WHEN i.amount > p.by90 THEN p.base_by90
                    ELSE {owed} END),
           SUM(CASE WHEN p.bad > 0 THEN 1 ELSE 0 END),
           SUM(CASE WHEN p.bad > 0 THEN p.bad ELSE 0 END)
    FROM per p JOIN {i} i ON i.id = p.id JOIN {v} v ON v.id = i.invoice_id{country}
    GROUP BY {group}"""
    got: dict[tuple[str, str], list[int]] = {}
    with connection.cursor() as cur:
        cur.execute(items_sql, [mature_by, mature_by, *chosen])
        for day, seg, *figures in cur.fetchall():
            sums = got.setdefault((_when(day), seg or ""), [0] * 10)
            for k, x in enumerate(figures):
                sums[k] += int(x)
        cur.execute(paid_sql, [AdjustmentKind.BAD_DEBT.value, company.pk, as_of, *chosen,
                               mature_by, mature_by])
        for day, seg, *figures in cur.fetchall():
            sums = got[_when(day), seg or ""]
            for k, x in enumerate(figures):
                sums[4 + k] += int(x)
    out = []
    for (cohort, seg), figures in sorted(got.items()):
        n, base, n_mat, base_mat, n_late, late, n_by90, by90, n_bad, bad = figures
        out.append(CohortRow(
            cohort=cohort, segment=seg, items=n, amount=base,
            late=Rate(n_late, n), late_amount=Rate(late, base),
            unpaid_90=Rate(n_mat - n_by90, n_mat), unpaid_90_amount=Rate(base_mat - by90, base_mat),
            written_off=Rate(n_bad, n), written_off_amount=Rate(bad, base)))
    return out


def cohort_rows_reference(company: Company, *, first: date, last: date, as_of: date,
                          by_country: bool = False, by_customer: bool = False,
                          currency: str = "") -> list[CohortRow]:
    """``cohort_rows`` in one statement that joins every item to what paid it: the
    reference the faster reading is tested against (tests/db/test_aging_exact.py)."""
    a, i, v = Allocation._meta.db_table, Instalment._meta.db_table, Invoice._meta.db_table
    adj, cu = Adjustment._meta.db_table, Customer._meta.db_table
    past_due = days_between("a.date", "i.due_date")
    mature = f"{days_between('%s', 'i.due_date')} >= 90"
    if connection.vendor == "postgresql":
        mature = "(CAST(%s AS DATE) - i.due_date) >= 90"
    # in a document currency, the amounts as invoiced stand where the base amounts do
    paid, owed = ("a.amount", "i.amount") if currency else ("a.base_receivable", "i.base_amount")
    only, one = (" AND i.currency = %s", [currency]) if currency else ("", [])
    segment = ("c.country" if by_country
               else "CAST(c.id AS VARCHAR(20))" if by_customer else "''")
    sql = f"""
    WITH per AS (
        SELECT a.instalment_id AS id,
               SUM(CASE WHEN a.adjustment_id IS NULL AND {past_due} > 0
                        THEN {paid} ELSE 0 END) AS late,
               SUM(CASE WHEN {past_due} <= 90 THEN a.amount ELSE 0 END) AS by90,
               SUM(CASE WHEN {past_due} <= 90 THEN {paid} ELSE 0 END) AS base_by90,
               SUM(CASE WHEN ad.kind = %s THEN {paid} ELSE 0 END) AS bad
        FROM {a} a JOIN {i} i ON i.id = a.instalment_id
             JOIN {v} v ON v.id = i.invoice_id
             LEFT JOIN {adj} ad ON ad.id = a.adjustment_id
        WHERE a.company_id = %s AND a.date <= %s
              AND v.issue_date >= %s AND v.issue_date <= %s{only}
        GROUP BY a.instalment_id
    ), items AS (
        SELECT {month_key('v.issue_date')} AS cohort, {segment} AS segment,
               i.amount AS amount, {owed} AS base,
               COALESCE(p.late, 0) AS late, COALESCE(p.by90, 0) AS by90,
               COALESCE(p.base_by90, 0) AS base_by90, COALESCE(p.bad, 0) AS bad,
               CASE WHEN {mature} THEN 1 ELSE 0 END AS mature
        FROM {i} i JOIN {v} v ON v.id = i.invoice_id
             JOIN {cu} c ON c.id = i.customer_id
             LEFT JOIN per p ON p.id = i.id
        WHERE i.company_id = %s AND v.kind = %s AND v.status = 'posted'
              AND v.issue_date >= %s AND v.issue_date <= %s{only}
    )
    SELECT cohort, segment, COUNT(*), SUM(base),
           SUM(CASE WHEN late > 0 THEN 1 ELSE 0 END),
           SUM(CASE WHEN late > 0 THEN late ELSE 0 END),
           SUM(mature), SUM(CASE WHEN mature = 1 THEN base ELSE 0 END),
           SUM(CASE WHEN mature = 1 AND amount > by90 THEN 1 ELSE 0 END),
           SUM(CASE WHEN mature = 1 AND amount > by90 THEN base - base_by90 ELSE 0 END),
           SUM(CASE WHEN bad > 0 THEN 1 ELSE 0 END),
           SUM(CASE WHEN bad > 0 THEN bad ELSE 0 END)
    FROM items GROUP BY cohort, segment ORDER BY cohort, segment"""
    end = month_end(last)
    params = [AdjustmentKind.BAD_DEBT.value, company.pk, as_of, first, end, *one,
              as_of, company.pk, DocKind.INVOICE.value, first, end, *one]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    out = []
    for cohort, seg, n, base, n_late, late, n_mat, base_mat, n_90, a_90, n_bad, bad in rows:
        n, base = int(n), int(base)
        out.append(CohortRow(
            cohort=cohort, segment=seg or "", items=n, amount=base,
            late=Rate(int(n_late), n), late_amount=Rate(int(late), base),
            unpaid_90=Rate(int(n_90), int(n_mat)), unpaid_90_amount=Rate(int(a_90), int(base_mat)),
            written_off=Rate(int(n_bad), n), written_off_amount=Rate(int(bad), base)))
    return out


def fold_segments(rows: list[CohortRow], of: dict[int, str]) -> list[CohortRow]:
    """Rows by customer (``by_customer``) summed into the segments ``of`` each customer id,
    by cohort then segment: every count and amount is a sum, so each rate is the segment's."""
    out: dict[tuple[str, str], CohortRow] = {}
    for r in rows:
        key = (r.cohort, of[int(r.segment)])
        had = out.get(key)
        if had is None:
            out[key] = CohortRow(r.cohort, key[1], r.items, r.amount, r.late, r.late_amount,
                                 r.unpaid_90, r.unpaid_90_amount, r.written_off,
                                 r.written_off_amount)
            continue
        out[key] = CohortRow(r.cohort, key[1], had.items + r.items, had.amount + r.amount,
                             *[Rate(getattr(had, f).part + getattr(r, f).part,
                                    getattr(had, f).whole + getattr(r, f).whole)
                               for f in ("late", "late_amount", "unpaid_90",
                                         "unpaid_90_amount", "written_off",
                                         "written_off_amount")])
    return [out[k] for k in sorted(out)]
