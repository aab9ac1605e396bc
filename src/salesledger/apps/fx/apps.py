from django.apps import AppConfig


class FxConfig(AppConfig):
    name = "salesledger.apps.fx"
    label = "fx"
    verbose_name = "Exchange rates"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A revaluation run and its entries are posted; only undoing it changes the row
        # (core/guards.py).
        from salesledger.apps.core.guards import Guard, protect

        from .models import RevaluationRun

        protect(Guard(RevaluationRun, mutable=(
            "status", "undo_entry_id", "undo_reversal_entry_id", "reversed_at", "reversed_by_id",
            "reverse_reason")))
