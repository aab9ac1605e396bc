"""The day's actions that were on the command line only: a quote sent by e-mail, accepted or
declined; an invoice written off as a bad debt (a manager's) and recovered; a refund undone
when the payment out came back (a manager's). Each form calls the service of the command,
the pages offer each to the roles that may use it, and the services refuse the rest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from salesledger.apps.documents.tests.conftest import Mailbox, smtp_server  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_pdf_freezing")


def _draft_quote(books: dict[str, Any], customer: str = "C002") -> str:
    from conftest import line_inputs

    from salesledger.apps.quotes.services import QuoteInput, quote_create

    quote = quote_create(actor=books["owner"], company=books["company"], as_of=date(2025, 3, 3),
                         data=QuoteInput(customer_code=customer, lines=line_inputs(
                             (("Training", 3, "400.00", "20"),))))
    return str(quote.label)


def test_a_quote_is_sent_by_e_mail_then_accepted(
        books: dict[str, Any], as_user: Callable[[Any], Any], smtp_server: Mailbox,  # noqa: F811
        django_capture_on_commit_callbacks: Any) -> None:
    from salesledger.apps.customers.services import ContactInput, contact_add
    from salesledger.apps.quotes.selectors import quote_detail

    contact_add(actor=books["owner"], company=books["company"], code="C002",
                contact=ContactInput(name="Accounts", email="ap@martin.example"))
    label = _draft_quote(books)
    clerk = as_user(books["clerk"])
    page = clerk.get(f"/c/acme/quotes/{label}?as_of=2025-03-04").content.decode()
    assert "Mark it sent" in page and "Accept the quote" not in page
    with django_capture_on_commit_callbacks(execute=True):
        sent = clerk.post(f"/c/acme/quote/send/{label}?as_of=2025-03-04", {"email": "1"})
    assert sent.status_code == 302 and sent["Location"].endswith("?as_of=2025-03-04")
    [mail] = smtp_server.received
    assert mail.rcpt_tos == ["ap@martin.example"]
    q = quote_detail(books["company"], label, as_of=date(2025, 3, 4))
    assert (q["status"], q["sent_on"]) == ("sent", date(2025, 3, 4))
    page = clerk.get(f"/c/acme/quotes/{label}?as_of=2025-03-05").content.decode()
    assert "Accept the quote" in page and "Decline the quote" in page
    assert "Override a credit refusal" not in page  # a clerk may not override
    assert clerk.post(f"/c/acme/quote/accept/{label}?as_of=2025-03-05").status_code == 302
    q = quote_detail(books["company"], label, as_of=date(2025, 3, 5))
    assert (q["status"], q["decided_on"]) == ("accepted", date(2025, 3, 5))
    # accepted once: the service refuses a second time, and the page now offers conversion
    assert clerk.post(f"/c/acme/quote/accept/{label}?as_of=2025-03-05").status_code == 409
    assert "Convert into an invoice" in clerk.get(f"/c/acme/quotes/{label}").content.decode()


def test_a_quote_is_marked_sent_without_e_mail_and_declined(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.core.models import AuditEvent
    from salesledger.apps.quotes.selectors import quote_detail

    label = _draft_quote(books)
    clerk = as_user(books["clerk"])
    assert clerk.post(f"/c/acme/quote/send/{label}?as_of=2025-03-04").status_code == 302
    assert quote_detail(books["company"], label, as_of=date(2025, 3, 4))["status"] == "sent"
    done = clerk.post(f"/c/acme/quote/decline/{label}?as_of=2025-03-06",
                      {"reason": "too dear"})
    assert done.status_code == 302
    assert quote_detail(books["company"], label, as_of=date(2025, 3, 6))["status"] == "declined"
    assert AuditEvent.objects.filter(company=books["company"], action="quote.decline",
                                     actor__username="claude").exists()


def test_a_manager_writes_off_an_invoice_a_clerk_may_not_and_a_payment_recovers_it(
        books: dict[str, Any], as_user: Callable[[Any], Any],
        record_receipt: Callable[..., Any]) -> None:
    from salesledger.apps.payments.selectors import invoice_detail

    number = books["first"].number  # C001 owes 1,200.00
    clerk, owner = as_user(books["clerk"]), as_user(books["owner"])
    assert "Write it off" not in clerk.get(f"/c/acme/invoices/{number}").content.decode()
    assert clerk.post(f"/c/acme/invoice/write-off/{number}",
                      {"reason": "insolvent"}).status_code == 403
    assert invoice_detail(books["company"], number)["settlement"] == "open"
    assert "Write it off" in owner.get(f"/c/acme/invoices/{number}").content.decode()
    # no reason: the service's refusal, nothing written
    assert owner.post(f"/c/acme/invoice/write-off/{number}", {"reason": " "}).status_code == 409
    done = owner.post(f"/c/acme/invoice/write-off/{number}?as_of=2025-05-15",
                      {"reason": "insolvent"})
    assert done.status_code == 302
    d = invoice_detail(books["company"], number)
    assert (d["settlement"], d["written_off"]["amount"]) == ("written_off", "1200.00")
    page = clerk.get(f"/c/acme/invoices/{number}").content.decode()
    assert "Write it off" not in page and "Recover a written-off debt" in page
    paid = record_receipt("C001", "1200.00", date(2025, 5, 20))
    assert clerk.post(f"/c/acme/invoice/recover/{number}?as_of=2025-05-20",
                      {"receipt": paid.number}).status_code == 302
    d = invoice_detail(books["company"], number)
    assert (d["settlement"], d["written_off"]["amount"]) == ("paid", "0.00")


def test_a_clerk_writes_off_a_difference_and_records_a_deduction_on_an_invoice(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.core.models import AuditEvent
    from salesledger.apps.payments.adjustments.settings import tax_settings_set
    from salesledger.apps.payments.selectors import invoice_detail

    number = books["first"].number  # C001 owes 1,200.00
    clerk = as_user(books["clerk"])
    page = clerk.get(f"/c/acme/invoices/{number}").content.decode()
    assert "A difference or a deduction" in page and "Damaged goods" in page
    # a deduction needs its reason: the service's refusal, nothing written
    audited = AuditEvent.objects.count()
    refused = clerk.post(f"/c/acme/invoice/adjust/{number}",
                         {"kind": "deduction", "amount": "20.00"})
    assert refused.status_code == 409 and "reason" in refused.content.decode()
    # beyond the write-off tolerance: refused too
    too_much = clerk.post(f"/c/acme/invoice/adjust/{number}",
                          {"kind": "write_off", "amount": "500.00"})
    assert too_much.status_code == 409
    assert AuditEvent.objects.count() == audited
    took = clerk.post(f"/c/acme/invoice/adjust/{number}?as_of=2025-05-15",
                      {"kind": "deduction", "amount": "1199.50", "reason_code": "damaged_goods",
                       "memo": "two cases broken"})
    assert took.status_code == 302
    assert invoice_detail(books["company"], number)["open"]["amount"] == "0.50"
    # the 0.50 left, within the tolerance set (1.00 and 1 %): written off, all that is open
    tax_settings_set(actor=books["owner"], company=books["company"],
                     writeoff_tolerance_amount=Decimal("1.00"),
                     writeoff_tolerance_percent=Decimal(1))
    small = clerk.post(f"/c/acme/invoice/adjust/{number}?as_of=2025-05-15",
                       {"kind": "write_off", "amount": ""})
    assert small.status_code == 302, small.content.decode().split("<main", 1)[1][:1500]
    d = invoice_detail(books["company"], number)
    assert (d["open"]["amount"], d["settlement"]) == ("0.00", "paid")
    assert {k: v["amount"] for k, v in d["adjustments"].items()} == {
        "deduction": "1199.50", "write_off": "0.50"}
    assert "A difference or a deduction" not in clerk.get(
        f"/c/acme/invoices/{number}").content.decode()


def test_a_manager_undoes_a_refund_a_clerk_may_not(
        books: dict[str, Any], as_user: Callable[[Any], Any],
        record_receipt: Callable[..., Any]) -> None:
    from salesledger.apps.payments.refunds import receipt_refund
    from salesledger.apps.payments.selectors import receipt_detail

    number = record_receipt("C001", "50.00", date(2025, 4, 1)).number
    receipt_refund(actor=books["owner"], company=books["company"], number=number,
                   day=date(2025, 4, 2), amount=None, method="bank_transfer", reference="")
    [refund] = receipt_detail(books["company"], number)["refunds"]
    clerk, owner = as_user(books["clerk"]), as_user(books["owner"])
    assert "Undo the refund" not in clerk.get(f"/c/acme/receipts/{number}").content.decode()
    assert clerk.post(f"/c/acme/receipt/refund-reverse/{number}",
                      {"refund": refund["number"]}).status_code == 403
    assert "Undo the refund" in owner.get(f"/c/acme/receipts/{number}").content.decode()
    # a refund that is not the receipt's is refused before the service is asked
    assert owner.post(f"/c/acme/receipt/refund-reverse/{number}",
                      {"refund": "R-NOPE"}).status_code == 409
    done = owner.post(f"/c/acme/receipt/refund-reverse/{number}?as_of=2025-04-10",
                      {"refund": refund["number"], "reason": "account closed"})
    assert done.status_code == 302
    r = receipt_detail(books["company"], number)
    assert r["unapplied"]["amount"] == "50.00"
    assert [(f["reversal"], f["reversed"]) for f in r["refunds"]] == [(False, True),
                                                                       (True, False)]
    assert "Undo the refund" not in owner.get(f"/c/acme/receipts/{number}").content.decode()
    # undone once: the service refuses a second time
    assert owner.post(f"/c/acme/receipt/refund-reverse/{number}",
                      {"refund": refund["number"]}).status_code == 409
