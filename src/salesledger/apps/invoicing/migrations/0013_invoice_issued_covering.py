"""Invoices by date, covering what the reports of months read of them (the KPIs' sales and
month ends, the trends' cohorts), in place of the plain (company, issue date) index:
docs/decisions.md, "The reports of months read the invoices from one covering index"."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('invoicing', '0012_instalment_company_unindexed'),
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
    ]
