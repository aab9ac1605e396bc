"""The aging summary: the aging of one day per customer and currency, kept exact by the
transactions that change an open item (docs/design/reporting.md, "The aging summary").

At 100,000 customers and a million open items, the aging of "today" costs the grouped scan
of the million entries of the covering index of open instalments and the 100,000 customers'
rows made records; the first alone is more than the 0.5 s the issue asks for (measured:
docs/design/reporting.md, "Performance"). What the report needs of a day, with the default
buckets by due date, is per customer and currency six amounts, six base amounts and a count:
this table holds them for one day per company (``AgingSummary.day``), and the report of that
day with the default buckets reads it instead of the items (docs/decisions.md).

**Exact.** A row is what ``aging.grouped_by_customer`` gives for its customer on the day:
the summary is made by that query (``summary_build``: by the worker each night, by
``report aging --rebuild-summary``, or when that command is first run for today), and every
transaction that changes what a customer has open computes that customer's rows again
(``summary_refresh``), in the same transaction, from the handlers subscribed (``inside``) to
the events the lower apps publish when they write an open item: ``DocumentsPosted``,
``AllocationsMade``, ``AllocationsReversed`` and ``AdjustmentsWritten`` (the writers of
``Instalment.settled`` and of a credit note's ``allocated``; a refund, a receipt's reversal
and the FX revaluation change no open item). A change dated after the summary's day leaves
it as it is. ``salesledger check`` compares the summary with the query (check 15).

**Serialized per company.** The build and every refresh lock the company's
``AgingSummary`` row first (``SELECT … FOR UPDATE``; SQLite's writers are serialized
anyway), so that a build never reads the books without the changes of a transaction whose
refresh saw the summary of the day before. The row exists from the company's creation (and
the migration made one for every company): a transaction never finds it missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from salesledger.apps.core.models import Company
from salesledger.apps.customers.models import Customer
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.apps.payments.models import Allocation
from salesledger.domain.aging import DEFAULT_BUCKETS, AgeBy, parse_buckets
from salesledger.domain.segments import SIZE_BANDS

from .aging import AgingScope, grouped_by_customer
from .models import SUMMARY_BUCKETS, AgingSummary, AgingSummaryRow, AgingSummaryTotal

BUCKETS = parse_buckets(DEFAULT_BUCKETS)
assert len(BUCKETS) == SUMMARY_BUCKETS
_N = SUMMARY_BUCKETS
_OPENS = [f"open_{k}" for k in range(_N)]
_BASES = [f"base_{k}" for k in range(_N)]
# what a totals row holds, as a summary row
_SUMMED = [*_OPENS, *_BASES, "items"]
# Customers computed again per statement by a refresh (the ids are parameters).
CHUNK = 500


def _state(company_id: int, *, lock: bool) -> AgingSummary | None:
    qs = AgingSummary.objects.filter(company_id=company_id)
    return (qs.select_for_update() if lock else qs).first()


def summary_day(company: Company) -> date | None:
    """The day the company's summary is for, or None."""
    state = _state(company.pk, lock=False)
    return state.day if state else None


def summary_create(company_id: int) -> None:
    """The company's (empty) summary state: made with the company."""
    AgingSummary.objects.get_or_create(company_id=company_id)


def _scope(day: date, ids: Sequence[int] = ()) -> AgingScope:
    return AgingScope(as_of=day, buckets=BUCKETS, by=AgeBy.DUE,
                      customer_id=ids[0] if ids else None, family=tuple(ids))


def _insert(company: Company, day: date, ids: Sequence[int] = ()) -> None:
    """Insert the rows of ``ids`` (every customer when empty) on ``day``, summed by the
    database from the aging's own query."""
    (with_sql, grouped), params, n = grouped_by_customer(company, _scope(day, ids))
    assert n == _N
    table = AgingSummaryRow._meta.db_table
    sums = ", ".join([*(f"SUM(a{k})" for k in range(_N)),
                      *(f"SUM(COALESCE(b{k}, a{k}))" for k in range(_N))])
    sql = f"""{with_sql}
        INSERT INTO {table} (company_id, customer_id, currency, {", ".join(_OPENS)},
                             {", ".join(_BASES)}, items)
        SELECT {int(company.pk)}, customer_id, currency, {sums}, SUM(n)
        FROM ({grouped}) g GROUP BY customer_id, currency"""
    with connection.cursor() as cur:
        cur.execute(sql, params)


def summary_build(company: Company, *, day: date) -> int:
    """Make the company's summary that of ``day``, from the books as they are; returns its
    rows."""
    summary_create(company.pk)
    with transaction.atomic():
        state = _state(company.pk, lock=True)
        assert state is not None
        AgingSummaryRow.objects.filter(company=company).delete()
        _insert(company, day)
        _totals_build(company.pk)
        if connection.vendor == "postgresql":
            # the planner's statistics of the rows just written (autovacuum's come later):
            # without them PostgreSQL reads 100,000 rows by nested loops
            with connection.cursor() as cur:
                cur.execute(f"ANALYZE {AgingSummaryRow._meta.db_table}")
        state.day, state.built_at = day, timezone.now()
        state.save(update_fields=["day", "built_at"])
        return AgingSummaryRow.objects.filter(company=company).count()


def summary_refresh(company_id: int,
                    customer_ids: Iterable[int] | Callable[[], Iterable[int]], *,
                    days: Iterable[date] | None = None) -> None:
    """Compute again the rows of ``customer_ids`` (raw ids) on the summary's day, after a
    change to what they have open (inside its transaction). ``days``: the days the change is
    dated; when every one is after the summary's day, nothing is to do. ``customer_ids``
    may be a function that reads them: called only when there is something to do (after
    the summary's state is locked), so that a company without a summary of a day the change
    reaches pays no read for it."""
    state = _state(company_id, lock=True)
    if state is None or state.day is None:
        return
    if days is not None and all(d > state.day for d in days):
        return
    ids = sorted(set(customer_ids() if callable(customer_ids) else customer_ids))
    if not ids:
        return
    company = Company.objects.get(pk=company_id)
    for k in range(0, len(ids), CHUNK):
        chunk = ids[k:k + CHUNK]
        _shift(company_id, chunk, "-")  # what the chunk's rows held leaves the totals
        AgingSummaryRow.objects.filter(company_id=company_id, customer_id__in=chunk).delete()
        _insert(company, state.day, chunk)
        _shift(company_id, chunk, "+")  # and what they hold now comes in
    # a currency that no row holds any longer has no totals (as no rows are summed)
    AgingSummaryTotal.objects.filter(company_id=company_id, items=0).delete()


def _totals_build(company_id: int) -> None:
    """The company's totals made again from its summary rows (a build)."""
    AgingSummaryTotal.objects.filter(company_id=company_id).delete()
    total, table = AgingSummaryTotal._meta.db_table, AgingSummaryRow._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"""
            INSERT INTO {total} (company_id, currency, {", ".join(_SUMMED)})
            SELECT company_id, currency, {", ".join(f"SUM({c})" for c in _SUMMED)}
            FROM {table} WHERE company_id = %s GROUP BY company_id, currency""", [company_id])


def _shift(company_id: int, ids: Sequence[int], sign: str) -> None:
    """Add (``sign`` "+") or take out ("-") of the company's totals what the summary rows of
    ``ids`` hold, per currency, in the database; with "+", a currency the totals do not
    have yet gets its row first (at zero)."""
    total, table = AgingSummaryTotal._meta.db_table, AgingSummaryRow._meta.db_table
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cur:
        if sign == "+":
            cur.execute(f"""
                INSERT INTO {total} (company_id, currency, {", ".join(_SUMMED)})
                SELECT DISTINCT r.company_id, r.currency, {", ".join("0" for _ in _SUMMED)}
                FROM {table} r WHERE r.company_id = %s AND r.customer_id IN ({marks})
                AND r.currency NOT IN (SELECT t.currency FROM {total} t
                                       WHERE t.company_id = %s)""",
                        [company_id, *ids, company_id])
        sets = ", ".join(f"{c} = {total}.{c} {sign} d.s_{c}" for c in _SUMMED)
        sums = ", ".join(f"SUM(r.{c}) AS s_{c}" for c in _SUMMED)
        cur.execute(f"""
            UPDATE {total} SET {sets}
            FROM (SELECT r.currency AS currency, {sums} FROM {table} r
                  WHERE r.company_id = %s AND r.customer_id IN ({marks})
                  GROUP BY r.currency) d
            WHERE {total}.company_id = %s AND {total}.currency = d.currency""",
                    [company_id, *ids, company_id])


def _usable(company: Company, scope: AgingScope) -> bool:
    return scope.by == AgeBy.DUE and scope.buckets == BUCKETS


@dataclass(frozen=True)
class SummaryRead:
    """The summary's answer to a scope: ``rows`` (customer id, code, name, country, the
    survivor it was merged into or None, currency, six amounts, six base amounts or NULLs
    where they are the amounts, the number of items), one per customer the items were
    issued to and currency (more than one when rolled back: ``summary_rolled_back``);
    ``survivors`` (id: code, name, country) of the customers merged into; ``totals``
    (currency, six amounts, six base amounts, items) per currency, summed by the
    database."""

    rows: list[tuple[Any, ...]]
    survivors: dict[int, tuple[str, str, str]]
    totals: list[tuple[Any, ...]]


# "the summary's day is not known yet": ask it
_ASK: Any = object()


def summary_read(company: Company, scope: AgingScope, *, day: Any = _ASK
                 ) -> SummaryRead | None:
    """What ``aging.aging_by_customer`` of ``scope`` sums, from the summary, or None when the
    summary cannot answer it (another day, other buckets, aged by issue date). Every filter of
    a scope is one on the summary's rows: the customers (a family, a group, a collector's),
    the document currency, the country of the customer the items were issued to."""
    if not _usable(company, scope):
        return None
    if (summary_day(company) if day is _ASK else day) != scope.as_of:
        return None
    where, params = _where(company, scope)
    with connection.cursor() as cur:
        rows = _rows(cur, company, where, params)
        survivors = _survivors(cur, company)
        totals = _scope_totals(cur, scope, where, params)
    # a build for another day committed meanwhile: the rows read may be its
    if summary_day(company) != scope.as_of:
        return None
    return SummaryRead(rows, survivors, totals)


def _rows(cur: Any, company: Company, where: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """The summary's rows that ``where`` keeps, as ``SummaryRead.rows`` holds them."""
    table, cust = AgingSummaryRow._meta.db_table, Customer._meta.db_table
    opens = ", ".join("s." + c for c in _OPENS)
    # NULL where the base amounts are the amounts (the company's currency): fewer numbers
    # made Python objects (600,000 at 100,000 customers)
    bases = ", ".join(f"CASE WHEN s.currency = %s THEN NULL ELSE s.{c} END" for c in _BASES)
    cur.execute(f"""
        SELECT c.id, c.code, c.name, c.country, c.merged_into_id, s.currency, {opens},
               {bases}, s.items
        FROM {table} s JOIN {cust} c ON c.id = s.customer_id
        WHERE {where}""", [company.base_currency] * _N + params)
    return list(cur.fetchall())


def _survivors(cur: Any, company: Company) -> dict[int, tuple[str, str, str]]:
    """(code, name, country) of the survivors of merges, few (the partial index
    ``customer_merged``), looked up once rather than joined to every row."""
    cust = Customer._meta.db_table
    cur.execute(f"""
        SELECT o.id, o.code, o.name, o.country FROM {cust} o
        WHERE o.id IN (SELECT m.merged_into_id FROM {cust} m
                       WHERE m.company_id = %s AND m.merged_into_id IS NOT NULL)""",
                [company.pk])
    return {int(i): (code, name, country) for i, code, name, country in cur.fetchall()}


def _kept_totals(cur: Any, company_id: int, currency: str = "") -> list[tuple[Any, ...]]:
    """(currency, six amounts, six base amounts, items) kept in the company's totals, of
    ``currency`` when given, else of every currency."""
    cur.execute(f"""SELECT currency, {", ".join(_SUMMED)}
                    FROM {AgingSummaryTotal._meta.db_table} WHERE company_id = %s
                    {"AND currency = %s" if currency else ""}""",
                [company_id, currency] if currency else [company_id])
    return list(cur.fetchall())


def _scope_totals(cur: Any, scope: AgingScope, where: str, params: list[Any]
                  ) -> list[tuple[Any, ...]]:
    """(currency, six amounts, six base amounts, items) of the rows ``where`` keeps, summed
    per currency by the database."""
    table, cust = AgingSummaryRow._meta.db_table, Customer._meta.db_table
    if scope.customer_id is None and not scope.country:
        # every customer (in a currency or all): the totals kept, not the rows summed
        return _kept_totals(cur, params[0], scope.currency)  # params: _where's
    sums = ", ".join(f"CAST(SUM(s.{c}) AS BIGINT)" for c in [*_OPENS, *_BASES, "items"])
    join = f"JOIN {cust} c ON c.id = s.customer_id" if scope.country else ""
    cur.execute(f"SELECT s.currency, {sums} FROM {table} s {join} WHERE {where} "
                "GROUP BY s.currency", params)
    return list(cur.fetchall())


def summary_customer_page(company: Company, scope: AgingScope, *, size: int, offset: int,
                          day: Any = _ASK) -> SummaryRead | None:
    """``summary_read`` of one page of the report's customers: the rows of the ``size``
    owners (a customer, or the survivor of a merge with its aliases) after the first
    ``offset``, in code order, that have a row the scope keeps, and the totals of the whole
    scope; None when the summary cannot answer the scope. What a page of the aged
    receivables shows, without a record per customer of the day: the owners are found
    by walking the customers in code order (the index of codes) and asking, of each, if a
    row of it or of an alias is kept, so that the first pages read a few hundred rows. The
    two questions are one ``EXISTS`` of a ``UNION ALL``: as two ``EXISTS`` joined by ``OR``,
    PostgreSQL hashes both over every row of the summary first (0.5 s of the server's on
    the issue's books, against a few milliseconds)."""
    if not _usable(company, scope):
        return None
    if (summary_day(company) if day is _ASK else day) != scope.as_of:
        return None
    where, params = _where(company, scope)
    table, cust = AgingSummaryRow._meta.db_table, Customer._meta.db_table
    with connection.cursor() as cur:
        if scope.customer_id is not None:
            # a set of customers (a family, a group, a collector's): their few rows' owners
            cur.execute(f"""
                SELECT o.id FROM {cust} o WHERE o.id IN (
                    SELECT COALESCE(c.merged_into_id, c.id) FROM {table} s
                    JOIN {cust} c ON c.id = s.customer_id WHERE {where})
                ORDER BY o.code LIMIT %s OFFSET %s""", [*params, size, offset])
        else:
            cur.execute(f"""
                SELECT o.id FROM {cust} o
                WHERE o.company_id = %s AND o.merged_into_id IS NULL AND EXISTS (
                    SELECT 1 FROM {table} s JOIN {cust} c ON c.id = s.customer_id
                    WHERE s.customer_id = o.id AND {where}
                    UNION ALL
                    SELECT 1 FROM {cust} c JOIN {table} s ON s.customer_id = c.id
                    WHERE c.merged_into_id = o.id AND {where})
                ORDER BY o.code LIMIT %s OFFSET %s""",
                        [company.pk, *params, *params, size, offset])
        owners = [int(i) for (i,) in cur.fetchall()]
        if owners:
            marks = ", ".join(["%s"] * len(owners))
            rows = _rows(cur, company, f"{where} AND (c.id IN ({marks}) OR c.merged_into_id "
                                       f"IN ({marks}))", [*params, *owners, *owners])
        else:
            rows = []
        survivors = _survivors(cur, company)
        totals = _scope_totals(cur, scope, where, params)
    if summary_day(company) != scope.as_of:
        return None
    return SummaryRead(rows, survivors, totals)


# A past day is rolled back from the summary when the customers whose aging may differ
# between the two days are at most this share of the summary's customers (measured on the
# issue's books: docs/design/reporting.md, "A past day from the summary"); beyond it, the
# open items of the day are read as before.
ROLLBACK_SHARE = 0.25


def touched_customers(company: Company, day: date, summary: date, *,
                      limit: int | None = None) -> set[int] | None:
    """The customers (raw ids) whose aging on ``day`` may differ from that on the summary's
    later day ``summary``, with the default buckets by due date: those an allocation dated
    in between touched (its customer, its instalment's, its credit note's), those issued a
    document in between, and those with an instalment or a credit note whose reference date
    lies where a bucket's start moves between the two days (an item there may change bucket;
    every instalment there is taken, open or not, as one settled by an allocation dated after
    both days is open on both). Every other customer's items are open by the same amounts,
    base amounts included, and in the same buckets on both days: its summary rows are its
    aging on ``day``. A superset is harmless (those customers are read from the items).

    ``limit``: None as soon as more customers than that are found. The parts are read in
    that order, streamed (``UNION ALL``, a server-side cursor on PostgreSQL), so that a day
    far back, which touches nearly every customer, costs the first thousands of rows, not
    every allocation and instalment since."""
    starts = sorted({(day - timedelta(days=b.to_days), summary - timedelta(days=b.to_days))
                     for b in BUCKETS if b.to_days is not None})
    inst, inv = Instalment._meta.db_table, Invoice._meta.db_table
    alloc = Allocation._meta.db_table
    windows_i = " OR ".join("(i.due_date >= %s AND i.due_date < %s)" for _ in starts)
    windows_c = " OR ".join("(c.issue_date >= %s AND c.issue_date < %s)" for _ in starts)
    window_params = [d for pair in starts for d in pair]
    sql = f"""
        SELECT a.customer_id, i.customer_id, c.customer_id
        FROM {alloc} a JOIN {inst} i ON i.id = a.instalment_id
        LEFT JOIN {inv} c ON c.id = a.credit_note_id
        WHERE a.company_id = %s AND a.date > %s AND a.date <= %s
        UNION ALL
        SELECT c.customer_id, c.customer_id, c.customer_id FROM {inv} c
        WHERE c.company_id = %s AND c.issue_date > %s AND c.issue_date <= %s
        UNION ALL
        SELECT i.customer_id, i.customer_id, i.customer_id FROM {inst} i
        WHERE i.company_id = %s AND ({windows_i})
        UNION ALL
        SELECT c.customer_id, c.customer_id, c.customer_id FROM {inv} c
        WHERE c.company_id = %s AND c.kind = '{DocKind.CREDIT_NOTE.value}' AND ({windows_c})"""
    params = [company.pk, day, summary, company.pk, day, summary, company.pk, *window_params,
              company.pk, *window_params]
    if limit is not None:
        # a first count on the indexes alone (no table read), capped: rows are at least as
        # many as their customers, and a day whose moving starts and allocations hold more
        # than twice the limit in rows is read from the items without looking further
        cap = 2 * limit + 1
        with connection.cursor() as cur:
            cur.execute(f"""
                SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM {alloc} a WHERE a.company_id = %s
                                              AND a.date > %s AND a.date <= %s LIMIT %s) x)
                     + (SELECT COUNT(*) FROM (SELECT 1 FROM {inst} i WHERE i.company_id = %s
                                              AND ({windows_i}) LIMIT %s) y)""",
                        [company.pk, day, summary, cap, company.pk, *window_params, cap])
            if int(cur.fetchone()[0]) > 2 * limit:
                return None
    out: set[int] = set()
    with connection.chunked_cursor() as cur:
        cur.execute(sql, params)
        while rows := cur.fetchmany(2000):
            for row in rows:
                out.update(int(i) for i in row if i is not None)
            if limit is not None and len(out) > limit:
                return None
    return out


def summary_rolled_back(company: Company, scope: AgingScope, *,
                        share: float | None = None, day: Any = _ASK) -> SummaryRead | None:
    """What ``summary_read`` answers, for a day before the summary's: the summary's rows of
    every customer whose aging cannot differ between the two days (``touched_customers``),
    and the aging's own query, on the day, for the others (``CHUNK`` customers a
    statement, as a refresh computes them); None when the summary cannot answer the scope
    (not the default buckets by due date, no summary, a day not before it) or when the
    customers to read from the items are more than ``share`` of the summary's (the whole
    day from the items then costs less). The rows of a customer may then be several per
    currency (the parts of the query): the report adds them up, as it does an alias's."""
    if not _usable(company, scope) or scope.customer_id is not None:
        return None
    summary = summary_day(company) if day is _ASK else day
    if summary is None or scope.as_of >= summary:
        return None
    held = AgingSummaryRow.objects.filter(company=company).count()
    touched = touched_customers(company, scope.as_of, summary, limit=int(
        (ROLLBACK_SHARE if share is None else share) * held))
    if touched is None:
        return None
    kept = summary_read(company, _day_of(scope, summary), day=summary)
    if kept is None:
        return None
    rows = [r for r in kept.rows if r[0] not in touched]
    ids = sorted(touched)
    cust = Customer._meta.db_table
    for k in range(0, len(ids), CHUNK):
        chunk = ids[k:k + CHUNK]
        part = AgingScope(as_of=scope.as_of, buckets=scope.buckets, by=scope.by,
                          customer_id=chunk[0], family=tuple(chunk), country=scope.country,
                          currency=scope.currency)
        (with_sql, grouped), params, _ = grouped_by_customer(company, part)
        with connection.cursor() as cur:
            cur.execute(f"""{with_sql}
                SELECT c.id, c.code, c.name, c.country, c.merged_into_id, g.*
                FROM ({grouped}) g JOIN {cust} c ON c.id = g.customer_id""", params)
            # (…, customer id, currency, amounts, bases, items): the customer id once
            rows += [(*r[:5], *r[6:]) for r in cur.fetchall()]
    if summary_day(company) != summary:
        return None
    return SummaryRead(rows, kept.survivors, _totals(rows))


def _day_of(scope: AgingScope, day: date) -> AgingScope:
    return AgingScope(as_of=day, buckets=scope.buckets, by=scope.by,
                      customer_id=scope.customer_id, family=scope.family,
                      country=scope.country, currency=scope.currency)


def _totals(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """(currency, six amounts, six base amounts, items) per currency of ``rows``."""
    per: dict[str, list[int]] = {}
    for r in rows:
        opens = r[6:6 + _N]
        bases = opens if r[6 + _N] is None else r[6 + _N:6 + 2 * _N]
        cell = per.setdefault(r[5], [0] * (2 * _N + 1))
        for k, v in enumerate((*opens, *bases, r[6 + 2 * _N])):
            cell[k] += int(v)
    return [(currency, *cell) for currency, cell in per.items()]


# The first owners ``summary_page_span`` reads in code order, doubled on each further read
# (at most ``SPAN_MOST``), for at most ``SPAN_RUNS`` reads: a page near the start reads a few
# hundred customers, not 100,000; a page further on is found by one window over them all.
SPAN_FIRST = 128
SPAN_MOST = 16384
SPAN_RUNS = 3


def summary_page_span(company: Company, scope: AgingScope, *, size: int, offset: int
                      ) -> tuple[list[int], int] | None:
    """Where a page of the aging's items (``size`` items after the first ``offset``, by the
    code of the customer they are reported under, then date) lies, from the summary's
    counts of items: the ids of the customers whose items the page spans (a survivor of a
    merge with its aliases) and how many of their items come before the page; None when the
    summary is not of the scope's day. The counts do not depend on the buckets nor on the
    date the items are aged by: the summary counts the items open on its day. The owners
    are walked in code order a run at a time (the customers' unique index on the code), each
    run's counts summed by the database from the summary's rows of its customers (by the
    summary's index), until the page's end is passed: a page near the start reads a few
    hundred rows, instead of grouping and sorting every customer's (which spilled to disk on
    PostgreSQL at 100,000 customers)."""
    if summary_day(company) != scope.as_of:
        return None
    where, params = _where(company, scope)
    table, cust = AgingSummaryRow._meta.db_table, Customer._meta.db_table
    span: list[tuple[int, int]] = []
    upto, end, after, run, runs = 0, offset + size, None, SPAN_FIRST, 0
    with connection.cursor() as cur:
        while upto < end:
            if runs == SPAN_RUNS:  # far from the start: every owner's running total at once
                span = _span_by_window(cur, where, params, offset=offset, size=size)
                break
            runs += 1
            # a run of owners by code (any customer: an alias's items count under its
            # survivor, as ``COALESCE(merged_into_id, id)``), with their items on the day
            cur.execute(f"""
                WITH o AS (
                    SELECT id, code FROM {cust}
                    WHERE company_id = %s{" AND code > %s" if after is not None else ""}
                    ORDER BY code LIMIT %s
                ), m AS (
                    SELECT o.id AS owner, c.id AS cid FROM o JOIN {cust} c ON c.id = o.id
                    WHERE c.merged_into_id IS NULL
                    UNION ALL
                    SELECT o.id, c.id FROM o JOIN {cust} c ON c.merged_into_id = o.id
                ), t AS (
                    SELECT m.owner AS owner, SUM(s.items) AS n
                    FROM m JOIN {cust} c ON c.id = m.cid
                    JOIN {table} s ON s.customer_id = c.id
                    WHERE {where}
                    GROUP BY m.owner
                )
                SELECT o.id, o.code, CAST(COALESCE(t.n, 0) AS BIGINT)
                FROM o LEFT JOIN t ON t.owner = o.id
                ORDER BY o.code""",
                [company.pk, *([after] if after is not None else []), run, *params])
            rows = cur.fetchall()
            for owner, _code, n in rows:
                if n <= 0:  # nothing open (the whole walk's ``HAVING SUM(items) > 0``)
                    continue
                if upto + n > offset:
                    span.append((int(owner), upto))
                upto += int(n)
                if upto >= end:
                    break
            if len(rows) < run:
                break  # the last customer read
            after, run = rows[-1][1], min(run * 2, SPAN_MOST)
        if not span:
            return [], 0
        owners = [owner for owner, _ in span]
        marks = ", ".join(["%s"] * len(owners))
        cur.execute(f"""SELECT id FROM {cust} WHERE company_id = %s
                        AND (id IN ({marks}) OR merged_into_id IN ({marks}))""",
                    [company.pk, *owners, *owners])
        ids = sorted(int(i) for (i,) in cur.fetchall())
    if summary_day(company) != scope.as_of:
        return None
    return ids, offset - span[0][1]


def _span_by_window(cur: Any, where: str, params: list[Any], *, offset: int, size: int
                    ) -> list[tuple[int, int]]:
    """The owners a page spans and the items before each, from every owner's running total
    in code order (a window over all of them): what a page far from the start costs less
    by than by runs."""
    table, cust = AgingSummaryRow._meta.db_table, Customer._meta.db_table
    cur.execute(f"""
        WITH owners AS (
            SELECT COALESCE(c.merged_into_id, c.id) AS owner, o.code AS code,
                   CAST(SUM(s.items) AS BIGINT) AS n
            FROM {table} s JOIN {cust} c ON c.id = s.customer_id
            JOIN {cust} o ON o.id = COALESCE(c.merged_into_id, c.id)
            WHERE {where}
            GROUP BY COALESCE(c.merged_into_id, c.id), o.code
            HAVING SUM(s.items) > 0
        ), run AS (
            SELECT owner, code, n,
                   SUM(n) OVER (ORDER BY code ROWS UNBOUNDED PRECEDING) AS upto
            FROM owners
        )
        SELECT owner, upto - n FROM run WHERE upto > %s AND upto - n < %s
        ORDER BY code""", [*params, offset, offset + size])
    return [(int(owner), int(before)) for owner, before in cur.fetchall()]


def _where(company: Company, scope: AgingScope) -> tuple[str, list[Any]]:
    where, params = "s.company_id = %s", [company.pk]
    if scope.customer_id is not None:
        ids = scope.family or (scope.customer_id,)
        where += f" AND s.customer_id IN ({', '.join(['%s'] * len(ids))})"
        params += list(ids)
    if scope.currency:
        where += " AND s.currency = %s"
        params.append(scope.currency)
    if scope.country:
        where += " AND c.country = %s"
        params.append(scope.country)
    return where, params


@dataclass(frozen=True)
class SummaryTotals:
    """What a dashboard shows of the day: the buckets in base currency and per document
    currency, the number of items, and the customers most overdue."""

    base: list[int]
    by_currency: dict[str, list[int]]
    items: int
    # (owner id, code, name, country, overdue, balance), most overdue first, then by code
    top: list[tuple[int, str, str, str, int, int]]


def summary_totals(company: Company, *, as_of: date, top: int) -> SummaryTotals | None:
    """The totals of the summary of ``as_of`` and its ``top`` customers most overdue (a day
    or more: every bucket but ``current``), summed, ranked and cut in the database; None
    when the summary is not of that day."""
    if summary_day(company) != as_of:
        return None
    overdue = " + ".join(f"s.{c}" for c in _BASES[1:])
    balance = " + ".join(f"s.{c}" for c in _BASES)
    with connection.cursor() as cur:
        # the totals kept (not the 100,000 rows summed)
        rows = _kept_totals(cur, company.pk)
        # a customer has a row per currency it has something open in: at most as many
        # rows as the totals have currencies
        ranked = [] if top <= 0 else _ranked(cur, company, overdue, balance, top,
                                             max(1, len(rows)))
    if summary_day(company) != as_of:
        return None
    base = [0] * _N
    by_currency: dict[str, list[int]] = {}
    items = 0
    for row in rows:
        by_currency[row[0]] = [int(a) for a in row[1:1 + _N]]
        for k in range(_N):
            base[k] += int(row[1 + _N + k])
        items += int(row[1 + 2 * _N])
    return SummaryTotals(base, by_currency, items, [
        (int(i), code, name, country, int(late), int(bal))
        for i, code, name, country, late, bal in ranked])


def _ranked(cur: Any, company: Company, overdue: str, balance: str, top: int,
            currencies: int) -> list[tuple[Any, ...]]:
    """The ``top`` owners most overdue, then by code: (id, code, name, country, overdue,
    balance). A floor first, from the rows alone (the ``top`` largest overdue amounts of a
    row: a top-N of the rows, neither grouped nor joined); then the owners are summed, with
    their codes, from the customers who may reach it, and every customer in a merge (few:
    the partial index ``customer_merged``). A customer whose rows sum to the floor or more
    has one row at least the floor divided by its rows, of which it has at most
    ``currencies``: those are the customers a row of which, times ``currencies``, reaches
    the floor (a scan of the rows, not a grouping of them). When fewer than ``top`` owners
    reach the floor (a customer's rows that offset each other, an alias's credit notes
    overdue), the owners left out may rank among them: every customer with a row overdue
    is summed then. Whatever the floor, the answer is the owners' ranking: a floor only
    chooses how many are summed."""
    table = AgingSummaryRow._meta.db_table
    cur.execute(f"""
        SELECT {overdue} AS late FROM {table} s WHERE s.company_id = %s
        ORDER BY late DESC LIMIT %s""", [company.pk, top])
    lates = [int(r[0]) for r in cur.fetchall()]
    floor = max(1, lates[-1]) if len(lates) == top else 1
    ranked = _owners_from(cur, company, overdue, balance, top, floor, currencies)
    if floor > 1 and (len(ranked) < top or int(ranked[-1][4]) < floor):
        ranked = _owners_from(cur, company, overdue, balance, top, 1, currencies)
    return ranked


def _owners_from(cur: Any, company: Company, overdue: str, balance: str, top: int,
                 floor: int, currencies: int) -> list[tuple[Any, ...]]:
    table, cust = AgingSummaryRow._meta.db_table, Customer._meta.db_table
    cur.execute(f"""
        SELECT o.id, o.code, o.name, o.country,
               CAST(SUM({overdue}) AS BIGINT) AS late, CAST(SUM({balance}) AS BIGINT)
        FROM {table} s
        JOIN {cust} c ON c.id = s.customer_id
        JOIN {cust} o ON o.id = COALESCE(c.merged_into_id, c.id)
        WHERE s.company_id = %s AND (
            s.customer_id IN (SELECT t.customer_id FROM {table} t WHERE t.company_id = %s
                              AND %s * ({overdue.replace("s.", "t.")}) >= %s)
            OR COALESCE(c.merged_into_id, c.id) IN (
                SELECT m.merged_into_id FROM {cust} m
                WHERE m.company_id = %s AND m.merged_into_id IS NOT NULL)
            OR c.merged_into_id IS NOT NULL)
        GROUP BY o.id, o.code, o.name, o.country
        HAVING SUM({overdue}) > 0
        ORDER BY late DESC, o.code LIMIT %s""",
                [company.pk, company.pk, currencies, floor, company.pk, top])
    return list(cur.fetchall())


def summary_drift(company: Company) -> list[str]:
    """Where the summary differs from the books (the aging's query on the summary's day):
    one line per customer and currency that differs, none when it is exact."""
    day = summary_day(company)
    if day is None:
        return []
    (with_sql, grouped), params, _ = grouped_by_customer(company, _scope(day))
    live: dict[tuple[int, str], list[int]] = {}
    with connection.cursor() as cur:
        cur.execute(f"{with_sql} SELECT * FROM ({grouped}) g", params)
        for row in cur.fetchall():
            opens = [int(a) for a in row[2:2 + _N]]
            bases = opens if row[2 + _N] is None else [int(b) for b in row[2 + _N:2 + 2 * _N]]
            cell = live.setdefault((int(row[0]), row[1]), [0] * (2 * _N + 1))
            for k, v in enumerate([*opens, *bases, int(row[2 + 2 * _N])]):
                cell[k] += v
    kept = {(int(r[0]), r[1]): [int(v) for v in r[2:]] for r in
            AgingSummaryRow.objects.filter(company=company).values_list(
                "customer_id", "currency", *_OPENS, *_BASES, "items")}
    out = []
    for key in sorted(set(live) | set(kept)):
        if live.get(key) != kept.get(key):
            out.append(f"customer {key[0]} {key[1]} on {day}: summary {kept.get(key)}, "
                       f"books {live.get(key)}")
    # the totals kept against the rows' sums
    summed: dict[str, list[int]] = {}
    for (_, currency), values in kept.items():
        cell = summed.setdefault(currency, [0] * len(values))
        for k, v in enumerate(values):
            cell[k] += v
    totals = {r[0]: [int(v) for v in r[1:]] for r in
              AgingSummaryTotal.objects.filter(company=company).values_list(
                  "currency", *_SUMMED)}
    for currency in sorted(set(summed) | set(totals)):
        if summed.get(currency) != totals.get(currency):
            out.append(f"totals {currency} on {day}: kept {totals.get(currency)}, "
                       f"rows {summed.get(currency)}")
    return out


def summary_group_page(company: Company, scope: AgingScope, *, size: int, offset: int,
                       day: Any = _ASK
                       ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]] | None:
    """One page of the aging per customer group (``segments.py``: the code of the
    customer's parent, or its own; an alias in its survivor's group) from the summary: the
    ``size`` groups after the first ``offset`` in the order of ``aging_by_segment`` (every
    group of the company, with something open in the scope or not), each as (group, owners
    with a row the scope keeps, six base amounts), and the totals of the whole scope as
    ``SummaryRead.totals``; None when the summary cannot answer the scope. The groups are
    listed, ordered and cut by the database (one query), and only the page's are summed,
    from their heads' children (the index of parents) and the aliases of those (the
    partial index of merges): no record per customer of the day."""
    if not _usable(company, scope):
        return None
    if (summary_day(company) if day is _ASK else day) != scope.as_of:
        return None
    table, cust = AgingSummaryRow._meta.db_table, Customer._meta.db_table
    # Python's order of the codes (code points), whatever the database's collation
    collate = ' COLLATE "C"' if connection.vendor == "postgresql" else ""
    where, params = _where(company, scope)
    with connection.cursor() as cur:
        # every owner's group: an owner is a customer not merged, or a survivor of a merge
        cur.execute(f"""
            SELECT g.seg FROM (
                SELECT DISTINCT COALESCE(p.code, o.code) AS seg
                FROM {cust} o LEFT JOIN {cust} p ON p.id = o.parent_id
                WHERE o.company_id = %s AND (o.merged_into_id IS NULL OR o.id IN (
                    SELECT m.merged_into_id FROM {cust} m
                    WHERE m.company_id = %s AND m.merged_into_id IS NOT NULL))) g
            ORDER BY CASE WHEN g.seg IN ({", ".join(["%s"] * len(SIZE_BANDS))}) THEN 0
                          ELSE 1 END, g.seg{collate}
            LIMIT %s OFFSET %s""", [company.pk, company.pk, *SIZE_BANDS, size, offset])
        segs = [s for (s,) in cur.fetchall()]
        sums: dict[str, tuple[Any, ...]] = {}
        if segs:
            marks = ", ".join(["%s"] * len(segs))
            bases = ", ".join(f"CAST(SUM(s.{c}) AS BIGINT)" for c in _BASES)
            # the page's groups' owners: the heads' children (the index of parents) and
            # the heads on their own; their rows, and their aliases' (the partial index of
            # merges), found by their ids (``+``: SQLite is kept from reading every row of
            # the company by its index), then grouped as ``customer_segments`` groups
            plus = "+" if connection.vendor == "sqlite" else ""
            cur.execute(f"""
                WITH owners AS (
                    SELECT o.id FROM {cust} o WHERE o.parent_id IN (
                        SELECT h.id FROM {cust} h WHERE h.company_id = %s
                        AND h.code IN ({marks}))
                    UNION ALL
                    SELECT h.id FROM {cust} h WHERE h.company_id = %s
                    AND h.code IN ({marks}) AND h.parent_id IS NULL
                )
                SELECT COALESCE(p.code, o.code) AS seg, COUNT(DISTINCT o.id), {bases}
                FROM {table} s JOIN {cust} c ON c.id = s.customer_id
                JOIN {cust} o ON o.id = COALESCE(c.merged_into_id, c.id)
                LEFT JOIN {cust} p ON p.id = o.parent_id
                WHERE {plus}{where} AND s.customer_id IN (
                    SELECT m.id FROM {cust} m WHERE m.id IN (SELECT id FROM owners)
                    AND m.merged_into_id IS NULL
                    UNION ALL
                    SELECT a.id FROM {cust} a WHERE a.merged_into_id IN (
                        SELECT id FROM owners))
                GROUP BY COALESCE(p.code, o.code)""",
                        [company.pk, *segs, company.pk, *segs, *params])
            sums = {r[0]: r for r in cur.fetchall()}
        totals = _scope_totals(cur, scope, where, params)
    # a build for another day committed meanwhile: the rows read may be its
    if summary_day(company) != scope.as_of:
        return None
    zero = (0,) * (1 + _N)
    rows = [(s, *(int(v) for v in sums[s][1:])) if s in sums else (s, *zero) for s in segs]
    return rows, totals
