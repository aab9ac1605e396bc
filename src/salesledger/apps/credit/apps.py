from django.apps import AppConfig


class CreditConfig(AppConfig):
    """Credit management: limits, exposure, holds, payment behaviour, risk and predicted payment
    dates (docs/design/credit.md)."""

    name = "salesledger.apps.credit"
    label = "credit"
    default_auto_field = "django.db.models.BigAutoField"
