"""Readers of statements on a schedule (docs/design/dunning.md, "Statements on a schedule"):
the schedules, the customers a schedule reaches on a day and the statements already written
for a period. Set-based: a query for each, whatever the number of customers."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import F

from salesledger.apps.core.models import Company
from salesledger.apps.core.selectors import queued_task
from salesledger.apps.customers.models import Customer
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.apps.payments.models import Receipt
from salesledger.domain.errors import NotFound

from .models import DunningNotice, NoticeKind, StatementSchedule, StatementScheduleCustomer
from .selectors import QueuedRun


def customers_with_balance(company: Company) -> set[int]:
    """The customers with something on their statement: an open instalment, unapplied
    cash or an open credit note."""
    out = set(Instalment.objects.filter(company=company, settled__lt=F("amount"))
              .values_list("customer_id", flat=True).distinct())
    out |= set(Receipt.objects.filter(company=company, amount__gt=F("allocated"))
               .values_list("customer_id", flat=True).distinct())
    out |= set(Invoice.objects.filter(company=company, kind=DocKind.CREDIT_NOTE,
                                      status="posted", total__gt=F("allocated"))
               .values_list("customer_id", flat=True).distinct())
    return out


def statement_customers(company: Company, ids: set[int]) -> list[Customer]:
    """The customers ``ids`` (an inactive one, anonymised or closed, receives no statement:
    the run says so)."""
    return list(Customer.objects.filter(company=company, pk__in=ids))


def statements_written(company: Company, day: date) -> set[int]:
    """The customers whose statement of the period ``day`` is written."""
    return set(DunningNotice.objects.filter(company=company, kind=NoticeKind.STATEMENT,
                                            day=day).values_list("customer_id", flat=True))


def schedule_rows(company: Company, *, active: bool = True) -> list[StatementSchedule]:
    qs = StatementSchedule.objects.filter(company=company).order_by("code")
    return list(qs.filter(active=True) if active else qs)


def schedule_list(company: Company) -> list[dict[str, Any]]:
    chosen: dict[int, list[str]] = {}
    for sid, code in (StatementScheduleCustomer.objects
                      .filter(company=company).order_by("customer__code")
                      .values_list("schedule_id", "customer__code")):
        chosen.setdefault(sid, []).append(code)
    return [{"code": s.code, "every": s.every, "day": s.day,
             "starts_on": s.starts_on.isoformat(), "active": s.active,
             "customers": "all with a balance" if s.all_with_balance else chosen.get(s.pk, [])}
            for s in schedule_rows(company, active=False)]


def schedule_get(company: Company, code: str) -> StatementSchedule:
    row = StatementSchedule.objects.filter(company=company, code=code).first()
    if row is None:
        raise NotFound(f"no statement schedule {code} in {company.code}", schedule=code)
    return row


def statement_run_state(company: Company, task_id: str) -> QueuedRun:
    """The statement run task ``task_id`` of ``company`` (queued from the workspace, or by
    the worker's calendar); another company's task, or any other task, is "not found"."""
    try:
        task = queued_task(company, task_id, frozenset({"statement_run_task"}))
    except NotFound:
        raise NotFound(f"no statement run {task_id!r}") from None
    return QueuedRun(task.task_id, str(task.kwargs.get("as_of", "")), task.state, task.result,
                     bool(task.kwargs.get("send", True)))
