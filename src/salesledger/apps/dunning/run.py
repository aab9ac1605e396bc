"""The dunning run of a day: select, level, charge, send (docs/design/dunning.md).

read -> plan -> write, then send:
1. Read, set-based: the open items levelled in the database, one statement
   (``selectors.levelled_items``: each customer's policy, each item's level, whether it was
   reminded at that level already, only for the customers with something new to say), the
   pauses of the collections app and the cash that might already pay an item; plan with
   ``domain.dunning.plan_reminders``.
2. Write, one transaction per customer: the day's ``DunningNotice`` (unique per customer and
   day), a ``DunningItem`` per item and level newly reached (unique: an item is reminded and
   charged once per level, ever) and the fee invoice posted through the invoicing services.
   A customer whose notice exists already is skipped, so a repeated or resumed run neither
   reminds nor charges twice.
3. Send every notice of the day not yet handed to the mail server: the e-mail goes through
   the documents app (recorded on the customer's timeline, sent after commit, its outcome
   recorded); the letter is rendered as a PDF and kept on the notice. A notice whose
   e-mail was recorded but whose outcome was not (the process died while talking to the mail
   server) is never sent again: it is reported, for someone to look at the mail server's log.
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import gc
import hashlib
import io
import multiprocessing
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.models import Max, Q, Sum

from salesledger.apps.core.actors import Actor, actor_row
from salesledger.apps.core.audit import EventSpec, audit, audit_many
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import require_role
from salesledger.apps.customers.models import Communication, Customer
from salesledger.apps.customers.selectors import customer_get
from salesledger.apps.documents.delivery import (
    Attachment,
    Outcome,
    Outgoing,
    Recorded,
    compose,
    deliver,
    mail_connection,
    record,
    record_outcome,
    resolve_recipients,
)
from salesledger.apps.documents.formatting import Formatter
from salesledger.apps.documents.labels import labels_for
from salesledger.apps.documents.rendering import warm_up
from salesledger.apps.documents.selectors import (
    NamedTexts,
    document_language,
    named_message_texts,
)
from salesledger.apps.documents.services import ReminderGroup, reminder_letter_pdf
from salesledger.apps.invoicing.models import Instalment
from salesledger.domain.dunning import (
    POSSIBLY_PAID,
    CustomerPlan,
    InterestRule,
    Pause,
    Policy,
    Skipped,
    fee_minor,
    interest_minor,
    interest_parts,
    plan_reminders,
)
from salesledger.domain.errors import LedgerError, NoRecipients
from salesledger.money import EXPONENTS, Money

from . import charges, upstream
from . import plan_reminders as plan_dues
from .models import DunningItem, DunningNotice, NoticeKind
from .selectors import (
    Outline,
    business_customers,
    cash_that_may_pay,
    default_policy,
    interest_rules,
    level_json,
    levelled_items,
    policies,
    reference_rates,
    run_outline,
)


@dataclass
class RunSummary:
    as_of: date
    send: bool
    customers: int = 0
    messages_sent: int = 0
    letters: int = 0
    calls: int = 0
    fees: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    # The customers' plans and codes, from which the preview's rows are built when they are
    # read (``planned``): a first run lists most open items (two thirds of a million at the
    # bench's largest size), a row each, which only a display needs.
    plans: list[CustomerPlan] = field(default_factory=list, repr=False)
    codes: dict[int, str] = field(default_factory=dict, repr=False)
    _planned: list[dict[str, Any]] | None = field(default=None, repr=False)
    # Reads the plans' items, which the run reads when it writes their notices.
    items: _Items | None = field(default=None, repr=False)

    @property
    def planned(self) -> list[dict[str, Any]]:
        """A row per customer to remind: its level, channels, items and plan instalments."""
        if self._planned is None:
            if self.items is not None:
                self.plans = self.items.read(self.plans)
            self._planned = [_plan_row(p, self.codes[p.customer_id]) for p in self.plans]
        return self._planned

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "sent": self.send,
                "customers": self.customers, "messages_sent": self.messages_sent,
                "letters": self.letters, "calls": self.calls, "fees": self.fees,
                "skipped": self.skipped, "planned": self.planned, "problems": self.problems}


def _skipped(s: Skipped, codes: dict[int, str]) -> dict[str, Any]:
    out = {"customer": codes.get(s.customer_id, str(s.customer_id)), "item": s.number,
           "reason": s.reason}
    if s.detail:
        out["detail"] = s.detail
    return out


def _json_money(minor: int, currency: str) -> dict[str, str]:
    """``Money.to_json`` for an amount in minor units, by integer arithmetic: a preview lists
    every item of the run (a million at the bench's largest size)."""
    exp = EXPONENTS[currency]
    if not exp:
        return {"amount": str(minor), "currency": currency}
    sign, whole, part = "-" if minor < 0 else "", *divmod(abs(minor), 10 ** exp)
    return {"amount": f"{sign}{whole}.{part:0{exp}d}", "currency": currency}


def _plan_row(plan: CustomerPlan, code: str) -> dict[str, Any]:
    return {"customer": code, "level": plan.top_level.number,
            "channels": plan_dues.channels(plan),
            "items": [{"item": r.item.number, "due_date": r.item.due_date.isoformat(),
                       "level": r.level.number, "new": r.new,
                       "amount": _json_money(r.amount, r.item.currency)}
                      for r in plan.items],
            "plan_instalments": plan_dues.rows(plan)}


class _Items:
    """The items of the plans the database outlined (``selectors.run_outline``): read a
    batch of customers at a time, when their notices are written or the preview's rows are
    built, through the same statement and the same rule (``levelled_items`` of those
    customers, ``plan_reminders``) as the customers read item by item. Until then a plan's
    channels come from the levels the statement says its items newly reached (``tally``)."""

    BATCH = 500

    def __init__(self, company: Company, as_of: date, by_id: dict[int, Policy],
                 cover: dict[tuple[int, str], int], outline: Outline, default: int | None
                 ) -> None:
        self.company, self.as_of, self.by_id, self.cover = company, as_of, by_id, cover
        self.default = default
        self.pending = dict(outline.plans)
        self._channels: dict[tuple[int, int], list[str]] = {}

    def _channels_of(self, pid: int, levels: int) -> list[str]:
        out = self._channels.get((pid, levels))
        if out is None:  # (a few distinct ones: a policy's and its levels')
            out = self._channels[(pid, levels)] = sorted(
                {c for lv in self.by_id[pid].levels if levels >> lv.number & 1
                 for c in lv.channels})
        return out

    def tally(self, plans: list[CustomerPlan]) -> tuple[int, int]:
        """The letters and the calls of ``plans`` (a preview's), counted per policy and
        levels reached for the plans whose items are not read yet."""
        letters = calls = 0
        each = Counter(self.pending.values())
        channels = [(set(self._channels_of(*key)), n) for key, n in each.items()]
        channels += [(set(plan_dues.channels(p)), 1) for p in plans
                     if p.customer_id not in self.pending]
        for c, n in channels:
            letters += n * ("letter" in c or "email" not in c)
            calls += n * ("call" in c)
        return letters, calls

    def read(self, plans: list[CustomerPlan]) -> list[CustomerPlan]:
        """``plans`` with their items read; a plan with nothing new left to say (its items
        paid or reminded since the outline) is left out."""
        want = [p.customer_id for p in plans if p.customer_id in self.pending]
        plan_of = {p.customer_id: p for p in plans}
        for start in range(0, len(want), self.BATCH):
            ids = want[start:start + self.BATCH]
            levelled = levelled_items(self.company, as_of=self.as_of, by_id=self.by_id,
                                      only=ids, default=self.default)
            read, _ = plan_reminders(levelled, pauses=(), cover=self.cover)
            items = {p.customer_id: p.items for p in read}
            for cid in ids:
                del self.pending[cid]
                plan_of[cid].items = items.get(cid, [])
        return [p for p in plans if p.items or p.plan_instalments]


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a run reads: a first run makes a plan
    per customer (a hundred thousand at the bench's size) and the collector's passes over
    a heap that size cost several times the plans themselves (measured: 0.15 CPU s against
    0.03 for 100,000 plans beside two million live objects). What is read holds no cycles;
    reference counting frees it as usual."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def select(company: Company, as_of: date, by_id: dict[int, Policy], pauses: list[Pause],
           keep: Collection[int]) -> tuple[list[CustomerPlan], list[Skipped], _Items]:
    """The run's selection and levelling (docs/design/dunning.md, "A run"): the customers
    to remind, the items skipped with their reasons, and the reader of the plans' items.
    Every customer but those with a pause or in ``keep`` (a plan instalment to be told of),
    set-based: the database answers a row per customer
    (``selectors.run_outline``), and the plans' items are read when their notices are
    written (``_Items``). Those customers, and the ones below their policy's minimum (each
    of their items is reported), item by item (``levelled_items``, ``plan_reminders``)."""
    cover = cash_that_may_pay(company)
    default = default_policy(company)
    apart = {p.customer_id for p in pauses} | set(keep)
    outline = run_outline(company, as_of=as_of, by_id=by_id, without=apart, default=default)
    apart |= outline.below_minimum
    levelled = (levelled_items(company, as_of=as_of, by_id=by_id, only=apart, default=default)
                if apart else [])
    plans, skipped = plan_reminders(levelled, pauses=pauses, cover=cover, keep=keep)
    skipped = [Skipped(cid, iid, number, "possibly_paid", POSSIBLY_PAID)
               for cid, iid, number in outline.possibly_paid] + skipped
    plans += [CustomerPlan(cid, by_id[pid]) for cid, (pid, _) in outline.plans.items()]
    plans.sort(key=lambda p: p.customer_id)
    return plans, skipped, _Items(company, as_of, by_id, cover, outline, default)


def dunning_run(*, actor: Actor, company: Company, as_of: date, send: bool = False,
                after_notice: Callable[[int], None] | None = None) -> RunSummary:
    """Remind every customer with something newly due or overdue on ``as_of``: a preview
    unless ``send``. ``after_notice`` is called with each notice id written (the tests'
    place to stop a run midway)."""
    require_role(company, actor, Role.CLERK)
    if send:  # promises kept or broken and plans broken reach credit, once
        upstream.observe(actor=actor, company=company, as_of=as_of)
    with _collector_paused():
        by_id = policies(company)
        pauses = upstream.pauses(company, as_of)
        instalments, plan_policies = plan_dues.due(company, as_of, by_id)
        plans, skipped, items = select(company, as_of, by_id, pauses, instalments.keys())
        plans = plan_dues.attach(plans, instalments, plan_policies)
        ids = {p.customer_id for p in plans} | {s.customer_id for s in skipped}
        # (every customer's code at once when they are many: cheaper than a list of ids)
        codes = dict((Customer.objects.filter(company=company, pk__in=ids) if len(ids) < 1000
                      else Customer.objects.filter(company=company)).values_list("pk", "code"))
        summary = RunSummary(as_of, send, customers=len(plans),
                             skipped=[_skipped(s, codes) for s in skipped], plans=plans,
                             codes=codes, items=items)
        if not send:
            summary.letters, summary.calls = items.tally(plans)
            return summary
    context = _ChargeContext.read(company, [p.customer_id for p in plans], by_id)
    for notice in _write_notices(actor, company, as_of, plans, context, summary, codes):
        for inv in (notice.fee_invoice, notice.vat_fee_invoice):
            if inv is not None:
                summary.fees.append({"customer": codes[notice.customer_id],
                                     "invoice": inv.number, "total": Money.from_minor(
                                         inv.total, inv.currency).to_json()})
        if after_notice is not None:
            after_notice(notice.pk)
    _send_pending(actor, company, as_of, summary)
    return summary


# ---------------------------------------------------------------- charging
@dataclass
class _ChargeContext:
    rates: list[tuple[date, Decimal]]
    rules: dict[str, InterestRule]
    customers: dict[int, tuple[bool, str, str]]
    policy_ids: dict[str, int] = field(default_factory=dict)  # policy code -> id

    @classmethod
    def read(cls, company: Company, customer_ids: list[int],
             by_id: dict[int, Policy] | None = None) -> _ChargeContext:
        return cls(reference_rates(company), interest_rules(company),
                   business_customers(company, customer_ids),
                   {p.code: pid for pid, p in (by_id or {}).items()})

    def sent_under(self, plan: CustomerPlan) -> dict[str, Any]:
        """What a notice records of the policy it is sent under: the policy, and the levels
        it lists as they are defined today (a later edit of the policy changes neither)."""
        levels = {r.level.number: r.level for r in plan.items}
        return {"policy_id": self.policy_ids.get(plan.policy.code),
                "levels": [level_json(lv) for _, lv in sorted(levels.items())]}

    def rule(self, customer_id: int) -> InterestRule | None:
        _, country, _ = self.customers.get(customer_id, (False, "", ""))
        return self.rules.get(country) or self.rules.get("")


def _charged(company: Company, plans: list[CustomerPlan]
             ) -> tuple[dict[int, date | None], set[int]]:
    """Of the items newly at a level in ``plans``: the last day each was charged interest
    for, and the invoices already charged the fixed compensation (two queries)."""
    new = [r for plan in plans for r in plan.items if r.new]
    charged_to = dict(DunningItem.objects.filter(
        company=company, instalment_id__in=[r.item.id for r in new])
        .values("instalment_id").annotate(d=Max("interest_to"))
        .values_list("instalment_id", "d"))
    compensated = set(DunningItem.objects.filter(
        company=company, compensation__gt=0,
        instalment__invoice_id__in={r.item.invoice_id for r in new})
        .values_list("instalment__invoice_id", flat=True))
    return charged_to, compensated


def _item_rows(company: Company, as_of: date, plan: CustomerPlan, ctx: _ChargeContext,
               charged: tuple[dict[int, date | None], set[int]] | None = None
               ) -> list[DunningItem]:
    """A row per item newly at a level, with its share of the level's fee, its interest
    since the last day charged and the fixed compensation once per invoice."""
    new = plan.new_items
    charged_to, compensated = charged or _charged(company, [plan])
    rule = ctx.rule(plan.customer_id)
    business, _, currency = ctx.customers.get(plan.customer_id, (False, "", ""))
    overdue_at: dict[int, int] = {}
    for r in new:
        overdue_at[r.level.number] = overdue_at.get(r.level.number, 0) + r.amount
    fee_done: set[int] = set()
    rows = []
    for r in new:
        fee = 0
        if r.item.currency != currency or not r.item.chargeable:
            # Charges go on one invoice in the customer's currency; an item in another
            # currency, or itself an invoice of charges, is reminded of, not charged for
            # (docs/design/dunning.md).
            rows.append(DunningItem(company=company, instalment_id=r.item.id,
                                    level=r.level.number, amount=r.amount))
            continue
        if r.level.number not in fee_done:
            fee = fee_minor(r.level, overdue_at[r.level.number])
            fee_done.add(r.level.number)
        interest, interest_to, compensation = 0, None, 0
        if r.level.interest and rule is not None and r.item.due_date < as_of:
            last = charged_to.get(r.item.id)
            start = (last or r.item.due_date) + timedelta(days=1)
            if start <= as_of:
                interest = interest_minor(r.amount, interest_parts(ctx.rates, rule.margin,
                                                                   start, as_of))
                interest_to = as_of
            if (business and rule.compensation and r.item.invoice_id not in compensated
                    and rule.compensation_currency == r.item.currency):
                compensation = rule.compensation
                compensated.add(r.item.invoice_id)
        rows.append(DunningItem(company=company, instalment_id=r.item.id, level=r.level.number,
                                amount=r.amount, fee=fee, interest=interest,
                                interest_to=interest_to, compensation=compensation))
    return rows


def _summary(plan: CustomerPlan) -> dict[str, Any]:
    return {"items": [{"instalment": r.item.id, "number": r.item.number,
                       "due_date": r.item.due_date.isoformat(), "currency": r.item.currency,
                       "amount": r.amount, "level": r.level.number, "level_name": r.level.name,
                       "new": r.new} for r in plan.items],
            "plan_instalments": plan_dues.rows(plan)}


WRITE_BATCH = 500  # customers whose notices are written in one transaction


def _write_notices(actor: Actor, company: Company, as_of: date, plans: list[CustomerPlan],
                   ctx: _ChargeContext, summary: RunSummary, codes: dict[int, str]
                   ) -> list[DunningNotice]:
    """Write the notice of every planned customer who has none for the day (those who have
    are reported ``already_reminded_today``). A notice that charges nothing, holds nothing,
    asks for no call and hands nothing to an agency is only rows of this app: they are
    written ``WRITE_BATCH`` at a time, notices, items and audit events each in one statement,
    in one transaction (all or none: a killed run leaves the whole batch to the resumed run).
    A notice that charges, holds or asks for a call goes through the invoicing, credit and
    collections services, in a transaction of its own (``_write_notice``), as does a batch
    that meets a notice written meanwhile by another run."""
    done = set(DunningNotice.objects.filter(company=company, kind=NoticeKind.REMINDER,
                                            day=as_of).values_list("customer_id", flat=True))
    written: list[DunningNotice] = []
    for start in range(0, len(plans), WRITE_BATCH):
        batch = [p for p in plans[start:start + WRITE_BATCH]]
        for plan in batch:
            if plan.customer_id in done:
                summary.skipped.append({"customer": codes[plan.customer_id], "item": "",
                                        "reason": "already_reminded_today"})
        batch = [p for p in batch if p.customer_id not in done]
        if summary.items is not None:  # their items, read now (``_Items``)
            batch = summary.items.read(batch)
        charged = _charged(company, batch)
        plain: list[tuple[CustomerPlan, list[DunningItem]]] = []
        alone: list[CustomerPlan] = []
        for plan in batch:
            rows = _item_rows(company, as_of, plan, ctx, charged)
            if (any(r.fee or r.interest or r.compensation for r in rows)
                    or any(r.level.hold or r.level.agency for r in plan.new_items)
                    or "call" in _channels(plan)):  # a call task: the collections service
                alone.append(plan)
            else:
                plain.append((plan, rows))
        try:
            written += _write_plain(actor, company, as_of, plain, ctx)
        except IntegrityError:
            alone += [plan for plan, _ in plain]  # another run wrote one: one by one
        for plan in sorted(alone, key=lambda p: p.customer_id):
            try:
                notice = _write_notice(actor, company, as_of, plan, ctx)
            except LedgerError as exc:
                summary.problems.append({"customer": codes[plan.customer_id],
                                         "code": exc.code, "message": exc.message})
                continue
            if notice is None:
                summary.skipped.append({"customer": codes[plan.customer_id], "item": "",
                                        "reason": "already_reminded_today"})
                continue
            written.append(notice)
    return written


def _write_plain(actor: Actor, company: Company, as_of: date,
                 plain: list[tuple[CustomerPlan, list[DunningItem]]], ctx: _ChargeContext
                 ) -> list[DunningNotice]:
    """The notices that charge nothing, with their items and audit events, in one
    transaction."""
    if not plain:
        return []
    codes = dict(Customer.objects.filter(company=company,
                                         pk__in=[p.customer_id for p, _ in plain])
                 .values_list("pk", "code"))
    created_by = actor_row(actor)
    with transaction.atomic():
        notices = DunningNotice.objects.bulk_create([
            DunningNotice(company=company, customer_id=plan.customer_id,
                          kind=NoticeKind.REMINDER, day=as_of, level=plan.top_level.number,
                          channels=",".join(_channels(plan)), summary=_summary(plan),
                          created_by=created_by, **ctx.sent_under(plan))
            for plan, _ in plain])
        items = []
        for notice, (_, rows) in zip(notices, plain, strict=True):
            for row in rows:
                row.notice = notice
            items += rows
        DunningItem.objects.bulk_create(items)
        for notice, (plan, _) in zip(notices, plain, strict=True):
            plan_dues.write(notice, plan)
        audit_many(company, actor, [
            EventSpec("dunning.notice", "dunning_notice", str(notice.pk), {
                "customer": codes[plan.customer_id], "day": as_of.isoformat(),
                "policy": plan.policy.code,
                "level": notice.level, "channels": _channels(plan), "items": len(plan.items),
                "fee_invoice": None}) for notice, (plan, _) in zip(notices, plain, strict=True)])
    return notices


def _channels(plan: CustomerPlan) -> list[str]:
    return plan_dues.channels(plan)


def _write_notice(actor: Actor, company: Company, as_of: date, plan: CustomerPlan,
                  ctx: _ChargeContext) -> DunningNotice | None:
    """The customer's notice of the day, its items and its fee invoice, in one transaction;
    None if the customer has one for the day already."""
    channels = plan_dues.channels(plan)
    customer = Customer.objects.get(pk=plan.customer_id)
    try:
        with transaction.atomic():
            notice = DunningNotice.objects.create(
                company=company, customer=customer, kind=NoticeKind.REMINDER, day=as_of,
                level=plan.top_level.number, channels=",".join(channels),
                summary=_summary(plan), created_by=actor_row(actor), **ctx.sent_under(plan))
            rows = _item_rows(company, as_of, plan, ctx)
            for row in rows:
                row.notice = notice
            DunningItem.objects.bulk_create(rows)
            plan_dues.write(notice, plan)
            rule = ctx.rule(plan.customer_id)
            notice.fee_invoice, notice.vat_fee_invoice = charges.fee_invoices(
                actor=actor, company=company, customer=customer, as_of=as_of, plan=plan,
                rows=rows, fee_vat_rate=rule.fee_vat_rate if rule is not None else None)
            if any(r.level.agency for r in plan.new_items):
                notice.agency_export = agency_csv(company, customer)
            notice.save(update_fields=["fee_invoice", "vat_fee_invoice", "agency_export"])
            if any(r.level.hold for r in plan.new_items):
                upstream.hold(actor=actor, company=company, customer=customer,
                              reason=f"dunning level {plan.top_level.number} on {as_of}")
            if "call" in channels:
                upstream.call_task(actor=actor, company=company, customer=customer, day=as_of,
                                   reason=f"dunning level {plan.top_level.number} on {as_of}")
            audit(company, actor, "dunning.notice", "dunning_notice", notice.pk,
                  customer=customer.code, day=as_of.isoformat(), policy=plan.policy.code,
                  level=notice.level, channels=channels, items=len(plan.items),
                  fee_invoice=notice.fee_invoice.number if notice.fee_invoice else None,
                  vat_fee_invoice=(notice.vat_fee_invoice.number if notice.vat_fee_invoice
                                   else None))
    except IntegrityError:
        if DunningNotice.objects.filter(company=company, customer=customer,
                                        kind=NoticeKind.REMINDER, day=as_of).exists():
            return None
        raise
    return notice


def agency_csv(company: Company, customer: Customer) -> str:
    """The file a collection agency is handed: the customer's contact data, then each open
    item (number, due date, currency, amount, open)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["customer", "name", "legal_name", "tax_id", "country", "email", "phone",
                "contact", "contact_email", "contact_phone"])
    contact = customer.contacts.order_by("pk").first()
    w.writerow([customer.code, customer.name, customer.legal_name, customer.tax_id,
                customer.country, customer.email, customer.phone,
                contact.name if contact else "", contact.email if contact else "",
                contact.phone if contact else ""])
    w.writerow([])
    w.writerow(["invoice", "issue_date", "due_date", "currency", "amount", "open"])
    for inst in (Instalment.objects.filter(company=company, customer=customer)
                 .select_related("invoice").order_by("due_date", "pk")):
        if inst.amount > inst.settled:
            w.writerow([inst.invoice.number, inst.invoice.issue_date, inst.due_date,
                        inst.currency, Money.from_minor(inst.amount, inst.currency)
                        .format_plain(), Money.from_minor(inst.amount - inst.settled,
                                                          inst.currency).format_plain()])
    return out.getvalue()


# ---------------------------------------------------------------- sending
def _groups(notice: DunningNotice, language: str = "") -> list[ReminderGroup]:
    """The notice's items grouped by level, highest first, each headed by its level's name in
    ``language`` (the message's: the level's name in that language as the notice recorded
    it, else its name)."""
    names = {lv.get("number"): (lv.get("names") or {}).get(language)
             for lv in notice.levels or ()}
    groups: dict[int, tuple[str, list[tuple[str, date, str, int]]]] = {}
    for it in notice.summary.get("items", []):
        name, rows = groups.setdefault(it["level"],
                                       (names.get(it["level"]) or it["level_name"], []))
        rows.append((it["number"], date.fromisoformat(it["due_date"]), it["currency"],
                     it["amount"]))
    return [ReminderGroup(name, tuple(rows)) for _, (name, rows) in
            sorted(groups.items(), reverse=True)] + plan_dues.groups(notice, language)


class _Texts:
    """What every message of a run shares, read once per run: the reminder texts of each
    level's template and language (``named_message_texts``: the level's own text in the
    customer's language, else the company's, else the company's reminder text) and a
    formatter per language and country (its locale loaded once). A notice's own values are
    filled in per message."""

    def __init__(self, company: Company) -> None:
        self.company = company
        self._texts: dict[tuple[str, str], NamedTexts] = {}
        self._formats: dict[tuple[str, str], Formatter] = {}

    def texts(self, template: str, language: str) -> NamedTexts:
        if (template, language) not in self._texts:
            self._texts[(template, language)] = named_message_texts(
                self.company, "reminder", template, language)
        return self._texts[(template, language)]

    def formatter(self, language: str, country: str) -> Formatter:
        if (language, country) not in self._formats:
            self._formats[(language, country)] = Formatter(language, country)
        return self._formats[(language, country)]

    def of(self, notice: DunningNotice) -> tuple[Formatter, NamedTexts]:
        """The texts of a notice (those of the template of its highest level, as the notice
        recorded it) and the formatter of the language they are written in."""
        customer = notice.customer
        texts = self.texts(notice_template(notice), document_language(customer))
        return self.formatter(texts.language, customer.country or self.company.country), texts


def notice_template(notice: DunningNotice) -> str:
    """The template of the highest level a notice lists, as the notice recorded it ("" for a
    notice written before levels were recorded: the company's reminder text)."""
    top = next((lv for lv in notice.levels or () if lv.get("number") == notice.level), None)
    return str(top.get("template", "")) if top else ""


def _texts(company: Company, notice: DunningNotice, fmt: Formatter, texts: NamedTexts
           ) -> tuple[str, str, str, list[tuple[str, int, str]]]:
    """(subject, body, total, charges) of a notice in the language of ``texts``."""
    groups = _groups(notice, fmt.language)
    lines = []
    totals: dict[str, int] = {}
    for g in groups:
        lines.append(g.name)
        for number, due, cur, amount in g.items:
            lines.append(f"  {number}  {fmt.date(due)}  {fmt.money(amount, cur)}")
            totals[cur] = totals.get(cur, 0) + amount
    fee_lines: list[tuple[str, int, str]] = []
    for inv in (notice.fee_invoice, notice.vat_fee_invoice):
        if inv is None:
            continue
        what = f"{labels_for(fmt.language)['invoice']} {inv.number}"
        fee_lines.append((what, inv.total, inv.currency))
        totals[inv.currency] = totals.get(inv.currency, 0) + inv.total
        lines.append(f"{what}  {fmt.money(inv.total, inv.currency)}")
    total = "; ".join(fmt.money(v, c) for c, v in sorted(totals.items()))
    subject, body = compose(company, "reminder", fmt.language, {
        "number": notice.customer.code, "company": company.name,
        "customer": notice.customer.legal_name or notice.customer.name,
        "as_of": fmt.date(notice.day), "level": groups[0].name if groups else "",
        "items": "\n".join(lines), "total": total},
        (texts.subject, texts.body, texts.source))
    return subject, body, total, fee_lines


def notice_letter(company: Company, notice: DunningNotice,
                  shared: _Texts | None = None) -> bytes:
    """The notice as a letter (PDF), in the language of its level's text for the customer."""
    fmt, texts = (shared or _Texts(company)).of(notice)
    subject, body, total, fee_lines = _texts(company, notice, fmt, texts)
    return reminder_letter_pdf(company=company, customer=notice.customer, as_of=notice.day,
                               title=subject, intro=body, groups=_groups(notice, fmt.language),
                               charges=fee_lines, total=total, language=fmt.language)


def notice_letter_pdf(company: Company, notice: DunningNotice) -> bytes:
    """The letter of a notice: the one kept when it was sent, else rendered now (a notice
    sent by e-mail alone, or not sent yet)."""
    return bytes(notice.letter_pdf) if notice.letter_pdf else notice_letter(company, notice)


SEND_BATCH = 200  # notices prepared (texts, letters) before their messages are sent
# With ``settings.DUNNING_PARALLEL_FROM`` notices to send or more (100 unless set), outside
# any transaction, on a machine of two cores or more, the notices are shared out between
# sending processes, one per core (at most SENDERS): each renders its letters and sends its
# messages over its own connection to the mail server, as one run alone would.
SENDERS = 4


def _senders(pending: int) -> int:
    """How many processes send ``pending`` notices: one per core, from
    ``settings.DUNNING_PARALLEL_FROM``."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
    if pending < settings.DUNNING_PARALLEL_FROM or transaction.get_connection().in_atomic_block:
        return 1
    return max(1, min(SENDERS, cores))


def _send_pending(actor: Actor, company: Company, as_of: date, summary: RunSummary) -> None:
    """Every pending notice's e-mail in turn over one connection to the mail server, each
    recorded before it is sent and its outcome recorded before the next is sent, in the same
    transaction as the next one's record (the documents app's ``record``, ``deliver`` and
    ``record_outcome``): at any moment at most one message per sending process may be with
    the server without its outcome recorded, the one a killed run reports as
    ``outcome_unknown``, as when each message had transactions of its own, for a third of the
    writes and one connection. Many notices are shared out between processes, one per core
    (``_senders``), each of them such a sender. Inside a caller's transaction, each message is
    recorded now and sent after its commit (``record_and_send``): nothing leaves before what
    it records is committed."""
    unknown = list(DunningNotice.objects.filter(company=company, kind=NoticeKind.REMINDER,
                                                day=as_of, communication__status="queued")
                   .values_list("customer__code", flat=True))
    # A notice with a letter kept and no e-mail recorded is a letter for the post, done (an
    # e-mailed notice's letter is kept in the update that records its e-mail): not again.
    pending = DunningNotice.objects.filter(company=company, kind=NoticeKind.REMINDER,
                                           day=as_of, communication__isnull=True,
                                           letter_sha256="")
    ids = list(pending.order_by("pk").values_list("pk", flat=True))
    senders = _senders(len(ids))
    if senders == 1:
        _send_notices(actor, company, ids, summary, pool=[])
    else:
        # Forked, so with Django, the fonts and the texts loaded; each opens its own database
        # connection. A sender exits when the run is gone (``_exit_with``).
        if pending.filter(Q(channels__contains="letter")
                          | ~Q(channels__contains="email")).exists():
            warm_up()  # WeasyPrint loaded once here, not in each sender
        connections.close_all()
        with ProcessPoolExecutor(senders, mp_context=multiprocessing.get_context("fork"),
                                 initializer=_exit_with, initargs=(os.getpid(),)) as pool:
            parts = list(pool.map(_sender, [actor] * senders, [company] * senders,
                                  [ids[k::senders] for k in range(senders)],
                                  [as_of] * senders))
        for part in parts:
            summary.messages_sent += part.messages_sent
            summary.letters += part.letters
            summary.calls += part.calls
            summary.skipped += part.skipped
            summary.problems += part.problems
    for code in unknown:
        summary.skipped.append({"customer": code, "item": "", "reason": "outcome_unknown",
                                "detail": "the run stopped while the mail server had the "
                                "message: check its log before sending again"})


def _sender(actor: Actor, company: Company, ids: list[int], as_of: date) -> RunSummary:
    """In a sending process: send the notices ``ids``; what it counted."""
    part = RunSummary(as_of, True)
    try:
        _send_notices(actor, company, ids, part, pool=None)
    finally:
        connections.close_all()
    return part


def _send_notices(actor: Actor, company: Company, ids: list[int], summary: RunSummary,
                  pool: list[Any] | None) -> None:
    """Send the notices ``ids`` in batches over one connection to the mail server. ``pool``:
    the list that holds the run's pool of letter processes once made; None in a sending
    process, which renders its letters itself."""
    inside = transaction.get_connection().in_atomic_block
    connection = mail_connection()
    shared = _Texts(company)
    if not inside:
        with contextlib.suppress(Exception):
            connection.open()  # if it fails, each message tries again and records why not
    try:
        for start in range(0, len(ids), SEND_BATCH):
            # (the customers' contacts in one query per batch: their language and addresses)
            batch = (DunningNotice.objects.filter(pk__in=ids[start:start + SEND_BATCH])
                     .select_related("customer", "fee_invoice", "vat_fee_invoice")
                     .prefetch_related("customer__contacts").order_by("pk"))
            _send_batch(actor, company, list(batch), summary, None if inside else connection,
                        pool, shared)
    finally:
        connection.close()
        for executor in pool or ():
            executor.shutdown()


class _Taken(Exception):
    """The notice's e-mail was recorded by another sender: not ours to send."""


@dataclass
class _Prepared:
    notice: DunningNotice
    outgoing: Outgoing
    letter: bytes | None


PR_SET_PDEATHSIG = 1  # prctl(2)
LETTER_WORKERS = 4  # at most, and never more than the machine's cores


def _letter_of(company: Company, notice: DunningNotice) -> bytes:
    return notice_letter(company, notice)


def _exit_with(parent: int) -> None:
    """In a letter or sending process: exit when the run that forked it is gone (a run
    killed with SIGKILL cannot stop its pool, and the pool's own pipes stay open in the
    workers). On Linux the kernel kills it with its parent (``PR_SET_PDEATHSIG``); elsewhere
    it looks twice a second. (A sender still finishing a message when its run is killed
    cannot make a duplicate: a notice is claimed once, ``_record``.)"""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # libc's, where it is
        if os.getppid() != parent:  # the run was gone before the call
            os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _render_letters(company: Company, notices: list[DunningNotice], pool: list[Any] | None
                    ) -> dict[int, bytes]:
    """The letters of ``notices`` that have one, by notice id. WeasyPrint lays out one page
    on one core (about 11 letters per CPU-second, bench/README.md "PDF rendering"): with many
    letters, outside any transaction, they are rendered in a pool of processes, one per core
    (forked, so with the fonts and stylesheet already loaded; the database connections are
    closed first, each process opens its own). ``pool`` holds the run's pool once made."""
    want = [n for n in notices if "letter" in n.channels.split(",")
            or "email" not in n.channels.split(",")]
    workers = min(LETTER_WORKERS, os.cpu_count() or 1)
    if (pool is None or workers < 2 or len(want) < 2 * workers
            or transaction.get_connection().in_atomic_block):
        return {n.pk: notice_letter(company, n) for n in want}
    if not pool:
        warm_up()  # once here, not in each letter process
        connections.close_all()
        pool.append(ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                        initializer=_exit_with, initargs=(os.getpid(),)))
    pdfs = pool[0].map(_letter_of, [company] * len(want), want,
                       chunksize=max(1, len(want) // (4 * workers)))
    return dict(zip([n.pk for n in want], pdfs, strict=True))


def _send_batch(actor: Actor, company: Company, notices: list[DunningNotice],
                summary: RunSummary, connection: Any, pool: list[Any] | None,
                shared: _Texts) -> None:
    letters = _render_letters(company, notices, pool)
    prepared: list[_Prepared] = []
    for notice in notices:
        channels = notice.channels.split(",")
        if "email" not in channels:
            _letter(company, notice, letters.get(notice.pk))
            summary.letters += 1
        else:
            try:
                prepared.append(_prepare(company, notice, letters.get(notice.pk), shared))
            except NoRecipients as exc:
                _letter(company, notice)
                summary.letters += 1
                summary.skipped.append({"customer": notice.customer.code, "item": "",
                                        "reason": "no_email_address", "detail": exc.message})
        summary.calls += "call" in channels
    if connection is None:  # inside a caller's transaction: sent after its commit
        for p in prepared:
            try:
                with transaction.atomic():
                    recorded = _record(actor, company, p, summary, None)
                    transaction.on_commit(partial(_deliver_later, company, actor, recorded))
            except _Taken:
                continue
            comm = Communication.objects.get(pk=recorded.communication_id)
            _count(summary, Outcome(recorded, comm.status, comm.status_detail, {}),
                   p.notice.customer.code)
        return
    last: Outcome | None = None
    last_code = ""
    for p in prepared:
        try:
            with transaction.atomic():
                events: list[EventSpec] = []
                if last is not None:
                    record_outcome(company, actor, last, events)
                recorded = _record(actor, company, p, summary, events)
                audit_many(company, actor, events)
        except _Taken:  # another sender has it: the last outcome alone, and on
            if last is not None:
                record_outcome(company, actor, last)
                _count(summary, last, last_code)
                last = None
            continue
        except BaseException:
            if last is not None:  # the outcome is known: keep it, in its own transaction
                record_outcome(company, actor, last)
            raise
        if last is not None:
            _count(summary, last, last_code)
        last, last_code = deliver(recorded, connection), p.notice.customer.code
    if last is not None:
        record_outcome(company, actor, last)
        _count(summary, last, last_code)


def _prepare(company: Company, notice: DunningNotice, letter: bytes | None = None,
             shared: _Texts | None = None) -> _Prepared:
    """Everything that can fail on our side, before anything is recorded: the recipients,
    the text in the customer's language, the letter (``letter``, if rendered already)."""
    customer = notice.customer
    recipients = resolve_recipients(customer, None)
    fmt, texts = (shared or _Texts(company)).of(notice)
    language = fmt.language
    subject, body, _, _ = _texts(company, notice, fmt, texts)
    pdf, files = None, ()
    if "letter" in notice.channels.split(","):
        pdf = letter if letter is not None else notice_letter(company, notice)
        files = (Attachment("pdf", f"reminder-{customer.code}-{notice.day}.pdf", pdf,
                            "application/pdf", hashlib.sha256(pdf).hexdigest()),)
    return _Prepared(notice, Outgoing(subject, body, tuple(recipients), language, files), pdf)


def _record(actor: Actor, company: Company, p: _Prepared, summary: RunSummary,
            events: list[EventSpec] | None) -> Recorded:
    """Record the notice's e-mail (and keep its letter) in the caller's transaction: a run
    killed before its commit leaves neither, and the resumed run sends the message (a letter
    kept alone would make it look like a notice for the post only, never e-mailed)."""
    notice = p.notice
    fields = ["communication"]
    if p.letter is not None:
        notice.letter_pdf, notice.letter_sha256 = p.letter, hashlib.sha256(p.letter).hexdigest()
        fields += ["letter_pdf", "letter_sha256"]
    comm, recorded = record(actor=actor, company=company, customer=notice.customer,
                            outgoing=p.outgoing, action="dunning.remind",
                            entity="dunning_notice", entity_id=notice.pk, as_of=notice.day,
                            events=events)
    notice.communication = comm
    # Claimed only if no other sender has recorded it meanwhile (another run of the day, or
    # the sending process of a killed run still finishing its message): else nothing of
    # this transaction stays and the message is not sent.
    claimed = DunningNotice.objects.filter(pk=notice.pk, communication__isnull=True).update(
        **{f: getattr(notice, f) for f in fields})
    if not claimed:
        raise _Taken(notice.pk)
    summary.letters += p.letter is not None
    return recorded


def _deliver_later(company: Company, actor: Actor, recorded: Recorded) -> None:
    record_outcome(company, actor, deliver(recorded))


def _count(summary: RunSummary, outcome: Outcome, code: str) -> None:
    # Handed to the mail server: counted as sent (bounces come back later, if at all).
    if outcome.status not in ("bounced", "failed"):
        summary.messages_sent += 1
    else:
        summary.problems.append({"customer": code, "code": "delivery_failed",
                                 "message": f"{outcome.status}: {outcome.detail}"})


def _letter(company: Company, notice: DunningNotice, pdf: bytes | None = None) -> bytes:
    pdf = pdf if pdf is not None else notice_letter(company, notice)
    notice.letter_pdf, notice.letter_sha256 = pdf, hashlib.sha256(pdf).hexdigest()
    notice.save(update_fields=["letter_pdf", "letter_sha256"])
    return pdf


def fees_total(company: Company, customer_code: str) -> dict[str, int]:
    """What dunning charged a customer, by kind (minor units): the tests' hand check."""
    customer = customer_get(company, customer_code)
    agg = DunningItem.objects.filter(company=company, notice__customer=customer).aggregate(
        fee=Sum("fee"), interest=Sum("interest"), compensation=Sum("compensation"))
    return {k: v or 0 for k, v in agg.items()}
