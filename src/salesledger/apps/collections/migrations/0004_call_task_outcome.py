"""A call task records how it closed: ``called`` (a call was logged) or ``paid`` (what it was
about was settled). The tasks closed before are all closed by a call."""

from django.db import migrations, models


def closed_by_calls(apps, schema_editor):
    CallTask = apps.get_model("collections", "CallTask")
    CallTask.objects.filter(done_on__isnull=False).update(outcome="called")


class Migration(migrations.Migration):

    dependencies = [
        ('collections', '0003_call_tasks'),
    ]

    operations = [
        migrations.AddField(
            model_name='calltask',
            name='outcome',
            field=models.CharField(blank=True, max_length=8),
        ),
        migrations.RunPython(closed_by_calls, migrations.RunPython.noop),
    ]
