from django.apps import AppConfig


class CollectionsConfig(AppConfig):
    """Collections casework: disputes, promises to pay, payment plans, the collector worklist and
    the customer timeline (docs/design/collections.md)."""

    name = "salesledger.apps.collections"
    label = "collections"
    default_auto_field = "django.db.models.BigAutoField"
