"""Every receipt names the bank account it arrived in. Receipts recorded before there were
bank accounts arrived in the company's only one, its main account (ledger 0004), on whose
ledger account (1200) their journal entries already are.

Receipts are posted rows: their database guard refuses any change. Filling the new column
is a change of schema, not of what was recorded, so this migration drops the guard of the
receipts table for the update; it is installed again, with the new column covered, when
``migrate`` ends (core/guards.py, ``install_guards``)."""

import django.db.models.deletion
from django.db import migrations, models


def fill_bank_account(apps, schema_editor):
    Receipt = apps.get_model("payments", "Receipt")
    BankAccount = apps.get_model("ledger", "BankAccount")
    table = Receipt._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS guard_{table} ON {table}")
        else:
            cursor.execute(f"DROP TRIGGER IF EXISTS guard_{table}_update")
    for main in BankAccount.objects.filter(is_main=True):
        Receipt.objects.filter(company_id=main.company_id, bank_account__isnull=True).update(
            bank_account=main)


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0004_bank_accounts"),
        ("payments", "0003_adjustments_refunds_reversals"),
    ]

    operations = [
        migrations.AddField(
            model_name="receipt",
            name="bank_account",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to="ledger.bankaccount"),
        ),
        migrations.RunPython(fill_bank_account, migrations.RunPython.noop),
    ]
