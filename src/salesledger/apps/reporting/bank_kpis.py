"""The auto-match rate of bank lines, month by month (docs/design/kpis.md, "The auto-match
rate"): of the money received on the company's bank statements, how much the matcher applied
by itself, without a clerk's review.

The lines are the statement lines of money in (a positive amount) booked in the month; a line
is **matched automatically** when the matcher applied it as a receipt on its own (its
``LineMatch`` is ``applied`` and ``decided_by`` ``auto``). A line a clerk confirmed, one still
waiting or set aside, and a line a bank rule posted elsewhere are not. The match is what it
is now, not what it was at the month's end: a line confirmed later is counted as confirmed.
One grouped query over the months, whatever the number of lines.
"""

from __future__ import annotations

from datetime import date

from django.db import connection

from salesledger.apps.banking.models import LineMatch, StatementLine
from salesledger.apps.core.models import Company
from salesledger.domain.trends import Rate

from .kpis import month_end, month_key


def auto_match_rates(company: Company, months: list[date]) -> dict[str, tuple[Rate, Rate]]:
    """Per ``YYYY-MM`` of ``months`` (first days, oldest first): the lines matched
    automatically by count and by amount (in the lines' currencies' minor units summed: the
    bank accounts of a company are in its currency)."""
    if not months:
        return {}
    sl, lm = StatementLine._meta.db_table, LineMatch._meta.db_table
    sql = f"""
        SELECT {month_key('l.booking_date')} AS m, COUNT(*), SUM(l.amount),
               SUM(CASE WHEN x.status = 'applied' AND x.decided_by = 'auto' THEN 1 ELSE 0 END),
               SUM(CASE WHEN x.status = 'applied' AND x.decided_by = 'auto'
                        THEN l.amount ELSE 0 END)
        FROM {sl} l LEFT JOIN {lm} x ON x.line_id = l.id
        WHERE l.company_id = %s AND l.amount > 0
              AND l.booking_date >= %s AND l.booking_date <= %s
        GROUP BY m"""
    with connection.cursor() as cur:
        cur.execute(sql, [company.pk, months[0], month_end(months[-1])])
        found = {m: (int(n), int(total), int(auto), int(auto_amount))
                 for m, n, total, auto, auto_amount in cur.fetchall()}
    out = {}
    for first in months:
        key = f"{first:%Y-%m}"
        n, total, auto, auto_amount = found.get(key, (0, 0, 0, 0))
        out[key] = (Rate(auto, n), Rate(auto_amount, total))
    return out
