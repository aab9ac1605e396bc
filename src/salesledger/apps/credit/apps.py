"""Credit management: limits, exposure, holds, payment behaviour, risk and predicted payment dates
(docs/design/credit.md)."""
from django.apps import AppConfig


class CreditConfig(AppConfig):
    """Credit management: limits, exposure, holds, payment behaviour, risk and predicted payment
    dates (docs/design/credit.md)."""

    name = "salesledger.apps.credit"
    label = "credit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from salesledger.apps.core.guards import Guard, protect

        from .handlers import register
        from .models import CreditOverride, CreditSignal

        # The proposals this app may refuse (docs/design/events.md).
        register()
        # What collections signalled and the overrides of a refusal are facts: append-only,
        # in the database too (core/guards.py).
        protect(Guard(CreditSignal), Guard(CreditOverride))
