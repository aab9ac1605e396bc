"""SEPA direct debit (docs/design/direct-debit.md): the instalments of customers who signed a
mandate, falling due, collected in one pain.008 file; the money that comes back on the
statement is matched to each instalment by the end-to-end id the file gave it.

The only writer of ``DirectDebitCollection`` and ``DirectDebit``. An instalment is collected
once (a one-to-one key): a run repeated, or two at the same time, never asks the bank twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import company_today, require_role
from salesledger.apps.customers.models import BankAccount as CustomerBankAccount
from salesledger.apps.customers.models import Customer
from salesledger.apps.invoicing.models import DocKind, Instalment
from salesledger.apps.ledger.banks import bank_account_get, bank_account_main
from salesledger.domain.errors import ValidationFailed
from salesledger.formats.bank.pain008 import Creditor, Debit, pain008

from .models import DirectDebit, DirectDebitCollection


@dataclass(frozen=True)
class Collected:
    customer: str
    invoice: str
    instalment: int
    amount: int  # euro cents
    end_to_end_id: str
    sequence: str
    collection_date: date


@dataclass(frozen=True)
class Skipped:
    customer: str
    invoice: str
    amount: int
    currency: str
    reason: str


@dataclass
class CollectionResult:
    due_by: date
    debits: list[Collected] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    message_id: str = ""
    content: bytes = b""
    collection_id: int | None = None

    @property
    def total(self) -> int:
        return sum(d.amount for d in self.debits)


def end_to_end_id(number: str, seq: int) -> str:
    """The end-to-end id of an instalment's debit: its invoice number and instalment, which
    a person reading the statement recognises and the matcher finds (at most 35)."""
    return f"{number}-{seq}"[-35:]


def _why_not(company: Company, customer: Customer, accounts: dict[int, CustomerBankAccount],
             currency: str) -> str:
    if currency != "EUR":
        return f"SEPA debits are in euros; the invoice is in {currency}"
    if not customer.mandate_signed:
        return ("the mandate's signature date is not known: customer update "
                f"{customer.code} --mandate-signed YYYY-MM-DD")
    if customer.pk not in accounts:
        return f"no bank account to debit: add the IBAN of {customer.code}"
    return ""


def direct_debit_collect(*, actor: Actor, company: Company, due_by: date,
                         account_code: str = "", today: date | None = None,
                         dry_run: bool = False) -> CollectionResult:
    """Collect by direct debit every open instalment due on or before ``due_by`` of the
    customers with a mandate, not collected before: one pain.008 file (checked against its
    schema), kept with its debits. Each is asked for on its due date, or tomorrow if that
    has passed. What cannot be collected is listed with the reason. ``dry_run`` writes
    nothing (the file is still written and checked)."""
    require_role(company, actor, Role.CLERK)
    if not company.creditor_id:
        raise ValidationFailed("direct debit needs the company's SEPA creditor identifier: "
                               "company set --creditor-id", field="creditor_id")
    bank = bank_account_get(company, account_code) if account_code else \
        bank_account_main(company)
    if not bank.iban or bank.currency != "EUR":
        raise ValidationFailed(f"bank account {bank.code} cannot receive SEPA debits: it needs "
                               "an IBAN and the euro", field="account")
    today = today or company_today(company)
    earliest = today + timedelta(days=1)
    result = CollectionResult(due_by)
    rows = list(Instalment.objects.filter(
        company=company, due_date__lte=due_by, settled__lt=F("amount"),
        invoice__kind=DocKind.INVOICE, invoice__status="posted",
        customer__mandate_reference__gt="")
        .exclude(pk__in=DirectDebit.objects.filter(company=company).values("instalment_id"))
        .select_related("invoice", "customer").order_by("customer__code", "due_date", "pk"))
    customer_ids = {r.customer_id for r in rows}
    accounts: dict[int, CustomerBankAccount] = {}
    for acc in CustomerBankAccount.objects.filter(
            company=company, customer_id__in=customer_ids).order_by("pk"):
        accounts.setdefault(acc.customer_id, acc)
    seen = set(DirectDebit.objects.filter(company=company, customer_id__in=customer_ids)
               .values_list("customer_id", "mandate_reference").distinct())
    debits: list[Debit] = []
    chosen: list[tuple[Instalment, Debit]] = []
    for r in rows:
        c = r.customer
        open_amount = r.amount - r.settled
        reason = _why_not(company, c, accounts, r.currency)
        if reason:
            result.skipped.append(Skipped(c.code, r.invoice.number or "", open_amount,
                                          r.currency, reason))
            continue
        acc = accounts[c.pk]
        assert c.mandate_signed is not None
        d = Debit(end_to_end_id=end_to_end_id(r.invoice.number or "", r.seq),
                  amount=open_amount, mandate_reference=c.mandate_reference,
                  mandate_signed=c.mandate_signed, debtor_name=c.legal_name or c.name,
                  debtor_iban=acc.iban, debtor_bic=acc.bic,
                  collection_date=max(r.due_date, earliest),
                  sequence="RCUR" if (c.pk, c.mandate_reference) in seen else "FRST",
                  description=f"{r.invoice.number} {company.legal_name or company.name}"[:140])
        debits.append(d)
        chosen.append((r, d))
    for r, d in chosen:
        result.debits.append(Collected(r.customer.code, r.invoice.number or "", r.seq,
                                       d.amount, d.end_to_end_id, d.sequence,
                                       d.collection_date))
    if not debits:
        return result
    creditor = Creditor(company.legal_name or company.name, bank.iban, bank.bic,
                        company.creditor_id)
    file = pain008(creditor, debits)
    result.message_id, result.content = file.message_id, file.content
    if dry_run:
        return result
    try:
        with transaction.atomic():
            coll = DirectDebitCollection.objects.create(
                company=company, bank_account=bank, message_id=file.message_id, due_by=due_by,
                count=len(debits), total=result.total, content=file.content,
                created_by=actor if getattr(actor, "pk", None) else None)
            DirectDebit.objects.bulk_create(_rows(company, coll, chosen))
            audit(company, actor, "direct_debit.collect", "direct_debit_collection", coll.pk,
                  message_id=file.message_id, due_by=str(due_by), count=len(debits),
                  total=result.total, instalments=[r.pk for r, _ in chosen])
    except IntegrityError as e:
        raise ValidationFailed("some of these instalments were collected by another run "
                               "meanwhile: run the collection again") from e
    result.collection_id = coll.pk
    return result


def _rows(company: Company, coll: DirectDebitCollection,
          chosen: Iterable[tuple[Instalment, Debit]]) -> list[DirectDebit]:
    return [DirectDebit(company=company, collection=coll, instalment=r, invoice=r.invoice,
                        customer=r.customer, amount=d.amount, end_to_end_id=d.end_to_end_id,
                        mandate_reference=d.mandate_reference, sequence=d.sequence,
                        collection_date=d.collection_date) for r, d in chosen]


def debits_by_end_to_end(company: Company, ids: Iterable[str]) -> dict[str, int]:
    """The invoice each of these end-to-end ids debited (for the matcher)."""
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    return dict(DirectDebit.objects.filter(company=company, end_to_end_id__in=wanted)
                .values_list("end_to_end_id", "invoice_id"))
