"""Sending the invoice of an issued recurring period, through the documents app."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company
from salesledger.apps.documents.delivery import invoice_send
from salesledger.domain.errors import LedgerError, NotFound

from .models import RecurringRun, SendStatus


def _mark(company: Company, actor: Actor, run: RecurringRun, status: str, detail: str) -> None:
    with transaction.atomic():
        run.send_status, run.send_detail = status, detail[:2000]
        run.sent_at = timezone.now() if status == SendStatus.SENT else None
        run.save(update_fields=["send_status", "send_detail", "sent_at"])
        audit(company, actor, f"recurring.send_{status}", "recurring_run", run.pk,
              invoice=run.invoice.number, detail=detail[:500])


def recurring_deliver(*, actor: Actor, company: Company, run_id: int, as_of: date) -> str:
    """Send the invoice of an issued period (the documents app's ``invoice_send``). The
    outcome is recorded on the run (and audited) whether it succeeds or not; a failure is
    raised after it is recorded, so the task shows as failed too."""
    run = (RecurringRun.objects.select_related("invoice")
           .filter(company=company, pk=run_id).first())
    if run is None:
        raise NotFound(f"no recurring run {run_id}", run=run_id)
    if run.send_status == SendStatus.SENT:
        return run.send_detail  # a repeated task does not send twice
    try:
        outcome = invoice_send(actor=actor, company=company, number=run.invoice.number,
                               as_of=as_of)
    except LedgerError as exc:
        _mark(company, actor, run, SendStatus.FAILED, f"{exc.code}: {exc.message}")
        raise
    detail = f"sent {run.invoice.number}" + (f": {outcome}" if outcome else "")
    _mark(company, actor, run, SendStatus.SENT, detail)
    return detail
