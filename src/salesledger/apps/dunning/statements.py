"""Statements of account on a schedule, through the dunning run's machinery
(docs/design/dunning.md, "Statements on a schedule").

read -> write -> send, as a dunning run:
1. Read: the schedules due on the day (``domain/statement_schedule.py``: each names the
   period it sends for), the customers each reaches (every customer with a balance, or the
   ones chosen) and the statements already written for the period, a query each.
2. Write, one transaction per customer: a ``DunningNotice`` of kind ``statement`` dated the
   period's day. Its unique key (company, customer, kind, day) makes the statement of a
   customer and a period one row, whatever the number of runs.
3. Send every statement of the period not yet handed to the mail server: the e-mail with the
   statement PDF goes through the documents app's delivery (on the customer's timeline with
   its delivery status), recorded on the notice in the same transaction. A statement whose
   e-mail was recorded and whose outcome was not (the process died while the mail server had
   it) is never sent again: it is reported as ``outcome_unknown``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction

from salesledger.apps.core.actors import Actor, actor_row
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import require_role
from salesledger.apps.customers.models import Customer
from salesledger.apps.customers.selectors import customer_get
from salesledger.apps.documents.delivery import customer_statement_send, resolve_recipients
from salesledger.domain.errors import NoRecipients, ValidationFailed
from salesledger.domain.statement_schedule import Every, check_schedule, due_day

from .models import DunningNotice, NoticeKind, StatementSchedule, StatementScheduleCustomer
from .statement_selectors import (
    customers_with_balance,
    schedule_get,
    schedule_rows,
    statement_customers,
    statements_written,
)


# ---------------------------------------------------------------- the schedules
def statement_schedule_set(*, actor: Actor, company: Company, code: str, every: str, day: int,
                           customers: Sequence[str] = (), as_of: date) -> StatementSchedule:
    """Add or change a schedule: every month (or week) on ``day``, to every customer with a
    balance, or to ``customers`` only. It sends from ``as_of`` on (no period before it)."""
    require_role(company, actor, Role.MANAGER)
    code = code.strip()
    if not code:
        raise ValidationFailed("a statement schedule needs a code", field="code")
    freq, day = check_schedule(every, day)
    chosen = [customer_get(company, c) for c in customers]
    with transaction.atomic():
        row, created = StatementSchedule.objects.update_or_create(
            company=company, code=code,
            defaults={"every": freq.value, "day": day, "starts_on": as_of,
                      "all_with_balance": not chosen, "active": True,
                      "created_by": actor_row(actor)})
        StatementScheduleCustomer.objects.filter(schedule=row).delete()
        StatementScheduleCustomer.objects.bulk_create(
            StatementScheduleCustomer(company=company, schedule=row, customer=c)
            for c in chosen)
        audit(company, actor, "statement.schedule_set", "statement_schedule", row.pk,
              code=code, every=freq.value, day=day, starts_on=as_of.isoformat(),
              customers=[c.code for c in chosen] or "all with a balance", created=created)
    return row


def statement_schedule_stop(*, actor: Actor, company: Company, code: str) -> StatementSchedule:
    """Stop a schedule (kept, with the statements it sent)."""
    require_role(company, actor, Role.MANAGER)
    with transaction.atomic():
        row = schedule_get(company, code)
        row.active = False
        row.save(update_fields=["active"])
        audit(company, actor, "statement.schedule_stop", "statement_schedule", row.pk,
              code=code)
    return row


# ---------------------------------------------------------------- the run
@dataclass
class StatementRunSummary:
    as_of: date
    send: bool
    customers: int = 0
    messages_sent: int = 0
    planned: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "sent": self.send,
                "customers": self.customers, "messages_sent": self.messages_sent,
                "planned": self.planned, "skipped": self.skipped, "problems": self.problems}


def _targets(company: Company, as_of: date) -> dict[date, dict[int, str]]:
    """period day -> customer id -> the schedule that sends it (the first by code, when two
    schedules reach a customer for one day: one statement either way)."""
    out: dict[date, dict[int, str]] = {}
    balance: set[int] | None = None
    schedules = schedule_rows(company)
    chosen: dict[int, list[int]] = {}
    for sid, cid in (StatementScheduleCustomer.objects
                     .filter(schedule__in=[s.pk for s in schedules])
                     .values_list("schedule_id", "customer_id")):
        chosen.setdefault(sid, []).append(cid)
    for s in schedules:
        day = due_day(Every(s.every), s.day, starts_on=s.starts_on, as_of=as_of)
        if day is None:
            continue
        if s.all_with_balance:
            if balance is None:
                balance = customers_with_balance(company)
            ids: Sequence[int] = sorted(balance)
        else:
            ids = chosen.get(s.pk, [])
        who = out.setdefault(day, {})
        for cid in ids:
            who.setdefault(cid, s.code)
    return out


def statement_run(*, actor: Actor, company: Company, as_of: date, send: bool = False,
                  after_notice: Callable[[int], None] | None = None) -> StatementRunSummary:
    """Send the statements the schedules owe on ``as_of``: a preview unless ``send``.
    ``after_notice`` is called with each statement written (the tests' place to stop a run
    midway)."""
    require_role(company, actor, Role.CLERK)
    summary = StatementRunSummary(as_of, send)
    targets = _targets(company, as_of)
    for day, who in sorted(targets.items()):
        todo = set(who) - statements_written(company, day)
        for customer in sorted(statement_customers(company, todo), key=lambda c: c.code):
            cid = customer.pk
            if not customer.is_active:  # anonymised or closed: no statement
                summary.skipped.append({"customer": customer.code, "period": day.isoformat(),
                                        "reason": "inactive"})
                continue
            try:
                resolve_recipients(customer, None)
            except NoRecipients as exc:
                summary.skipped.append({"customer": customer.code, "period": day.isoformat(),
                                        "reason": "no_email_address", "detail": exc.message})
                continue
            summary.customers += 1
            summary.planned.append({"customer": customer.code, "period": day.isoformat(),
                                    "schedule": who[cid]})
            if not send:
                continue
            notice = _write(actor, company, customer, day, who[cid])
            if notice is not None and after_notice is not None:
                after_notice(notice.pk)
    if send:
        _send_pending(actor, company, sorted(targets), summary)
    return summary


def _write(actor: Actor, company: Company, customer: Customer, day: date, schedule: str
           ) -> DunningNotice | None:
    try:
        with transaction.atomic():
            notice = DunningNotice.objects.create(
                company=company, customer=customer, kind=NoticeKind.STATEMENT, day=day,
                channels="email", summary={"schedule": schedule},
                created_by=actor_row(actor))
            audit(company, actor, "statement.scheduled", "dunning_notice", notice.pk,
                  customer=customer.code, day=day.isoformat(), schedule=schedule)
    except IntegrityError:
        # Another run wrote it first: it sends it.
        if DunningNotice.objects.filter(company=company, customer=customer,
                                        kind=NoticeKind.STATEMENT, day=day).exists():
            return None
        raise
    return notice


def _send_pending(actor: Actor, company: Company, days: list[date],
                  summary: StatementRunSummary) -> None:
    notices = DunningNotice.objects.filter(company=company, kind=NoticeKind.STATEMENT,
                                           day__in=days)
    for code, day in (notices.filter(communication__status="queued")
                      .values_list("customer__code", "day")):
        summary.skipped.append({"customer": code, "period": day.isoformat(),
                                "reason": "outcome_unknown",
                                "detail": "the run stopped while the mail server had the "
                                "statement: check its log before sending again"})
    for notice in (notices.filter(communication__isnull=True).select_related("customer")
                   .order_by("pk")):
        try:
            with transaction.atomic():
                comm = customer_statement_send(actor=actor, company=company,
                                               code=notice.customer.code, as_of=notice.day)
                notice.communication = comm
                notice.save(update_fields=["communication"])
        except NoRecipients as exc:  # the address was removed since the notice was written
            summary.skipped.append({"customer": notice.customer.code,
                                    "period": notice.day.isoformat(),
                                    "reason": "no_email_address", "detail": exc.message})
            continue
        comm.refresh_from_db()
        if comm.status in ("bounced", "failed"):
            summary.problems.append({"customer": notice.customer.code,
                                     "code": "delivery_failed",
                                     "message": f"{comm.status}: {comm.status_detail}"})
        else:
            summary.messages_sent += 1
