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
from django.db import migrations, models

from salesledger.apps.core.migration_ops import unindexed as _unindexed


class Migration(migrations.Migration):
    dependencies = [('invoicing', '0011_instalment_part_paid')]

    operations = [
        _unindexed('instalment', 'company', 'invoicing_instalment', 'company_id',
                   'invoicing_instalment_company_id_ac11dd13',
                   models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, to='core.company')),
    ]
