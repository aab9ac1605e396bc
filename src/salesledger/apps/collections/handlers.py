"""What collections does when something happens below it (docs/design/events.md)."""

from __future__ import annotations

from salesledger.apps.core import events
from salesledger.apps.core.models import Company

from .personal_data import casework_erase, open_disputes_need_the_customer
from .services import disputes_from_deductions


def open_disputes_for_deductions(event: events.DeductionsDisputed) -> None:
    """A deduction recorded with ``--dispute`` (by any path) opens a dispute over it, in the
    deduction's transaction."""
    disputes_from_deductions(company=Company.objects.get(pk=event.company_id),
                             actor=event.actor, adjustment_ids=event.adjustment_ids)


def register() -> None:
    events.subscribe(events.DeductionsDisputed, open_disputes_for_deductions)
    events.veto(events.CustomerAnonymising, open_disputes_need_the_customer)
    events.subscribe(events.CustomerDataErased, casework_erase)
