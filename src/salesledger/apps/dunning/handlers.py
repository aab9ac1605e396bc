"""What dunning does when something happens below it (docs/design/events.md)."""

from __future__ import annotations

from salesledger.apps.collections.selectors import timeline_source
from salesledger.apps.core import events
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company

from .models import DunningNotice
from .selectors import notice_timeline


def notices_erase(event: events.CustomerDataErased) -> None:
    """A customer anonymised: its reminder letters (its name and address on the company's
    letterhead) and the files handed to a collection agency (its contact data) are erased;
    the notices stay, with the day, level, items, the fee invoice and the letter's hash: the
    evidence that a reminder was sent (docs/security.md, "Personal data")."""
    erased = (DunningNotice.objects.filter(company_id=event.company_id,
                                           customer_id=event.customer_id)
              .update(letter_pdf=None, agency_export=""))
    audit(Company.objects.get(pk=event.company_id), event.actor, "dunning.erase", "customer",
          event.customer_id, erased=["letter_pdf", "agency_export"], notices=erased)


def register() -> None:
    events.subscribe(events.CustomerDataErased, notices_erase)
    # the notices on the customer's timeline, beside the e-mails they sent
    timeline_source(notice_timeline)
