"""The daily actions that had no page: a quote written and revised in the drafts' editor,
a recurring schedule written and run, a customer's contacts added and changed, and all a
customer owes written off (a manager's). Each form calls the service of the command
(``quote create|revise``, ``recurring add|run``, ``customer contact``, ``customer
write-off``); the addresses are in ``test_writes.write_urls`` for the tenancy, role and
query-budget tests of every writing address."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from .test_writes import LINES, refusals

pytestmark = pytest.mark.usefixtures("no_pdf_freezing")


def _quote(**head: str) -> dict[str, str]:
    return {"customer": "C002", "issue_date": "2025-03-03", "valid_until": "", "currency": "",
            "terms": "", "po_number": "", "buyer_reference": "", "notes": "", **LINES, **head}


def test_a_quote_is_written_in_the_editor_then_revised_once_sent(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.core.models import AuditEvent
    from salesledger.apps.quotes.selectors import quote_detail
    from salesledger.apps.quotes.services import quote_send

    clerk = as_user(books["clerk"])
    editor = clerk.get("/c/acme/quotes/new/?customer=C002").content.decode()
    assert "New quote" in editor and 'value="C002"' in editor
    assert 'hx-post="/c/acme/drafts/totals/' in editor  # the totals as one types
    # a line the pure core refuses is shown on its line, nothing written
    bad = clerk.post("/c/acme/quotes/new/", _quote(**{"line-1-quantity": "two"}))
    assert bad.status_code == 200 and "line 1" in " ".join(refusals(bad))
    assert not AuditEvent.objects.filter(action="quote.create").exists()
    made = clerk.post("/c/acme/quotes/new/?as_of=2025-03-03", _quote())
    assert made.status_code == 302, refusals(made)
    label = made["Location"].split("/quotes/", 1)[1].split("?", 1)[0]
    q = quote_detail(books["company"], label, as_of=date(2025, 3, 3))
    # 2 x 500.00 + 80.50 less 10 %, the drafts' example: the same pure core's totals
    assert (q["status"], q["net"]["amount"], q["valid_until"]) == (
        "draft", "1072.45", date(2025, 4, 2))
    page = clerk.get(f"/c/acme/quotes/{label}").content.decode()
    assert "Change the quote" in page
    # a draft is changed in place
    changed = clerk.post(f"/c/acme/quote/edit/{label}?as_of=2025-03-03",
                         {**LINES, "line-1-quantity": "3", "valid_until": "2025-04-02",
                          "terms": "", "po_number": "PO-7", "buyer_reference": "",
                          "notes": ""})
    assert changed.status_code == 302, refusals(changed)
    q = quote_detail(books["company"], label, as_of=date(2025, 3, 3))
    assert (q["revision"], q["net"]["amount"], q["po_number"]) == (1, "1572.45", "PO-7")
    # once sent, saving writes a new revision dated the page's day; the validity keeps its
    # length when it is not changed
    quote_send(actor=books["owner"], company=books["company"], number=label,
               as_of=date(2025, 3, 4))
    edit = clerk.get(f"/c/acme/quote/edit/{label}?as_of=2025-03-10").content.decode()
    assert "Save as a new revision" in edit
    revised = clerk.post(f"/c/acme/quote/edit/{label}?as_of=2025-03-10",
                         {**LINES, "line-1-unit_price": "450.00",
                          "valid_until": "2025-04-02", "terms": "", "po_number": "PO-7",
                          "buyer_reference": "", "notes": ""})
    assert revised.status_code == 302, refusals(revised)
    new = quote_detail(books["company"], label, as_of=date(2025, 3, 10))
    assert (new["revision"], new["status"], new["net"]["amount"], new["issue_date"],
            new["valid_until"]) == (2, "draft", "972.45", date(2025, 3, 10), date(2025, 4, 9))
    assert [r["status"] for r in new["revisions"]] == ["superseded", "draft"]
    assert "Change the quote" in clerk.get(f"/c/acme/quotes/{label}").content.decode()


def test_the_quote_editor_writes_allowances_and_charges_and_the_invoice_keeps_them(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.payments.selectors import invoice_detail
    from salesledger.apps.quotes.selectors import quote_detail
    from salesledger.apps.quotes.services import quote_accept, quote_convert, quote_send

    from .test_writes import CHARGES

    clerk = as_user(books["clerk"])
    assert "Allowances and charges" in clerk.get("/c/acme/quotes/new/").content.decode()
    # a charge the core refuses is shown on its row, nothing written
    bad = clerk.post("/c/acme/quotes/new/", _quote(**{**CHARGES, "charge-3-reason": "",
                                                      "charge-3-code": ""}))
    assert bad.status_code == 200
    assert 'id="charge-3-error">invalid: document charge 2: give a reason' in \
        bad.content.decode()
    made = clerk.post("/c/acme/quotes/new/?as_of=2025-03-03", _quote(**CHARGES))
    assert made.status_code == 302, refusals(made)
    label = made["Location"].split("/quotes/", 1)[1].split("?", 1)[0]
    day = date(2025, 3, 3)
    q = quote_detail(books["company"], label, as_of=day)
    # the drafts' example: 1,072.45 of lines, 5 % off the 20 % ones (50.00), freight 15.00
    assert [(c["kind"], c["reason"], c["amount"]["amount"], c["percent"])
            for c in q["charges"]] == [("allowance", "Loyalty", "50.00", "5"),
                                       ("charge", "Freight", "15.00", None)]
    assert q["net"]["amount"] == "1037.45"
    page = clerk.get(f"/c/acme/quotes/{label}").content.decode()
    assert "Allowance: Loyalty (5 %)" in page and "Charge: Freight" in page
    editor = clerk.get(f"/c/acme/quote/edit/{label}").content.decode()
    assert 'value="5%"' in editor and 'value="Freight"' in editor
    # saved again without the allowance: the charge alone is kept
    head = {**LINES, "valid_until": "2025-04-02", "terms": "", "po_number": "",
            "buyer_reference": "", "notes": ""}
    kept = {**head, "charges": "1", "charge-1-kind": "charge", "charge-1-reason": "Freight",
            "charge-1-code": "", "charge-1-amount": "15.00", "charge-1-tax_rate": "20",
            "charge-1-category": "S"}
    saved = clerk.post(f"/c/acme/quote/edit/{label}?as_of=2025-03-03", kept)
    assert saved.status_code == 302, refusals(saved)
    q = quote_detail(books["company"], label, as_of=day)
    assert [c["reason"] for c in q["charges"]] == ["Freight"] and q["net"]["amount"] == "1087.45"
    # sent, accepted, converted: the invoice totals exactly what the quote did
    owner, company = books["owner"], books["company"]
    quote_send(actor=owner, company=company, number=label, as_of=day)
    quote_accept(actor=owner, company=company, number=label, as_of=day)
    inv = quote_convert(actor=owner, company=company, number=label, post=True, as_of=day)
    doc = invoice_detail(company, inv.number)
    assert (doc["net"], doc["tax"], doc["total"], doc["charges"]) == (
        q["net"], q["tax"], q["total"], q["charges"])


def test_a_refused_quote_head_is_shown_next_to_its_field(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    clerk = as_user(books["clerk"])
    early = clerk.post("/c/acme/quotes/new/", _quote(valid_until="2025-03-01"))
    assert early.status_code == 200
    assert "the validity date 2025-03-01 is before the quote date 2025-03-03" in \
        early.content.decode()
    unknown = clerk.post("/c/acme/quotes/new/", _quote(customer="NOPE"))
    assert unknown.status_code == 200 and "NOPE" in " ".join(refusals(unknown))


def test_a_schedule_is_written_and_its_due_periods_issued_from_its_page(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.recurring.selectors import recurring_list, recurring_runs

    clerk = as_user(books["clerk"])
    head = {"customer": "C001", "every": "fortnight", "start": "2025-01-06", "end": "",
            "count": "3", "currency": "", "terms": "", "po_number": "", "notes": ""}
    bad = clerk.post("/c/acme/recurring/new/", {**head, **LINES})
    assert bad.status_code == 200 and refusals(bad)  # the rule's own refusal
    assert recurring_list(books["company"], as_of=date(2025, 2, 1)) == []
    made = clerk.post("/c/acme/recurring/new/", {**head, "every": "2 weeks", **LINES})
    assert made.status_code == 302, refusals(made)
    [row] = recurring_list(books["company"], as_of=date(2025, 2, 1))
    page = clerk.get(f"/c/acme/recurring/{row['id']}/").content.decode()
    assert "Issue what is due" in page and "Nothing issued yet." in page
    run = clerk.post(f"/c/acme/recurring/{row['id']}/run/?as_of=2025-01-25")
    assert run.status_code == 302
    # 6 and 20 January are due by the 25th; the third (3 February) is not yet
    assert [r["period"] for r in recurring_runs(books["company"], row["id"])] == [1, 2]
    notice = clerk.get(run["Location"]).content.decode()
    assert "2 invoices issued, 0 periods already issued" in notice


def test_contacts_beyond_the_first_are_added_and_changed(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.customers.selectors import customer_detail

    clerk = as_user(books["clerk"])
    page = clerk.get("/c/acme/customers/C001/").content.decode()
    assert "Add a contact" in page
    added = clerk.post("/c/acme/customer/C001/contact/add/",
                       {"name": "Lea", "email": "lea@dupont.example", "roles": ["payables"]})
    assert added.status_code == 302
    clerk.post("/c/acme/customer/C001/contact/add/", {"name": "Tom", "email": "tom@d.example"})
    contacts = customer_detail(books["company"], "C001")["contacts"]
    assert [(x["name"], x["roles"]) for x in contacts][-2:] == [("Lea", "payables"),
                                                                ("Tom", "billing")]
    changed = clerk.post("/c/acme/customer/C001/contact/edit/",
                         {"was": "lea@dupont.example", "name": "Léa Martin",
                          "email": "lea@dupont.example", "phone": "+33 1 23",
                          "roles": ["payables", "billing"]})
    assert changed.status_code == 302
    lea = next(x for x in customer_detail(books["company"], "C001")["contacts"]
               if x["email"] == "lea@dupont.example")
    assert (lea["name"], lea["phone"], lea["roles"]) == ("Léa Martin", "+33 1 23",
                                                        "payables,billing")
    # an address it does not have: the service's refusal beside the form, 409
    missing = clerk.post("/c/acme/customer/C001/contact/edit/",
                         {"was": "nobody@x.example", "name": "X"})
    assert missing.status_code == 409 and "nobody@x.example" in " ".join(refusals(missing))


def test_a_contact_is_removed_from_the_customers_page(
        books: dict[str, Any], as_user: Callable[[Any], Any],
        django_assert_max_num_queries: Any) -> None:
    from salesledger.apps.core.models import AuditEvent
    from salesledger.apps.customers.selectors import customer_detail

    clerk = as_user(books["clerk"])
    for name, email in (("Lea", "lea@dupont.example"), ("Tom", "tom@d.example")):
        clerk.post("/c/acme/customer/C001/contact/add/", {"name": name, "email": email})
    page = clerk.get("/c/acme/customers/C001/").content.decode()
    assert "Remove Lea" in page and "Remove Tom" in page
    # the session, the membership, the customer, its lock, the contact, the stamp, the audit
    with django_assert_max_num_queries(14):
        removed = clerk.post("/c/acme/customer/C001/contact/remove/",
                             {"was": "LEA@dupont.example"})
    assert removed.status_code == 302
    assert "The contact Lea is removed." in clerk.get(removed["Location"]).content.decode()
    emails = [x["email"] for x in customer_detail(books["company"], "C001")["contacts"]]
    assert "lea@dupont.example" not in emails and "tom@d.example" in emails
    [event] = AuditEvent.objects.filter(action="customer.contact_remove")
    assert (event.actor_name, event.data["before"]["email"]) == ("claude", "lea@dupont.example")
    # gone already: the service's refusal beside the contacts, 409, nothing audited
    again = clerk.post("/c/acme/customer/C001/contact/remove/", {"was": "lea@dupont.example"})
    assert again.status_code == 409 and "lea@dupont.example" in " ".join(refusals(again))
    assert AuditEvent.objects.filter(action="customer.contact_remove").count() == 1


def test_a_contact_without_an_e_mail_address_is_changed_and_removed_by_its_id(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.customers.selectors import customer_detail

    clerk = as_user(books["clerk"])
    clerk.post("/c/acme/customer/C001/contact/add/", {"name": "Paul", "phone": "+33 1 99"})
    clerk.post("/c/acme/customer/C002/contact/add/", {"name": "Zoé", "phone": "+33 1 98"})
    [paul] = [x for x in customer_detail(books["company"], "C001")["contacts"]
              if x["name"] == "Paul"]
    [zoe] = [x for x in customer_detail(books["company"], "C002")["contacts"]
             if x["name"] == "Zoé"]
    page = clerk.get("/c/acme/customers/C001/").content.decode()
    assert "Change Paul" in page and f'name="contact" value="{paul["id"]}"' in page
    changed = clerk.post("/c/acme/customer/C001/contact/edit/", {
        "contact": str(paul["id"]), "name": "Paul Roux", "email": "paul@dupont.example"})
    assert changed.status_code == 302
    assert [(x["name"], x["email"]) for x in customer_detail(books["company"], "C001")[
        "contacts"] if x["id"] == paul["id"]] == [("Paul Roux", "paul@dupont.example")]
    # another customer's contact is not this customer's: refused beside the form, 409
    other = clerk.post("/c/acme/customer/C001/contact/remove/", {"contact": str(zoe["id"])})
    assert other.status_code == 409 and f"no contact with id {zoe['id']}" in " ".join(
        refusals(other))
    removed = clerk.post("/c/acme/customer/C001/contact/remove/",
                         {"contact": str(paul["id"])})
    assert removed.status_code == 302
    assert paul["id"] not in [x["id"] for x in customer_detail(books["company"], "C001")[
        "contacts"]]
    assert zoe["id"] in [x["id"] for x in customer_detail(books["company"], "C002")[
        "contacts"]]


def test_a_manager_writes_off_all_a_customer_owes_a_clerk_may_not(
        books: dict[str, Any], as_user: Callable[[Any], Any], post_invoice: Any,
        record_receipt: Any) -> None:
    from salesledger.apps.core.models import AuditEvent
    from salesledger.apps.payments.selectors import customer_account

    post_invoice("C001", lines=(("Support", 1, "100.00", "20"),))
    record_receipt("C001", "20.00", date(2025, 4, 1))  # unapplied: taken first
    clerk, owner = as_user(books["clerk"]), as_user(books["owner"])
    assert "Write off everything it owes" not in clerk.get("/c/acme/customers/C001/"
                                                           ).content.decode()
    assert clerk.post("/c/acme/customer/C001/write-off/",
                      {"reason": "insolvent"}).status_code == 403
    assert "Write off everything it owes" in owner.get("/c/acme/customers/C001/"
                                                       ).content.decode()
    no_reason = owner.post("/c/acme/customer/C001/write-off/", {"reason": " "})
    assert no_reason.status_code == 409 and "say why" in no_reason.content.decode()
    done = owner.post("/c/acme/customer/C001/write-off/?as_of=2025-05-15",
                      {"reason": "insolvent"})
    assert done.status_code == 302
    assert "2 invoices are written off as bad debts." in owner.get(done["Location"]
                                                                  ).content.decode()
    account = customer_account(books["company"], "C001", as_of=date(2025, 5, 15))
    assert [b["amount"] for b in account["balances"]] in ([], ["0.00"])
    assert AuditEvent.objects.filter(company=books["company"], actor__username="owner",
                                     action__contains="write").exists()
    # nothing is left: the service refuses a second time
    assert owner.post("/c/acme/customer/C001/write-off/",
                      {"reason": "again"}).status_code == 409


def test_a_schedule_run_is_refused_to_a_viewer_and_not_found_by_a_stranger(
        books: dict[str, Any], as_user: Callable[[Any], Any], django_user_model: Any) -> None:
    from conftest import line_inputs

    from salesledger.apps.core.services import membership_set
    from salesledger.apps.recurring.services import ScheduleInput, recurring_add

    made = recurring_add(actor=books["owner"], company=books["company"], as_of=date(2025, 1, 1),
                         data=ScheduleInput(customer_code="C002", every="month",
                                            start=date(2025, 1, 6),
                                            lines=line_inputs((("Rent", 1, "10", "20"),))))
    django_user_model.objects.create_user("vera")
    membership_set(actor=books["owner"], company=books["company"], username="vera",
                   role="viewer")
    viewer = as_user(django_user_model.objects.get(username="vera"))
    assert "Issue what is due" not in viewer.get(f"/c/acme/recurring/{made.pk}/"
                                                 ).content.decode()
    assert viewer.post(f"/c/acme/recurring/{made.pk}/run/").status_code == 403
    stranger = as_user(books["stranger"])
    assert stranger.post(f"/c/acme/recurring/{made.pk}/run/").status_code == 404
    assert stranger.post(f"/c/globex/recurring/{made.pk}/run/").status_code == 404


def test_the_new_pages_speak_french(books: dict[str, Any],
                                    as_user: Callable[[Any], Any]) -> None:
    client = as_user(books["owner"])
    client.post("/i18n/setlang/", {"language": "fr", "next": "/c/acme/"})
    assert "Nouveau devis" in client.get("/c/acme/quotes/new/").content.decode()
    assert "Nouvel échéancier" in client.get("/c/acme/recurring/new/").content.decode()
    page = client.get("/c/acme/customers/C001/").content.decode()
    assert "Ajouter un contact" in page and "Passer en perte tout ce qu’il doit" in page


def test_an_adjustment_is_listed_and_reversed_a_bad_debts_by_a_manager_only(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.payments.adjustments.bad_debts import invoice_write_off
    from salesledger.apps.payments.selectors import invoice_detail

    number = books["first"].number
    adj = invoice_write_off(actor=books["owner"], company=books["company"], number=number,
                              day=date(2025, 5, 15), reason="insolvent", amount=None,
                              tax_relief=False)
    clerk, owner = as_user(books["clerk"]), as_user(books["owner"])
    listed = clerk.get("/c/acme/adjustments/?kind=bad_debt").content.decode()
    assert number in listed and "€1,200.00" in listed and f"Reverse adjustment {adj.pk}" in listed
    assert "No adjustment." in clerk.get("/c/acme/adjustments/?kind=discount").content.decode()
    # the service's rule: a bad debt's reversal is a manager's
    assert clerk.post(f"/c/acme/adjustments/{adj.pk}/reverse/").status_code == 403
    assert invoice_detail(books["company"], number)["settlement"] == "written_off"
    done = owner.post(f"/c/acme/adjustments/{adj.pk}/reverse/?as_of=2025-05-20",
                      {"reason": "paid after all"})
    assert done.status_code == 302
    assert invoice_detail(books["company"], number)["settlement"] == "open"
    assert "reversed by" in owner.get("/c/acme/adjustments/").content.decode()
    assert owner.post(f"/c/acme/adjustments/{adj.pk}/reverse/").status_code == 409  # twice
    # another company's adjustment is not found under one's own
    assert as_user(books["stranger"]).post(
        f"/c/globex/adjustments/{adj.pk}/reverse/").status_code == 404


def test_a_manager_posts_and_undoes_a_revaluation_run(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.fx.selectors import revaluation_list

    clerk, owner = as_user(books["clerk"]), as_user(books["owner"])
    assert "Post the revaluation" not in clerk.get("/c/acme/revaluation/").content.decode()
    assert clerk.post("/c/acme/revaluation/", {"as_of_day": "2025-03-31"}).status_code == 403
    bad = owner.post("/c/acme/revaluation/", {"as_of_day": "31/03/2025"})
    assert bad.status_code == 409 and "is not a date" in bad.content.decode()
    done = owner.post("/c/acme/revaluation/", {"as_of_day": "2025-03-31"})
    assert done.status_code == 302
    [run] = revaluation_list(books["company"])
    assert (run["as_of"], run["status"]) == (date(2025, 3, 31), "posted")
    again = owner.post("/c/acme/revaluation/", {"as_of_day": "2025-03-31"})
    assert f"That day was revalued already: run {run['run']}." in owner.get(
        again["Location"]).content.decode()
    assert clerk.post(f"/c/acme/revaluation/{run['run']}/reverse/").status_code == 403
    assert owner.post(f"/c/acme/revaluation/{run['run']}/reverse/",
                      {"reason": "wrong rates"}).status_code == 302
    assert revaluation_list(books["company"])[0]["status"] == "reversed"
    assert as_user(books["stranger"]).post(
        f"/c/globex/revaluation/{run['run']}/reverse/").status_code == 404


def test_a_revaluation_run_takes_the_rates_typed_for_it(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.core.models import AuditEvent
    from salesledger.apps.fx.selectors import revaluation_list

    owner = as_user(books["owner"])
    assert 'name="rates"' in owner.get("/c/acme/revaluation/").content.decode()
    for typed, said in (("USD", "write CURRENCY=RATE"),
                        ("EUR=1", "is not a foreign currency of acme"),
                        ("USD=abc", "is not a number")):
        bad = owner.post("/c/acme/revaluation/", {"as_of_day": "2025-04-30", "rates": typed})
        assert bad.status_code == 409 and said in bad.content.decode(), typed
    assert revaluation_list(books["company"]) == []
    audited = AuditEvent.objects.count()
    done = owner.post("/c/acme/revaluation/", {"as_of_day": "2025-04-30",
                                               "rates": "usd=0.9211, GBP=1.1702"})
    assert done.status_code == 302
    [run] = revaluation_list(books["company"])
    assert run["rates"] == {"GBP": "1.1702", "USD": "0.9211"}
    assert AuditEvent.objects.count() > audited
    assert "USD 0.9211" in owner.get("/c/acme/revaluation/").content.decode()
    # the same day with other rates: the service's refusal (reverse that run first)
    other = owner.post("/c/acme/revaluation/", {"as_of_day": "2025-04-30",
                                                "rates": "USD=0.95"})
    assert other.status_code == 409 and "reverse that run first" in other.content.decode()


def test_a_viewer_downloads_the_csv_exports_of_the_page_s_day(
        books: dict[str, Any], as_user: Callable[[Any], Any], django_user_model: Any) -> None:
    from salesledger.apps.core.services import membership_set

    django_user_model.objects.create_user("vera")
    membership_set(actor=books["owner"], company=books["company"], username="vera",
                   role="viewer")
    viewer = as_user(django_user_model.objects.get(username="vera"))
    assert 'href="/c/acme/exports/customers.csv' in viewer.get("/c/acme/exports/"
                                                                ).content.decode()
    got = viewer.get("/c/acme/exports/invoices.csv?as_of=2025-05-15")
    assert got.status_code == 200 and got["Content-Type"].startswith("text/csv")
    assert 'filename="acme-invoices-2025-05-15.csv"' in got["Content-Disposition"]
    body = b"".join(got.streaming_content).decode()
    assert books["first"].number in body and books["second"].number in body
    before = b"".join(viewer.get("/c/acme/exports/invoices.csv?as_of=2025-01-01")
                      .streaming_content).decode()
    assert books["first"].number not in before and before.count("\n") == 1  # the header
    assert viewer.get("/c/acme/exports/nothing.csv").status_code == 404


def test_a_manager_downloads_a_customer_s_personal_data_and_anonymises_another(
        books: dict[str, Any], as_user: Callable[[Any], Any], make_customer: Any) -> None:
    import io
    import json
    import zipfile

    from salesledger.apps.core.models import AuditEvent
    from salesledger.apps.customers.selectors import customer_detail

    clerk, owner = as_user(books["clerk"]), as_user(books["owner"])
    assert "Download its personal data" not in clerk.get("/c/acme/customers/C001/"
                                                         ).content.decode()
    assert clerk.post("/c/acme/customer/C001/personal-data/").status_code == 403
    got = owner.post("/c/acme/customer/C001/personal-data/")
    assert got.status_code == 200 and got["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(got.content)) as z:
        data = json.loads(z.read("customer.json"))
    assert data["customer"]["code"] == "C001"
    as_json = owner.post("/c/acme/customer/C001/personal-data/", {"format": "json"})
    assert json.loads(as_json.content)["customer"]["name"] == "Dupont et Fils"
    assert AuditEvent.objects.filter(action="customer.data_export").count() == 2
    make_customer("GONE", name="Jean Gone")
    # the code typed again confirms it; without it, nothing is erased
    unconfirmed = owner.post("/c/acme/customer/GONE/anonymise/", {"confirm": "x"})
    assert unconfirmed.status_code == 409 and "type the customer" in unconfirmed.content.decode()
    assert clerk.post("/c/acme/customer/GONE/anonymise/",
                      {"confirm": "GONE"}).status_code == 403
    assert owner.post("/c/acme/customer/GONE/anonymise/",
                      {"confirm": "GONE"}).status_code == 302
    assert customer_detail(books["company"], "GONE")["name"] != "Jean Gone"


def test_the_company_default_limit_and_credit_settings_through_their_services(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.core.models import AuditEvent
    from salesledger.apps.credit.selectors import credit_settings

    clerk, owner = as_user(books["clerk"]), as_user(books["owner"])
    read = clerk.get("/c/acme/credit/settings/").content.decode()
    assert "Now: none." in read and "Save the default limit" not in read
    assert clerk.post("/c/acme/credit/settings/",
                      {"form": "default", "amount": "5000", "reason": "x"}).status_code == 403
    no_reason = owner.post("/c/acme/credit/settings/", {"form": "default", "amount": "5000"})
    assert no_reason.status_code == 409
    assert owner.post("/c/acme/credit/settings/", {"form": "default", "amount": "5000",
                                                   "reason": "policy"}).status_code == 302
    assert credit_settings(books["company"]).default_limit == 500000  # 5,000.00 in cents
    assert "€5,000.00" in owner.get("/c/acme/credit/settings/").content.decode()
    bad = owner.post("/c/acme/credit/settings/", {"form": "settings", "horizon_days": "30",
                                                  "threshold_B": "60", "threshold_C": "50",
                                                  "threshold_D": "75"})
    assert bad.status_code == 409
    assert owner.post("/c/acme/credit/settings/", {
        "form": "settings", "horizon_days": "45", "threshold_B": "20", "threshold_C": "40",
        "threshold_D": "80"}).status_code == 302
    s = credit_settings(books["company"])
    assert (s.horizon_days, s.thresholds.b, s.thresholds.d) == (45, 20.0, 80.0)
    assert AuditEvent.objects.filter(action__in=["credit.default_limit_set",
                                                 "credit.settings_set"]).count() == 2
