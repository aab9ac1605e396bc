"""What the quotes app refuses when the apps below it propose something
(docs/design/events.md)."""

from __future__ import annotations

from django.db.models import Q

from salesledger.apps.core import events
from salesledger.domain.errors import AnonymiseRefused
from salesledger.domain.quotes import QuoteStatus

from .models import Quote


def open_quotes_need_the_customer(proposal: events.CustomerAnonymising) -> None:
    """A draft quote, or a sent one still valid on the day, may yet become an invoice to the
    customer. Decline it (or let it expire) first."""
    open_quotes = Quote.objects.filter(
        Q(status=QuoteStatus.DRAFT)
        | Q(status=QuoteStatus.SENT, valid_until__gte=proposal.as_of),
        company_id=proposal.company_id, customer_id=proposal.customer_id)
    first = open_quotes.order_by("number", "revision").first()
    if first is not None:
        raise AnonymiseRefused(
            f"customer {proposal.code} has a quote still open on {proposal.as_of}: "
            f"{first.label} ({first.status}); decline it first", customer=proposal.code,
            reason="quotes")


def register() -> None:
    events.veto(events.CustomerAnonymising, open_quotes_need_the_customer)
