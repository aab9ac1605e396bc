"""Read-side of documents: which language, which layout, which e-mail text, who receives it,
and the open items a statement lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from salesledger.apps.core.models import Company
from salesledger.apps.customers.models import Customer
from salesledger.apps.payments.selectors import open_items
from salesledger.domain.statement import StatementItem

from .labels import LANGUAGES, country_language, normalise_language, pick_language
from .messages import DEFAULTS
from .models import DocumentTemplate, MessageTemplate


def billing_contacts(customer: Customer) -> list[Any]:
    return [c for c in customer.contacts.all() if "billing" in c.role_list()]


def document_language(customer: Customer, frozen: str = "") -> str:
    """The language a document for ``customer`` is written in: the one frozen with the
    document when it was posted, else the customer's, else the first billing contact's that
    is supported, else English."""
    if normalise_language(frozen):
        return normalise_language(frozen)
    if normalise_language(customer.language):
        return normalise_language(customer.language)
    return pick_language(c.language for c in billing_contacts(customer))


def billing_recipients(customer: Customer) -> list[str]:
    """The e-mail addresses documents go to: the billing contacts', else the customer's own
    address; in order, without repeats."""
    found: list[str] = []
    for contact in billing_contacts(customer):
        email = (contact.email or "").strip()
        if email and email.lower() not in {x.lower() for x in found}:
            found.append(email)
    if not found and (customer.email or "").strip():
        found.append(customer.email.strip())
    return found


def document_template_override(company: Company, kind: str, language: str
                               ) -> DocumentTemplate | None:
    """The company's own layout for ``kind``: for the language, else for every language."""
    rows = {t.language: t for t in DocumentTemplate.objects.filter(
        company=company, kind=kind, language__in=[language, ""])}
    return rows.get(language) or rows.get("")


def document_template_source(company: Company, kind: str, language: str) -> tuple[str, str]:
    """(template text, where it comes from) of the layout in effect."""
    override = document_template_override(company, kind, language)
    if override is not None:
        return override.html, f"the company's {kind} template ({override.language or 'all'})"
    # Imported here: the selectors are read by apps that never print (dunning's, at start-up),
    # and a read command must not load the rendering stack (tests/cli/test_startup.py).
    from .rendering import default_source

    return default_source(kind), f"the default {kind} template"


def message_texts(company: Company, kind: str, language: str) -> tuple[str, str, str]:
    """(subject, body, where they come from) of the e-mail in effect for ``kind``."""
    rows = {t.language: t for t in MessageTemplate.objects.filter(
        company=company, kind=kind, name="", language__in=[language, ""])}
    row = rows.get(language) or rows.get("")
    if row is not None:
        return row.subject, row.body, f"the company's {kind} e-mail ({row.language or 'all'})"
    subject, body = DEFAULTS[kind].get(language) or DEFAULTS[kind]["en"]
    return subject, body, f"the default {kind} e-mail"


@dataclass(frozen=True)
class NamedTexts:
    """A named text of a kind as it reaches one customer: the version picked and its
    language (what the rest of the message is written in)."""

    subject: str
    body: str
    source: str
    language: str


def named_message_texts(company: Company, kind: str, name: str, language: str) -> NamedTexts:
    """The text ``name`` of ``kind`` for a customer whose language is ``language``: its
    version in that language, else in the company's language (its country's,
    ``country_language``), else its version for every language; a text with no version at
    all, or no name, is the kind's own text in the customer's language
    (``message_texts``). One query."""
    return named_message_texts_each(company, kind, name, [language])[language]


def named_message_texts_each(company: Company, kind: str, name: str,
                             languages: list[str]) -> dict[str, NamedTexts]:
    """``named_message_texts`` for a customer of each of ``languages``, in one query (the
    named text's versions and the kind's own texts are a few rows)."""
    own = country_language(company.country)
    rows = {(t.name, t.language): t for t in MessageTemplate.objects.filter(
        company=company, kind=kind, name__in={name, ""})}
    out = {}
    for language in languages:
        picked = None
        if name:
            picked = next(((lang, rows[(name, lang)]) for lang in (language, own, "")
                           if (name, lang) in rows), None)
        if picked is not None:
            lang, row = picked
            out[language] = NamedTexts(row.subject, row.body,
                                       f"the company's {kind} text {name} ({lang or 'all'})",
                                       lang or language)
            continue
        row = rows.get(("", language)) or rows.get(("", ""))
        if row is not None:
            out[language] = NamedTexts(row.subject, row.body, f"the company's {kind} e-mail "
                                       f"({row.language or 'all'})", language)
            continue
        subject, body = DEFAULTS[kind].get(language) or DEFAULTS[kind]["en"]
        out[language] = NamedTexts(subject, body, f"the default {kind} e-mail", language)
    return out


def named_texts_list(company: Company, kind: str, names: list[str]) -> dict[str, list[str]]:
    """The languages each named text of ``kind`` has a version in ("" for every language)."""
    out: dict[str, list[str]] = {n: [] for n in names}
    for name, lang in (MessageTemplate.objects.filter(company=company, kind=kind,
                                                      name__in=names)
                       .order_by("name", "language").values_list("name", "language")):
        out[name].append(lang)
    return out


def template_overrides(company: Company) -> list[dict[str, Any]]:
    """Every layout and e-mail text the company has replaced."""
    out = [{"type": "document", "kind": t.kind, "name": "", "language": t.language or "*",
            "size": len(t.html), "updated_at": t.updated_at.isoformat()}
           for t in DocumentTemplate.objects.filter(company=company).order_by("kind", "language")]
    out += [{"type": "message", "kind": t.kind, "name": t.name, "language": t.language or "*",
             "size": len(t.subject) + len(t.body), "updated_at": t.updated_at.isoformat()}
            for t in MessageTemplate.objects.filter(company=company).order_by("kind", "name",
                                                                              "language")]
    return out


def statement_items(company: Company, customer: Customer, as_of: date) -> list[StatementItem]:
    """A customer's open items on ``as_of`` (``payments.selectors.open_items``), oldest
    first within each kind."""
    return [StatementItem(kind=r["type"], document=r["document"] or "", date=r["date"],
                          due_date=r["due_date"], currency=r["currency"], amount=r["amount"],
                          open=r["open"])
            for r in open_items(company, customer_id=customer.pk, as_of=as_of)]


def company_profile(company: Company) -> dict[str, Any]:
    """What documents print about the company (the logo by its type and size)."""
    fields = ("code", "name", "legal_name", "tax_id", "registration_id", "address_line1",
              "address_line2", "postal_code", "city", "country", "email", "phone", "website",
              "iban", "bic", "brand_color", "document_footer", "legal_mentions",
              "future_date_horizon_days", "record_review_days")
    out: dict[str, Any] = {f: getattr(company, f) for f in fields}
    out["peppol"] = "yes" if company.sends_peppol else "no"
    logo = bytes(company.logo) if company.logo else b""
    out["logo"] = f"{company.logo_mime}, {len(logo):,} bytes" if logo else ""
    return out


SUPPORTED_LANGUAGES = LANGUAGES
