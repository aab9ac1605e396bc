"""The settlement kept on each document (docs/design/web.md, "Settlement filter"): a column
every row of which starts "open" (payments 0010 fills what allocations and adjustments
tell), and the list's index on (company, settlement, issue date, id) of posted documents.

The column is added by ``ALTER TABLE ... ADD COLUMN`` with its default, the same statement
on SQLite and PostgreSQL: Django's SQLite editor would copy the whole documents table to add
a column that is not null (on the issue's books, 641,100 invoices, that copy ran for minutes
and was refused at its end by the foreign key check), where SQLite adds it in place."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0011_auditevent_unread_indexes'),
        ('customers', '0009_duplicate_pairs'),
        ('invoicing', '0015_reports_covering_indexes'),
        ('ledger', '0006_journal_unread_indexes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(
                "ALTER TABLE \"invoicing_invoice\" ADD COLUMN \"settlement\" varchar(14) "
                "DEFAULT 'open' NOT NULL",
                'ALTER TABLE "invoicing_invoice" DROP COLUMN "settlement"')],
            state_operations=[migrations.AddField(
                model_name='invoice',
                name='settlement',
                field=models.CharField(db_default='open', default='open', max_length=14),
            )]),
        migrations.AddIndex(
            model_name='invoice',
            index=models.Index(condition=models.Q(('status', 'posted')), fields=['company', 'settlement', 'issue_date', 'id'], name='invoice_settlement'),
        ),
    ]
