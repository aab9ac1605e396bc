from django.apps import AppConfig


class BankingConfig(AppConfig):
    """Bank statements: imported, checked, kept line by line for matching
    (docs/design/bank-statements.md)."""

    name = "salesledger.apps.banking"
    label = "banking"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .handlers import register

        # The events this app listens to (docs/design/events.md).
        register()
