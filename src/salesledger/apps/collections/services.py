"""Collections casework, written (docs/design/collections.md): disputes opened, resolved or
rejected; promises to pay; payment plans; calls, notes and inbound replies on the customer's
timeline; customers given to collectors.

Each writer takes a batch (one item is a batch of one), checks with the pure rules of
``domain/collections.py``, writes and audits in one transaction. What the ledger must show for
a resolution (a credit note, a write-off, a deduction reversed) is written by the services of
invoicing and payments, below, in the same transaction.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import PurePath
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from salesledger.apps.core.actors import Actor, actor_row
from salesledger.apps.core.audit import EventSpec, audit, audit_many
from salesledger.apps.core.models import Capability, Company, Role
from salesledger.apps.core.selectors import user_get
from salesledger.apps.core.services import has_capability, require_capability, require_role
from salesledger.apps.credit.services import credit_hold, signal_record
from salesledger.apps.customers.models import Channel, Communication, Customer
from salesledger.apps.customers.selectors import customer_get
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.apps.invoicing.selectors import invoice_get
from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post
from salesledger.apps.payments.adjustments.write_offs import invoice_adjust
from salesledger.apps.payments.adjustments.writer import adjustment_reverse
from salesledger.apps.payments.models import Adjustment
from salesledger.domain.collections import (
    CallOutcome,
    DisputeReason,
    DisputeStatus,
    PromiseState,
    Resolution,
    check_dispute_amount,
    deduction_reason_of,
    dispute_reason_of,
    parse_choice,
    plan_schedule,
)
from salesledger.domain.errors import InvalidTransition, NotFound, ValidationFailed
from salesledger.domain.invoicing import LineInput
from salesledger.money import Money, format_minor, major_text

from .models import (
    ATTACHMENT_MAX_BYTES,
    Assignment,
    CallTask,
    Dispute,
    DisputeAttachment,
    PaymentPlan,
    PlanInstalment,
    PlanItem,
    Promise,
    Reply,
)
from .ranking import worklist_rank_refresh
from .selectors import (
    PlanView,
    PromiseView,
    call_tasks_paid,
    dispute_get,
    plans_view,
    promises_view,
)


def _minor(amount: Decimal, currency: str, what: str) -> int:
    try:
        return Money(amount, currency).minor()
    except ValueError:
        raise ValidationFailed(f"{what} {amount} has more decimals than {currency} allows",
                               field=what) from None


def _owner(company: Company, username: str) -> Any:
    if not username:
        return None
    user = user_get(username)
    require_role(company, user, Role.CLERK)
    return user


def _at(company: Company, day: date) -> datetime:
    """When an entry made for ``day`` stands on the timeline: that day, at the time of entry in
    the company's zone (so that entries of one day keep the order they were made in)."""
    zone = ZoneInfo(company.time_zone)
    now = timezone.now().astimezone(zone)
    return datetime.combine(day, now.time(), tzinfo=zone)


# ---------------------------------------------------------------- disputes
@dataclass(frozen=True)
class Attachment:
    name: str
    mime: str
    content: bytes

    @classmethod
    def of(cls, name: str, content: bytes) -> Attachment:
        """A file as the command line's ``--attach`` and the dispute form both give it: its
        own name without the folder (at most 200 characters, the end kept, as the extension
        is), the type its name tells, its bytes (checked by the service: 5 MB at most)."""
        base = PurePath(name.replace("\\", "/")).name or "attachment"
        return cls(base[-200:], mimetypes.guess_type(base)[0] or "application/octet-stream",
                   content)


@dataclass(frozen=True)
class DisputeSpec:
    invoice: str  # its number
    reason: str
    amount: Decimal | None = None  # None: all that is open on it
    owner: str = ""  # a username
    due_date: date | None = None
    notes: str = ""
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)


def _check_attachments(files: Sequence[Attachment]) -> None:
    for f in files:
        if len(f.content) > ATTACHMENT_MAX_BYTES:
            limit = ATTACHMENT_MAX_BYTES // (1024 * 1024)
            raise ValidationFailed(f"{f.name} is {len(f.content)} bytes: an attachment may be "
                                   f"{limit} MB at most", field="attach")


def _disputed_now(invoice_ids: Sequence[int]) -> dict[int, int]:
    """What open disputes (not over deductions) already hold back of each invoice."""
    rows = (Dispute.objects.filter(invoice_id__in=invoice_ids, status=DisputeStatus.OPEN.value,
                                   adjustment__isnull=True)
            .values_list("invoice_id").annotate(s=Sum("amount")).order_by())
    return dict(rows)


def _open_now(invoice_ids: Sequence[int]) -> dict[int, int]:
    rows = (Instalment.objects.filter(invoice_id__in=invoice_ids)
            .values_list("invoice_id").annotate(s=Sum(F("amount") - F("settled"))).order_by())
    return dict(rows)


def disputes_open(*, actor: Actor, company: Company, day: date,
                  specs: Sequence[DisputeSpec]) -> list[Dispute]:
    """Open disputes on posted invoices, each on part or all of what is open on its invoice
    and not already disputed. All of them or none."""
    require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        invoices = [invoice_get(company, s.invoice) for s in specs]
        for s, inv in zip(specs, invoices, strict=True):
            if inv.kind != DocKind.INVOICE or inv.status != "posted":
                raise InvalidTransition(f"{s.invoice} is not a posted invoice: only what a "
                                        "customer owes can be disputed", invoice=s.invoice)
            _check_attachments(s.attachments)
        ids = [inv.pk for inv in invoices]
        Instalment.objects.select_for_update().filter(invoice_id__in=ids).order_by("pk").exists()
        open_, held = _open_now(ids), _disputed_now(ids)
        rows, events = [], []
        for s, inv in zip(specs, invoices, strict=True):
            reason = parse_choice(DisputeReason, s.reason, "reason")
            free = open_.get(inv.pk, 0) - held.get(inv.pk, 0)
            amount = free if s.amount is None else _minor(s.amount, inv.currency, "amount")
            check_dispute_amount(amount, free, currency=inv.currency,
                                 where=f"{inv.number}" + (" (less what is already disputed)"
                                                          if held.get(inv.pk) else ""))
            held[inv.pk] = held.get(inv.pk, 0) + amount
            rows.append(Dispute(
                company=company, customer_id=inv.customer_id, invoice=inv,
                currency=inv.currency, amount=amount, open_at_opening=open_.get(inv.pk, 0),
                reason=reason.value, owner=_owner(company, s.owner), due_date=s.due_date,
                opened_on=day, notes=s.notes, created_by=actor_row(actor)))
        Dispute.objects.bulk_create(rows)
        DisputeAttachment.objects.bulk_create(
            DisputeAttachment(company=company, dispute=d, name=f.name, mime=f.mime,
                              size=len(f.content), content=f.content)
            for d, s in zip(rows, specs, strict=True) for f in s.attachments)
        _signal_disputes(rows)
        for d, s in zip(rows, specs, strict=True):
            events.append(EventSpec("dispute.open", "dispute", str(d.pk), {
                "invoice": s.invoice, "amount": major_text(d.amount, d.currency),
                "currency": d.currency, "reason": d.reason, "day": day.isoformat(),
                "attachments": len(s.attachments)}))
        audit_many(company, actor, events)
        worklist_rank_refresh(company, [d.customer_id for d in rows])
    return rows


def _signal_disputes(rows: Sequence[Dispute]) -> None:
    """What a customer disputes reaches its payment behaviour and risk (credit)."""
    for d in rows:
        signal_record(company_id=d.company_id, customer_id=d.customer_id,
                      kind="dispute_opened", day=d.opened_on, invoice_id=d.invoice_id,
                      amount=d.amount, currency=d.currency)


def dispute_open(*, actor: Actor, company: Company, day: date, spec: DisputeSpec) -> Dispute:
    return disputes_open(actor=actor, company=company, day=day, specs=[spec])[0]


def disputes_from_deductions(*, company: Company, actor: Actor,
                             adjustment_ids: Sequence[int]) -> list[Dispute]:
    """A deduction flagged for a dispute becomes a dispute over what it settled (called when
    payments publishes ``DeductionsDisputed``, in the deduction's transaction)."""
    adjustments = list(Adjustment.objects.filter(company=company, pk__in=adjustment_ids)
                       .order_by("pk"))
    rows = [Dispute(company=company, customer_id=a.customer_id, invoice_id=a.invoice_id,
                    currency=a.currency, amount=a.amount, open_at_opening=a.amount,
                    reason=dispute_reason_of(a.reason_code).value, opened_on=a.date,
                    notes=a.memo, adjustment=a, created_by=actor_row(actor))
            for a in adjustments]
    Dispute.objects.bulk_create(rows)
    _signal_disputes(rows)
    audit_many(company, actor, [EventSpec("dispute.open", "dispute", str(d.pk), {
        "adjustment": d.adjustment_id, "amount": major_text(d.amount, d.currency),
        "currency": d.currency, "reason": d.reason, "day": d.opened_on.isoformat()})
        for d in rows])
    worklist_rank_refresh(company, [d.customer_id for d in rows])
    return rows


def _locked_open(company: Company, dispute_id: int) -> Dispute:
    dispute_get(company, dispute_id)  # NotFound names it
    row = Dispute.objects.select_for_update().select_related("invoice").get(pk=dispute_id)
    if row.status != DisputeStatus.OPEN.value:
        raise InvalidTransition(f"dispute {dispute_id} is already {row.status} (on "
                                f"{row.closed_on}): nothing to do", dispute=dispute_id)
    return row


def _close(company: Company, actor: Actor, row: Dispute, *, status: DisputeStatus, day: date,
           notes: str, **data: Any) -> Dispute:
    if day < row.opened_on:
        raise ValidationFailed(f"dispute {row.pk} was opened on {row.opened_on}: it cannot be "
                               f"closed on {day}", field="as_of")
    row.status, row.closed_on, row.resolution_notes = status.value, day, notes
    for k, v in data.items():
        setattr(row, k, v)
    row.save()
    audit(company, actor, f"dispute.{'reject' if status == DisputeStatus.REJECTED else 'resolve'}",
          "dispute", row.pk, day=day.isoformat(), resolution=row.resolution,
          credit_note=row.credit_note.number if row.credit_note else None,
          write_off=row.write_off_id, notes=notes)
    worklist_rank_refresh(company, [row.customer_id])
    return row


def dispute_resolve(*, actor: Actor, company: Company, dispute_id: int, day: date,
                    credit_note_lines: Sequence[LineInput] = (), credit_note: str = "",
                    write_off: bool = False, notes: str = "") -> Dispute:
    """The customer was right. A dispute over an invoice is settled by a credit note (issued
    here from ``credit_note_lines``, or one already posted that corrects the invoice) or by
    writing the amount off (a deduction accepted, reason taken from the dispute); a credit
    note for less than the disputed amount leaves the rest owed, back in the sequence. A
    dispute over a deduction is resolved by keeping the deduction as it stands."""
    require_role(company, actor, Role.CLERK)
    ways = sum((bool(credit_note_lines), bool(credit_note), write_off))
    with transaction.atomic():
        row = _locked_open(company, dispute_id)
        inv = row.invoice
        if row.adjustment_id is not None:
            if ways:
                raise ValidationFailed(
                    f"dispute {dispute_id} is over a deduction that already settled "
                    f"{format_minor(row.amount, row.currency)}: resolving it keeps the deduction "
                    "(reject it to reverse the deduction)", dispute=dispute_id)
            return _close(company, actor, row, status=DisputeStatus.RESOLVED, day=day,
                          notes=notes, resolution=Resolution.DEDUCTION_KEPT.value)
        if ways != 1:
            raise ValidationFailed("resolve a dispute one way: a credit note (--credit-note-line "
                                   "or --credit-note NUMBER) or --write-off", dispute=dispute_id)
        if write_off:
            adj = invoice_adjust(actor=actor, company=company, number=inv.number or "",
                                 kind="deduction", day=day,
                                 amount=Money.from_minor(row.amount, row.currency).amount,
                                 reason_code=deduction_reason_of(row.reason),
                                 memo=f"dispute {row.pk} resolved: {row.reason}")
            return _close(company, actor, row, status=DisputeStatus.RESOLVED, day=day,
                          notes=notes, resolution=Resolution.WRITE_OFF.value, write_off=adj)
        if credit_note_lines:
            draft = invoice_create(actor=actor, company=company, data=InvoiceInput(
                customer_code=row.customer.code,
                issue_date=day, lines=list(credit_note_lines), currency=inv.currency,
                kind=DocKind.CREDIT_NOTE, corrects_number=inv.number or "",
                notes=f"Credit for disputed invoice {inv.number} ({row.reason})"))
            cn = invoice_post(actor=actor, company=company, invoice_id=draft.pk)
        else:
            cn = invoice_get(company, credit_note)
            if cn.kind != DocKind.CREDIT_NOTE or cn.corrects_id != inv.pk:
                raise ValidationFailed(f"{credit_note} is not a credit note correcting "
                                       f"{inv.number}", credit_note=credit_note)
        if cn.total > row.amount:
            raise ValidationFailed(
                f"the credit note ({format_minor(cn.total, cn.currency)}) is more than the "
                f"{format_minor(row.amount, row.currency)} disputed", dispute=dispute_id)
        return _close(company, actor, row, status=DisputeStatus.RESOLVED, day=day, notes=notes,
                      resolution=Resolution.CREDIT_NOTE.value, credit_note=cn)


def dispute_reject(*, actor: Actor, company: Company, dispute_id: int, day: date,
                   notes: str = "") -> Dispute:
    """The customer was wrong: the amount is owed and back in the dunning sequence. A disputed
    deduction is reversed (what it settled is open again)."""
    require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        row = _locked_open(company, dispute_id)
        if row.adjustment_id is not None:
            adjustment_reverse(actor=actor, company=company, adjustment_id=row.adjustment_id,
                               day=day, reason=f"dispute {row.pk} rejected"
                               + (f": {notes}" if notes else ""))
        return _close(company, actor, row, status=DisputeStatus.REJECTED, day=day, notes=notes)


# ---------------------------------------------------------------- promises to pay
def promise_add(*, actor: Actor, company: Company, customer: str, amount: Decimal,
                promised_date: date, day: date, invoice: str = "", notes: str = "") -> Promise:
    """A collector records the customer's promise to pay ``amount`` by ``promised_date``
    (for one invoice, or on account)."""
    require_capability(company, actor, Capability.COLLECT)
    cust = customer_get(company, customer)
    inv = invoice_get(company, invoice) if invoice else None
    if inv is not None and inv.customer_id != cust.pk:
        raise ValidationFailed(f"{invoice} is not an invoice of {customer}", invoice=invoice)
    if promised_date < day:
        raise ValidationFailed(f"a promise made on {day} cannot be for {promised_date}, a day "
                               "already past", field="date")
    currency = inv.currency if inv is not None else cust.currency
    minor = _minor(amount, currency, "amount")
    if minor <= 0:
        raise ValidationFailed("the promised amount must be positive", field="amount")
    with transaction.atomic():
        row = Promise.objects.create(company=company, customer=cust, invoice=inv,
                                     currency=currency, amount=minor, made_on=day,
                                     promised_date=promised_date, notes=notes,
                                     created_by=actor_row(actor))
        signal_record(company_id=company.pk, customer_id=cust.pk, kind="promise_made", day=day,
                      invoice_id=inv.pk if inv else None, amount=minor, currency=currency)
        audit(company, actor, "promise.add", "promise", row.pk, customer=cust.code,
              invoice=invoice or None, amount=major_text(minor, currency), currency=currency,
              made_on=day.isoformat(), promised_date=promised_date.isoformat())
        worklist_rank_refresh(company, [cust.pk])
    return row


def promises_observe(*, actor: Actor, company: Company, as_of: date) -> list[PromiseView]:
    """Record, once, the promises that were kept or broken by ``as_of`` (derived from the
    allocations) and tell credit: its payment behaviour counts them. Run every day (by the
    dunning run, or ``promise review``); running it again records nothing more."""
    require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        pending = Promise.objects.select_for_update().filter(
            company=company, outcome="", made_on__lte=as_of).order_by("pk")
        seen = [v for v in promises_view(pending, as_of) if v.state != PromiseState.LIVE]
        for v in seen:
            p = v.promise
            p.outcome, p.observed_on = v.state.value, as_of
            p.save(update_fields=["outcome", "observed_on"])
            signal_record(company_id=company.pk, customer_id=p.customer_id,
                          kind=f"promise_{v.state.value}",
                          day=p.promised_date if v.state == PromiseState.BROKEN else as_of,
                          invoice_id=p.invoice_id, amount=p.amount, currency=p.currency)
        if seen:
            audit_many(company, actor, [EventSpec(
                f"promise.{v.state.value}", "promise", str(v.promise.pk),
                {"paid": major_text(v.paid, v.promise.currency),
                 "currency": v.promise.currency, "as_of": as_of.isoformat()}) for v in seen])
            worklist_rank_refresh(company, [v.promise.customer_id for v in seen])
    return seen


# ---------------------------------------------------------------- payment plans
def plan_create(*, actor: Actor, company: Company, customer: str, day: date, instalments: int,
                first_due: date, every_days: int = 30, invoices: Sequence[str] = (),
                grace_days: int = 0, hold_on_break: bool = False, notes: str = ""
                ) -> PaymentPlan:
    """Reschedule a customer's overdue items (or the open items of ``invoices``) into
    ``instalments`` equal parts, the first due on ``first_due``. The originals stay open in the
    ledger and leave the dunning sequence while the plan holds."""
    require_capability(company, actor, Capability.COLLECT)
    cust = customer_get(company, customer)
    if first_due < day:
        raise ValidationFailed(f"the first instalment cannot fall due before {day}",
                               field="first_due")
    if grace_days < 0:
        raise ValidationFailed("the grace period cannot be negative", field="grace")
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=cust.pk).exists()
        qs = Instalment.objects.filter(company=company, customer=cust,
                                       settled__lt=F("amount"), invoice__kind=DocKind.INVOICE)
        if invoices:
            ids = [invoice_get(company, n).pk for n in invoices]
            qs = qs.filter(invoice_id__in=ids)
        else:
            qs = qs.filter(due_date__lt=day)
        items = list(qs.select_for_update().order_by("due_date", "pk"))
        if not items:
            raise ValidationFailed(f"{customer} has nothing "
                                   + ("open on those invoices" if invoices else
                                      f"overdue on {day}") + " to reschedule",
                                   customer=customer)
        currencies = {i.currency for i in items}
        if len(currencies) > 1:
            raise ValidationFailed(f"{customer}'s items are in {', '.join(sorted(currencies))}: "
                                   "a plan is in one currency, name its invoices (--invoice)",
                                   customer=customer)
        _refuse_planned_twice(company, items, day)
        currency = currencies.pop()
        total = sum(i.amount - i.settled for i in items)
        lines = plan_schedule(total, currency, count=instalments, first_due=first_due,
                              every_days=every_days)
        plan = PaymentPlan.objects.create(
            company=company, customer=cust, currency=currency, total=total,
            settled_before=sum(i.settled for i in items), created_on=day,
            grace_days=grace_days, hold_on_break=hold_on_break, notes=notes,
            created_by=actor_row(actor))
        PlanItem.objects.bulk_create(PlanItem(company=company, plan=plan, invoice_id=i.invoice_id,
                                              instalment=i, amount=i.amount - i.settled)
                                     for i in items)
        PlanInstalment.objects.bulk_create(
            PlanInstalment(company=company, plan=plan, number=li.number, due_date=li.due_date,
                           amount=li.amount) for li in lines)
        audit(company, actor, "plan.create", "plan", plan.pk, customer=cust.code,
              total=major_text(total, currency), currency=currency, items=len(items),
              instalments=[[li.due_date.isoformat(), major_text(li.amount, currency)]
                           for li in lines])
        worklist_rank_refresh(company, [cust.pk])
    return plan


def _refuse_planned_twice(company: Company, items: Sequence[Instalment], day: date) -> None:
    taken = PaymentPlan.objects.filter(
        company=company, items__instalment_id__in=[i.pk for i in items]).distinct()
    live = [v.plan.pk for v in plans_view(taken, day) if v.state == "live"]
    if live:
        raise ValidationFailed(f"some of these items are already in payment plan {live[0]}",
                               plan=live[0])


def plans_observe(*, actor: Actor, company: Company, as_of: date) -> list[PlanView]:
    """Record, once, the plans that a missed instalment broke by ``as_of``: credit is told
    (``plan_broken``), and the customer is put on credit hold where the plan said so. Dunning
    resumes on the originals by itself (``dunning_pauses`` derives it)."""
    require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        pending = PaymentPlan.objects.select_for_update().filter(
            company=company, broken_on__isnull=True, created_on__lte=as_of).order_by("pk")
        broken = [v for v in plans_view(pending, as_of) if v.state == "broken"]
        for v in broken:
            plan = v.plan
            plan.broken_on = v.progress.broken_on
            plan.save(update_fields=["broken_on"])
            signal_record(company_id=company.pk, customer_id=plan.customer_id,
                          kind="plan_broken", day=plan.broken_on or as_of,
                          amount=plan.total - v.progress.paid, currency=plan.currency)
            if plan.hold_on_break:
                credit_hold(actor=actor, company=company, customer_id=plan.customer_id,
                            reason=f"payment plan {plan.pk} broken on {plan.broken_on}",
                            source="plan")
        if broken:
            audit_many(company, actor, [EventSpec(
                "plan.broken", "plan", str(v.plan.pk),
                {"broken_on": str(v.progress.broken_on), "paid": major_text(
                    v.progress.paid, v.plan.currency), "currency": v.plan.currency})
                for v in broken])
            worklist_rank_refresh(company, [v.plan.customer_id for v in broken])
    return broken


# ---------------------------------------------------------------- the timeline
def customer_note_add(*, actor: Actor, company: Company, customer: str, day: date, text: str,
                      invoice: str = "", inbound_reply: bool = False) -> Communication:
    """A note on the customer's timeline (anyone who writes may add one: sales, support,
    collectors). An inbound reply to a reminder is recorded the same way and pauses dunning
    for the customer until it is handled."""
    require_role(company, actor, Role.CLERK)
    if not text.strip():
        raise ValidationFailed("write the note's text", field="text")
    cust = customer_get(company, customer)
    inv = _invoice_of(company, cust, invoice)
    with transaction.atomic():
        comm = Communication.objects.create(
            company=company, customer=cust, at=_at(company, day),
            channel=Channel.EMAIL if inbound_reply else Channel.NOTE,
            direction="in" if inbound_reply else "out",
            subject="Reply to a reminder" if inbound_reply else "Note", body=text.strip(),
            status="awaiting" if inbound_reply else "logged", invoice=inv,
            created_by=actor_row(actor))
        if inbound_reply:
            Reply.objects.create(company=company, customer=cust, communication=comm,
                                 received_on=day)
        audit(company, actor, "reply.record" if inbound_reply else "note.add", "communication",
              comm.pk, customer=cust.code, invoice=invoice or None, day=day.isoformat())
        if inbound_reply:
            worklist_rank_refresh(company, [cust.pk])
    return comm


def _invoice_of(company: Company, cust: Customer, invoice: str) -> Invoice | None:
    if not invoice:
        return None
    inv = invoice_get(company, invoice)
    if inv.customer_id != cust.pk:
        raise ValidationFailed(f"{invoice} is not an invoice of {cust.code}", invoice=invoice)
    return inv


def customer_call_log(*, actor: Actor, company: Company, customer: str, day: date,
                      outcome: str, notes: str = "", invoice: str = "") -> Communication:
    """A call to the customer, with its outcome and what was said."""
    require_role(company, actor, Role.CLERK)
    result = parse_choice(CallOutcome, outcome, "outcome")
    cust = customer_get(company, customer)
    inv = _invoice_of(company, cust, invoice)
    with transaction.atomic():
        comm = Communication.objects.create(
            company=company, customer=cust, at=_at(company, day), channel=Channel.PHONE,
            direction="out", subject=f"Call: {result.value.replace('_', ' ')}",
            body=notes.strip(), status=result.value, invoice=inv, created_by=actor_row(actor))
        # A call asked for and since paid closed as paid; the one still open is made: it
        # leaves the worklist.
        call_tasks_record_paid(actor=actor, company=company, as_of=day, customer_ids=[cust.pk])
        closed = (CallTask.objects.filter(company=company, customer=cust, done_on__isnull=True)
                  .update(done_on=day, call=comm, outcome="called"))
        audit(company, actor, "call.log", "communication", comm.pk, customer=cust.code,
              outcome=result.value, invoice=invoice or None, day=day.isoformat(),
              call_tasks_closed=closed)
        worklist_rank_refresh(company, [cust.pk])
    return comm


def call_tasks_open(*, actor: Actor, company: Company, customer_ids: Sequence[int], day: date,
                    reason: str) -> list[CallTask]:
    """A call for a collector to make to each customer, due on ``day``, for the customer's
    collector (if one is assigned): on the worklist until a call is logged. A customer with a
    call still to make gets no second one."""
    require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        call_tasks_record_paid(actor=actor, company=company, as_of=day,
                               customer_ids=customer_ids)
        waiting = set(CallTask.objects.filter(company=company, customer_id__in=customer_ids,
                                              done_on__isnull=True)
                      .values_list("customer_id", flat=True))
        collectors = dict(Assignment.objects.filter(company=company,
                                                    customer_id__in=customer_ids)
                          .values_list("customer_id", "collector_id"))
        rows = CallTask.objects.bulk_create(
            CallTask(company=company, customer_id=cid, due_on=day, reason=reason[:200],
                     collector_id=collectors.get(cid))
            for cid in dict.fromkeys(customer_ids) if cid not in waiting)
        audit_many(company, actor, [EventSpec("call_task.open", "customer", str(t.customer_id),
                                              {"day": day.isoformat(), "reason": t.reason})
                                    for t in rows])
        worklist_rank_refresh(company, [t.customer_id for t in rows])
    return rows


def call_tasks_record_paid(*, actor: Actor, company: Company, as_of: date,
                           customer_ids: Sequence[int] | None = None) -> list[int]:
    """Close, as ``paid``, the open call tasks whose customer has paid what they were about
    by ``as_of`` (``selectors.call_tasks_paid``: derived, so a write-off closes a task as a
    receipt does), dated the day it was paid; returns their ids. Called when allocations are
    made (handlers.py), before a call task is opened and before a call is logged. No role is
    needed: it records what the ledger already says, for whoever wrote the payment."""
    paid = call_tasks_paid(company, as_of=as_of, customer_ids=customer_ids)
    if not paid:
        return []
    with transaction.atomic():
        rows = list(CallTask.objects.select_for_update().filter(
            company=company, pk__in=sorted(paid), done_on__isnull=True).order_by("pk"))
        for task in rows:
            task.done_on, task.outcome = paid[task.pk], "paid"
        CallTask.objects.bulk_update(rows, ["done_on", "outcome"])
        audit_many(company, actor, [EventSpec("call_task.paid", "customer", str(t.customer_id),
                                              {"task": t.pk, "day": t.done_on.isoformat(),
                                               "reason": t.reason}) for t in rows])
        worklist_rank_refresh(company, [t.customer_id for t in rows])
    return [t.pk for t in rows]


def reply_handle(*, actor: Actor, company: Company, communication_id: int, day: date) -> Reply:
    """An inbound reply has been dealt with: dunning may resume for the customer."""
    require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        row = (Reply.objects.select_for_update().filter(company=company,
                                                         communication_id=communication_id)
               .select_related("customer").first())
        if row is None:
            raise NotFound(f"no inbound reply {communication_id} in {company.code} (give the id "
                           "that `customer note --inbound-reply` answered)",
                           reply=communication_id)
        if row.handled_on is not None:
            raise InvalidTransition(f"reply {communication_id} was handled on {row.handled_on}",
                                    reply=communication_id)
        if day < row.received_on:
            raise ValidationFailed(f"reply {communication_id} came on {row.received_on}: it "
                                   f"cannot be handled on {day}", field="as_of")
        row.handled_on, row.handled_by = day, actor_row(actor)
        row.save(update_fields=["handled_on", "handled_by"])
        Communication.objects.filter(pk=communication_id).update(status="handled")
        audit(company, actor, "reply.handle", "communication", communication_id,
              customer=row.customer.code, day=day.isoformat())
        worklist_rank_refresh(company, [row.customer_id])
    return row


# ---------------------------------------------------------------- the worklist
def worklist_assign(*, actor: Actor, company: Company, customers: Sequence[str],
                    collector: str, day: date, next_action: date | None = None
                    ) -> list[Assignment]:
    """Give customers to a collector (one who holds ``Capability.COLLECT``), with the day to
    act next if known. A customer has one collector: assigning again moves it."""
    require_role(company, actor, Role.MANAGER)
    user = user_get(collector)
    if not has_capability(company, user, Capability.COLLECT) or user is None:
        raise ValidationFailed(f"{collector} may not chase customers in {company.code}: give "
                               "them the collector role (`user role`)", collector=collector)
    custs = [customer_get(company, c) for c in customers]
    with transaction.atomic():
        rows = []
        for c in custs:
            row, _ = Assignment.objects.update_or_create(
                company=company, customer=c,
                defaults={"collector": user, "assigned_on": day, "next_action_on": next_action})
            rows.append(row)
        audit_many(company, actor, [EventSpec("worklist.assign", "customer", str(c.pk), {
            "customer": c.code, "collector": collector, "day": day.isoformat(),
            "next_action": next_action.isoformat() if next_action else None}) for c in custs])
        worklist_rank_refresh(company, [c.pk for c in custs])
    return rows


__all__ = ["Attachment", "DisputeSpec", "call_tasks_open", "call_tasks_record_paid",
           "customer_call_log", "customer_note_add",
           "dispute_open", "dispute_reject", "dispute_resolve", "disputes_from_deductions",
           "disputes_open", "plan_create", "plans_observe", "promise_add", "promises_observe",
           "reply_handle", "worklist_assign"]
