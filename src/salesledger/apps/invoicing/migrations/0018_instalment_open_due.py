# The KPIs' month ends read what is open now by due date and issue date from this index, in
# its order (reporting/kpis.py, docs/design/kpis.md).

from django.db import migrations, models


def statistics(apps, schema_editor):  # type: ignore[no-untyped-def]
    """SQLite's planner knows nothing of a new index until ``ANALYZE`` (the worker's daily
    ``planner_statistics_refresh``): without figures it takes the index for a narrow one and
    reads the company's open items through it for one customer's KPIs. So the instalments
    are sampled at once, as the worker samples them."""
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit=2000")
        cursor.execute("ANALYZE invoicing_instalment")


class Migration(migrations.Migration):

    dependencies = [
        ('invoicing', '0017_instalment_part_paid_dropped'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='instalment',
            index=models.Index(condition=models.Q(('settled__lt', models.F('amount'))), fields=['company', 'due_date', 'issue_date', 'currency', 'amount', 'settled', 'base_amount'], name='instalment_open_due'),
        ),
        migrations.RunPython(statistics, migrations.RunPython.noop),
    ]
