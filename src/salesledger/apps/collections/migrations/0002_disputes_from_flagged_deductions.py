"""Deductions flagged for a dispute (``Adjustment.dispute_requested``, recorded before disputes
existed) become disputes: one over each, opened the day of the deduction, for what it settled.
A flagged deduction already reversed was a dispute rejected: it is migrated as such, closed the
day of its reversal. The reasons are mapped as ``domain.collections.dispute_reason_of`` maps
them today (copied here: a migration must not change when that code does)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

REASONS = {"pricing": "pricing", "damaged_goods": "quality", "promotional_allowance": "pricing"}


def forward(apps: Any, schema_editor: Any) -> None:
    Adjustment = apps.get_model("payments", "Adjustment")
    Dispute = apps.get_model("collections", "Dispute")
    done = set(Dispute.objects.filter(adjustment__isnull=False)
               .values_list("adjustment_id", flat=True))
    reversals = dict(Adjustment.objects.filter(reversal_of__isnull=False)
                     .values_list("reversal_of_id", "date"))
    rows = []
    for a in (Adjustment.objects.filter(dispute_requested=True, kind="deduction",
                                        reversal_of__isnull=True).order_by("pk").iterator()):
        if a.pk in done:
            continue
        reversed_on = reversals.get(a.pk)
        rows.append(Dispute(
            company_id=a.company_id, customer_id=a.customer_id, invoice_id=a.invoice_id,
            currency=a.currency, amount=a.amount, open_at_opening=a.amount,
            reason=REASONS.get(a.reason_code, "other"), opened_on=a.date, notes=a.memo,
            adjustment_id=a.pk, created_by_id=a.created_by_id,
            status="rejected" if reversed_on else "open", closed_on=reversed_on,
            resolution_notes="the deduction was reversed before disputes were kept"
            if reversed_on else ""))
    Dispute.objects.bulk_create(rows, batch_size=1000)


def backward(apps: Any, schema_editor: Any) -> None:
    # Only what this migration wrote: disputes over deductions; the flags stay on the
    # deductions, so going forward again writes them again.
    apps.get_model("collections", "Dispute").objects.filter(adjustment__isnull=False).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("collections", "0001_casework"),
        ("payments", "0006_allocation_company_date"),
    ]

    operations = [migrations.RunPython(forward, backward)]
