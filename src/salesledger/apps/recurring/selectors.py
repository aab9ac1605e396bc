"""Reading recurring schedules: what each bills, how often, what it has issued and what
comes next on ``as_of`` (derived from the issued periods, never stored)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, OuterRef, Q, Subquery

from salesledger.apps.core.models import Company
from salesledger.apps.customers.models import PaymentTerms
from salesledger.apps.invoicing.issuing import compute_invoice_totals
from salesledger.domain.errors import NotFound
from salesledger.domain.invoicing import LineInput
from salesledger.domain.journal import to_base
from salesledger.domain.posting import document_terms, split_base
from salesledger.domain.recurrence import (
    Recurrence,
    Unit,
    describe,
    due_count,
    next_start,
    periods_to_come,
    total_periods,
)
from salesledger.domain.terms import build_schedule
from salesledger.money import Money, Rounding

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



@dataclass(frozen=True)
class UpcomingInstalment:
    """One instalment of an invoice a schedule is still to issue, as it would be posted."""

    schedule_id: int
    customer: str  # code
    issue_date: date
    due_date: date
    currency: str
    amount: int  # minor units of the currency
    base_amount: int  # at the schedule's rate


def upcoming_instalments(company: Company, *, after: date, until: date
                         ) -> list[UpcomingInstalment]:
    """The instalments of the invoices the active schedules are still to issue, seen from
    ``after``, dated up to ``until`` (``periods_to_come``): each period's invoice of the
    schedule's lines, at its rate, falling due by its terms (the schedule's, else the
    customer's, else the company's), as posting would split it. Three queries whatever the
    number of schedules."""
    schedules = list(RecurringSchedule.objects.filter(company=company, active=True)
                     .select_related("customer").prefetch_related("lines")
                     .annotate(last_index=Max("runs__period_index")).order_by("pk"))
    terms = {t.pk: t.to_domain() for t in PaymentTerms.objects.filter(company=company)}
    out: list[UpcomingInstalment] = []
    for s in schedules:
        issued = 0 if s.last_index is None else s.last_index + 1
        periods = periods_to_come(schedule_rule(s), after=after, until=until, issued=issued)
        if not periods:
            continue
        lines = [LineInput(li.description, li.quantity, li.unit_price, li.tax_rate,
                           li.discount_percent, li.tax_category,
                           exemption_reason=li.exemption_reason, unit_code=li.unit_code)
                 for li in sorted(s.lines.all(), key=lambda li: li.position)]
        totals = compute_invoice_totals(company, s.currency, lines)
        base_total = to_base(totals.total, s.currency, company.base_currency, Decimal(s.rate))
        falls_due = document_terms((s.terms_id, s.customer.payment_terms_id,
                                    company.default_terms_id), terms.__getitem__)
        if totals.total <= 0:
            continue
        for p in periods:
            parts = build_schedule(Money.from_minor(totals.total, s.currency), p.start,
                                   falls_due, Rounding(company.rounding))
            bases = split_base(base_total, [x.amount for x in parts])
            out += [UpcomingInstalment(s.pk, s.customer.code, p.start, x.due_date, s.currency,
                                       x.amount, b) for x, b in zip(parts, bases, strict=True)]
    return out
