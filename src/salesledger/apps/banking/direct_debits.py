"""SEPA direct debit (docs/design/direct-debit.md): the instalments of customers who signed a
mandate, falling due, collected in one pain.008 file; the money that comes back on the
statement is matched to each instalment by the end-to-end id the file gave it.

The only writer of ``DirectDebitCollection`` and ``DirectDebit``. An instalment has one debit
waiting at a time (a partial unique key): a run repeated, or two at the same time, never asks
the bank twice. A debit the bank returned (:func:`debit_returned`, from the return's
reversal) is asked for again by the next run, under a new end-to-end id, within the limits
of ``domain.direct_debit`` (attempts, final return reasons), which also tells the sequence
type, an amended mandate and an expired one.
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
from salesledger.domain.direct_debit import Mandate, PastDebit, Plan, plan_debit, reason_text
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
    attempt: int = 1
    previous_reason: str = ""  # the return reason of the attempt before, for a re-presentation
    amended_from: str = ""  # what the amendment changed, for a person to read

    @property
    def note(self) -> str:
        parts = []
        if self.attempt > 1:
            parts.append(f"attempt {self.attempt}, returned {reason_text(self.previous_reason)}")
        if self.amended_from:
            parts.append(f"amended mandate ({self.amended_from})")
        return "; ".join(parts)


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


def end_to_end_id(number: str, seq: int, attempt: int = 1) -> str:
    """The end-to-end id of an instalment's debit: its invoice number and instalment, which
    a person reading the statement recognises and the matcher finds, and for a
    re-presentation the attempt (``INV2026-00001-1-R2``); at most 35 characters."""
    suffix = f"-R{attempt}" if attempt > 1 else ""
    return f"{number}-{seq}{suffix}"[-35:]


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
        .exclude(pk__in=DirectDebit.objects.filter(company=company, returned_on__isnull=True)
                 .values("instalment_id"))
        .select_related("invoice", "customer").order_by("customer__code", "due_date", "pk"))
    customer_ids = {r.customer_id for r in rows}
    accounts: dict[int, CustomerBankAccount] = {}
    for acc in CustomerBankAccount.objects.filter(
            company=company, customer_id__in=customer_ids).order_by("pk"):
        accounts.setdefault(acc.customer_id, acc)
    history = _history(company, customer_ids)
    debits: list[Debit] = []
    chosen: list[tuple[Instalment, Debit, Plan]] = []
    for r in rows:
        c = r.customer
        open_amount = r.amount - r.settled
        reason = _why_not(company, c, accounts, r.currency)
        plan = Plan()
        if not reason:
            assert c.mandate_signed is not None
            plan = plan_debit(Mandate(c.mandate_reference, c.mandate_signed,
                                      accounts[c.pk].iban),
                              r.pk, history.get(c.pk, []), max(r.due_date, earliest))
            reason = plan.refused
        if reason:
            result.skipped.append(Skipped(c.code, r.invoice.number or "", open_amount,
                                          r.currency, reason))
            continue
        acc = accounts[c.pk]
        assert c.mandate_signed is not None
        d = Debit(end_to_end_id=end_to_end_id(r.invoice.number or "", r.seq, plan.attempt),
                  amount=open_amount, mandate_reference=c.mandate_reference,
                  mandate_signed=c.mandate_signed, debtor_name=c.legal_name or c.name,
                  debtor_iban=acc.iban, debtor_bic=acc.bic,
                  collection_date=max(r.due_date, earliest), sequence=plan.sequence,
                  description=f"{r.invoice.number} {company.legal_name or company.name}"[:140],
                  original_mandate_reference=plan.original_reference,
                  original_debtor_iban=plan.original_iban)
        debits.append(d)
        chosen.append((r, d, plan))
    for r, d, plan in chosen:
        amended = ", ".join(x for x in (
            f"was {plan.original_reference}" if plan.original_reference else "",
            f"account was {plan.original_iban}" if plan.original_iban else "") if x)
        result.debits.append(Collected(r.customer.code, r.invoice.number or "", r.seq,
                                       d.amount, d.end_to_end_id, d.sequence,
                                       d.collection_date, plan.attempt, plan.previous_reason,
                                       amended))
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
                  total=result.total, instalments=[r.pk for r, _, _ in chosen],
                  represented=[r.pk for r, _, p in chosen if p.attempt > 1],
                  amended=[d.end_to_end_id for _, d, _ in chosen if d.amended])
    except IntegrityError as e:
        raise ValidationFailed("some of these instalments were collected by another run "
                               "meanwhile: run the collection again") from e
    result.collection_id = coll.pk
    return result


def _rows(company: Company, coll: DirectDebitCollection,
          chosen: Iterable[tuple[Instalment, Debit, Plan]]) -> list[DirectDebit]:
    return [DirectDebit(company=company, collection=coll, instalment=r, invoice=r.invoice,
                        customer=r.customer, amount=d.amount, end_to_end_id=d.end_to_end_id,
                        mandate_reference=d.mandate_reference, sequence=d.sequence,
                        collection_date=d.collection_date, attempt=p.attempt,
                        debtor_iban=d.debtor_iban, mandate_signed=d.mandate_signed,
                        amended_from_reference=d.original_mandate_reference,
                        amended_from_iban=d.original_debtor_iban)
            for r, d, p in chosen]


def _history(company: Company, customer_ids: Iterable[int]) -> dict[int, list[PastDebit]]:
    """Every debit asked for from these customers, by customer: one query."""
    out: dict[int, list[PastDebit]] = {}
    for row in DirectDebit.objects.filter(company=company, customer_id__in=sorted(
            set(customer_ids))).values_list(
            "customer_id", "instalment_id", "attempt", "mandate_reference", "mandate_signed",
            "debtor_iban", "collection_date", "returned_on", "return_reason"):
        out.setdefault(row[0], []).append(PastDebit(*row[1:]))
    return out


def debit_returned(*, company: Company, end_to_end_ids: Iterable[str], day: date,
                   reason: str) -> int:
    """Record that the debit of one of these end-to-end ids came back (its receipt reversed
    by the return, in the caller's transaction): its instalment may be collected again.
    Returns how many debits it marked (0 when the payment was no debit of ours)."""
    wanted = sorted({i.strip() for i in end_to_end_ids if i and i.strip()})
    if not wanted:
        return 0
    return DirectDebit.objects.filter(company=company, end_to_end_id__in=wanted,
                                      returned_on__isnull=True).update(
        returned_on=day, return_reason=reason[:8])


def debits_by_end_to_end(company: Company, ids: Iterable[str]) -> dict[str, int]:
    """The invoice each of these end-to-end ids debited (for the matcher)."""
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    return dict(DirectDebit.objects.filter(company=company, end_to_end_id__in=wanted)
                .values_list("end_to_end_id", "invoice_id"))
