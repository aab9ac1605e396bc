"""Quotes (offers made to a customer before any invoice) and their lines.

A quote is numbered from the gapless ``QUO`` series when it is written. Each revision is
its own row with the same number and the next revision number, linked to the revision it
replaces; a sent revision is never changed again (only its lifecycle columns move), so that
what the customer saw stays on record. Expiry is derived (see ``domain/quotes.py``).
Totals are computed by the pure core and stored with the lines and the document-level
allowances and charges, in the same transaction, so that the follow-up listing can sort by
value in SQL.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from salesledger.apps.core.fields import DecimalText
from salesledger.apps.core.immutable import ImmutableModel
from salesledger.apps.core.lines import SaleLineFields
from salesledger.domain.invoicing import VatCategory
from salesledger.domain.quotes import QuoteStatus

# What may still change on a sent quote: its lifecycle, never its content.
LIFECYCLE_FIELDS = ("status", "sent_on", "decided_on", "invoice")


class Quote(ImmutableModel):
    IMMUTABLE_WHEN = ~Q(status=QuoteStatus.DRAFT)
    MUTABLE_FIELDS = LIFECYCLE_FIELDS

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT)
    series = models.CharField(max_length=20, default="QUO")
    fiscal_year = models.IntegerField()
    seq = models.BigIntegerField()
    number = models.CharField(max_length=40)
    revision = models.PositiveIntegerField(default=1)
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    status = models.CharField(
        max_length=12, choices=[(s.value, s.value) for s in QuoteStatus],
        default=QuoteStatus.DRAFT,
    )
    issue_date = models.DateField()
    valid_until = models.DateField()
    currency = models.CharField(max_length=3)
    terms = models.ForeignKey(
        "customers.PaymentTerms", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    po_number = models.CharField(max_length=60, blank=True)
    buyer_reference = models.CharField(max_length=60, blank=True)
    notes = models.TextField(blank=True)
    net = models.BigIntegerField(default=0)
    tax = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    # Business dates (the ``as_of`` of the action), from which age is counted.
    sent_on = models.DateField(null=True, blank=True)
    decided_on = models.DateField(null=True, blank=True)
    # The invoice an accepted quote became; ``invoice.quote`` reads the link back.
    invoice = models.OneToOneField(
        "invoicing.Invoice", null=True, blank=True, on_delete=models.PROTECT,
        related_name="quote",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "number", "revision"], name="quote_revision_unique"
            ),
            models.CheckConstraint(condition=Q(revision__gte=1), name="quote_revision_positive"),
            models.CheckConstraint(
                condition=Q(valid_until__gte=F("issue_date")), name="quote_valid_after_issue"
            ),
            models.CheckConstraint(
                condition=Q(invoice__isnull=True) | Q(status=QuoteStatus.ACCEPTED),
                name="quote_invoice_only_when_accepted",
            ),
            models.CheckConstraint(
                condition=Q(status=QuoteStatus.DRAFT) | Q(sent_on__isnull=False),
                name="quote_sent_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "status", "valid_until"], name="quote_follow_up"),
            models.Index(fields=["company", "customer"], name="quote_customer"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.number if self.revision <= 1 else f"{self.number}-R{self.revision}"


class QuoteLine(ImmutableModel, SaleLineFields):
    IMMUTABLE_WHEN = ~Q(quote__status=QuoteStatus.DRAFT)

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    quote = models.ForeignKey(Quote, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveIntegerField()
    net = models.BigIntegerField(default=0)
    tax = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["quote", "position"], name="quote_line_position_unique")
        ]


class QuoteCharge(ImmutableModel):
    """A document-level allowance (a discount on the whole quote, EN 16931 BG-20) or charge
    (freight, packing: BG-21) with its own VAT category and rate: what an invoice's
    ``DocumentCharge`` is, kept with the quote and carried over to its invoice. Frozen
    with its quote once sent (a revision has its own)."""

    IMMUTABLE_WHEN = ~Q(quote__status=QuoteStatus.DRAFT)

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    quote = models.ForeignKey(Quote, on_delete=models.PROTECT, related_name="charges")
    position = models.PositiveIntegerField()
    is_charge = models.BooleanField()
    reason = models.CharField(max_length=200, blank=True)
    reason_code = models.CharField(max_length=3, blank=True)  # UNCL 5189 / UNCL 7161
    amount = models.BigIntegerField()  # minor units of the quote's currency, positive
    tax_category = models.CharField(
        max_length=3, choices=[(c.value, c.name) for c in VatCategory], default="S"
    )
    tax_rate = DecimalText(default=Decimal(0))
    # Given as a percentage (BT-94, BT-101) of the lines of its VAT category and rate;
    # ``amount`` is what that percentage came to.
    percent = DecimalText(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["quote", "position"],
                                    name="quote_charge_position_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="quote_charge_positive"),
        ]
