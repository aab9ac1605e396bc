"""Indexes no query reads, dropped: docs/decisions.md, "The ledger's rows keep only the
indexes something reads"; how, ``core.migration_ops.unindexed``."""

import django.db.models.deletion
from django.db import migrations, models

from salesledger.apps.core.migration_ops import unindexed as _unindexed


class Migration(migrations.Migration):
    dependencies = [('banking', '0007_payer_reference')]

    operations = [
        _unindexed('linematch', 'company', 'banking_linematch', 'company_id',
                   'banking_linematch_company_id_5bca1600',
                   models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, to='core.company')),
    ]
