"""The bank account of a receipt is required, once every receipt has one (0004). A
migration of its own: PostgreSQL will not alter a table with updates still to check in the
same transaction."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("payments", "0004_receipt_bank_account"),
    ]

    operations = [
        migrations.AlterField(
            model_name="receipt",
            name="bank_account",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to="ledger.bankaccount"),
        ),
    ]
