"""Reading recurring schedules: what each bills, how often, what it has issued and what
comes next on ``as_of`` (derived from the issued periods, never stored)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count, Max, OuterRef, Q, Subquery

from salesledger.apps.core.models import Company
from salesledger.domain.errors import NotFound
from salesledger.domain.recurrence import (
    Recurrence,
    Unit,
    describe,
    due_count,
    next_start,
    total_periods,
)
from salesledger.money import Money

from .models import RecurringRun, RecurringSchedule


def recurring_get(company: Company, schedule_id: int | str) -> RecurringSchedule:
    text = str(schedule_id).strip()
    schedule = (RecurringSchedule.objects.filter(company=company, pk=int(text))
                .select_related("customer").first() if text.isdigit() else None)
    if schedule is None:
        raise NotFound(f"no recurring schedule {schedule_id!r}", schedule=schedule_id)
    return schedule


def schedule_rule(schedule: RecurringSchedule) -> Recurrence:
    """The recurrence rule of a stored schedule, as the pure core takes it."""
    return Recurrence(Unit(schedule.unit), schedule.interval, schedule.start_date,
                      schedule.end_date, schedule.count)


def recurring_list(company: Company, *, as_of: date, active_only: bool = False,
                   limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Schedules with their issued count, next date and state, in one query."""
    qs = RecurringSchedule.objects.filter(company=company)
    if active_only:
        qs = qs.filter(active=True)
    last_invoice = (RecurringRun.objects.filter(schedule=OuterRef("pk"))
                    .order_by("-period_index").values("invoice__number")[:1])
    schedules = list(qs.select_related("customer").annotate(
        issued=Count("runs", distinct=True), last_index=Max("runs__period_index"),
        failed_sends=Count("runs", filter=Q(runs__send_status="failed"), distinct=True),
        n_lines=Count("lines", distinct=True), last_invoice=Subquery(last_invoice),
    ).order_by("pk")[offset:offset + limit])
    out = []
    for s in schedules:
        rule = schedule_rule(s)
        issued = 0 if s.last_index is None else s.last_index + 1
        upcoming = next_start(rule, issued)
        state = ("stopped" if not s.active else "finished" if upcoming is None
                 else "due" if due_count(rule, as_of) > issued else "active")
        out.append({
            "id": s.pk, "customer": s.customer.code, "every": describe(Unit(s.unit), s.interval),
            "start": s.start_date, "end": s.end_date, "count": s.count,
            "periods": total_periods(rule), "issued": s.issued, "next": upcoming,
            "state": state, "currency": s.currency, "auto_send": s.auto_send,
            "po_number": s.po_number, "lines": s.n_lines,
            "last_invoice": s.last_invoice, "failed_sends": s.failed_sends,
        })
    return out


def recurring_runs(company: Company, schedule_id: int) -> list[dict[str, Any]]:
    """The periods a schedule has issued, with their invoice and delivery."""
    rows = (RecurringRun.objects.filter(company=company, schedule_id=schedule_id)
            .order_by("period_index")
            .values("period_index", "period_start", "period_end", "invoice__number",
                    "invoice__total", "invoice__currency", "send_status", "send_detail"))
    return [{"period": r["period_index"] + 1, "start": r["period_start"],
             "end": r["period_end"], "invoice": r["invoice__number"],
             "total": Money.from_minor(r["invoice__total"], r["invoice__currency"]).to_json(),
             "send_status": r["send_status"] or None, "send_detail": r["send_detail"]}
            for r in rows]

