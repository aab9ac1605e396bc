"""A collector's morning in a real browser (Chromium, headless): the worklist, a customer's
overview reached from it with its timeline, a call logged, and a dispute opened on an
invoice, which then leaves the reminders (the worklist says the customer is paused by it).

Every page is checked as in ``test_journeys.py``: no console error, no failed request, no
serious accessibility violation (axe-core).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .test_journeys import AS_OF, Watched, open_page, people, sign_in  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("emptied_after", "no_pdf_freezing")]


def test_a_collector_works_the_list_and_opens_a_dispute(
        people: dict[str, Any], open_page: Callable[..., Watched],  # noqa: F811
        live_server: Any, shots: Path) -> None:
    from salesledger.apps.core.services import membership_set

    membership_set(actor=people["owner"], company=people["company"], username="claude",
                   role="collector")
    base = live_server.url
    number = people["first"].number
    w = open_page(viewport={"width": 1280, "height": 900})
    page = w.page
    sign_in(w, base, "claude")

    page.goto(f"{base}/c/acme/?as_of={AS_OF}")
    page.get_by_role("navigation", name="Workspace").get_by_role(
        "link", name="Collections").click()
    page.wait_for_url(f"{base}/c/acme/collections/?as_of={AS_OF}")  # the day goes along
    page.goto(f"{base}/c/acme/collections/?as_of={AS_OF}")
    row = page.locator("tbody tr").first
    assert "C001" in row.inner_text() and "36 days late" in row.inner_text()
    w.check("worklist")
    page.screenshot(path=str(shots / "web-worklist.png"), full_page=True)

    # the row leads to the customer's overview, where the timeline is
    row.get_by_role("link", name="C001").click()
    page.wait_for_url(f"{base}/c/acme/customers/C001/?as_of={AS_OF}")
    page.goto(f"{base}/c/acme/customers/C001/?as_of={AS_OF}")
    page.get_by_label("Outcome").select_option("no_answer")
    page.get_by_label("What was said").fill("Rang the accounts desk twice")
    page.get_by_role("button", name="Log the call").click()
    page.wait_for_url(re.compile(r".*/c/acme/customers/C001/timeline/.*"))
    assert "Call logged." in page.get_by_role("status").first.inner_text()
    assert "Rang the accounts desk twice" in page.locator(".timeline").inner_text()
    w.check("timeline")

    # a dispute on the invoice, from the invoice's page
    page.goto(f"{base}/c/acme/invoices/{number}?as_of={AS_OF}")
    page.get_by_role("link", name="Open a dispute").click()
    page.wait_for_url(re.compile(r".*/c/acme/disputes/new/.*"))
    assert page.get_by_label("Invoice number").input_value() == number
    page.get_by_label("Amount disputed (blank: all that is open)").fill("200.00")
    page.get_by_label("Reason").select_option("quality")
    page.get_by_label("Notes").fill("Two units arrived damaged")
    w.check("dispute form")
    page.screenshot(path=str(shots / "web-dispute.png"), full_page=True)
    page.get_by_role("button", name="Open the dispute").click()
    page.wait_for_url(re.compile(rf".*/c/acme/disputes/\d+/\?as_of={AS_OF}$"))
    assert "€200.00" in page.locator("dl").first.inner_text()
    w.check("dispute")

    # (the dispute is dated today, as the form was not asked for another day)
    page.goto(f"{base}/c/acme/collections/")
    assert "dispute" in page.locator("tbody tr").first.inner_text()
    w.check("worklist after the dispute")


def test_a_manager_edits_a_level_and_the_next_runs_preview_follows_it(
        people: dict[str, Any], open_page: Callable[..., Watched],  # noqa: F811
        live_server: Any, shots: Path) -> None:
    from salesledger.apps.dunning.services import policy_add
    from salesledger.domain.dunning import Level

    policy_add(actor=people["owner"], company=people["company"], code="STD", name="Standard",
               default=True, levels=[Level(0, 5, "First reminder", ("email",)),
                                     Level(0, 60, "Final notice", ("email", "letter"))])
    base = live_server.url
    w = open_page(viewport={"width": 1280, "height": 900})
    page = w.page
    sign_in(w, base, "owner")
    # C001's invoice is 36 days late: at level 1 of STD, by e-mail
    page.goto(f"{base}/c/acme/dunning/?day={AS_OF}")
    preview = page.locator("#preview-title").locator("..")
    assert "C001" in preview.inner_text() and "letter" not in preview.locator(
        "tbody").inner_text()

    page.goto(f"{base}/c/acme/dunning/policies/")
    page.get_by_role("link", name="STD").click()
    page.get_by_role("link", name="Edit the policy and its levels").click()
    page.wait_for_url(f"{base}/c/acme/dunning/policies/STD/edit/")
    level2 = page.get_by_role("group", name="Level 2")
    # a mistake first: a fee that is no amount, said beside the field (the form answers 400)
    w.expected_status["/c/acme/dunning/policies/STD/edit/"] = 400
    level2.get_by_label("Fee (15.00, or 2% of the overdue amount; blank: none)").fill("ten")
    page.get_by_role("button", name="Save the policy").click()
    level2 = page.get_by_role("group", name="Level 2")
    assert "neither an amount" in level2.inner_text()
    w.check("policy form with an error")
    # the final notice now comes after 30 days, with a fee of 15.00 and a call
    level2.get_by_label("Days after the due date (negative: before)").fill("30")
    level2.get_by_label("Fee (15.00, or 2% of the overdue amount; blank: none)").fill("15.00")
    level2.get_by_label("A call for the collector").check()
    del w.expected_status["/c/acme/dunning/policies/STD/edit/"]
    page.screenshot(path=str(shots / "web-dunning-policy.png"), full_page=True)
    page.get_by_role("button", name="Save the policy").click()
    page.wait_for_url(f"{base}/c/acme/dunning/policies/STD/")
    assert "saved" in page.get_by_role("status").first.inner_text()
    assert "€15.00" in page.locator("tbody").inner_text()
    w.check("policy after the edit")

    # the next run's preview follows the policy as it is now: level 2, by call, e-mail, letter
    page.goto(f"{base}/c/acme/dunning/?day={AS_OF}")
    row = page.locator("tbody tr", has_text="C001")
    assert "call, email, letter" in row.inner_text()
    assert "(level 2)" in row.inner_text()
    w.check("run preview after the edit")
