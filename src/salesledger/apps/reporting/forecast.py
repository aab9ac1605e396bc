"""The cash-flow forecast and its backtest (docs/design/forecast.md).

``payment_delays`` is the one estimator of when an item will be paid: each customer's delays
(days from due date to payment) over the year before the forecast's day, read in one query;
the pure rules are in ``domain/forecast.py``. The open items of the day come from the aging
(exact for any past day), so a forecast made on a past day sees only what was known then, and
the backtest compares it with the receipts applied in the weeks after.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from itertools import chain

from django.db import connection

from salesledger.apps.core.models import Company
from salesledger.apps.credit.prediction import expected_dates, payment_model_usable
from salesledger.apps.customers.models import Customer
from salesledger.apps.invoicing.models import Instalment, Invoice
from salesledger.apps.payments.models import Allocation
from salesledger.apps.recurring.models import RecurringRun
from salesledger.apps.recurring.selectors import upcoming_instalments
from salesledger.domain.aging import parse_buckets
from salesledger.domain.errors import ValidationFailed
from salesledger.domain.forecast import (
    Delay,
    Weeks,
    committed,
    error,
    estimator,
    week_of,
    weekly,
)

from .aging import AgingScope, _day, aging_item_rows, customer_owners, open_sums_sql
from .kpis import days_between
from .providers import commitments

HISTORY_DAYS = 365


@dataclass(frozen=True)
class Estimator:
    own: dict[str, Delay]  # per customer code, for those with enough history
    company: Delay
    # the same delays per customer id (a code is one customer's in a company)
    own_by_id: dict[int, Delay] = field(default_factory=dict)

    def delay(self, customer: str) -> Delay:
        return self.own.get(customer, self.company)


def _delays_sql(company: Company, as_of: date) -> tuple[str, list[object]]:
    """The year's delays up to ``as_of``: a row per customer id and delay (days), with how
    many receipts applied showed it (``payment_delays``' definition, read by it and by the
    forecast's own-delay classes, ``_OWN_DELAYS``)."""
    a, i = Allocation._meta.db_table, Instalment._meta.db_table
    sql = f"""SELECT a.customer_id AS cid, {days_between('a.date', 'i.due_date')} AS days,
                     COUNT(*) AS n
              FROM {a} a JOIN {i} i ON i.id = a.instalment_id
              WHERE a.company_id = %s AND a.date > %s AND a.date <= %s
                    AND a.receipt_id IS NOT NULL AND COALESCE(a.reversal_of_id, 0) = 0
                    AND NOT EXISTS (SELECT 1 FROM {a} r WHERE r.reversal_of_id = a.id
                                    AND r.date <= %s)
              GROUP BY 1, 2"""
    # Counted per customer and delay by the database: a row per delay a customer has shown,
    # not per receipt applied. "Not a reversal" is written so that no index serves it: the
    # planner then reads the year's allocations by the index on company and date, not every
    # allocation the company ever made by the index on reversals.
    return sql, [company.pk, as_of - timedelta(days=HISTORY_DAYS), as_of, as_of]


def payment_delays(company: Company, as_of: date) -> Estimator:
    """Each customer's payment delays over the ``HISTORY_DAYS`` up to ``as_of``: every receipt
    applied to an instalment (not reversed by ``as_of``), from its due date."""
    delays, params = _delays_sql(company, as_of)
    sql = f"""SELECT c.code, d.cid, d.days, d.n FROM ({delays}) d
              JOIN {Customer._meta.db_table} c ON c.id = d.cid"""
    per: dict[str, list[int]] = defaultdict(list)
    ids: dict[str, int] = {}
    with connection.cursor() as cur:
        cur.execute(sql, params)
        for code, pk, days, n in cur.fetchall():
            per[code] += [int(days)] * int(n)
            ids[code] = int(pk)
    own, overall = estimator(dict(per))
    return Estimator(own, overall, {ids[code]: d for code, d in own.items()})


# The estimators of when an item will be paid: each payer's median delay, or the credit app's
# payment-date model (docs/design/payment-prediction.md). Unless one is asked for, the model
# when the company has a stored one usable on the day, else the median.
ESTIMATORS = ("median", "model")


def estimator_for(company: Company, as_of: date, asked: str | None = None) -> str:
    """The estimator a forecast on ``as_of`` uses: ``asked`` when given; else the payment
    model when the company has a stored one trained on or before the day (its backtest
    error is lower than the median's: docs/design/forecast.md#the-estimators), else each
    payer's median delay (no model, or a company with too little history for one)."""
    if asked is not None:
        if asked not in ESTIMATORS:
            raise ValidationFailed(
                f"--estimator {asked!r}: give one of {', '.join(ESTIMATORS)}", estimator=asked)
        return asked
    return "model" if payment_model_usable(company, as_of) else "median"


@dataclass(frozen=True)
class ForecastFilter:
    """The part of a company's receivables a forecast is of (``selectors._scope``): the
    open items of ``scope`` (its customers, their country, a document currency), and the
    ids of the customers it keeps (``None``: every one), whose recurring invoices and
    receipts count. The payers' delays are learned from every customer all the same: a
    payer's habit does not depend on who else is in the report. With a document currency
    every amount is in it, as invoiced (``in_document``), not in the company's currency."""

    scope: AgingScope
    customers: frozenset[int] | None = None

    @property
    def currency(self) -> str:
        return self.scope.currency


def in_document(only: ForecastFilter | None) -> str:
    """The document currency the amounts of a forecast (and its backtest) are in, or ``""``
    for the company's currency at the booking rates (docs/design/forecast.md)."""
    return only.currency if only is not None else ""


def forecast(company: Company, *, as_of: date, weeks: int = 13,
             estimator: str | None = None, only: ForecastFilter | None = None) -> Weeks:
    """Expected receipts per week after ``as_of`` from the items open on it (base currency;
    credit notes, which bring no cash, left out) and from the invoices the recurring
    schedules are still to issue in the weeks (``recurring_items``). With the ``model``
    estimator an open item is expected on its predicted date, between its 10th and 90th
    percentiles; an item the model has no date for (the recurring ones, not issued yet) takes
    its payer's median delay. Without ``estimator``, ``estimator_for`` chooses. ``only``:
    the forecast of a part of the receivables (``ForecastFilter``); with a document
    currency, of its items, in it."""
    estimator = estimator_for(company, as_of, estimator)
    est = payment_delays(company, as_of)
    predicted = expected_dates(company, as_of=as_of) if estimator == "model" else {}
    currency = in_document(only)
    column = "open" if currency else "base_open"

    def delay(r: dict[str, object]) -> Delay:
        due = r["due_date"]
        p = predicted.get((str(r["document"]), due))  # type: ignore[arg-type]
        if p is None:
            return est.delay(str(r["customer"]))
        days = [(d - due).days for d in p]  # type: ignore[operator]
        return Delay(days[0], days[1], days[2], 0)

    scope = (replace(only.scope, as_of=as_of) if only is not None
             else AgingScope(as_of=as_of, buckets=parse_buckets("current")))
    promised = [(c.customer_id, c.day, c.open if currency else c.amount)
                for c in commitments(company, as_of)
                if (c.currency == currency and c.open) or (not currency and c.amount)]
    recurring = recurring_items(company, as_of, weeks, est, only=only)
    items: Iterable[tuple[str, date, int, Delay]]
    if predicted:
        items = ((str(r["customer"]), r["due_date"], r[column], delay(r))
                 for r in aging_item_rows(company, scope) if r["type"] == "instalment")
    else:
        # An item due before ``floor`` lands in the first week whatever its payer's delay,
        # one due after ``ceiling`` beyond the last: the database sums each as one day.
        delays = [0, *(x for d in (est.company, *est.own.values())
                       for x in (d.median, d.early, d.late))]
        floor = as_of - timedelta(days=max(delays))
        ceiling = as_of + timedelta(days=7 * weeks - min(delays) + 1)
        if not promised:
            # No commitment to place: the weeks need each item's due date, amount and
            # payer's delay, not who owes it; the database sums the items per due date
            # and delay, a few thousand rows whatever the number of items
            return weekly(chain(_open_by_delay(company, scope, est, floor=floor,
                                               ceiling=ceiling, column=column),
                                recurring), as_of, weeks)
        # A payer's delay is the same for all its items, so the items of a customer due on
        # the same day fall in the same weeks: the database sums them, and the forecast
        # reads a row per customer and due date instead of one per item.
        sums = _open_rows(company, scope, floor=floor, ceiling=ceiling, column=column)
        owners = customer_owners(company, sorted({c for c, _, _ in sums}))
        items = ((owners[c][1], due, amount, est.delay(owners[c][1]))
                 for c, due, amount in sums)
    if promised:
        # what customers committed to pay (promises, plans: collections') is expected on
        # its day, taken from their items oldest first
        payers = customer_owners(company, sorted({c for c, _, _ in promised}))
        open_items = committed(items, ((payers[c][1], day, amount)
                                       for c, day, amount in promised))
    else:
        open_items = [(due, amount, d) for _, due, amount, d in items]
    return weekly(chain(open_items, recurring), as_of, weeks)


def _open_rows(company: Company, scope: AgingScope, *, floor: date, ceiling: date,
               column: str) -> list[tuple[int, date, int]]:
    """(customer id, due date, amount) of the instalments open on the day, summed per
    customer and due date (``aging.open_sums_sql``): the items of the commitments to place."""
    with_sql, with_params, body, params = open_sums_sql(
        company, scope, floor=floor, ceiling=ceiling, column=column,
        keys=["items.customer_id", "items.due"])
    with connection.cursor() as cur:
        cur.execute(with_sql + body, [*with_params, *params])
        rows = cur.fetchall()
    return [(int(c), _day(d), int(amount)) for c, d, amount in rows]


def _open_by_delay(company: Company, scope: AgingScope, est: Estimator, *, floor: date,
                   ceiling: date, column: str) -> list[tuple[date, int, Delay]]:
    """(due date, amount, delay) of the instalments open on the day, summed by the database
    per due date and payer's delay: what ``weekly`` gives for them is the same (it adds
    amounts), from a row per due date and delay instead of one per item. Each item takes
    the delay of the customer it is reported under (a merge's survivor), else the
    company's. Two sums: every item per due date; and the items of the customers with a
    delay of their own, per due date and delay, the customers given to the query as a
    table of their ids and their delay's number (integers read from the database, written
    into it), whose items are read by the index on customers. The company's delay takes
    the difference. Without customers of their own delay, the first sum alone."""
    # the delays of their own, numbered from 1, and the customers that take each: a
    # customer merged into another takes its survivor's (the merged are few: the partial
    # index ``customer_merged``)
    kinds: dict[Delay, int] = {}
    payer = {pk: kinds.setdefault(d, len(kinds) + 1) for pk, d in est.own_by_id.items()}
    if payer:
        for alias, survivor in Customer.objects.filter(
                company=company, merged_into__gt=0).values_list("pk", "merged_into_id"):
            if survivor in est.own_by_id:
                payer[alias] = payer[survivor]
            else:
                payer.pop(alias, None)
    with_sql, with_params, body, params = open_sums_sql(
        company, scope, floor=floor, ceiling=ceiling, column=column, keys=["items.due"])
    with connection.cursor() as cur:
        cur.execute(with_sql + body, [*with_params, *params])
        everyone = cur.fetchall()
    if not payer:
        return [(_day(d), int(amount), est.company) for d, amount in everyone]
    values = ", ".join(f"({int(c)}, {int(k)})" for c, k in payer.items())
    with_sql, with_params, body, params = open_sums_sql(
        company, scope, floor=floor, ceiling=ceiling, column=column,
        keys=["items.due", "o.k"], payers="payer")
    own = f"payer(cid, k) AS (VALUES {values})"
    of = {k: d for d, k in kinds.items()}
    # the customers with a delay of their own: their items read by the index on customer
    # ids (the table of them the outer loop: CROSS JOIN keeps SQLite's order); every other
    # item is the company's, what is left of all items' sums per due date once theirs are
    # taken away (integers: exact)
    left: dict[date, int] = defaultdict(int)
    for d, amount in everyone:
        left[_day(d)] += int(amount)
    out: list[tuple[date, int, Delay]] = []
    with connection.cursor() as cur:
        cur.execute((f"{with_sql}, {own}" if with_sql else f"WITH {own}") + body,
                    [*with_params, *params])
        for d, k, amount in cur.fetchall():
            day = _day(d)
            left[day] -= int(amount)
            out.append((day, int(amount), of[int(k)]))
    return out + [(day, amount, est.company) for day, amount in left.items() if amount]


def recurring_items(company: Company, as_of: date, weeks: int, est: Estimator, *,
                    only: ForecastFilter | None = None) -> list[tuple[date, int, Delay]]:
    """(due date, base amount, the payer's delay) of each instalment of the invoices that
    the active recurring schedules will issue in the ``weeks`` after ``as_of`` (or should
    have issued by then and have not): the recurring app's own calculation of its periods,
    terms and totals; with ``only``, those of its customers and document currency, in it
    when it names one (``in_document``)."""
    until = as_of + timedelta(days=7 * weeks)
    upcoming = upcoming_instalments(company, after=as_of, until=until)
    if only is not None:
        codes = (None if only.customers is None else set(Customer.objects.filter(
            company=company, pk__in=only.customers).values_list("code", flat=True)))
        upcoming = [u for u in upcoming if (codes is None or u.customer in codes)
                    and (not only.currency or u.currency == only.currency)]
    currency = in_document(only)
    return [(u.due_date, u.amount if currency else u.base_amount, est.delay(u.customer))
            for u in upcoming]


def received(company: Company, *, as_of: date, weeks: int,
             only: ForecastFilter | None = None) -> list[int]:
    """What receipts paid, per week after ``as_of``, on the instalments of invoices issued
    by then and of those a recurring schedule issued after it, which the forecast counts too
    (base currency; reversals count on their own day); with ``only``, on the invoices of its
    customers and document currency, in it when it names one (what each receipt took off
    the instalments, as invoiced: ``in_document``)."""
    a, i, v = Allocation._meta.db_table, Instalment._meta.db_table, Invoice._meta.db_table
    run = RecurringRun._meta.db_table
    end = as_of + timedelta(days=7 * weeks)
    narrow, extra = "", []
    if only is not None and only.customers is not None:
        ids = sorted(only.customers) or [0]
        narrow += f" AND v.customer_id IN ({', '.join(['%s'] * len(ids))})"
        extra += ids
    if only is not None and only.currency:
        narrow += " AND v.currency = %s"
        extra.append(only.currency)
    paid = "a.amount" if in_document(only) else "a.base_receivable"
    sql = f"""SELECT a.date, SUM({paid}) FROM {a} a
              JOIN {i} i ON i.id = a.instalment_id JOIN {v} v ON v.id = i.invoice_id
              WHERE a.company_id = %s AND a.date > %s AND a.date <= %s
                    AND a.receipt_id IS NOT NULL
                    AND (v.issue_date <= %s OR EXISTS (
                         SELECT 1 FROM {run} r WHERE r.invoice_id = v.id)){narrow}
              GROUP BY a.date"""
    out = [0] * weeks
    with connection.cursor() as cur:
        cur.execute(sql, [company.pk, as_of, end, as_of, *extra])
        for day, amount in cur.fetchall():
            d = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
            out[week_of(d, as_of)] += int(amount)
    return out


@dataclass(frozen=True)
class BacktestRun:
    made_on: date
    forecast: Weeks
    actual: list[int]


@dataclass(frozen=True)
class Backtest:
    runs: list[BacktestRun]
    naive_error: Decimal | None  # percent, over every week of every run
    expected_error: Decimal | None


def backtest(company: Company, *, days: list[date], weeks: int = 13,
             estimator: str = "median", only: ForecastFilter | None = None) -> Backtest:
    """Forecasts made on each of ``days`` against what was received in the weeks after (with
    the ``model`` estimator, a model is trained for each day on what was known on it);
    with ``only``, of a part of the receivables, both sides."""
    runs = [BacktestRun(d, forecast(company, as_of=d, weeks=weeks, estimator=estimator,
                                    only=only),
                        received(company, as_of=d, weeks=weeks, only=only)) for d in days]
    actual = [a for r in runs for a in r.actual]
    return Backtest(runs, error([n for r in runs for n in r.forecast.naive], actual),
                    error([e for r in runs for e in r.forecast.expected], actual))
