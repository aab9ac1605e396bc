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


def _tables() -> dict[str, str]:
    return {"rc": Receipt._meta.db_table, "alloc": Allocation._meta.db_table,
            "refund": Refund._meta.db_table, "rev": ReceiptReversal._meta.db_table,
            "cust": Customer._meta.db_table}


def _back(t: dict[str, str]) -> str:
    """The ``WITH`` clause whose ``back`` is, per receipt, what allocations, refunds and a
    reversal dated after the day took from it; its parameters are (company id, day) three
    times."""
    return f"""WITH later AS (
        SELECT receipt_id, COALESCE(source_amount, amount) AS amt FROM {t['alloc']}
        WHERE company_id = %s AND date > %s AND receipt_id IS NOT NULL
        UNION ALL
        SELECT receipt_id, amount FROM {t['refund']} WHERE company_id = %s AND date > %s
        UNION ALL
        SELECT receipt_id, amount FROM {t['rev']} WHERE company_id = %s AND date > %s
    ), back AS (
        SELECT receipt_id, CAST(SUM(amt) AS BIGINT) AS amt FROM later GROUP BY receipt_id
    )"""


def _base_left(t: dict[str, str], r: str) -> str:
    """The base amount left on the day of receipt ``r`` (an alias with ``base_amount`` and
    ``id``): its base amount less the base each allocation and refund dated up to the day
    relieved, summed per receipt on the indexes of its allocations and refunds. Its
    parameters are the day twice. The one definition of the base-currency unapplied cash
    (the account 2100 on the day); read only for a receipt in another currency that something
    has used (in the company's currency the base amount left is the amount left)."""
    return f"""{r}.base_amount
        - COALESCE((SELECT SUM(CASE WHEN a.date <= %s THEN a.base_unapplied ELSE 0 END)
                    FROM {t['alloc']} a WHERE a.receipt_id = {r}.id), 0)
        - COALESCE((SELECT SUM(CASE WHEN f.date <= %s THEN f.base_amount ELSE 0 END)
                    FROM {t['refund']} f WHERE f.receipt_id = {r}.id), 0)"""


# What is left of a receipt on the day: what is left now, plus what was taken after it.
_LEFT = "r.amount - r.allocated + COALESCE(b.amt, 0)"


def _sources(t: dict[str, str], test: str, where: str) -> list[tuple[str, list[Any]]]:
    """The ``FROM … WHERE`` of the receipts that may have something left on the day, in two
    parts, with their parameters after (company id, day) and the company's currency when
    ``test`` (``=`` or ``<>``, on the receipt's currency) is given, then ``where``'s: the
    receipts with something left now (the partial index ``receipt_unapplied``: a few percent
    of them, where reading every receipt up to the day grew with the years), and those used
    up now that something dated after the day took from (``back``: none for today). A
    receipt's ``allocated`` never exceeds its amount, so the two are apart and together hold
    every receipt with something left on the day."""
    cy = f" AND r.currency {test} %s" if test else ""
    return [(f"""FROM {t['rc']} r LEFT JOIN back b ON b.receipt_id = r.id
        WHERE r.company_id = %s AND r.date <= %s AND r.allocated < r.amount{cy}{where}""",
             [bool(test)]),
            (f"""FROM back b JOIN {t['rc']} r ON r.id = b.receipt_id
        WHERE r.company_id = %s AND r.date <= %s AND r.allocated = r.amount{cy}{where}""",
             [bool(test)])]


def _source_params(company: Company, d: date, with_currency: bool, extra: list[Any]
                   ) -> list[Any]:
    return [company.pk, d, *([company.base_currency] if with_currency else []), *extra]


def unapplied_cash_totals(company: Company, *, as_of: date, customer_id: int | None = None,
                          country: str = "", currency: str = "", family: Sequence[int] = ()
                          ) -> dict[str, tuple[int, int]]:
    """Unapplied cash on ``as_of`` per currency: (amount, base amount), summed in the
    database. Rolled back from today like the aged receivables (aging.py): what is left of a
    receipt on D is what is left now (``amount - allocated``: the cache counts allocations,
    refunds and a reversal) plus what allocations, refunds and a reversal dated after D took.
    The base amount is read from the rows only for a receipt in another currency that
    something has used (``_base_left``)."""
    t = _tables()
    d, base = as_of, company.base_currency
    where, extra = _where(company, customer_id, country, currency, family, t["cust"])
    untouched = "r.allocated = 0 AND b.receipt_id IS NULL"
    params: list[Any] = [company.pk, d, company.pk, d, company.pk, d]
    selects = []
    if connection.vendor == "postgresql":
        # The receipts in the company's currency (most) apart, their base amount their
        # amount: the correlated sums of the others' base amounts are then in the planner's
        # estimate for those few alone, which keeps PostgreSQL's JIT compiler off (1.8 s of
        # the server's CPU for a statement that ran in 0.35 s at 251,100 receipts:
        # docs/design/reporting.md, "The aging summary"). On SQLite, which has no JIT, one
        # pass over the receipts costs half of two.
        for source, (cy,) in _sources(t, "=", where):
            selects.append(f"SELECT r.currency AS currency, {_LEFT} AS left_on, "
                           f"{_LEFT} AS base_left {source}")
            params += _source_params(company, d, cy, extra)
        for source, (cy,) in _sources(t, "<>", where):
            selects.append(f"""SELECT r.currency AS currency, {_LEFT} AS left_on,
               CASE WHEN {untouched} THEN r.base_amount ELSE {_base_left(t, 'r')} END
               AS base_left {source}""")
            params += [d, d, *_source_params(company, d, cy, extra)]
    else:
        for source, (cy,) in _sources(t, "", where):
            selects.append(f"""SELECT r.currency AS currency, {_LEFT} AS left_on,
               CASE WHEN r.currency = %s THEN {_LEFT}
                    WHEN {untouched} THEN r.base_amount
                    ELSE {_base_left(t, 'r')}
               END AS base_left {source}""")
            params += [base, d, d, *_source_params(company, d, cy, extra)]
    sql = f"""
    {_back(t)}
    SELECT currency, SUM(left_on), SUM(base_left)
    FROM ({" UNION ALL ".join(selects)}) receipts
    WHERE left_on > 0
    GROUP BY currency"""
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return {cy: (int(a), int(b)) for cy, a, b in cur.fetchall()}


def unapplied_receipts(company: Company, *, as_of: date, customer_id: int | None = None,
                       country: str = "", currency: str = "", family: Sequence[int] = ()
                       ) -> Iterator[dict[str, Any]]:
    """Receipts with an unapplied part on ``as_of``, by customer and date; streamed.

    Rolled back from today as ``unapplied_cash_totals`` is: what is left of a receipt on D is
    what is left now (the ``allocated`` cache) plus what allocations, refunds and a reversal
    dated after D took, one grouped read of those joined to the receipts. Summing each
    receipt's allocations up to D instead (a correlated sum per receipt) read every
    allocation of every receipt and, on PostgreSQL, put the statement's estimated cost above
    the JIT thresholds: 4.8 s of the server's time at 251,100 receipts, of which 3.2 s
    compiling (``EXPLAIN ANALYZE``; docs/design/web.md). The base amount left is read from
    the rows only for a receipt in another currency that something has used, and only for
    the receipts the page keeps (``OFFSET 0`` fences the part, as in aging.py)."""
    t = _tables()
    d = as_of
    where, extra = _where(company, customer_id, country, currency, family, t["cust"])
    fence = " OFFSET 0" if connection.vendor == "postgresql" else ""

    def part(test: str) -> tuple[str, list[Any]]:
        sql, params = [], []
        for source, (cy,) in _sources(t, test, where):
            sql.append(f"""
            SELECT r.id, r.customer_id, r.number, r.date, r.currency, r.amount,
                   r.base_amount, r.allocated, b.receipt_id AS used_later,
                   {_LEFT} AS left_on
            {source} AND {_LEFT} > 0""")
            params += _source_params(company, d, cy, extra)
        return " UNION ALL ".join(sql), params

    # In the company's currency the base amount left is the amount left; in another, the
    # base each allocation and refund relieved is summed, for the receipts kept alone. Two
    # parts, so that the planner's estimate of the second counts the few receipts in other
    # currencies, not all of them (the cost that set off JIT compilation).
    in_base, in_base_params = part("=")
    others, others_params = part("<>")
    sql = f"""
    {_back(t)}
    SELECT c.code, c.name, o.number, o.date, o.currency, o.amount, o.left_on, o.left_on
    FROM ({in_base}) o JOIN {t['cust']} c ON c.id = o.customer_id
    UNION ALL
    SELECT c.code, c.name, o.number, o.date, o.currency, o.amount, o.left_on,
           CASE WHEN o.allocated = 0 AND o.used_later IS NULL THEN o.base_amount
                ELSE {_base_left(t, 'o')}
           END
    FROM ({others}{fence}) o JOIN {t['cust']} c ON c.id = o.customer_id
    ORDER BY 1, 4, 3"""
    params = [company.pk, d, company.pk, d, company.pk, d, *in_base_params,
              d, d, *others_params]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        while rows := cur.fetchmany(2000):
            for code, name, number, day, cy, amount, left, base_left in rows:
                yield {"type": "receipt", "customer": code, "name": name, "document": number,
                       "date": _day(day), "currency": cy, "amount": amount, "open": int(left),
                       "base_open": int(base_left)}


def _day(value: Any) -> date:
    """A date as the database returned it (SQLite: its ISO text)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _where(company: Company, customer_id: int | None, country: str, currency: str,
           family: Sequence[int], customers: str) -> tuple[str, list[Any]]:
    """The receipts' filters as SQL on ``r`` (``_scope``'s, for the raw statements)."""
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
        where += f" AND r.customer_id IN (SELECT id FROM {customers} WHERE company_id = %s" \
                 " AND country = %s)"
        extra += [company.pk, country]
    return where, extra


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
