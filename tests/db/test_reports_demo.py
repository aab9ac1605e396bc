"""The KPIs, trends and forecast backtest on the demo company: the KPIs agree with the aging
of each month end, and the forecast from payers' delays beats the naive due-date view."""

from __future__ import annotations

from datetime import date

import pytest

from salesledger.apps.core.selectors import company_resolve
from salesledger.apps.interchange.demo import DEMO_TODAY, demo_load
from salesledger.apps.reporting.selectors import (
    aging_report,
    forecast_backtest,
    kpi_report,
    trend_report,
)


@pytest.mark.django_db
def test_the_demo_company() -> None:
    demo_load(code="kpidemo", customers=25)
    company = company_resolve("kpidemo")
    today = DEMO_TODAY
    months = kpi_report(company, as_of=today, months=12)
    assert [m.month for m in months][-1] == "2026-10"
    for m in months:
        assert m.inputs.sales > 0 and m.kpis.dso is not None
        assert m.inputs.current_end <= m.inputs.receivable_end
    assert months[-1].inputs.receivable_end == aging_report(
        company, as_of=date(2026, 10, 31)).base_total
    cohorts = trend_report(company, as_of=today, months=12)
    assert sum(t.row.items for t in cohorts) > 0
    bt = forecast_backtest(company, as_of=today, weeks=13, runs=12)
    assert bt.naive_error is not None and bt.expected_error is not None
    print(f"demo backtest: naive {bt.naive_error} %, expected {bt.expected_error} %")
    assert bt.expected_error < bt.naive_error
