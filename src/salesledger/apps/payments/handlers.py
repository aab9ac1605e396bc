"""What the payments app does when the apps below it act (docs/design/events.md)."""

from __future__ import annotations

from salesledger.apps.core import events
from salesledger.apps.core.models import Company

from .bulk import credit_notes_apply_to_corrected_bulk


def apply_credit_notes(event: events.DocumentsPosted) -> None:
    """A credit note that corrects an invoice is applied to it in the posting transaction, up
    to what is open on it: posting one (``invoice_post``) and importing many (the CSV import)
    go through the same writer."""
    ids = [d.id for d in event.documents if d.kind == "credit_note" and d.corrects_id]
    if ids:
        credit_notes_apply_to_corrected_bulk(
            actor=event.actor, company=Company.objects.get(pk=event.company_id),
            credit_note_ids=ids)


def register() -> None:
    events.subscribe(events.DocumentsPosted, apply_credit_notes)
