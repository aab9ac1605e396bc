"""Invoices by date and instalments by invoice, each covering what the reports of months read
of them (the KPIs' sales, the trends' cohorts), in place of the plain (company, issue date)
index and the instalment's foreign key index: docs/decisions.md, "The reports of months read
the invoices and their instalments from covering indexes"."""

import django.db.models.deletion
from django.db import migrations, models

from salesledger.apps.core.migration_ops import unindexed as _unindexed


class Migration(migrations.Migration):

    dependencies = [
        ('invoicing', '0014_instalment_issue_date'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='invoice',
            index=models.Index(fields=['company', 'issue_date', 'kind', 'status', 'currency',
                                       'base_total', 'total', 'customer', 'id'],
                               name='invoice_issued'),
        ),
        migrations.RemoveIndex(
            model_name='invoice',
            name='invoicing_i_company_3b0a5d_idx',
        ),
        migrations.AddIndex(
            model_name='instalment',
            index=models.Index(fields=['invoice', 'due_date', 'currency', 'amount',
                                       'base_amount', 'customer'],
                               name='instalment_by_invoice'),
        ),
        _unindexed('instalment', 'invoice', 'invoicing_instalment', 'invoice_id',
                   'invoicing_instalment_invoice_id_618c0ae5',
                   models.ForeignKey(db_index=False,
                                     on_delete=django.db.models.deletion.PROTECT,
                                     related_name='instalments', to='invoicing.invoice')),
    ]
