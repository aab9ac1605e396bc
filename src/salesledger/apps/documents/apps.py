from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "salesledger.apps.documents"
    label = "documents"
    verbose_name = "Documents and delivery"
    default_auto_field = "django.db.models.BigAutoField"
