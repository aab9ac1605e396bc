from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "salesledger.apps.payments"
    label = "payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from salesledger.apps.core.guards import Guard, protect

        from .handlers import register
        from .invariants import register_checks
        from .models import Adjustment, Allocation, Receipt, ReceiptReversal, Refund

        # The events this app listens to (docs/design/events.md).
        register()
        # The invariants of what this app writes, run by `salesledger check`.
        register_checks()
        # Receipts, allocations, adjustments, refunds and reversals are posted, in the database
        # too (core/guards.py, docs/design/adjustments.md); only a receipt's cached allocated
        # amount moves.
        protect(Guard(Allocation), Guard(Receipt, mutable=("allocated",)), Guard(Adjustment),
                Guard(Refund), Guard(ReceiptReversal))
