from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "salesledger.apps.customers"
    label = "customers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from salesledger.apps.core.guards import Guard, protect

        from .handlers import register
        from .invariants import register_checks
        from .models import Communication

        # The events this app listens to (docs/design/events.md).
        register()
        # The invariants of what this app writes, run by `salesledger check`.
        register_checks()
        # What was sent stays as sent; only its delivery status moves, and the personal data
        # in it may be erased (core/guards.py, domain/personal_data.py).
        protect(Guard(Communication, mutable=("status", "status_detail"),
                      erasable=("recipients", "body")))
