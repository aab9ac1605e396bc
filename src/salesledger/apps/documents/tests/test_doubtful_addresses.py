"""A hard bounce marks the address it bounced for as doubtful (docs/design/customer-records.md),
against a real SMTP server in the test process (aiosmtpd): a 5xx refusal marks the contact
(or the customer's own address), a 4xx refusal proves nothing and marks nothing."""

from __future__ import annotations

import pytest
from conftest import DAY
from django.utils import timezone
from tests.support import events, last_seq

from salesledger.apps.customers.models import Contact, Customer
from salesledger.apps.customers.selectors import customer_detail, review_list
from salesledger.apps.customers.services import ContactInput
from salesledger.apps.documents.delivery import invoice_send

LINES = (("Conseil", "3", "411.52", "20"),)


@pytest.fixture
def dupont(make_customer):
    return make_customer("C001", name="Dupont et Fils", email="bounce-info@dupont.example",
                         contacts=[ContactInput("Anne", "bounce-anne@dupont.example"),
                                   ContactInput("Paul", "paul@dupont.example"),
                                   ContactInput("Lea", "busy-lea@dupont.example")])


def send(company, owner, number, capture, **kw):
    with capture(execute=True):
        comm = invoice_send(actor=owner, company=company, number=number, as_of=DAY, **kw)
    comm.refresh_from_db()
    return comm


def test_a_hard_bounce_marks_the_contact_doubtful_and_lists_the_customer_for_review(
        seller, owner, dupont, post_invoice, smtp_server, django_capture_on_commit_callbacks):
    inv = post_invoice(lines=LINES)
    seq = last_seq(seller)
    comm = send(seller, owner, inv.number, django_capture_on_commit_callbacks)
    # the billing contacts: Anne refused for good, Lea's mailbox full, Paul received it
    assert comm.status == "partial"
    [got] = smtp_server.received
    assert got.rcpt_tos == ["paul@dupont.example"]
    doubtful = {c.email: c.doubtful_reason
                for c in Contact.objects.filter(doubtful_at__isnull=False)}
    assert doubtful == {"bounce-anne@dupont.example":
                        "550 5.1.1 <bounce-anne@dupont.example>: mailbox unavailable"}
    marked = [e for e in events(seller, seq) if e.action == "customer.email_doubtful"]
    assert [(e.data["emails"], e.data["communication"]) for e in marked] == [
        (["bounce-anne@dupont.example"], comm.pk)]
    [row] = review_list(seller, as_of=timezone.now().date())
    assert (row["code"], row["doubtful_emails"]) == ("C001", ["bounce-anne@dupont.example"])
    assert customer_detail(seller, "C001")["contacts"][0]["doubtful"]["reason"].startswith("550")


def test_a_bounce_of_the_customers_own_address_marks_it(
        seller, owner, make_customer, post_invoice, smtp_server,
        django_capture_on_commit_callbacks):
    make_customer("C001", name="Martin", email="bounce@martin.example")
    inv = post_invoice(lines=LINES)
    comm = send(seller, owner, inv.number, django_capture_on_commit_callbacks,
                to=["bounce@martin.example"])
    assert comm.status == "bounced"
    c = Customer.objects.get(code="C001")
    assert c.email_doubtful_at is not None and c.email_doubtful_reason.startswith("550 5.1.1")


def test_a_temporary_refusal_marks_nothing(seller, owner, dupont, post_invoice, smtp_server,
                                           django_capture_on_commit_callbacks):
    inv = post_invoice(lines=LINES)
    comm = send(seller, owner, inv.number, django_capture_on_commit_callbacks,
                to=["busy-lea@dupont.example"])
    assert comm.status == "bounced" and "452 4.2.2" in comm.status_detail
    assert not Contact.objects.filter(doubtful_at__isnull=False).exists()
    assert Customer.objects.get(code="C001").email_doubtful_at is None
