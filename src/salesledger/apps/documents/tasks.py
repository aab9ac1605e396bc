"""Background tasks of the documents app (run by ``salesledger worker``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django_tasks import task

from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.selectors import company_get, user_get
from salesledger.apps.core.services import require_role
from salesledger.apps.invoicing.models import DocumentFile, Invoice
from salesledger.domain.errors import ValidationFailed
from salesledger.domain.lifecycle import DocStatus

# Posted documents whose PDF the worker freezes in one task.
FREEZE_CHUNK = 100


@task()
def freeze_pdfs_task(company: str, invoice_ids: list[int], username: str = "") -> dict[str, Any]:
    """Freeze the PDFs of posted documents of one company (by code): queued at posting (the
    system's work, no ``username``), or as a batch a user started, audited as that user."""
    from .services import pdfs_freeze

    return pdfs_freeze(actor=user_get(username) if username else None,
                       company=company_get(company), invoice_ids=invoice_ids)


def pdfs_freeze_later(company: Company, invoice_ids: list[int]) -> int:
    """Queue the freezing of these posted documents' PDFs (``salesledger worker`` renders
    them with ``services.pdfs_freeze``). Call inside the posting transaction: the task rows
    are written with the documents or not at all. Returns the number of tasks queued."""
    chunks = [invoice_ids[i:i + FREEZE_CHUNK] for i in range(0, len(invoice_ids), FREEZE_CHUNK)]
    for chunk in chunks:
        freeze_pdfs_task.enqueue(company.code, chunk)
    return len(chunks)


# The most documents one batch started from the workspace freezes (the next batch takes the
# rest: a batch only queues what is not frozen yet).
BATCH_LIMIT = 10_000
# The task functions the workspace follows for this app (core.selectors.queued_task).
DOCUMENT_TASKS = frozenset({"freeze_pdfs_task"})


def pdf_batch_later(*, actor: Any, company: Company, issued_from: date | None = None,
                    issued_to: date | None = None) -> tuple[str, int]:
    """Queue, as one task, the freezing of the PDFs of the company's posted documents
    (issued within the dates given) that have none yet, at most ``BATCH_LIMIT``: what the
    workspace's "PDF batch" starts. Returns the task's id and how many documents it
    freezes; refused when every one is frozen already."""
    from .services import PDF_KIND

    require_role(company, actor, Role.CLERK)
    if issued_from and issued_to and issued_from > issued_to:
        raise ValidationFailed(f"{issued_from} is after {issued_to}", field="issued_from")
    rows = Invoice.objects.filter(company=company, status=DocStatus.POSTED).exclude(
        pk__in=DocumentFile.objects.filter(company=company, kind=PDF_KIND).values("invoice_id"))
    if issued_from:
        rows = rows.filter(issue_date__gte=issued_from)
    if issued_to:
        rows = rows.filter(issue_date__lte=issued_to)
    ids = list(rows.order_by("pk").values_list("pk", flat=True)[:BATCH_LIMIT])
    if not ids:
        raise ValidationFailed("every posted document of these dates has its PDF already",
                               field="issued_from")
    # the batch is the user's: the worker audits each PDF it freezes as them
    return str(freeze_pdfs_task.enqueue(company=company.code, invoice_ids=ids,
                                        username=actor.get_username() if actor else "").id
               ), len(ids)


def pdfs_frozen_count(company: Company, invoice_ids: list[int]) -> int:
    """How many of these documents have their PDF frozen (a batch's progress). One query."""
    from .services import PDF_KIND

    return DocumentFile.objects.filter(company=company, kind=PDF_KIND,
                                       invoice_id__in=invoice_ids).count()
