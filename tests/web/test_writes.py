"""The workspace's writing pages, through Django's test client: each form goes to the
service the command line calls, a refusal comes back with the service's own words next to
its field, the pages offer only what the role may do (and the services refuse the rest),
and a user of another company finds none of them."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from salesledger.apps.documents.tests.conftest import Mailbox, smtp_server  # noqa: F401

from .bank_urls import BANK_POSTS
from .collection_urls import COLLECTION_FORMS, COLLECTION_POSTS

pytestmark = pytest.mark.usefixtures("no_pdf_freezing")

LINES = {"rows": "3",
         "line-1-description": "Consulting", "line-1-quantity": "2",
         "line-1-unit_price": "500.00", "line-1-tax_rate": "20", "line-1-category": "S",
         "line-2-description": "", "line-2-quantity": "", "line-2-unit_price": "",
         "line-2-tax_rate": "", "line-2-category": "S",
         "line-3-description": "Travel", "line-3-quantity": "1",
         "line-3-unit_price": "80.50", "line-3-tax_rate": "10", "line-3-discount": "10",
         "line-3-category": "S"}


def refusal(call: Callable[[], Any]) -> str:
    """What a service says when it refuses, as the command line prints it, HTML-escaped."""
    from salesledger.domain.errors import LedgerError

    with pytest.raises(LedgerError) as caught:
        call()
    return html.escape(str(caught.value))


def refusals(response: Any) -> list[str]:
    """The refusals a page shows (to say why a test failed)."""
    return re.findall(r'(?:class="error"|role="alert")[^>]*>([^<]+)', response.content.decode())


def draft_id(response: Any) -> int:
    assert response.status_code == 302, response.content.decode()[:2000]
    return int(response["Location"].rstrip("/").rsplit("/", 1)[1])


# ---------------------------------------------------------------- customers
def test_a_customer_is_created_through_the_service(books: dict[str, Any],
                                                    as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.customers.selectors import customer_detail

    response = as_user(books["clerk"]).post("/c/acme/customer/new/", {
        "code": "C100", "name": "Bernard SAS", "country": "FR", "language": "fr",
        "tax_id": "FR83404833048", "credit_limit": "5000", "billing_line1": "1 rue Neuve",
        "billing_postal_code": "69001", "billing_city": "Lyon", "contact_name": "Anne Bernard",
        "contact_email": "anne@bernard.example", "iban": "DE89 3704 0044 0532 0130 00"})
    assert response.status_code == 302, refusals(response)
    assert response["Location"] == "/c/acme/customers/C100/"
    made = customer_detail(books["company"], "C100")
    # 5000 typed is 5,000.00 euros, not 50.00: the service reads major units
    assert made["credit_limit"] == {"amount": "5000.00", "currency": "EUR"}
    assert made["addresses"][0]["city"] == "Lyon"
    assert made["contacts"][0]["email"] == "anne@bernard.example"
    assert made["bank_accounts"][0]["iban"] == "DE89370400440532013000"


@pytest.mark.parametrize(("field", "value"), [
    ("tax_id", "FR00000000000"), ("iban", "DE00 0000 0000 0000 0000 00"), ("country", "UK")])
def test_a_refused_customer_shows_the_services_message_next_to_its_field(
        books: dict[str, Any], as_user: Callable[[Any], Any], field: str, value: str) -> None:
    from salesledger.apps.customers.services import (
        BankAccountInput,
        CustomerInput,
        customer_create,
    )

    form = {"code": "C101", "name": "Refused", "country": "FR", "language": "en", field: value}
    data = CustomerInput(code="C101", name="Refused", country=form["country"],
                         tax_id=form.get("tax_id", ""),
                         bank_accounts=[BankAccountInput(iban=value)] if field == "iban" else [])
    expected = refusal(lambda: customer_create(actor=books["owner"], company=books["company"],
                                               data=data))
    page = as_user(books["clerk"]).post("/c/acme/customer/new/", form)
    text = page.content.decode()
    assert page.status_code == 200
    # the message the command line prints, beside the control it is about
    assert f'<span class="error" id="id_{field}-error">{expected}</span>' in text
    assert 'aria-describedby="id_' + field + '-error"' in text


def test_a_customer_is_changed_with_only_what_changed(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.core.models import AuditEvent
    from salesledger.apps.customers.selectors import customer_detail

    client = as_user(books["clerk"])
    form = client.get("/c/acme/customer/C001/edit/")
    assert 'value="Dupont et Fils"' in form.content.decode()
    response = client.post("/c/acme/customer/C001/edit/", {
        "name": "Dupont et Fils", "country": "FR", "language": "en", "credit_limit": "7500.5"})
    assert response.status_code == 302
    assert customer_detail(books["company"], "C001")["credit_limit"]["amount"] == "7500.50"
    [event] = AuditEvent.objects.filter(company=books["company"], action="customer.update")
    before, after = event.data["before"], event.data["after"]
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed == {"credit_limit"}
    bad = client.post("/c/acme/customer/C001/edit/", {"name": "Dupont", "country": "XX",
                                                      "language": "en"})
    assert "is not an ISO 3166-1 two-letter country code" in bad.content.decode()


def test_a_customers_bank_accounts_are_added_and_removed_through_the_services(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.core.models import AuditEvent
    from salesledger.apps.customers.selectors import customer_detail
    from salesledger.apps.customers.services import bank_account_remove

    client = as_user(books["clerk"])
    page = client.get("/c/acme/customers/C001/").content.decode()
    assert "Add a bank account" in page
    added = client.post("/c/acme/customer/C001/iban/add/",
                        {"iban": "DE89 3704 0044 0532 0130 00"})
    assert added.status_code == 302 and added["Location"] == "/c/acme/customers/C001/"
    iban = "DE89370400440532013000"
    assert [b["iban"] for b in customer_detail(books["company"], "C001")["bank_accounts"]] == [
        iban]
    page = client.get("/c/acme/customers/C001/").content.decode()
    assert f'name="iban" value="{iban}"' in page and f"Remove {iban}" in page
    # a refusal comes back beside its form, in the service's words
    other = "FR1420041010050500013M02606"
    said = refusal(lambda: bank_account_remove(actor=books["clerk"], company=books["company"],
                                               code="C001", iban=other))
    bad = client.post("/c/acme/customer/C001/iban/remove/", {"iban": other})
    assert bad.status_code == 409 and said in bad.content.decode()
    taken = client.post("/c/acme/customer/C002/iban/add/", {"iban": iban})
    assert taken.status_code == 409 and f"IBAN {iban} already belongs to customer C001" in \
        taken.content.decode()
    removed = client.post("/c/acme/customer/C001/iban/remove/", {"iban": iban})
    assert removed.status_code == 302
    assert customer_detail(books["company"], "C001")["bank_accounts"] == []
    assert AuditEvent.objects.filter(company=books["company"],
                                     action="customer.bank_account_remove").count() == 1


# ---------------------------------------------------------------- invoices
def test_the_draft_editor_saves_totals_and_posts(books: dict[str, Any],
                                                  as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.payments.selectors import invoice_detail

    client = as_user(books["clerk"])
    assert "Customer code" in client.get("/c/acme/drafts/new/?customer=C001").content.decode()
    head = {"customer": "C001", "issue_date": "2025-03-12", "po_number": "PO-7", **LINES}
    pk = draft_id(client.post("/c/acme/drafts/new/", head))
    draft = invoice_detail(books["company"], pk)
    # 2 x 500.00 at 20 % and 80.50 less 10 % (72.45) at 10 %: what the pure core says
    assert [li["description"] for li in draft["lines"]] == ["Consulting", "Travel"]
    assert (draft["net"]["amount"], draft["tax"]["amount"], draft["total"]["amount"]) == (
        "1072.45", "207.25", "1279.70")
    editor = client.get(f"/c/acme/drafts/{pk}/").content.decode()
    assert 'value="Travel"' in editor and "€1,279.70" in editor

    # the totals as one types, from the server (htmx partial): change a quantity
    typed = {**head, "line-1-quantity": "3"}
    totals = client.post("/c/acme/drafts/totals/", typed).content.decode()
    assert "€1,500.00" in totals and "€1,879.70" in totals  # line 1's net, the new total
    wrong = client.post("/c/acme/drafts/totals/", {**head, "line-3-tax_rate": "120"})
    assert 'id="line-3-error" hx-swap-oob="true">invalid: line 2: tax rate must be between' \
        in wrong.content.decode()

    saved = client.post(f"/c/acme/drafts/{pk}/", {**typed, "action": "post"})
    assert saved.status_code == 302
    posted = invoice_detail(books["company"], pk)
    assert posted["status"] == "posted" and posted["total"]["amount"] == "1879.70"
    assert saved["Location"] == f"/c/acme/invoices/{posted['number']}"
    # posted is forever: the editor sends one to the document's page
    assert client.get(f"/c/acme/drafts/{pk}/")["Location"] == saved["Location"]


CHARGES = {"charges": "3",
           "charge-1-kind": "allowance", "charge-1-reason": "Loyalty", "charge-1-code": "",
           "charge-1-amount": "5%", "charge-1-tax_rate": "20", "charge-1-category": "S",
           "charge-2-kind": "allowance", "charge-2-reason": "", "charge-2-code": "",
           "charge-2-amount": "", "charge-2-tax_rate": "", "charge-2-category": "S",
           "charge-3-kind": "charge", "charge-3-reason": "Freight", "charge-3-code": "fc",
           "charge-3-amount": "15.00", "charge-3-tax_rate": "20", "charge-3-category": "S"}


def test_the_draft_editor_writes_allowances_and_charges_for_the_whole_document(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.invoicing.selectors import invoice_list
    from salesledger.apps.payments.selectors import invoice_detail

    client = as_user(books["clerk"])
    assert "Allowances and charges" in client.get("/c/acme/drafts/new/").content.decode()
    head = {"customer": "C001", "issue_date": "2025-03-12", **LINES, **CHARGES}
    # the totals as one types: the lines (1,072.45), 5 % off the 20 % lines (50.00), the
    # freight (15.00); the net after them, as the pure core computes it
    totals = client.post("/c/acme/drafts/totals/", head).content.decode()
    for shown in ("€1,072.45", "€50.00", "€15.00", "€1,037.45"):
        assert shown in totals, shown
    assert 'id="charge-1-amount-out" hx-swap-oob="true">€50.00' in totals
    assert 'data-total="allowances">− €50.00' in totals
    assert 'data-total="charges">+ €15.00' in totals
    # charges alone: no "Allowances − €0.00" line, and allowances alone no "Charges + €0.00"
    charges_only = {**head, "charge-1-reason": "", "charge-1-amount": ""}
    shown = client.post("/c/acme/drafts/totals/", charges_only).content.decode()
    assert 'data-total="charges">+ €15.00' in shown and "Allowances</dt>" not in shown
    allowances_only = {**head, "charge-3-reason": "", "charge-3-code": "",
                       "charge-3-amount": ""}
    shown = client.post("/c/acme/drafts/totals/", allowances_only).content.decode()
    assert 'data-total="allowances">− €50.00' in shown and "Charges</dt>" not in shown
    # a charge the core refuses says why on its row, as one types and when saving
    bad = {**head, "charge-3-reason": "", "charge-3-code": ""}
    assert ('id="charge-3-error" hx-swap-oob="true">invalid: document charge 2: give a reason'
            in client.post("/c/acme/drafts/totals/", bad).content.decode())
    before = len(invoice_list(books["company"]))
    refused_page = client.post("/c/acme/drafts/new/", bad)
    assert refused_page.status_code == 200
    assert 'id="charge-3-error">invalid: document charge 2: give a reason' in \
        refused_page.content.decode()
    assert len(invoice_list(books["company"])) == before
    # saved with the draft: the percentage kept as a percentage, the code as typed upper
    pk = draft_id(client.post("/c/acme/drafts/new/", head))
    draft = invoice_detail(books["company"], pk)
    assert [(c["kind"], c["reason"], c["reason_code"], c["amount"]["amount"], c["percent"])
            for c in draft["charges"]] == [("allowance", "Loyalty", "", "50.00", "5"),
                                           ("charge", "Freight", "FC", "15.00", None)]
    assert draft["net"]["amount"] == "1037.45"
    editor = client.get(f"/c/acme/drafts/{pk}/").content.decode()
    assert 'value="5%"' in editor and 'value="Freight"' in editor
    # the draft saved again from its editor keeps them, and posts with them
    kept = {**head, "charges": "2", "charge-2-kind": "charge", "charge-2-reason": "Freight",
            "charge-2-code": "FC", "charge-2-amount": "15.00", "charge-2-tax_rate": "20"}
    posted = client.post(f"/c/acme/drafts/{pk}/", {**kept, "action": "post"})
    assert posted.status_code == 302, refusals(posted)
    done = invoice_detail(books["company"], pk)
    assert done["status"] == "posted" and done["net"]["amount"] == "1037.45"
    assert len(done["charges"]) == 2
    # one more row on asking, nothing saved
    more = client.post("/c/acme/drafts/new/", {**head, "more_charge": "1"})
    assert more.status_code == 200 and 'name="charge-4-reason"' in more.content.decode()


SUPPLY = {"delivery_date": "2025-03-10", "period_start": "2025-02-01",
          "period_end": "2025-02-28", "contract_reference": "  CT-2025   07 ",
          "project_reference": "Relaunch", "supply_type": "services"}


def test_the_draft_editor_writes_the_supply_details_as_the_command_line_does(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.invoicing.selectors import invoice_get, invoice_list
    from salesledger.apps.payments.selectors import invoice_detail

    client = as_user(books["clerk"])
    editor = client.get("/c/acme/drafts/new/").content.decode()
    for label in ("Delivery date", "Invoicing period from", "Nature of the operation"):
        assert label in editor, label
    head = {"customer": "C001", "issue_date": "2025-03-12", **LINES, **SUPPLY}
    pk = draft_id(client.post("/c/acme/drafts/new/", head))
    # checked and kept by the service as ``invoice create --contract ...`` is: spaces folded
    assert invoice_detail(books["company"], pk)["supply"] == {
        "delivery_date": date(2025, 3, 10), "period_start": date(2025, 2, 1),
        "period_end": date(2025, 2, 28), "contract_reference": "CT-2025 07",
        "project_reference": "Relaunch", "supply_type": "services"}
    editor = client.get(f"/c/acme/drafts/{pk}/").content.decode()
    assert 'value="2025-02-28"' in editor and 'value="CT-2025 07"' in editor
    assert '<option value="services" selected>' in editor
    # a period that ends before it starts: the service's words next to the period's end,
    # and nothing saved (neither a new draft nor a change to this one)
    before = len(invoice_list(books["company"]))
    backwards = {**head, "period_end": "2025-01-31"}
    for url in ("/c/acme/drafts/new/", f"/c/acme/drafts/{pk}/"):
        page = client.post(url, backwards)
        assert page.status_code == 200
        assert ('id="id_period_end-error">invalid: the invoicing period ends (2025-01-31) '
                'before it starts (2025-02-01)') in page.content.decode(), refusals(page)
    assert len(invoice_list(books["company"])) == before
    assert invoice_get(books["company"], pk).period_end == date(2025, 2, 28)
    long_ref = client.post(url, {**head, "project_reference": "P" * 61}).content.decode()
    assert 'id="id_project_reference-error">invalid: the project reference is longer' \
        in long_ref
    # saved again: cleared where blanked, changed where changed
    changed = {**head, "delivery_date": "", "contract_reference": "", "supply_type": "mixed"}
    assert client.post(f"/c/acme/drafts/{pk}/", changed).status_code == 302
    supply = invoice_detail(books["company"], pk)["supply"]
    assert (supply["delivery_date"], supply["contract_reference"], supply["supply_type"],
            supply["period_end"]) == (None, "", "mixed", date(2025, 2, 28))
    # posted with them, and shown on the document's page
    posted = client.post(f"/c/acme/drafts/{pk}/", {**changed, "action": "post"})
    assert posted.status_code == 302, refusals(posted)
    shown = client.get(posted["Location"]).content.decode()
    for text in ("Invoicing period", "Feb 1, 2025", "Feb 28, 2025", "Relaunch",
                 "Goods and services"):
        assert text in shown, text
    assert "Delivery date" not in shown and "Contract" not in shown


def test_a_refused_line_is_shown_on_its_line_and_nothing_is_saved(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.invoicing.selectors import invoice_list

    before = len(invoice_list(books["company"]))
    page = as_user(books["clerk"]).post("/c/acme/drafts/new/", {
        "customer": "C001", "issue_date": "2025-03-12", **LINES, "line-3-quantity": "two"})
    text = page.content.decode()
    assert page.status_code == 200
    assert ('id="line-3-error">invalid: line 2: quantity: &#x27;two&#x27; is not a number'
            in text)
    assert len(invoice_list(books["company"])) == before
    unknown = as_user(books["clerk"]).post("/c/acme/drafts/new/", {
        "customer": "NOPE", "issue_date": "2025-03-12", **LINES}).content.decode()
    assert 'id="id_customer-error"' in unknown


def test_posting_refused_by_the_service_is_shown(books: dict[str, Any],
                                                 as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.core.services import company_close_period

    client = as_user(books["clerk"])
    pk = draft_id(client.post("/c/acme/drafts/new/", {
        "customer": "C001", "issue_date": "2025-01-15", **LINES}))
    company_close_period(actor=books["owner"], company=books["company"],
                         through=date(2025, 1, 31))
    page = client.post(f"/c/acme/drafts/{pk}/", {"customer": "C001",
                                                  "issue_date": "2025-01-15", **LINES,
                                                  "action": "post"})
    assert page.status_code == 200 and "period_closed" in page.content.decode()


def test_a_credit_note_for_an_invoice_starts_from_its_lines(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.payments.selectors import invoice_detail

    client = as_user(books["clerk"])
    number = books["first"].number
    form = client.get(f"/c/acme/drafts/new/?kind=credit_note&corrects={number}").content.decode()
    assert f"Credit note for {number}" in form and 'value="Consulting"' in form
    pk = draft_id(client.post("/c/acme/drafts/new/", {
        "kind": "credit_note", "corrects": number, "customer": "C001",
        "issue_date": "2025-03-20", "rows": "1", "line-1-description": "Consulting",
        "line-1-quantity": "1", "line-1-unit_price": "500.00", "line-1-tax_rate": "20"}))
    note = invoice_detail(books["company"], pk)
    assert note["kind"] == "credit_note" and note["corrects"] == number
    assert note["total"]["amount"] == "600.00"


def test_a_posted_invoice_is_sent_by_e_mail(
        books: dict[str, Any], as_user: Callable[[Any], Any], smtp_server: Mailbox,  # noqa: F811
        django_capture_on_commit_callbacks: Any) -> None:
    number = books["first"].number
    with django_capture_on_commit_callbacks(execute=True):  # it is sent once committed
        page = as_user(books["clerk"]).post(f"/c/acme/send/{number}",
                                            {"to": "ap@dupont.example"})
    assert page.status_code == 200, page.content.decode()
    [mail] = smtp_server.received
    assert mail.rcpt_tos == ["ap@dupont.example"]
    pdfs = [p for p in mail.message.iter_attachments()
            if p.get_content_type() == "application/pdf"]
    assert pdfs and pdfs[0].get_content().startswith(b"%PDF")


@pytest.fixture
def accepted_quote(books: dict[str, Any]) -> str:
    from conftest import line_inputs

    from salesledger.apps.quotes.services import (
        QuoteInput,
        quote_accept,
        quote_create,
        quote_send,
    )

    day, who, company = date(2025, 3, 3), books["owner"], books["company"]
    quote = quote_create(actor=who, company=company, as_of=day, data=QuoteInput(
        customer_code="C002", lines=line_inputs((("Training", 3, "400.00", "20"),))))
    quote_send(actor=who, company=company, number=quote.label, as_of=day)
    quote_accept(actor=who, company=company, number=quote.label, as_of=date(2025, 3, 10))
    return str(quote.label)


def test_an_accepted_quote_is_converted_into_an_invoice(
        books: dict[str, Any], accepted_quote: str, as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.payments.selectors import invoice_detail

    client = as_user(books["clerk"])
    assert accepted_quote in client.get("/c/acme/quotes/").content.decode()
    page = client.get(f"/c/acme/quotes/{accepted_quote}?as_of=2025-03-12").content.decode()
    assert "Convert into an invoice" in page and "€1,440.00" in page
    done = client.post(f"/c/acme/quote/convert/{accepted_quote}?as_of=2025-03-12",
                       {"post": "1"})
    assert done.status_code == 302 and done["Location"].endswith("?as_of=2025-03-12")
    number = done["Location"].split("?")[0].rsplit("/", 1)[1]
    invoice = invoice_detail(books["company"], number)
    assert (invoice["status"], invoice["customer"], invoice["total"]["amount"],
            invoice["issue_date"]) == ("posted", "C002", "1440.00", date(2025, 3, 12))
    again = client.get(f"/c/acme/quotes/{accepted_quote}").content.decode()
    assert "Convert into an invoice" not in again and number in again
    # converted once: the service refuses a second time
    assert client.post(f"/c/acme/quote/convert/{accepted_quote}").status_code == 409


# ---------------------------------------------------------------- receipts
@pytest.fixture
def open_books(books: dict[str, Any], post_invoice: Any) -> dict[str, Any]:
    """C001 owes its first invoice (1,200.00) and two more: 240.00 and 120.00."""
    books["third"] = post_invoice("C001", lines=(("Support", 2, "100.00", "20"),))
    books["fourth"] = post_invoice("C001", lines=(("Hosting", 1, "100.00", "20"),))
    return books


def _receipt(client: Any, amount: str) -> str:
    response = client.post("/c/acme/receipts/new/", {
        "customer": "C001", "date": "2025-04-01", "amount": amount, "method": "bank_transfer",
        "payer_reference": "April payment"})
    assert response.status_code == 302, response.content.decode()[:3000]
    return str(response["Location"].removeprefix("/c/acme/receipts/"))


def test_a_receipt_is_recorded_and_allocated_to_two_invoices(
        open_books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.payments.selectors import invoice_detail, receipt_detail

    client = as_user(open_books["clerk"])
    number = _receipt(client, "400.00")
    page = client.get(f"/c/acme/receipts/{number}").content.decode()
    third, fourth = open_books["third"].number, open_books["fourth"].number
    assert third in page and "€400.00" in page

    picks = {"policy": "manual", "pick": [third, fourth], f"open-{third}": "240.00",
             f"open-{fourth}": "120.00", f"amount-{fourth}": ""}
    preview = client.post(f"/c/acme/receipt/preview/{number}", picks).content.decode()
    assert "Left unapplied after it:" in preview and "€40.00" in preview  # 400 - 240 - 120
    too_much = client.post(f"/c/acme/receipt/preview/{number}",
                           {**picks, f"amount-{fourth}": "200"}).content.decode()
    assert 'class="error"' in too_much
    assert receipt_detail(open_books["company"], number)["allocations"] == []  # a dry run

    done = client.post(f"/c/acme/receipt/allocate/{number}", picks)
    assert done.status_code == 302
    for inv in (third, fourth):
        assert invoice_detail(open_books["company"], inv)["settlement"] == "paid"
    r = receipt_detail(open_books["company"], number)
    assert r["unapplied"] == {"amount": "40.00", "currency": "EUR"}
    assert [a["invoice"] for a in r["allocations"]] == [third, fourth]

    # undo the second allocation: a reversing row, the invoice open again
    undo = client.post(f"/c/acme/allocation/{r['allocations'][1]['id']}/undo/{number}")
    assert undo.status_code == 302
    assert invoice_detail(open_books["company"], fourth)["settlement"] == "open"
    assert "undone" in client.get(f"/c/acme/receipts/{number}").content.decode()


def test_a_short_payment_is_allocated_and_the_rest_written_off(
        open_books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.payments.adjustments.settings import settlement_settings_set
    from salesledger.apps.payments.selectors import invoice_detail

    settlement_settings_set(actor=open_books["owner"], company=open_books["company"],
                            writeoff_tolerance_amount=Decimal("5.00"),
                            writeoff_tolerance_percent=Decimal("5"))
    client = as_user(open_books["clerk"])
    number = _receipt(client, "117.00")
    fourth = open_books["fourth"].number
    response = client.post(f"/c/acme/receipt/short/{number}",
                           {"invoice": fourth, "amount": "", "settle": "write_off"})
    assert response.status_code == 302, refusals(response)
    detail = invoice_detail(open_books["company"], fourth)
    assert detail["settlement"] == "paid"
    assert detail["adjustments"] == {"write_off": {"amount": "3.00", "currency": "EUR"}}
    # beyond the tolerance: refused with the service's words, nothing written
    other = _receipt(client, "100.00")
    refused = client.post(f"/c/acme/receipt/short/{other}",
                          {"invoice": open_books["third"].number, "settle": "write_off"})
    assert refused.status_code == 409 and "tolerance" in refused.content.decode()
    assert invoice_detail(open_books["company"], open_books["third"].number)[
        "settlement"] == "open"


def test_a_manager_refunds_and_a_clerk_reverses(open_books: dict[str, Any],
                                                as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.payments.selectors import receipt_detail

    clerk = as_user(open_books["clerk"])
    number = _receipt(clerk, "50.00")
    page = clerk.get(f"/c/acme/receipts/{number}").content.decode()
    assert "Pay it back" not in page and "Reverse the receipt" in page  # a manager's, a clerk's
    assert clerk.post(f"/c/acme/receipt/refund/{number}", {"amount": "20"}).status_code == 403
    owner = as_user(open_books["owner"])
    assert "Pay it back" in owner.get(f"/c/acme/receipts/{number}").content.decode()
    assert owner.post(f"/c/acme/receipt/refund/{number}", {
        "amount": "20", "method": "bank_transfer"}).status_code == 302
    r = receipt_detail(open_books["company"], number)
    assert r["unapplied"]["amount"] == "30.00" and len(r["refunds"]) == 1
    # a receipt with a live refund cannot be reversed: the service says so
    refused = clerk.post(f"/c/acme/receipt/reverse/{number}", {"reason": "returned"})
    assert refused.status_code == 409
    second = _receipt(clerk, "10.00")
    assert clerk.post(f"/c/acme/receipt/reverse/{second}",
                      {"reason": "cheque bounced"}).status_code == 302
    assert receipt_detail(open_books["company"], second)["reversal"]["reason"] == "cheque bounced"


# ---------------------------------------------------------------- tenancy, roles, queries
def write_urls(books: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Every writing address for acme's objects: those read with GET, those posted."""
    inv, rct = books["first"].number, books["receipt"].number
    from salesledger.apps.payments.selectors import receipt_detail

    alloc = receipt_detail(books["company"], rct)["allocations"][0]["id"]
    gets = ["/c/acme/customer/new/", "/c/acme/customer/C001/edit/", "/c/acme/drafts/new/",
            f"/c/acme/drafts/{books['draft']}/", "/c/acme/receipts/", "/c/acme/receipts/new/",
            f"/c/acme/receipts/{rct}", "/c/acme/quotes/", f"/c/acme/quotes/{books['quote']}",
            # writing quotes and schedules (test_day_pages.py)
            "/c/acme/quotes/new/", f"/c/acme/quote/edit/{books['quote']}",
            "/c/acme/recurring/new/"]
    posts = [f"/c/acme/quote/convert/{books['quote']}", "/c/acme/customer/new/",
             "/c/acme/customer/C001/edit/", "/c/acme/customer/C001/iban/add/",
             "/c/acme/customer/C001/iban/remove/", "/c/acme/drafts/new/",
             f"/c/acme/drafts/{books['draft']}/", "/c/acme/drafts/totals/",
             f"/c/acme/send/{inv}", "/c/acme/receipts/new/",
             f"/c/acme/receipt/preview/{rct}", f"/c/acme/receipt/allocate/{rct}",
             f"/c/acme/receipt/short/{rct}", f"/c/acme/receipt/refund/{rct}",
             f"/c/acme/receipt/reverse/{rct}", f"/c/acme/allocation/{alloc}/undo/{rct}",
             # the day's actions of quotes, bad debts and refunds (test_day_actions.py)
             f"/c/acme/quote/send/{books['quote']}", f"/c/acme/quote/accept/{books['quote']}",
             f"/c/acme/quote/decline/{books['quote']}", f"/c/acme/invoice/write-off/{inv}",
             f"/c/acme/invoice/recover/{inv}", f"/c/acme/invoice/adjust/{inv}",
             f"/c/acme/receipt/refund-reverse/{rct}",
             # quotes, schedules, a customer's contacts and write-off (test_day_pages.py)
             "/c/acme/quotes/new/", f"/c/acme/quote/edit/{books['quote']}",
             "/c/acme/recurring/new/", "/c/acme/customer/C001/contact/add/",
             "/c/acme/customer/C001/contact/edit/", "/c/acme/customer/C001/contact/remove/",
             "/c/acme/customer/C001/write-off/",
             "/c/acme/customer/C001/personal-data/", "/c/acme/customer/C001/anonymise/",
             "/c/acme/adjustments/1/reverse/", "/c/acme/revaluation/",
             "/c/acme/revaluation/1/reverse/", "/c/acme/credit/settings/",
             # collections and dunning (test_collections.py)
             *COLLECTION_POSTS,
             # the bank pages, numbering and tax, long work (test_bank_pages.py)
             *BANK_POSTS,
             # credit and the customers' records (test_credit.py)
             "/c/acme/credit/limit/C001/", "/c/acme/credit/hold/C001/",
             "/c/acme/credit/release/C001/", "/c/acme/credit/suggestions/",
             "/c/acme/credit/confirm/C001/", "/c/acme/credit/duplicates/",
             "/c/acme/credit/unmerge/C001/",
             # a customer's statement for a period, e-mailed (test_settings_reports.py)
             "/c/acme/reports/statement/send/"]
    return gets + COLLECTION_FORMS, posts


@pytest.fixture
def with_draft(books: dict[str, Any], create_invoice: Any, accepted_quote: str
               ) -> dict[str, Any]:
    books["draft"] = create_invoice("C001").pk
    books["quote"] = accepted_quote
    return books


def test_every_writing_address_is_404_to_a_user_of_another_company(
        with_draft: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    stranger = as_user(with_draft["stranger"])
    gets, posts = write_urls(with_draft)
    for url in gets:
        assert stranger.get(url).status_code == 404, url
    for url in posts:
        assert stranger.post(url, {"customer": "G001"}).status_code == 404, url
    # and under their own company, acme's objects are not found either
    rct = with_draft["receipt"].number
    for url in [f"/c/globex/receipts/{rct}", "/c/globex/customer/C001/edit/",
                f"/c/globex/drafts/{with_draft['draft']}/"]:
        assert stranger.get(url).status_code == 404, url


# Addresses whose objects the shared registries do not make (a dispute, a plan, a queued task,
# a letter, a bank line's or a schedule's pages): each file named requests them as a user of
# another company (404) on objects it makes.
OWN_TESTS = {
    "dispute": "test_collections.py", "plan": "test_collections.py",
    "dunning_run": "test_collections.py", "dunning_letter": "test_collections.py",
    "dunning_policy": "test_collections.py", "dunning_policy_edit": "test_collections.py",
    "dunning_level_text": "test_collections.py", "dunning_notice": "test_collections.py",
    "dunning_agency": "test_collections.py", "import": "test_imports.py",
    "job": "test_bank_pages.py", "bank_line": "test_bank_pages.py",
    "bank_direct_debit_file": "test_bank_settings_pages.py",
    "bank_mapping_remove": "test_bank_settings_pages.py",
    "recurring_schedule": "test_recurring_pages.py", "recurring_run": "test_recurring_pages.py",
    "recurring_stop": "test_recurring_pages.py", "recurring_resume": "test_recurring_pages.py",
    "settings_statement_run": "test_statement_pages.py", "dispute_file": "test_collections.py",
}


def test_every_workspace_address_is_in_the_tenancy_and_role_registries(
        with_draft: dict[str, Any]) -> None:
    """A page added without its address in the registries (test_pages.urls_of, write_urls,
    the credit posts) or a test of its own named above fails here, so that every address of
    the workspace is requested as a user of another company."""
    from urllib.parse import urlsplit

    from django.urls import resolve

    from salesledger.web import urls

    from .test_credit import CREDIT_POSTS
    from .test_pages import urls_of

    gets, posts = write_urls(with_draft)
    reached = {resolve(urlsplit(u).path).url_name
               for u in [*urls_of(with_draft), *gets, *posts, *CREDIT_POSTS]}
    names = {p.name for p in urls.urlpatterns}
    assert sorted(names - reached - set(OWN_TESTS)) == []
    assert sorted(set(OWN_TESTS) - names) == []  # no name kept here that is gone
    assert sorted(set(OWN_TESTS) & reached) == []  # nor one the registries reach


def test_a_viewer_is_offered_no_write_and_every_post_is_refused(
        with_draft: dict[str, Any], as_user: Callable[[Any], Any], django_user_model: Any
        ) -> None:
    from salesledger.apps.core.services import membership_set
    from salesledger.apps.invoicing.selectors import invoice_list
    from salesledger.apps.payments.selectors import receipt_list

    django_user_model.objects.create_user("vera")
    membership_set(actor=with_draft["owner"], company=with_draft["company"], username="vera",
                   role="viewer")
    viewer = as_user(django_user_model.objects.get(username="vera"))
    rct = with_draft["receipt"].number
    for url in ["/c/acme/customers/", "/c/acme/customers/C001/", "/c/acme/invoices/",
                f"/c/acme/invoices/{with_draft['first'].number}", "/c/acme/receipts/",
                f"/c/acme/receipts/{rct}", f"/c/acme/quotes/{with_draft['quote']}"]:
        text = viewer.get(url).content.decode()
        assert 'method="post"' not in text.split("</header>", 1)[1], url
        for offer in ("New customer", "New invoice", "Record a receipt", "Undo", "Send by",
                      "Convert into"):
            assert offer not in text, (url, offer)
    before = (len(invoice_list(with_draft["company"])), len(receipt_list(with_draft["company"])))
    gets, posts = write_urls(with_draft)
    for url in gets:
        if ("/receipts/" in url and not url.endswith("new/")) or (
                "/quotes/" in url and not url.endswith("new/")):
            continue  # reading receipts and quotes is a viewer's
        assert viewer.get(url).status_code == 403, url
    for url in posts:
        if url.endswith("/drafts/totals/") or "/preview/" in url:
            continue  # computing totals or a dry run writes nothing
        assert viewer.post(url, {"customer": "C001", **LINES}).status_code == 403, url
    assert (len(invoice_list(with_draft["company"])),
            len(receipt_list(with_draft["company"]))) == before


@pytest.mark.parametrize("extra", [0, 30])
def test_the_writing_pages_cost_a_bounded_number_of_queries(
        books: dict[str, Any], as_user: Callable[[Any], Any], post_invoice: Any,
        record_receipt: Any, django_assert_max_num_queries: Any, extra: int) -> None:
    for _ in range(extra):
        post_invoice("C001", lines=(("Item", 1, "10.00", "20"),))
        record_receipt("C002", "5.00")
    client = as_user(books["owner"])
    rct = books["receipt"].number
    budgets = {"/c/acme/receipts/": 8, f"/c/acme/receipts/{rct}": 14,
               "/c/acme/drafts/new/": 8, "/c/acme/customer/new/": 8,
               "/c/acme/customer/C001/edit/": 10, "/c/acme/quotes/": 8,
               "/c/acme/quotes/new/": 8, "/c/acme/recurring/new/": 8}
    for url, budget in budgets.items():
        with django_assert_max_num_queries(budget):
            assert client.get(url).status_code == 200, url


def test_the_writing_pages_speak_french(books: dict[str, Any],
                                        as_user: Callable[[Any], Any]) -> None:
    client = as_user(books["clerk"])
    client.post("/i18n/setlang/", {"language": "fr", "next": "/c/acme/"})
    editor = client.get("/c/acme/drafts/new/").content.decode()
    assert "Nouvelle facture" in editor and "Ligne 1 : désignation" in editor
    totals = client.post("/c/acme/drafts/totals/", {"customer": "C001", **LINES})
    assert "1\u202f072,45\xa0€" in totals.content.decode()  # the net, written the French way
    page = client.get(f"/c/acme/receipts/{books['receipt'].number}").content.decode()
    assert "Lettrages" in page
