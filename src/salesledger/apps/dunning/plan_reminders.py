"""The instalments of payment plans in the dunning run (docs/design/dunning.md, "Payment
plans"): what the run reads of them from the collections app, the rows that make each
reminder once per instalment and stage (``PlanReminder``, written in the notice's
transaction), and how they read in the message. The rules are
``domain/plan_reminders.py``."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from salesledger.apps.collections.models import PlanInstalment
from salesledger.apps.collections.selectors import plan_instalments_due, plans_broken
from salesledger.apps.core.models import Company
from salesledger.apps.customers.models import Customer
from salesledger.apps.documents.labels import labels_for
from salesledger.apps.documents.services import ReminderGroup
from salesledger.domain.dunning import CustomerPlan, Policy
from salesledger.domain.plan_reminders import PlanDue, PlanReminded, select_plan_reminders

from .models import DunningNotice, DunningPolicy, PlanReminder, PolicyAssignment


def due(company: Company, as_of: date, by_id: dict[int, Policy]
        ) -> tuple[dict[int, list[PlanReminded]], dict[int, Policy]]:
    """customer id -> the plan instalments newly at a stage on ``as_of``, and the policy of
    each customer with a plan instalment (the run reads the others' in the database)."""
    dues = [PlanDue(0, d.plan_id, d.customer_id, d.number, d.due_date, d.currency,
                    d.open_amount) for d in plan_instalments_due(company.pk, as_of)]
    dues += [PlanDue(0, b.plan_id, b.customer_id, b.number, b.due_date, b.currency,
                     b.open_amount, b.broken_on) for b in plans_broken(company.pk, as_of)]
    if not dues:
        return {}, {}
    ids = {(p, n): pk for pk, p, n in PlanInstalment.objects.filter(
        company=company, plan_id__in={d.plan_id for d in dues})
        .values_list("pk", "plan_id", "number")}
    dues = [replace(d, instalment_id=ids[(d.plan_id, d.number)]) for d in dues]
    sent = set(PlanReminder.objects.filter(company=company,
                                           instalment_id__in=[d.instalment_id for d in dues])
               .values_list("instalment_id", "stage"))
    policy_of = _policies_of(company, {d.customer_id for d in dues}, by_id)
    reminders = select_plan_reminders(dues, as_of=as_of, sent=sent,
                                      lead_of={c: p.lead_days for c, p in policy_of.items()})
    return reminders, policy_of


def _policies_of(company: Company, customer_ids: set[int], by_id: dict[int, Policy]
                 ) -> dict[int, Policy]:
    """The policy of each of these customers: its own, else its parent's, else the
    company's default (none: not dunned), for a few customers."""
    customers = dict(Customer.objects.filter(company=company, is_active=True,
                                             pk__in=customer_ids)
                     .values_list("pk", "parent_id"))
    own = dict(PolicyAssignment.objects.filter(
        company=company, customer_id__in={*customers, *filter(None, customers.values())})
        .values_list("customer_id", "policy_id"))
    default = (DunningPolicy.objects.filter(company=company, is_default=True)
               .values_list("pk", flat=True).first())
    out = {}
    for cid, parent in customers.items():
        pid = own.get(cid) or (own.get(parent) if parent else None) or default
        if pid in by_id:
            out[cid] = by_id[pid]
    return out


def attach(plans: list[CustomerPlan], reminders: dict[int, list[PlanReminded]],
           policy_of: dict[int, Policy]) -> list[CustomerPlan]:
    """The run's plans with each customer's plan instalments, a plan added for a customer
    with nothing else to say (all its items are in the plan)."""
    by_customer = {p.customer_id: p for p in plans}
    for cid, rows in reminders.items():
        if cid not in by_customer:
            by_customer[cid] = CustomerPlan(cid, policy_of[cid])
        by_customer[cid].plan_instalments = rows
    return sorted(by_customer.values(), key=lambda p: p.customer_id)


def channels(plan: CustomerPlan) -> list[str]:
    """The channels of a customer's message: its new levels', and e-mail for a plan
    instalment."""
    out = {c for r in plan.new_items for c in r.level.channels}
    return sorted(out | {"email"} if plan.plan_instalments else out)


def rows(plan: CustomerPlan) -> list[dict[str, Any]]:
    """The plan instalments of a customer's message (the preview, the notice's summary)."""
    return [{"plan": r.due.plan_id, "instalment": r.due.instalment_id, "number": r.due.number,
             "due_date": r.due.due_date.isoformat(), "currency": r.due.currency,
             "amount": r.due.open, "stage": r.stage} for r in plan.plan_instalments]


def write(notice: DunningNotice, plan: CustomerPlan) -> None:
    """Each instalment reminded of, once per stage (the unique key refuses a second)."""
    PlanReminder.objects.bulk_create(
        PlanReminder(company_id=notice.company_id, notice=notice,
                     instalment_id=r.due.instalment_id, stage=r.stage, amount=r.due.open)
        for r in plan.plan_instalments)


def groups(notice: DunningNotice, language: str = "") -> list[ReminderGroup]:
    """The plan instalments of a notice, one group per stage, as the message lists them,
    headed in ``language`` (the message's)."""
    words = labels_for(language or "en")
    by_stage: dict[str, list[tuple[str, date, str, int]]] = {}
    for it in notice.summary.get("plan_instalments", []):
        by_stage.setdefault(it["stage"], []).append(
            (f"plan {it['plan']} #{it['number']}", date.fromisoformat(it["due_date"]),
             it["currency"], it["amount"]))
    return [ReminderGroup(words[f"plan_{s}"], tuple(by_stage[s]))
            for s in ("broken", "missed", "before") if s in by_stage]
