from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "salesledger.apps.customers"
    label = "customers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The events this app listens to (docs/design/events.md).
        from .handlers import register

        register()
