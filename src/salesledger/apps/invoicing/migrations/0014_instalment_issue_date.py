"""Each instalment carries its invoice's issue date, and the covering index of open
instalments holds it: the aging of a past day keeps the instalments issued by then from that
index instead of joining every open instalment to its invoice (docs/decisions.md, "The
aging of a past day reads the issue date from the index of open instalments").

Instalments are posted rows: their database guard refuses any change. Filling the new
column with what the invoice already says is a change of schema, not of what was recorded,
so this migration drops the guard of the instalments table for the update; it is installed
again, with the new column covered, when ``migrate`` ends (core/guards.py,
``install_guards``), as payments 0004 does for receipts."""

from django.db import migrations, models


def fill_issue_date(apps, schema_editor):
    Instalment = apps.get_model("invoicing", "Instalment")
    Invoice = apps.get_model("invoicing", "Invoice")
    table, invoices = Instalment._meta.db_table, Invoice._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS guard_{table} ON {table}")
        else:
            cursor.execute(f"DROP TRIGGER IF EXISTS guard_{table}_update")
        cursor.execute(f"""UPDATE {table} SET issue_date = (
                               SELECT v.issue_date FROM {invoices} v
                               WHERE v.id = {table}.invoice_id)""")


class Migration(migrations.Migration):

    dependencies = [("invoicing", "0013_invoice_number_shape")]

    operations = [
        # the index first: the update below then writes no entry of it
        migrations.RemoveIndex(model_name="instalment", name="instalment_open"),
        migrations.AddField(model_name="instalment", name="issue_date",
                            field=models.DateField(null=True)),
        migrations.RunPython(fill_issue_date, migrations.RunPython.noop),
        migrations.AlterField(model_name="instalment", name="issue_date",
                              field=models.DateField()),
        migrations.AddIndex(
            model_name="instalment",
            index=models.Index(condition=models.Q(("settled__lt", models.F("amount"))),
                               fields=["company", "customer", "due_date", "currency", "amount",
                                       "settled", "base_amount", "invoice", "issue_date"],
                               name="instalment_open"),
        ),
    ]
