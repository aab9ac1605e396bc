"""The workspace's pages, through Django's test client: what each shows, to whom, and for
how many queries (a page's budget holds whatever the size of the books)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from salesledger.apps.credit.services import credit_hold, credit_limit_set

from .bank_urls import BANK_URLS
from .collection_urls import COLLECTION_URLS
from .conftest import AS_OF
from .test_credit import CREDIT_PAGES
from .test_settings_reports import SETTINGS_REPORT_URLS

pytestmark = pytest.mark.usefixtures("no_pdf_freezing")


def urls_of(books: dict[str, Any]) -> list[str]:
    """Every workspace address, for acme's objects."""
    inv = books["first"].number
    return [
        "/c/acme/", "/c/acme/customers/", "/c/acme/customers/C001/", "/c/acme/invoices/",
        f"/c/acme/invoices/{inv}", f"/c/acme/files/pdf/{inv}", f"/c/acme/files/ubl/{inv}",
        f"/c/acme/files/cii/{inv}", f"/c/acme/files/facturx/{inv}",
        # recurring schedules (a schedule's own pages: test_recurring_pages.py)
        "/c/acme/recurring/",
        # adjustments, revaluation runs, exports (test_day_pages.py)
        "/c/acme/adjustments/", "/c/acme/revaluation/", "/c/acme/exports/",
        "/c/acme/exports/invoices.csv", "/c/acme/credit/settings/",
        # settings, portfolio and reports (test_settings_reports.py)
        *SETTINGS_REPORT_URLS,
        # collections and dunning (test_collections.py)
        *COLLECTION_URLS,
        # the bank pages, numbering and tax, long work (test_bank_pages.py)
        *BANK_URLS,
        # credit and the customers' records (test_credit.py)
        *CREDIT_PAGES,
    ]


def test_the_dashboard_shows_the_receivable_overdue_and_unapplied(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    page = as_user(books["owner"]).get(f"/c/acme/?as_of={AS_OF}")
    assert page.status_code == 200
    text = page.content.decode()
    # 1,200.00 + (300.00 - 300.00 paid) open, all of it overdue on 15 May (due 9 April)
    assert "€1,200.00" in text
    assert "Dupont et Fils" in text  # the top overdue customer
    assert "Martin SA" not in text  # paid: not overdue


def test_unapplied_cash_is_on_the_dashboard(books: dict[str, Any], record_receipt: Any,
                                             as_user: Callable[[Any], Any]) -> None:
    record_receipt("C001", "45.50")
    text = as_user(books["owner"]).get(f"/c/acme/?as_of={AS_OF}").content.decode()
    assert "€45.50" in text


def test_today_s_alerts_count_the_promises_due_and_the_customers_on_hold(
        books: dict[str, Any], as_user: Callable[[Any], Any], make_customer: Any) -> None:
    from datetime import date
    from decimal import Decimal

    from salesledger.apps.collections.services import promise_add
    from salesledger.apps.credit.services import credit_release

    owner, company = books["owner"], books["company"]
    client = as_user(owner)
    assert "Nothing waits for you today." in client.get(
        f"/c/acme/?as_of={AS_OF}").content.decode()
    day = date.fromisoformat(AS_OF)
    for code, promised in (("C001", day), ("C002", day), ("C001", date(2025, 5, 20))):
        promise_add(actor=owner, company=company, customer=code, amount=Decimal("10"),
                    promised_date=promised, day=day)
    c001 = books["first"].customer
    credit_hold(actor=owner, company=company, customer_id=c001.pk, reason="cheque returned")
    text = client.get(f"/c/acme/?as_of={AS_OF}").content.decode()
    # only the two due on the day; the link keeps the page's day
    assert (f'<a href="/c/acme/promises/?state=live&amp;as_of={AS_OF}">2 promises to pay '
            "fall due today</a>") in text
    assert (f'<a href="/c/acme/credit/?held=1&amp;as_of={AS_OF}">1 customer on credit '
            "hold</a>") in text
    assert "Nothing waits for you today." not in text
    # the next day's promise is due on that day, and the released hold is no longer counted
    credit_release(actor=owner, company=company, customer_id=c001.pk, reason="paid")
    later = client.get("/c/acme/?as_of=2025-05-20").content.decode()
    assert "1 promise to pay falls due today" in later and "credit hold" not in later


def test_today_s_alerts_count_broken_promises_duplicates_and_old_unapplied_cash(
        books: dict[str, Any], as_user: Callable[[Any], Any], make_customer: Any,
        record_receipt: Any, django_assert_max_num_queries: Any) -> None:
    from datetime import date
    from decimal import Decimal

    from salesledger.apps.collections.services import promise_add
    from salesledger.apps.customers.duplicates import duplicate_pairs_store

    owner, company = books["owner"], books["company"]
    client = as_user(owner)
    made = date(2025, 5, 10)
    # due yesterday and nothing paid: broken; due the day before: broken earlier, not counted
    for promised in (date(2025, 5, 14), date(2025, 5, 13)):
        promise_add(actor=owner, company=company, customer="C001", amount=Decimal("10"),
                    promised_date=promised, day=made)
    make_customer("C003", name="Dupont et Fils")  # the same name as C001's
    duplicate_pairs_store(company)
    record_receipt("C001", "45.50", date(2025, 4, 15))  # 30 days before the page's day
    record_receipt("C001", "12.00", date(2025, 4, 16))  # 29: not old yet
    with django_assert_max_num_queries(19):
        text = client.get(f"/c/acme/?as_of={AS_OF}").content.decode()
    assert (f'<a href="/c/acme/promises/?state=broken&amp;as_of={AS_OF}">1 promise to pay '
            "was broken yesterday</a>") in text
    assert (f'<a href="/c/acme/credit/duplicates/?as_of={AS_OF}">1 pair of customers may '
            "be duplicates</a>") in text
    assert (f'<a href="/c/acme/reports/unapplied/?as_of={AS_OF}">1 receipt unapplied for '
            "30 days or more</a>") in text
    # a day later: yesterday's promises are none, both receipts are old
    later = client.get("/c/acme/?as_of=2025-05-16").content.decode()
    assert "broken yesterday" not in later
    assert "2 receipts unapplied for 30 days or more" in later


def test_the_pages_speak_french(books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    client = as_user(books["owner"])
    client.post("/i18n/setlang/", {"language": "fr", "next": "/c/acme/"})
    text = client.get(f"/c/acme/?as_of={AS_OF}").content.decode()
    assert "Tableau de bord" in text
    assert "1\u202f200,00\xa0€" in text
    # the workspace's own words, not the back office's for the same English ("Modification")
    assert ">Changer</button>" in text


def test_customers_are_searched_sorted_and_paged(
        books: dict[str, Any], make_customer: Callable[..., Any],
        as_user: Callable[[Any], Any]) -> None:
    client = as_user(books["owner"])
    found = client.get("/c/acme/customers/?q=martin").content.decode()
    assert "C002" in found and "C001" not in found
    by_name = client.get("/c/acme/customers/?sort=-name").content.decode()
    assert by_name.index("Martin SA") < by_name.index("Dupont et Fils")
    for i in range(60):
        make_customer(f"P{i:03d}")
    first = client.get("/c/acme/customers/").content.decode()
    assert "P047" in first and "P048" not in first and "Next page" in first
    second = client.get("/c/acme/customers/?page=2").content.decode()
    assert "P048" in second and "Previous page" in second and "Next page" not in second


def test_the_customer_overview_shows_open_items_with_days_late(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    text = as_user(books["owner"]).get(f"/c/acme/customers/C001/?as_of={AS_OF}").content.decode()
    assert books["first"].number in text
    assert "36 days late" in text  # due 9 April 2025, seen on 15 May
    other = as_user(books["owner"]).get(f"/c/acme/customers/C002/?as_of={AS_OF}")
    assert books["receipt"].number in other.content.decode()


def test_the_customer_page_shows_a_merge_and_a_doubtful_address(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.customers.merge import customer_merge
    from salesledger.apps.customers.models import Customer
    from salesledger.apps.customers.services import (
        ContactInput,
        contact_add,
        emails_mark_doubtful,
    )

    owner, company = books["owner"], books["company"]
    contact_add(actor=owner, company=company, code="C002",
                contact=ContactInput("Lea", "bounce@martin.example"))
    emails_mark_doubtful(actor=owner, company=company,
                         customer_id=Customer.objects.get(code="C002").pk,
                         refused={"bounce@martin.example": "550 5.1.1 unknown"},
                         communication_id=0)
    customer_merge(actor=owner, company=company, alias="C002", survivor="C001")
    client = as_user(owner)
    alias = client.get(f"/c/acme/customers/C002/?as_of={AS_OF}").content.decode()
    assert "Merged into C001" in alias
    assert f'href="/c/acme/customers/C001/?as_of={AS_OF}"' in alias
    assert "doubtful: the address bounced" in alias and "550 5.1.1 unknown" in alias
    survivor = client.get(f"/c/acme/customers/C001/?as_of={AS_OF}").content.decode()
    assert "Merged into this customer:" in survivor and books["first"].number in survivor
    assert "doubtful" not in survivor
    french = client.get(f"/c/acme/customers/C002/?as_of={AS_OF}",
                        HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Fusionné dans C001" in french


def test_invoices_are_filtered(books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    client = as_user(books["owner"])
    overdue = client.get(f"/c/acme/invoices/?overdue=1&as_of={AS_OF}").content.decode()
    assert books["first"].number in overdue and books["second"].number not in overdue
    of_c002 = client.get("/c/acme/invoices/?customer=C002").content.decode()
    assert books["second"].number in of_c002 and books["first"].number not in of_c002
    none = client.get("/c/acme/invoices/?from=2025-04-01").content.decode()
    assert "No document matches." in none
    # by settlement: the first open, the second paid (300.00 of 300.00)
    paid = client.get("/c/acme/invoices/?settlement=paid").content.decode()
    assert books["second"].number in paid and books["first"].number not in paid
    assert '<option value="paid" selected>' in paid
    still_open = client.get("/c/acme/invoices/?settlement=open").content.decode()
    assert books["first"].number in still_open and books["second"].number not in still_open
    assert "No document matches." in client.get(
        "/c/acme/invoices/?settlement=partially_paid").content.decode()
    assert "No document matches." in client.get(
        "/c/acme/invoices/?settlement=written_off").content.decode()  # no bad debt
    # another word is no filter (as every choice of the page)
    every = client.get("/c/acme/invoices/?settlement=settled").content.decode()
    assert books["first"].number in every and books["second"].number in every


def test_the_invoice_shows_its_lines_instalments_and_settlement(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    text = as_user(books["owner"]).get(f"/c/acme/invoices/{books['second'].number}"
                                        ).content.decode()
    assert "Audit" in text and "€300.00" in text
    assert books["receipt"].number in text  # the payment in its history
    assert f"/c/acme/files/pdf/{books['second'].number}" in text


def test_the_pdf_and_e_invoices_are_served_through_the_documents_services(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    client = as_user(books["clerk"])
    number = books["first"].number
    pdf = client.get(f"/c/acme/files/pdf/{number}")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    ubl = client.get(f"/c/acme/files/ubl/{number}")
    assert ubl.status_code == 200 and b"<Invoice" in ubl.content[:500]
    assert client.get(f"/c/acme/files/nope/{number}").status_code == 409


def test_every_address_is_404_to_a_user_of_another_company(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    stranger = as_user(books["stranger"])
    for url in urls_of(books):
        assert stranger.get(url).status_code == 404, url
    # and a company that does not exist looks the same
    assert stranger.get("/c/nowhere/").status_code == 404


def test_another_companys_objects_are_404_under_ones_own_company(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    owner = as_user(books["owner"])
    theirs = books["theirs"].number
    # (globex numbers its invoices as acme does: the number finds acme's own document)
    assert theirs == books["first"].number
    pk = books["theirs"].pk
    for url in ["/c/acme/customers/G001/", f"/c/acme/invoices/{pk}", f"/c/acme/files/pdf/{pk}",
                f"/c/acme/files/ubl/{pk}", "/c/globex/", "/c/globex/customers/",
                "/c/globex/customers/G001/", f"/c/globex/invoices/{theirs}",
                f"/c/globex/files/pdf/{theirs}"]:
        assert owner.get(url).status_code == 404, url


def test_a_signed_out_visitor_is_sent_to_sign_in(books: dict[str, Any]) -> None:
    from django.test import Client

    for url in urls_of(books):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_the_role_is_shown_and_a_member_of_several_companies_can_switch(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.core.services import membership_set

    clerk = as_user(books["clerk"]).get("/c/acme/").content.decode()
    assert "claude · clerk" in clerk and "switch company" not in clerk
    membership_set(actor=books["stranger"], company=books["other"], username="owner",
                   role="viewer")
    owner = as_user(books["owner"])
    text = owner.get("/c/acme/").content.decode()
    assert "switch company" in text and 'href="/c/globex/"' in text
    assert "owner · viewer" in owner.get("/c/globex/").content.decode()


@pytest.mark.parametrize("extra", [0, 40])
def test_each_page_costs_a_bounded_number_of_queries(
        books: dict[str, Any], as_user: Callable[[Any], Any], make_customer: Any,
        post_invoice: Any, django_assert_max_num_queries: Any, extra: int) -> None:
    for i in range(extra):
        make_customer(f"Q{i:03d}")
        post_invoice(f"Q{i:03d}")
    client = as_user(books["owner"])
    number = books["first"].number
    # the dashboard: today's alerts are a count each (bank lines to review, promises due,
    # customers on hold, duplicate pairs, old unapplied receipts; yesterday's promises and
    # what paid them: two), seven queries whatever the books
    budgets = {f"/c/acme/?as_of={AS_OF}": 19, "/c/acme/customers/?q=a&sort=name": 8,
               # the customer's page reads its credit too (limit, exposure, holds, the merged
               # customers credit reads through; its risk; whether a payment model is stored)
               # and its timeline (collections: eleven queries, with the call tasks and
               # those paid, and dunning's notices)
               f"/c/acme/customers/C001/?as_of={AS_OF}": 50, "/c/acme/invoices/?overdue=1": 8,
               "/c/acme/invoices/?settlement=partially_paid": 8,
               f"/c/acme/invoices/{number}": 21, "/c/acme/adjustments/?kind=write_off": 6,
               "/c/acme/revaluation/": 6, "/c/acme/exports/": 6,
               "/c/acme/credit/settings/": 6}
    for url, budget in budgets.items():
        with django_assert_max_num_queries(budget):
            assert client.get(url).status_code == 200, url


def test_the_customer_overview_shows_its_credit(books: dict[str, Any],
                                                as_user: Callable[[Any], Any]) -> None:
    owner, company = books["owner"], books["company"]
    c001 = books["first"].customer
    credit_limit_set(actor=owner, company=company, customer_id=c001.pk, amount="5000",
                     reason="review")
    credit_hold(actor=owner, company=company, customer_id=c001.pk, reason="cheque returned")
    text = as_user(owner).get(f"/c/acme/customers/C001/?as_of={AS_OF}").content.decode()
    assert "Credit exposure" in text and "Available credit" in text
    assert "On credit hold:</strong> cheque returned" in text
