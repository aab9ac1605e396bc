from django.apps import AppConfig


class RecurringConfig(AppConfig):
    name = "salesledger.apps.recurring"
    label = "recurring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The events this app listens to (docs/design/events.md).
        from .handlers import register

        register()
