"""Indexes no query reads, dropped: docs/decisions.md, "The ledger's rows keep only the
indexes something reads"; how, ``core.migration_ops.unindexed``."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from salesledger.apps.core.migration_ops import unindexed as _unindexed


class Migration(migrations.Migration):
    dependencies = [('ledger', '0005_bank_rule_accounts'),
                    migrations.swappable_dependency(settings.AUTH_USER_MODEL)]

    operations = [
        _unindexed('journalentry', 'company', 'ledger_journalentry', 'company_id',
                   'ledger_journalentry_company_id_c3d68b22',
                   models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, to='core.company')),
        _unindexed('journalentry', 'created_by', 'ledger_journalentry', 'created_by_id',
                   'ledger_journalentry_created_by_id_90be368c',
                   models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
        _unindexed('journalline', 'company', 'ledger_journalline', 'company_id',
                   'ledger_journalline_company_id_519c90f8',
                   models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, to='core.company')),
    ]
