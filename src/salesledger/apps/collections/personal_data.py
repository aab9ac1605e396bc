"""What collections erases when a customer is anonymised, and when it refuses
(docs/security.md, "Personal data").

Erased: what people wrote or sent about the customer in the casework: a dispute's notes and
resolution notes and its attachments (a photo, a delivery note: they name people), the notes
of promises to pay and payment plans. Calls, notes and replies are entries of the
communication timeline, whose text the customers app erases itself. Kept: the amounts, days,
reasons, outcomes and links of the casework, which identify no one and are the record of what
was owed and agreed.

Refused while a dispute is open: it still waits for a decision about the customer (and
rejecting a disputed deduction would make an amount owed again by someone who is gone).
"""

from __future__ import annotations

from salesledger.apps.core import events
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company
from salesledger.domain.collections import DisputeStatus
from salesledger.domain.errors import AnonymiseRefused

from .models import Dispute, DisputeAttachment, PaymentPlan, Promise
from .ranking import worklist_rank_refresh

# The casework's columns emptied when the customer is anonymised.
ERASED = {"Dispute": ("notes", "resolution_notes"), "Promise": ("notes",),
          "PaymentPlan": ("notes",)}


def open_disputes_need_the_customer(proposal: events.CustomerAnonymising) -> None:
    row = (Dispute.objects.filter(company_id=proposal.company_id,
                                  customer_id=proposal.customer_id,
                                  status=DisputeStatus.OPEN.value)
           .select_related("invoice").order_by("pk").first())
    if row is not None:
        raise AnonymiseRefused(
            f"customer {proposal.code} has an open dispute: dispute {row.pk} over "
            f"{row.invoice.number}; resolve or reject it first", customer=proposal.code,
            reason="open_dispute")


def casework_erase(event: events.CustomerDataErased) -> None:
    """Empty the casework's notes and remove the disputes' attachments of the customer (the
    database lets an attachment go once its customer is anonymised, and not before)."""
    company = Company.objects.get(pk=event.company_id)
    mine = {"company_id": event.company_id, "customer_id": event.customer_id}
    counts = {
        "disputes": Dispute.objects.filter(**mine).update(notes="", resolution_notes=""),
        "promises": Promise.objects.filter(**mine).update(notes=""),
        "plans": PaymentPlan.objects.filter(**mine).update(notes=""),
        "attachments": DisputeAttachment.objects.filter(
            dispute__customer_id=event.customer_id).delete()[0],
    }
    audit(company, event.actor, "collections.erase", "customer", event.customer_id,
          erased={k: list(v) for k, v in ERASED.items()}, counts=counts)
    # the kept worklist ranking holds the customer's name: ranked again, it holds the new one
    worklist_rank_refresh(company, [event.customer_id])
