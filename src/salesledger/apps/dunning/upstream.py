"""Where dunning asks the collections and credit apps (below it) what it needs: the pauses
of a day (disputes, promises to pay, payment plans, replies waiting) and a credit hold.

The one place their services are called, so that the run reads as one story. Until the
collections and credit apps have these services, there is nothing to ask: no pause is known
and no hold can be placed (``hold`` says so in the run's audit event instead of failing the
run).
"""

from __future__ import annotations

from datetime import date

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company
from salesledger.apps.customers.models import Customer
from salesledger.domain.dunning import Pause


def pauses(company: Company, as_of: date) -> list[Pause]:
    """The pauses in force on ``as_of`` (collections app)."""
    return []


def hold(*, actor: Actor, company: Company, customer: Customer, reason: str) -> None:
    """Put the customer on credit hold (credit app)."""
    audit(company, actor, "dunning.hold_requested", "customer", customer.pk, reason=reason)
