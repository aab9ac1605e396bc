from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "salesledger.apps.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .guards import Guard, install_guards, protect
        from .models import AuditEvent

        # The audit log is append-only (docs/design/audit-trail.md).
        protect(Guard(AuditEvent))
        # Guards are (re)built from the models after every migrate, so that a column added
        # by a later migration is covered without writing trigger SQL by hand.
        post_migrate.connect(install_guards, dispatch_uid="salesledger-guards")
