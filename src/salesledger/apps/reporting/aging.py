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

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection

from salesledger.apps.core.collector import collector_paused
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
    # With ``customer_id``: the ids whose items it takes in, the survivor of a merge and its
    # aliases (``customers.selectors.customer_family``); empty is the customer alone.
    family: tuple[int, ...] = ()
    country: str = ""
    currency: str = ""  # only items in this document currency


def _tables() -> dict[str, str]:
    return {"inst": Instalment._meta.db_table, "inv": Invoice._meta.db_table,
            "alloc": Allocation._meta.db_table, "cust": Customer._meta.db_table}


def _filters(company: Company, scope: AgingScope, in_base: bool | None
             ) -> tuple[str, str, list[Any]]:
    """The scope's tests on instalments (``i``) and on credit notes (``c``), and their
    parameters (the same for both): customer or family, currency, country, and with
    ``in_base`` only the items in the company's currency (true) or in others (false)."""
    t = _tables()
    where_i, where_c, extra = "", "", []
    if scope.customer_id is not None and len(scope.family) > 1:
        marks = ", ".join(["%s"] * len(scope.family))
        where_i += f" AND i.customer_id IN ({marks})"
        where_c += f" AND c.customer_id IN ({marks})"
        extra += list(scope.family)
    elif scope.customer_id is not None:
        where_i += " AND i.customer_id = %s"
        where_c += " AND c.customer_id = %s"
        extra.append(scope.customer_id)
    if scope.currency:
        where_i += " AND i.currency = %s"
        where_c += " AND c.currency = %s"
        extra.append(scope.currency)
    if in_base is not None:
        where_i += f" AND i.currency {'=' if in_base else '<>'} %s"
        where_c += f" AND c.currency {'=' if in_base else '<>'} %s"
        extra.append(company.base_currency)
    if scope.country:
        where_i += f" AND i.customer_id IN (SELECT id FROM {t['cust']} WHERE company_id = %s" \
                   " AND country = %s)"
        where_c += f" AND c.customer_id IN (SELECT id FROM {t['cust']} WHERE company_id = %s" \
                   " AND country = %s)"
        extra += [company.pk, scope.country]
    return where_i, where_c, extra


def _items_sql(company: Company, scope: AgingScope, *, rollback: bool, issued_after: bool,
               in_base: bool | None = None
               ) -> tuple[tuple[str, list[Any]], list[tuple[str, list[Any]]]]:
    """The ``WITH`` clause (``later``, when needed) and the ``SELECT``s whose rows are the
    items open on the day (instalments open now; instalments closed now but open on the
    day; credit notes), each row with ``kind``,
    ``id``, ``invoice_id`` (the document), ``customer_id``, ``currency``, ``seq``,
    ``issue_date``, ``due_date``, ``open`` and ``base_open`` (minor units, credit notes
    negative). ``rollback``: some allocation is dated after the day, so what it took is added
    back; ``issued_after``: some invoice is issued after the day, so the instalments issued
    after it are left out (by the issue date each instalment carries, in the covering index
    of open instalments: no invoice is joined). Today needs neither: the open instalments are
    then read from their index alone. ``in_base``: only the items in the company's currency
    (true), or only those in other currencies (false)."""
    t, d, base = _tables(), scope.as_of, company.base_currency
    where_i, where_c, extra = _filters(company, scope, in_base)
    # What allocations after D took back (``l``), and the base relieved up to D where the
    # item is in a foreign currency and something settled it.
    later = "COALESCE(l.amt, 0)" if rollback else "0"
    untouched = "i.settled = 0 AND l.instalment_id IS NULL" if rollback else "i.settled = 0"
    inst_cols = f"""
        'instalment' AS kind, i.id AS id, i.invoice_id AS invoice_id,
        i.customer_id AS customer_id, i.currency AS currency, i.seq AS seq,
        i.issue_date AS issue_date, i.due_date AS due_date,
        i.amount - i.settled + {later} AS open,
        CASE WHEN i.currency = %s THEN i.amount - i.settled + {later}
             WHEN {untouched} THEN i.base_amount
             ELSE i.base_amount - COALESCE((
                 SELECT SUM(CASE WHEN a.date <= %s THEN a.base_receivable ELSE 0 END)
                 FROM {t['alloc']} a WHERE a.instalment_id = i.id), 0)
        END AS base_open"""
    # the instalment's own copy of its invoice's issue date, in the covering index
    issued = " AND i.issue_date <= %s" if issued_after else ""
    issued_p = [d] if issued_after else []
    parts: list[tuple[str, list[Any]]] = [(f"""
        SELECT {inst_cols}
        FROM {t['inst']} i
        {'LEFT JOIN later l ON l.instalment_id = i.id' if rollback else ''}
        WHERE i.company_id = %s AND i.settled < i.amount{issued}{where_i}""",
        [base, d, company.pk, *issued_p, *extra])]
    with_later: tuple[str, list[Any]] = ("", [])
    if rollback:
        with_later = (f"""WITH later AS (
            SELECT instalment_id, CAST(SUM(amount) AS BIGINT) AS amt FROM {t['alloc']}
            WHERE company_id = %s AND date > %s GROUP BY instalment_id
        )""", [company.pk, d])
        # closed now, open on D: settled by allocations dated after it
        parts.append((f"""
        SELECT {inst_cols}
        FROM later l JOIN {t['inst']} i ON i.id = l.instalment_id
        WHERE i.settled = i.amount{issued}{where_i}""", [base, d, *issued_p, *extra]))
    # Credit notes: their unapplied part on D. The dates are tested inside the sums so that
    # each sum reads the allocations of one credit note by its index, and no planner is
    # tempted by the index on dates (which would read the company's whole history).
    used = f"""(SELECT SUM(CASE WHEN a.date <= %s THEN a.{{col}} ELSE 0 END) FROM {t['alloc']} a
                WHERE a.credit_note_id = c.id)"""
    if rollback:
        cn_open = f"-(c.total - COALESCE({used.format(col='amount')}, 0))"
        cn_params = [d]
        cn_where = ""
    else:
        cn_open = "-(c.total - c.allocated)"
        cn_params = []
        cn_where = " AND c.allocated < c.total"
    cn_base = f"""-(CASE WHEN c.currency = %s THEN -({cn_open})
                         ELSE c.base_total - COALESCE({used.format(col='base_unapplied')}, 0)
                    END)"""
    parts.append((f"""
        SELECT 'credit_note' AS kind, c.id AS id, c.id AS invoice_id,
               c.customer_id AS customer_id, c.currency AS currency, 0 AS seq,
               c.issue_date AS issue_date, c.issue_date AS due_date, {cn_open} AS open,
               {cn_base} AS base_open
        FROM {t['inv']} c
        WHERE c.company_id = %s AND c.kind = '{DocKind.CREDIT_NOTE.value}'
              AND c.status = 'posted' AND c.issue_date <= %s{cn_where}{where_c}""",
        [*cn_params, base, *cn_params, d, company.pk, d, *extra]))
    return with_later, parts


def _rolled_back_sql(company: Company, scope: AgingScope, *, issued_after: bool,
                     sums: Callable[[str], str], amounts_params: list[Any], none: str,
                     n: int) -> tuple[tuple[str, list[Any]], list[tuple[str, list[Any]]]]:
    """The instalments in the company's currency open on a day with allocations dated after
    it, summed per customer and currency (``grouped_by_customer``'s columns: ``sums``, the
    ``n`` bucket sums of a column, with ``amounts_params`` their parameters, and ``none``,
    the NULL base amounts), without joining each open instalment to what was allocated
    after the day:

    * ``touched`` (a ``WITH`` part after the ``later`` of ``_items_sql``): of the
      instalments allocations after the day touched, what those took, summed per customer,
      currency and bucket; its ``n`` counts those closed now that were open on the day,
      less one for each open now that was not (an allocation dated up to the day reversed
      after it);
    * ``opened``: the instalments open now, summed from their covering index alone (no
      instalment id, which PostgreSQL's index does not hold, and no look-up in ``later``);
    * the rows: each of ``opened`` with ``touched``'s of the same customer and currency
      added, then ``touched``'s rows that have none in ``opened`` (all their items closed
      now).

    An item's sum is so ``amount - settled + later``, what ``_items_sql`` gives it, and a
    row's ``n`` the number of its items open on the day; a customer and currency none of
    whose items is open on the day has no row, as in the other parts (measured:
    docs/design/reporting.md, "A past day summed apart")."""
    t, d = _tables(), scope.as_of
    where_i, _, extra = _filters(company, scope, True)
    issued = " AND i.issue_date <= %s" if issued_after else ""
    issued_p = [d] if issued_after else []
    cols = ", ".join(f"a{k}" for k in range(n))
    summed = ", ".join(f"o.a{k} + COALESCE(u.a{k}, 0) AS a{k}" for k in range(n))
    ctes = (f""", touched AS (
            SELECT i.customer_id AS customer_id, i.currency AS currency,
                   {sums("l.amt")},
                   CAST(SUM(CASE WHEN i.settled = i.amount
                                 THEN CASE WHEN l.amt <> 0 THEN 1 ELSE 0 END
                                 WHEN i.amount - i.settled + l.amt = 0 THEN -1
                                 ELSE 0 END) AS BIGINT) AS n
            FROM later l JOIN {t['inst']} i ON i.id = l.instalment_id
            WHERE 1 = 1{issued}{where_i}
            GROUP BY i.customer_id, i.currency
        ), opened AS (
            SELECT customer_id, currency, {sums("open")}, COUNT(*) AS n
            FROM (SELECT i.customer_id AS customer_id, i.currency AS currency,
                         i.issue_date AS issue_date, i.due_date AS due_date,
                         i.amount - i.settled AS open
                  FROM {t['inst']} i
                  WHERE i.company_id = %s AND i.settled < i.amount{issued}{where_i}) items
            GROUP BY currency, customer_id
        )""", [*amounts_params, *issued_p, *extra,
               *amounts_params, company.pk, *issued_p, *extra])
    now = (f"""
        SELECT o.customer_id, o.currency, {summed}, {none}, o.n + COALESCE(u.n, 0) AS n
        FROM opened o
        LEFT JOIN touched u ON u.customer_id = o.customer_id AND u.currency = o.currency
        WHERE o.n + COALESCE(u.n, 0) > 0""", [])
    closed = (f"""
        SELECT customer_id, currency, {cols}, {none}, n
        FROM touched u WHERE n > 0 AND NOT EXISTS (
            SELECT 1 FROM opened o
            WHERE o.customer_id = u.customer_id AND o.currency = u.currency)""", [])
    return ctes, [now, closed]


def _shape(company: Company, scope: AgingScope, *, detail: bool = False
           ) -> tuple[bool, bool]:
    """(rollback, issued_after) for the day: two look-ups on indexes. The detail leaves out
    what is issued after the day without asking (a test on a column of the index it reads
    anyway)."""
    rollback = Allocation.objects.filter(company=company, date__gt=scope.as_of).exists()
    issued_after = detail or Invoice.objects.filter(
        company=company, issue_date__gt=scope.as_of).exists()
    return rollback, issued_after


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
    the rows returned are as many as the cells, whatever the number of items. Each part is
    grouped on its own (a plain ``SELECT`` over one table the database can read from its
    index), and the parts' cells are added up here."""
    rollback, issued_after = _shape(company, scope)
    (with_sql, with_params), parts = _items_sql(company, scope, rollback=rollback,
                                                issued_after=issued_after)
    case, case_params = _bucket_case(scope)
    sql = with_sql + " UNION ALL ".join(f"""
        SELECT customer_id, currency, {case} AS bucket, SUM(open), SUM(base_open), COUNT(*)
        FROM ({part}) items WHERE open <> 0
        GROUP BY customer_id, currency, bucket""" for part, _ in parts)
    params = [*with_params]
    for _, part_params in parts:
        params += [*case_params, *part_params]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    cells: dict[tuple[int, str, int], list[int]] = {}
    for c, cy, b, o, bo, n in rows:
        cell = cells.setdefault((int(c), cy, int(b)), [0, 0, 0])
        cell[0] += int(o)
        cell[1] += int(bo)
        cell[2] += int(n)
    return [AgingCell(c, cy, b, o, bo, n) for (c, cy, b), (o, bo, n) in cells.items()]


@dataclass(slots=True)
class CustomerCells:
    """What one customer (the survivor of a merge, its aliases' items included) has open in
    one currency on the day, per bucket."""

    customer_id: int
    code: str
    name: str
    country: str
    currency: str
    open: list[int]
    base_open: list[int]
    items: int


def _bucket_ranges(scope: AgingScope) -> list[tuple[str, list[Any]]]:
    """For each bucket, a test on the reference date that holds exactly when the ``CASE`` of
    ``_bucket_case`` picks it (on or after its start, before every earlier bucket's start)."""
    ref = "due_date" if scope.by == AgeBy.DUE else "issue_date"
    starts = bucket_starts(scope.as_of, scope.buckets)
    out = []
    for k in range(len(starts) + 1):
        tests, params = [], []
        if k < len(starts):
            tests.append(f"{ref} >= %s")
            params.append(starts[k])
        if k > 0:
            tests.append(f"{ref} < %s")
            params.append(min(starts[:k]))
        out.append((" AND ".join(tests) or "1 = 1", params))
    return out


def grouped_by_customer(company: Company, scope: AgingScope
                         ) -> tuple[tuple[str, str], list[Any], int]:
    """The ``WITH`` clause and a ``UNION ALL`` of grouped ``SELECT``s whose rows are
    (customer_id, currency, one amount per bucket, one base amount per bucket or NULLs
    where the currency is the company's, the number of items), with their parameters and
    the number of buckets. A customer and currency may have a row in each part (items open
    now, items open on the day only, credit notes): the caller adds them up."""
    rollback, issued_after = _shape(company, scope)
    (with_sql, with_params), in_base = _items_sql(company, scope, rollback=rollback,
                                                  issued_after=issued_after, in_base=True)
    _, in_others = _items_sql(company, scope, rollback=rollback, issued_after=issued_after,
                              in_base=False)
    ranges = _bucket_ranges(scope)
    n = len(ranges)
    # BIGINT: PostgreSQL's sum of integers is a NUMERIC, which its driver makes a Decimal
    def sums(column: str) -> str:
        return ", ".join(f"CAST(SUM(CASE WHEN {test} THEN {column} ELSE 0 END) AS BIGINT) AS a{k}"
                         for k, (test, _) in enumerate(ranges))

    amounts = sums("open")
    bases = ", ".join(f"CAST(SUM(CASE WHEN {test} THEN base_open ELSE 0 END) AS BIGINT) AS b{k}"
                      for k, (test, _) in enumerate(ranges))
    range_params = [p for _, ps in ranges for p in ps]
    none = ", ".join(f"CAST(NULL AS BIGINT) AS b{k}" for k in range(n))
    # PostgreSQL would fold each part into the sums and so repeat its base amount (a
    # correlated sum, in the planner's estimate) in every bucket's column: a cost that sets
    # off JIT compilation, seconds of the server's time. ``OFFSET 0`` keeps the part whole.
    fence = " OFFSET 0" if connection.vendor == "postgresql" else ""
    grouped, params = [], [*with_params]
    if rollback:
        # A past day, in the company's currency: what is open now and what was allocated
        # after the day, summed side by side (``_rolled_back_sql``); the credit notes below.
        (ctes, ctes_params), rolled = _rolled_back_sql(
            company, scope, issued_after=issued_after, sums=sums,
            amounts_params=range_params, none=none, n=n)
        with_sql += ctes
        params += ctes_params
        for part, part_params in rolled:
            grouped.append(part)
            params += part_params
        in_base = in_base[-1:]  # the credit notes
    for part, part_params in in_base:
        grouped.append(f"""
        SELECT customer_id, currency, {amounts}, {none}, COUNT(*) AS n
        FROM ({part}) items WHERE open <> 0
        GROUP BY currency, customer_id""")
        params += [*range_params, *part_params]
    for part, part_params in in_others:
        grouped.append(f"""
        SELECT customer_id, currency, {amounts}, {bases}, COUNT(*) AS n
        FROM ({part}{fence}) items WHERE open <> 0
        GROUP BY currency, customer_id""")
        params += [*range_params, *range_params, *part_params]
    return (with_sql, " UNION ALL ".join(grouped)), params, n


def aging_by_customer(company: Company, scope: AgingScope) -> list[CustomerCells]:
    """The open items of the day summed per customer and currency, each bucket a column, by
    the database, with the customer's code, name and country joined there: one row per
    customer and currency (and part), where ``aging_cells`` returns one per bucket as well
    and the names are looked up after. At 100,000 customers that is a quarter of the rows
    and no list of 100,000 ids sent back (docs/design/reporting.md, "Performance"). Grouped
    by currency first: by customer first, PostgreSQL reads the whole table in customer order
    (its index on customers) to group as it goes, instead of hashing what the covering index
    of open instalments holds (measured: 1.7 s of the server's CPU against about 0.2 s at
    100,000 items); on SQLite the two orders cost the same (a sort either way: the covering
    index has the due date between customer and currency).

    Each part is asked twice: its items in the company's currency, whose base amount is their
    amount (so only the bucket's amounts are summed, half the sums: on SQLite 0.58 against
    0.95 CPU s for a million items, and the base amount's ``CASE`` is never evaluated), and
    its items in other currencies, with the base amounts summed as well."""
    (with_sql, grouped), params, n = grouped_by_customer(company, scope)
    t = _tables()
    sql = f"""{with_sql}
        SELECT o.id, o.code, o.name, o.country, g.*
        FROM ({grouped}) g
        JOIN {t['cust']} c ON c.id = g.customer_id
        JOIN {t['cust']} o ON o.id = COALESCE(c.merged_into_id, c.id)"""
    return customer_cells_of(sql, params, n)


def customer_cells_of(sql: str, params: list[Any], n: int) -> list[CustomerCells]:
    """The rows of ``sql`` made records, one per owner (the survivor of a merge) and
    currency: each row (owner id, code, name, country, customer id, currency, ``n``
    amounts, ``n`` base amounts or NULLs where they are the amounts, number of items)."""
    out: dict[tuple[int, str], CustomerCells] = {}
    with connection.cursor() as cur, collector_paused():
        cur.execute(sql, params)
        for row in cur.fetchall():
            owner, code, name, country, _, currency = row[:6]
            opens = [int(a) for a in row[6:6 + n]]
            # the base amounts, or NULL where the currency is the company's: the amounts
            based = row[6 + n:6 + 2 * n]
            base_opens = opens[:] if based[0] is None else [int(b) for b in based]
            count = int(row[6 + 2 * n])
            key = (int(owner), currency)
            cell = out.get(key)
            if cell is None:
                out[key] = CustomerCells(int(owner), code, name, country, currency, opens,
                                         base_opens, count)
                continue
            for k in range(n):
                cell.open[k] += opens[k]
                cell.base_open[k] += base_opens[k]
            cell.items += count
        return list(out.values())


def open_sums_sql(company: Company, scope: AgingScope, *, floor: date, ceiling: date,
                  column: str, keys: list[str], payers: str = ""
                  ) -> tuple[str, list[object], str, list[object]]:
    """The pieces of a sum of the instalments open on the day (credit notes left out), what
    the forecast reads: ``column`` (``open``: in the document currency; ``base_open``)
    summed per ``keys`` (SQL over ``items``, and ``o`` when ``payers``, a table of customer
    ids ``cid``, keeps only their items; ``due`` is the due date with those before ``floor``
    counted on it, those after ``ceiling`` on it): the ``WITH`` clause, its parameters, the
    query after it and its parameters. The dates are moved, not filtered, so that the
    planner keeps reading the covering index of open instalments (a test on ``due_date``
    would steer it to the index on dates and to the table)."""
    rollback, issued_after = _shape(company, scope)
    (with_sql, with_params), parts = _items_sql(company, scope, rollback=rollback,
                                                issued_after=issued_after)
    inst = parts[:-1]  # the instalments' parts; the last is the credit notes (_items_sql)
    body = " UNION ALL ".join(f"""
        SELECT {', '.join(keys)}, SUM(items.{column})
        FROM {f"{payers} o CROSS JOIN" if payers else ""}
             (SELECT CASE WHEN due_date < %s THEN %s WHEN due_date > %s THEN %s
                          ELSE due_date END AS due, customer_id, {column}
              FROM ({part}) p WHERE open <> 0) items
        {"WHERE items.customer_id = o.cid" if payers else ""}
        GROUP BY {', '.join(str(k + 1) for k in range(len(keys)))}""" for part, _ in inst)
    params: list[object] = []
    for _, part_params in inst:
        params += [floor, floor, ceiling, ceiling, *part_params]
    return with_sql, list(with_params), body, params


# Rows fetched at a time by the detail's stream: what it holds, whatever the number of items.
DETAIL_CHUNK = 2000


def aging_item_rows(company: Company, scope: AgingScope, *, chunk: int | None = None,
                    limit: int | None = None, offset: int = 0) -> Iterator[dict[str, Any]]:
    """Every item open on the day with its bucket, ordered by customer code, reference date
    and document; streamed from the database (a server-side cursor on PostgreSQL), never
    loaded whole. ``limit`` and ``offset`` take one page of that order in the database (a
    page of the web's detail), which then sorts only what the page needs."""
    rollback, issued_after = _shape(company, scope, detail=True)
    (with_sql, with_params), parts = _items_sql(company, scope, rollback=rollback,
                                                issued_after=issued_after)
    case, case_params = _bucket_case(scope)
    t = _tables()
    ref = "items.due_date" if scope.by == AgeBy.DUE else "items.issue_date"
    union = " UNION ALL ".join(part for part, _ in parts)
    # the bucket's dates come before the items' own parameters, as in the text
    params = [*with_params, *case_params,
              *[p for _, part_params in parts for p in part_params]]
    sql = f"""{with_sql}
    SELECT items.kind, cu.code, cu.name, d.number, items.seq, items.issue_date,
           items.due_date, items.currency, items.open, items.base_open, {case} AS bucket,
           issued.code
    FROM ({union}) items
    JOIN {t['cust']} issued ON issued.id = items.customer_id
    JOIN {t['cust']} cu ON cu.id = COALESCE(issued.merged_into_id, issued.id)
    JOIN {t['inv']} d ON d.id = items.invoice_id
    WHERE items.open <> 0
    ORDER BY cu.code, {ref}, d.number, items.seq"""
    if limit is not None:
        sql += " LIMIT %s OFFSET %s"
        params += [limit, offset]
    with connection.chunked_cursor() as cur:
        cur.execute(sql, params)
        while True:
            rows = cur.fetchmany(chunk or DETAIL_CHUNK)
            if not rows:
                return
            for (kind, code, name, number, seq, issued, due, currency, op, bop, bucket,
                 issued_to) in rows:
                yield {"type": kind, "customer": code, "name": name, "issued_to": issued_to,
                       "document": number,
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


# Past this many customers named, ``customer_owners`` reads the company's customers and keeps
# those named instead of sending their ids: a whole day's aging names every customer with
# something open (100,000 ids: seconds of building and parsing the statement on SQLite, and
# past 250,000 a statement SQLite refuses).
OWNERS_BY_LIST = 5000


def customer_owners(company: Company, ids: Sequence[int]) -> dict[int, tuple[int, str, str, str]]:
    """Who the items of each customer named are reported under, in one query: (id, code,
    name, country) of the customer, or of the survivor it was merged into."""
    wanted = list(ids)
    rows = Customer.objects.filter(company=company)
    if len(wanted) <= OWNERS_BY_LIST:
        rows = rows.filter(pk__in=wanted)
    named = None if len(wanted) <= OWNERS_BY_LIST else set(wanted)
    return {pk: (head, *survivor) if head else (pk, code, name, country)
            for pk, code, name, country, head, *survivor in rows.values_list(
                "pk", "code", "name", "country", "merged_into_id", "merged_into__code",
                "merged_into__name", "merged_into__country")
            if named is None or pk in named}
