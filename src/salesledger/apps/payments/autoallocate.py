"""Automatic allocation of every customer's unapplied cash, in bulk, resumable.

``auto_allocate_all`` walks the customers that have unapplied receipts in ascending id, a
chunk of ``chunk_customers`` at a time. For each chunk it reads, in a few set-based
queries, the chunk's unapplied receipts (dated up to the day) and open instalments (of
invoices issued up to the day), plans with the pure core (``domain/allocation_plan.py``:
each customer's receipts oldest first, by the policy, in each receipt's currency) and
writes through the one allocation writer (``allocations.allocations_make``, which applies
the rules of a single allocation row by row, and whose ``AllocationsMade`` takes the
early-payment discounts the receipts earn; the plan leaves an instalment so settled alone for
later receipts). The chunk's allocations and the run's progress
(``runs.AllocationRun.last_customer_id`` and counts) commit in one transaction, so:

* memory stays constant: only one chunk is ever loaded;
* a crash loses at most the chunk in flight, and running again (or ``resume``) continues
  after the last customer whose allocations are in the books, never allocating twice;
* running a finished run again allocates nothing; a new run only finds what is new.

A dry run writes nothing (no run record either) and reports what would be allocated: the
counts and totals, and the first ``preview_limit`` allocations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from salesledger.apps.core.actors import Actor, actor_row
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import check_open_period, require_role
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.apps.runs.models import AllocationRun, RunStatus
from salesledger.domain.allocation import SourceKind
from salesledger.domain.allocation_plan import OpenReceipt, Planned, parse_policy, plan_customer
from salesledger.domain.errors import NotFound, RunInProgress, ValidationFailed
from salesledger.domain.policies import Policy
from salesledger.domain.settlement import OpenInstalment

from .allocations import allocations_make, requests_by_source
from .models import Receipt
from .policies import receipt_text
from .reads import receipts_locked


@dataclass
class AutoAllocationResult:
    policy: str
    day: date
    dry_run: bool
    run: AllocationRun | None = None
    resumed: bool = False
    customers: int = 0
    receipts: int = 0
    allocations: int = 0
    totals: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    preview: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Chunk:
    customer_ids: list[int]
    plan: list[Planned]
    currency_of: dict[int, str]  # receipt id -> currency


def auto_allocate_all(*, actor: Actor, company: Company, day: date, policy: str = "oldest_first",
                      dry_run: bool = False, chunk_customers: int = 500,
                      resume: int | None = None, preview_limit: int = 100
                      ) -> AutoAllocationResult:
    """Allocate every customer's unapplied cash on ``day`` by ``policy`` (oldest_first,
    by_reference or proportional). ``resume`` continues a run (with its own day and
    policy); without it an unfinished run of the same day and policy is continued, one of
    another day or policy is refused (``RunInProgress``)."""
    require_role(company, actor, Role.CLERK)
    chosen = parse_policy(policy, automatic=True)
    if chunk_customers < 1:
        raise ValidationFailed("a chunk holds at least one customer", field="chunk_customers")
    if dry_run:
        check_open_period(company, day)
        return _dry_run(company, day, chosen, chunk_customers, preview_limit)
    run, resumed = _start(actor, company, day, chosen, chunk_customers, resume)
    result = AutoAllocationResult(run.policy, run.day, False, run, resumed)
    if run.status == RunStatus.FINISHED:
        _fill(result, run)
        return result
    check_open_period(company, run.day)
    chosen = Policy(run.policy)
    while True:
        with transaction.atomic():
            # The run row is locked and read again for every chunk, so that two processes
            # working on one run (a resume started while it still ran) take turns.
            run = AllocationRun.objects.select_for_update().get(pk=run.pk)
            if run.status == RunStatus.FINISHED:
                break
            chunk = _next_chunk(company, run, chosen)
            if chunk is None:
                run.status, run.finished_at = RunStatus.FINISHED, timezone.now()
                run.save(update_fields=["status", "finished_at", "updated_at"])
                audit(company, actor, "allocation_run.finish", "allocation_run", run.pk,
                      customers=run.customers, receipts=run.receipts,
                      allocations=run.allocations, totals=run.totals)
                break
            written = len(allocations_make(actor=actor, company=company, requests=(
                requests_by_source((SourceKind.RECEIPT, p.receipt_id, run.day, p.instalment_id,
                                    p.amount) for p in chunk.plan))
            ).ids)
            totals = dict(run.totals)
            for p in chunk.plan:
                cur = chunk.currency_of[p.receipt_id]
                totals[cur] = totals.get(cur, 0) + p.amount
            run.last_customer_id = chunk.customer_ids[-1]
            run.customers += len(chunk.customer_ids)
            run.receipts += len({p.receipt_id for p in chunk.plan})
            run.allocations += written
            run.totals = totals
            run.save(update_fields=["last_customer_id", "customers", "receipts", "allocations",
                                    "totals", "updated_at"])
    result.run = run
    _fill(result, run)
    return result


def _fill(result: AutoAllocationResult, run: AllocationRun) -> None:
    result.customers, result.receipts = run.customers, run.receipts
    result.allocations, result.totals = run.allocations, dict(run.totals)


def _start(actor: Actor, company: Company, day: date, policy: Policy, chunk: int,
           resume: int | None) -> tuple[AllocationRun, bool]:
    with transaction.atomic():
        if resume is not None:
            run = (AllocationRun.objects.select_for_update()
                   .filter(company=company, pk=resume).first())
            if run is None:
                raise NotFound(f"no allocation run {resume} in {company.code}", run=resume)
            return run, True
        running = (AllocationRun.objects.select_for_update()
                   .filter(company=company, status=RunStatus.RUNNING).first())
        if running is not None:
            if (running.day, running.policy) == (day, policy.value):
                return running, True
            raise RunInProgress(
                f"allocation run {running.pk} ({running.policy} on {running.day}) is "
                f"unfinished, stopped after customer id {running.last_customer_id}; resume it "
                f"with --resume {running.pk}", run=running.pk)
        try:
            with transaction.atomic():
                run = AllocationRun.objects.create(
                    company=company, day=day, policy=policy.value, chunk_customers=chunk,
                    created_by=actor_row(actor))
        except IntegrityError:
            # Another process started a run at the same moment (one running run per
            # company, a partial unique constraint): join it, or refuse as above.
            return _start(actor, company, day, policy, chunk, resume)
        audit(company, actor, "allocation_run.start", "allocation_run", run.pk,
              day=day.isoformat(), policy=policy.value, chunk_customers=chunk)
    return run, False


def _customers_after(company: Company, day: date, after: int, limit: int) -> list[int]:
    """The next customer ids (ascending, after ``after``) that have unapplied cash."""
    return list(Receipt.objects.filter(company=company, customer_id__gt=after, date__lte=day,
                                       allocated__lt=F("amount"))
                .order_by("customer_id").values_list("customer_id", flat=True)
                .distinct()[:limit])


def _plan_chunk(company: Company, day: date, policy: Policy, ids: list[int],
                *, lock: bool) -> _Chunk:
    where = {"customer_id__in": ids, "date__lte": day, "allocated__lt": F("amount")}
    # Locked as every allocation locks receipts: first, in ascending id.
    receipts_qs = (receipts_locked(company, **where) if lock
                   else Receipt.objects.filter(company=company, **where))
    receipts: dict[int, list[tuple[str, OpenReceipt]]] = defaultdict(list)
    currency_of: dict[int, str] = {}
    for r in sorted(receipts_qs.values("id", "customer_id", "currency", "amount", "allocated",
                                       "date", "payer_reference", "bank_reference", "memo"),
                    key=lambda r: (r["customer_id"], r["date"], r["id"])):
        receipts[r["customer_id"]].append((r["currency"], OpenReceipt(
            r["id"], r["amount"] - r["allocated"], receipt_text(r), r["date"])))
        currency_of[r["id"]] = r["currency"]
    items: dict[tuple[int, str], list[OpenInstalment]] = defaultdict(list)
    discounts: dict[int, tuple[int, date]] = {}
    for i in (Instalment.objects.filter(company=company, customer_id__in=ids,
                                        settled__lt=F("amount"), invoice__issue_date__lte=day)
              .order_by("customer_id", "due_date", "invoice__number", "id")
              .values_list("id", "customer_id", "currency", "due_date", "amount", "settled",
                           "invoice__number", "discount_amount", "discount_date")):
        items[(i[1], i[2])].append(OpenInstalment(i[0], i[3], i[4] - i[5], i[6] or ""))
        if i[7] and i[8] is not None:
            discounts[i[0]] = (i[7], i[8])
    aliases: dict[int, dict[str, str]] = defaultdict(dict)
    if policy == Policy.BY_REFERENCE:
        for cid, number, ref in (Invoice.objects.filter(
                company=company, customer_id__in=ids, kind=DocKind.INVOICE, status="posted",
                issue_date__lte=day).values_list("customer_id", "number", "payment_reference")):
            aliases[cid][number] = number
            if ref:
                aliases[cid][ref] = number
    plan: list[Planned] = []
    for cid in ids:
        by_currency: dict[str, list[OpenReceipt]] = defaultdict(list)
        for cur, r in receipts.get(cid, []):
            by_currency[cur].append(r)
        for cur, rs in sorted(by_currency.items()):
            plan.extend(plan_customer(policy, rs, items.get((cid, cur), []), aliases.get(cid),
                                      discounts))
    return _Chunk(ids, plan, currency_of)


def _next_chunk(company: Company, run: AllocationRun, policy: Policy) -> _Chunk | None:
    ids = _customers_after(company, run.day, run.last_customer_id, run.chunk_customers)
    if not ids:
        return None
    return _plan_chunk(company, run.day, policy, ids, lock=True)


def _chunks(company: Company, day: date, policy: Policy, size: int) -> Iterator[_Chunk]:
    after = 0
    while ids := _customers_after(company, day, after, size):
        yield _plan_chunk(company, day, policy, ids, lock=False)
        after = ids[-1]


def _dry_run(company: Company, day: date, policy: Policy, size: int,
             preview_limit: int) -> AutoAllocationResult:
    result = AutoAllocationResult(policy.value, day, True)
    numbers: dict[int, str] = {}
    for chunk in _chunks(company, day, policy, size):
        result.customers += len(chunk.customer_ids)
        result.receipts += len({p.receipt_id for p in chunk.plan})
        result.allocations += len(chunk.plan)
        for p in chunk.plan:
            cur = chunk.currency_of[p.receipt_id]
            result.totals[cur] = result.totals.get(cur, 0) + p.amount
        room = preview_limit - len(result.preview)
        if room > 0 and chunk.plan:
            shown = chunk.plan[:room]
            numbers.update(Receipt.objects.filter(pk__in={p.receipt_id for p in shown})
                           .values_list("id", "number"))
            inst = {i["id"]: i for i in Instalment.objects.filter(
                pk__in=[p.instalment_id for p in shown]).values(
                    "id", "seq", "invoice__number", "customer__code")}
            result.preview.extend({
                "receipt": numbers[p.receipt_id], "customer": inst[p.instalment_id][
                    "customer__code"], "invoice": inst[p.instalment_id]["invoice__number"],
                "seq": inst[p.instalment_id]["seq"], "currency": chunk.currency_of[
                    p.receipt_id], "amount": p.amount} for p in shown)
    return result
