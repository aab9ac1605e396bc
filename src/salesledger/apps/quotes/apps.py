from django.apps import AppConfig


class QuotesConfig(AppConfig):
    name = "salesledger.apps.quotes"
    label = "quotes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from salesledger.apps.core.guards import Guard, protect

        from .handlers import register
        from .models import Quote, QuoteCharge, QuoteLine

        # The proposals this app may refuse (docs/design/events.md).
        register()
        # A sent quote keeps its content; only its lifecycle moves (docs/design/quotes.md,
        # core/guards.py).
        protect(Guard(Quote, when="OLD.status <> 'draft'",
                      mutable=("status", "sent_on", "decided_on", "invoice_id")),
                Guard(QuoteLine, when=(
                    "(SELECT status FROM quotes_quote WHERE id = OLD.quote_id) <> 'draft'")),
                Guard(QuoteCharge, when=(
                    "(SELECT status FROM quotes_quote WHERE id = OLD.quote_id) <> 'draft'")))
