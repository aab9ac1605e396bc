from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "salesledger.apps.documents"
    label = "documents"
    verbose_name = "Documents and delivery"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The events this app listens to (docs/design/events.md).
        from .handlers import register
        from .invariants import register_checks

        register()
        # The invariant of what this app writes, run by `salesledger check`.
        register_checks()
