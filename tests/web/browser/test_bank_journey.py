"""The bank in a real browser, with the checks of test_journeys.py on every page (console,
failed requests, axe-core): a clerk imports a statement (the worker imports it while the
page follows), has the lines matched in the worker, and confirms the line left for review
with one keystroke."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django_tasks_db.management.commands import db_worker

from salesledger.worker import make_worker

from ..test_bank_pages import IBAN, mt940
from .test_journeys import Watched, open_page, people, sign_in

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("emptied_after", "no_pdf_freezing")]
__all__ = ["open_page", "people"]  # the fixtures, shared


def test_a_statement_is_imported_matched_and_its_review_line_confirmed(
        people: dict[str, Any], open_page: Callable[..., Watched], live_server: Any,
        shots: Path, post_invoice: Any, monkeypatch: Any, settings: Any,
        tmp_path: Path) -> None:
    from salesledger.apps.banking.selectors import statement_lines
    from salesledger.apps.ledger.banks import BankAccountSpec, bank_account_add

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    settings.VAR_DIR = tmp_path
    bank_account_add(actor=people["owner"], company=people["company"], spec=BankAccountSpec(
        code="NL", name="Rabo", iban=IBAN, currency="EUR"))
    third = post_invoice("C002", lines=(("Audit", 1, "100.00", "20"),))
    statement = tmp_path / "may.sta"
    statement.write_bytes(mt940([("250510", "C1200,00", "Someone",
                                  people["first"].payment_reference),
                                 ("250511", "C120,00", "Martin", "merci"),
                                 ("250512", "D4,50", "Bank", "fees")]))
    worker = make_worker(worker_id="browser")
    base = live_server.url
    w = open_page(viewport={"width": 1280, "height": 900})
    page = w.page
    sign_in(w, base, "claude")
    page.goto(f"{base}/c/acme/")
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Bank").click()
    page.wait_for_url(f"{base}/c/acme/bank/")
    w.check("bank")
    page.get_by_role("link", name="Import a statement").click()
    page.get_by_label("Statement file").set_input_files(str(statement))
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(f"{base}/c/acme/jobs/**")
    w.check("import queued")
    worker.run()  # the page asks every two seconds and shows the report when done
    page.get_by_text("Done.").wait_for(timeout=20_000)
    report = page.locator("#job-status").inner_text()
    assert "mt940" in report and "€1,315.50" in report and "ok" in report
    w.check("import report")
    page.screenshot(path=str(shots / "web-bank-import.png"), full_page=True)

    page.get_by_role("link", name="Match the new lines").click()
    page.get_by_role("button", name="Match and apply in the worker").click()
    page.wait_for_url(f"{base}/c/acme/jobs/**")
    worker.run()
    page.get_by_text("Done.").wait_for(timeout=20_000)
    assert "3 lines matched" in page.locator("#job-status").inner_text()
    page.locator("#job-status").get_by_role("link", name="Review").click()
    page.wait_for_url(f"{base}/c/acme/bank/review/")
    assert third.number in page.locator("#queue").inner_text()
    w.check("review")
    page.screenshot(path=str(shots / "web-bank-review.png"), full_page=True)
    # the first line's best suggestion has the focus: one keystroke confirms it
    assert page.evaluate("document.activeElement.textContent") == "Confirm 1"
    page.keyboard.press("Enter")
    page.get_by_role("status").wait_for()
    assert "applied" in page.get_by_role("status").inner_text()
    assert "Nothing waits for review." in page.locator("#queue").inner_text()
    w.check("review done")
    assert {r["status"] for r in statement_lines(people["company"])} == {"applied", "other"}
