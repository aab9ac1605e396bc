"""Indexes written with every row that no query reads (docs/decisions.md, "The ledger's
rows keep only the indexes something reads"): a foreign key's own index on ``company_id``,
which begins another index of the table; on an allocation's ``credit_note_id``, which the
partial ``allocation_credit_note`` indexes; on the author (``created_by``, the audit's
``actor``) and the journal entry of a row, which are read from the row, never the row by
them (users and entries are never deleted). DROP INDEX, no table copied (Django's SQLite
editor would rebuild the table to change ``db_index``): the state says ``db_index=False``,
the database loses the index; undone by CREATE INDEX. The names are the ones Django gave
the indexes, the same on SQLite and PostgreSQL."""

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
