from django.apps import AppConfig

# The guard of a dispute's attachments holds while the dispute's customer is not anonymised
# (a condition on OLD, for the SQLite and PostgreSQL triggers alike).
ATTACHMENT_KEPT = ("(SELECT c.anonymised_at FROM customers_customer c JOIN collections_dispute d "
                   "ON d.customer_id = c.id WHERE d.id = OLD.dispute_id) IS NULL")


class CollectionsConfig(AppConfig):
    """Collections casework: disputes, promises to pay, payment plans, the collector worklist and
    the customer timeline (docs/design/collections.md)."""

    name = "salesledger.apps.collections"
    label = "collections"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from salesledger.apps.core.guards import Guard, protect
        from salesledger.apps.reporting import providers

        from .commitments import commitments_on
        from .handlers import register
        from .invariants import register_checks
        from .kpis import PROVIDER
        from .models import DisputeAttachment, PlanInstalment, PlanItem

        # The events this app listens to (docs/design/events.md).
        register()
        # The invariants of what this app writes, run by `salesledger check`.
        register_checks()
        # The KPIs of disputes and promises, in reporting's monthly KPIs (reporting is below:
        # it cannot ask for them, so they are given to it).
        providers.register(PROVIDER)
        # Promises to pay and payment plans, in reporting's cash-flow forecast.
        providers.register_commitments(commitments_on)
        # A plan's schedule and what it rescheduled are agreed, not edited: a new plan
        # replaces a broken one. A dispute's attachments are evidence, kept as received.
        # Until its customer is anonymised: then they go (collections/personal_data.py).
        protect(Guard(PlanItem), Guard(PlanInstalment),
                Guard(DisputeAttachment, when=ATTACHMENT_KEPT))
