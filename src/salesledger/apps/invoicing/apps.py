from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "salesledger.apps.invoicing"
    label = "invoicing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The invariants of what this app writes, run by `salesledger check`.
        from .invariants import register_checks

        register_checks()
