"""The day's writes in a real browser (Chromium, headless): a customer created, an invoice
written in the draft editor (its totals from the server as one types, a charge for its
freight among them), posted and its PDF
opened; a receipt recorded and allocated to two invoices, which are then paid; a short
payment written off; another company reached from the switcher; a clerk and a user of
another company seeing only what each may.

Every page is checked as in ``test_journeys.py``: no console error, no failed request, no
serious accessibility violation (axe-core).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from .test_journeys import Watched, open_page, people, sign_in  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("emptied_after", "no_pdf_freezing")]


@pytest.fixture
def day_books(people: dict[str, Any], post_invoice: Any) -> dict[str, Any]:  # noqa: F811
    """C001 owes three invoices (1,200.00, 240.00 and 120.00); a payment short by up to
    5.00 may be written off; acme's owner may read globex's books."""
    from salesledger.apps.core.services import membership_set
    from salesledger.apps.payments.adjustments.settings import settlement_settings_set

    people["second_c001"] = post_invoice("C001", lines=(("Support", 2, "100.00", "20"),))
    people["third_c001"] = post_invoice("C001", lines=(("Hosting", 1, "100.00", "20"),))
    settlement_settings_set(actor=people["owner"], company=people["company"],
                            writeoff_tolerance_amount=Decimal("5.00"),
                            writeoff_tolerance_percent=Decimal("5"))
    membership_set(actor=people["stranger"], company=people["other"], username="owner",
                   role="viewer")
    return people


def record_receipt(w: Watched, base: str, amount: str) -> str:
    page = w.page
    page.goto(f"{base}/c/acme/receipts/")
    page.get_by_role("link", name="Record a receipt").click()
    page.get_by_label("Customer code", exact=True).fill("C001")
    page.get_by_label("Amount", exact=True).fill(amount)
    page.get_by_label("Payer's reference").fill("transfer")
    page.get_by_role("button", name="Record the receipt").click()
    page.wait_for_url(re.compile(r".*/c/acme/receipts/RCT.*"))
    return page.url.rsplit("/", 1)[1]


def test_a_day_of_writes_in_the_browser(day_books: dict[str, Any],
                                        open_page: Callable[..., Watched],  # noqa: F811
                                        live_server: Any, shots: Path) -> None:
    base = live_server.url
    w = open_page(viewport={"width": 1280, "height": 900})
    page = w.page
    sign_in(w, base, "owner")

    # a customer, created through the customer service
    page.goto(f"{base}/c/acme/customers/")
    page.get_by_role("link", name="New customer").click()
    page.wait_for_url(f"{base}/c/acme/customer/new/")
    page.get_by_label("Code", exact=True).fill("C900")
    page.get_by_label("Name", exact=True).fill("Lefebvre Industrie")
    page.get_by_label("Tax id", exact=True).fill("FR00000000000")
    page.get_by_role("button", name="Create the customer").click()
    # refused as the command line refuses it, next to the field
    assert "invalid_tax_id" in page.locator("#id_tax_id-error").inner_text()
    w.check("customer form with a refusal")
    page.get_by_label("Tax id", exact=True).fill("FR83404833048")
    page.get_by_label("Address", exact=True).fill("3 quai des Chartrons")
    page.get_by_label("City", exact=True).fill("Bordeaux")
    page.screenshot(path=str(shots / "web-customer-form.png"), full_page=True)
    page.get_by_role("button", name="Create the customer").click()
    page.wait_for_url(f"{base}/c/acme/customers/C900/")
    assert page.get_by_role("heading", name="Lefebvre Industrie").is_visible()
    w.check("the new customer")

    # an invoice in the draft editor: the totals come from the server as one types
    page.get_by_role("link", name="New invoice").click()
    page.get_by_label("Line 1: description").fill("Consulting")
    page.get_by_label("Line 1: quantity").fill("2")
    page.get_by_label("Line 1: unit price").fill("500")
    page.get_by_label("Line 1: tax rate").fill("20")
    page.locator("#totals [data-total=total]").filter(has_text="€1,200.00").wait_for()
    page.get_by_label("Line 2: description").fill("Travel")
    page.get_by_label("Line 2: quantity").fill("1")
    page.get_by_label("Line 2: unit price").fill("80.50")
    page.get_by_label("Line 2: tax rate").fill("10")
    page.locator("#totals [data-total=total]").filter(has_text="€1,288.55").wait_for()
    assert page.locator("#line-2-net").inner_text() == "€80.50"
    # freight for the whole document: a charge with its own tax rate, in the totals at once
    page.get_by_label("Allowance or charge 1: kind").select_option("charge")
    page.get_by_label("Allowance or charge 1: reason", exact=True).fill("Freight")
    page.get_by_label("Allowance or charge 1: amount or percentage").fill("15")
    page.get_by_label("Allowance or charge 1: tax rate").fill("20")
    page.locator("#totals [data-total=total]").filter(has_text="€1,306.55").wait_for()
    assert page.locator("#charge-1-amount-out").inner_text() == "€15.00"
    w.check("draft editor")
    page.screenshot(path=str(shots / "web-draft.png"), full_page=True)
    page.get_by_role("button", name="Save the draft").click()
    page.wait_for_url(re.compile(r".*/c/acme/drafts/\d+/"))
    page.get_by_role("button", name="Save and post").click()
    page.wait_for_url(re.compile(r".*/c/acme/invoices/INV.*"))
    number = page.url.rsplit("/", 1)[1]
    assert page.get_by_role("heading", name=f"Invoice {number}").is_visible()
    w.check("the posted invoice")
    pdf = page.context.request.get(
        base + page.get_by_role("link", name="PDF", exact=True).get_attribute("href"))
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

    # a receipt allocated to two invoices, the remainder from the server as one picks
    first, second = day_books["first"].number, day_books["second_c001"].number
    receipt = record_receipt(w, base, "1500.00")
    page.get_by_label(f"Pick {first}").check()
    page.get_by_label(f"Pick {second}").check()
    page.locator("#remainder [data-remainder]").filter(has_text="€60.00").wait_for()
    w.check("allocating a receipt")
    page.screenshot(path=str(shots / "web-receipt.png"), full_page=True)
    page.get_by_role("button", name="Allocate", exact=True).click()
    page.wait_for_url(f"{base}/c/acme/receipts/{receipt}")
    assert page.locator("#unapplied").inner_text() == "€60.00"
    for inv in (first, second):
        page.goto(f"{base}/c/acme/invoices/{inv}")
        assert "paid" in page.locator(".figures").inner_text()
        assert "partially" not in page.locator(".figures").inner_text()

    # a payment 3.00 short of the third invoice, the rest written off
    third = day_books["third_c001"].number
    record_receipt(w, base, "117.00")
    page.get_by_label("Invoice", exact=True).select_option(third)
    page.get_by_role("button", name="Allocate and settle the rest").click()
    page.goto(f"{base}/c/acme/invoices/{third}")
    assert "paid" in page.locator(".figures").inner_text()
    history = page.locator("section", has=page.get_by_role("heading", name="Settlement history"))
    assert "€117.00" in history.inner_text() and "€3.00" in history.inner_text()
    w.check("the invoice settled by a short payment")

    # another company, one click away; there the owner of acme is a viewer
    page.goto(f"{base}/c/acme/")
    page.locator("summary", has_text="Acme SARL").click()
    page.get_by_role("link", name="Globex GmbH").click()
    page.wait_for_url(f"{base}/c/globex/")
    page.goto(f"{base}/c/globex/customers/")
    assert page.get_by_role("link", name="New customer").count() == 0
    w.check("another company, as a viewer")


def test_a_clerk_and_a_stranger_see_only_what_each_may(
        day_books: dict[str, Any], open_page: Callable[..., Watched],  # noqa: F811
        live_server: Any) -> None:
    base = live_server.url
    w = open_page()
    sign_in(w, base, "claude")
    receipt = day_books["receipt"].number
    w.page.goto(f"{base}/c/acme/receipts/{receipt}")
    assert w.page.get_by_role("button", name="Reverse the receipt").count() == 1
    assert w.page.get_by_role("button", name="Pay it back").count() == 0  # a manager's
    w.check("a receipt, for a clerk")

    s = open_page()
    sign_in(s, base, "sam")
    for path in ["/c/acme/customer/new/", "/c/acme/drafts/new/", "/c/acme/receipts/",
                 f"/c/acme/receipts/{receipt}"]:
        s.expected_status[path] = 404
        response = s.page.goto(base + path)
        assert response is not None and response.status == 404, path
    assert s.problems == []
