"""Customer records: create, change, contacts, addresses, bank accounts, verification."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from salesledger.apps.core import events
from salesledger.apps.core.actors import Actor, actor_row
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import require_role
from salesledger.domain.countries import check_country
from salesledger.domain.errors import (
    CustomerAnonymised,
    DuplicateCode,
    NotFound,
    UnknownCustomer,
    ValidationFailed,
)
from salesledger.domain.identifiers import (
    check_not_own_tax_id,
    normalise_iban,
    normalise_tax_id,
)
from salesledger.domain.party_ids import check_mandate, parse_endpoint, parse_legal_id
from salesledger.domain.terms import Terms
from salesledger.money import Money, is_currency

from .duplicates import duplicates_changed
from .models import (
    Address,
    AddressKind,
    BankAccount,
    Contact,
    ContactRole,
    Customer,
    PaymentTerms,
)


@dataclass
class AddressInput:
    line1: str
    city: str
    country: str
    postal_code: str = ""
    line2: str = ""
    region: str = ""


@dataclass
class ContactInput:
    name: str
    email: str = ""
    phone: str = ""
    roles: tuple[str, ...] = ("billing",)
    language: str = ""


@dataclass
class BankAccountInput:
    iban: str
    bic: str = ""
    holder: str = ""


@dataclass
class CustomerInput:
    code: str
    name: str
    currency: str = ""
    legal_name: str = ""
    tax_id: str = ""
    country: str = ""
    language: str = "en"
    email: str = ""
    phone: str = ""
    terms_code: str = ""
    credit_limit: str = ""  # decimal text in the customer's currency
    parent_code: str = ""
    po_required: bool = False
    notes: str = ""
    # How e-invoices identify the customer: its registration number (``732829320``, or
    # ``0009:73282932000074`` with its ICD scheme), its electronic address (``SCHEME:ID``,
    # a Peppol participant id), and the SEPA mandate its invoices are debited under.
    legal_id: str = ""
    endpoint: str = ""
    mandate_reference: str = ""
    mandate_signed: date | None = None
    billing: AddressInput | None = None
    shipping: AddressInput | None = None
    contacts: list[ContactInput] = field(default_factory=list)
    bank_accounts: list[BankAccountInput] = field(default_factory=list)


def payment_terms_find(company: Company, code: str) -> PaymentTerms | None:
    """The company's payment terms with this code; none for an empty code; else not found."""
    if not code:
        return None
    terms = PaymentTerms.objects.filter(company=company, code=code).first()
    if terms is None:
        raise NotFound(f"no payment terms {code!r}", field="terms")
    return terms


# The longest a term may run: ten years, far beyond any real terms, far from date limits.
MAX_TERM_DAYS = 3660


def payment_terms_create(*, actor: Actor, company: Company, code: str, name: str,
                         terms: Terms) -> PaymentTerms:
    """Add payment terms to the company: ``terms`` (checked by the pure core when built,
    e.g. with ``domain.terms.parse_terms``) under a new ``code``. Audited."""
    require_role(company, actor, Role.MANAGER)
    code, name = _terms_checked(code, name, terms)
    with transaction.atomic():
        if PaymentTerms.objects.filter(company=company, code=code).exists():
            raise DuplicateCode(f"payment terms {code!r} already exist", code_value=code,
                                field="code")
        row = PaymentTerms.objects.create(
            company=company, code=code, name=name, lines=terms_lines(terms),
            discount_percent=terms.discount_percent, discount_days=terms.discount_days)
        audit(company, actor, "payment_terms.create", "payment_terms", row.pk,
              after={"code": code, "name": name, "lines": row.lines,
                     "discount_percent": str(terms.discount_percent),
                     "discount_days": terms.discount_days})
    return row


def _terms_checked(code: str, name: str, terms: Terms) -> tuple[str, str]:
    code, name = code.strip(), name.strip()
    if not code:
        raise ValidationFailed("payment terms need a code", field="code")
    if len(code) > PaymentTerms._meta.get_field("code").max_length or any(
            c.isspace() for c in code):
        raise ValidationFailed(f"terms code {code!r} must be one word of at most "
                               f"{PaymentTerms._meta.get_field('code').max_length} characters",
                               field="code")
    if not name:
        raise ValidationFailed("payment terms need a name (what documents print)", field="name")
    if len(name) > PaymentTerms._meta.get_field("name").max_length:
        raise ValidationFailed(f"the name is longer than "
                               f"{PaymentTerms._meta.get_field('name').max_length} characters",
                               field="name")
    if any(line.days > MAX_TERM_DAYS for line in terms.lines) or (
            terms.discount_days > MAX_TERM_DAYS):
        raise ValidationFailed(f"payment terms run at most {MAX_TERM_DAYS} days", field="days")
    return code, name


def payment_terms_update(*, actor: Actor, company: Company, code: str, name: str,
                         terms: Terms) -> PaymentTerms:
    """Change the name and the schedule of the payment terms ``code``, checked as when
    created. What was issued keeps its instalments (they were computed when posted); the
    new schedule applies to documents written from now on. Audited with before and after."""
    require_role(company, actor, Role.MANAGER)
    code, name = _terms_checked(code, name, terms)
    with transaction.atomic():
        row = PaymentTerms.objects.select_for_update().filter(company=company, code=code).first()
        if row is None:
            raise NotFound(f"no payment terms {code!r}", field="terms")
        before = {"name": row.name, "lines": row.lines,
                  "discount_percent": str(row.discount_percent),
                  "discount_days": row.discount_days}
        row.name, row.lines = name, terms_lines(terms)
        row.discount_percent, row.discount_days = terms.discount_percent, terms.discount_days
        after = {"name": row.name, "lines": row.lines,
                 "discount_percent": str(terms.discount_percent),
                 "discount_days": terms.discount_days}
        if after != before:
            row.save(update_fields=["name", "lines", "discount_percent", "discount_days"])
            audit(company, actor, "payment_terms.update", "payment_terms", row.pk,
                  before=before, after=after)
    return row


def terms_lines(terms: Terms) -> list[dict[str, Any]]:
    """Terms as the ``PaymentTerms.lines`` JSON stores them."""
    return [{"percent": format(line.percent.normalize(), "f"), "days": line.days,
             "end_of_month": line.end_of_month} for line in terms.lines]


def build_customer(
    company: Company,
    data: CustomerInput,
    parents: dict[str, Customer] | None = None,
    terms: dict[str, PaymentTerms] | None = None,
) -> Customer:
    """Validate ``data`` and return an unsaved Customer (shared by the form, CLI and import)."""
    if not data.code.strip():
        raise ValidationFailed("customer code is required", field="code")
    if not data.name.strip():
        raise ValidationFailed("customer name is required", field="name")
    currency = (data.currency or company.base_currency).upper()
    if not is_currency(currency):
        raise ValidationFailed(f"unknown currency {data.currency!r}", field="currency")
    country = check_country(data.country or (data.billing.country if data.billing else ""))
    for kind, address in (("billing", data.billing), ("shipping", data.shipping)):
        if address is not None:
            check_country(address.country, field=f"{kind}_country")
    tax_id = normalise_tax_id(data.tax_id, country)
    check_not_own_tax_id(tax_id, country, own_tax_id=company.tax_id,
                         own_country=company.country)
    for kind, address in (("billing", data.billing), ("shipping", data.shipping)):
        if address is not None:
            check_address(address, kind)
    limit = parse_credit_limit(data.credit_limit, currency)
    parent = None
    if data.parent_code:
        parent = (parents or {}).get(data.parent_code) or Customer.objects.filter(
            company=company, code=data.parent_code
        ).first()
        if parent is None:
            raise NotFound(f"no parent customer {data.parent_code!r}", field="parent")
    term_obj = (terms or {}).get(data.terms_code) if terms is not None and data.terms_code else None
    if data.terms_code and term_obj is None:
        term_obj = payment_terms_find(company, data.terms_code)
    for c in data.contacts:
        bad = set(c.roles) - set(ContactRole.values)
        if bad:
            raise ValidationFailed(f"unknown contact role {sorted(bad)[0]!r}", field="contacts")
    legal_id, legal_scheme = parse_legal_id(data.legal_id, country)
    endpoint_scheme, endpoint_id = parse_endpoint(data.endpoint)
    mandate = check_mandate(data.mandate_reference)
    if mandate:
        check_direct_debit(company, has_account=bool(data.bank_accounts))
    return Customer(
        company=company,
        code=data.code.strip(),
        name=data.name.strip(),
        legal_name=data.legal_name.strip(),
        tax_id=tax_id,
        country=country,
        currency=currency,
        language=data.language or "en",
        email=data.email,
        phone=data.phone,
        payment_terms=term_obj,
        credit_limit=limit,
        parent=parent,
        po_required=data.po_required,
        notes=data.notes,
        legal_id=legal_id,
        legal_id_scheme=legal_scheme,
        endpoint_scheme=endpoint_scheme,
        endpoint_id=endpoint_id,
        mandate_reference=mandate,
        mandate_signed=data.mandate_signed if mandate else None,
    )


def check_direct_debit(company: Company, *, has_account: bool) -> None:
    """A customer whose invoices are collected by direct debit needs a bank account to debit
    (EN 16931 BT-91), and the company its SEPA creditor identifier (BT-90)."""
    if not company.creditor_id:
        raise ValidationFailed("a direct-debit mandate needs the company's SEPA creditor "
                               "identifier: set it first (company set --creditor-id)",
                               field="mandate")
    if not has_account:
        raise ValidationFailed("a direct-debit mandate needs the customer's bank account to "
                               "debit: give its IBAN (--iban)", field="mandate")


def customer_children(
    company: Company, customer: Customer, data: CustomerInput
) -> tuple[list[Address], list[Contact], list[BankAccount]]:
    addresses = [
        Address(
            company=company,
            customer=customer,
            kind=kind,
            line1=a.line1,
            line2=a.line2,
            postal_code=a.postal_code,
            city=a.city,
            region=a.region,
            country=a.country.upper(),
        )
        for kind, a in (("billing", data.billing), ("shipping", data.shipping))
        if a
    ]
    contacts = [
        Contact(
            company=company,
            customer=customer,
            name=c.name,
            email=c.email,
            phone=c.phone,
            roles=",".join(c.roles),
            language=c.language,
        )
        for c in data.contacts
    ]
    accounts = []
    for b in data.bank_accounts:
        iban, bic = normalise_iban(b.iban, b.bic)
        accounts.append(
            BankAccount(
                company=company,
                customer=customer,
                iban=iban,
                bic=bic,
                holder=b.holder or customer.name,
            )
        )
    return addresses, contacts, accounts


def customer_create(*, actor: Actor, company: Company, data: CustomerInput) -> Customer:
    require_role(company, actor, Role.CLERK)
    customer = build_customer(company, data)
    if Customer.objects.filter(company=company, code=customer.code).exists():
        raise DuplicateCode(
            f"customer code {customer.code!r} is already used", code_value=customer.code
        )
    with transaction.atomic():
        customer.save()
        addresses, contacts, accounts = customer_children(company, customer, data)
        _check_ibans_free(company, [a.iban for a in accounts])
        Address.objects.bulk_create(addresses)
        Contact.objects.bulk_create(contacts)
        BankAccount.objects.bulk_create(accounts)
        audit(
            company,
            actor,
            "customer.create",
            "customer",
            customer.pk,
            after=customer_snapshot(customer),
        )
        duplicates_changed(company)
    return customer


def _check_ibans_free(company: Company, ibans: list[str]) -> None:
    taken = (
        BankAccount.objects.filter(company=company, iban__in=ibans)
        .select_related("customer")
        .first()
    )
    if taken:
        raise DuplicateCode(
            f"IBAN {taken.iban} already belongs to customer {taken.customer.code}", iban=taken.iban
        )


def parse_credit_limit(text: str, currency: str) -> int | None:
    """A credit limit typed as decimal text, in minor units; blank is no limit."""
    if not str(text).strip():
        return None
    try:
        limit = Money.of(str(text).strip(), currency).round().minor()
    except (ValueError, ArithmeticError):
        raise ValidationFailed(
            f"credit limit {text!r} is not an amount", field="credit_limit"
        ) from None
    if limit < 0:
        raise ValidationFailed("credit limit cannot be negative", field="credit_limit")
    if limit >= 10**15:
        raise ValidationFailed(f"credit limit {text} is too large", field="credit_limit")
    return limit


EDITABLE = (
    "name",
    "legal_name",
    "tax_id",
    "country",
    "language",
    "email",
    "phone",
    "po_required",
    "notes",
    "credit_limit",
    "legal_id",
    "endpoint",
    "mandate_reference",
    "mandate_signed",
)


# What duplicate detection reads of a customer (selectors.duplicate_customers): a change to
# one of them marks the kept pairs behind (duplicates.py).
DUPLICATE_FIELDS = frozenset({"name", "legal_name", "tax_id", "country"})


def customer_update(*, actor: Actor, company: Company, code: str, **changes: Any) -> Customer:
    require_role(company, actor, Role.CLERK)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(f"cannot change {sorted(unknown)} here")
    with transaction.atomic():
        customer = _customer_locked(company, code, writes="change its record")
        before = customer_snapshot(customer)
        if "country" in changes:
            changes["country"] = check_country(str(changes["country"]))
            if not changes["country"]:
                raise ValidationFailed("country cannot be cleared; give an ISO 3166-1 "
                                       "two-letter code", field="country")
        if "tax_id" in changes or "country" in changes:
            country = changes.get("country", customer.country)
            tax_id = normalise_tax_id(changes.get("tax_id", customer.tax_id), country)
            check_not_own_tax_id(tax_id, country, own_tax_id=company.tax_id,
                                 own_country=company.country)
            if "tax_id" in changes:
                changes["tax_id"] = tax_id
        if "legal_id" in changes:
            changes["legal_id"], changes["legal_id_scheme"] = parse_legal_id(
                str(changes["legal_id"] or ""), changes.get("country", customer.country))
        if "endpoint" in changes:
            changes["endpoint_scheme"], changes["endpoint_id"] = parse_endpoint(
                str(changes.pop("endpoint") or ""))
        if "mandate_reference" in changes:
            changes["mandate_reference"] = check_mandate(str(changes["mandate_reference"] or ""))
            if changes["mandate_reference"]:
                check_direct_debit(company, has_account=customer.bank_accounts.exists())
        if "credit_limit" in changes and not isinstance(changes["credit_limit"], int):
            changes["credit_limit"] = parse_credit_limit(
                changes["credit_limit"] or "", customer.currency or company.base_currency)
        if "name" in changes and not str(changes["name"]).strip():
            raise ValidationFailed("a customer needs a name", field="name")
        # Only what differs is written and audited: an edit form sends every field, and a
        # field given its current value is not a change (nor a confirmation: that is
        # ``customer_verify``).
        changed = [k for k, v in changes.items() if getattr(customer, k) != v]
        retrusted = "email" in changes and customer.email_doubtful_at is not None
        if not changed and not retrusted:
            return customer
        for k in changed:
            setattr(customer, k, changes[k])
        _stamp(customer, actor)
        fields = [*changed, "verified_at", "verified_by"]
        if retrusted:  # a new (or retyped) address is trusted again
            customer.email_doubtful_at, customer.email_doubtful_reason = None, ""
            fields += ["email_doubtful_at", "email_doubtful_reason"]
        customer.save(update_fields=fields)
        after = customer_snapshot(customer)
        keys = [k for k in after if after[k] != before.get(k)]
        audit(
            company,
            actor,
            "customer.update",
            "customer",
            customer.pk,
            before={k: before.get(k) for k in keys},
            after={k: after[k] for k in keys},
            fields=sorted(changed),
            **({"email_trusted_again": True} if retrusted else {}),
        )
        if DUPLICATE_FIELDS & set(changed):
            duplicates_changed(company)
        if "name" in changed:
            events.publish(events.CustomerRenamed(
                company_id=company.pk, actor=actor, customer_id=customer.pk,
                code=customer.code, name=customer.name))
    return customer


ADDRESS_FIELDS = ("line1", "line2", "postal_code", "city", "region", "country")


def check_address(address: AddressInput, kind: str) -> None:
    """What an address needs wherever it is written (add, update, the CSV import, the
    back office): a first line and a city, and an ISO 3166-1 country (EN 16931 BT-55)."""
    if not address.line1.strip():
        raise ValidationFailed(f"the {kind} address needs its first line", field=f"{kind}_line1")
    if not address.city.strip():
        raise ValidationFailed(f"the {kind} address needs a city", field=f"{kind}_city")
    check_country(address.country, field=f"{kind}_country")
    if not address.country.strip():
        raise ValidationFailed(f"the {kind} address needs a country", field=f"{kind}_country")


def customer_address_set(*, actor: Actor, company: Company, code: str, kind: str = "billing",
                         **changes: str) -> Address:
    """Change a customer's billing or shipping address: the fields given (``line1``,
    ``line2``, ``postal_code``, ``city``, ``region``, ``country``) replace those stored; a
    customer without an address of that kind gets one (its country defaults to the
    customer's). Checked as ``customer_create`` checks an address; audited. Documents
    posted before keep the address they were issued with (their snapshot)."""
    require_role(company, actor, Role.CLERK)
    if kind not in AddressKind.values:
        raise ValidationFailed(f"unknown address kind {kind!r}; use billing or shipping",
                               field="kind")
    unknown = set(changes) - set(ADDRESS_FIELDS)
    if unknown:
        raise ValidationFailed(f"cannot change {sorted(unknown)} of an address")
    with transaction.atomic():
        customer = _customer_locked(company, code, writes=f"set its {kind} address")
        row = Address.objects.filter(customer=customer, kind=kind).first()
        before = row.as_dict() if row else None
        empty = {**dict.fromkeys(ADDRESS_FIELDS, ""),
                 "country": customer.country or company.country}
        merged = {**(before or empty), **{k: str(v).strip() for k, v in changes.items()}}
        merged["country"] = merged["country"].upper()
        check_address(AddressInput(**merged), kind)
        if row is None:
            row = Address(company=company, customer=customer, kind=kind)
        for k, v in merged.items():
            setattr(row, k, v)
        row.save()
        _stamp(customer, actor)
        customer.save(update_fields=["verified_at", "verified_by"])
        audit(company, actor, "customer.address", "customer", customer.pk, kind=kind,
              before=before, after=row.as_dict())
    return row


def customer_verify(*, actor: Actor, company: Company, code: str, at: datetime) -> Customer:
    """Record that someone confirmed the customer's record is accurate: the record is stamped
    (when, who) and its doubtful e-mail addresses are trusted again (the person confirming
    checked them); the audit event names the addresses cleared."""
    require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        customer = _customer_locked(company, code)
        cleared = _doubtful_emails(customer)
        _stamp(customer, actor, at)
        customer.email_doubtful_at, customer.email_doubtful_reason = None, ""
        customer.save(update_fields=["verified_at", "verified_by", "email_doubtful_at",
                                     "email_doubtful_reason"])
        Contact.objects.filter(customer=customer, doubtful_at__isnull=False).update(
            doubtful_at=None, doubtful_reason="")
        audit(company, actor, "customer.verify", "customer", customer.pk, at=at.isoformat(),
              doubtful_cleared=cleared)
    return customer


def _stamp(customer: Customer, actor: Actor, at: datetime | None = None) -> None:
    """Stamp the record as confirmed now by ``actor`` (an edit is a confirmation of what was
    typed); the caller saves."""
    customer.verified_at = at or timezone.now()
    customer.verified_by = actor_row(actor)


def _doubtful_emails(customer: Customer) -> list[str]:
    out = [customer.email] if customer.email_doubtful_at else []
    out += list(Contact.objects.filter(customer=customer, doubtful_at__isnull=False)
                .order_by("pk").values_list("email", flat=True))
    return out


def emails_mark_doubtful(*, actor: Actor, company: Company, customer_id: int,
                         refused: dict[str, str], communication_id: int) -> list[str]:
    """A message to the customer bounced hard for the addresses of ``refused`` (address ->
    the mail server's answer): the contacts with those addresses, and the customer's own
    address if it is one, become doubtful until edited or confirmed. Audited with the
    communication that bounced; returns the addresses marked. Called by the documents app
    when it records a delivery's outcome (documents/delivery.py)."""
    if not refused:
        return []
    at = timezone.now()
    wanted = {a.strip().lower(): reason for a, reason in refused.items()}
    marked: list[str] = []
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(company=company, pk=customer_id)
        for contact in Contact.objects.filter(customer=customer).order_by("pk"):
            reason = wanted.get(contact.email.strip().lower())
            if reason is not None:
                contact.doubtful_at, contact.doubtful_reason = at, reason
                contact.save(update_fields=["doubtful_at", "doubtful_reason"])
                marked.append(contact.email)
        reason = wanted.get(customer.email.strip().lower()) if customer.email else None
        if reason is not None:
            customer.email_doubtful_at, customer.email_doubtful_reason = at, reason
            customer.save(update_fields=["email_doubtful_at", "email_doubtful_reason"])
            if customer.email not in marked:
                marked.append(customer.email)
        if marked:
            audit(company, actor, "customer.email_doubtful", "customer", customer.pk,
                  emails=marked, communication=communication_id)
    return marked


def contact_update(*, actor: Actor, company: Company, code: str, email: str = "",
                   changes: ContactInput, contact_id: int | None = None) -> Contact:
    """Change the contact of customer ``code`` named by its e-mail address ``email``, or by
    its id ``contact_id`` (a contact without an address has only that): name, e-mail,
    phone, roles and language as given in ``changes``. The contact is trusted again (no
    longer doubtful) and the customer's record stamped. Audited with before and after."""
    require_role(company, actor, Role.CLERK)
    bad = set(changes.roles) - set(ContactRole.values)
    if bad:
        raise ValidationFailed(f"unknown contact role {sorted(bad)[0]!r}", field="roles")
    with transaction.atomic():
        customer = _customer_locked(company, code, writes="change a contact")
        row = _contact_named(customer, email, contact_id)
        before = _contact_dict(row)
        row.name = changes.name or row.name
        row.email, row.phone = changes.email or row.email, changes.phone or row.phone
        row.roles = ",".join(changes.roles) or row.roles
        row.language = changes.language or row.language
        row.doubtful_at, row.doubtful_reason = None, ""
        row.save()
        _stamp(customer, actor)
        customer.save(update_fields=["verified_at", "verified_by"])
        audit(company, actor, "customer.contact_update", "customer", customer.pk,
              before=before, after=_contact_dict(row))
    return row


def contact_remove(*, actor: Actor, company: Company, code: str, email: str = "",
                   contact_id: int | None = None) -> dict[str, Any]:
    """Remove the contact of customer ``code`` named by its e-mail address ``email``, or by
    its id ``contact_id`` (the customer's person left, or the address was never theirs):
    its row is deleted, audited with what it held (``customer.contact_remove``), and the
    customer's record stamped as confirmed, as any edit of it is. Documents already sent
    keep the addresses they went to (the communications); later ones go to the contacts
    left, else the customer's own address. Returns what the contact held."""
    require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        customer = _customer_locked(company, code)
        row = _contact_named(customer, email, contact_id)
        before = _contact_dict(row)
        row.delete()
        _stamp(customer, actor)
        customer.save(update_fields=["verified_at", "verified_by"])
        audit(company, actor, "customer.contact_remove", "customer", customer.pk,
              before=before)
    return before


def _contact_named(customer: Customer, email: str, contact_id: int | None) -> Contact:
    """The customer's contact of id ``contact_id``, else of e-mail address ``email`` (case
    ignored, the first if two share it); a contact of another customer is not found."""
    wanted = (email or "").strip()
    contacts = Contact.objects.filter(customer=customer).order_by("pk")
    if contact_id is not None:
        row = contacts.filter(pk=contact_id).first()
        what, field = f"id {contact_id}", "contact"
    elif wanted:
        row = contacts.filter(email__iexact=wanted).first()
        what, field = f"e-mail address {wanted!r}", "email"
    else:
        raise ValidationFailed("name the contact by its e-mail address or its id",
                               field="email")
    if row is None:
        held = ", ".join(f"{c.pk} {c.email or c.name}" for c in contacts) or "none"
        raise NotFound(f"customer {customer.code} has no contact with {what} (its contacts: "
                       f"{held})", field=field)
    return row


def _contact_dict(c: Contact) -> dict[str, Any]:
    return {"name": c.name, "email": c.email, "phone": c.phone, "roles": c.roles,
            "language": c.language, "doubtful": c.doubtful_at is not None}


def bank_account_add(
    *, actor: Actor, company: Company, code: str, account: BankAccountInput
) -> BankAccount:
    require_role(company, actor, Role.CLERK)
    iban, bic = normalise_iban(account.iban, account.bic)
    _check_ibans_free(company, [iban])
    with transaction.atomic():
        customer = _customer_locked(company, code, writes="add a bank account")
        row = BankAccount.objects.create(
            company=company,
            customer=customer,
            iban=iban,
            bic=bic,
            holder=account.holder or customer.name,
        )
        _stamp(customer, actor)
        customer.save(update_fields=["verified_at", "verified_by"])
        audit(company, actor, "customer.bank_account_add", "customer", customer.pk, iban=iban)
        duplicates_changed(company)
    return row


def bank_account_remove(*, actor: Actor, company: Company, code: str, iban: str) -> str:
    """The customer no longer pays from ``iban`` (closed, or never its own): the account is
    removed, audited with what it held, and ``CustomerBankAccountRemoved`` lets the apps
    above forget it as the customer's (the payer IBANs the matcher learned). The last account
    of a customer with a direct-debit mandate is kept: the mandate debits it (add the new
    account first, or clear the mandate). Returns the IBAN removed, as stored."""
    require_role(company, actor, Role.CLERK)
    wanted = re.sub(r"\s", "", iban or "").upper()
    with transaction.atomic():
        customer = _customer_locked(company, code)
        accounts = list(customer.bank_accounts.order_by("pk"))
        row = next((a for a in accounts if a.iban == wanted), None)
        if row is None:
            held = ", ".join(a.iban for a in accounts) or "none"
            raise NotFound(f"customer {customer.code} has no bank account {wanted or iban!r} "
                           f"(its IBANs: {held})", field="iban")
        if customer.mandate_reference and len(accounts) == 1:
            raise ValidationFailed(
                f"{row.iban} is the account direct-debit mandate {customer.mandate_reference} "
                f"debits: add the new account first (customer add-iban {customer.code} IBAN), "
                f"or clear the mandate (customer update {customer.code} --mandate '')",
                field="iban")
        before = {"iban": row.iban, "bic": row.bic, "holder": row.holder}
        row.delete()
        _stamp(customer, actor)  # an edit of the record confirms it, as adding one does
        customer.save(update_fields=["verified_at", "verified_by"])
        audit(company, actor, "customer.bank_account_remove", "customer", customer.pk,
              before=before, iban=wanted)
        events.publish(events.CustomerBankAccountRemoved(
            company_id=company.pk, actor=actor, customer_id=customer.pk, code=customer.code,
            iban=wanted))
        duplicates_changed(company)
    return wanted


def contact_add(*, actor: Actor, company: Company, code: str, contact: ContactInput) -> Contact:
    require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        customer = _customer_locked(company, code, writes="add a contact")
        row = Contact.objects.create(
            company=company,
            customer=customer,
            name=contact.name,
            email=contact.email,
            phone=contact.phone,
            roles=",".join(contact.roles),
            language=contact.language,
        )
        _stamp(customer, actor)
        customer.save(update_fields=["verified_at", "verified_by"])
        audit(
            company,
            actor,
            "customer.contact_add",
            "customer",
            customer.pk,
            name=contact.name,
            email=contact.email,
        )
    return row


def _customer_locked(company: Company, code: str, *, writes: str = "") -> Customer:
    """The customer, its row locked until the transaction ends (the service changes it).
    ``writes``: what the service is about to do with its personal data (change its record,
    set an address, add a contact or a bank account), refused once it was anonymised: the lock holds
    ``customer_anonymise`` off until the transaction ends, so neither slips past the other."""
    customer = Customer.objects.select_for_update().filter(company=company, code=code).first()
    if customer is None:
        raise UnknownCustomer(f"no customer with code {code!r}", customer=code)
    if writes:
        refuse_anonymised(customer, writes)
    return customer


def refuse_anonymised(customer: Customer, writes: str) -> None:
    """An anonymised customer's personal data was erased for good (``customer_anonymise``):
    nothing may give it personal data again, neither on its record nor in an address, a
    contact or a bank account (docs/security.md#personal-data)."""
    if customer.anonymised_at is not None:
        raise CustomerAnonymised(
            f"customer {customer.code} was anonymised on {customer.anonymised_at:%Y-%m-%d}: "
            f"its personal data is erased for good, so nothing can {writes}; a customer who "
            "comes back is a new customer with a new code", customer=customer.code)


def customer_snapshot(c: Customer) -> dict[str, Any]:
    return {
        "code": c.code,
        "name": c.name,
        "legal_name": c.legal_name,
        "tax_id": c.tax_id,
        "country": c.country,
        "currency": c.currency,
        "language": c.language,
        "credit_limit": c.credit_limit,
        "po_required": c.po_required,
        "terms": c.payment_terms.code if c.payment_terms_id and c.payment_terms else None,
        "parent": c.parent.code if c.parent_id and c.parent else None,
        "legal_id": f"{c.legal_id_scheme}:{c.legal_id}" if c.legal_id else "",
        "endpoint": f"{c.endpoint_scheme}:{c.endpoint_id}" if c.endpoint_id else "",
        "mandate_reference": c.mandate_reference,
        "mandate_signed": c.mandate_signed.isoformat() if c.mandate_signed else None,
    }
