"""What the customers app does when the apps below it act (docs/design/events.md)."""

from __future__ import annotations

from salesledger.apps.core import events
from salesledger.apps.core.models import Company

from .models import PaymentTerms

DEFAULT_TERMS = (
    ("NET30", "30 days net", [{"percent": "100", "days": 30}], "0", 0),
    ("NET14", "14 days net", [{"percent": "100", "days": 14}], "0", 0),
    ("DUE", "Due on receipt", [{"percent": "100", "days": 0}], "0", 0),
    ("2-10-NET30", "2% 10 days, net 30", [{"percent": "100", "days": 30}], "2", 10),
    (
        "30-60-90",
        "Thirds at 30/60/90 days",
        # Thirds with enough digits that each share rounds to a third of the total.
        [
            {"percent": "33.3333333333", "days": 30},
            {"percent": "33.3333333333", "days": 60},
            {"percent": "33.3333333334", "days": 90},
        ],
        "0",
        0,
    ),
)


def create_terms(event: events.CompanyCreated) -> None:
    """A new company gets the standard payment terms, NET30 its default, in its creating
    transaction."""
    terms = PaymentTerms.objects.bulk_create(
        PaymentTerms(company_id=event.company_id, code=c, name=n, lines=lines,
                     discount_percent=dp, discount_days=dd)
        for c, n, lines, dp, dd in DEFAULT_TERMS)
    Company.objects.filter(pk=event.company_id).update(
        default_terms=next(t for t in terms if t.code == "NET30"))


def register() -> None:
    events.subscribe(events.CompanyCreated, create_terms)
