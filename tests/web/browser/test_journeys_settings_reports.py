"""Journeys through the settings, the portfolio and the reports in a real browser, with the
checks of test_journeys.py on every page (console, failed requests, axe-core)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .test_journeys import AS_OF, Watched, open_page, people, sign_in

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("emptied_after", "no_pdf_freezing")]
__all__ = ["open_page", "people"]  # the fixtures, shared


def test_an_owner_changes_the_company_profile(
        people: dict[str, Any], open_page: Callable[..., Watched], live_server: Any,
        shots: Path) -> None:
    base = live_server.url
    w = open_page(viewport={"width": 1280, "height": 900})
    page = w.page
    sign_in(w, base, "owner")
    page.goto(f"{base}/c/acme/")
    page.get_by_role("navigation", name="Workspace").get_by_role(
        "link", name="Settings").click()
    page.wait_for_url(f"{base}/c/acme/settings/")
    w.check("settings")
    page.get_by_label("City").fill("Lyon")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("status").wait_for()
    assert "saved" in page.get_by_role("status").inner_text()
    assert page.get_by_label("City").input_value() == "Lyon"
    w.check("settings saved")
    page.screenshot(path=str(shots / "web-settings.png"), full_page=True)
    # a refusal says what the command line says, on the same page
    w.expected_status["/c/acme/settings/"] = 400
    page.get_by_label("Tax id").fill("FR00000000000")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("alert").wait_for()
    assert "FR00000000000" in page.get_by_role("alert").inner_text()
    w.check("settings refused")


def test_the_portfolio_switches_company_in_one_click(
        people: dict[str, Any], open_page: Callable[..., Watched], live_server: Any,
        shots: Path) -> None:
    from salesledger.apps.core.services import membership_set

    membership_set(actor=people["stranger"], company=people["other"], username="owner",
                   role="viewer")
    base = live_server.url
    w = open_page(viewport={"width": 1280, "height": 900})
    page = w.page
    sign_in(w, base, "owner")
    page.goto(f"{base}/c/acme/portfolio/?as_of={AS_OF}")
    table = page.locator("main table").inner_text()
    assert "Acme SARL" in table and "Globex GmbH" in table and "€1,200.00" in table
    w.check("portfolio")
    page.screenshot(path=str(shots / "web-portfolio.png"), full_page=True)
    page.locator("main table").get_by_role("link", name="Globex GmbH").click()
    page.wait_for_url(f"{base}/c/globex/")
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    w.check("the other company's dashboard")


def test_a_report_page_with_its_chart(
        people: dict[str, Any], open_page: Callable[..., Watched], live_server: Any,
        shots: Path) -> None:
    base = live_server.url
    w = open_page(viewport={"width": 1280, "height": 900})
    page = w.page
    sign_in(w, base, "claude")
    page.goto(f"{base}/c/acme/")
    page.get_by_role("navigation", name="Workspace").get_by_role(
        "link", name="Reports").click()
    page.get_by_role("link", name="Aged receivables").click()
    page.wait_for_url(f"{base}/c/acme/reports/aging/")
    page.goto(f"{base}/c/acme/reports/aging/?as_of={AS_OF}")
    bars = page.locator("figure.chart svg rect.bar")
    # one bar a bucket: the bucket table's columns but its total
    columns = page.locator("#buckets-title ~ .scroll thead th").count()
    assert columns > 2 and bars.count() == columns - 1
    assert page.locator('rect.bar[data-value="120000"]').is_visible()
    w.check("aging report")
    page.screenshot(path=str(shots / "web-report-aging.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename == f"aging-{AS_OF}.csv"
    page.goto(f"{base}/c/acme/reports/forecast/?as_of={AS_OF}")
    assert page.locator("figure.chart svg polygon.band").count() == 1
    w.check("forecast")


def test_an_import_runs_in_the_worker_and_the_page_follows_it(
        people: dict[str, Any], open_page: Callable[..., Watched], live_server: Any,
        shots: Path, tmp_path: Path, settings: Any) -> None:
    from salesledger.worker import make_worker

    settings.VAR_DIR = tmp_path
    base = live_server.url
    w = open_page(viewport={"width": 1280, "height": 900})
    page = w.page
    sign_in(w, base, "claude")
    page.goto(f"{base}/c/acme/imports/")
    w.check("import")
    csv_file = tmp_path / "new-customers.csv"
    csv_file.write_text("code,name,country\nC9,Martin Freres,FR\nC10,Durand,FR\n",
                        encoding="utf-8")
    page.get_by_label("What the file holds").select_option("customers")
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_url(f"{base}/c/acme/imports/*/")
    assert "Waiting for the worker" in page.locator("#import-status").inner_text()
    w.check("import queued")
    make_worker(worker_id="browser-test").run()
    # htmx asks again within two seconds and swaps the result in
    page.get_by_text("2 rows imported").wait_for(timeout=10_000)
    w.check("import done")
    page.screenshot(path=str(shots / "web-import.png"), full_page=True)
