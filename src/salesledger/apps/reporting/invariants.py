"""Reporting's invariants (registered with ``core.invariants``): the aging summary is what the
aging's query gives on its day (docs/design/reporting.md, "The aging summary"), and every KPI
figure kept at the company's current version is what the books give for its month
(docs/design/kpis.md, "Kept months"), and every fresh kept forecast is the forecast computed
again (docs/design/forecast.md, "The kept forecast"), and every trend cohort kept at its
version is the books' (docs/design/kpis.md, "Kept trend cohorts")."""

from __future__ import annotations

from collections.abc import Callable

from salesledger.apps.core.invariants import Problem, register
from salesledger.apps.core.models import Company

from .aging_summary import summary_drift
from .forecast_keep import kept_drift as forecast_drift
from .kpi_keep import kept_drift
from .trend_keep import kept_drift as trend_drift

# at most this many differences are named
SHOWN = 20


def aging_summary(company: Company, add: Callable[[Problem], None]) -> None:
    for line in summary_drift(company)[:SHOWN]:
        add(Problem("aging summary", line))


def kept_kpis(company: Company, add: Callable[[Problem], None]) -> None:
    """16. Every KPI figure kept at the company's current version is the books'."""
    for line in kept_drift(company)[:SHOWN]:
        add(Problem("kept KPIs", line))


def kept_forecast(company: Company, add: Callable[[Problem], None]) -> None:
    """17. Every fresh kept forecast is what the forecast gives now."""
    for line in forecast_drift(company)[:SHOWN]:
        add(Problem("kept forecast", line))


def kept_trends(company: Company, add: Callable[[Problem], None]) -> None:
    """19. Every trend cohort kept at its current version is what the books give."""
    for line in trend_drift(company)[:SHOWN]:
        add(Problem("kept trends", line))


def register_checks() -> None:
    register(15, aging_summary)
    register(16, kept_kpis)
    register(17, kept_forecast)
    register(19, kept_trends)
