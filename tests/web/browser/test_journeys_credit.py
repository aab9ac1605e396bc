"""A credit controller's journey in a real browser, with the checks of test_journeys.py on
every page (console, failed requests, axe-core): the credit overview from the menu, then a
customer put on credit hold from its page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .test_journeys import AS_OF, PASSWORD, Watched, open_page, people, sign_in

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("emptied_after", "no_pdf_freezing")]
__all__ = ["open_page", "people"]  # the fixtures, shared


def test_a_credit_controller_reads_the_overview_and_puts_a_customer_on_hold(
        people: dict[str, Any], open_page: Callable[..., Watched], live_server: Any,
        shots: Path, django_user_model: Any) -> None:
    from salesledger.apps.core.services import membership_set
    from salesledger.apps.credit.selectors import on_hold
    from salesledger.apps.credit.services import credit_limit_set
    from salesledger.apps.customers.selectors import customer_get

    django_user_model.objects.create_user("carla", password=PASSWORD)
    membership_set(actor=people["owner"], company=people["company"], username="carla",
                   role="credit_controller")
    credit_limit_set(actor=people["owner"], company=people["company"],
                     customer_id=customer_get(people["company"], "C001").pk, amount="5000",
                     reason="annual review")
    base = live_server.url
    w = open_page(viewport={"width": 1280, "height": 900})
    page = w.page
    sign_in(w, base, "carla")
    page.goto(f"{base}/c/acme/")
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Credit").click()
    page.wait_for_url(f"{base}/c/acme/credit/")
    page.goto(f"{base}/c/acme/credit/?as_of={AS_OF}")
    row = page.locator("main table tbody tr").filter(has_text="C001")
    assert "€1,200.00" in row.inner_text() and "€3,800.00" in row.inner_text()
    w.check("credit overview")
    page.screenshot(path=str(shots / "web-credit.png"), full_page=True)

    row.get_by_role("link", name="C001", exact=True).click()
    page.wait_for_url(f"{base}/c/acme/customers/C001/?as_of={AS_OF}")  # the day goes along
    hold = page.locator("form").filter(has=page.get_by_role("heading", name="Put on credit hold"))
    hold.get_by_label("Reason").fill("two cheques returned")
    hold.get_by_role("button", name="Put on hold").click()
    page.get_by_text("The customer is on credit hold.").wait_for()
    assert "two cheques returned" in page.locator("#credit").inner_text()
    assert page.get_by_role("heading", name="Release the hold").is_visible()
    w.check("customer on hold")
    page.screenshot(path=str(shots / "web-credit-hold.png"), full_page=True)
    [h] = on_hold(people["company"], customer_get(people["company"], "C001").pk)
    assert (h.reason, h.by) == ("two cheques returned", "carla")
