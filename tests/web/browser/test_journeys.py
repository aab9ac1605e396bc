"""Journeys through the workspace in a real browser (Chromium, headless).

Every page visited is checked for errors in the browser's console, for requests that failed
(or answered an error the journey did not expect), and with axe-core for serious or critical
accessibility violations. The books are written through the services, on a fresh database
that the live server reads (a transactional test: the server runs in another thread).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import AXE

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("emptied_after", "no_pdf_freezing")]

PASSWORD = "a long password for tests"
AS_OF = "2025-05-15"
PHONE = {"width": 390, "height": 844}


class Watched:
    """A page with its console errors and failed requests collected as it goes."""

    def __init__(self, page: Any, base: str) -> None:
        self.page, self.base = page, base
        self.problems: list[str] = []
        self.expected_status: dict[str, int] = {}
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.problems.append(
            f"failed: {r.url} {r.failure}"))
        page.on("response", self._response)

    def _console(self, message: Any) -> None:
        # The browser logs each error answer too: those the journey expects are not errors.
        expected = {f"status of {s} " for s in self.expected_status.values()}
        if message.type == "error" and not any(e in message.text for e in expected):
            self.problems.append(f"console: {message.text}")

    def _response(self, response: Any) -> None:
        path = response.url.removeprefix(self.base)
        if response.status >= 400 and self.expected_status.get(path) != response.status:
            self.problems.append(f"{response.status}: {response.url}")

    def check(self, what: str) -> None:
        """No problem so far, and no serious accessibility violation on the page now."""
        self.page.add_script_tag(path=str(AXE))
        result = self.page.evaluate("""async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.filter(v => ['serious', 'critical'].includes(v.impact))
                .map(v => v.id + ': ' + v.help + ' (' + v.nodes.length + ')');
        }""")
        assert result == [], f"{what}: accessibility: {result}"
        assert self.problems == [], f"{what}: {self.problems}"


@pytest.fixture
def open_page(chromium: Any, live_server: Any) -> Iterator[Callable[..., Watched]]:
    contexts: list[Any] = []

    def make(**options: Any) -> Watched:
        context = chromium.new_context(locale="en-GB", **options)
        contexts.append(context)
        return Watched(context.new_page(), live_server.url)

    yield make
    for context in contexts:
        context.close()


def sign_in(w: Watched, base: str, username: str) -> None:
    w.page.goto(f"{base}/login/")
    w.page.get_by_label("Username").fill(username)
    w.page.get_by_label("Password").fill(PASSWORD)
    w.page.get_by_role("button", name="Sign in").click()
    w.page.wait_for_url(f"{base}/")


@pytest.fixture
def people(books: dict[str, Any]) -> dict[str, Any]:
    for key in ("owner", "clerk", "stranger"):
        books[key].set_password(PASSWORD)
        books[key].save()
    return books


def test_a_day_in_the_workspace(people: dict[str, Any], open_page: Callable[..., Watched],
                                live_server: Any, shots: Path) -> None:
    base = live_server.url
    w = open_page(viewport={"width": 1280, "height": 900})
    page = w.page
    sign_in(w, base, "owner")
    w.check("home")

    page.get_by_role("link", name="Acme SARL").click()
    page.wait_for_url(f"{base}/c/acme/")
    page.goto(f"{base}/c/acme/?as_of={AS_OF}")
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    assert "€1,200.00" in page.locator(".figures").inner_text()
    w.check("dashboard")
    page.screenshot(path=str(shots / "web-dashboard.png"), full_page=True)

    page.get_by_role("navigation", name="Workspace").get_by_role(
        "link", name="Customers").click()
    page.wait_for_url(f"{base}/c/acme/customers/?as_of={AS_OF}")  # the day goes along
    # htmx narrows the list as one types, without leaving the page
    page.get_by_label("Search by code or name").fill("dupont")
    page.wait_for_url(re.compile(r".*[?&]q=dupont.*"))
    rows = page.locator("#customer-list tbody tr")
    rows.first.wait_for()
    assert rows.count() == 1 and "Dupont et Fils" in rows.first.inner_text()
    w.check("customers")
    page.screenshot(path=str(shots / "web-customers.png"), full_page=True)

    page.get_by_role("link", name="C001").click()
    page.wait_for_url(f"{base}/c/acme/customers/C001/?as_of={AS_OF}")
    page.goto(f"{base}/c/acme/customers/C001/?as_of={AS_OF}")
    assert "36 days late" in page.locator("#content").inner_text()
    w.check("customer overview")
    page.screenshot(path=str(shots / "web-customer.png"), full_page=True)

    number = people["first"].number
    page.locator("section", has=page.get_by_role("heading", name="Open items")).get_by_role(
        "link", name=number).click()
    page.wait_for_url(f"{base}/c/acme/invoices/{number}?as_of={AS_OF}")
    assert page.get_by_role("heading", name=f"Invoice {number}").is_visible()
    w.check("invoice")
    page.screenshot(path=str(shots / "web-invoice.png"), full_page=True)

    pdf_link = page.get_by_role("link", name="PDF", exact=True)
    pdf = page.context.request.get(base + pdf_link.get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    page.goto(f"{base}/c/acme/invoices/?overdue=1&as_of={AS_OF}")
    assert number in page.locator("table").inner_text()
    w.check("invoices")
    page.screenshot(path=str(shots / "web-invoices.png"), full_page=True)


def test_on_a_phone_the_pages_fit_and_speak_french(
        people: dict[str, Any], open_page: Callable[..., Watched], live_server: Any,
        shots: Path) -> None:
    base = live_server.url
    w = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(w, base, "claude")
    w.page.goto(f"{base}/c/acme/?as_of={AS_OF}")
    w.page.get_by_label("Language").select_option("fr")
    w.page.get_by_role("button", name="Change").click()
    w.page.get_by_role("heading", name="Tableau de bord").wait_for()
    assert "1\u202f200,00\xa0€" in w.page.locator(".figures").inner_text()
    width = w.page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways on a phone"
    w.check("dashboard in French on a phone")
    w.page.screenshot(path=str(shots / "web-phone-fr.png"), full_page=True)


def test_the_keyboard_reaches_the_navigation_first(
        people: dict[str, Any], open_page: Callable[..., Watched], live_server: Any) -> None:
    base = live_server.url
    w = open_page()
    sign_in(w, base, "claude")
    w.page.goto(f"{base}/c/acme/")
    w.page.keyboard.press("Tab")
    assert w.page.evaluate("document.activeElement.textContent") == "Skip to content"
    w.page.keyboard.press("Enter")
    assert w.page.url.endswith("#content")


def test_a_user_of_another_company_finds_nothing(
        people: dict[str, Any], open_page: Callable[..., Watched], live_server: Any) -> None:
    base = live_server.url
    w = open_page()
    sign_in(w, base, "sam")
    assert "Acme" not in w.page.locator("main").inner_text()
    number = people["first"].number
    for path in ["/c/acme/", "/c/acme/customers/C001/", f"/c/acme/invoices/{number}",
                 f"/c/acme/files/pdf/{number}"]:
        w.expected_status[path] = 404
        response = w.page.goto(base + path)
        assert response is not None and response.status == 404, path
    assert w.problems == []
