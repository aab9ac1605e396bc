"""The page's day (``?as_of=``) goes with the user: every workspace address a page links to,
posts to or is redirected to keeps it, each filter form sends it, and a form posted from a
past day acts on that day (web/keepday.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from salesledger.apps.payments.selectors import receipt_detail
from salesledger.web.keepday import with_day

from .conftest import AS_OF
from .test_pages import urls_of

pytestmark = pytest.mark.usefixtures("no_pdf_freezing")

ADDRESS = re.compile(r'\s(href|action|hx-get|hx-post)="(/c/[^"]*)"')
GET_FORM = re.compile(r'<form\b[^>]*method="get"[^>]*>(.*?)</form>', re.S)
DAY = "2025-04-30"


def _addresses(html: str, company: str) -> list[str]:
    return [m[2].replace("&amp;", "&") for m in ADDRESS.finditer(html)
            if m[2].startswith(f"/c/{company}/")]


def test_every_page_keeps_its_day_in_its_links_forms_and_filters(
        books: dict[str, Any], as_user: Callable[[Any], Any], record_receipt: Any) -> None:
    record_receipt("C001", "100.00")
    client = as_user(books["owner"])
    checked = 0
    for url in urls_of(books):
        response = client.get(f"{url}{'&' if '?' in url else '?'}as_of={DAY}")
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        html = response.content.decode()
        addresses = _addresses(html, "acme")
        missing = [a for a in addresses if f"as_of={DAY}" not in a]
        assert not missing, (url, missing[:5])
        for form in GET_FORM.findall(html):
            assert 'name="as_of"' in form, (url, form[:200])
        checked += len(addresses)
    assert checked > 500  # the menu alone has a dozen links on each page
    # without a day asked for, nothing is added: the pages are today's
    plain = client.get("/c/acme/customers/").content.decode()
    assert "as_of=" not in plain


def test_a_form_posted_from_a_past_day_acts_on_it_and_comes_back_to_it(
        books: dict[str, Any], as_user: Callable[[Any], Any], record_receipt: Any) -> None:
    receipt = record_receipt("C001", "100.00", date(2025, 4, 1))
    client = as_user(books["owner"])
    page = client.get(f"/c/acme/receipts/{receipt.number}?as_of={DAY}").content.decode()
    action = next(a for a in _addresses(page, "acme")
                  if a.startswith(f"/c/acme/receipt/allocate/{receipt.number}"))
    assert action.endswith(f"?as_of={DAY}")
    done = client.post(action, {"policy": "oldest_first"})
    assert done.status_code == 302 and f"as_of={DAY}" in done["Location"]
    [allocation] = receipt_detail(books["company"], receipt.number)["allocations"]
    assert str(allocation["date"]) == DAY  # the page's day, not today
    # a write refused by its service comes back on the day too (the form posts to it)
    hold = client.post(f"/c/acme/credit/hold/C001/?as_of={AS_OF}", {"reason": "watch"})
    assert hold.status_code == 302 and hold["Location"].endswith(f"?as_of={AS_OF}")


def test_an_address_keeps_its_own_day_and_others_are_left_alone() -> None:
    assert with_day("/c/acme/invoices/?page=2#top", DAY, "/c/acme/") == \
        f"/c/acme/invoices/?page=2&as_of={DAY}#top"
    assert with_day(f"/c/acme/?as_of={AS_OF}", DAY, "/c/acme/") == f"/c/acme/?as_of={AS_OF}"
    assert with_day("/c/globex/", DAY, "/c/acme/") == "/c/globex/"
    assert with_day("/accounts/logout/", DAY, "/c/acme/") == "/accounts/logout/"


def test_the_language_switch_comes_back_to_the_page_s_day(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    """The header's language form sends the page's whole address (with its day and filters)
    as ``next``: the page comes back in the other language on the same day."""
    client = as_user(books["owner"])
    page = client.get(f"/c/acme/invoices/?status=posted&as_of={DAY}").content.decode()
    form = re.search(r'<form[^>]*action="/i18n/setlang/"[^>]*>(.*?)</form>', page, re.S)
    assert form is not None
    next_url = re.search(r'name="next" value="([^"]*)"', form[1])
    assert next_url is not None and f"as_of={DAY}" in next_url[1]
    switched = client.post("/i18n/setlang/", {"language": "fr",
                                               "next": next_url[1].replace("&amp;", "&")})
    assert switched.status_code == 302
    assert switched["Location"] == f"/c/acme/invoices/?status=posted&as_of={DAY}"
    french = client.get(switched["Location"])
    assert french.content.decode().count(f"as_of={DAY}") > 10  # its links keep the day
    assert 'lang="fr"' in french.content.decode()
