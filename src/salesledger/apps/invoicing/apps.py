from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "salesledger.apps.invoicing"
    label = "invoicing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from salesledger.apps.core.guards import Guard, protect

        from .handlers import register
        from .invariants import register_checks
        from .models import DocumentCharge, DocumentFile, Instalment, Invoice, InvoiceLine

        # The proposals this app may refuse (docs/design/events.md).
        register()
        # The invariants of what this app writes, run by `salesledger check`.
        register_checks()
        # Posted documents are immutable, in the database too (core/guards.py); only the
        # cached settlement figures move.
        protect(Guard(Instalment, mutable=("settled",)),
                Guard(Invoice, when="OLD.status = 'posted'", mutable=("allocated", "settlement")),
                Guard(InvoiceLine, parent_posted="invoice_id"),
                Guard(DocumentCharge, parent_posted="invoice_id"),
                Guard(DocumentFile))
