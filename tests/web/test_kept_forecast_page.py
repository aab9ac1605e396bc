"""The forecast page reads the kept forecast of its day (docs/design/forecast.md, "The kept
forecast"): the first request computes and keeps it, the next read it in a few queries and
say when it was computed; after a change it shows the kept one as being computed again and
queues the worker's job once; the job keeps it again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from salesledger.apps.reporting.forecast_keep import kept_forecast
from salesledger.apps.reporting.models import KeptForecast
from salesledger.apps.reporting.selectors import ReportFilters, cash_forecast
from salesledger.apps.reporting.tasks import forecast_keep_task

from .conftest import AS_OF

pytestmark = pytest.mark.usefixtures("no_pdf_freezing")

URL = f"/c/acme/reports/forecast/?as_of={AS_OF}"
DAY = date.fromisoformat(AS_OF)
# the page read from a fresh kept forecast: the session and the workspace's (user,
# membership, company), the kept row with the chain's head, and what the layout reads
FRESH_BUDGET = 8


def _queued() -> list[Any]:
    return list(DBTaskResult.objects.filter(task_path=forecast_keep_task.module_path))


def _expected(response: Any) -> list[int]:
    return [row[3] for row in response.context["rows"]]


def test_the_page_keeps_then_reads_the_forecast_and_says_when_it_was_computed(
        books: dict[str, Any], as_user: Callable[[Any], Any],
        django_assert_max_num_queries: Any) -> None:
    company = books["company"]
    client = as_user(books["clerk"])
    first = client.get(URL)
    assert first.status_code == 200 and "Computed at" in first.content.decode()
    assert kept_forecast(company, day=DAY) is not None and _queued() == []
    with django_assert_max_num_queries(FRESH_BUDGET, info="fresh kept forecast"):
        second = client.get(URL)
    text = second.content.decode()
    assert "Computed at" in text and "recomputing" not in text
    assert _expected(second) == _expected(first) == cash_forecast(company, as_of=DAY).expected
    # a document currency is a view of its own; a set of customers is computed, not kept
    assert client.get(URL + "&document_currency=EUR").status_code == 200
    assert kept_forecast(company, day=DAY, currency="EUR") is not None
    mine = client.get(URL + "&customer=C001")
    assert "Computed at" not in mine.content.decode()
    assert KeptForecast.objects.filter(company=company).count() == 2


def test_a_change_shows_it_as_recomputing_and_queues_the_job_once(
        books: dict[str, Any], as_user: Callable[[Any], Any], post_invoice: Any,
        django_assert_max_num_queries: Any) -> None:
    company = books["company"]
    client = as_user(books["owner"])
    before = _expected(client.get(URL))
    post_invoice("C001", lines=(("More consulting", 1, "400.00", "20"),))
    with django_assert_max_num_queries(FRESH_BUDGET + 4, info="stale: the job queued"):
        stale = client.get(URL)
    assert "recomputing" in stale.content.decode()
    assert _expected(stale) == before  # what was kept, as it was
    [job] = _queued()
    assert job.args_kwargs["args"] == ["acme", AS_OF, "", 13]
    client.get(URL)
    assert len(_queued()) == 1  # asked once until it ran
    # the worker's job keeps it again: fresh, the forecast of the books with the invoice
    forecast_keep_task.call(*job.args_kwargs["args"])
    now = client.get(URL)
    assert "recomputing" not in now.content.decode()
    assert _expected(now) == cash_forecast(company, as_of=DAY,
                                           filters=ReportFilters()).expected != before
