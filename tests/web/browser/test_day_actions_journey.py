"""The day's actions that had no page before, in a real browser (Chromium, headless): a quote
marked sent, accepted and converted into an invoice; an invoice written off as a bad debt by a
manager; a refund undone when the payment came back. Every page is checked as in
``test_journeys.py``: no console error, no failed request, no serious accessibility
violation (axe-core)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from .test_journeys import Watched, open_page, people, sign_in  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("emptied_after", "no_pdf_freezing")]


@pytest.fixture
def quoted(people: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    from conftest import line_inputs

    from salesledger.apps.quotes.services import QuoteInput, quote_create

    quote = quote_create(actor=people["owner"], company=people["company"],
                         as_of=date.today(), data=QuoteInput(
                             customer_code="C002",
                             lines=line_inputs((("Training", 3, "400.00", "20"),))))
    people["quote"] = quote.label
    return people


def test_a_quote_a_bad_debt_and_a_refund_undone_in_the_browser(
        quoted: dict[str, Any], open_page: Callable[..., Watched],  # noqa: F811
        live_server: Any, shots: Path) -> None:
    base = live_server.url
    w = open_page(viewport={"width": 1280, "height": 900})
    page = w.page
    sign_in(w, base, "owner")

    # the quote: marked sent (no e-mail), accepted, converted into a posted invoice
    page.goto(f"{base}/c/acme/quotes/{quoted['quote']}")
    page.get_by_label("E-mail it with its PDF").uncheck()
    w.check("a draft quote")
    page.get_by_role("button", name="Mark it sent").click()
    page.get_by_role("button", name="Accept the quote").wait_for()
    w.check("a sent quote")
    page.get_by_role("button", name="Accept the quote").click()
    page.get_by_label("Post the invoice at once").check()
    page.get_by_role("button", name="Convert into an invoice").click()
    page.wait_for_url(re.compile(r".*/c/acme/invoices/INV.*"))

    # the first invoice of C001, written off as a bad debt (a manager's)
    number = quoted["first"].number
    page.goto(f"{base}/c/acme/invoices/{number}")
    page.get_by_label("Why (required)").fill("customer insolvent")
    w.check("an invoice with the write-off form")
    page.screenshot(path=str(shots / "web-bad-debt.png"), full_page=True)
    page.get_by_role("button", name="Write it off").click()
    page.get_by_role("heading", name="Recover a written-off debt").wait_for()
    assert "written off" in page.locator(".figures").inner_text()
    w.check("a written-off invoice")

    # a receipt refunded, then the refund undone: the money is unapplied again
    page.goto(f"{base}/c/acme/receipts/new/")
    page.get_by_label("Customer code", exact=True).fill("C001")
    page.get_by_label("Amount", exact=True).fill("50.00")
    page.get_by_role("button", name="Record the receipt").click()
    page.wait_for_url(re.compile(r".*/c/acme/receipts/RCT.*"))
    page.get_by_label("Amount (blank: all unapplied)").fill("20")
    page.get_by_role("button", name="Pay it back").click()
    page.get_by_role("button", name=re.compile("Undo the refund")).wait_for()
    w.check("a receipt with a refund")
    page.get_by_role("button", name=re.compile("Undo the refund")).click()
    page.get_by_text("(undone)").wait_for()
    assert "€50.00" in page.locator("#unapplied").inner_text()
    w.check("a receipt whose refund was undone")
