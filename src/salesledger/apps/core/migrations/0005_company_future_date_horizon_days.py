from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0004_settlement_settings"),
    ]

    operations = [
        migrations.AddField(
            model_name="company",
            name="future_date_horizon_days",
            field=models.PositiveIntegerField(default=365),
        ),
    ]
