"""Recurring invoice schedules and the run that issues their due periods exactly once.

``recurring_run`` issues every period that is due on ``as_of`` and not issued yet, each in
its own transaction: lock the schedule row, check that no ``RecurringRun`` exists for the
period, create and post the invoice through the invoicing services, write the
``RecurringRun`` row (unique per schedule and period) and the audit event, and commit. Two
runs at once queue on the schedule lock and the second finds the period issued; a run that
dies mid-way has committed whole periods only, so running again issues the rest. The
argument is written out in docs/design/recurring-invoices.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from salesledger.apps.core import events
from salesledger.apps.core.actors import Actor, actor_row
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import posting_locks, require_role
from salesledger.apps.customers.selectors import customer_effective
from salesledger.apps.customers.services import payment_terms_find
from salesledger.apps.invoicing.issuing import (
    compute_invoice_totals,
    document_currency,
    resolve_rate,
)
from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post
from salesledger.domain.errors import LedgerError
from salesledger.domain.invoicing import LineInput
from salesledger.domain.recurrence import (
    Period,
    Recurrence,
    describe,
    due_periods,
    parse_every,
)

from .models import RecurringLine, RecurringRun, RecurringSchedule, SendStatus
from .selectors import recurring_get, schedule_rule

log = logging.getLogger(__name__)

# A run catches up at most this many periods per schedule; the rest is issued next time.
MAX_PERIODS_PER_RUN = 500


@dataclass
class ScheduleInput:
    customer_code: str
    lines: list[LineInput]
    every: str
    start: date
    end: date | None = None
    count: int | None = None
    currency: str = ""
    rate: Decimal | None = None
    terms_code: str = ""
    po_number: str = ""
    buyer_reference: str = ""
    notes: str = ""
    auto_send: bool = False


@dataclass
class RunSummary:
    as_of: date
    issued: list[dict[str, Any]] = field(default_factory=list)
    already_issued: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    remaining: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "issued": self.issued,
                "already_issued": self.already_issued, "problems": self.problems,
                "remaining": self.remaining}


def schedule_lines(schedule: RecurringSchedule) -> list[LineInput]:
    return [
        LineInput(li.description, li.quantity, li.unit_price, li.tax_rate, li.discount_percent,
                  li.tax_category, exemption_reason=li.exemption_reason, unit_code=li.unit_code)
        for li in schedule.lines.all()
    ]


def recurring_add(*, actor: Actor, company: Company, data: ScheduleInput,
                  as_of: date) -> RecurringSchedule:
    """Write a schedule. Its lines are checked now, as an invoice's would be."""
    require_role(company, actor, Role.CLERK)
    unit, interval = parse_every(data.every)
    rule = Recurrence(unit, interval, data.start, data.end, data.count)  # refuses bad ones
    customer = customer_effective(company, data.customer_code)
    currency = document_currency(company, customer, data.currency)
    rate = resolve_rate(company, currency, data.rate)
    compute_invoice_totals(company, currency, data.lines)
    terms = payment_terms_find(company, data.terms_code)
    with transaction.atomic():
        schedule = RecurringSchedule.objects.create(
            company=company, customer=customer, unit=rule.unit.value, interval=rule.interval,
            start_date=rule.start, end_date=rule.end, count=rule.count, currency=currency,
            rate=rate, terms=terms, po_number=data.po_number.strip(),
            buyer_reference=data.buyer_reference.strip(), notes=data.notes,
            auto_send=data.auto_send,
            created_by=actor_row(actor))
        RecurringLine.objects.bulk_create(
            RecurringLine(company=company, schedule=schedule, position=i,
                          description=li.description, quantity=li.quantity,
                          unit_price=li.unit_price, discount_percent=li.discount_percent,
                          tax_rate=li.tax_rate, tax_category=li.tax_category,
                          exemption_reason=li.exemption_reason, unit_code=li.unit_code)
            for i, li in enumerate(data.lines, start=1))
        audit(company, actor, "recurring.add", "recurring_schedule", schedule.pk, after={
            "customer": customer.code, "every": describe(rule.unit, rule.interval),
            "start": rule.start.isoformat(), "end": rule.end and rule.end.isoformat(),
            "count": rule.count, "currency": currency, "auto_send": data.auto_send,
            "lines": len(data.lines)}, as_of=as_of.isoformat())
    return schedule


def recurring_set_active(*, actor: Actor, company: Company, schedule_id: int | str,
                         active: bool, as_of: date) -> RecurringSchedule:
    """Stop a schedule (nothing more is issued) or resume it (missed periods are caught up
    by the next run)."""
    require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        schedule = recurring_get(company, schedule_id)
        schedule = RecurringSchedule.objects.select_for_update().get(pk=schedule.pk)
        before = schedule.active
        schedule.active = active
        schedule.save(update_fields=["active"])
        audit(company, actor, "recurring.resume" if active else "recurring.stop",
              "recurring_schedule", schedule.pk, before={"active": before},
              after={"active": active}, as_of=as_of.isoformat())
    return schedule


def recurring_run(*, actor: Actor, company: Company, as_of: date,
                  schedule_id: int | None = None) -> RunSummary:
    """Issue every due period of the company's active schedules up to ``as_of`` that is
    not issued yet, each period in its own transaction. A schedule whose period is refused
    (a closed period, a PO the customer requires) stops there and is reported; the others
    go on. Running again is always safe."""
    require_role(company, actor, Role.CLERK)
    summary = RunSummary(as_of=as_of)
    schedules = (RecurringSchedule.objects
                 .filter(company=company, active=True, start_date__lte=as_of)
                 .annotate(last_index=Max("runs__period_index")).order_by("pk"))
    if schedule_id is not None:
        schedules = schedules.filter(pk=schedule_id)
    for schedule in schedules:
        issued = -1 if schedule.last_index is None else schedule.last_index
        periods = list(due_periods(schedule_rule(schedule), as_of, issued=issued + 1,
                                   limit=MAX_PERIODS_PER_RUN + 1))
        summary.remaining += max(len(periods) - MAX_PERIODS_PER_RUN, 0)
        for p in periods[:MAX_PERIODS_PER_RUN]:
            try:
                run = issue_period(actor=actor, company=company, schedule_id=schedule.pk,
                                   period=p, as_of=as_of)
            except LedgerError as exc:
                summary.problems.append({"schedule": schedule.pk, "period": p.index + 1,
                                         "period_start": p.start.isoformat(),
                                         "code": exc.code, "message": exc.message})
                break
            if run is None:
                summary.already_issued += 1
                continue
            summary.issued.append({"schedule": schedule.pk, "period": p.index + 1,
                                   "period_start": p.start.isoformat(),
                                   "invoice": run.invoice.number,
                                   "auto_send": run.send_status == SendStatus.QUEUED})
    return summary


def issue_period(*, actor: Actor, company: Company, schedule_id: int, period: Period,
                 as_of: date) -> RecurringRun | None:
    """Issue one period in one transaction; None when it is already issued (or the
    schedule was stopped meanwhile)."""
    with transaction.atomic():
        # The lock queues concurrent runs of one schedule; ``of`` keeps it on this row.
        schedule = (RecurringSchedule.objects.select_for_update(of=("self",))
                    .select_related("customer", "terms").get(pk=schedule_id, company=company))
        if not schedule.active or RecurringRun.objects.filter(
                schedule=schedule, period_index=period.index).exists():
            return None
        # The locks of posting first, in posting's order (docs/design/concurrency.md).
        posting_locks(company, "INV", period.start)
        currency = schedule.currency
        notes = f"Period {period.start.isoformat()} to {period.end.isoformat()}"
        invoice = invoice_create(actor=actor, company=company, data=InvoiceInput(
            customer_code=schedule.customer.code, issue_date=period.start,
            lines=schedule_lines(schedule), currency=currency,
            rate=None if currency == company.base_currency else Decimal(schedule.rate),
            terms_code=schedule.terms.code if schedule.terms else "",
            po_number=schedule.po_number, buyer_reference=schedule.buyer_reference,
            notes=f"{schedule.notes}\n{notes}".strip()))
        invoice = invoice_post(actor=actor, company=company, invoice_id=invoice.pk)
        try:
            with transaction.atomic():
                run = RecurringRun.objects.create(
                    company=company, schedule=schedule, period_index=period.index,
                    period_start=period.start, period_end=period.end, invoice=invoice,
                    send_status=SendStatus.QUEUED if schedule.auto_send else SendStatus.NONE)
        except IntegrityError:
            # Only reachable if the lock was bypassed; the constraint still says no, and
            # rolling back gives the invoice number back.
            transaction.set_rollback(True)
            return None
        audit(company, actor, "recurring.issue", "recurring_schedule", schedule.pk,
              period=period.index + 1, period_start=period.start.isoformat(),
              period_end=period.end.isoformat(), invoice=invoice.number,
              as_of=as_of.isoformat())
        # The recurring app's task shell queues the sending after commit (auto_send);
        # the apps above may act on the new invoice too.
        events.publish(events.RecurringInvoiceIssued(
            company_id=company.pk, company_code=company.code, run_id=run.pk,
            invoice_id=invoice.pk, as_of=as_of, auto_send=schedule.auto_send))
    return run


def now_local(company: Company, now: datetime) -> date:
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(company.time_zone)).date()
