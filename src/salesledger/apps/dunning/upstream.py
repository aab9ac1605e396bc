"""Where dunning asks the collections and credit apps (below it) what it needs: the pauses
of a day (disputes, promises to pay, payment plans, replies waiting) and a credit hold. The
one place their services are called, so that the run reads as one story."""

from __future__ import annotations

from datetime import date

from salesledger.apps.collections.selectors import dunning_pauses
from salesledger.apps.collections.services import (
    call_tasks_open,
    plans_observe,
    promises_observe,
)
from salesledger.apps.core.actors import Actor
from salesledger.apps.core.models import Company
from salesledger.apps.credit.services import credit_hold
from salesledger.apps.customers.models import Customer
from salesledger.domain.dunning import Pause


def pauses(company: Company, as_of: date) -> list[Pause]:
    """The pauses in force on ``as_of`` (collections app): disputed amounts, live promises,
    items in a plan, replies waiting."""
    return [Pause(p.customer_id, p.invoice_id, p.reason, p.amount)
            for p in dunning_pauses(company.pk, as_of)]


def hold(*, actor: Actor, company: Company, customer: Customer, reason: str) -> None:
    """Put the customer on credit hold from dunning (credit app; idempotent)."""
    credit_hold(actor=actor, company=company, customer_id=customer.pk, reason=reason,
                source="dunning")


def observe(*, actor: Actor, company: Company, as_of: date) -> None:
    """Record the promises kept or broken and the plans broken by ``as_of`` (collections
    app), so that credit hears of each once and a plan's hold on break is applied."""
    promises_observe(actor=actor, company=company, as_of=as_of)
    plans_observe(actor=actor, company=company, as_of=as_of)


def call_task(*, actor: Actor, company: Company, customer: Customer, day: date,
              reason: str) -> None:
    """A call for the customer's collector to make, on the worklist until it is logged
    (collections app; a customer with one waiting gets no second)."""
    call_tasks_open(actor=actor, company=company, customer_ids=[customer.pk], day=day,
                    reason=reason)
