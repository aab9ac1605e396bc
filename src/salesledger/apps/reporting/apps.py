from django.apps import AppConfig


class ReportingConfig(AppConfig):
    """Reports over the books (aged receivables, unapplied cash and credits): it reads the
    apps below it and writes nothing, so it has no models, events or guards of its own
    (docs/design/reporting.md)."""

    name = "salesledger.apps.reporting"
    label = "reporting"
    default_auto_field = "django.db.models.BigAutoField"
