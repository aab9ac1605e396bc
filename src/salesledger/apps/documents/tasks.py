"""Background tasks of the documents app (run by ``salesledger worker``)."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def freeze_pdfs_task(company: str, invoice_ids: list[int]) -> dict[str, Any]:
    """Freeze the PDFs of posted documents of one company (by code), queued at posting."""
    from salesledger.apps.core.services import company_get

    from .services import pdfs_freeze

    return pdfs_freeze(actor=None, company=company_get(company), invoice_ids=invoice_ids)
