"""Sending documents by e-mail, and recording each delivery on the customer's timeline.

Who receives it: the addresses given, else the customer's billing contacts (``Contact.roles``
contains ``billing``), else the customer's own address; with none, ``NoRecipients``.

In which language: the document's (``selectors.document_language``); the subject and body
come from the company's ``MessageTemplate`` for that kind and language, else the built-in
text (``messages.py``).

Order of work, so that nothing broken ever leaves: first everything that can fail on our
side is done (recipients checked, e-mail text filled, the PDF rendered and frozen, any
e-invoice written); then, in one transaction, the delivery is recorded on the customer's
communication timeline (``customers.Communication``, status ``queued``, with its Message-ID)
and audited; the message itself goes to the SMTP server only after that transaction commits
(``transaction.on_commit``), so a rolled-back action sends nothing. The server's answer then
sets the timeline entry's status: ``sent``; ``partial`` when it refused some recipients;
``logged`` when no mail server is configured (the message was written to a file under
``var/mail/``, ``MailFileBackend``, whose path the detail gives; or Django's console, file or
in-memory backend took it); ``bounced`` when it refused them all (``SMTPRecipientsRefused``, with
each address and the server's reply); ``failed`` when it refused the sender or the message,
or could not be reached. The outcome is audited too. Called outside any transaction (the
command line, a background task), a send that did not reach anyone raises ``DeliveryFailed``
after it has been recorded.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import smtplib
from dataclasses import dataclass
from datetime import date
from email.utils import formataddr, make_msgid, parseaddr
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends import smtp
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import sanitize_address
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from salesledger.apps.core.actors import Actor, actor_row
from salesledger.apps.core.audit import EventSpec, audit_many
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import require_role
from salesledger.apps.customers.models import Communication, Customer
from salesledger.apps.customers.selectors import customer_get
from salesledger.apps.customers.services import emails_mark_doubtful
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.invoicing.selectors import invoice_get
from salesledger.apps.quotes import services as quotes_services
from salesledger.apps.quotes.selectors import quote_get
from salesledger.domain.customer_records import is_hard_bounce
from salesledger.domain.errors import (
    DeliveryFailed,
    NoRecipients,
    ValidationFailed,
)
from salesledger.domain.references import format_reference

from . import context as ctx
from .einvoice_files import einvoice_file, einvoice_filename
from .formatting import Formatter
from .messages import fill
from .selectors import billing_recipients, document_language, message_texts
from .services import (
    customer_statement_pdf,
    invoice_pdf_file,
    period_statement_context,
    period_statement_pdf,
    posted_document,
    quote_context,
    quote_pdf_bytes,
    statement_context,
)

ATTACHABLE = ("pdf", "ubl", "cii", "facturx")
DJANGO_SMTP = "django.core.mail.backends.smtp.EmailBackend"
OUR_SMTP = "salesledger.apps.documents.delivery.SMTPBackend"


class SMTPBackend(smtp.EmailBackend):
    """Django's SMTP backend that also keeps what the server refused of an accepted message
    (``smtplib`` reports recipients refused among others accepted only as a return value,
    which Django's backend drops)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refused: dict[str, tuple[int, bytes]] = {}

    def _send(self, email_message: Any) -> bool:
        if not email_message.recipients():
            return False
        encoding = email_message.encoding or settings.DEFAULT_CHARSET
        from_email = sanitize_address(email_message.from_email, encoding)
        recipients = [sanitize_address(a, encoding) for a in email_message.recipients()]
        message = email_message.message()
        assert self.connection is not None
        self.refused = dict(self.connection.sendmail(from_email, recipients,
                                                     message.as_bytes(linesep="\r\n")))
        return True


class MailFileBackend(BaseEmailBackend):
    """Where mail goes when no mail server is configured: each message is written whole, as
    it would have been sent, to its own ``.eml`` file under ``EMAIL_FILE_PATH`` (by default
    ``var/mail/``), so that it can be read, opened in a mail program or sent on later.
    ``written`` keeps the files written by this connection."""

    def __init__(self, *args: Any, file_path: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.file_path = Path(file_path or settings.EMAIL_FILE_PATH)
        self.written: list[Path] = []

    def send_messages(self, email_messages: Any) -> int:
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            try:
                self.file_path.mkdir(parents=True, exist_ok=True)
                self.written.append(self._write(message))
            except OSError:
                if not self.fail_silently:
                    raise
                continue
            sent += 1
        return sent

    def _write(self, message: Any) -> Path:
        data = message.message().as_bytes(linesep="\n")
        name = re.sub(r"[^A-Za-z0-9.@_-]", "", message.extra_headers.get("Message-ID", ""))
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        base = f"{stamp}-{name or hashlib.sha256(data).hexdigest()[:16]}"
        for n in range(1000):
            path = self.file_path / (f"{base}.eml" if n == 0 else f"{base}-{n}.eml")
            try:
                with path.open("xb") as fh:  # never overwrite a message already written
                    fh.write(data)
                return path
            except FileExistsError:
                continue
        raise FileExistsError(f"too many messages named {base} in {self.file_path}")


@dataclass(frozen=True)
class Attachment:
    kind: str
    filename: str
    content: bytes
    mime: str
    sha256: str


@dataclass(frozen=True)
class Outgoing:
    """A message ready to go: everything was rendered before it is recorded."""

    subject: str
    body: str
    recipients: tuple[str, ...]
    language: str
    attachments: tuple[Attachment, ...] = ()


# ---------------------------------------------------------------- preparing
def resolve_recipients(customer: Customer, to: list[str] | None) -> list[str]:
    given = [a.strip() for a in (to or []) if a and a.strip()]
    recipients = given or billing_recipients(customer)
    if not recipients:
        raise NoRecipients(
            f"customer {customer.code} has no billing contact with an e-mail address and no "
            "e-mail address of its own: add one, or give the addresses to send to",
            customer=customer.code)
    for address in recipients:
        try:
            validate_email(address)
        except DjangoValidationError:
            raise ValidationFailed(f"{address!r} is not an e-mail address",
                                   field="to") from None
    return recipients


def parse_attach(attach: list[str] | tuple[str, ...] | str | None) -> list[str]:
    items = attach.split(",") if isinstance(attach, str) else list(attach or ["pdf"])
    kinds = []
    for item in (x.strip().lower() for x in items):
        if not item:
            continue
        if item not in ATTACHABLE:
            raise ValidationFailed(f"cannot attach {item!r}; choose among "
                                   + ", ".join(ATTACHABLE), field="attach")
        if item not in kinds:
            kinds.append(item)
    if not kinds:
        raise ValidationFailed("attach at least one file: " + ", ".join(ATTACHABLE),
                               field="attach")
    return kinds


def invoice_attachments(*, actor: Actor, company: Company, invoice: Invoice,
                        kinds: list[str]) -> list[Attachment]:
    """The files of a posted document, each frozen on first use (same bytes every time)."""
    out = []
    for kind in kinds:
        if kind == "pdf":
            stored = invoice_pdf_file(actor=actor, company=company, invoice=invoice)
            filename = f"{invoice.number}.pdf"
        else:
            stored = einvoice_file(actor=actor, company=company, invoice=invoice, kind=kind)
            filename = einvoice_filename(invoice, kind)
        if any(a.filename == filename for a in out):  # a Factur-X next to the plain PDF
            stem, dot, ext = filename.rpartition(".")
            filename = f"{stem}-{kind}{dot}{ext}" if dot else f"{filename}-{kind}"
        out.append(Attachment(kind, filename, bytes(stored.content), stored.mime,
                              stored.sha256))
    return out


def compose(company: Company, kind: str, language: str, values: dict[str, str],
            texts: tuple[str, str, str] | None = None) -> tuple[str, str]:
    """The subject and body of an e-mail of ``kind``, filled with ``values``. ``texts``: the
    ``message_texts`` of the kind and language, read once by a caller that composes many."""
    subject, body, what = texts or message_texts(company, kind, language)
    subject = fill(kind, subject, values, what=f"subject of {what}")
    body = fill(kind, body, values, what=f"body of {what}")
    return " ".join(subject.split())[:200], body


def _sender(company: Company) -> tuple[str, str, str]:
    """(From header, reply-to address, Message-ID domain). Mail leaves from the installation's
    address, named after the company; replies go to the company's own address."""
    _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    address = address or "salesledger@localhost"
    domain = address.rpartition("@")[2] or "localhost"
    return formataddr((company.name, address)), company.email or "", domain


def message_origin(company: Company) -> tuple[str, str, str]:
    """(From header, reply-to address, a new Message-ID) of a message the company sends to
    someone who is not a customer (its own users: the receivables pack)."""
    from_header, reply_to, domain = _sender(company)
    return from_header, reply_to, make_msgid(domain=domain)


# ---------------------------------------------------------------- recording and sending
@dataclass(frozen=True)
class Recorded:
    """A delivery recorded on the timeline (status ``queued``), not yet handed to the mail
    server: what ``deliver`` needs to send it and ``record_outcome`` to record the answer."""

    communication_id: int
    outgoing: Outgoing
    from_header: str
    reply_to: str
    message_id: str


def record(*, actor: Actor, company: Company, customer: Customer, outgoing: Outgoing,
           action: str, entity: str, entity_id: Any, as_of: date,
           invoice: Invoice | None = None, events: list[EventSpec] | None = None,
           **data: Any) -> tuple[Communication, Recorded]:
    """Record a delivery (timeline entry, status ``queued``, and its audit event) without
    sending it: inside the caller's transaction, whose commit must come before ``deliver``.
    ``record_and_send`` is this, then the sending after commit. With ``events``, the audit
    event is added to it, for the caller to append with others in one ``audit_many`` in the
    same transaction."""
    from_header, reply_to, domain = _sender(company)
    message_id = make_msgid(domain=domain)
    with transaction.atomic():
        comm = Communication.objects.create(
            company=company, customer=customer, at=timezone.now(), channel="email",
            direction="out", subject=outgoing.subject[:255], body=outgoing.body,
            recipients=", ".join(outgoing.recipients), message_id=message_id, status="queued",
            invoice=invoice, created_by=actor_row(actor))
        spec = EventSpec(action, entity, str(entity_id or ""), {
            "communication": comm.pk, "recipients": list(outgoing.recipients),
            "message_id": message_id, "language": outgoing.language,
            "as_of": as_of.isoformat(),
            "attachments": [{"file": a.filename, "sha256": a.sha256}
                            for a in outgoing.attachments], **data})
        if events is None:
            audit_many(company, actor, [spec])
        else:
            events.append(spec)
    return comm, Recorded(comm.pk, outgoing, from_header, reply_to, message_id)


def record_and_send(*, actor: Actor, company: Company, customer: Customer, outgoing: Outgoing,
                    action: str, entity: str, entity_id: Any, as_of: date,
                    invoice: Invoice | None = None, **data: Any) -> Communication:
    """Record the delivery (timeline entry + audit event) and send it after commit."""
    outside = not transaction.get_connection().in_atomic_block
    with transaction.atomic():
        comm, recorded = record(actor=actor, company=company, customer=customer,
                                outgoing=outgoing, action=action, entity=entity,
                                entity_id=entity_id, as_of=as_of, invoice=invoice, **data)
        transaction.on_commit(partial(_deliver, company, actor, recorded))
    comm.refresh_from_db()
    if outside and comm.status in ("bounced", "failed"):
        raise DeliveryFailed(f"the e-mail to {comm.recipients} was not delivered "
                             f"({comm.status}): {comm.status_detail}",
                             communication=comm.pk, status=comm.status)
    return comm


def mail_connection() -> Any:
    """A connection to the mail server (or the configured backend), for ``deliver`` to send
    many messages over: open it before, close it after."""
    return _connection()


def _connection() -> Any:
    backend = OUR_SMTP if settings.EMAIL_BACKEND == DJANGO_SMTP else None
    return get_connection(backend=backend, fail_silently=False)


def _refusals(refused: dict[str, tuple[int, bytes | str]]) -> str:
    def text(msg: bytes | str) -> str:
        return msg.decode(errors="replace") if isinstance(msg, bytes) else str(msg)

    return "; ".join(f"{addr}: {code} {text(msg)}" for addr, (code, msg) in refused.items())


def send_now(outgoing: Outgoing, from_header: str, reply_to: str, message_id: str,
             hard_bounces: dict[str, str] | None = None, connection: Any = None
             ) -> tuple[str, str]:
    """Hand the message to the mail server; returns (status, the server's answer). The
    addresses the server refused for good (a 5xx reply) are added to ``hard_bounces``, with
    the server's answer. ``connection``: one already open, to send many messages over (a
    new one per message otherwise)."""
    if connection is None:
        connection = _connection()
    elif isinstance(connection, smtp.EmailBackend):
        connection.refused = {}
    message = EmailMessage(
        subject=outgoing.subject, body=outgoing.body, from_email=from_header,
        to=list(outgoing.recipients), reply_to=[reply_to] if reply_to else None,
        headers={"Message-ID": message_id, "Content-Language": outgoing.language},
        connection=connection)
    for a in outgoing.attachments:
        message.attach(a.filename, a.content, a.mime)
    try:
        message.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        _hard(exc.recipients, hard_bounces)
        return "bounced", "refused by the mail server: " + _refusals(exc.recipients)
    except smtplib.SMTPSenderRefused as exc:
        return "failed", (f"the mail server refused the sender {exc.sender}: "
                          f"{exc.smtp_code} {_text(exc.smtp_error)}")
    except smtplib.SMTPResponseException as exc:
        return "failed", f"the mail server answered {exc.smtp_code} {_text(exc.smtp_error)}"
    except (smtplib.SMTPException, OSError) as exc:
        return "failed", f"the mail server could not be reached: {exc or type(exc).__name__}"
    if isinstance(connection, MailFileBackend) and connection.written:
        return "logged", ("no mail server is configured: the message was written to "
                          f"{connection.written[-1]}")
    if not isinstance(connection, smtp.EmailBackend):
        backend = f"{type(connection).__module__}.{type(connection).__name__}"
        return "logged", f"no mail server is configured: the message went to {backend}"
    refused = getattr(connection, "refused", {})
    if refused:
        _hard(refused, hard_bounces)
        return "partial", "accepted, except refused by the mail server: " + _refusals(refused)
    return "sent", f"accepted by the mail server for {len(outgoing.recipients)} recipient(s)"


def _hard(refused: dict[str, tuple[int, bytes | str]], into: dict[str, str] | None) -> None:
    """The permanent refusals among ``refused`` (``domain/customer_records.is_hard_bounce``)."""
    if into is None:
        return
    for address, (code, msg) in refused.items():
        if is_hard_bounce(int(code)):
            into[address] = f"{code} {_text(msg)}"


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class Outcome:
    """The mail server's answer to a recorded delivery, to be recorded."""

    recorded: Recorded
    status: str
    detail: str
    hard: dict[str, str]


def deliver(recorded: Recorded, connection: Any = None) -> Outcome:
    """Send a recorded delivery (after the commit that recorded it); writes nothing and never
    raises: an unexpected error is an outcome ``failed``."""
    hard: dict[str, str] = {}
    try:
        status, detail = send_now(recorded.outgoing, recorded.from_header, recorded.reply_to,
                                  recorded.message_id, hard, connection)
    except Exception as exc:  # noqa: BLE001 - a defect must still show on the timeline
        status, detail = "failed", f"the message could not be sent: {exc!r}"
    if status == "failed" and connection is not None:
        # The connection may be broken: open a new one for the next message.
        connection.close()
        with contextlib.suppress(Exception):
            connection.open()
    return Outcome(recorded, status, detail, hard)


def record_outcome(company: Company, actor: Actor, outcome: Outcome,
                   events: list[EventSpec] | None = None) -> None:
    """Record the server's answer on the timeline entry, audited (in the caller's
    transaction, or its own; with ``events``, as ``record``)."""
    comm_id = outcome.recorded.communication_id
    with transaction.atomic():
        Communication.objects.filter(pk=comm_id).update(status=outcome.status,
                                                        status_detail=outcome.detail)
        spec = EventSpec(f"email.{outcome.status}", "communication", str(comm_id),
                         {"message_id": outcome.recorded.message_id, "detail": outcome.detail})
        if events is None:
            audit_many(company, actor, [spec])
        else:
            events.append(spec)
        if outcome.hard:  # the addresses refused for good are doubtful until checked
            customer_id = Communication.objects.values_list("customer_id", flat=True).get(
                pk=comm_id)
            emails_mark_doubtful(actor=actor, company=company, customer_id=customer_id,
                                 refused=outcome.hard, communication_id=comm_id)


def _deliver(company: Company, actor: Actor, recorded: Recorded) -> None:
    """After commit: send, then record the outcome."""
    record_outcome(company, actor, deliver(recorded))


# ---------------------------------------------------------------- the services
def invoice_send(*, actor: Actor, company: Company, number: str, to: list[str] | None = None,
                 attach: list[str] | tuple[str, ...] | str | None = ("pdf",),
                 as_of: date) -> Communication:
    """E-mail a posted invoice or credit note with its PDF (and e-invoices asked for)."""
    require_role(company, actor, Role.CLERK)
    inv = posted_document(company, invoice_get(company, number))
    kinds = parse_attach(attach)
    customer = inv.customer
    recipients = resolve_recipients(customer, to)
    snap = inv.snapshot
    issued = snap.get("customer") or {}
    language = document_language(customer, issued.get("language", ""))
    fmt = Formatter(language, issued.get("country") or company.country)
    values = {
        "number": inv.number or "", "company": company.name,
        "customer": issued.get("legal_name") or issued.get("name") or customer.name,
        "issue_date": fmt.date(inv.issue_date), "total": fmt.money(inv.total, inv.currency),
        "due_date": fmt.date(inv.due_date),
        "payment_reference": format_reference(inv.payment_reference) or inv.number or "",
        "corrects": snap.get("corrects") or "",
    }
    subject, body = compose(company, inv.kind, language, values)
    files = invoice_attachments(actor=actor, company=company, invoice=inv, kinds=kinds)
    outgoing = Outgoing(subject, body, tuple(recipients), language, tuple(files))
    return record_and_send(actor=actor, company=company, customer=customer, outgoing=outgoing,
                           action=f"{inv.kind}.send", entity="invoice", entity_id=inv.pk,
                           as_of=as_of, invoice=inv, number=inv.number)


def quote_email(*, actor: Actor, company: Company, number: str, as_of: date,
                to: list[str] | None = None) -> str:
    """E-mail a quote with its PDF (the quotes app calls this when a quote is sent)."""
    require_role(company, actor, Role.CLERK)
    quote = quote_get(company, number)
    customer = quote.customer
    recipients = resolve_recipients(customer, to)
    context = quote_context(company, quote)
    language = context["language"]
    fmt = Formatter(language, customer.country or company.country)
    values = {"number": quote.label, "company": company.name,
              "customer": customer.legal_name or customer.name,
              "issue_date": fmt.date(quote.issue_date), "total": context["total"],
              "valid_until": fmt.date(quote.valid_until)}
    subject, body = compose(company, "quote", language, values)
    pdf = quote_pdf_bytes(company=company, number=quote.label)
    files = (Attachment("pdf", f"{quote.label}.pdf", pdf, "application/pdf",
                        hashlib.sha256(pdf).hexdigest()),)
    comm = record_and_send(actor=actor, company=company, customer=customer,
                           outgoing=Outgoing(subject, body, tuple(recipients), language, files),
                           action="quote.email", entity="quote", entity_id=quote.pk,
                           as_of=as_of, number=quote.label)
    return f"to {comm.recipients} ({comm.status})"


def customer_statement_send(*, actor: Actor, company: Company, code: str, as_of: date,
                            to: list[str] | None = None) -> Communication:
    """E-mail a customer's statement of account on ``as_of``."""
    require_role(company, actor, Role.CLERK)
    customer = customer_get(company, code)
    recipients = resolve_recipients(customer, to)
    context = statement_context(company, customer, as_of)
    language = context["language"]
    fmt = Formatter(language, customer.country or company.country)
    values = {"number": customer.code, "company": company.name,
              "customer": customer.legal_name or customer.name, "as_of": fmt.date(as_of),
              "balance": context["balance"]}
    subject, body = compose(company, "statement", language, values)
    pdf = customer_statement_pdf(actor=actor, company=company, code=code, as_of=as_of)
    files = (Attachment("pdf", f"statement-{customer.code}-{as_of.isoformat()}.pdf", pdf,
                        "application/pdf", hashlib.sha256(pdf).hexdigest()),)
    return record_and_send(actor=actor, company=company, customer=customer,
                           outgoing=Outgoing(subject, body, tuple(recipients), language, files),
                           action="statement.send", entity="customer", entity_id=customer.pk,
                           as_of=as_of)


def period_statement_send(*, actor: Actor, company: Company, code: str, period: ctx.Period,
                          as_of: date, to: list[str] | None = None) -> Communication:
    """E-mail a customer's statement for a period (``ctx.Period``, read by the reporting
    app) with its PDF: the statement's e-mail text, dated on the period's last day, with the
    closing balance; on the customer's timeline like the statement of a day."""
    require_role(company, actor, Role.CLERK)
    customer = customer_get(company, code)
    recipients = resolve_recipients(customer, to)
    context = period_statement_context(company, customer, period)
    language = context["language"]
    fmt = Formatter(language, customer.country or company.country)
    values = {"number": customer.code, "company": company.name,
              "customer": customer.legal_name or customer.name,
              "as_of": fmt.date(period.end), "balance": context["balance"]}
    subject, body = compose(company, "statement", language, values)
    pdf = period_statement_pdf(actor=actor, company=company, code=code, period=period)
    name = f"statement-{customer.code}-{period.start.isoformat()}-{period.end.isoformat()}.pdf"
    files = (Attachment("pdf", name, pdf, "application/pdf", hashlib.sha256(pdf).hexdigest()),)
    return record_and_send(actor=actor, company=company, customer=customer,
                           outgoing=Outgoing(subject, body, tuple(recipients), language, files),
                           action="statement.send", entity="customer", entity_id=customer.pk,
                           as_of=as_of)


@dataclass(frozen=True)
class QuoteSent:
    quote: Any
    emailed: bool
    detail: str


def quote_send(*, actor: Actor, company: Company, number: str, as_of: date,
               email: bool = True) -> QuoteSent:
    """Mark a draft quote as sent and, unless asked not to, e-mail it with its PDF. Both
    happen or neither: a refused e-mail leaves the quote a draft."""
    with transaction.atomic():
        quote = quotes_services.quote_send(actor=actor, company=company, number=number,
                                           as_of=as_of)
        if not email:
            return QuoteSent(quote, False, "status changed only (not asked to)")
        outcome = quote_email(actor=actor, company=company, number=quote.label, as_of=as_of)
    return QuoteSent(quote, True, f"e-mailed: {outcome}" if outcome else "e-mailed")
