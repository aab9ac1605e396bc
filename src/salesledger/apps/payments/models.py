"""Receipts (money received) and allocations (what a receipt or credit note settles)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from salesledger.apps.core.fields import DecimalText
from salesledger.apps.core.immutable import ImmutableModel


class Method(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    CARD = "card", "Card"
    CHEQUE = "cheque", "Cheque"
    CASH = "cash", "Cash"
    DIRECT_DEBIT = "direct_debit", "Direct debit"
    OTHER = "other", "Other"


class Receipt(ImmutableModel):
    MUTABLE_FIELDS = ("allocated",)

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT)
    number = models.CharField(max_length=40)
    date = models.DateField()
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField()
    rate = DecimalText(default=Decimal(1))
    base_amount = models.BigIntegerField()
    # Allocated so far (minor units), maintained with each allocation in the same transaction.
    allocated = models.BigIntegerField(default=0)
    method = models.CharField(max_length=16, choices=Method.choices, default=Method.BANK_TRANSFER)
    payer_reference = models.CharField(max_length=140, blank=True)
    bank_reference = models.CharField(max_length=140, blank=True)
    memo = models.CharField(max_length=255, blank=True)
    journal_entry = models.ForeignKey(
        "ledger.JournalEntry", on_delete=models.PROTECT, related_name="+"
    )
    import_batch = models.ForeignKey(
        "core.ImportBatch", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "number"], name="receipt_number_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="receipt_positive"),
            models.CheckConstraint(
                condition=Q(allocated__gte=0) & Q(allocated__lte=F("amount")),
                name="receipt_allocated_within_amount",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "customer", "date"]),
            models.Index(fields=["company", "date"]),
        ]

    @property
    def unallocated(self) -> int:
        return self.amount - self.allocated


class Allocation(ImmutableModel):
    """Part of a receipt or credit note applied to an instalment. Never updated or deleted:
    undoing one writes a reversal (negative amount, ``reversal_of`` set)."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT)
    receipt = models.ForeignKey(
        Receipt, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    credit_note = models.ForeignKey(
        "invoicing.Invoice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_allocations",
    )
    instalment = models.ForeignKey(
        "invoicing.Instalment", on_delete=models.PROTECT, related_name="allocations"
    )
    date = models.DateField()
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField()
    # When a receipt in one currency pays an instalment in another: what was taken from the
    # receipt, in the receipt's currency, and the rate used (units of the instalment's
    # currency per unit of the receipt's). Empty when both currencies are the same.
    source_currency = models.CharField(max_length=3, blank=True)
    source_amount = models.BigIntegerField(null=True, blank=True)
    fx_rate = DecimalText(null=True, blank=True)
    base_unapplied = models.BigIntegerField(default=0)
    base_receivable = models.BigIntegerField(default=0)
    reversal_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    journal_entry = models.ForeignKey(
        "ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(receipt__isnull=False) & Q(credit_note__isnull=True))
                | (Q(receipt__isnull=True) & Q(credit_note__isnull=False)),
                name="allocation_one_source",
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="allocation_nonzero"),
            models.CheckConstraint(
                condition=(Q(amount__gt=0) & Q(reversal_of__isnull=True))
                | (Q(amount__lt=0) & Q(reversal_of__isnull=False)),
                name="allocation_sign_matches_reversal",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "customer"]),
            models.Index(fields=["instalment"]),
        ]
