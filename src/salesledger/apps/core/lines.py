"""What a line of a sale says, wherever it is written: on an invoice or credit note, on a
quote, or on a recurring schedule's template. One abstract model, so that the three keep the
same fields with the same limits, and a quote or a schedule becomes an invoice field by field."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from salesledger.domain.invoicing import VatCategory

from .fields import DecimalText


class SaleLineFields(models.Model):
    description = models.CharField(max_length=500)
    quantity = DecimalText()
    unit_price = DecimalText()
    discount_percent = DecimalText(default=Decimal(0))
    tax_rate = DecimalText(default=Decimal(0))
    tax_category = models.CharField(
        max_length=3, choices=[(c.value, c.name) for c in VatCategory], default="S"
    )
    exemption_reason = models.CharField(max_length=200, blank=True)
    # UN/ECE Recommendation 20 unit of measure (EN 16931 BT-130); C62 is "one".
    unit_code = models.CharField(max_length=3, default="C62")

    class Meta:
        abstract = True
