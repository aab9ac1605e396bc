"""What collections knows on a day (docs/design/collections.md): the pauses of the dunning
sequence (disputes, promises, plans, replies awaiting an answer), the instalments of payment
plans, the state of promises and plans, and the lists the command line shows.

``dunning_pauses`` and ``plan_instalments_due`` are read by the dunning run over every customer
of a company: each is a handful of queries whatever the number of customers, over indexed
rows that are few beside the open items (disputes, promises, plans and replies).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.db.models import Exists, F, Min, OuterRef, Q, QuerySet, Subquery, Sum

from salesledger.apps.core.models import Company
from salesledger.apps.credit.prediction import model_chances, payment_outlooks
from salesledger.apps.credit.selectors import risk_scores
from salesledger.apps.customers.models import Communication, Customer
from salesledger.apps.customers.selectors import customer_get
from salesledger.apps.invoicing.models import Instalment
from salesledger.apps.invoicing.selectors import invoice_get
from salesledger.apps.payments.models import Allocation
from salesledger.apps.reporting.selectors import ReportFilters, aging_report
from salesledger.domain.collections import (
    PlanLine,
    PlanProgress,
    PromiseState,
    expected_value,
    plan_progress,
    promise_state,
    value_at_stake,
    waiting_share,
)
from salesledger.domain.errors import NotFound, ValidationFailed
from salesledger.domain.journal import to_base
from salesledger.money import format_minor

from .models import (
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

__all__ = ["DunningPause", "PlanInstalmentDue", "PlanMissed", "PlanView", "PromiseView",
           "TimelineEntry", "WorklistRow", "call_tasks_paid", "customer_timeline",
           "dispute_attachment", "dispute_attachments", "dispute_get", "disputes_list",
           "dunning_pauses", "plan_get", "plan_instalments_due", "plans_broken", "plans_list",
           "plans_view", "promises_list", "promises_view", "replies_awaiting", "worklist"]


@dataclass(frozen=True)
class DunningPause:
    customer_id: int
    invoice_id: int | None  # None: the whole customer
    reason: str  # "dispute", "promise", "plan", "reply"
    amount: int | None  # minor units of the invoice currency held back; None = all of it
    until: date | None  # the day dunning may resume by itself, if known


@dataclass(frozen=True)
class PlanInstalmentDue:
    plan_id: int
    customer_id: int
    number: int
    due_date: date
    amount: int
    currency: str
    open_amount: int


# ---------------------------------------------------------------- promises
@dataclass(frozen=True)
class PromiseView:
    promise: Promise
    paid: int  # paid from the day it was made to the promised day (or to as_of, if earlier)
    state: PromiseState


def _receipts_paid(rows: list[Promise], as_of: date) -> dict[int, int]:
    """What each promise saw paid by money (receipts, net of reversals) between the day it was
    made and the promised day (no later than ``as_of``): one query for all of them."""
    if not rows:
        return {}
    start = min(p.made_on for p in rows)
    end = min(max(p.promised_date for p in rows), as_of)
    paid = (Allocation.objects
            .filter(customer_id__in={p.customer_id for p in rows}, receipt__isnull=False,
                    date__gte=start, date__lte=end)
            .values_list("customer_id", "instalment__invoice_id", "date")
            .annotate(s=Sum("amount")).order_by())
    by_customer: dict[int, list[tuple[int, date, int]]] = defaultdict(list)
    for customer_id, invoice_id, day, amount in paid:
        by_customer[customer_id].append((invoice_id, day, amount))
    out = {}
    for p in rows:
        last = min(p.promised_date, as_of)
        out[p.pk] = sum(a for inv, day, a in by_customer[p.customer_id]
                        if p.made_on <= day <= last
                        and (p.invoice_id is None or inv == p.invoice_id))
    return out


def promises_view(rows: Iterable[Promise], as_of: date) -> list[PromiseView]:
    promises = list(rows)
    paid = _receipts_paid(promises, as_of)
    return [PromiseView(p, paid[p.pk], promise_state(amount=p.amount, promised=p.promised_date,
                                                      paid_by_promised=paid[p.pk], as_of=as_of))
            for p in promises]


def promises_list(company: Company, *, as_of: date, customer: str = "", state: str = "",
                  offset: int = 0, limit: int | None = None) -> list[PromiseView]:
    """The promises made by ``as_of`` in promised-date order, with their state, from
    ``offset`` (at most ``limit``): only the rows of the page are judged (``_page``)."""
    qs = (Promise.objects.filter(company=company, made_on__lte=as_of)
          .select_related("customer", "invoice", "created_by").order_by("promised_date", "pk"))
    if customer:
        qs = qs.filter(customer=customer_get(company, customer))
    # A promise not kept is live to its day, broken after it: the database narrows the state
    # by the day; whether it was kept is judged from the allocations.
    if state == PromiseState.LIVE.value:
        qs = qs.filter(promised_date__gte=as_of)
    elif state == PromiseState.BROKEN.value:
        qs = qs.filter(promised_date__lt=as_of)
    return _page(qs, lambda rows: promises_view(rows, as_of),
                 (lambda v: v.state.value == state) if state else None, offset, limit)


def promises_due_count(company: Company, *, as_of: date) -> int:
    """How many promises fall due on ``as_of`` (the dashboard's alert: the day to see whether
    each is kept), made by that day: one count on the (company, promised date) index,
    whatever the number of promises; kept or not is judged on the promises' page."""
    return Promise.objects.filter(company=company, promised_date=as_of,
                                  made_on__lte=as_of).count()


def promises_broken_count(company: Company, *, as_of: date) -> int:
    """How many promises fell due the day before ``as_of`` and were not kept (the
    dashboard's alert: broken since yesterday, dunning resumes today). The day's promises
    are read on the (company, promised date) index and judged as the promises' page judges
    them (``promises_view``, what the customers' receipts paid from the day each was made):
    two queries, whatever the number of promises of other days."""
    day = as_of - timedelta(days=1)
    due = Promise.objects.filter(company=company, promised_date=day, made_on__lte=day)
    return sum(1 for v in promises_view(due, as_of) if v.state is PromiseState.BROKEN)


# Rows judged at a time when a state filter leaves some out (a page reads a few chunks).
PAGE_CHUNK = 200


def _page(qs: QuerySet[Any], view: Any, keep: Any, offset: int,
          limit: int | None) -> list[Any]:
    """The views of ``qs`` from ``offset`` (at most ``limit``) that ``keep`` keeps (all with
    no ``keep``): without a filter, the page is cut in the database and only its rows are
    judged; with one, rows are judged ``PAGE_CHUNK`` at a time until the page is full."""
    if keep is None:
        return view(list(qs[offset:] if limit is None else qs[offset:offset + limit]))
    out: list[Any] = []
    start, skip = 0, offset
    while limit is None or len(out) < limit:
        rows = list(qs[start:start + PAGE_CHUNK])
        for v in view(rows):
            if not keep(v):
                continue
            if skip:
                skip -= 1
            elif limit is None or len(out) < limit:
                out.append(v)
        if len(rows) < PAGE_CHUNK:
            break
        start += PAGE_CHUNK
    return out


# ---------------------------------------------------------------- plans
class PlanItemRow(NamedTuple):
    """An original open item a plan rescheduled (a tuple: a plan may hold thousands)."""

    invoice_id: int
    invoice: str  # its number
    instalment_id: int  # 0 when summed per invoice
    amount: int  # what was open on it when the plan was made


@dataclass(frozen=True)
class PlanView:
    plan: PaymentPlan
    lines: tuple[PlanLine, ...]
    items: tuple[PlanItemRow, ...]
    progress: PlanProgress

    @property
    def state(self) -> str:
        if self.progress.broken_on is not None:
            return "broken"
        return "complete" if self.progress.complete else "live"


def plans_view(plans: Iterable[PaymentPlan], as_of: date, *,
               items: bool = True) -> list[PlanView]:
    """Each plan with its instalments, its items and where it stands on ``as_of``: three
    queries for any number of plans (without ``items``, the items are summed per invoice by
    the database instead of listed: what the dunning run needs)."""
    rows = list(plans)
    ids = [p.pk for p in rows]
    lines: dict[int, list[PlanLine]] = defaultdict(list)
    for plan_id, number, due, amount in (PlanInstalment.objects.filter(plan_id__in=ids)
                                         .order_by("plan_id", "number")
                                         .values_list("plan_id", "number", "due_date",
                                                      "amount")):
        lines[plan_id].append(PlanLine(number, due, amount))
    listed: dict[int, list[PlanItemRow]] = defaultdict(list)
    taken = PlanItem.objects.filter(plan_id__in=ids)
    if items:
        for plan_id, *row in (taken.order_by("plan_id", "pk")
                              .values_list("plan_id", "invoice_id", "invoice__number",
                                           "instalment_id", "amount")):
            listed[plan_id].append(PlanItemRow(*row))
    else:
        for plan_id, invoice_id, amount in (taken.values_list("plan_id", "invoice_id")
                                            .annotate(s=Sum("amount"))
                                            .order_by("plan_id", "invoice_id")):
            listed[plan_id].append(PlanItemRow(invoice_id, "", 0, amount))
    # What was allocated on each plan's items, per day, summed by the database (an item may
    # be in a broken plan too: each plan counts it).
    paid: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for plan_id, day, amount in (taken.filter(instalment__allocations__date__lte=as_of)
                                 .values_list("plan_id", "instalment__allocations__date")
                                 .annotate(s=Sum("instalment__allocations__amount"))
                                 .order_by()):
        paid[plan_id].append((day, amount))
    return [PlanView(p, tuple(lines[p.pk]), tuple(listed[p.pk]),
                     plan_progress(lines[p.pk], paid[p.pk], already_settled=p.settled_before,
                                   grace_days=p.grace_days, as_of=as_of))
            for p in rows]


def plans_list(company: Company, *, as_of: date, customer: str = "", state: str = "",
               offset: int = 0, limit: int | None = None) -> list[PlanView]:
    """The plans made by ``as_of``, oldest first, with where each stands, from ``offset`` (at
    most ``limit``): only the rows of the page are judged (``_page``)."""
    qs = (PaymentPlan.objects.filter(company=company, created_on__lte=as_of)
          .select_related("customer").order_by("pk"))
    if customer:
        qs = qs.filter(customer=customer_get(company, customer))
    return _page(qs, lambda rows: plans_view(rows, as_of),
                 (lambda v: v.state == state) if state else None, offset, limit)


def plan_get(company: Company, plan_id: int, *, as_of: date) -> PlanView:
    plan = (PaymentPlan.objects.filter(company=company, pk=plan_id)
            .select_related("customer").first())
    if plan is None:
        raise NotFound(f"no payment plan {plan_id} in {company.code}", plan=plan_id)
    return plans_view([plan], as_of)[0]


def _live_plans(company_id: int, as_of: date) -> list[PlanView]:
    """The plans that hold on ``as_of``, their items summed per invoice."""
    plans = PaymentPlan.objects.filter(company_id=company_id, created_on__lte=as_of).filter(
        Q(broken_on__isnull=True) | Q(broken_on__gt=as_of))
    return [v for v in plans_view(plans, as_of, items=False) if v.state == "live"]


# ---------------------------------------------------------------- disputes and replies
def _open_on(qs: QuerySet[Any], as_of: date, opened: str, closed: str) -> QuerySet[Any]:
    return qs.filter(**{f"{opened}__lte": as_of}).filter(
        Q(**{f"{closed}__isnull": True}) | Q(**{f"{closed}__gt": as_of}))


def disputes_list(company: Company, *, status: str = "", customer: str = "",
                  invoice: str = "") -> QuerySet[Dispute]:
    qs = (Dispute.objects.filter(company=company)
          .select_related("customer", "invoice", "owner", "credit_note").order_by("pk"))
    if status:
        qs = qs.filter(status=status)
    if customer:
        qs = qs.filter(customer=customer_get(company, customer))
    if invoice:
        qs = qs.filter(invoice=invoice_get(company, invoice))
    return qs


def dispute_get(company: Company, dispute_id: int) -> Dispute:
    row = (Dispute.objects.filter(company=company, pk=dispute_id)
           .select_related("customer", "invoice", "owner", "credit_note").first())
    if row is None:
        raise NotFound(f"no dispute {dispute_id} in {company.code}", dispute=dispute_id)
    return row


def dispute_attachments(company: Company, dispute_id: int) -> list[dict[str, Any]]:
    """The files a dispute was opened with (their names, types and sizes, not their bytes),
    in the order they were given."""
    return list(DisputeAttachment.objects.filter(company=company, dispute_id=dispute_id)
                .order_by("pk").values("id", "name", "mime", "size"))


def dispute_attachment(company: Company, dispute_id: int, attachment_id: int
                       ) -> DisputeAttachment:
    """One of a dispute's files, with its bytes; another dispute's or company's: not found."""
    row = DisputeAttachment.objects.filter(company=company, dispute_id=dispute_id,
                                           pk=attachment_id).first()
    if row is None:
        raise NotFound(f"no attachment {attachment_id} on dispute {dispute_id}",
                       attachment=attachment_id)
    return row


def replies_awaiting(company: Company, *, as_of: date) -> QuerySet[Reply]:
    return _open_on(Reply.objects.filter(company=company), as_of, "received_on", "handled_on")


# ---------------------------------------------------------------- what dunning reads
def dunning_pauses(company_id: int, as_of: date) -> list[DunningPause]:
    """Every reason not to remind on ``as_of``: an open dispute holds back its amount of the
    invoice (a dispute over a deduction holds nothing back: the deduction settled it); a
    promise made and not yet due pauses its invoice (or the whole customer) until the day
    after the promised day; a plan that holds pauses the items it rescheduled; an inbound reply
    not yet handled pauses the whole customer. Disputes of one invoice add up in one pause."""
    out: list[DunningPause] = []
    disputed = (_open_on(Dispute.objects.filter(company_id=company_id, adjustment__isnull=True),
                         as_of, "opened_on", "closed_on")
                .values_list("customer_id", "invoice_id").annotate(s=Sum("amount"))
                .order_by("customer_id", "invoice_id"))
    out += [DunningPause(c, i, "dispute", s, None) for c, i, s in disputed]
    promised = (Promise.objects.filter(company_id=company_id, made_on__lte=as_of,
                                       promised_date__gte=as_of)
                .values_list("customer_id", "invoice_id", "promised_date")
                .order_by("customer_id", "invoice_id", "-promised_date"))
    seen: set[tuple[int, int | None]] = set()
    for customer_id, invoice_id, day in promised:
        if (customer_id, invoice_id) not in seen:  # the latest promise of each says when
            seen.add((customer_id, invoice_id))
            out.append(DunningPause(customer_id, invoice_id, "promise", None,
                                    day + timedelta(days=1)))
    for view in _live_plans(company_id, as_of):
        per_invoice: dict[int, int] = defaultdict(int)
        for item in view.items:
            per_invoice[item.invoice_id] += item.amount
        out += [DunningPause(view.plan.customer_id, inv, "plan", amount, None)
                for inv, amount in sorted(per_invoice.items())]
    replies = (_open_on(Reply.objects.filter(company_id=company_id), as_of, "received_on",
                        "handled_on")
               .values_list("customer_id", flat=True).distinct().order_by("customer_id"))
    out += [DunningPause(c, None, "reply", None, None) for c in replies]
    return out


def plan_instalments_due(company_id: int, as_of: date) -> list[PlanInstalmentDue]:
    """The instalments of the plans that hold on ``as_of`` with something still open on them
    (paid ones are left out; a broken plan's are too: dunning chases its originals again).
    The dunning run decides from each due date which reminder, if any, is due."""
    out = []
    for view in _live_plans(company_id, as_of):
        p = view.plan
        out += [PlanInstalmentDue(p.pk, p.customer_id, line.number, line.due_date, line.amount,
                                  p.currency, still)
                for line, still in zip(view.lines, view.progress.open, strict=True) if still]
    return out


@dataclass(frozen=True)
class PlanMissed:
    """The instalment whose miss broke a plan, and the day it broke."""

    plan_id: int
    customer_id: int
    number: int
    due_date: date
    currency: str
    open_amount: int
    broken_on: date


def plans_broken(company_id: int, as_of: date) -> list[PlanMissed]:
    """The plans that a missed instalment broke by ``as_of`` (derived, whether or not
    ``plans_observe`` has recorded it yet), each with the instalment that broke it: the
    dunning run tells the customer once. Three queries for any number of plans."""
    plans = PaymentPlan.objects.filter(company_id=company_id, created_on__lte=as_of).filter(
        Q(broken_on__isnull=True) | Q(broken_on__lte=as_of))
    out = []
    for view in plans_view(plans, as_of, items=False):
        broken = view.progress.broken_on
        if broken is None or broken > as_of:
            continue
        p = view.plan
        grace = timedelta(days=p.grace_days + 1)
        line, still = next((li, o) for li, o in zip(view.lines, view.progress.open, strict=True)
                           if li.due_date + grace == broken)
        out.append(PlanMissed(p.pk, p.customer_id, line.number, line.due_date, p.currency,
                              still, broken))
    return out


# ---------------------------------------------------------------- call tasks
def call_tasks_paid(company: Company, *, as_of: date,
                    customer_ids: Iterable[int] | None = None) -> dict[int, date]:
    """The open call tasks whose customer has paid what they were about, each with the day
    it was paid: a task is about the items of its customer due by its day (those a dunning
    level had reached when it asked for the call); when none of them is open any more
    (settled by receipts, credit notes or write-offs, whatever the path), there is nobody to
    call. The day is that of the last allocation to them up to ``as_of`` (a task is not
    paid on a day before its own). One query."""
    items = Instalment.objects.filter(company=company, customer_id=OuterRef("customer_id"),
                                      due_date__lte=OuterRef("due_on"))
    last = (Allocation.objects.filter(company=company, customer_id=OuterRef("customer_id"),
                                      instalment__due_date__lte=OuterRef("due_on"),
                                      date__lte=as_of)
            .order_by("-date").values("date")[:1])
    qs = (CallTask.objects.filter(company=company, done_on__isnull=True, due_on__lte=as_of)
          .filter(Exists(items.filter(settled__gte=F("amount"))))
          .exclude(Exists(items.filter(settled__lt=F("amount"))))
          .annotate(paid_on=Subquery(last)))
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=sorted(set(customer_ids)))
    return {pk: max(paid, due) for pk, due, paid in qs.values_list("pk", "due_on", "paid_on")
            if paid is not None}


# ---------------------------------------------------------------- the timeline
@dataclass(frozen=True)
class TimelineEntry:
    day: date
    at: datetime | None  # when it was recorded (None: derived, as a promise broken)
    kind: str  # email, letter, call, note, reply, portal, dispute_opened, promise_made, ...
    summary: str
    status: str  # delivery status of an e-mail, outcome of a call, state of the casework
    invoice: str  # the invoice it concerns, if one
    ref: int  # the id of the communication, dispute, promise or plan


_CHANNEL_KIND = {"phone": "call"}

# What apps above add to a customer's timeline (the dunning app: the notices its runs sent,
# each with the policy and level it was sent under): each is called with (company, customer,
# as_of, invoice or None) and returns entries. Registered in the app's ``ready``; collections
# never imports them.
TimelineSource = Callable[[Company, Customer, date, Any], list[TimelineEntry]]
_TIMELINE_SOURCES: list[TimelineSource] = []


def timeline_source(source: TimelineSource) -> None:
    """Add ``source`` to every customer's timeline (once, however often it is registered)."""
    if source not in _TIMELINE_SOURCES:
        _TIMELINE_SOURCES.append(source)


def _on(day: date, recorded: datetime, zone: ZoneInfo) -> datetime:
    """When casework recorded for ``day`` stands on the timeline: that day, at the time it was
    entered (as the services date calls and notes)."""
    return datetime.combine(day, recorded.astimezone(zone).time(), tzinfo=zone)


def customer_timeline(company: Company, code: str, *, as_of: date,
                      invoice: str = "") -> list[TimelineEntry]:
    """Every exchange with a customer (e-mails with their delivery status, letters, calls,
    notes, replies) and every dispute, promise and plan event, in order, up to ``as_of``; with
    ``invoice``, only what concerns that invoice. A fixed number of queries."""
    customer = customer_get(company, code)
    inv = invoice_get(company, invoice) if invoice else None
    zone = ZoneInfo(company.time_zone)
    out: list[TimelineEntry] = []
    comms = Communication.objects.filter(company=company, customer=customer).select_related(
        "invoice").order_by("at", "pk")
    if inv is not None:
        comms = comms.filter(invoice=inv)
    for c in comms:
        day = c.at.astimezone(zone).date()
        if day > as_of:
            continue
        kind = "reply" if c.direction == "in" and c.status in ("awaiting", "handled") else (
            _CHANNEL_KIND.get(c.channel, c.channel))
        text = c.subject + (f": {c.body}" if c.body and c.channel in ("phone", "note", "email")
                            and kind != "email" else "")
        out.append(TimelineEntry(day, c.at, kind, text, c.status,
                                 c.invoice.number if c.invoice else "", c.pk))
    disputes = Dispute.objects.filter(company=company, customer=customer, opened_on__lte=as_of)
    if inv is not None:
        disputes = disputes.filter(invoice=inv)
    for d in disputes.select_related("invoice", "credit_note").order_by("pk"):
        amount = format_minor(d.amount, d.currency)
        out.append(TimelineEntry(d.opened_on, _on(d.opened_on, d.created_at, zone),
                                 "dispute_opened",
                                 f"{amount} disputed ({d.reason})"
                                 + (f": {d.notes}" if d.notes else ""), "open",
                                 d.invoice.number or "", d.pk))
        if d.closed_on is not None and d.closed_on <= as_of:
            how = d.resolution.replace("_", " ") + (
                f" {d.credit_note.number}" if d.credit_note else "") if d.resolution else ""
            out.append(TimelineEntry(d.closed_on, None, f"dispute_{d.status}",
                                     f"dispute over {amount} {d.status}"
                                     + (f" by {how}" if how else ""), d.status,
                                     d.invoice.number or "", d.pk))
    promises = Promise.objects.filter(company=company, customer=customer, made_on__lte=as_of)
    if inv is not None:
        promises = promises.filter(invoice=inv)
    for v in promises_view(promises.select_related("invoice").order_by("pk"), as_of):
        p = v.promise
        number = p.invoice.number or "" if p.invoice else ""
        amount = format_minor(p.amount, p.currency)
        out.append(TimelineEntry(p.made_on, _on(p.made_on, p.created_at, zone), "promise_made",
                                 f"promised {amount} by {p.promised_date}", "live", number,
                                 p.pk))
        if v.state != PromiseState.LIVE:
            out.append(TimelineEntry(p.promised_date, None, f"promise_{v.state.value}",
                                     f"promise of {amount} {v.state.value} "
                                     f"({format_minor(v.paid, p.currency)} paid)",
                                     v.state.value, number, p.pk))
    plans = PaymentPlan.objects.filter(company=company, customer=customer,
                                       created_on__lte=as_of)
    if inv is not None:
        plans = plans.filter(items__invoice=inv).distinct()
    for pv in plans_view(plans.order_by("pk"), as_of):
        plan = pv.plan
        out.append(TimelineEntry(plan.created_on, _on(plan.created_on, plan.created_at, zone),
                                 "plan_created",
                                 f"payment plan of {format_minor(plan.total, plan.currency)} in "
                                 f"{len(pv.lines)} instalments", pv.state, "", plan.pk))
        if pv.progress.broken_on is not None:
            out.append(TimelineEntry(pv.progress.broken_on, None, "plan_broken",
                                     f"payment plan {plan.pk} broken: an instalment was missed",
                                     "broken", "", plan.pk))
    if inv is None:  # a call task is about the customer's account, not one invoice
        tasks = CallTask.objects.filter(company=company, customer=customer, due_on__lte=as_of)
        paid = call_tasks_paid(company, as_of=as_of, customer_ids=[customer.pk])
        for t in tasks.order_by("pk"):
            out.append(TimelineEntry(t.due_on, _on(t.due_on, t.created_at, zone), "call_task",
                                     f"call to make: {t.reason}", t.outcome or "open", "",
                                     t.pk))
            done = t.done_on if t.outcome == "paid" else paid.get(t.pk)
            if done is not None and done <= as_of:
                out.append(TimelineEntry(done, None, "call_task_paid",
                                         "call no longer needed: paid", "paid", "", t.pk))
    for source in _TIMELINE_SOURCES:
        out += source(company, customer, as_of, inv)
    # In a day: what was recorded, in the order it was; then what follows from it.
    return sorted(out, key=lambda e: (e.day, e.at is None,
                                      e.at or datetime.min.replace(tzinfo=zone), e.ref))


# ---------------------------------------------------------------- the worklist
@dataclass(frozen=True)
class WorklistRow:
    customer_id: int
    code: str
    name: str
    collector: str
    overdue: int  # minor units of the base currency
    days_overdue: int  # of its oldest overdue item
    risk_class: str
    default_probability: float
    value: Decimal  # expected value of acting, minor units of the base currency
    next_action: date
    paused: tuple[str, ...]  # why part of it is out of the dunning sequence
    call_due: date | None = None  # a call a dunning level asked for, not yet logged
    held: int = 0  # of ``overdue``, what open disputes and payment plans hold back (base)


def worklist(company: Company, *, as_of: date, collector: str = "", offset: int = 0,
             limit: int | None = None, customer_ids: Collection[int] | None = None
             ) -> list[WorklistRow]:
    """Who to chase on ``as_of``: every customer with something overdue, those whose next
    action is due first, then by the expected value of acting
    (``domain.collections.expected_value``: the value at stake — the overdue amount not held
    back by a dispute or a plan, weighted by its age — times the default probability of
    credit's risk score), times, when a stored payment model predicts the customer's dates,
    the share of its overdue amount that would still be waiting without a call
    (``domain.collections.waiting_share``: an item the model expects paid within the month
    counts for the days it would still wait; without a model, everything counts, as the
    risk then comes from behaviour). The next action is the day of a call a dunning level
    asked for and nobody has logged yet, else the collector's own date, else the day a
    promise or reply pause ends, else today.

    The rows from ``offset`` (at most ``limit``) read credit's risk only as far as their rank
    needs (``_risks_to_rank``); everything else is summed by the database, in a number of
    queries that does not grow with the customers beyond the page (docs/design/collections.md,
    "The worklist"). ``customer_ids``: the rows of these customers alone (what
    ``ranking.worklist_rank_refresh`` ranks again when their casework changes)."""
    late_items = Instalment.objects.filter(company=company, settled__lt=F("amount"),
                                           due_date__lt=as_of)
    if customer_ids is None:
        report = aging_report(company, as_of=as_of)
    else:
        ids = sorted(set(customer_ids))
        late_items = late_items.filter(customer_id__in=ids)
        codes = tuple(Customer.objects.filter(company=company, pk__in=ids)
                      .values_list("code", flat=True))
        report = aging_report(company, as_of=as_of, filters=ReportFilters(
            customers=codes, among="the customers ranked again"))
    overdue = {c.code: report.overdue_of(c.base) for c in report.customers}
    late = {code: (cid, name, day) for cid, code, name, day in (
        late_items.values_list("customer_id", "customer__code", "customer__name")
        .annotate(d=Min("due_date")).order_by())}
    assigned, actions = {}, {}
    for cid, who, day in Assignment.objects.filter(company=company).values_list(
            "customer_id", "collector__username", "next_action_on"):
        assigned[cid] = who
        if day is not None:
            actions[cid] = day
    calls = dict(CallTask.objects.filter(company=company, done_on__isnull=True,
                                         due_on__lte=as_of)
                 .exclude(pk__in=call_tasks_paid(company, as_of=as_of))
                 .values_list("customer_id", "due_on"))
    pauses: dict[int, list[DunningPause]] = defaultdict(list)
    for p in dunning_pauses(company.pk, as_of):
        pauses[p.customer_id].append(p)
    held = _held_back(company, as_of, pauses)
    ranked = []
    for code, amount in overdue.items():
        if amount <= 0 or code not in late:
            continue
        cid, name, oldest = late[code]
        who = assigned.get(cid, "")
        if collector and who != collector:
            continue
        kept = min(held.get(cid, 0), amount)
        days = (as_of - oldest).days
        resume = [p.until for p in pauses[cid] if p.until is not None]
        next_action = (calls.get(cid) or actions.get(cid) or (max(resume) if resume else as_of))
        ranked.append((next_action > as_of, -value_at_stake(amount - kept, days), code,
                       cid, name, who, amount, kept, days, next_action))
    ranked.sort()
    need = None if limit is None else offset + limit
    if customer_ids is not None:  # a few customers: their risk alone
        risks = _scored(company, as_of, [r[3] for r in ranked]) if ranked else {}
        walked = {r[3] for r in ranked}
    else:
        risks, walked = _risks_to_rank(company, as_of, ranked, need)
    scored = []
    for later, _, code, cid, name, who, amount, kept, days, next_action in ranked:
        if cid not in walked:
            continue  # ranks below the page: its value at stake already does
        risk, waiting = risks.get(cid, (None, Decimal(1)))
        probability = risk.default_probability if risk else 0.0
        value = expected_value(amount - kept, Decimal(str(probability)), days, waiting)
        scored.append(((later, -value, code), WorklistRow(
            cid, code, name, who, amount, days, risk.risk_class if risk else "",
            probability, value, next_action, tuple(sorted({p.reason for p in pauses[cid]})),
            calls.get(cid), kept)))
    scored.sort(key=lambda s: s[0])
    rows = [row for _, row in scored]
    return rows[offset:] if limit is None else rows[offset:offset + limit]


# Customers whose risk is read at a time while a page of the worklist is ranked: the first
# chunk; each next one is twice as large, up to RISK_CHUNK_MOST (its ids are one IN list,
# well under SQLite's limit of variables a statement), so that the reads stay few however
# many customers the walk must pass (20,000 overdue customers of like risk took 2,000
# queries in chunks of a hundred). Only the customers walked are read: reading every
# customer's risk at once cost more than the chunks.
RISK_CHUNK = 100
RISK_CHUNK_MOST = 6400


def _scored(company: Company, as_of: date, customer_ids: list[int] | None
            ) -> dict[int, tuple[Any, Decimal]]:
    """Customer id -> credit's risk score and the share of its overdue amount that would still
    be waiting without a call (``waiting_share`` of the stored payment model's predicted
    dates; 1 without a model), for ``customer_ids`` (all with None). The model's outlook is
    read once and gives the risk its default probabilities too (``risk_scores``'s
    ``chances``): no more queries than the risk alone."""
    outlooks = payment_outlooks(company, as_of=as_of, customer_ids=customer_ids)
    risks = risk_scores(company, as_of, customer_ids, chances=model_chances(outlooks) or {})
    waiting = {cid: waiting_share(o.overdue, as_of) for cid, o in (outlooks or {}).items()}
    return {cid: (risk, waiting.get(cid, Decimal(1))) for cid, risk in risks.items()}


def _risks_to_rank(company: Company, as_of: date, ranked: list[tuple[Any, ...]],
                   need: int | None) -> tuple[dict[int, Any], set[int]]:
    """Credit's risk of the customers the first ``need`` rows of the worklist can come from
    (all of them with no ``need``). The rank is the expected value: the value at stake times
    a default probability of at most 1, so a customer's value at stake bounds its expected
    value. Walking each group (action due, then later) in falling value at stake, risk is read
    a chunk at a time (each twice the last, up to ``RISK_CHUNK_MOST``) until the
    ``need``-th best expected value found exceeds what is left to walk: nothing further down
    can enter the page. The rank is exact; how much is read depends on the probabilities, not
    on the number of customers beyond the page. Returns the risks read and the customers
    walked."""
    if need is None:
        return (_scored(company, as_of, None) if ranked else {}), {r[3] for r in ranked}
    risks: dict[int, tuple[Any, Decimal]] = {}
    walked: set[int] = set()
    before = 0  # rows of the earlier group, all ranked before this one
    for later in (False, True):
        group = [r for r in ranked if r[0] is later]
        if before >= need or not group:
            before += len(group)
            continue
        want = need - before
        values: list[Decimal] = []
        i = 0
        size = max(RISK_CHUNK, want)
        while i < len(group):
            chunk = group[i:i + min(size, max(RISK_CHUNK_MOST, want))]
            read = _scored(company, as_of, [r[3] for r in chunk])
            size *= 2
            risks.update(read)
            walked.update(r[3] for r in chunk)
            for r in chunk:
                risk, waiting = read.get(r[3], (None, Decimal(1)))
                p = Decimal(str(risk.default_probability)) if risk else Decimal(0)
                values.append(expected_value(r[6] - r[7], p, r[8], waiting))
            i += len(chunk)
            values.sort(reverse=True)
            if i < len(group) and len(values) >= want and values[want - 1] > -group[i][1]:
                break
        before += len(group)
    return risks, walked


def _held_back(company: Company, as_of: date, pauses: dict[int, list[DunningPause]]
               ) -> dict[int, int]:
    """customer id -> the overdue amount (base currency, minor units) that open disputes and
    live payment plans hold back: a collector does not chase it (the dispute's owner or the
    plan's instalments do), so it earns no expected value on the worklist. Per invoice, the
    amounts held, at most what is overdue on it, at the invoice's own rate. One query."""
    wanted: dict[int, int | None] = {}  # invoice -> amount held, None: all of it
    owner: dict[int, int] = {}
    for cid, found in pauses.items():
        for p in found:
            if p.reason in ("dispute", "plan") and p.invoice_id is not None:
                before = wanted.get(p.invoice_id, 0)
                wanted[p.invoice_id] = (None if p.amount is None or before is None
                                        else before + p.amount)
                owner[p.invoice_id] = cid
    out: dict[int, int] = defaultdict(int)
    if not wanted:
        return out
    base = company.base_currency
    for invoice_id, currency, rate, due in (
            Instalment.objects.filter(company=company, invoice_id__in=list(wanted),
                                      due_date__lt=as_of, settled__lt=F("amount"))
            .values_list("invoice_id", "invoice__currency", "invoice__rate")
            .annotate(due=Sum(F("amount") - F("settled"))).order_by()):
        amount = wanted[invoice_id]
        part = due if amount is None else min(amount, due)
        out[owner[invoice_id]] += to_base(part, currency, base, rate)
    return out


def collector_customers(company: Company, username: str) -> tuple[str, ...]:
    """The codes of the customers given to the collector ``username`` (a member of the
    company), by code: what the reports keep with ``--collector``. One query, and one to
    tell an unknown user."""
    codes = tuple(Assignment.objects.filter(company=company,
                                            collector__username=username)
                  .order_by("customer__code").values_list("customer__code", flat=True))
    if not codes and not company.memberships.filter(user__username=username).exists():
        raise ValidationFailed(f"--collector {username}: not a user of {company.code}",
                               collector=username)
    return codes
