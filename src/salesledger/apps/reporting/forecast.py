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

from .aging import AgingScope, aging_item_rows, customer_owners, open_by_due_date
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


def payment_delays(company: Company, as_of: date) -> Estimator:
    """Each customer's payment delays over the ``HISTORY_DAYS`` up to ``as_of``: every receipt
    applied to an instalment (not reversed by ``as_of``), from its due date."""
    a, i, cu = Allocation._meta.db_table, Instalment._meta.db_table, Customer._meta.db_table
    sql = f"""SELECT c.code, c.id, {days_between('a.date', 'i.due_date')}, COUNT(*)
              FROM {a} a JOIN {i} i ON i.id = a.instalment_id
                   JOIN {cu} c ON c.id = a.customer_id
              WHERE a.company_id = %s AND a.date > %s AND a.date <= %s
                    AND a.receipt_id IS NOT NULL AND COALESCE(a.reversal_of_id, 0) = 0
                    AND NOT EXISTS (SELECT 1 FROM {a} r WHERE r.reversal_of_id = a.id
                                    AND r.date <= %s)
              GROUP BY 1, 2, 3"""
    # Counted per customer and delay by the database: a row per delay a customer has shown,
    # not per receipt applied. "Not a reversal" is written so that no index serves it: the
    # planner then reads the year's allocations by the index on company and date, not every
    # allocation the company ever made by the index on reversals.
    per: dict[str, list[int]] = defaultdict(list)
    ids: dict[str, int] = {}
    with connection.cursor() as cur:
        cur.execute(sql, [company.pk, as_of - timedelta(days=HISTORY_DAYS), as_of, as_of])
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
    payer's habit does not depend on who else is in the report."""

    scope: AgingScope
    customers: frozenset[int] | None = None

    @property
    def currency(self) -> str:
        return self.scope.currency


def forecast(company: Company, *, as_of: date, weeks: int = 13,
             estimator: str | None = None, only: ForecastFilter | None = None) -> Weeks:
    """Expected receipts per week after ``as_of`` from the items open on it (base currency;
    credit notes, which bring no cash, left out) and from the invoices the recurring
    schedules are still to issue in the weeks (``recurring_items``). With the ``model``
    estimator an open item is expected on its predicted date, between its 10th and 90th
    percentiles; an item the model has no date for (the recurring ones, not issued yet) takes
    its payer's median delay. Without ``estimator``, ``estimator_for`` chooses. ``only``:
    the forecast of a part of the receivables (``ForecastFilter``)."""
    estimator = estimator_for(company, as_of, estimator)
    est = payment_delays(company, as_of)
    predicted = expected_dates(company, as_of=as_of) if estimator == "model" else {}

    def delay(r: dict[str, object]) -> Delay:
        due = r["due_date"]
        p = predicted.get((str(r["document"]), due))  # type: ignore[arg-type]
        if p is None:
            return est.delay(str(r["customer"]))
        days = [(d - due).days for d in p]  # type: ignore[operator]
        return Delay(days[0], days[1], days[2], 0)

    scope = (replace(only.scope, as_of=as_of) if only is not None
             else AgingScope(as_of=as_of, buckets=parse_buckets("current")))
    promised = commitments(company, as_of)
    items: Iterable[tuple[str, date, int, Delay]]
    if predicted:
        items = ((str(r["customer"]), r["due_date"], r["base_open"], delay(r))
                 for r in aging_item_rows(company, scope) if r["type"] == "instalment")
    else:
        # A payer's delay is the same for all its items, so the items of a customer due on
        # the same day fall in the same weeks: the database sums them, and the forecast
        # reads a row per customer and due date instead of one per item.
        # An item due before ``floor`` lands in the first week whatever its payer's delay,
        # one due after ``ceiling`` beyond the last: the database sums each as one day.
        delays = [0, *(x for d in (est.company, *est.own.values())
                       for x in (d.median, d.early, d.late))]
        sums = open_by_due_date(
            company, scope, floor=as_of - timedelta(days=max(delays)),
            ceiling=as_of + timedelta(days=7 * weeks - min(delays) + 1))
        if not promised:
            # No commitment to place: the weeks need each row's due date, amount and
            # delay, not who owes it; the rows of a due date whose payers share a delay
            # are added up first (the weeks are sums), keyed by the customer's id
            return weekly(chain(_by_delay(company, sums, est),
                                recurring_items(company, as_of, weeks, est, only=only)),
                          as_of, weeks)
        owners = customer_owners(company, sorted({c for c, _, _ in sums}))
        items = ((owners[c][1], due, amount, est.delay(owners[c][1]))
                 for c, due, amount in sums)
    if promised:
        # what customers committed to pay (promises, plans: collections') is expected on
        # its day, taken from their items oldest first
        payers = customer_owners(company, sorted({c.customer_id for c in promised}))
        open_items = committed(items, ((payers[c.customer_id][1], c.day, c.amount)
                                       for c in promised))
    else:
        open_items = [(due, amount, d) for _, due, amount, d in items]
    return weekly(chain(open_items, recurring_items(company, as_of, weeks, est, only=only)),
                  as_of, weeks)


def _by_delay(company: Company, sums: list[tuple[int, date, int]], est: Estimator
              ) -> list[tuple[date, int, Delay]]:
    """(due date, amount, delay) of the rows of ``open_by_due_date`` (customer id, due date,
    amount), those of a due date and a delay summed: what ``weekly`` gives for them is the
    same (it adds amounts), from fewer rows. Each row takes the delay of the customer its
    items are reported under (the survivor of a merge: ``customer_owners``), as the rows
    keyed by code do; the customers merged into another are few (the partial index
    ``customer_merged``), read alone, instead of every customer named."""
    survivor = dict(Customer.objects.filter(company=company, merged_into__gt=0)
                    .values_list("pk", "merged_into_id"))
    own, overall = est.own_by_id, est.company
    # keyed by the delay's identity: one object per customer with a history, and the
    # company's (hashing the dataclass's fields costs more, for the same sums)
    delays = {id(d): d for d in (overall, *own.values())}
    summed: dict[tuple[date, int], int] = defaultdict(int)
    for c, due, amount in sums:
        summed[due, id(own.get(survivor.get(c, c), overall))] += amount
    return [(due, amount, delays[d]) for (due, d), amount in summed.items()]


def recurring_items(company: Company, as_of: date, weeks: int, est: Estimator, *,
                    only: ForecastFilter | None = None) -> list[tuple[date, int, Delay]]:
    """(due date, base amount, the payer's delay) of each instalment of the invoices that
    the active recurring schedules will issue in the ``weeks`` after ``as_of`` (or should
    have issued by then and have not): the recurring app's own calculation of its periods,
    terms and totals; with ``only``, those of its customers and document currency."""
    until = as_of + timedelta(days=7 * weeks)
    upcoming = upcoming_instalments(company, after=as_of, until=until)
    if only is not None:
        codes = (None if only.customers is None else set(Customer.objects.filter(
            company=company, pk__in=only.customers).values_list("code", flat=True)))
        upcoming = [u for u in upcoming if (codes is None or u.customer in codes)
                    and (not only.currency or u.currency == only.currency)]
    return [(u.due_date, u.base_amount, est.delay(u.customer)) for u in upcoming]


def received(company: Company, *, as_of: date, weeks: int,
             only: ForecastFilter | None = None) -> list[int]:
    """What receipts paid, per week after ``as_of``, on the instalments of invoices issued
    by then and of those a recurring schedule issued after it, which the forecast counts too
    (base currency; reversals count on their own day); with ``only``, on the invoices of its
    customers and document currency."""
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
    sql = f"""SELECT a.date, SUM(a.base_receivable) FROM {a} a
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
