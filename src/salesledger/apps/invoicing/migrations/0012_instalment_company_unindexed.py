"""Indexes no query reads, dropped: docs/decisions.md, "The ledger's rows keep only the
indexes something reads"; how, ``core.migration_ops.unindexed``."""

import django.db.models.deletion
from django.db import migrations, models

from salesledger.apps.core.migration_ops import unindexed as _unindexed


class Migration(migrations.Migration):
    dependencies = [('invoicing', '0011_instalment_part_paid')]

    operations = [
        _unindexed('instalment', 'company', 'invoicing_instalment', 'company_id',
                   'invoicing_instalment_company_id_ac11dd13',
                   models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, to='core.company')),
    ]
