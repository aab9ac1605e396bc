"""E-mail delivery against a real SMTP server running in the test process (aiosmtpd): what
arrived (headers, language, attachments), and what the customer's timeline and the audit
trail recorded, including refusals by the server."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

import pytest
from conftest import DAY
from django.db import transaction
from lxml import etree
from tests.support import events, last_seq

from salesledger.apps.customers.models import Communication
from salesledger.apps.customers.services import ContactInput
from salesledger.apps.documents.delivery import customer_statement_send, invoice_send, quote_send
from salesledger.apps.documents.models import DocumentTemplate, MessageTemplate
from salesledger.apps.documents.services import message_template_set
from salesledger.apps.invoicing.models import DocumentFile
from salesledger.apps.quotes.models import Quote
from salesledger.apps.quotes.services import QuoteInput, quote_create
from salesledger.domain.errors import (
    DeliveryFailed,
    DocumentNotPosted,
    DocumentTemplateError,
    NoRecipients,
    ValidationFailed,
)

from .conftest import pdf_text

LINES = (("Conseil", "3", "411.52", "20"),)


@pytest.fixture
def french(make_customer):
    return make_customer("C001", name="Dupont et Fils", language="fr", email="info@dupont.example",
                         contacts=[ContactInput("Anne Compta", "compta@dupont.example",
                                                roles=("billing", "payables")),
                                   ContactInput("Paul Ventes", "ventes@dupont.example",
                                                roles=("sales",))])


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nobody listens there once closed


def send(company, owner, number, **kw):
    kw.setdefault("as_of", DAY)
    return invoice_send(actor=owner, company=company, number=number, **kw)


def test_a_french_customer_receives_its_invoice_in_french(
        seller, owner, french, post_invoice, smtp_server, django_capture_on_commit_callbacks):
    inv = post_invoice(lines=LINES)
    seq = last_seq(seller)
    # when the invoice is sent (the message leaves after commit)
    with django_capture_on_commit_callbacks(execute=True):
        comm = send(seller, owner, inv.number)
        assert comm.status == "queued" and smtp_server.received == []
    # then one message reached the billing contact only
    [got] = smtp_server.received
    assert got.rcpt_tos == ["compta@dupont.example"]
    assert got.mail_from == "invoices@ledger.example"
    msg = got.message
    assert msg["To"] == "compta@dupont.example"
    assert msg["From"] == "Acme SARL <invoices@ledger.example>"
    assert msg["Reply-To"] == "billing@acme.example"
    assert msg["Subject"] == "Facture INV2025-00001 de Acme SARL"
    assert msg["Content-Language"] == "fr"
    body = msg.get_body(("plain",)).get_content()
    assert "Veuillez trouver ci-joint notre facture INV2025-00001 du 10 mars 2025" in body
    assert "1\u202f481,47\xa0€" in body and "payable au plus tard le 9 avr. 2025" in body
    assert "la référence RF81 INV2 0250 0001" in body
    # with the frozen PDF attached, byte for byte
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "INV2025-00001.pdf"
    assert attachment.get_content_type() == "application/pdf"
    pdf = attachment.get_content()
    stored = DocumentFile.objects.get(invoice=inv, kind="pdf")
    assert pdf.startswith(b"%PDF-") and hashlib.sha256(pdf).hexdigest() == stored.sha256
    assert "Net à payer 1 481,47 €" in pdf_text(pdf)
    # and the delivery is on the customer's timeline with its Message-ID
    comm.refresh_from_db()
    assert msg["Message-ID"] == comm.message_id and comm.message_id.endswith(
        "@ledger.example>")
    assert (comm.channel, comm.direction, comm.status, comm.invoice_id, comm.customer_id) == (
        "email", "out", "sent", inv.pk, french.pk)
    assert comm.recipients == "compta@dupont.example" and comm.subject == msg["Subject"]
    assert comm.status_detail == "accepted by the mail server for 1 recipient(s)"
    # and audited: the PDF frozen, the send asked for, its outcome
    actions = [(e.action, e.entity_id) for e in events(seller, seq)]
    assert actions == [("invoice.pdf", str(inv.pk)), ("invoice.send", str(inv.pk)),
                       ("email.sent", str(comm.pk))]
    sent = events(seller, seq)[1].data
    assert sent["recipients"] == ["compta@dupont.example"] and sent["language"] == "fr"
    assert sent["attachments"] == [{"file": "INV2025-00001.pdf", "sha256": stored.sha256}]


def test_without_billing_contacts_the_customer_address_is_used_or_sending_is_refused(
        seller, owner, make_customer, post_invoice, smtp_server,
        django_capture_on_commit_callbacks):
    make_customer("C002", name="Solo", email="solo@example.org", language="es")
    make_customer("C003", name="Nobody")
    solo, nobody = post_invoice("C002", lines=LINES), post_invoice("C003", lines=LINES)
    with django_capture_on_commit_callbacks(execute=True):
        send(seller, owner, solo.number)
    [got] = smtp_server.received
    assert got.rcpt_tos == ["solo@example.org"]
    assert got.message["Subject"] == f"Factura {solo.number} de Acme SARL"
    # a customer with no address at all: refused before anything is recorded or rendered
    with pytest.raises(NoRecipients, match="no billing contact"):
        send(seller, owner, nobody.number)
    assert not Communication.objects.filter(customer__code="C003").exists()
    assert not DocumentFile.objects.filter(invoice=nobody).exists()


def test_given_addresses_replace_the_contacts(seller, owner, french, post_invoice, smtp_server,
                                              django_capture_on_commit_callbacks):
    inv = post_invoice(lines=LINES)
    with django_capture_on_commit_callbacks(execute=True):
        send(seller, owner, inv.number, to=["ap@dupont.example", "boss@dupont.example"])
    [got] = smtp_server.received
    assert got.rcpt_tos == ["ap@dupont.example", "boss@dupont.example"]
    with pytest.raises(ValidationFailed, match="'nobody' is not an e-mail address"):
        send(seller, owner, inv.number, to=["nobody"])


def test_a_refused_recipient_is_recorded_as_bounced_with_the_server_answer(
        seller, owner, french, post_invoice, smtp_server, django_capture_on_commit_callbacks):
    inv = post_invoice(lines=LINES)
    seq = last_seq(seller)
    with django_capture_on_commit_callbacks(execute=True):
        comm = send(seller, owner, inv.number, to=["bounce@dupont.example"])
    comm.refresh_from_db()
    assert smtp_server.received == []
    assert comm.status == "bounced"
    assert comm.status_detail == ("refused by the mail server: bounce@dupont.example: 550 "
                                  "5.1.1 <bounce@dupont.example>: mailbox unavailable")
    outcome = events(seller, seq)[-1]
    assert (outcome.action, outcome.entity_id) == ("email.bounced", str(comm.pk))


def test_some_recipients_refused_is_a_partial_delivery(
        seller, owner, french, post_invoice, smtp_server, django_capture_on_commit_callbacks):
    inv = post_invoice(lines=LINES)
    with django_capture_on_commit_callbacks(execute=True):
        comm = send(seller, owner, inv.number, to=["ok@dupont.example", "bounce@dupont.example"])
    comm.refresh_from_db()
    [got] = smtp_server.received
    assert got.rcpt_tos == ["ok@dupont.example"]
    assert comm.status == "partial" and "bounce@dupont.example: 550" in comm.status_detail


@pytest.mark.postgres  # commits for real: the flush between such tests needs PostgreSQL
def test_outside_a_transaction_a_bounce_raises_after_it_is_recorded(
        transactional_db, company, owner, make_customer, post_invoice, smtp_server, settings):
    make_customer("C001", name="Dupont", email="bounce@dupont.example")
    inv = post_invoice(lines=LINES)
    with pytest.raises(DeliveryFailed, match="bounced.*550 5.1.1"):
        send(company, owner, inv.number)
    [comm] = Communication.objects.filter(invoice=inv)
    assert comm.status == "bounced"
    # a server that cannot be reached is a failure, recorded the same way
    settings.EMAIL_PORT = closed_port()
    with pytest.raises(DeliveryFailed, match="could not be reached"):
        send(company, owner, inv.number, to=["ok@dupont.example"])
    assert Communication.objects.filter(invoice=inv, status="failed").count() == 1


def test_nothing_is_sent_when_the_transaction_rolls_back(
        seller, owner, french, post_invoice, smtp_server, django_capture_on_commit_callbacks):
    inv = post_invoice(lines=LINES)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            send(seller, owner, inv.number)
            raise RuntimeError("the surrounding action failed")
    assert callbacks == [] and smtp_server.received == []
    assert not Communication.objects.filter(invoice=inv).exists()


def test_a_template_error_never_sends_a_broken_document(
        seller, owner, french, post_invoice, smtp_server, django_capture_on_commit_callbacks):
    inv = post_invoice(lines=LINES)
    # given stored texts and layouts that broke (written behind the services' back, as an
    # old release or a database edit could have left them)
    MessageTemplate.objects.create(company=seller, kind="invoice", language="fr",
                                   subject="Facture {number}", body="{montant}")
    with pytest.raises(DocumentTemplateError, match=r"\{montant\}"):
        send(seller, owner, inv.number)
    MessageTemplate.objects.all().delete()
    DocumentTemplate.objects.create(company=seller, kind="invoice", language="",
                                    html='{% include "documents/gone.html" %}')
    with pytest.raises(DocumentTemplateError, match="no template documents/gone.html"):
        with django_capture_on_commit_callbacks(execute=True):
            send(seller, owner, inv.number)
    # then nothing was sent, recorded or frozen
    assert smtp_server.received == []
    assert not Communication.objects.filter(invoice=inv).exists()
    assert not DocumentFile.objects.filter(invoice=inv).exists()


def test_the_company_text_is_used_in_the_customers_language(
        seller, owner, french, post_invoice, smtp_server, django_capture_on_commit_callbacks):
    inv = post_invoice(lines=LINES)
    message_template_set(actor=owner, company=seller, kind="invoice", language="fr",
                         subject="[{company}] Votre facture {number}",
                         body="Montant {total}, échéance {due_date}, réf. {payment_reference}")
    with django_capture_on_commit_callbacks(execute=True):
        send(seller, owner, inv.number)
    msg = smtp_server.received[0].message
    assert msg["Subject"] == "[Acme SARL] Votre facture INV2025-00001"
    assert msg.get_body(("plain",)).get_content().strip() == (
        "Montant 1\u202f481,47\xa0€, échéance 9 avr. 2025, réf. RF81 INV2 0250 0001")


def test_an_e_invoice_can_be_attached(seller, owner, french, post_invoice, smtp_server,
                                      django_capture_on_commit_callbacks):
    inv = post_invoice(lines=LINES)
    with django_capture_on_commit_callbacks(execute=True):
        send(seller, owner, inv.number, attach="pdf,ubl,facturx")
    files = {a.get_filename(): a for a in smtp_server.received[0].message.iter_attachments()}
    assert set(files) == {"INV2025-00001.pdf", "INV2025-00001-ubl.xml",
                          "INV2025-00001-facturx.pdf"}
    # the Factur-X is this app's frozen PDF/A-3 with the CII inside
    from salesledger.formats.einvoice.facturx import xml_from_facturx

    facturx = files["INV2025-00001-facturx.pdf"].get_content()
    assert b"INV2025-00001" in xml_from_facturx(facturx)
    assert "Net à payer 1 481,47 €" in pdf_text(facturx)
    ubl = etree.fromstring(files["INV2025-00001-ubl.xml"].get_content())
    ns = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
    assert ubl.findtext("cbc:ID", namespaces=ns) == "INV2025-00001"
    assert ubl.findtext(".//cbc:PaymentID", namespaces=ns) == inv.payment_reference
    with pytest.raises(ValidationFailed, match="cannot attach 'zip'"):
        send(seller, owner, inv.number, attach="pdf,zip")


def test_a_draft_cannot_be_sent(seller, owner, french, create_invoice, smtp_server):
    draft = create_invoice(lines=LINES)
    with pytest.raises(DocumentNotPosted):
        send(seller, owner, str(draft.pk))


def test_a_statement_and_a_quote_are_emailed_too(
        seller, owner, french, post_invoice, smtp_server, django_capture_on_commit_callbacks):
    from salesledger.domain.invoicing import LineInput

    post_invoice(lines=LINES)
    with django_capture_on_commit_callbacks(execute=True):
        customer_statement_send(actor=owner, company=seller, code="C001",
                                as_of=date(2025, 6, 30))
    statement = smtp_server.received[-1].message
    assert statement["Subject"] == "Relevé de compte de Acme SARL"
    [pdf] = [a.get_content() for a in statement.iter_attachments()]
    assert "Relevé de compte" in pdf_text(pdf) and "1 481,47 €" in pdf_text(pdf)
    # the quotes app sends through the documents app when it is installed
    quote = quote_create(actor=owner, company=seller, as_of=DAY, data=QuoteInput(
        customer_code="C001", lines=[LineInput("Audit", Decimal(1), Decimal(500), Decimal(20))]))
    with django_capture_on_commit_callbacks(execute=True):
        sent = quote_send(actor=owner, company=seller, number=quote.number, as_of=DAY)
    assert sent.emailed and "compta@dupont.example" in sent.detail
    message = smtp_server.received[-1].message
    assert message["Subject"] == f"Devis {quote.number} de Acme SARL"
    [pdf] = [a.get_content() for a in message.iter_attachments()]
    assert "Devis" in pdf_text(pdf) and "600,00 €" in pdf_text(pdf)
    assert Communication.objects.filter(customer=french, status="sent").count() == 2


def test_without_a_mail_server_the_message_is_only_logged(
        seller, owner, french, post_invoice, settings, mailoutbox,
        django_capture_on_commit_callbacks):
    # Django's in-memory backend stands for the console backend of an installation that has
    # no SALESLEDGER_EMAIL_HOST: nothing leaves, and the timeline must not say "sent"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    inv = post_invoice(lines=LINES)
    with django_capture_on_commit_callbacks(execute=True):
        comm = send(seller, owner, inv.number)
    comm.refresh_from_db()
    assert [m.subject for m in mailoutbox] == [f"Facture {inv.number} de Acme SARL"]
    assert comm.status == "logged" and "no mail server is configured" in comm.status_detail


def test_sending_a_quote_e_mails_it_or_leaves_the_draft(company, owner, make_customer,
                                                       mailoutbox,
                                                       django_capture_on_commit_callbacks):
    from salesledger.domain.invoicing import LineInput

    def make_quote(customer_code):
        return quote_create(actor=owner, company=company, as_of=DAY, data=QuoteInput(
            customer_code=customer_code,
            lines=[LineInput("Audit", Decimal(1), Decimal(500), Decimal(20))]))

    # given a customer without any e-mail address
    make_customer("C001")
    q = make_quote("C001")
    # when the quote is sent, e-mailing it is refused, and nothing changes
    with pytest.raises(NoRecipients):
        quote_send(actor=owner, company=company, number=q.number, as_of=DAY)
    assert Quote.objects.get(pk=q.pk).status == "draft" and mailoutbox == []
    # given a customer with a billing address: the quote goes out with its PDF
    make_customer("C002", name="Martin SARL", email="compta@martin.example")
    q2 = make_quote("C002")
    with django_capture_on_commit_callbacks(execute=True):  # the message leaves on commit
        sent = quote_send(actor=owner, company=company, number=q2.number, as_of=DAY)
    assert (sent.emailed, sent.quote.status) == (True, "sent")
    assert sent.detail.startswith("e-mailed")
    [message] = mailoutbox
    assert message.to == ["compta@martin.example"]
    assert q2.number in message.subject
    assert [a[2] for a in message.attachments] == ["application/pdf"]
    assert message.attachments[0][1][:5] == b"%PDF-"
    # asked not to e-mail: the status changes only
    q3 = make_quote("C002")
    quiet = quote_send(actor=owner, company=company, number=q3.number, as_of=DAY, email=False)
    assert (quiet.emailed, quiet.quote.status, quiet.detail) == (
        False, "sent", "status changed only (not asked to)")
