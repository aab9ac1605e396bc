"""The one writer of allocations: every path that allocates a receipt or a credit note (the
``receipt allocate`` command, a policy, the auto-allocation run, the CSV import, credit notes
applied to the invoices they correct, the adjustments' own payments) calls
:func:`allocations_make` with a batch of requests; one allocation is a batch of one
(docs/design/allocation.md).

Read, plan, write, in one transaction:

1. :func:`allocation_books` locks and reads what the rules need, in a fixed number of
   queries whatever the size of the batch (a few more per 5,000 rows): the sources first (the
   receipts, then the credit notes), then the instalments, each in ascending id (the one
   locking order, docs/design/concurrency.md), the base already relieved on each, and the
   rates and invoice names a request may need;
2. ``domain.allocation.plan_allocations`` plans the whole batch over those plain values, or
   refuses it with the error of the first broken rule;
3. :func:`allocations_write` writes the plan with set-based SQL: the journal entries (one
   per request: a source's allocations of a day share it), the allocation rows, the cached
   ``settled`` and ``allocated`` (new absolute values of the locked rows; CHECK
   constraints refuse any excess), one audit event per source, and
   publishes ``AllocationsMade`` for what follows in the modules above (an early-payment
   discount earned: ``payments/handlers.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from salesledger.apps.core import events
from salesledger.apps.core.actors import Actor, actor_id
from salesledger.apps.core.audit import EventSpec, audit_many
from salesledger.apps.core.bulkinsert import insert_rows, update_column
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import check_open_period, require_role
from salesledger.apps.customers.selectors import survivors
from salesledger.apps.fx.selectors import cross_rate_on
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.apps.ledger.bulk import EntrySpec, journal_write_many
from salesledger.domain.allocation import (
    AllocationBooks,
    AllocationPlan,
    AllocationRequest,
    InstalmentDoc,
    InvoiceDoc,
    PlannedAllocation,
    SourceDoc,
    SourceKind,
    SourceRef,
    ToInstalment,
    ToInvoice,
    plan_allocations,
    planned_entries,
)
from salesledger.domain.errors import ExchangeRateMissing
from salesledger.domain.lifecycle import DocStatus
from salesledger.domain.policies import Policy
from salesledger.money import get_currency

from .models import Allocation, Receipt
from .reads import credit_notes_locked, receipts_locked, relieved_bases
from .settlement_keep import settlement_keep

_CHUNK = 5000  # ids per IN (...) list
_COLUMNS = (
    "company_id", "customer_id", "receipt_id", "credit_note_id", "instalment_id", "date",
    "currency", "amount", "source_currency", "source_amount", "fx_rate", "base_unapplied",
    "base_receivable", "journal_entry_id", "created_by_id", "created_at")


@dataclass
class Allocated:
    """What :func:`allocations_make` planned (and, unless a dry run, wrote): the plan, and
    the ids of the allocation rows and of their journal entries, in the plan's order."""

    plan: AllocationPlan
    ids: list[int]
    entry_ids: list[int | None]

    def rows(self, company: Company, actor: Actor) -> list[Allocation]:
        """The rows written, as model instances (for the commands; no query); none for a
        dry run."""
        if not self.ids:
            return []
        out = []
        now = timezone.now()
        for pk, entry_id, r in zip(self.ids, self.entry_ids, self.plan.rows, strict=True):
            receipt = r.source.kind == SourceKind.RECEIPT
            row = Allocation(
                pk=pk, company=company, customer_id=r.source.customer_id,
                receipt_id=r.source.id if receipt else None,
                credit_note_id=None if receipt else r.source.id, instalment_id=r.instalment.id,
                date=r.day, currency=r.currency, amount=r.amount,
                source_currency=r.source.currency if r.source_amount is not None else "",
                source_amount=r.source_amount, fx_rate=r.fx_rate,
                base_unapplied=r.base_unapplied, base_receivable=r.base_receivable,
                journal_entry_id=entry_id, created_by_id=actor_id(actor), created_at=now)
            row._state.adding, row._state.db = False, Allocation.objects.db
            out.append(row)
        return out


def allocations_make(*, actor: Actor, company: Company, requests: Sequence[AllocationRequest],
                     dry_run: bool = False) -> Allocated:
    """Plan and write a batch of allocation requests, in order, each checked against what the
    earlier ones left; all or nothing. With ``dry_run`` the plan is made (under the same
    locks) and nothing is written."""
    require_role(company, actor, Role.CLERK)
    if not requests:
        return Allocated(AllocationPlan(), [], [])
    with transaction.atomic():
        # Inside the transaction: on PostgreSQL the lock date is read FOR SHARE, so that a
        # period close waits for this write. The earliest day decides for all.
        check_open_period(company, min(r.day for r in requests))
        plan = plan_allocations(requests, allocation_books(company, requests))
        if dry_run:
            return Allocated(plan, [], [])
        return allocations_write(company=company, actor=actor, requests=requests, plan=plan)


def requests_by_source(lines: Iterable[tuple[SourceKind, int, date, int, int]]
                       ) -> list[AllocationRequest]:
    """The requests of planned lines (source kind and id, day, instalment id, amount), in
    order: one per run of lines of one source and day (the bulk paths)."""
    out: list[AllocationRequest] = []
    key: tuple[SourceKind, int, date] | None = None
    run: list[ToInstalment] = []
    for kind, source_id, day, instalment_id, amount in lines:
        if (kind, source_id, day) != key:
            if key is not None:
                out.append(AllocationRequest(SourceRef(key[0], id=key[1]), key[2], tuple(run)))
            key, run = (kind, source_id, day), []
        run.append(ToInstalment(instalment_id, amount))
    if key is not None:
        out.append(AllocationRequest(SourceRef(key[0], id=key[1]), key[2], tuple(run)))
    return out


# ---------------------------------------------------------------------------- read
def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    ordered = sorted(set(ids))
    for i in range(0, len(ordered), _CHUNK):
        yield ordered[i:i + _CHUNK]


def allocation_books(company: Company, requests: Sequence[AllocationRequest]
                     ) -> AllocationBooks:
    """Lock and read what ``plan_allocations`` needs for ``requests`` (see the module
    docstring). Called inside the writer's transaction."""
    sources = _sources(company, {r.source for r in requests},
                       texts=any(r.policy == Policy.BY_REFERENCE for r in requests))
    numbers = {li.invoice_number for r in requests for li in r.lines
               if isinstance(li, ToInvoice)}
    invoices = {i["number"]: InvoiceDoc(
        i["id"], i["number"], i["kind"] == DocKind.INVOICE, i["status"] == DocStatus.POSTED,
        i["customer_id"], i["currency"], i["issue_date"])
        for i in Invoice.objects.filter(company=company, number__in=sorted(numbers)).values(
            "id", "number", "kind", "status", "customer_id", "currency", "issue_date")}
    spread = [(sources[r.source], r.day) for r in requests
              if r.policy not in (None, Policy.MANUAL) and r.source in sources]
    merged = survivors(company)
    instalments = _instalments(
        company, ids=[li.instalment_id for r in requests for li in r.lines
                      if isinstance(li, ToInstalment)],
        invoice_ids=[i.id for i in invoices.values() if i.is_invoice],
        customers={(c, s.currency) for s, _ in spread
                   for c in _family_of(s.customer_id, merged)},
        until=max((day for _, day in spread), default=None))
    # Only what something has settled or allocated can have relieved a base amount: every
    # reversal (allocation_reverse, refund_reverse, reverse_adjustment) negates its row's
    # amount and base amounts exactly, so a document back at nothing settled has nothing
    # relieved. Most of a bulk run's documents are untouched.
    relieved = relieved_bases(
        instalment_ids=sorted(pk for pk, i in instalments.items() if i.settled),
        **{f"{kind.value}_ids": sorted({s.id for s in sources.values()
                                        if s.kind == kind and s.allocated})
           for kind in SourceKind})
    return AllocationBooks(
        base_currency=company.base_currency, sources=sources, invoices=invoices,
        instalments=instalments, relieved=relieved,
        cross_rates=_cross_rates(company, requests, sources, invoices, instalments),
        aliases=_aliases(company, [(sources[r.source], r.day) for r in requests
                                   if r.policy == Policy.BY_REFERENCE and r.source in sources],
                         merged),
        survivors=merged)


def _family_of(customer_id: int, merged: dict[int, int]) -> list[int]:
    """The customers whose instalments a payment of ``customer_id`` may settle: its own,
    and with a merge those of its survivor and the survivor's aliases."""
    head = merged.get(customer_id, customer_id)
    return [head, *(alias for alias, survivor in merged.items() if survivor == head)]


def _sources(company: Company, refs: set[SourceRef], *, texts: bool
             ) -> dict[SourceRef, SourceDoc]:
    """The receipts, then the credit notes, the requests name, locked in ascending id; with
    ``texts`` the receipts' references and memo (for the ``by_reference`` policy)."""
    out: dict[SourceRef, SourceDoc] = {}
    for kind, locked, fields in (
            (SourceKind.RECEIPT, receipts_locked,
             ("date", "amount", "allocated", "base_amount", "rate",
              *(("payer_reference", "bank_reference", "memo") if texts else ()))),
            (SourceKind.CREDIT_NOTE, credit_notes_locked,
             ("issue_date", "total", "allocated", "base_total", "rate", "status"))):
        wanted = [r for r in refs if r.kind == kind]
        ids = [r.id for r in wanted if r.id is not None]
        numbers = sorted({r.number for r in wanted if r.number is not None})
        values = ("id", "number", "customer_id", "currency", *fields)
        rows = (list(locked(company, number__in=numbers).values_list(*values)) if numbers
                else [])
        for chunk in _chunks(ids):
            rows.extend(locked(company, pk__in=chunk).values_list(*values))
        by_id, by_number = {}, {}
        for pk, number, customer_id, currency, day, whole, allocated, base, rate, *more in rows:
            if kind == SourceKind.RECEIPT:
                posted, text = True, " ".join(m or "" for m in more)
            else:
                posted, text = more == [DocStatus.POSTED], ""
            doc = SourceDoc(kind, pk, number or "", customer_id, currency, day, posted, whole,
                            allocated, base, rate, text)
            by_id[pk] = doc
            if number:
                by_number[number] = doc
        for ref in wanted:
            doc = by_id.get(ref.id) if ref.id is not None else by_number.get(ref.number or "")
            if doc is not None:
                out[ref] = doc
    return out


def _instalments(company: Company, *, ids: Sequence[int], invoice_ids: Sequence[int],
                 customers: set[tuple[int, str]], until: date | None
                 ) -> dict[int, InstalmentDoc]:
    """The instalments named, the open ones of the invoices named, and those open of the
    customers a policy spreads over (in the currency, of invoices issued by ``until``),
    locked in ascending id."""
    fields = ("id", "invoice_id", "invoice__number", "seq", "customer_id", "currency",
              "due_date", "invoice__issue_date", "amount", "settled", "base_amount",
              "invoice__rate")
    locked = Instalment.objects.select_for_update(of=("self",), no_key=True).filter(
        company=company).order_by("pk")
    out: dict[int, InstalmentDoc] = {}
    for chunk in _chunks(ids):
        out.update((r[0], InstalmentDoc._make(r))
                   for r in locked.filter(pk__in=chunk).values_list(*fields))
    # The open instalments of the invoices named, by the invoices' index. The invoices were
    # read for the company, so their instalments are its own: the company is checked on the
    # rows rather than in the statement, where SQLite, without statistics, would read every
    # open instalment of the company from an index that begins with it and keep those of
    # the invoices (about a fifth of a bank batch's CPU at 100,000 invoices).
    by_invoice = Instalment.objects.select_for_update(of=("self",), no_key=True).order_by("pk")
    for chunk in _chunks(invoice_ids):
        out.update((r[1], InstalmentDoc._make(r[1:])) for r in by_invoice.filter(
            invoice_id__in=chunk, settled__lt=F("amount")).values_list("company_id", *fields)
            if r[0] == company.pk)
    if customers:
        wanted = Q()
        for customer_id, currency in sorted(customers):
            wanted |= Q(customer_id=customer_id, currency=currency, settled__lt=F("amount"),
                        invoice__issue_date__lte=until)
        out.update((r[0], InstalmentDoc._make(r))
                   for r in locked.filter(wanted).values_list(*fields))
    return out


def _cross_rates(company: Company, requests: Sequence[AllocationRequest],
                 sources: dict[SourceRef, SourceDoc], invoices: dict[str, InvoiceDoc],
                 instalments: dict[int, InstalmentDoc]
                 ) -> dict[tuple[str, str, date], Decimal | str]:
    """The rate table's cross rate on the day for each other currency a receipt is asked to
    pay without a rate given, or why there is none."""
    out: dict[tuple[str, str, date], Decimal | str] = {}
    for r in requests:
        src = sources.get(r.source)
        if src is None or r.rate is not None or src.kind != SourceKind.RECEIPT:
            continue
        for li in r.lines:
            doc = (invoices.get(li.invoice_number) if isinstance(li, ToInvoice)
                   else instalments.get(li.instalment_id))
            if doc is None or doc.currency == src.currency:
                continue
            key = (src.currency, doc.currency, r.day)
            if key not in out:
                try:
                    out[key] = cross_rate_on(company, *key)
                except ExchangeRateMissing as exc:
                    out[key] = exc.message
    return out


def _aliases(company: Company, wanted: list[tuple[SourceDoc, date]], merged: dict[int, int]
             ) -> dict[int, list[tuple[str, str, date]]]:
    """The posted invoices of the customers a ``by_reference`` request pays, by name, keyed
    by the customer who pays for them (a survivor for its aliases' invoices)."""
    if not wanted:
        return {}
    out: dict[int, list[tuple[str, str, date]]] = {}
    for customer_id, number, reference, issued in Invoice.objects.filter(
            company=company, customer_id__in=sorted(
                {c for s, _ in wanted for c in _family_of(s.customer_id, merged)}),
            kind=DocKind.INVOICE, status=DocStatus.POSTED,
            issue_date__lte=max(day for _, day in wanted)).values_list(
                "customer_id", "number", "payment_reference", "issue_date"):
        out.setdefault(merged.get(customer_id, customer_id), []).append(
            (number, reference or "", issued))
    return out


# ---------------------------------------------------------------------------- write
def allocations_write(*, company: Company, actor: Actor, requests: Sequence[AllocationRequest],
                      plan: AllocationPlan) -> Allocated:
    """Write ``plan`` (inside the transaction that locked and read its books). A plan that
    allocates nothing writes nothing."""
    rows = plan.rows
    if not rows:
        return Allocated(plan, [], [])
    # one entry per request that moves something: its allocations share it
    planned = planned_entries(rows)
    entries: list[int | None] = [None] * len(rows)
    for e, entry_id in zip(planned, journal_write_many(company=company, actor=actor, entries=[
            EntrySpec(day=e.day, kind="allocation", source_type="allocation", lines=e.lines,
                      memo=e.memo) for e in planned]), strict=True):
        for n in e.rows:
            entries[n] = entry_id
    user_id, now = actor_id(actor), timezone.now()
    # (receipt id, credit note id) of each row
    sources = [(r.source.id, None) if r.source.kind is SourceKind.RECEIPT else (None, r.source.id)
               for r in rows]
    ids = insert_rows(Allocation, _COLUMNS, (
        (company.pk, r.source.customer_id, *source, r.instalment.id, r.day, r.currency,
         r.amount, r.source.currency if r.source_amount is not None else "", r.source_amount,
         r.fx_rate, r.base_unapplied, r.base_receivable, entry, user_id, now)
        for r, source, entry in zip(rows, sources, entries, strict=True)), returning=True)
    update_column(Instalment, "settled", sorted(plan.settled.items()))
    for kind, model in ((SourceKind.RECEIPT, Receipt), (SourceKind.CREDIT_NOTE, Invoice)):
        update_column(model, "allocated", sorted(
            (pk, value) for (k, pk), value in plan.allocated.items() if k == kind.value))
    # the documents' kept settlement, from what was just written (settlement_keep.py)
    settlement_keep({r.instalment.invoice_id for r in rows} | {
        pk for (k, pk) in plan.allocated if k == SourceKind.CREDIT_NOTE.value})
    audit_many(company, actor, _audit_events(requests, plan))
    # What follows from them is for the modules above (payments/handlers.py).
    events.publish(events.AllocationsMade(company_id=company.pk, actor=actor, allocations=tuple(
        events.MadeAllocation(pk, r.instalment.id, r.amount, r.day, r.open_after, *source)
        for pk, r, source in zip(ids, rows, sources, strict=True))))
    return Allocated(plan, ids, entries)


def _audit_events(requests: Sequence[AllocationRequest], plan: AllocationPlan
                  ) -> list[EventSpec]:
    """One ``allocation.create`` event per source that allocated something, in the order
    the sources first allocate; a request by a policy records it (and the documents a
    payment named, for ``by_reference``)."""
    made: dict[tuple[SourceKind, int], tuple[SourceDoc, list[dict[str, Any]], dict[str, Any]]]
    made = {}
    exponents: dict[str, int] = {}
    for r in plan.rows:
        src = r.source
        entry = made.get((src.kind, src.id))
        if entry is None:
            entry = made[(src.kind, src.id)] = (src, [], {})
        entry[1].append(_event_row(r, exponents))
        policy = requests[r.request].policy
        if policy is not None:
            entry[2].update(policy=policy.value, references=plan.references.get(r.request, []))
    return [EventSpec("allocation.create",
                      "receipt" if src.kind == SourceKind.RECEIPT else "invoice", str(src.id),
                      {"source": src.number, "allocations": listed, **extra})
            for src, listed, extra in made.values()]


def _event_row(r: PlannedAllocation, exponents: dict[str, int]) -> dict[str, Any]:
    """How an allocation is described in its audit event (amounts in major units)."""

    def major(minor: int, currency: str) -> str:
        exponent = exponents.get(currency)
        if exponent is None:
            exponent = exponents[currency] = get_currency(currency).exponent
        return str(Decimal(minor).scaleb(-exponent))

    out: dict[str, Any] = {"instalment": r.instalment.id, "amount": major(r.amount, r.currency)}
    if r.source_amount is not None:
        assert r.fx_rate is not None
        out.update(currency=r.currency, source_currency=r.source.currency,
                   source_amount=major(r.source_amount, r.source.currency),
                   rate=format(r.fx_rate, "f"))
    return out
