"""The cash-flow forecast, kept (docs/design/forecast.md, "The kept forecast").

The forecast of a day reads every item open on it (a million at the issue's size: 1.4 to
1.9 CPU s), more than a page may spend (issue 16: 200 ms). So its weeks are kept per company,
day, currency view and number of weeks (``KeptForecast``), stamped with the company's audit
chain's last sequence number read *before* the books.

Why that stamp: every writer of what the forecast reads audits in its own transaction (open
items: posting, allocations, their reversals, adjustments and theirs; the recurring schedules,
their stop and resume and the invoices they issue; promises and plans, made and observed;
exchange rates, by hand or imported; the stored payment models; payment terms, a customer's
terms, merges and unmerges; the company's settings: the list, writer by writer, is in the
design note), and the chain's head moves exactly when such a transaction commits (it is
locked and moved in it). A row whose stamp is the head is the forecast of the books as they
are; a row computed while a change committed carries the head of before it, so it is stale
once that change is visible. The stamp is cautious: any audited change of the company (a
note, a contact) makes the row stale too, where a version moved by chosen events would not;
but such a version misses a change the day a writer of an input is added without its event,
and an unaudited writer already breaks a house rule that a test of each input holds.
``rules`` marks the code's own version of the forecast (and of the payment model's features
and library, which decide whether a stored model is used), so a row made by other rules is
stale too.

The page reads a row (``kept_forecast``, one query); when there is none it computes the
forecast and keeps it (``forecast_keep``); the worker keeps each company's forecast of its
today every night and computes again a stale row a page asked for. The command line always
computes. ``salesledger check`` compares each fresh row with the forecast computed again
(``kept_drift``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib.metadata import version

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from salesledger.apps.core.models import AuditChain, Company
from salesledger.apps.credit.prediction import MODEL_VERSION
from salesledger.domain.aging import parse_buckets
from salesledger.domain.forecast import Weeks
from salesledger.money import format_minor

from .aging import AgingScope
from .forecast import ForecastFilter, estimator_for, forecast
from .models import KeptForecast

# The forecast's rules as this code computes them: raise the first number when a change of
# the code changes what a forecast gives for the same books. The payment model's features'
# version and the library's choose whether a stored model is used (``payment_model_latest``).
RULES = f"1/model-{MODEL_VERSION}/scikit-learn-{version('scikit-learn')}"

# Kept rows computed this long before a row is kept are removed then (a day nobody asked
# for since: computed again if asked).
KEPT_DAYS = timedelta(days=31)

_COLUMNS = ("naive", "expected", "low", "high")


@dataclass(frozen=True)
class Kept:
    """A kept forecast as a page shows it."""

    pk: int
    weeks: Weeks
    estimator: str
    computed_at: datetime
    fresh: bool  # nothing it reads has changed since (else: stale, to compute again)
    queued_at: datetime | None


def chain_head(company_id: int) -> int:
    """The company's audit chain's last sequence number (0 before its first event)."""
    return AuditChain.objects.filter(company_id=company_id).values_list(
        "last_seq", flat=True).first() or 0


def view_filter(day: date, currency: str) -> ForecastFilter | None:
    """The forecast of the company (``""``) or of a document currency's documents, in it:
    the filter ``selectors.cash_forecast`` makes of a document currency alone."""
    if not currency:
        return None
    return ForecastFilter(AgingScope(as_of=day, buckets=parse_buckets("current"),
                                     currency=currency))


def kept_forecast(company: Company, *, day: date, currency: str = "", weeks: int = 13
                  ) -> Kept | None:
    """The kept forecast of ``day`` in ``currency`` over ``weeks``, fresh or stale; None when
    none is kept. One query (the chain's head read in it)."""
    head = AuditChain.objects.filter(company_id=OuterRef("company_id")).values("last_seq")[:1]
    row = (KeptForecast.objects.filter(company=company, day=day, currency=currency,
                                       weeks=weeks)
           .annotate(head=Subquery(head))
           .values("pk", "estimator", "stamp", "rules", "naive", "expected", "low", "high",
                   "computed_at", "queued_at", "head").first())
    if row is None:
        return None
    return Kept(row["pk"], Weeks(*(list(row[c]) for c in _COLUMNS)), row["estimator"],
                row["computed_at"],
                row["stamp"] == (row["head"] or 0) and row["rules"] == RULES,
                row["queued_at"])


def forecast_keep(company: Company, *, day: date, currency: str = "", weeks: int = 13
                  ) -> Weeks:
    """Compute the forecast of ``day`` in ``currency`` over ``weeks`` (the estimator a
    forecast of the day takes) and keep it, stamped with the chain's head read before the
    books; returns it."""
    stamp = chain_head(company.pk)  # before the books: a change committed meanwhile shows
    estimator = estimator_for(company, day)
    w = forecast(company, as_of=day, weeks=weeks, estimator=estimator,
                 only=view_filter(day, currency))
    now = timezone.now()
    KeptForecast.objects.bulk_create(
        [KeptForecast(company=company, day=day, currency=currency, weeks=weeks,
                      estimator=estimator, stamp=stamp, rules=RULES, naive=w.naive,
                      expected=w.expected, low=w.low, high=w.high, computed_at=now,
                      queued_at=None)],
        update_conflicts=True, unique_fields=["company", "day", "currency", "weeks"],
        update_fields=["estimator", "stamp", "rules", "naive", "expected", "low", "high",
                       "computed_at", "queued_at"])
    KeptForecast.objects.filter(company=company, computed_at__lt=now - KEPT_DAYS).delete()
    return w


def recompute_claim(kept: Kept, *, now: datetime, after: timedelta) -> bool:
    """Mark a stale row as asked to be computed again, unless it was asked within ``after``
    (a job queued and not run yet); whether this caller should queue the job. One
    conditional update: of two pages at once, one queues it."""
    rows = KeptForecast.objects.filter(pk=kept.pk, computed_at=kept.computed_at)
    if kept.queued_at is not None:
        rows = rows.filter(queued_at__lt=now - after)
    return bool(rows.update(queued_at=now))


def kept_drift(company: Company) -> list[str]:
    """Where a fresh kept forecast differs from the forecast computed again with its
    estimator: one line per week and view that differ, amounts in major units with their
    currency. Stale rows are not findings (a page shows them as stale); none is reported
    when the chain moved while the check computed."""
    head = chain_head(company.pk)
    out: list[str] = []
    rows = KeptForecast.objects.filter(company=company, stamp=head, rules=RULES).order_by(
        "day", "currency", "weeks")
    for row in rows:
        w = forecast(company, as_of=row.day, weeks=row.weeks, estimator=row.estimator,
                     only=view_filter(row.day, row.currency))
        money = row.currency or company.base_currency
        whose = (f"{row.currency} documents" if row.currency
                 else "the company's currency at the booking rates")
        for k in range(row.weeks):
            kept = {c: getattr(row, c)[k] if k < len(getattr(row, c)) else None
                    for c in _COLUMNS}
            diffs = [f"{c} kept "
                     + ("nothing" if kept[c] is None else format_minor(kept[c], money))
                     + f", books {format_minor(getattr(w, c)[k], money)}"
                     for c in _COLUMNS if kept[c] != getattr(w, c)[k]]
            if diffs:
                out.append(f"company {company.code}, forecast of {row.day} over {row.weeks} "
                           f"weeks, {whose}, week {k + 1}: " + "; ".join(diffs))
    return out if chain_head(company.pk) == head else []
