"""What the cash-flow forecast page shows (docs/design/forecast.md, "The kept forecast").

The forecast of the company, or of a document currency's documents, is read from the kept
forecast of the page's day (``forecast_keep.py``): as it is when fresh; when stale (something
it reads changed since it was computed) as it was, with the time it was computed, while the
worker computes it again (queued here, once). When none is kept the page computes it and
keeps it: the page must show figures, and what it computed is then the kept one, so the
worker does not compute the same forecast a second time. A forecast of a set of customers
(a customer, a group, a collector's, a country) is not kept: it is computed, as the command
line always computes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from django.utils import timezone

from salesledger.apps.core.models import Company
from salesledger.domain.forecast import Weeks

from .forecast_keep import forecast_keep, kept_forecast
from .selectors import ReportFilters, _weeks, cash_forecast, document_currency
from .tasks import forecast_recompute_later


@dataclass(frozen=True)
class PageForecast:
    weeks: Weeks
    # when the forecast shown was computed (kept); None: computed for this page, not kept
    computed_at: datetime | None = None
    stale: bool = False  # computed before a change to what it reads; being computed again


def forecast_page(company: Company, *, as_of: date, weeks: int = 13,
                  filters: ReportFilters | None = None) -> PageForecast:
    """The page's forecast of ``as_of`` over ``weeks``: kept, or computed (and kept)."""
    filters = filters or ReportFilters()
    currency = document_currency(filters)
    if replace(filters, currency="") != ReportFilters():
        return PageForecast(cash_forecast(company, as_of=as_of, weeks=weeks, filters=filters))
    weeks = _weeks(weeks)
    kept = kept_forecast(company, day=as_of, currency=currency, weeks=weeks)
    if kept is None:
        return PageForecast(forecast_keep(company, day=as_of, currency=currency, weeks=weeks),
                            timezone.now())
    if not kept.fresh:
        forecast_recompute_later(company, kept, day=as_of, currency=currency, weeks=weeks)
    return PageForecast(kept.weeks, kept.computed_at, not kept.fresh)
