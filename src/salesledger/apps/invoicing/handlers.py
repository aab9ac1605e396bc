"""What the invoicing app refuses when the apps below it propose something
(docs/design/events.md)."""

from __future__ import annotations

from salesledger.apps.core import events
from salesledger.domain.errors import AnonymiseRefused, MergeRefused
from salesledger.domain.lifecycle import DocStatus

from .models import Invoice


def drafts_need_the_customer(proposal: events.CustomerAnonymising) -> None:
    """A draft invoice or credit note is still to be issued to the customer: posting it
    after the erasure would issue it to nobody. Post or delete the drafts first."""
    drafts = Invoice.objects.filter(company_id=proposal.company_id,
                                    customer_id=proposal.customer_id, status=DocStatus.DRAFT)
    count = drafts.count()
    if count:
        raise AnonymiseRefused(
            f"customer {proposal.code} has {count} draft document{'s' if count > 1 else ''}: "
            "post or delete them first", customer=proposal.code, reason="drafts")


def drafts_would_stay_with_the_alias(proposal: events.CustomerMerging) -> None:
    """A draft of the customer about to become an alias would be issued to the alias when
    posted, though new documents go to the survivor: post or delete the drafts first."""
    count = Invoice.objects.filter(company_id=proposal.company_id,
                                   customer_id=proposal.customer_id,
                                   status=DocStatus.DRAFT).count()
    if count:
        raise MergeRefused(
            f"customer {proposal.code} has {count} draft document{'s' if count > 1 else ''}: "
            f"post or delete them first (new documents then go to {proposal.survivor_code})",
            customer=proposal.code, reason="drafts")


def register() -> None:
    events.veto(events.CustomerAnonymising, drafts_need_the_customer)
    events.veto(events.CustomerMerging, drafts_would_stay_with_the_alias)
