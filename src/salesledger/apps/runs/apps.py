from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "salesledger.apps.runs"
    label = "runs"
    verbose_name = "Batch runs"
    default_auto_field = "django.db.models.BigAutoField"
