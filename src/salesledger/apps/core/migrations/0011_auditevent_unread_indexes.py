"""Indexes no query reads, dropped: docs/decisions.md, "The ledger's rows keep only the
indexes something reads"; how, ``core.migration_ops.unindexed``."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from salesledger.apps.core.migration_ops import unindexed as _unindexed


class Migration(migrations.Migration):
    dependencies = [('core', '0010_company_record_review_days'),
                    migrations.swappable_dependency(settings.AUTH_USER_MODEL)]

    operations = [
        _unindexed('auditevent', 'company', 'core_auditevent', 'company_id',
                   'core_auditevent_company_id_7b183f43',
                   models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, to='core.company')),
        _unindexed('auditevent', 'actor', 'core_auditevent', 'actor_id',
                   'core_auditevent_actor_id_3bd0c673',
                   models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
    ]
