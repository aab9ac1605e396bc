from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "salesledger.apps.payments"
    label = "payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The events this app listens to (docs/design/events.md).
        from .handlers import register
        from .invariants import register_checks

        register()
        # The invariants of what this app writes, run by `salesledger check`.
        register_checks()
