from django.apps import AppConfig


class QuotesConfig(AppConfig):
    name = "salesledger.apps.quotes"
    label = "quotes"
    default_auto_field = "django.db.models.BigAutoField"
