from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0006_company_require_two_factor'),
    ]

    operations = [
        migrations.AddField(
            model_name='company',
            name='sends_peppol',
            field=models.BooleanField(default=False),
        ),
    ]
