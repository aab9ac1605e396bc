"""Every posted document's settlement kept on it (invoicing 0016 adds the column, every row
"open"): the documents that something settled get the state their instalments, allocations
and bad debts tell, computed by the expression the writer applies
(``payments.settlement_keep.settlement_expression``), set based.

Documents are posted rows: their database guard refuses any change but of the columns it
names. Filling the new column is a change of schema, not of what was recorded, so this
migration drops the guard of the documents table for the update; it is installed again,
with the new column among those that may move, when ``migrate`` ends (core/guards.py,
``install_guards``), as payments 0004 did for the receipts."""

from django.db import migrations
from django.db.models import Exists, OuterRef, Q

from salesledger.apps.payments.settlement_keep import settlement_expression


def fill_settlement(apps, schema_editor):
    Invoice = apps.get_model("invoicing", "Invoice")
    Instalment = apps.get_model("invoicing", "Instalment")
    Adjustment = apps.get_model("payments", "Adjustment")
    table = Invoice._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS guard_{table} ON {table}")
        else:
            cursor.execute(f"DROP TRIGGER IF EXISTS guard_{table}_update")
    # an untouched document is open, as the column's default says: only the others. An
    # invoice is touched when one of its instalments is: asked per invoice through the
    # instalments' index (EXISTS), not as membership of every settled instalment's invoice
    # (IN): beside the OR, PostgreSQL cannot hash a list that large in its working memory
    # and scanned it once per invoice (some 10^11 comparisons at 641,100 invoices).
    touched = (Q(kind="credit_note", allocated__gt=0)
               | Q(Exists(Instalment.objects.filter(invoice=OuterRef("pk"), settled__gt=0)),
                   kind="invoice"))
    Invoice.objects.filter(touched, status="posted").update(
        settlement=settlement_expression(Invoice, Instalment, Adjustment))


class Migration(migrations.Migration):

    dependencies = [
        ("invoicing", "0016_invoice_settlement"),
        ("payments", "0009_receipt_unapplied"),
    ]

    operations = [
        migrations.RunPython(fill_settlement, migrations.RunPython.noop),
    ]
