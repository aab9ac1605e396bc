"""The one writer of receipts: every path that records money received (the ``receipt record``
command, the bulk service, the CSV import, the demo) calls :func:`receipts_record`, or its two
halves for an import that reports every problem of its file; one receipt is a batch of one.

Read, plan, write, in one transaction:

1. :func:`receipt_books` reads what the rules need, in a fixed number of queries (a few per
   5,000 customers, one per currency and day that needs the rate table);
2. ``domain.receipts.plan_receipts`` checks every receipt (the first broken rule is its
   problem) and plans its journal entry;
3. :func:`receipts_write` takes gapless RCT numbers (in date order, a block per fiscal year),
   and writes the entries, the receipts and one audit event each with multi-row INSERTs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from functools import cache

from django.db import transaction
from django.utils import timezone

from salesledger.apps.core.actors import Actor, actor_id
from salesledger.apps.core.audit import EventSpec, audit_many
from salesledger.apps.core.bulkinsert import insert_rows
from salesledger.apps.core.models import Company, ImportBatch, Role
from salesledger.apps.core.services import (
    number_format,
    number_take,
    open_period_check,
    require_role,
)
from salesledger.apps.customers.models import Customer
from salesledger.apps.customers.selectors import survivors
from salesledger.apps.invoicing.issuing import resolve_rate
from salesledger.apps.ledger.banks import bank_accounts
from salesledger.apps.ledger.bulk import EntrySpec, journal_write_many
from salesledger.apps.ledger.services import accounts_by_role
from salesledger.domain.errors import LedgerError
from salesledger.domain.journal import AccountRole
from salesledger.domain.numbering import fiscal_year
from salesledger.domain.receipts import (
    Payer,
    PlannedReceipt,
    ReceiptBooks,
    ReceiptRequest,
    ReceiptsPlan,
    document_currency_of,
    plan_receipts,
)
from salesledger.money import major_texter

from .models import Method, Receipt

_CHUNK = 5000  # ids per IN (...) list
_COLUMNS = (
    "company_id", "customer_id", "number", "date", "currency", "amount", "rate", "base_amount",
    "method", "payer_reference", "bank_reference", "memo", "bank_account_id",
    "journal_entry_id",
    "import_batch_id", "created_by_id", "created_at")


def receipts_record(*, actor: Actor, company: Company, requests: Sequence[ReceiptRequest],
                    import_batch: ImportBatch | None = None) -> tuple[ReceiptsPlan, list[int]]:
    """Record every receipt in one transaction: the plan and the receipts' ids, in input
    order. The first receipt that breaks a rule raises its error, and nothing is written."""
    require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        plan = receipts_plan(company=company, requests=requests)
        return plan, receipts_write(actor=actor, company=company, plan=plan,
                                    import_batch=import_batch)


def receipts_plan(*, company: Company, requests: Sequence[ReceiptRequest]) -> ReceiptsPlan:
    """Check every receipt; one problem per refused receipt (an import reports them all)."""
    return plan_receipts(requests, receipt_books(company, requests))


def receipt_books(company: Company, requests: Sequence[ReceiptRequest]) -> ReceiptBooks:
    """Read what ``plan_receipts`` needs for ``requests``."""
    by_id: dict[int, Payer] = {}
    ids = sorted({r.customer_id for r in requests if r.customer_id is not None})
    fields = ("id", "code", "name", "currency")
    # A receipt named for an alias is the survivor's (docs/design/customer-records.md).
    merged = survivors(company)
    heads = {c[0]: Payer(*c) for c in Customer.objects.filter(
        company=company, pk__in=sorted(set(merged.values()))).values_list(*fields)
             } if merged else {}
    for i in range(0, len(ids), _CHUNK):
        by_id.update((c[0], heads.get(merged.get(c[0], 0)) or Payer(*c))
                     for c in Customer.objects.filter(
                         company=company, pk__in=ids[i:i + _CHUNK]).values_list(*fields))
    codes = sorted({r.customer_code for r in requests
                    if r.customer_id is None and r.customer_code is not None})
    by_code = {c[1]: heads.get(merged.get(c[0], 0)) or Payer(*c)
               for c in Customer.objects.filter(
                   company=company, code__in=codes).values_list(*fields)} if codes else {}
    rates: dict[tuple[str, Decimal | None, date], Decimal | LedgerError] = {}
    for r in requests:
        customer = by_id.get(r.customer_id) if r.customer_id is not None else by_code.get(
            r.customer_code or "")
        if customer is None:
            continue
        try:
            key = (document_currency_of(r.currency, customer.currency, company.base_currency),
                   r.rate, r.day)
        except LedgerError:
            continue
        if key not in rates:
            try:  # the rule of every document's rate (invoicing), the rate table read once
                rates[key] = resolve_rate(company, key[0], r.rate, r.day)
            except LedgerError as exc:
                rates[key] = exc
    banks = bank_accounts(company)
    return ReceiptBooks(
        base_currency=company.base_currency, customers_by_code=by_code, customers_by_id=by_id,
        rates=rates, period=open_period_check(company, {r.day for r in requests}),
        methods=Method.values,
        bank_accounts={b.code.upper(): (b.pk, b.account_id) for b in banks},
        main_bank_account=next((b.code.upper() for b in banks if b.is_main), ""))


def receipts_write(*, actor: Actor, company: Company, plan: ReceiptsPlan,
                   import_batch: ImportBatch | None = None, batch_size: int = 2000
                   ) -> list[int]:
    """Write the receipts of ``plan`` (inside the transaction that planned it); refuse a plan
    with a problem. Return their ids in input order."""
    if plan.problems:
        raise plan.problems[0][1]
    user_id = actor_id(actor)
    batch_id = import_batch.pk if import_batch is not None else None
    account_ids = {role: a.pk for role, a in accounts_by_role(company).items()}
    now = timezone.now()
    todo = sorted(plan.receipts, key=lambda p: (p.request.day, p.position))
    by_year: dict[int, list[PlannedReceipt]] = defaultdict(list)
    for p in todo:
        by_year[fiscal_year(p.request.day, company.fiscal_year_start)].append(p)
    numbers: dict[int, str] = {}
    for group in by_year.values():
        fy, first, prefix = number_take(company, "RCT", group[0].request.day, count=len(group))
        for seq, p in enumerate(group, start=first):
            numbers[p.position] = number_format(prefix, fy, seq)
    ids: dict[int, int] = {}
    for start in range(0, len(todo), batch_size):
        chunk = todo[start:start + batch_size]
        entry_ids = journal_write_many(company=company, actor=actor, account_ids=account_ids,
                                       entries=[EntrySpec(
            day=p.request.day, kind="receipt", source_type="receipt",
            memo=f"receipt from {p.customer.name}", lines=p.lines,
            accounts={AccountRole.BANK.value: p.bank_account[1]}) for p in chunk])
        pks = insert_rows(Receipt, _COLUMNS, [
            (company.pk, p.customer.id, numbers[p.position], p.request.day, p.currency, p.amount,
             p.rate, p.base_amount, p.request.method, p.request.payer_reference,
             p.request.bank_reference, p.request.memo, p.bank_account[0], entry_id, batch_id,
             user_id, now)
            for p, entry_id in zip(chunk, entry_ids, strict=True)], returning=True)
        audit_many(company, actor, [
            receipt_event(receipt_id=pk, number=numbers[p.position], customer_code=p.customer.code,
                          amount=p.amount, currency=p.currency, method=p.request.method)
            for p, pk in zip(chunk, pks, strict=True)])
        ids.update((p.position, pk) for p, pk in zip(chunk, pks, strict=True))
    return [ids[i] for i in sorted(ids)]


def receipt_event(*, receipt_id: int, number: str, customer_code: str, amount: int,
                  currency: str, method: str) -> EventSpec:
    """The audit event of a recorded receipt."""
    return EventSpec("receipt.record", "receipt", str(receipt_id), {"after": {
        "number": number, "customer": customer_code, "amount": _major(currency)(amount),
        "currency": currency, "method": method}})


@cache
def _major(currency: str) -> Callable[[int], str]:
    """``major_text`` of one currency, made once (a batch writes thousands of events)."""
    return major_texter(currency)
