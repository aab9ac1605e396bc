"""Background tasks of the documents app (run by ``salesledger worker``)."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from salesledger.apps.core.models import Company
from salesledger.apps.core.selectors import company_get

# Posted documents whose PDF the worker freezes in one task.
FREEZE_CHUNK = 100


@task()
def freeze_pdfs_task(company: str, invoice_ids: list[int]) -> dict[str, Any]:
    """Freeze the PDFs of posted documents of one company (by code), queued at posting."""
    from .services import pdfs_freeze

    return pdfs_freeze(actor=None, company=company_get(company), invoice_ids=invoice_ids)


def pdfs_freeze_later(company: Company, invoice_ids: list[int]) -> int:
    """Queue the freezing of these posted documents' PDFs (``salesledger worker`` renders
    them with ``services.pdfs_freeze``). Call inside the posting transaction: the task rows
    are written with the documents or not at all. Returns the number of tasks queued."""
    chunks = [invoice_ids[i:i + FREEZE_CHUNK] for i in range(0, len(invoice_ids), FREEZE_CHUNK)]
    for chunk in chunks:
        freeze_pdfs_task.enqueue(company.code, chunk)
    return len(chunks)
