"""Reminders of payment-plan instalments (docs/design/dunning.md, "Payment plans"): a plan's
instalments are reminded of in the customer's one message of the run, beside its items.

An instalment still open is reminded of at most once per **stage**:
- ``before``: from the policy's lead days (its friendly reminder, a negative level) before
  its due day; a policy with no friendly reminder sends none;
- ``missed``: from the day after its due day, while the plan still holds (its grace days);
- ``broken``: once the missed instalment broke the plan; the message says the plan is over,
  and the items it had rescheduled are back in the ordinary sequence, listed at their levels.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

STAGES = ("before", "missed", "broken")


@dataclass(frozen=True)
class PlanDue:
    """An open instalment of a payment plan as the run reads it."""

    instalment_id: int
    plan_id: int
    customer_id: int
    number: int
    due_date: date
    currency: str
    open: int
    broken_on: date | None = None  # the plan broke on this day, this instalment missed


@dataclass(frozen=True)
class PlanReminded:
    due: PlanDue
    stage: str


def stage_on(due: PlanDue, *, as_of: date, lead_days: int) -> str | None:
    """The stage an open instalment is at on ``as_of`` (None: nothing to say yet)."""
    if due.broken_on is not None:
        return "broken" if due.broken_on <= as_of else None
    if as_of > due.due_date:
        return "missed"
    if lead_days > 0 and as_of >= due.due_date - timedelta(days=lead_days):
        return "before"
    return None


def select_plan_reminders(dues: Iterable[PlanDue], *, as_of: date, lead_of: dict[int, int],
                          sent: set[tuple[int, str]]) -> dict[int, list[PlanReminded]]:
    """customer id -> the instalments newly at a stage, in order of plan and number.
    ``lead_of`` gives each dunned customer its policy's lead days (customers with no policy
    are not dunned); ``sent`` holds the (instalment, stage) pairs already reminded."""
    out: dict[int, list[PlanReminded]] = {}
    for d in sorted(dues, key=lambda d: (d.customer_id, d.plan_id, d.number)):
        if d.customer_id not in lead_of or d.open <= 0:
            continue
        stage = stage_on(d, as_of=as_of, lead_days=lead_of[d.customer_id])
        if stage is None or (d.instalment_id, stage) in sent:
            continue
        out.setdefault(d.customer_id, []).append(PlanReminded(d, stage))
    return out
