"""Documents as PDF: render, freeze, customise (``delivery.py`` sends them).

* ``invoice_pdf_file`` / ``invoice_pdf_bytes``: the PDF of a posted invoice or credit note,
  drawn from what posting froze (``context.py``), rendered the first time it is asked for and
  stored with its SHA-256 in ``invoicing.DocumentFile`` (kind ``pdf``); after that the stored
  bytes are served, whatever changed since. The file is a PDF/A-3b, the archival profile that
  a Factur-X invoice also needs, so the e-invoice module embeds its XML into this very file.
* ``quote_pdf_bytes`` and ``customer_statement_pdf``: rendered on demand, not stored (a quote
  is an offer, a statement a view of the account on a day).
* ``document_template_set`` / ``message_template_set``: a company's own layout or e-mail
  text, refused unless it renders a sample document that shows what the document must show.

See docs/design/documents.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction

from salesledger.apps.core.actors import Actor, actor_row
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import require_role
from salesledger.apps.customers.models import Customer
from salesledger.apps.customers.selectors import customer_get
from salesledger.apps.invoicing.issuing import compute_invoice_totals
from salesledger.apps.invoicing.models import DocumentFile, Instalment, Invoice
from salesledger.apps.quotes.selectors import quote_get
from salesledger.apps.quotes.services import quote_charges, quote_lines
from salesledger.domain.errors import (
    DocumentNotPosted,
    DocumentTemplateError,
    ValidationFailed,
)
from salesledger.domain.journal import to_base
from salesledger.domain.references import creditor_reference, format_reference
from salesledger.domain.snapshot import build_snapshot
from salesledger.domain.statement import summarise

from . import context as ctx
from .formatting import Formatter
from .labels import LANGUAGES, labels_for
from .messages import DEFAULTS, PLACEHOLDERS, check_text
from .models import DocumentKind, DocumentTemplate, MessageTemplate
from .rendering import compile_template, default_template, html_to_pdf, render_html
from .selectors import (
    document_language,
    document_template_override,
    statement_items,
)

PDF_KIND, PDF_MIME = "pdf", "application/pdf"


# ---------------------------------------------------------------- templates in effect
def _template(company: Company, kind: str, language: str) -> tuple[Any, str]:
    override = document_template_override(company, kind, language)
    if override is None:
        return default_template(kind), f"the default {kind} template"
    what = f"the company's {kind} template ({override.language or 'every language'})"
    return compile_template(override.html, what=what), what


def _render(company: Company, kind: str, context: dict[str, Any], *, title: str,
            issued_at: datetime, pdfa: bool = True) -> bytes:
    template, what = _template(company, kind, context["language"])
    html = render_html(template, context, what=what)
    return html_to_pdf(html, title=title, author=company.legal_name or company.name,
                       issued_at=issued_at, language=context["language"], pdfa=pdfa)


def _local(company: Company, moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(company.time_zone))


def _midnight(company: Company, day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(company.time_zone))


# ---------------------------------------------------------------- invoices and credit notes
def posted_document(company: Company, invoice: Invoice) -> Invoice:
    if invoice.company_id != company.pk:
        raise ValidationFailed(f"{invoice} belongs to another company")
    if not invoice.is_posted:
        raise DocumentNotPosted(f"{invoice} is a draft: post it before printing it",
                                document=str(invoice))
    return invoice


def invoice_context(company: Company, invoice: Invoice) -> dict[str, Any]:
    """The template context of a posted invoice or credit note."""
    inv = posted_document(company, invoice)
    snap = inv.snapshot
    issued = snap.get("customer") or {}
    language = document_language(inv.customer, issued.get("language", ""))
    fmt = Formatter(language, issued.get("country") or company.country)
    instalments = [ctx.InstalmentRow(i.due_date, i.amount, i.discount_date, i.discount_amount)
                   for i in Instalment.objects.filter(invoice=inv).order_by("seq")]
    corrects_date = (Invoice.objects.filter(pk=inv.corrects_id).values_list(
        "issue_date", flat=True).first() if inv.corrects_id else None)
    terms_name = (inv.terms.name if inv.terms_id and inv.terms else "")
    base_tax = to_base(snap["tax"], inv.currency, company.base_currency, Decimal(inv.rate))
    if "payment_reference" not in snap:  # posted before references were frozen
        snap = {**snap, "payment_reference": inv.payment_reference}
    return ctx.document_context(
        ctx.Issuer.of(company), snap, fmt, due_date=inv.due_date, notes=inv.notes,
        instalments=instalments, terms_name=terms_name, corrects_date=corrects_date,
        base_total=inv.base_total, base_tax=base_tax)


def render_invoice_pdf(company: Company, invoice: Invoice, *, pdfa: bool = True) -> bytes:
    """Render the PDF of a posted document now (not stored: see ``invoice_pdf_file``)."""
    context = invoice_context(company, invoice)
    issued_at = _local(company, invoice.posted_at) if invoice.posted_at else _midnight(
        company, invoice.issue_date)
    return _render(company, invoice.kind, context, title=f"{context['title']} {invoice.number}",
                   issued_at=issued_at, pdfa=pdfa)


def invoice_pdf_file(*, actor: Actor, company: Company, invoice: Invoice) -> DocumentFile:
    """The frozen PDF of a posted invoice or credit note: rendered and stored with its hash
    the first time, served as stored after that (audited once, when frozen)."""
    require_role(company, actor, Role.VIEWER)
    inv = posted_document(company, invoice)
    stored = DocumentFile.objects.filter(invoice=inv, kind=PDF_KIND).first()
    if stored is not None:
        return stored
    content = render_invoice_pdf(company, inv)  # outside the transaction: it takes a while
    with transaction.atomic():
        # Lock the document so that two first requests store one file, not two.
        Invoice.objects.select_for_update().filter(pk=inv.pk).values_list("pk").first()
        stored = DocumentFile.objects.filter(invoice=inv, kind=PDF_KIND).first()
        if stored is None:
            digest = hashlib.sha256(content).hexdigest()
            stored = DocumentFile.objects.create(company=company, invoice=inv, kind=PDF_KIND,
                                                 mime=PDF_MIME, sha256=digest, content=content)
            audit(company, actor, f"{inv.kind}.pdf", "invoice", inv.pk, number=inv.number,
                  sha256=digest, size=len(content))
    return stored


def pdfs_freeze(*, actor: Actor, company: Company, invoice_ids: list[int]) -> dict[str, Any]:
    """Render and store the PDF of each posted document not frozen yet (the worker's task;
    running it twice stores nothing twice). A document whose template fails is reported and
    the others go on: it is frozen when its template is fixed, or on first use."""
    frozen, already, failed = 0, 0, {}
    done = set(DocumentFile.objects.filter(invoice_id__in=invoice_ids, kind=PDF_KIND)
               .values_list("invoice_id", flat=True))
    for inv in Invoice.objects.filter(company=company, pk__in=invoice_ids).order_by("pk"):
        if inv.pk in done or not inv.is_posted:
            already += 1
            continue
        try:
            invoice_pdf_file(actor=actor, company=company, invoice=inv)
        except DocumentTemplateError as exc:
            failed[inv.number or str(inv.pk)] = exc.message
            continue
        frozen += 1
    return {"frozen": frozen, "already": already, "failed": failed}


def invoice_pdf_bytes(*, company: Company, invoice: Invoice, pdfa: bool = False) -> bytes:
    """The PDF of a posted document, as issued (frozen on first use). It is always a PDF/A-3b,
    so ``pdfa=True`` (what a Factur-X needs) gets the same frozen file."""
    del pdfa  # every frozen PDF is PDF/A-3b already
    return bytes(invoice_pdf_file(actor=None, company=company, invoice=invoice).content)


# ---------------------------------------------------------------- quotes
def quote_context(company: Company, quote: Any) -> dict[str, Any]:

    customer = quote.customer
    language = document_language(customer)
    fmt = Formatter(language, customer.country or company.country)
    line_inputs, charge_inputs = quote_lines(quote), quote_charges(quote)
    totals = compute_invoice_totals(company, quote.currency, line_inputs, charge_inputs)
    snap = build_snapshot(
        number=quote.label, kind="quote", issue_date=quote.issue_date, currency=quote.currency,
        rate=Decimal(1), customer={}, po_number=quote.po_number,
        buyer_reference=quote.buyer_reference, corrects=None, lines=line_inputs, totals=totals,
        charges=charge_inputs)
    return ctx.quote_context(
        ctx.Issuer.of(company), fmt, label_text=quote.label, issued=_issued(customer),
        issue_date=quote.issue_date, valid_until=quote.valid_until, snap=snap,
        terms_name=quote.terms.name if quote.terms_id and quote.terms else "",
        notes=quote.notes)


def quote_pdf_bytes(*, company: Company, number: str) -> bytes:
    """The PDF of a quote (its latest revision, or ``number`` as ``QUO...-R2``)."""

    quote = quote_get(company, number)
    context = quote_context(company, quote)
    return _render(company, "quote", context, title=f"{context['title']} {quote.label}",
                   issued_at=_midnight(company, quote.sent_on or quote.issue_date))


# ---------------------------------------------------------------- statements
def _issued(customer: Customer) -> dict[str, Any]:
    billing = next((a.as_dict() for a in customer.addresses.all() if a.kind == "billing"), None)
    return {"code": customer.code, "name": customer.name, "legal_name": customer.legal_name,
            "tax_id": customer.tax_id, "country": customer.country, "billing_address": billing}


def statement_context(company: Company, customer: Customer, as_of: date) -> dict[str, Any]:
    items = statement_items(company, customer, as_of)
    fmt = Formatter(document_language(customer), customer.country or company.country)
    return ctx.statement_context(ctx.Issuer.of(company), _issued(customer), fmt, as_of=as_of,
                                 items=items, summaries=summarise(items, as_of))


def customer_statement_pdf(*, actor: Actor, company: Company, code: str, as_of: date) -> bytes:
    """A customer's statement of account on ``as_of``: open items, aging, unapplied cash
    and balance per currency."""
    require_role(company, actor, Role.VIEWER)
    customer = customer_get(company, code)
    context = statement_context(company, customer, as_of)
    return _render(company, "statement", context, title=f"{context['title']} {customer.code}",
                   issued_at=_midnight(company, as_of))


def period_statement_context(company: Company, customer: Customer, period: ctx.Period
                             ) -> dict[str, Any]:
    """The statement layout's context for a period (``ctx.Period``, read by the reporting
    app), with the aging on its last day as the statement of that day shows it."""
    items = statement_items(company, customer, period.end)
    fmt = Formatter(document_language(customer), customer.country or company.country)
    return ctx.period_statement_context(ctx.Issuer.of(company), _issued(customer), fmt,
                                        period=period, summaries=summarise(items, period.end))


def period_statement_pdf(*, actor: Actor, company: Company, code: str, period: ctx.Period
                         ) -> bytes:
    """A customer's statement for a period as a PDF, in the statement's layout (the
    company's own when it has one): opening balance, movements, closing balance per currency,
    the aging on the last day."""
    require_role(company, actor, Role.VIEWER)
    customer = customer_get(company, code)
    context = period_statement_context(company, customer, period)
    return _render(company, "statement", context, title=f"{context['title']} {customer.code}",
                   issued_at=_midnight(company, period.end))


# ---------------------------------------------------------------- reminder letters
@dataclass(frozen=True)
class ReminderGroup:
    """The items of a reminder at one level: (number, due date, currency, amount asked)."""

    name: str
    items: tuple[tuple[str, date, str, int], ...]


def _reminder_context(issuer: ctx.Issuer, issued: dict[str, Any], fmt: Formatter, *,
                      as_of: date, title: str, intro: str, groups: Sequence[ReminderGroup],
                      charges: Sequence[tuple[str, int, str]], total: str) -> dict[str, Any]:
    t = labels_for(fmt.language)
    out = ctx.common(issuer, fmt, kind="reminder", title=title)
    out.update({
        "number": issued.get("code", ""), "intro": intro, "total": total,
        "facts": [(t["customer_code"], issued.get("code", "")), (t["date"], fmt.date(as_of))],
        "buyer": ctx.buyer(issued, fmt),
        "groups": [{"name": g.name, "items": [
            {"number": n, "due_date": fmt.date(d), "amount": fmt.money(a, c),
             "days_overdue": str(max(0, (as_of - d).days))} for n, d, c, a in g.items]}
            for g in groups],
        "charges": [(what, fmt.money(amount, cur)) for what, amount, cur in charges],
    })
    return out


def reminder_letter_pdf(*, company: Company, customer: Customer, as_of: date, title: str,
                        intro: str, groups: Sequence[ReminderGroup],
                        charges: Sequence[tuple[str, int, str]], total: str,
                        language: str = "") -> bytes:
    """A reminder as a letter for the post (the ``reminder`` layout): the message's text, the
    items grouped by level, what the reminder charges and the total asked for; in
    ``language`` (that of the text), else the customer's."""
    fmt = Formatter(language or document_language(customer),
                    customer.country or company.country)
    context = _reminder_context(ctx.Issuer.of(company), _issued(customer), fmt, as_of=as_of,
                                title=title, intro=intro, groups=groups, charges=charges,
                                total=total)
    return _render(company, "reminder", context, title=f"{title} {customer.code}",
                   issued_at=_midnight(company, as_of), pdfa=False)


# ---------------------------------------------------------------- customising
def _kind(kind: str) -> str:
    if kind not in DocumentKind.values:
        raise ValidationFailed(f"unknown document kind {kind!r}; use one of "
                               + ", ".join(DocumentKind.values), field="kind")
    return kind


def _language(language: str) -> str:
    value = (language or "").strip().lower()
    if value in ("", "*", "all"):
        return ""
    if value not in LANGUAGES:
        raise ValidationFailed(f"unsupported language {language!r}; use one of "
                               + ", ".join(LANGUAGES) + " (or none for every language)",
                               field="language")
    return value


SAMPLE_NUMBER = "SAMPLE-2099-00042"


def sample_context(company: Company, kind: str, language: str) -> dict[str, Any]:
    """A made-up document of ``kind`` with the company's profile, to try a layout on."""
    fmt = Formatter(language or "en", company.country)
    issuer = ctx.Issuer.of(company)
    cur = company.base_currency
    customer = {"code": "SAMPLE", "name": "Sample Customer", "legal_name": "", "tax_id": "",
                "country": company.country,
                "billing_address": {"line1": "1 Sample Street", "postal_code": "12345",
                                    "city": "Sampletown", "country": company.country}}
    if kind == "reminder":
        return _reminder_context(
            issuer, customer, fmt, as_of=date(2099, 3, 1), title="Reminder",
            intro="Hello,\n\nThe following items are overdue.",
            groups=[ReminderGroup("Level 1", ((SAMPLE_NUMBER, date(2099, 2, 14), cur,
                                               148147),))],
            charges=[], total=fmt.money(148147, cur))
    if kind == "statement":
        items = [ctx.StatementItem("instalment", SAMPLE_NUMBER, date(2099, 1, 15),
                                   date(2099, 2, 14), cur, 148147, 148147)]
        as_of = date(2099, 3, 1)
        return ctx.statement_context(issuer, customer, fmt, as_of=as_of, items=items,
                                     summaries=summarise(items, as_of))
    snap = {
        "number": SAMPLE_NUMBER, "kind": kind, "issue_date": "2099-01-15", "currency": cur,
        "rate": "1", "customer": customer, "po_number": "PO-1", "buyer_reference": "",
        "corrects": "SAMPLE-2098-00001" if kind == "credit_note" else None,
        "payment_reference": creditor_reference(SAMPLE_NUMBER),
        "lines": [{"description": "Sample service", "quantity": "2", "unit_price": "617.28",
                   "discount_percent": "0", "tax_rate": "20", "tax_category": "S",
                   "exemption_reason": "", "unit_code": "C62", "net": 123456, "tax": 24691}],
        "charges": [], "tax_groups": [{"category": "S", "rate": "20", "net": 123456,
                                       "tax": 24691}],
        "net": 123456, "tax": 24691, "total": 148147,
    }
    if kind == "quote":
        return ctx.quote_context(issuer, fmt, label_text=SAMPLE_NUMBER, issued=customer,
                                 issue_date=date(2099, 1, 15), valid_until=date(2099, 2, 14),
                                 snap=snap, terms_name="", notes="")
    return ctx.document_context(
        issuer, snap, fmt, due_date=date(2099, 2, 14), notes="",
        instalments=[ctx.InstalmentRow(date(2099, 2, 14), 148147)], terms_name="",
        corrects_date=date(2098, 12, 1), base_total=148147, base_tax=24691)


def _must_show(kind: str, context: dict[str, Any]) -> list[tuple[str, str]]:
    t = labels_for(context["language"])
    if kind == "statement":
        return [(t["balance"].lower(), context["balance"])]
    if kind == "reminder":
        return [(t["balance"].lower(), context["total"])]
    shown = [(t["number"].lower(), context["number"]), (t["total"].lower(), context["total"])]
    if kind == "invoice":
        shown.append((t["payment_reference"].lower(), context["payment_reference"]))
    return shown


def check_document_template(company: Company, kind: str, language: str, html: str) -> bytes:
    """Compile ``html`` in the sandbox, render a sample document with it and lay it out; it
    must show the document's number and total (and an invoice its payment reference).
    Returns the sample PDF; raises ``DocumentTemplateError`` saying what is wrong."""
    template = compile_template(html, what=f"{kind} template")
    samples = [language] if language else list(LANGUAGES)
    pdf = b""
    for lang in samples:
        context = sample_context(company, kind, lang)
        out = render_html(template, context, what=f"{kind} template")
        for what, value in _must_show(kind, context):
            if value and value not in out:
                raise DocumentTemplateError(
                    f"the {kind} template does not show the {what} ({value} in the sample "
                    f"document, language {lang}); every {kind.replace('_', ' ')} must show it")
        if lang == samples[0]:
            pdf = html_to_pdf(out, title="sample", author=company.name,
                              issued_at=_midnight(company, date(2099, 1, 15)), language=lang)
    return pdf


def document_template_set(*, actor: Actor, company: Company, kind: str, language: str,
                          html: str) -> DocumentTemplate:
    """Replace the layout of ``kind`` for one language (or every language with ``""``).
    Refused, and nothing saved, unless it renders (``check_document_template``)."""
    require_role(company, actor, Role.MANAGER)
    kind, language = _kind(kind), _language(language)
    if not html.strip():
        raise ValidationFailed("the template is empty", field="html")
    check_document_template(company, kind, language, html)
    with transaction.atomic():
        row, created = DocumentTemplate.objects.select_for_update().get_or_create(
            company=company, kind=kind, language=language,
            defaults={"html": html, "updated_by": _user(actor)})
        before = None if created else _digest(row.html)
        if not created:
            row.html, row.updated_by = html, _user(actor)
            row.save(update_fields=["html", "updated_by", "updated_at"])
        audit(company, actor, "document_template.set", "document_template", row.pk,
              kind=kind, language=language or "*", before=before, after=_digest(html))
    return row


def document_template_reset(*, actor: Actor, company: Company, kind: str, language: str) -> bool:
    """Go back to the default layout; returns whether there was an override."""
    return _template_reset(actor, company, DocumentTemplate, "document_template", kind,
                           language, lambda row: _digest(row.html))


def template_name(name: str) -> str:
    """A named text's name: 1 to 40 letters, digits, '-', '_' or '.'; blank: the kind's own
    text."""
    value = (name or "").strip()
    if value and (len(value) > 40 or not all(c.isalnum() or c in "-_." for c in value)):
        raise ValidationFailed(f"a text's name is 1 to 40 letters, digits, '-', '_' or '.', "
                               f"not {name!r}", field="name")
    return value


def message_template_set(*, actor: Actor, company: Company, kind: str, language: str,
                         subject: str, body: str, name: str = "") -> MessageTemplate:
    """Replace the e-mail subject and body sent with ``kind`` (one language, or all);
    ``name``: a named text of the kind instead (a dunning level's), in one of its versions."""
    require_role(company, actor, Role.MANAGER)
    kind, language, name = _kind(kind), _language(language), template_name(name)
    subject = subject.strip()
    if not subject or not body.strip():
        raise ValidationFailed("an e-mail needs a subject and a body", field="subject")
    if "\n" in subject or "\r" in subject or len(subject) > 200:
        raise ValidationFailed("the subject must be one line of at most 200 characters",
                               field="subject")
    check_text(kind, subject, what=f"{kind} e-mail subject")
    check_text(kind, body, what=f"{kind} e-mail body")
    with transaction.atomic():
        row, created = MessageTemplate.objects.select_for_update().get_or_create(
            company=company, kind=kind, name=name, language=language,
            defaults={"subject": subject, "body": body, "updated_by": _user(actor)})
        before = None if created else {"subject": row.subject, "body": row.body}
        if not created:
            row.subject, row.body, row.updated_by = subject, body, _user(actor)
            row.save(update_fields=["subject", "body", "updated_by", "updated_at"])
        audit(company, actor, "message_template.set", "message_template", row.pk, kind=kind,
              name=name, language=language or "*", before=before,
              after={"subject": subject, "body": body})
    return row


def message_template_reset(*, actor: Actor, company: Company, kind: str, language: str,
                           name: str = "") -> bool:
    """Go back to the default e-mail text (``name``: remove that version of a named text)."""
    return _template_reset(actor, company, MessageTemplate, "message_template", kind,
                           language, lambda row: {"subject": row.subject, "body": row.body},
                           {"name": template_name(name)})


def _template_reset(actor: Actor, company: Company, model: Any, name: str, kind: str,
                    language: str, before: Callable[[Any], Any],
                    named: dict[str, str] | None = None) -> bool:
    """Delete the company's override of ``kind`` for one language (or every language with
    ``""``) and audit what it was; returns whether there was one."""
    require_role(company, actor, Role.MANAGER)
    kind, language = _kind(kind), _language(language)
    with transaction.atomic():
        row = model.objects.filter(company=company, kind=kind, language=language,
                                   **(named or {})).first()
        if row is None:
            return False
        audit(company, actor, f"{name}.reset", name, row.pk, kind=kind,
              language=language or "*", before=before(row), **(named or {}))
        row.delete()
    return True


def default_message(kind: str, language: str) -> tuple[str, str]:
    return DEFAULTS[_kind(kind)].get(_language(language) or "en") or DEFAULTS[kind]["en"]


def _user(actor: Actor) -> Any:
    return actor_row(actor)


def _digest(text: str) -> dict[str, Any]:
    return {"sha256": hashlib.sha256(text.encode()).hexdigest(), "chars": len(text)}


# Delivery lives in its own module; these are the names other apps look up here.

__all__ = [
    "PLACEHOLDERS", "check_document_template", "customer_statement_pdf",
    "period_statement_pdf",
"document_template_reset", "document_template_set",
    "format_reference", "invoice_pdf_bytes", "invoice_pdf_file",
    "message_template_reset", "message_template_set", "quote_pdf_bytes",
]
