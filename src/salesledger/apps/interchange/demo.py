"""``salesledger demo``: a demo company with two years of realistic receivables.

"Demo Trading SARL" (EUR, France) gets a few hundred customers in France, Germany, Spain,
the UK and the US (some billed in USD or GBP), two years of invoices up to a fixed day,
credit notes, receipts and allocations that follow each customer's payment behaviour (see
``demo_plan`` for the behaviours). Everything is drawn from ``random.Random(seed)`` and the
day defaults to a fixed date, so one seed always gives the same books.

It is written through the bulk services (the same posting rules, numbering, journal and
audit as single documents) in one transaction: the load either completes or leaves nothing.
The owner is the user ``demo`` (password ``demo-password``), a superuser so that the demo
can be explored in the back office; never use this on a real installation.
"""

from __future__ import annotations

import random
import time
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.audit import EventSpec, audit_many
from salesledger.apps.core.maintenance import planner_statistics_refresh
from salesledger.apps.core.models import Company, Membership, Role
from salesledger.apps.core.services import company_create, company_profile_update
from salesledger.apps.customers.models import (
    Address,
    BankAccount,
    Contact,
    Customer,
    PaymentTerms,
)
from salesledger.apps.customers.services import (
    AddressInput,
    BankAccountInput,
    ContactInput,
    CustomerInput,
    build_customer,
    customer_children,
    customer_snapshot,
    parse_credit_limit,
)
from salesledger.apps.dunning.services import RateRow, interest_rule_set, policy_add, rates_add
from salesledger.apps.fx.services import rate_add
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.apps.invoicing.posting.check import BulkDoc
from salesledger.apps.invoicing.services import documents_post_bulk
from salesledger.apps.payments.adjustments.bad_debts import customer_write_off
from salesledger.apps.payments.bulk import (
    BulkAllocation,
    BulkReceipt,
    allocations_apply_bulk,
    receipts_record_bulk,
)
from salesledger.apps.payments.selectors import customer_balances
from salesledger.domain.dunning import Level
from salesledger.domain.errors import LedgerError
from salesledger.money import Money

from .demo_plan import InstalmentRow, Plan, PlanCustomer, PlanDoc, build_plan, plan_settlement

DEMO_TODAY = date(2026, 11, 20)
DEMO_USER = "demo"
DEMO_PASSWORD = "demo-password"
DEMO_NAME = "Demo Trading SARL"
DEMO_SIREN = "73282932"  # eight digits; the ninth is the Luhn check digit
DEMO_IBAN = "FR7630006000011234567890189"


class DemoRefused(LedgerError):
    code = "demo_refused"
    http_status = 409


def demo_load(*, code: str = "demo", customers: int = 300, seed: int = 20261123,
              today: date | None = None) -> dict[str, Any]:
    """Create (or fill an empty) company ``code`` with seeded demo data; return a summary."""
    started = time.perf_counter()
    if customers < 1:
        raise DemoRefused("the demo needs at least one customer")
    today = today or DEMO_TODAY
    rng = random.Random(seed)
    plan = build_plan(rng, customers=customers, today=today)
    with transaction.atomic():
        user = _demo_user()
        company = _demo_company(code, user)
        terms = {t.code: t for t in PaymentTerms.objects.filter(company=company)}
        customer_ids = _create_customers(company, user, plan.customers, terms)
        invoice_ids = documents_post_bulk(
            actor=user, company=company,
            docs=[_bulk_doc(plan, d, customer_ids, terms, []) for d in plan.invoices])
        credit_ids = documents_post_bulk(
            actor=user, company=company,
            docs=[_bulk_doc(plan, d, customer_ids, terms, invoice_ids)
                  for d in plan.credit_notes]) if plan.credit_notes else []
        instalments, numbers = _read_instalments(company, invoice_ids)
        credit_open = _read_credit_open(company, credit_ids)
        receipts, allocations = plan_settlement(plan, instalments, credit_open, numbers, rng)
        receipt_ids = receipts_record_bulk(
            actor=user, company=company,
            receipts=[_bulk_receipt(r, customer_ids) for r in receipts]) if receipts else []
        allocated = allocations_apply_bulk(
            actor=user, company=company,
            allocations=[_bulk_allocation(a, receipt_ids, credit_ids) for a in allocations]
        ) if allocations else 0
        _record_rates(company, user, plan)
        written_off = _write_off_bad_debts(company, user, plan)
        # The limits are today's: set after the history, which the credit checks of posting
        # would otherwise judge by them (docs/design/credit.md).
        _set_limits(company, user, plan.customers, customer_ids)
        _dunning_setup(company, user)
    planner_statistics_refresh()  # the books just grew from nothing (core.maintenance)
    return {
        "company": company.code,
        "name": company.name,
        "as_of": today.isoformat(),
        "customers": len(customer_ids),
        "invoices": len(invoice_ids),
        "credit_notes": len(credit_ids),
        "receipts": len(receipt_ids),
        "allocations": allocated,
        "written_off": written_off,
        "user": DEMO_USER,
        "password": DEMO_PASSWORD,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _write_off_bad_debts(company: Company, user: Any, plan: Plan) -> int:
    """What the customers who turned bad still owe, written off on their day (credit notes
    and payments on account applied first); returns the invoices written off.

    A customer whose credits cover what it still owes lost nothing: an over-payment earlier
    in its history (a sum rounded up to the next hundred) can leave more unapplied than the
    small invoices it stopped paying, and ``customer_write_off``, which applies it first,
    would find nothing open (seed 20261208 at 300 customers: C00251). Such a customer is
    skipped: its balance on the day is not positive."""
    out = 0
    bad = [c for c in plan.customers if c.written_off is not None]
    ids = dict(Customer.objects.filter(company=company, code__in=[c.code for c in bad])
               .values_list("code", "pk"))
    for c in bad:
        assert c.written_off is not None
        owed = customer_balances(company, as_of=c.written_off, customer_id=ids[c.code])
        if not any(amount > 0 for amount in owed.values()):
            continue
        out += len(customer_write_off(actor=user, company=company, code=c.code,
                                      day=c.written_off, reason="The customer stopped "
                                      "paying and cannot be reached: a bad debt"))
    return out


def _record_rates(company: Company, user: Any, plan: Plan) -> None:
    """The month's rates the demo documents were issued at, as exchange rates of the
    company (dated the first of the month), so that revaluation and new foreign-currency
    documents find a rate."""
    for (currency, year, month), rate in sorted(plan.rates.items()):
        rate_add(actor=user, company=company, currency=currency, rate=rate,
                 day=date(year, month, 1))


# The ECB's main refinancing rate from each change on (what users would enter or import).
ECB_RATES = (("2023-09-20", "4.50"), ("2024-06-12", "4.25"), ("2024-09-18", "3.65"),
             ("2024-10-23", "3.40"), ("2024-12-18", "3.15"), ("2025-02-05", "2.90"),
             ("2025-03-12", "2.65"), ("2025-04-23", "2.40"), ("2025-06-11", "2.15"))


def _dunning_setup(company: Company, user: Any) -> None:
    """A default dunning policy with every kind of level, the reference rates and the French
    late-payment rule, so that a dunning run on the demo shows each level."""
    policy_add(actor=user, company=company, code="STANDARD", name="Standard", default=True,
               min_amount=1000, levels=[
                   Level(0, -3, "Friendly reminder"), Level(0, 5, "Reminder"),
                   Level(0, 20, "Second reminder", ("email", "letter"), fee_fixed=1500),
                   Level(0, 40, "Final notice", ("email", "letter", "call"),
                         fee_percent=Decimal(2), interest=True, hold=True),
                   Level(0, 90, "Collection agency", ("letter",), agency=True)])
    rates_add(actor=user, company=company, rows=[
        RateRow(date.fromisoformat(d), Decimal(p), "ECB main refinancing operations")
        for d, p in ECB_RATES])
    interest_rule_set(actor=user, company=company, country="FR", margin=Decimal(8),
                      compensation=4000, compensation_currency="EUR")
    interest_rule_set(actor=user, company=company, country="", margin=Decimal(8),
                      compensation=0, compensation_currency="")


def _demo_user() -> Any:
    """The demo owner; a superuser so that the whole back office can be explored."""
    User = get_user_model()
    user = User.objects.filter(username=DEMO_USER).first()
    if user is None:
        user = User.objects.create_user(DEMO_USER, email="demo@example.com",
                                        password=DEMO_PASSWORD, first_name="Demo",
                                        last_name="Owner", is_staff=True, is_superuser=True)
    return user


def demo_login_works() -> bool:
    """Whether the demo login (printed by ``salesledger serve``) still opens a session."""
    user = get_user_model().objects.filter(username=DEMO_USER, is_active=True).first()
    return bool(user and user.check_password(DEMO_PASSWORD))


def _demo_company(code: str, user: Any) -> Company:
    company = Company.objects.filter(code=code).first()
    if company is None:
        company = company_create(actor=user, code=code, name=DEMO_NAME, base_currency="EUR",
                                 country="FR", time_zone="Europe/Paris", owner=user)
        # A complete seller profile, so that documents and e-invoices can be made at once.
        siren = DEMO_SIREN + _luhn_digit(DEMO_SIREN)
        return company_profile_update(
            actor=user, company=company, legal_name=DEMO_NAME, tax_id=_tax_id(("FR", DEMO_SIREN)),
            registration_id=siren, address_line1="18 rue des Tanneurs", postal_code="69002",
            city="Lyon", country="FR", email="compta@demo-trading.example",
            phone="+33 4 72 00 00 00", iban=DEMO_IBAN,
            document_footer=f"{DEMO_NAME}, SARL au capital de 20 000 EUR, RCS Lyon {siren}",
            legal_mentions="Pénalités de retard : trois fois le taux d'intérêt légal. "
                           "Indemnité forfaitaire pour frais de recouvrement : 40 EUR.")
    if company.base_currency != "EUR":
        raise DemoRefused(f"company {code!r} keeps its books in {company.base_currency}; "
                          "the demo is written for a EUR company", company=code)
    if (Invoice.objects.filter(company=company).exists()
            or Customer.objects.filter(company=company).exists()):
        raise DemoRefused(
            f"company {code!r} already has customers or documents; the demo loads only into a "
            "new or empty company (choose another code with --company)", company=code)
    Membership.objects.get_or_create(company=company, user=user, defaults={"role": Role.OWNER})
    return company


def _luhn_digit(body: str) -> str:
    from stdnum import luhn

    return str(luhn.calc_check_digit(body))


# ---------------------------------------------------------------- customers
def _tax_id(scheme: tuple[str, str] | None) -> str:
    """A tax id with valid check digits, computed with python-stdnum."""
    if scheme is None:
        return ""
    country, body = scheme
    if country == "FR":
        from stdnum.fr import siren

        return "FR" + siren.to_tva(body + _luhn_digit(body))
    if country == "DE":
        from stdnum.iso7064 import mod_11_10

        return "DE" + body + mod_11_10.calc_check_digit(body)
    if country == "ES":
        from stdnum.es import cif

        return "ES" + body + cif.calc_check_digits(body)[0]
    from stdnum.gb import vat as gb_vat

    for check in range(100):
        candidate = f"{body}{check:02d}"
        if gb_vat.is_valid(candidate):
            return "GB" + candidate
    return ""


def _iban(spec: tuple[str, str, str]) -> str:
    from schwifty import IBAN

    country, bank, account = spec
    return str(IBAN.generate(country, bank_code=bank, account_code=account))


def _customer_input(c: PlanCustomer) -> CustomerInput:
    b = c.billing
    return CustomerInput(
        code=c.code, name=c.name, currency=c.currency, legal_name=c.legal_name,
        tax_id=_tax_id(c.tax_id), country=c.country, language=c.language, email=c.email,
        phone=c.phone, terms_code=c.terms_code,
        po_required=c.po_required,
        billing=AddressInput(line1=b.line1, line2=b.line2, postal_code=b.postal_code,
                             city=b.city, region=b.region, country=b.country),
        contacts=[ContactInput(name=x.name, email=x.email, phone=x.phone, roles=x.roles,
                               language=x.language) for x in c.contacts],
        bank_accounts=[BankAccountInput(iban=_iban(spec), holder=c.legal_name)
                       for spec in c.ibans])


def _create_customers(company: Company, actor: Actor, plan_customers: list[PlanCustomer],
                      terms: dict[str, PaymentTerms]) -> list[int]:
    """Validate every customer as ``customer_create`` does, then write them in bulk."""
    inputs = [_customer_input(c) for c in plan_customers]
    rows = [build_customer(company, data, terms=terms) for data in inputs]
    Customer.objects.bulk_create(rows, batch_size=1000)
    if any(r.pk is None for r in rows):  # a backend that does not return ids
        by_code = dict(Customer.objects.filter(company=company).values_list("code", "id"))
        for r in rows:
            r.pk = r.id = by_code[r.code]
    addresses: list[Address] = []
    contacts: list[Contact] = []
    accounts: list[BankAccount] = []
    for row, data in zip(rows, inputs, strict=True):
        a, c, b = customer_children(company, row, data)
        addresses += a
        contacts += c
        accounts += b
    Address.objects.bulk_create(addresses, batch_size=1000)
    Contact.objects.bulk_create(contacts, batch_size=1000)
    BankAccount.objects.bulk_create(accounts, batch_size=1000)
    audit_many(company, actor, [
        EventSpec("customer.create", "customer", str(r.pk), {"after": customer_snapshot(r)})
        for r in rows])
    return [r.pk for r in rows]


def _set_limits(company: Company, actor: Actor, plan_customers: list[PlanCustomer],
                customer_ids: list[int]) -> None:
    """The customers' credit limits, checked as ``customer_create`` checks them, written in
    bulk and audited as a limit set."""
    rows = []
    for c, pk in zip(plan_customers, customer_ids, strict=True):
        if c.credit_limit:
            rows.append(Customer(pk=pk, credit_limit=parse_credit_limit(
                c.credit_limit, c.currency or company.base_currency)))
    Customer.objects.bulk_update(rows, ["credit_limit"], batch_size=1000)
    currency = {pk: c.currency or company.base_currency
                for c, pk in zip(plan_customers, customer_ids, strict=True)}
    audit_many(company, actor, [
        EventSpec("credit.limit_set", "customer", str(r.pk), {
            "reason": "demo data", "before": None,
            "after": Money.from_minor(r.credit_limit or 0, currency[r.pk]).to_json()})
        for r in rows])


# ---------------------------------------------------------------- documents and payments
def _bulk_doc(plan: Plan, d: PlanDoc, customer_ids: list[int], terms: dict[str, PaymentTerms],
              invoice_ids: list[int]) -> BulkDoc:
    customer = plan.customers[d.customer]
    term = terms.get(customer.terms_code) if d.kind == DocKind.INVOICE else None
    return BulkDoc(
        customer_id=customer_ids[d.customer], kind=d.kind, issue_date=d.issue_date,
        currency=d.currency, lines=d.lines, rate=d.rate, terms_id=term.pk if term else None,
        po_number=d.po_number, buyer_reference=d.buyer_reference, notes=d.notes,
        corrects_id=invoice_ids[d.corrects] if d.corrects is not None else None)


def _read_instalments(company: Company, invoice_ids: list[int]
                      ) -> tuple[dict[int, list[InstalmentRow]], dict[int, str]]:
    """Instalments per invoice index (in due order) and invoice numbers, as posted."""
    index = {pk: i for i, pk in enumerate(invoice_ids)}
    out: dict[int, list[InstalmentRow]] = {}
    numbers: dict[int, str] = {}
    rows = (Instalment.objects.filter(company=company, invoice__kind=DocKind.INVOICE)
            .order_by("invoice_id", "seq")
            .values_list("id", "invoice_id", "invoice__number", "seq", "due_date", "amount",
                         "settled"))
    for pk, invoice_id, number, seq, due, amount, settled in rows.iterator(chunk_size=5000):
        i = index.get(invoice_id)
        if i is None:
            continue
        out.setdefault(i, []).append(InstalmentRow(pk, seq, due, amount - settled))
        numbers[i] = number
    return out, numbers


def _read_credit_open(company: Company, credit_ids: list[int]) -> list[int]:
    """What is still unapplied on each credit note (posting may already apply one to the
    invoice it corrects)."""
    if not credit_ids:
        return []
    left = {pk: total - allocated for pk, total, allocated in
            Invoice.objects.filter(company=company, kind=DocKind.CREDIT_NOTE)
            .values_list("id", "total", "allocated")}
    return [left[pk] for pk in credit_ids]


def _bulk_receipt(r: Any, customer_ids: list[int]) -> BulkReceipt:
    return BulkReceipt(customer_id=customer_ids[r.customer], date=r.date, amount=r.amount,
                       currency=r.currency, rate=r.rate,
                       method=r.method, payer_reference=r.payer_reference,
                       bank_reference=r.bank_reference, memo=r.memo)


def _bulk_allocation(a: Any, receipt_ids: list[int], credit_ids: list[int]) -> BulkAllocation:
    return BulkAllocation(
        instalment_id=a.instalment_id, amount=a.amount, date=a.date,
        receipt_id=receipt_ids[a.receipt] if a.receipt is not None else None,
        credit_note_id=credit_ids[a.credit_note] if a.credit_note is not None else None)
