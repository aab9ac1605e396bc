from django.apps import AppConfig


class RecurringConfig(AppConfig):
    name = "salesledger.apps.recurring"
    label = "recurring"
    default_auto_field = "django.db.models.BigAutoField"
