from django.apps import AppConfig


class ReportingConfig(AppConfig):
    """Reports over the books (aged receivables, unapplied cash and credits, KPIs, trends,
    the forecast, the monthly pack): it reads the apps below it and never writes the books;
    its tables are the pack's schedule, the log of the packs sent and the aging summary,
    which its handlers keep exact in the transactions that change an open item
    (docs/design/reporting.md, "The aging summary")."""

    name = "salesledger.apps.reporting"
    label = "reporting"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .handlers import register
        from .invariants import register_checks

        # The events this app listens to (docs/design/events.md).
        register()
        # The invariant of what this app keeps, run by `salesledger check`.
        register_checks()
