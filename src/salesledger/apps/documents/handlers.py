"""What the documents app does when the apps below it act (docs/design/events.md)."""

from __future__ import annotations

from salesledger.apps.core import events
from salesledger.apps.core.models import Company


def freeze_posted_pdfs(event: events.DocumentsPosted) -> None:
    """The PDF of a document issued here is rendered and frozen in the background, moments
    after posting: the task rows are written in the posting transaction. Migrated history
    that keeps another system's number was issued there, and is not frozen."""
    ids = [d.id for d in event.documents if not d.kept_number]
    if ids:
        # The task queue loads only when a document is posted, not with every command.
        from .tasks import pdfs_freeze_later


        pdfs_freeze_later(Company.objects.get(pk=event.company_id), ids)


def register() -> None:
    events.subscribe(events.DocumentsPosted, freeze_posted_pdfs)
