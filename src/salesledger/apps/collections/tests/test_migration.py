"""The data migration that turns the deductions flagged for a dispute, recorded before disputes
existed, into disputes: the deductions are written through the payments services, what today's
code opened for them at once is removed (there were no disputes then), and the migration's own
operations are run, backward and forward, on the models as they stood at that migration.

(The operations are run inside the test's transaction rather than through ``migrate``: SQLite
cannot run the migration executor inside a transaction, and outside one the posted rows'
guards refuse the flush that ends the test.)"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from salesledger.apps.collections.models import Dispute
from salesledger.apps.payments.adjustments.write_offs import invoice_adjust
from salesledger.apps.payments.adjustments.writer import adjustment_reverse

NAME = ("collections", "0002_disputes_from_flagged_deductions")


def _run(forward: bool) -> None:
    loader = MigrationExecutor(connection).loader
    migration = loader.get_migration(*NAME)
    apps = loader.project_state(NAME).apps  # the models as this migration leaves them
    for op in migration.operations:
        (op.code if forward else op.reverse_code)(apps, None)


@pytest.mark.django_db
def test_flagged_deductions_become_disputes_and_a_reversed_one_a_rejected_dispute(
        company: Any, owner: Any, customer: Any, post_invoice: Callable[..., Any]) -> None:
    a = post_invoice("C001", lines=[("Pallets", 10, "100.00", "20")])
    b = post_invoice("C001", lines=[("Crates", 1, "50.00", "20")])
    def deduct(number: str, amount: str, reason: str, flagged: bool) -> Any:
        return invoice_adjust(actor=owner, company=company, number=number,
                              kind="deduction", day=date(2025, 4, 1),
                              amount=Decimal(amount), reason_code=reason, memo=reason,
                              dispute_requested=flagged)

    kept = deduct(a.number, "120.00", "pricing", True)
    plain = deduct(a.number, "10.00", "freight", False)
    undone = deduct(b.number, "60.00", "damaged_goods", True)
    adjustment_reverse(actor=owner, company=company, adjustment_id=undone.pk,
                       day=date(2025, 4, 9), reason="unfounded")
    # Before this change there were no disputes: what today's code opened at once goes.
    Dispute.objects.all().delete()

    _run(forward=True)
    rows = {d.adjustment_id: d for d in Dispute.objects.all()}
    assert set(rows) == {kept.pk, undone.pk}  # not the deduction without the flag
    assert plain.pk not in rows
    d = rows[kept.pk]
    assert (d.invoice_id, d.customer_id, d.amount, d.currency, d.reason, d.status,
            d.opened_on, d.notes) == (a.pk, a.customer_id, 12000, "EUR", "pricing",
                                      "open", date(2025, 4, 1), "pricing")
    r = rows[undone.pk]
    assert (r.reason, r.status, r.closed_on) == ("quality", "rejected", date(2025, 4, 9))

    # Run again (back and forth), it writes the same disputes, once.
    _run(forward=False)
    assert not Dispute.objects.exists()
    _run(forward=True)
    _run(forward=True)
    assert Dispute.objects.count() == 2
