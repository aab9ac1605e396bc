"""The settings pages, the portfolio and the report pages: what each shows, that each form
goes through the service the command line uses (same refusals, an audit of what changed),
who may do what, and for how many queries."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from salesledger.apps.documents.tests.conftest import Mailbox, smtp_server  # noqa: F401

from .conftest import AS_OF

pytestmark = pytest.mark.usefixtures("no_pdf_freezing")

SETTINGS_REPORT_URLS = [
    "/c/acme/portfolio/", "/c/acme/reports/", "/c/acme/reports/aging/",
    "/c/acme/reports/aging/?detail=1", "/c/acme/reports/aging/?format=csv",
    "/c/acme/reports/kpis/", "/c/acme/reports/trends/", "/c/acme/reports/forecast/",
    "/c/acme/reports/unapplied/", "/c/acme/reports/statement/?customer=C001",
    "/c/acme/reports/bank/",
    "/c/acme/settings/", "/c/acme/settings/users/", "/c/acme/settings/terms/",
    "/c/acme/settings/terms/NET30/", "/c/acme/settings/banks/", "/c/acme/settings/rates/",
    "/c/acme/settings/templates/", "/c/acme/settings/period/", "/c/acme/imports/",
    "/c/acme/settings/pack/", "/c/acme/settings/statements/",
    "/c/acme/reports/aging/?segment=group",
    "/c/acme/reports/kpis/?segment=size",
    "/c/acme/reports/statement/?customer=C001&format=pdf",
    "/c/acme/portfolio/?in=EUR&only=overdue",
    "/c/acme/reports/kpis/?document_currency=USD", "/c/acme/reports/trends/?document_currency=EUR",
]
SETTINGS_POSTS = {
    "/c/acme/settings/": {"name": "Acme Renamed"},
    "/c/acme/settings/users/": {"username": "newbie", "role": "viewer"},
    "/c/acme/settings/terms/": {"code": "N45", "name": "45 days", "schedule": "45"},
    "/c/acme/settings/terms/NET30/": {"name": "Thirty", "schedule": "30"},
    "/c/acme/settings/banks/": {"code": "MAIN2", "name": "Second",
                                "iban": "DE89370400440532013000"},
    "/c/acme/settings/period/": {"through": "2025-01-31"},
    "/c/acme/settings/pack/": {"day": "3", "users": ["owner"]},
    "/c/acme/settings/statements/": {"action": "set", "code": "STATEMENTS", "every": "monthly",
                                     "day": "1"},
}


def _audits(company: Any) -> list[Any]:
    from salesledger.apps.core.models import AuditEvent

    return list(AuditEvent.objects.filter(company=company).order_by("seq"))


def _text(response: Any) -> str:
    return response.content.decode()


# ---------------------------------------------------------------- tenancy and roles
def test_every_new_address_is_404_to_a_stranger_even_when_posted_to(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    stranger = as_user(books["stranger"])
    for url in SETTINGS_REPORT_URLS:
        assert stranger.get(url).status_code == 404, url
    before = len(_audits(books["company"]))
    for url, data in SETTINGS_POSTS.items():
        assert stranger.post(url, data).status_code == 404, url
    assert len(_audits(books["company"])) == before


def test_every_member_reads_them_and_only_the_roles_that_may_change_anything(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    clerk = as_user(books["clerk"])
    for url in SETTINGS_REPORT_URLS:
        assert clerk.get(url).status_code == 200, url
    company = books["company"]
    before = len(_audits(company))
    for url, data in SETTINGS_POSTS.items():
        response = clerk.post(url, data)
        # the service refuses: the clerk is a member, so 403 tells nothing new
        assert response.status_code == 403, url
        assert "permission_denied" in _text(response), url
    assert len(_audits(company)) == before
    company.refresh_from_db()
    assert company.name != "Acme Renamed" and company.lock_date is None
    assert "Settings</a>" not in _text(clerk.get("/c/acme/"))  # not offered in the menu
    assert "Settings</a>" in _text(as_user(books["owner"]).get("/c/acme/"))


def test_a_manager_closes_a_period_and_a_clerk_cannot(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from datetime import date

    from salesledger.apps.core.services import membership_set

    membership_set(actor=books["owner"], company=books["company"], username="claude",
                   role="manager")
    manager = as_user(books["clerk"])
    response = manager.post("/c/acme/settings/period/", {"through": "2025-01-31"})
    assert response.status_code == 302
    books["company"].refresh_from_db()
    assert books["company"].lock_date == date(2025, 1, 31)
    page = _text(manager.get("/c/acme/settings/period/"))
    assert "Jan 31, 2025" in page
    back = manager.post("/c/acme/settings/period/", {"through": "2024-12-31"})
    assert back.status_code == 400 and "cannot be reopened" in _text(back)


# ---------------------------------------------------------------- settings
def test_the_company_profile_is_checked_as_company_set_and_only_changes_are_audited(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    company = books["company"]
    company.refresh_from_db()
    owner = as_user(books["owner"])
    page = _text(owner.get("/c/acme/settings/"))
    assert 'value="FR40303265045"' in page
    form = {f: getattr(company, f) or "" for f in (
        "name", "legal_name", "address_line1", "address_line2", "postal_code", "city",
        "country", "tax_id", "registration_id", "email", "phone", "website", "iban", "bic",
        "brand_color", "document_footer", "legal_mentions")}
    before = len(_audits(company))
    bad = owner.post("/c/acme/settings/", {**form, "tax_id": "FR00000000000"})
    assert bad.status_code == 400 and "FR00000000000" in _text(bad)
    bad = owner.post("/c/acme/settings/", {**form, "iban": "FR7600000000000"})
    assert bad.status_code == 400
    assert len(_audits(company)) == before
    same = owner.post("/c/acme/settings/", form)
    assert same.status_code == 302 and len(_audits(company)) == before
    good = owner.post("/c/acme/settings/", {**form, "city": "Lyon"})
    assert good.status_code == 302
    event = _audits(company)[-1]
    assert event.action == "company.profile_update"
    assert event.data["after"] == {"city": "Lyon"}
    assert "saved" in _text(owner.get("/c/acme/settings/"))


def test_users_are_added_and_their_roles_changed_by_an_owner(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.core.selectors import company_members

    owner = as_user(books["owner"])
    assert owner.post("/c/acme/settings/users/", {
        "username": "colette", "email": "colette@example.com", "role": "credit_controller",
        "password": "a long pass phrase 42"}).status_code == 302
    assert owner.post("/c/acme/settings/users/", {
        "action": "role", "username": "colette", "role": "collector"}).status_code == 302
    members = {m["username"]: m["role"] for m in company_members(books["company"])}
    assert members["colette"] == "collector"
    page = _text(owner.get("/c/acme/settings/users/"))
    assert "colette@example.com" in page
    unknown = owner.post("/c/acme/settings/users/", {"username": "x", "role": "boss"})
    assert unknown.status_code == 400 and "unknown role" in _text(unknown)
    last = owner.post("/c/acme/settings/users/", {"action": "role", "username": "owner",
                                                  "role": "viewer"})
    assert last.status_code == 400 and "only owner" in _text(last)


def test_an_owner_resets_a_member_s_second_factor(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from salesledger.apps.core.models import AuditEvent

    clerk = books["clerk"]
    form = {"action": "two_factor_reset", "username": "owner"}
    # a clerk sees no such button and is refused by the service
    clerk_client = as_user(clerk)
    page = _text(clerk_client.get("/c/acme/settings/users/"))
    assert "Change role" not in page and "Reset second factor" not in page
    assert clerk_client.post("/c/acme/settings/users/", form).status_code == 403
    TOTPDevice.objects.create(user=clerk, name="phone", confirmed=True)  # the lost phone
    form = {"action": "two_factor_reset", "username": clerk.username}
    owner = as_user(books["owner"])
    assert "Reset the second factor of claude" in _text(owner.get("/c/acme/settings/users/"))
    done = owner.post("/c/acme/settings/users/", form)
    assert done.status_code == 302 and not TOTPDevice.objects.filter(user=clerk).exists()
    assert "The authenticator of claude is removed" in _text(owner.get(done["Location"]))
    again = owner.post("/c/acme/settings/users/", form)
    assert "claude had no authenticator: nothing to remove." in _text(
        owner.get(again["Location"]))
    # a user of another company is no member here: refused, named as the command names it
    stranger = owner.post("/c/acme/settings/users/", {**form, "username": "sam"})
    assert stranger.status_code == 400 and "sam&#x27; is not a member of acme" in _text(stranger)
    assert list(AuditEvent.objects.filter(action="user.two_factor_reset")
                .order_by("pk").values_list("data__removed", flat=True)) == [1, 0]


def test_an_owner_removes_a_member_and_the_last_owner_stays(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.core.models import AuditEvent, Membership
    from salesledger.apps.core.services import membership_set

    company, clerk = books["company"], books["clerk"]
    form = {"action": "remove", "username": clerk.username}
    # a stranger learns nothing, a clerk sees no button and is refused by the service
    assert as_user(books["stranger"]).post("/c/acme/settings/users/", form).status_code == 404
    clerk_client = as_user(clerk)
    assert "Remove claude from the company" not in _text(clerk_client.get(
        "/c/acme/settings/users/"))
    refused = clerk_client.post("/c/acme/settings/users/", form)
    assert refused.status_code == 403 and "permission_denied" in _text(refused)
    # a manager is no owner either
    membership_set(actor=books["owner"], company=company, username="claude", role="manager")
    assert clerk_client.post("/c/acme/settings/users/", form).status_code == 403
    assert Membership.objects.filter(company=company, user=clerk).exists()

    owner = as_user(books["owner"])
    assert "Remove claude from the company" in _text(owner.get("/c/acme/settings/users/"))
    done = owner.post("/c/acme/settings/users/", form)
    assert done.status_code == 302
    assert "claude is no longer a member of acme." in _text(owner.get(done["Location"]))
    assert not Membership.objects.filter(company=company, user=clerk).exists()
    assert clerk_client.get("/c/acme/").status_code == 404  # the company is gone for them
    event = AuditEvent.objects.get(company=company, action="membership.remove")
    assert event.data["before"] == {"role": "manager"} and event.entity_id == str(clerk.pk)
    # not a member (any more, or ever): the command's words
    again = owner.post("/c/acme/settings/users/", form)
    assert again.status_code == 400 and "claude&#x27; is not a member of acme" in _text(again)
    stranger = owner.post("/c/acme/settings/users/", {**form, "username": "sam"})
    assert stranger.status_code == 400 and "not a member of acme" in _text(stranger)
    # the last owner cannot go, not even by their own hand
    last = owner.post("/c/acme/settings/users/", {"action": "remove", "username": "owner"})
    assert last.status_code == 400 and "only owner" in _text(last)
    # with a second owner, an owner may leave: sent home, where acme is no longer theirs
    membership_set(actor=books["owner"], company=company, username="claude", role="owner")
    gone = owner.post("/c/acme/settings/users/", {"action": "remove", "username": "owner"})
    assert gone.status_code == 302 and gone["Location"] == "/"
    assert owner.get("/c/acme/settings/users/").status_code == 404


def test_the_users_page_costs_the_same_queries_whatever_the_number_of_members(
        books: dict[str, Any], as_user: Callable[[Any], Any],
        django_user_model: Any, django_assert_num_queries: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from salesledger.apps.core.services import membership_set

    owner = as_user(books["owner"])
    owner.get("/c/acme/settings/users/")  # the first request reads what later ones keep
    with CaptureQueriesContext(connection) as few:
        assert owner.get("/c/acme/settings/users/").status_code == 200
    for n in range(20):
        django_user_model.objects.create_user(f"member{n}")
        membership_set(actor=books["owner"], company=books["company"], username=f"member{n}",
                       role="viewer")
    with django_assert_num_queries(len(few.captured_queries)):
        page = owner.get("/c/acme/settings/users/")
    assert _text(page).count("Remove member") == 20


def test_payment_terms_are_created_and_edited(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.customers.selectors import payment_terms_list

    owner = as_user(books["owner"])
    assert owner.post("/c/acme/settings/terms/", {
        "code": "SPLIT", "name": "Half now, half in 30", "schedule": "50%:0,50%:30 2%/10"}
    ).status_code == 302
    edit = _text(owner.get("/c/acme/settings/terms/SPLIT/"))
    assert 'value="50%:0,50%:30 2%/10"' in edit
    assert owner.post("/c/acme/settings/terms/SPLIT/", {
        "name": "Thirds", "schedule": "30/60/90"}).status_code == 302
    row = next(t for t in payment_terms_list(books["company"]) if t["code"] == "SPLIT")
    assert row["name"] == "Thirds" and [x["days"] for x in row["instalments"]] == [30, 60, 90]
    assert row["discount_percent"] == "0"
    event = _audits(books["company"])[-1]
    assert event.action == "payment_terms.update"
    assert event.data["before"]["discount_days"] == 10
    bad = owner.post("/c/acme/settings/terms/", {"code": "BAD", "name": "x",
                                                 "schedule": "thirty"})
    assert bad.status_code == 400
    assert owner.get("/c/acme/settings/terms/NOPE/").status_code == 404


def test_bank_accounts_and_rates_are_added_through_their_services(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    owner = as_user(books["owner"])
    bad = owner.post("/c/acme/settings/banks/", {"code": "B2", "name": "Bad",
                                                 "iban": "FR7600000000000"})
    assert bad.status_code == 400
    assert owner.post("/c/acme/settings/banks/", {
        "code": "B2", "name": "Second", "iban": "DE89 3704 0044 0532 0130 00"}
    ).status_code == 302
    assert "DE89370400440532013000" in _text(owner.get("/c/acme/settings/banks/"))
    assert owner.post("/c/acme/settings/rates/", {
        "currency": "USD", "rate": "0.9123", "date": "2025-03-10"}).status_code == 302
    page = _text(owner.get("/c/acme/settings/rates/"))
    assert "USD" in page and "0.9123" in page
    clash = owner.post("/c/acme/settings/rates/", {
        "currency": "USD", "rate": "0.95", "date": "2025-03-10"})
    assert clash.status_code == 400


def test_a_file_of_rates_is_imported_whole_or_not_at_all(
        books: dict[str, Any], as_user: Callable[[Any], Any], django_user_model: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from salesledger.apps.core.models import AuditEvent
    from salesledger.apps.core.services import membership_set
    from salesledger.apps.fx.selectors import rate_list

    def upload(name: str, text: str) -> SimpleUploadedFile:
        return SimpleUploadedFile(name, text.encode(), content_type="text/csv")

    owner = as_user(books["owner"])
    bad = owner.post("/c/acme/settings/rates/", {"action": "import", "file": upload(
        "bad.csv", "date,currency,rate\n2025-03-07,USD,0.92\n2025-02-30,GBP,1.19\n")})
    assert bad.status_code == 400
    text = _text(bad)
    assert "bad.csv: 1 problem; nothing was imported" in text
    assert "2025-02-30 is not a real date" in text and rate_list(books["company"]) == []
    good = owner.post("/c/acme/settings/rates/", {"action": "import", "file": upload(
        "rates.csv", "date,currency,rate\n2025-03-07,USD,0.9233\n2025-03-07,GBP,1.19\n")})
    assert good.status_code == 302
    assert ("2 rates read from rates.csv: 2 new, 0 unchanged, 0 replaced."
            in _text(owner.get(good["Location"])))
    assert sorted((r["currency"], r["source"]) for r in rate_list(books["company"])) == [
        ("GBP", "csv"), ("USD", "csv")]
    assert AuditEvent.objects.filter(action="fx_rate.import").count() == 1
    # the same file again: refused unless forced; a viewer is refused by the service
    again = owner.post("/c/acme/settings/rates/", {"action": "import", "file": upload(
        "rates.csv", "date,currency,rate\n2025-03-07,USD,0.9233\n2025-03-07,GBP,1.19\n")})
    assert again.status_code == 400 and "already imported" in _text(again)
    django_user_model.objects.create_user("vera")
    membership_set(actor=books["owner"], company=books["company"], username="vera",
                   role="viewer")
    viewer = as_user(django_user_model.objects.get(username="vera"))
    assert viewer.post("/c/acme/settings/rates/", {"action": "import", "file": upload(
        "more.csv", "date,currency,rate\n2025-03-08,USD,0.93\n")}).status_code == 403
    assert AuditEvent.objects.filter(action="fx_rate.import").count() == 1


def test_a_layout_is_previewed_as_a_pdf_and_a_broken_one_refused(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    owner = as_user(books["owner"])
    page = owner.get("/c/acme/settings/templates/?kind=invoice")
    assert page.status_code == 200
    html = page.context["html"]
    preview = owner.post("/c/acme/settings/templates/", {
        "kind": "invoice", "language": "", "html": html, "action": "preview"})
    assert preview.status_code == 200 and preview.content.startswith(b"%PDF")
    broken = owner.post("/c/acme/settings/templates/", {
        "kind": "invoice", "language": "", "html": "<p>no number</p>", "action": "save"})
    assert broken.status_code == 400 and "does not show" in _text(broken)


def test_a_layout_saved_goes_back_to_the_standard_one(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.core.models import AuditEvent
    from salesledger.apps.documents.selectors import template_overrides

    owner = as_user(books["owner"])
    html = owner.get("/c/acme/settings/templates/?kind=invoice").context["html"]
    own = html + "\n<!-- the company's own -->"
    saved = owner.post("/c/acme/settings/templates/", {
        "kind": "invoice", "language": "", "html": own, "action": "save"})
    assert saved.status_code == 302 and len(template_overrides(books["company"])) == 1
    page = owner.get("/c/acme/settings/templates/?kind=invoice").content.decode()
    assert "Back to the standard layout" in page
    # a clerk is refused by the service, nothing changed
    clerk = as_user(books["clerk"])
    assert "Back to the standard layout" not in clerk.get(
        "/c/acme/settings/templates/?kind=invoice").content.decode()
    assert clerk.post("/c/acme/settings/templates/", {
        "kind": "invoice", "language": "", "action": "reset"}).status_code == 403
    assert len(template_overrides(books["company"])) == 1
    reset = owner.post("/c/acme/settings/templates/", {
        "kind": "invoice", "language": "", "action": "reset"})
    assert reset.status_code == 302 and template_overrides(books["company"]) == []
    assert "The standard layout is used again." in _text(owner.get(reset["Location"]))
    assert AuditEvent.objects.filter(action__startswith="document_template").count() == 2
    again = owner.post("/c/acme/settings/templates/", {
        "kind": "invoice", "language": "", "action": "reset"})
    assert "nothing changed" in _text(owner.get(again["Location"]))


def test_the_e_mail_text_sent_with_a_document_is_changed_and_reset(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.core.models import AuditEvent
    from salesledger.apps.documents.selectors import named_message_texts

    company = books["company"]
    owner = as_user(books["owner"])
    page = owner.get("/c/acme/settings/templates/?mkind=invoice&mlanguage=fr")
    standard = named_message_texts(company, "invoice", "", "fr")
    assert page.context["subject"] == standard.subject and "{payment_reference}" in _text(page)
    form = {"mkind": "invoice", "mlanguage": "fr", "mname": ""}
    # a placeholder the invoice's e-mail does not have: the service's refusal, nothing saved
    bad = owner.post("/c/acme/settings/templates/", {
        **form, "subject": "Facture {number}", "body": "Bonjour {nobody}",
        "action": "message_save"})
    assert bad.status_code == 400 and "nobody" in _text(bad)
    assert bad.context["body"] == "Bonjour {nobody}"  # what was typed stays in the form
    saved = owner.post("/c/acme/settings/templates/", {
        **form, "subject": "Votre facture {number}", "body": "Bonjour,\n{total} dû.",
        "action": "message_save"})
    assert saved.status_code == 302
    texts = named_message_texts(company, "invoice", "", "fr")
    assert (texts.subject, texts.body) == ("Votre facture {number}", "Bonjour,\n{total} dû.")
    assert named_message_texts(company, "invoice", "", "en").subject != texts.subject
    # a clerk reads it and is refused by the service; nothing audited for them
    clerk = as_user(books["clerk"])
    assert "Save the e-mail text" not in _text(clerk.get(
        "/c/acme/settings/templates/?mkind=invoice&mlanguage=fr"))
    assert clerk.post("/c/acme/settings/templates/", {
        **form, "action": "message_reset"}).status_code == 403
    reset = owner.post("/c/acme/settings/templates/", {**form, "action": "message_reset"})
    assert reset.status_code == 302
    assert "The standard e-mail text is used again." in _text(owner.get(reset["Location"]))
    assert named_message_texts(company, "invoice", "", "fr").subject == standard.subject
    assert list(AuditEvent.objects.filter(action__startswith="message_template")
                .values_list("action", flat=True).order_by("pk")) == [
        "message_template.set", "message_template.reset"]


# ---------------------------------------------------------------- portfolio
def _second_company(books: dict[str, Any], record_receipt: Any = None) -> None:
    from salesledger.apps.core.services import membership_set

    membership_set(actor=books["stranger"], company=books["other"], username="owner",
                   role="viewer")


def test_the_portfolio_shows_each_companys_figures_and_switches_in_one_click(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from datetime import date

    from salesledger.apps.reporting.selectors import aging_report

    _second_company(books)
    owner = as_user(books["owner"])
    page = owner.get(f"/c/acme/portfolio/?as_of={AS_OF}")
    text = _text(page)
    # the company's own dashboard on the page's day (web/keepday.py); the other's as it is
    assert 'href="/c/globex/"' in text and f'href="/c/acme/?as_of={AS_OF}"' in text
    acme, globex = page.context["rows"][0][0], page.context["rows"][1][0]
    day = date.fromisoformat(AS_OF)
    for row, company in ((acme, books["company"]), (globex, books["other"])):
        report = aging_report(company, as_of=day)
        assert row.receivable == report.base_total
        assert row.overdue == report.overdue_of(report.base)
        assert row.unapplied == report.unapplied_base
    assert acme.receivable == 120000 and acme.overdue == 120000
    assert globex.receivable == 3570  # 3 bolts at 10.00 and 19 % VAT
    assert "€1,200.00" in text and "€35.70" in text
    assert "Portfolio</a>" in _text(owner.get("/c/acme/"))
    assert "Portfolio</a>" not in _text(as_user(books["clerk"]).get("/c/acme/"))


# the aging summary's day (its totals when it is of the day asked, else the open items),
# the aging, the unapplied cash and the last whole month's DSO (its sales, and its month
# end's receivable when the day is not that month end): 9 with a month of KPIs before
PER_COMPANY = 7


@pytest.mark.parametrize("companies", [2, 5])
def test_the_portfolio_costs_a_fixed_number_of_queries_per_company(
        books: dict[str, Any], as_user: Callable[[Any], Any], django_user_model: Any,
        django_assert_max_num_queries: Any, companies: int) -> None:
    from salesledger.apps.core.services import company_create

    _second_company(books)
    for n in range(companies - 2):
        company_create(actor=books["owner"], code=f"extra{n}", name=f"Extra {n}",
                       base_currency="EUR", country="FR", owner=books["owner"])
    owner = as_user(books["owner"])
    # the session, the user, the memberships and the page's frame; then a fixed number a
    # company (report portfolio's: its aging, unapplied cash and last month's DSO)
    with django_assert_max_num_queries(8 + PER_COMPANY * companies):
        page = owner.get(f"/c/acme/portfolio/?as_of={AS_OF}")
    assert page.status_code == 200 and len(page.context["rows"]) == companies


# ---------------------------------------------------------------- reports
def test_the_aging_page_draws_its_chart_and_its_csv_is_the_commands(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    owner = as_user(books["owner"])
    page = owner.get(f"/c/acme/reports/aging/?as_of={AS_OF}")
    text = _text(page)
    assert "<svg" in text and 'class="bar"' in text and 'data-value="120000"' in text
    assert "Dupont et Fils" in text and "€1,200.00" in text
    response = owner.get(f"/c/acme/reports/aging/?as_of={AS_OF}&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["customer", "name", "country", "currency"]
    assert rows[0][-1] == "total"
    assert ["C001", "Dupont et Fils"] == rows[1][:2] and rows[1][-1] == "1200.00"
    detail = _text(owner.get(f"/c/acme/reports/aging/?as_of={AS_OF}&detail=1"))
    assert books["first"].number in detail and "36" in detail  # days late on 15 May
    bad = owner.get("/c/acme/reports/aging/?customer=NOPE")
    assert bad.status_code == 400 and "NOPE" in _text(bad)


def test_the_other_reports_render_and_download(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    owner = as_user(books["owner"])
    forecast = _text(owner.get(f"/c/acme/reports/forecast/?as_of={AS_OF}&weeks=6"))
    assert 'class="band"' in forecast and 'class="line"' in forecast
    for url, header in (("kpis", "month"), ("trends", "cohort"), ("forecast", "week"),
                        ("unapplied", "customer")):
        response = owner.get(f"/c/acme/reports/{url}/?as_of={AS_OF}&format=csv")
        assert response.status_code == 200, url
        first = b"".join(response.streaming_content).decode().splitlines()[0]
        assert first.startswith(header), url
    kpis = _text(owner.get(f"/c/acme/reports/kpis/?as_of={AS_OF}&months=3"))
    assert "2025-04" in kpis and "2025-01" not in kpis
    statement = owner.get(f"/c/acme/reports/statement/?customer=C002&from=2025-03-01"
                          f"&to={AS_OF}")
    text = _text(statement)
    assert books["receipt"].number in text and books["second"].number in text
    assert "€300.00" in text
    assert owner.get("/c/acme/reports/kpis/?months=999").status_code == 400


def test_the_bank_reconciliation_page_shows_what_the_command_shows(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from datetime import date

    from salesledger.apps.banking.reconciliation import reconciliation

    owner = as_user(books["owner"])
    page = owner.get(f"/c/acme/reports/bank/?as_of={AS_OF}")
    r = reconciliation(books["company"], as_of=date.fromisoformat(AS_OF))
    assert page.status_code == 200 and page.context["r"].book_balance == r.book_balance
    # the receipts of the books, none of them on a statement yet
    assert r.book_balance == 30000 and "€300.00" in _text(page)
    assert books["receipt"].number in _text(page)
    assert owner.get("/c/acme/reports/bank/?account=NOPE").status_code == 404


def test_the_bank_reconciliation_reads_the_receipts_numbers_with_the_receipts(
        books: dict[str, Any], record_receipt: Any, monkeypatch: Any) -> None:
    # At the issue's size the page named every receipt of the account in one IN list, which
    # SQLite refuses past 32,766 parameters ("too many SQL variables", 251,100 receipts):
    # the numbers are read with the receipts, and a receipt only a reversal names is read a
    # bounded list at a time (docs/design/web.md, "Every page at the issue's size").
    from datetime import date

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from salesledger.apps.banking import reconciliation as module

    more = [record_receipt("C001", f"{10 + i}.00", date(2025, 5, 2 + i)) for i in range(3)]
    with CaptureQueriesContext(connection) as captured:
        r = module.reconciliation(books["company"], as_of=date.fromisoformat(AS_OF))
    assert not [q["sql"] for q in captured.captured_queries
                if re.search(r'"payments_receipt"\."id" IN \(', q["sql"])]
    assert {i.reference for i in r.in_books_not_on_statement} == {
        books["receipt"].number, *(m.number for m in more)}
    # a receipt the account's own do not hold: read by id, a bounded list per query
    monkeypatch.setattr(module, "IDS_PER_QUERY", 2)
    ids = {m.pk for m in more}
    with CaptureQueriesContext(connection) as captured:
        assert module._receipt_numbers(ids, {}) == {m.pk: m.number for m in more}
    assert len(captured.captured_queries) == 2
    assert module._receipt_numbers(ids, {more[0].pk: "kept"})[more[0].pk] == "kept"


def test_the_bank_reconciliation_page_shows_a_page_of_each_list(
        books: dict[str, Any], as_user: Callable[[Any], Any], record_receipt: Any,
        monkeypatch: Any) -> None:
    # the books' side lists every receipt no statement line met: a page of it, the totals
    # of the whole
    from datetime import date

    from salesledger.web import params, report_views

    monkeypatch.setattr(params, "PAGE_SIZE", 1)
    monkeypatch.setattr(report_views, "PAGE_SIZE", 1)
    later = record_receipt("C001", "12.00", date(2025, 5, 3))
    owner = as_user(books["owner"])
    first = owner.get(f"/c/acme/reports/bank/?as_of={AS_OF}")
    assert [i.reference for i in first.context["book_rows"]] == [books["receipt"].number]
    assert first.context["has_next"] and first.context["book_total"] == -31200
    second = owner.get(f"/c/acme/reports/bank/?as_of={AS_OF}&page=2")
    assert [i.reference for i in second.context["book_rows"]] == [later.number]
    assert not second.context["has_next"] and second.context["book_total"] == -31200
    assert later.number in _text(second) and later.number not in _text(first)


def test_the_charts_speak_the_readers_language(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    client = as_user(books["owner"])
    client.post("/i18n/setlang/", {"language": "fr", "next": "/c/acme/"})
    aging = _text(client.get(f"/c/acme/reports/aging/?as_of={AS_OF}"))
    assert "<title>Balance âgée au 15 mai 2025</title>" in aging
    # the axis in the reader's format: 1 200 € open, so round steps of 500 € up to 1 500 €
    ticks = re.findall(r'<text class="tick"[^>]*>([^<]*)</text>', aging)
    assert ticks == ["0\xa0€", "500\xa0€", "1\u202f000\xa0€", "1\u202f500\xa0€"]
    forecast = _text(client.get(f"/c/acme/reports/forecast/?as_of={AS_OF}&weeks=4"))
    assert 'data-series="attendus"' in forecast
    # each week named by the day it begins, in French
    weeks = re.findall(r'<text class="category"[^>]*>([^<]*)</text>', forecast)
    assert weeks == ["16 mai", "23 mai", "30 mai", "6 juin"]
    assert all(t.endswith("\xa0€") for t in re.findall(
        r'<text class="tick"[^>]*>([^<]*)</text>', forecast))
    # in English, the same chart says €1,500 and May 16
    client.post("/i18n/setlang/", {"language": "en", "next": "/c/acme/"})
    english = _text(client.get(f"/c/acme/reports/aging/?as_of={AS_OF}"))
    assert re.findall(r'<text class="tick"[^>]*>([^<]*)</text>', english)[-1] == "€1,500"
    assert "<title>Aged receivables on May 15, 2025</title>" in english
    weeks = re.findall(r'<text class="category"[^>]*>([^<]*)</text>', _text(
        client.get(f"/c/acme/reports/forecast/?as_of={AS_OF}&weeks=4")))
    assert weeks[0] == "May 16"


def test_the_dashboard_draws_the_aging_chart(books: dict[str, Any],
                                            as_user: Callable[[Any], Any]) -> None:
    text = _text(as_user(books["owner"]).get(f"/c/acme/?as_of={AS_OF}"))
    assert "<svg" in text and 'data-value="120000"' in text


@pytest.mark.parametrize("extra", [0, 30])
def test_report_and_settings_pages_cost_a_bounded_number_of_queries(
        books: dict[str, Any], as_user: Callable[[Any], Any], make_customer: Any,
        post_invoice: Any, django_assert_max_num_queries: Any, extra: int) -> None:
    for i in range(extra):
        make_customer(f"Q{i:03d}")
        post_invoice(f"Q{i:03d}")
    client = as_user(books["owner"])
    budgets = {f"/c/acme/reports/aging/?as_of={AS_OF}": 12,
               f"/c/acme/reports/aging/?as_of={AS_OF}&detail=1": 12,
               f"/c/acme/reports/unapplied/?as_of={AS_OF}": 12,
               # two more than the aging: the promises and the payment plans of the day
               # (collections' commitments, docs/design/forecast.md); and four to keep it
               # (the chain's head, the kept row read, written, the old ones removed): the
               # next request reads it kept (test_kept_forecast_page.py)
               f"/c/acme/reports/forecast/?as_of={AS_OF}": 18,
               f"/c/acme/reports/statement/?customer=C001&to={AS_OF}": 28,
               "/c/acme/settings/": 6, "/c/acme/settings/users/": 6,
               "/c/acme/settings/terms/": 6, "/c/acme/settings/banks/": 6,
               "/c/acme/settings/rates/": 6, "/c/acme/settings/period/": 6}
    for url, budget in budgets.items():
        with django_assert_max_num_queries(budget, info=url):
            assert client.get(url).status_code == 200, url


def test_every_reports_csv_download_is_the_commands_file(
        books: dict[str, Any], as_user: Callable[[Any], Any], tmp_path: Any) -> None:
    # one layout per report (apps/reporting/exports.py): the page's download and the
    # command's --csv are the same bytes
    from datetime import date
    from decimal import Decimal

    from salesledger.apps.payments.services import ReceiptInput, receipt_record

    receipt_record(actor=books["owner"], company=books["company"], data=ReceiptInput(
        customer_code="C001", date=date(2025, 5, 2), amount=Decimal("45.50")))  # unapplied
    owner = as_user(books["owner"])
    user = books["owner"].get_username()
    for report, query, argv in (
            ("aging", "", ()), ("aging", "detail=1&", ("--detail",)),
            ("kpis", "months=6&", ("--months", "6")), ("trends", "", ()),
            ("trends", "by=country&", ("--by", "country")), ("forecast", "weeks=6&", (
                "--weeks", "6")), ("unapplied", "", ())):
        page = _download_is_the_commands_file(owner, user, tmp_path, report, query, argv)
        assert len(page.splitlines()) > 1, report


def test_the_forecast_page_takes_the_commands_filters(
        books: dict[str, Any], as_user: Callable[[Any], Any], tmp_path: Any) -> None:
    """The forecast of one customer, of a country, of nobody: the page's download is the
    command's file with the same filters, and the page keeps what was asked in its form."""
    owner = as_user(books["owner"])
    whole, mine, nobody = _whole_mine_nobody(owner, books, tmp_path, "forecast", "weeks=6&",
                                             ("--weeks", "6"))
    assert len(nobody.splitlines()) == 7 and mine != nobody and whole != nobody
    assert all(row.endswith(",EUR,0.00,0.00,0.00,0.00") for row in nobody.splitlines()[1:])
    refused = owner.get(f"/c/acme/reports/forecast/?as_of={AS_OF}&customer=NOPE")
    assert refused.status_code == 400 and "no customer with code" in _text(refused)


def test_the_kpi_and_trend_pages_take_the_commands_filters(
        books: dict[str, Any], as_user: Callable[[Any], Any], tmp_path: Any) -> None:
    """A customer's KPIs and trends, a country's: the page's download is the command's file
    with the same filters (the company's casework columns empty for a set of customers)."""
    owner = as_user(books["owner"])
    user = books["owner"].get_username()
    whole, mine, nobody = _whole_mine_nobody(owner, books, tmp_path, "kpis", "months=3&",
                                             ("--months", "3"))
    assert whole.splitlines()[0] == mine.splitlines()[0] == nobody.splitlines()[0]
    assert ",EUR,0.00,0.00,0.00,0.00,0.00,0.00,0.00," in nobody.splitlines()[-1]
    trends = _download_is_the_commands_file(owner, user, tmp_path, "trends",
                                            "customer=C001&", ("--customer", "C001"))
    assert len(trends.splitlines()) > 1
    _download_is_the_commands_file(owner, user, tmp_path, "trends", "country=DE&",
                                   ("--country", "DE"))
    both = owner.get(f"/c/acme/reports/kpis/?as_of={AS_OF}&customer=C001&segment=size")
    assert both.status_code == 400 and "choose the segment or the customers" in _text(both)


def test_the_statement_of_a_period_as_its_pdf_and_by_e_mail(
        books: dict[str, Any], as_user: Callable[[Any], Any], django_user_model: Any,
        smtp_server: Mailbox, django_capture_on_commit_callbacks: Any) -> None:  # noqa: F811
    """The statement page downloads the period's PDF (``customer statement --from --to
    --output``: the same PDF) for any member, and e-mails it (``--email``) for a clerk; a
    viewer is not offered the e-mail and the service refuses it; a stranger finds nothing."""
    from datetime import date

    from salesledger.apps.core.services import membership_set
    from salesledger.apps.documents.tests.conftest import pdf_text
    from salesledger.apps.reporting.statement_pdf import statement_pdf

    query = f"customer=C002&from=2025-03-01&to={AS_OF}"
    page_url, send = f"/c/acme/reports/statement/?{query}", "/c/acme/reports/statement/send/"
    name = f"statement-C002-2025-03-01-{AS_OF}.pdf"
    clerk = as_user(books["clerk"])
    page = _text(clerk.get(page_url))
    assert "format=pdf" in page and "Send by e-mail with its PDF" in page
    response = clerk.get(f"{page_url}&format=pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    text = pdf_text(response.content)
    books["company"].refresh_from_db()  # its seller details, as the page reads them
    _, command = statement_pdf(actor=books["owner"], company=books["company"], code="C002",
                               start=date(2025, 3, 1), end=date.fromisoformat(AS_OF))
    assert text == pdf_text(command)
    assert books["receipt"].number in text and books["second"].number in text
    vera = django_user_model.objects.create_user("vera")
    membership_set(actor=books["owner"], company=books["company"], username="vera",
                   role="viewer")
    viewer = as_user(vera)
    page = _text(viewer.get(page_url))
    assert "format=pdf" in page and "Send by e-mail" not in page
    assert viewer.get(f"{page_url}&format=pdf").status_code == 200
    data = {"customer": "C002", "from": "2025-03-01", "to": AS_OF,
            "recipients": "ap@martin.example"}
    refused = viewer.post(send, data)
    assert refused.status_code == 403 and "permission_denied" in _text(refused)
    assert as_user(books["stranger"]).post(send, data).status_code == 404
    assert smtp_server.received == []
    with django_capture_on_commit_callbacks(execute=True):
        sent = clerk.post(send, data)
    assert sent.status_code == 200 and "ap@martin.example" in _text(sent)
    [mail] = smtp_server.received
    assert mail.rcpt_tos == ["ap@martin.example"]
    [part] = list(mail.message.iter_attachments())
    assert part.get_filename() == name and pdf_text(part.get_content()) == text
    unknown = clerk.post(send, {**data, "customer": "NOPE"})
    assert unknown.status_code == 409 and "no customer with code" in _text(unknown)
    assert len(smtp_server.received) == 1


def test_the_portfolio_page_converts_and_keeps_the_companies_that_need_attention(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    """``report portfolio --in CURRENCY --only ...`` on the page: the amounts converted with
    their total, the companies kept by the condition, and the command's refusals."""
    owner = as_user(books["owner"])
    page = _text(owner.get(f"/c/acme/portfolio/?as_of={AS_OF}&in=eur&only=overdue"))
    assert "Receivable in EUR" in page and 'name="in" value="EUR"' in page
    assert 'value="overdue" selected' in page and "Acme SARL" in page
    # every receipt of acme is applied: no company has cash to apply
    page = _text(owner.get(f"/c/acme/portfolio/?as_of={AS_OF}&only=unapplied"))
    assert "No company to show." in page and "Acme SARL" not in page.split("<tbody>")[1]
    for query, said in (("in=USD", "no USD exchange rate"),
                        ("in=ZZZ", "is not an ISO 4217 currency code")):
        refused = owner.get(f"/c/acme/portfolio/?as_of={AS_OF}&{query}")
        assert refused.status_code == 400 and said in _text(refused), query


def test_the_report_pages_in_a_document_currency(
        books: dict[str, Any], as_user: Callable[[Any], Any], make_customer: Any,
        post_invoice: Any, tmp_path: Any) -> None:
    """A USD invoice beside the EUR ones: the aging page shows each document currency's
    buckets under the base ones; every report page's form keeps a document currency, and the
    KPIs', trends' and forecast's downloads in it are the command's files with
    ``--document-currency``, their amounts in it."""
    from decimal import Decimal

    make_customer("U001", currency="USD", country="US")
    post_invoice("U001", lines=(("Work", 1, "80.00", "0"),), currency="USD",
                 rate=Decimal("0.5"))
    owner = as_user(books["owner"])
    user = books["owner"].get_username()
    aging = _text(owner.get(f"/c/acme/reports/aging/?as_of={AS_OF}"))
    assert "In each document currency" in aging and '<th scope="row">USD</th>' in aging
    usd = _text(owner.get(f"/c/acme/reports/aging/?as_of={AS_OF}&document_currency=USD"))
    assert "€40.00" in usd and 'name="document_currency" value="USD"' in usd
    assert "Martin SA" not in usd  # C002's items are in EUR
    for report in ("unapplied", "kpis", "trends", "forecast"):
        page = owner.get(f"/c/acme/reports/{report}/?as_of={AS_OF}&document_currency=USD")
        assert page.status_code == 200, report
        assert 'name="document_currency" value="USD"' in _text(page), report
    for report in ("kpis", "trends"):
        got = _download_is_the_commands_file(owner, user, tmp_path, report,
                                             "document_currency=USD&months=3&",
                                             ("--document-currency", "USD", "--months", "3"))
        assert ",USD," in got and ",EUR," not in got, report
    # the forecast in dollars: the 80.00 USD invoice as invoiced (40.00 EUR at the rate)
    got = _download_is_the_commands_file(owner, user, tmp_path, "forecast",
                                         "document_currency=USD&weeks=4&",
                                         ("--document-currency", "USD", "--weeks", "4"))
    assert ",USD,80.00," in got and ",EUR," not in got
    page = _text(owner.get(f"/c/acme/reports/forecast/?as_of={AS_OF}&document_currency=USD"))
    assert "80.00" in page and "€40.00" not in page
    bad = owner.get(f"/c/acme/reports/kpis/?as_of={AS_OF}&document_currency=ZZZ")
    assert bad.status_code == 400 and "is not an ISO 4217 currency code" in _text(bad)


def _whole_mine_nobody(client: Any, books: dict[str, Any], tmp_path: Any, report: str,
                       query: str, argv: tuple[str, ...]) -> tuple[str, str, str]:
    """The report's download of every customer, of C001, and of a country with none (DE),
    each the command's file with the same filters (``_download_is_the_commands_file``); and
    the page of C001 keeps the customer in its form."""
    user = books["owner"].get_username()
    whole, mine, nobody = (
        _download_is_the_commands_file(client, user, tmp_path, report, f"{q}{query}",
                                       (*given, *argv))
        for q, given in (("", ()), ("customer=C001&", ("--customer", "C001")),
                         ("country=DE&", ("--country", "DE"))))
    page = client.get(f"/c/acme/reports/{report}/?as_of={AS_OF}&customer=C001")
    assert page.status_code == 200 and 'name="customer" value="C001"' in page.content.decode()
    return whole, mine, nobody


def _download_is_the_commands_file(client: Any, user: str, tmp_path: Any, report: str,
                                   query: str, argv: tuple[str, ...]) -> str:
    """The report page's CSV download, checked equal byte for byte to the file that
    ``salesledger report REPORT ARGV --csv`` writes; returned."""
    from salesledger.cli.main import main

    response = client.get(f"/c/acme/reports/{report}/?{query}as_of={AS_OF}&format=csv")
    assert response.status_code == 200, (report, query)
    page = b"".join(response.streaming_content).decode()
    path = tmp_path / f"{report}.csv"
    assert main(["report", report, *argv, "--company", "acme", "--user", user,
                 "--as-of", AS_OF, "--csv", str(path)]) == 0
    assert page == path.read_bytes().decode(), (report, argv)
    return page


def test_the_aging_by_segment_shows_a_page_of_the_segments(
        books: dict[str, Any], as_user: Callable[[Any], Any], make_customer: Any,
        monkeypatch: Any, django_assert_max_num_queries: Any) -> None:
    # a customer on its own is its own group: the issue's books have 100,000 groups, which
    # the page listed whole (31 s of CPU on SQLite, most of it rendering the rows)
    from salesledger.web import params, report_views

    monkeypatch.setattr(params, "PAGE_SIZE", 1)
    monkeypatch.setattr(report_views, "PAGE_SIZE", 1)
    make_customer("C003", name="Dupont Filiale", parent_code="C001")
    owner = as_user(books["owner"])
    url = f"/c/acme/reports/aging/?as_of={AS_OF}&segment=group"
    # the aging page's 12 and three: the summary's day (of none: the items are read), the
    # segments and the segments' customers
    with django_assert_max_num_queries(15):
        first = owner.get(url).context
    assert [s.segment for s, _ in first["segment_rows"]] == ["C001"]
    assert first["has_next"] and not first["has_previous"]
    second = owner.get(url + "&page=2")
    assert [s.segment for s, _ in second.context["segment_rows"]] == ["C002"]
    assert not second.context["has_next"] and 'rel="prev"' in _text(second)
    # the whole day's buckets whatever the page
    assert second.context["buckets"] == first["buckets"]


def _group_books(books: dict[str, Any], make_customer: Any, post_invoice: Any) -> None:
    """Groups of every kind: a subsidiary (C003 of C001), a customer on its own with
    nothing open (C004), a subsidiary merged into a customer of another group (C005 of C004,
    into C002: in C002's group), a customer whose code sorts as a size band (B), one in
    dollars, a credit note."""
    from salesledger.apps.customers.merge import customer_merge

    make_customer("C003", name="Dupont Filiale", parent_code="C001")
    make_customer("C004", name="Durand")
    make_customer("C005", name="Durand Sud", parent_code="C004")
    make_customer("B", name="Bernard")
    post_invoice("C003", lines=(("Audit", 1, "100.00", "20"),))
    post_invoice("C005", lines=(("Audit", 3, "70.00", "20"),), issue_date=date(2025, 1, 5))
    post_invoice("B", lines=(("Audit", 1, "80.00", "20"),), currency="USD",
                 rate=Decimal("1.1"))
    post_invoice("C001", kind="credit_note", lines=(("Refund", 1, "40.00", "20"),))
    customer_merge(actor=books["owner"], company=books["company"], alias="C005",
                   survivor="C002")


def test_the_aging_by_group_of_the_summary_is_the_aging_of_the_items(
        books: dict[str, Any], make_customer: Any, post_invoice: Any,
        monkeypatch: Any) -> None:
    # on the summary's day a page of the groups is listed, cut and summed by the database:
    # the same figures as the aging's cells summed per group, whatever the page and filter
    from salesledger.apps.reporting import selectors
    from salesledger.apps.reporting.aging_summary import summary_build, summary_day

    _group_books(books, make_customer, post_invoice)
    company, day = books["company"], date.fromisoformat(AS_OF)
    summary_build(company, day=day)
    whole_report, whole = selectors.aging_by_segment(company, as_of=day, segment="group")
    assert [s.segment for s in whole] == ["B", "C001", "C002", "C004"]
    assert {s.segment: s.customers for s in whole} == {"B": 1, "C001": 2, "C002": 1,
                                                       "C004": 0}
    for size, offset in ((2, 0), (2, 2), (3, 1), (50, 0), (5, 4)):
        report, page = selectors.aging_by_segment_page(company, as_of=day, segment="group",
                                                       size=size, offset=offset)
        assert page == whole[offset:offset + size], (size, offset)
        assert (report.base, report.by_currency, report.items, report.unapplied) == (
            whole_report.base, whole_report.by_currency, whole_report.items,
            whole_report.unapplied)
    for filters in (selectors.ReportFilters(currency="USD"),
                    selectors.ReportFilters(country="FR"),
                    selectors.ReportFilters(customer="C001")):
        report, page = selectors.aging_by_segment_page(company, as_of=day, segment="group",
                                                       size=10, offset=0, filters=filters)
        want_report, want = selectors.aging_by_segment(company, as_of=day, segment="group",
                                                       filters=filters)
        assert page == want and report.base == want_report.base, filters
    # the summary's path was the one taken: without the summary, the items are read
    calls: list[date] = []
    real = selectors.aging_cells

    def counted(company: Any, scope: Any) -> Any:
        calls.append(scope.as_of)
        return real(company, scope)

    monkeypatch.setattr(selectors, "aging_cells", counted)
    selectors.aging_by_segment_page(company, as_of=day, segment="group", size=2, offset=0)
    assert calls == []
    # another day than the summary's: the whole made and cut, the same figures
    before = day - timedelta(days=30)
    _, want = selectors.aging_by_segment(company, as_of=before, segment="group")
    _, page = selectors.aging_by_segment_page(company, as_of=before, segment="group",
                                              size=2, offset=1)
    assert calls == [before, before] and page == want[1:3] and summary_day(company) == day


def test_a_page_of_the_aging_by_group_reads_the_summary_in_few_queries(
        books: dict[str, Any], as_user: Callable[[Any], Any], make_customer: Any,
        post_invoice: Any, django_assert_max_num_queries: Any) -> None:
    from salesledger.apps.reporting.aging_summary import summary_build

    _group_books(books, make_customer, post_invoice)
    for i in range(30):  # thirty groups more: the same queries
        make_customer(f"Q{i:03d}")
        post_invoice(f"Q{i:03d}")
    summary_build(books["company"], day=date.fromisoformat(AS_OF))
    owner = as_user(books["owner"])
    url = f"/c/acme/reports/aging/?as_of={AS_OF}&segment=group"
    # the aging page's 12 and five: the summary's day (twice), the page's groups, their
    # sums and the totals
    with django_assert_max_num_queries(17):
        page = owner.get(url)
    rows = {s.segment: (s.customers, sum(s.base)) for s, _ in page.context["segment_rows"]
            if not s.segment.startswith("Q")}
    assert rows.pop("B")[0] == 1
    # C001: its invoice, its subsidiary's and its credit note; C002: paid in full, and the
    # items of the alias it took from C004's group
    assert rows == {"C001": (2, 120000 + 12000 - 4800), "C002": (1, 25200), "C004": (0, 0)}


def test_the_owners_of_many_customers_are_read_without_a_list_of_their_ids(
        books: dict[str, Any], make_customer: Any, monkeypatch: Any) -> None:
    # a whole day's aging names every customer with something open: past OWNERS_BY_LIST the
    # company's customers are read and those named kept, the same answer
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from salesledger.apps.reporting import aging

    make_customer("C003", name="Dupont Filiale")
    first, second = books["first"].customer, books["second"].customer
    ids = [first.pk, second.pk]
    by_list = aging.customer_owners(books["company"], ids)
    monkeypatch.setattr(aging, "OWNERS_BY_LIST", 1)
    with CaptureQueriesContext(connection) as captured:
        by_company = aging.customer_owners(books["company"], ids)
    assert by_company == by_list == {
        c.pk: (c.pk, c.code, c.name, c.country) for c in (first, second)}
    assert len(captured.captured_queries) == 1
    assert " IN (" not in captured.captured_queries[0]["sql"]


def test_the_aging_and_kpi_pages_cut_by_segment_as_the_command_does(
        books: dict[str, Any], as_user: Callable[[Any], Any], make_customer: Any,
        post_invoice: Any, tmp_path: Any) -> None:
    # a subsidiary of C001's group: the group's buckets hold both customers' items

    make_customer("C003", name="Dupont Filiale", parent_code="C001")
    post_invoice("C003", lines=(("Audit", 1, "100.00", "20"),))
    owner = as_user(books["owner"])
    user = books["owner"].get_username()
    page = owner.get(f"/c/acme/reports/aging/?as_of={AS_OF}&segment=group")
    assert page.status_code == 200
    text = _text(page)
    assert 'name="segment"' in text and '<option value="group" selected>' in text
    groups = {s.segment: (s.customers, sum(s.base)) for s, _ in page.context["segment_rows"]}
    assert groups == {"C001": (2, 132000), "C002": (0, 0)}  # C002 paid in full
    assert "€1,320.00" in text
    sizes = owner.get(f"/c/acme/reports/aging/?as_of={AS_OF}&segment=size").context
    assert [s.segment for s, _ in sizes["segment_rows"]] == ["A", "B"]
    kpis = owner.get(f"/c/acme/reports/kpis/?as_of={AS_OF}&months=2&segment=size")
    assert kpis.status_code == 200
    assert [(name, m.month) for name, m, _ in kpis.context["rows"]] == [
        ("A", "2025-03"), ("A", "2025-04"), ("B", "2025-03"), ("B", "2025-04")]
    # the downloads are the command's files, byte for byte
    for report, query, argv in (
            ("aging", "segment=group&", ("--segment", "group")),
            ("aging", "segment=size&by=issue&", ("--segment", "size", "--by", "issue")),
            ("kpis", "segment=group&months=3&", ("--segment", "group", "--months", "3")),
            ("kpis", "segment=size&", ("--segment", "size"))):
        got = _download_is_the_commands_file(owner, user, tmp_path, report, query, argv)
        assert len(got.splitlines()) > 2, query


@pytest.mark.parametrize("extra", [0, 30])
def test_the_segment_pages_cost_a_bounded_number_of_queries(
        books: dict[str, Any], as_user: Callable[[Any], Any], make_customer: Any,
        post_invoice: Any, django_assert_max_num_queries: Any, extra: int) -> None:
    for i in range(extra):
        make_customer(f"Q{i:03d}")
        post_invoice(f"Q{i:03d}")
    client = as_user(books["owner"])
    for url in (f"/c/acme/reports/aging/?as_of={AS_OF}&segment=group",
                f"/c/acme/reports/aging/?as_of={AS_OF}&segment=size",
                f"/c/acme/reports/kpis/?as_of={AS_OF}&segment=size",
                "/c/acme/settings/pack/"):
        # (15: the aging by group asks the summary's day first, of none here)
        with django_assert_max_num_queries(15, info=url):
            assert client.get(url).status_code == 200, url


def test_the_pack_settings_go_through_the_commands_service(
        books: dict[str, Any], as_user: Callable[[Any], Any], django_user_model: Any) -> None:
    company = books["company"]
    django_user_model.objects.filter(pk=books["clerk"].pk).update(email="claude@acme.example")
    owner, clerk = as_user(books["owner"]), as_user(books["clerk"])
    page = owner.get("/c/acme/settings/pack/")
    assert page.status_code == 200 and "not sent on a schedule yet" in _text(page)
    before = len(_audits(company))
    # refused as the command refuses: no user chosen, a day out of range
    bad = owner.post("/c/acme/settings/pack/", {"day": "3"})
    assert bad.status_code == 400 and "at least one user" in _text(bad)
    bad = owner.post("/c/acme/settings/pack/", {"day": "40", "users": ["claude"]})
    assert bad.status_code == 400 and "--day 40" in _text(bad)
    # a clerk may read it, not change it
    assert clerk.get("/c/acme/settings/pack/").status_code == 200
    denied = clerk.post("/c/acme/settings/pack/", {"day": "3", "users": ["claude"]})
    assert denied.status_code == 403
    assert len(_audits(company)) == before
    done = owner.post("/c/acme/settings/pack/", {"day": "3", "users": ["claude", "owner"]})
    assert done.status_code == 302
    shown = _text(owner.get("/c/acme/settings/pack/"))
    assert "on day 3 of every month to claude, owner" in shown
    [event] = _audits(company)[before:]
    assert event.action == "report.pack_schedule_set"
    assert event.data["users"] == ["claude", "owner"] and event.data["day"] == 3
    assert owner.post("/c/acme/settings/pack/", {"action": "stop"}).status_code == 302
    assert "no longer sent" in _text(owner.get("/c/acme/settings/pack/"))
    assert _audits(company)[-1].action == "report.pack_schedule_stop"
    owner.post("/i18n/setlang/", {"language": "fr", "next": "/c/acme/"})
    french = _text(owner.get("/c/acme/settings/pack/"))
    assert "Dossier mensuel" in french and "Le dossier n'est plus envoyé." in french


def test_the_pack_settings_choose_each_users_language(
        books: dict[str, Any], as_user: Callable[[Any], Any], django_user_model: Any) -> None:
    """The language beside each user is the command's ``--to USER:LANG``: saved through the
    same service, shown chosen when the page comes back, and kept by the command's
    ``--schedule show``."""
    from salesledger.apps.reporting.pack_sending import pack_schedule_show

    company = books["company"]
    django_user_model.objects.filter(pk=books["clerk"].pk).update(email="claude@acme.example")
    owner = as_user(books["owner"])
    done = owner.post("/c/acme/settings/pack/", {"day": "5", "users": ["claude", "owner"],
                                                 "language-claude": "fr",
                                                 "language-owner": "de"})
    assert done.status_code == 302
    assert pack_schedule_show(company)["schedule"]["languages"] == {"claude": "fr",
                                                                    "owner": "de"}
    assert _audits(company)[-1].data["languages"] == ["fr", "de"]
    page = owner.get("/c/acme/settings/pack/")
    assert "on day 5 of every month to claude (fr), owner (de)" in _text(page)
    html = page.content.decode()
    assert 'name="language-claude"' in html
    assert '<option value="fr" lang="fr" selected>Français</option>' in html
    # a user ticked without a language sent keeps the one chosen before
    assert owner.post("/c/acme/settings/pack/", {"day": "5", "users": ["claude"]}
                      ).status_code == 302
    assert pack_schedule_show(company)["schedule"]["languages"] == {"claude": "fr"}
    # a language the pack is not written in: refused as the command refuses it
    bad = owner.post("/c/acme/settings/pack/", {"day": "5", "users": ["claude"],
                                                "language-claude": "xx"})
    assert bad.status_code == 400 and "the pack is written in en, fr, de" in _text(bad)
