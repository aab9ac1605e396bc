"""Indexes no query reads, dropped: docs/decisions.md, "The ledger's rows keep only the
indexes something reads"; how, ``core.migration_ops.unindexed``."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from salesledger.apps.core.migration_ops import unindexed as _unindexed


class Migration(migrations.Migration):
    dependencies = [('payments', '0007_allocation_allocation_credit_note'),
                    migrations.swappable_dependency(settings.AUTH_USER_MODEL)]

    operations = [
        # the same as the foreign key's own index on instalment_id
        migrations.RemoveIndex(model_name='allocation', name='payments_al_instalm_837e58_idx'),
        _unindexed('receipt', 'company', 'payments_receipt', 'company_id',
                   'payments_receipt_company_id_c7fd03a9',
                   models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, to='core.company')),
        _unindexed('receipt', 'created_by', 'payments_receipt', 'created_by_id',
                   'payments_receipt_created_by_id_a1a00b8c',
                   models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
        _unindexed('receipt', 'journal_entry', 'payments_receipt', 'journal_entry_id',
                   'payments_receipt_journal_entry_id_7b7c3ce1',
                   models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.journalentry')),
        _unindexed('allocation', 'company', 'payments_allocation', 'company_id',
                   'payments_allocation_company_id_9cbd214f',
                   models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, to='core.company')),
        _unindexed('allocation', 'credit_note', 'payments_allocation', 'credit_note_id',
                   'payments_allocation_credit_note_id_4f5ccd70',
                   models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='credit_allocations', to='invoicing.invoice')),
        _unindexed('allocation', 'created_by', 'payments_allocation', 'created_by_id',
                   'payments_allocation_created_by_id_1f95afc3',
                   models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
        _unindexed('allocation', 'journal_entry', 'payments_allocation', 'journal_entry_id',
                   'payments_allocation_journal_entry_id_ae2b2155',
                   models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.journalentry')),
        _unindexed('adjustment', 'company', 'payments_adjustment', 'company_id',
                   'payments_adjustment_company_id_9c41f5bd',
                   models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, to='core.company')),
        _unindexed('adjustment', 'created_by', 'payments_adjustment', 'created_by_id',
                   'payments_adjustment_created_by_id_6d46b1e1',
                   models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
        _unindexed('adjustment', 'journal_entry', 'payments_adjustment', 'journal_entry_id',
                   'payments_adjustment_journal_entry_id_005f447b',
                   models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.journalentry')),
    ]
