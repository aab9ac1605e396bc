from django.apps import AppConfig


class InterchangeConfig(AppConfig):
    """CSV import and export, and the demo: they read and write the books of every business
    app, so they stand above them all (docs/design/layers.md)."""

    name = "salesledger.apps.interchange"
    label = "interchange"
    default_auto_field = "django.db.models.BigAutoField"
