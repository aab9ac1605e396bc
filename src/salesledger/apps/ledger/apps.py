from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "salesledger.apps.ledger"
    label = "ledger"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from salesledger.apps.core.guards import Guard, protect

        from .handlers import register
        from .invariants import register_checks
        from .models import JournalEntry, JournalLine

        # The events this app listens to (docs/design/events.md).
        register()
        # The invariants of what this app writes, run by `salesledger check`.
        register_checks()
        # Posted journal entries are immutable, in the database too (core/guards.py).
        protect(Guard(JournalEntry), Guard(JournalLine))
