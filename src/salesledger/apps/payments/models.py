"""Receipts (money received) and allocations (what a receipt or credit note settles)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from salesledger.apps.core.fields import DecimalText
from salesledger.apps.core.immutable import ImmutableModel
from salesledger.domain.adjustments import AdjustmentKind, DeductionReason


class Method(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    CARD = "card", "Card"
    CHEQUE = "cheque", "Cheque"
    CASH = "cash", "Cash"
    DIRECT_DEBIT = "direct_debit", "Direct debit"
    OTHER = "other", "Other"


class Receipt(ImmutableModel):
    MUTABLE_FIELDS = ("allocated",)

    # no index of its own: the table's indexes that begin with it serve (the writing path)
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, db_index=False)
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
    # The company's bank account the money arrived in (the main one unless named).
    bank_account = models.ForeignKey("ledger.BankAccount", on_delete=models.PROTECT,
                                     related_name="+")
    # read from the row, never by it (entries are never deleted): no index
    journal_entry = models.ForeignKey(
        "ledger.JournalEntry", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    import_batch = models.ForeignKey(
        "core.ImportBatch", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # read from the row, never by it (a user is never deleted): no index
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+",
        db_index=False
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
            # The receipts with something unapplied now (a few percent of them): what the
            # unapplied cash of a day reads, with those used after the day
            # (reporting/unapplied.py), instead of every receipt up to it.
            models.Index(fields=["company", "date"], name="receipt_unapplied",
                         condition=Q(allocated__lt=F("amount"))),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def unallocated(self) -> int:
        return self.amount - self.allocated


class Allocation(ImmutableModel):
    """Part of a receipt, a credit note or an adjustment applied to an instalment. Never
    updated or deleted: undoing one writes a reversal (negative amount, ``reversal_of`` set)."""

    # no index of its own: the table's indexes that begin with it serve (the writing path)
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, db_index=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT)
    receipt = models.ForeignKey(
        Receipt, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    # indexed by ``allocation_credit_note`` alone (the rows of credit notes)
    credit_note = models.ForeignKey(
        "invoicing.Invoice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_allocations",
        db_index=False,
    )
    # A write-off, deduction, discount or bad debt settling the instalment (adjustments/).
    adjustment = models.ForeignKey(
        "Adjustment", null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
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
    # read from the row, never by it (entries are never deleted): no index
    journal_entry = models.ForeignKey(
        "ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # read from the row, never by it (a user is never deleted): no index
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+",
        db_index=False
    )

    def __str__(self) -> str:
        source = self.receipt or self.credit_note or self.adjustment
        return f"{source} to {self.instalment}"

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(receipt__isnull=False) & Q(credit_note__isnull=True)
                           & Q(adjustment__isnull=True))
                | (Q(receipt__isnull=True) & Q(credit_note__isnull=False)
                   & Q(adjustment__isnull=True))
                | (Q(receipt__isnull=True) & Q(credit_note__isnull=True)
                   & Q(adjustment__isnull=False)),
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
            # (the instalment's allocations: the foreign key's own index)
            # What was allocated after a day: how the aged receivables of a past day are
            # rolled back from the open items of today (reporting/aging.py).
            models.Index(fields=["company", "date"], name="allocation_company_date"),
            # A credit note's allocations (what the aging reads of each open credit note).
            # Partial for the reason given at ``customer_merged`` (customers/models.py): most
            # allocations come from receipts, and SQLite's planner, counting the NULLs as one
            # value, read every allocation for each credit note through the plain index.
            models.Index(fields=["credit_note"], name="allocation_credit_note",
                         condition=Q(credit_note__isnull=False)),
        ]


# ---------------------------------------------------------------- adjustments (adjustments/)
class Adjustment(ImmutableModel):
    """An amount of one invoice settled without money: a payment difference written off, a
    deduction the customer took, an early-payment discount, a bad debt. It is applied at once
    through allocations (``allocations``), so it is never "unallocated"; it is undone by a
    reversing adjustment (negative amount, ``reversal_of`` set) whose allocations reverse the
    original's. See docs/design/adjustments.md."""

    # no index of its own: the table's indexes that begin with it serve (the writing path)
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, db_index=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT)
    invoice = models.ForeignKey(
        "invoicing.Invoice", on_delete=models.PROTECT, related_name="adjustments"
    )
    kind = models.CharField(max_length=12, choices=[(k.value, k.value) for k in AdjustmentKind])
    reason_code = models.CharField(
        max_length=24, blank=True, choices=[(r.value, r.value) for r in DeductionReason]
    )
    memo = models.CharField(max_length=255, blank=True)
    # A deduction recorded provisionally that the collections team is to investigate (and
    # reverse, if it proves unfounded): the request for a dispute.
    dispute_requested = models.BooleanField(default=False)
    date = models.DateField()
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField()
    base_amount = models.BigIntegerField()
    # The VAT share debited to output tax (discounts under "adjust_vat", bad-debt relief).
    tax_amount = models.BigIntegerField(default=0)
    # The payment that came with it (a short payment, a discount earned): reversing that
    # receipt reverses the adjustment too.
    receipt = models.ForeignKey(
        Receipt, null=True, blank=True, on_delete=models.PROTECT, related_name="adjustments"
    )
    # read from the row, never by it (entries are never deleted): no index
    journal_entry = models.ForeignKey(
        "ledger.JournalEntry", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    reversal_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # read from the row, never by it (a user is never deleted): no index
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+",
        db_index=False
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(amount__gt=0) & Q(reversal_of__isnull=True))
                | (Q(amount__lt=0) & Q(reversal_of__isnull=False)),
                name="adjustment_sign_matches_reversal",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in AdjustmentKind]),
                name="adjustment_kind_known",
            ),
            models.CheckConstraint(
                condition=(Q(kind=AdjustmentKind.DEDUCTION.value)
                           & Q(reason_code__in=[r.value for r in DeductionReason]))
                | (~Q(kind=AdjustmentKind.DEDUCTION.value) & Q(reason_code="")),
                name="adjustment_reason_for_deductions",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "customer", "date"]),
            models.Index(fields=["company", "kind", "date"]),
        ]


class Refund(ImmutableModel):
    """Money paid back to a customer out of a receipt's unapplied cash, numbered gapless in
    series RFD. It counts in the receipt's ``allocated`` (what has been used of the receipt).
    Undone by a reversing row (negative amount, ``reversal_of`` set, no number of its own)."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT)
    receipt = models.ForeignKey(Receipt, on_delete=models.PROTECT, related_name="refunds")
    fiscal_year = models.IntegerField(null=True, blank=True)
    seq = models.BigIntegerField(null=True, blank=True)
    number = models.CharField(max_length=40, blank=True)
    date = models.DateField()
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField()
    base_amount = models.BigIntegerField()
    method = models.CharField(max_length=16, choices=Method.choices, default=Method.BANK_TRANSFER)
    reference = models.CharField(max_length=140, blank=True)
    memo = models.CharField(max_length=255, blank=True)
    journal_entry = models.ForeignKey(
        "ledger.JournalEntry", on_delete=models.PROTECT, related_name="+"
    )
    reversal_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "number"], condition=~Q(number=""), name="refund_number_unique"
            ),
            models.UniqueConstraint(
                fields=["company", "fiscal_year", "seq"], condition=Q(seq__isnull=False),
                name="refund_seq_unique",
            ),
            models.CheckConstraint(
                condition=(Q(amount__gt=0) & Q(reversal_of__isnull=True) & Q(seq__isnull=False))
                | (Q(amount__lt=0) & Q(reversal_of__isnull=False) & Q(seq__isnull=True)),
                name="refund_sign_matches_reversal",
            ),
        ]
        indexes = [models.Index(fields=["company", "customer", "date"])]


class ReceiptReversal(ImmutableModel):
    """A receipt reversed: a returned direct debit, a bounced cheque, a recall. Its being
    there is what makes the receipt "reversed" (one per receipt). ``amount`` is what the
    reversal took off the receipt (all of it: its allocations were reversed first and no
    refund may be live) and counts in the receipt's ``allocated``."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT)
    receipt = models.OneToOneField(Receipt, on_delete=models.PROTECT, related_name="reversal")
    date = models.DateField()
    reason = models.CharField(max_length=255)
    amount = models.BigIntegerField()
    # The fee charged to the customer for the returned payment, if any (a posted invoice).
    fee_invoice = models.ForeignKey(
        "invoicing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    journal_entry = models.ForeignKey(
        "ledger.JournalEntry", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="receipt_reversal_positive"),
        ]
