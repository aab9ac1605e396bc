"""Which segment each customer is in, for the aging and the KPIs by segment
(docs/design/reporting.md, "Segments").

- ``group``: the customer group, the code of the customer's parent (``Customer.parent``), or
  its own code when it has none (a group's head and a customer on its own are their own
  group);
- ``size``: the size band, an ABC analysis of the customers' credit sales over the twelve
  months up to the day (``domain/segments.py``).

A customer merged into another is in its survivor's segment, as its items are reported under
the survivor (docs/design/customer-records.md). Each is read in one or two queries, whatever
the number of customers.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db import connection

from salesledger.apps.core.models import Company
from salesledger.apps.customers.models import Customer
from salesledger.apps.invoicing.models import DocKind, Invoice
from salesledger.domain.errors import ValidationFailed
from salesledger.domain.segments import size_bands

SEGMENTS = ("group", "size")


def check_segment(by: str) -> str:
    if by not in SEGMENTS:
        raise ValidationFailed(f"--segment {by!r}: write 'group' or 'size'", segment=by)
    return by


def customer_segments(company: Company, by: str, *, as_of: date) -> dict[int, str]:
    """Every customer of the company (by id, aliases included) with its segment."""
    check_segment(by)
    rows = Customer.objects.filter(company=company).values_list(
        "pk", "code", "parent__code", "merged_into_id")
    survivor = {pk: (head or pk) for pk, _, _, head in rows}
    if by == "group":
        own = {pk: parent or code for pk, code, parent, _ in rows}
        return {pk: own[survivor[pk]] for pk in survivor}
    codes = {pk: code for pk, code, _, _ in rows}
    sales: dict[int, int] = defaultdict(int)
    for pk in survivor.values():
        sales[pk] += 0
    sql = f"""SELECT customer_id, SUM(base_total) FROM {Invoice._meta.db_table}
              WHERE company_id = %s AND kind = %s AND status = 'posted'
                    AND issue_date > %s AND issue_date <= %s
              GROUP BY customer_id"""
    with connection.cursor() as cur:
        cur.execute(sql, [company.pk, DocKind.INVOICE.value, _year_before(as_of), as_of])
        for pk, total in cur.fetchall():
            sales[survivor[int(pk)]] += int(total)
    bands = size_bands(dict(sales), codes)
    return {pk: bands[survivor[pk]] for pk in survivor}


def _year_before(d: date) -> date:
    """The same day a year earlier (28 February for 29 February)."""
    try:
        return d.replace(year=d.year - 1)
    except ValueError:
        return d.replace(year=d.year - 1, day=28)
