from django.apps import AppConfig


class DunningConfig(AppConfig):
    """Dunning: reminder policies and their levels, fees and late-payment interest, and the daily
    runs that send reminders, letters and statements (docs/design/dunning.md)."""

    name = "salesledger.apps.dunning"
    label = "dunning"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .handlers import register

        # The events this app listens to (docs/design/events.md).
        register()
