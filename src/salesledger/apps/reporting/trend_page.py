"""What the trends page shows (docs/design/kpis.md, "Kept trend cohorts"): the trends of
``selectors.trend_report``, whose cohorts of the company (by cohort, no filter) are read from
those kept; a cohort not kept, or stale, is computed in the request from the books, as the
command computes it, and the worker is queued (once) to keep it for the next page.
"""

from __future__ import annotations

from datetime import date

from salesledger.apps.core.models import Company

from .selectors import ReportFilters, TrendRow, trend_report
from .tasks import trend_recompute_later


def trends_page(company: Company, *, as_of: date, months: int = 12, by: str = "cohort",
                filters: ReportFilters | None = None) -> list[TrendRow]:
    """The page's trends of ``as_of``; the worker queued for the cohorts computed."""
    live: list[str] = []
    rows = trend_report(company, as_of=as_of, months=months, by=by,
                        filters=filters or ReportFilters(), live=live)
    if live:
        trend_recompute_later(company, live, day=as_of)
    return rows
