"""What the recurring app does on its own events (docs/design/events.md)."""

from __future__ import annotations

from salesledger.apps.core import events


def queue_sending(event: events.RecurringInvoiceIssued) -> None:
    """After the issuing commits, a schedule that sends automatically queues the sending of
    its invoice for the worker (never for an issue that rolled back)."""
    if event.auto_send:
        from .tasks import invoice_send_task  # the task queue, only when a task is queued

        invoice_send_task.enqueue(event.company_code, event.run_id, event.as_of.isoformat())


def register() -> None:
    events.subscribe(events.RecurringInvoiceIssued, queue_sending, on_commit=True)
