from django.apps import AppConfig


class ReportingConfig(AppConfig):
    """Reports over the books (aged receivables, unapplied cash and credits, KPIs, trends,
    the forecast, the monthly pack): it reads the apps below it and never writes the books;
    its only models are the pack's schedule and the log of the packs sent, and it has no
    events or guards of its own (docs/design/reporting.md)."""

    name = "salesledger.apps.reporting"
    label = "reporting"
    default_auto_field = "django.db.models.BigAutoField"
