from django.apps import AppConfig


class RecurringConfig(AppConfig):
    name = "salesledger.apps.recurring"
    label = "recurring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from salesledger.apps.core.guards import Guard, protect

        from .handlers import register
        from .models import RecurringRun

        # The events this app listens to (docs/design/events.md).
        register()
        # The proof that a period was invoiced (docs/design/recurring-invoices.md,
        # core/guards.py); only its delivery columns move.
        protect(Guard(RecurringRun, mutable=("send_status", "send_detail", "sent_at")))
