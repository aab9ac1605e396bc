"""What the recurring app does on its own events (docs/design/events.md)."""

from __future__ import annotations

from django.db.models import Q

from salesledger.apps.core import events
from salesledger.domain.errors import AnonymiseRefused

from .models import RecurringSchedule


def queue_sending(event: events.RecurringInvoiceIssued) -> None:
    """After the issuing commits, a schedule that sends automatically queues the sending of
    its invoice for the worker (never for an issue that rolled back)."""
    if event.auto_send:
        from .tasks import invoice_send_task  # the task queue, only when a task is queued

        invoice_send_task.enqueue(event.company_code, event.run_id, event.as_of.isoformat())


def schedules_need_the_customer(proposal: events.CustomerAnonymising) -> None:
    """A running schedule would go on invoicing the customer. Stop it first."""
    running = (RecurringSchedule.objects.filter(
        Q(end_date__isnull=True) | Q(end_date__gte=proposal.as_of),
        company_id=proposal.company_id, customer_id=proposal.customer_id, active=True)
        .order_by("pk").values_list("pk", flat=True).first())
    if running is not None:
        raise AnonymiseRefused(
            f"customer {proposal.code} has a running recurring schedule ({running}): stop it "
            "first", customer=proposal.code, reason="recurring")


def register() -> None:
    events.subscribe(events.RecurringInvoiceIssued, queue_sending, on_commit=True)
    events.veto(events.CustomerAnonymising, schedules_need_the_customer)
