"""The day's actions that had no page before, in a real browser (Chromium, headless): a quote
written in the editor (its totals from the server as one types), marked sent, accepted and
converted into an invoice; an invoice written off as a bad debt by a
manager; a refund undone when the payment came back. Every page is checked as in
``test_journeys.py``: no console error, no failed request, no serious accessibility
violation (axe-core)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .test_journeys import Watched, open_page, people, sign_in  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("emptied_after", "no_pdf_freezing")]


def test_a_quote_a_bad_debt_and_a_refund_undone_in_the_browser(
        people: dict[str, Any], open_page: Callable[..., Watched],  # noqa: F811
        live_server: Any, shots: Path) -> None:
    base = live_server.url
    w = open_page(viewport={"width": 1280, "height": 900})
    page = w.page
    sign_in(w, base, "owner")

    # the quote: written in the drafts' editor, marked sent (no e-mail), accepted, converted
    # into a posted invoice
    page.goto(f"{base}/c/acme/quotes/")
    page.get_by_role("link", name="New quote").click()
    page.get_by_label("Customer code", exact=True).fill("C002")
    page.get_by_label("Line 1: description").fill("Training")
    page.get_by_label("Line 1: quantity").fill("3")
    page.get_by_label("Line 1: unit price").fill("400")
    page.get_by_label("Line 1: tax rate").fill("20")
    page.locator("#totals [data-total=total]").filter(has_text="€1,440.00").wait_for()
    w.check("the quote editor")
    page.get_by_role("button", name="Save the quote").click()
    page.wait_for_url(re.compile(r".*/c/acme/quotes/QUO.*"))
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
    number = people["first"].number
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
