"""Exchange rates per company and day, and the revaluation runs made with them.

A rate is kept as its exact decimal text: units of the company's base currency per unit of
the foreign currency (docs/design/multi-currency.md). Several sources may give a rate for
the same currency and day (typed in, a company file, the ECB reference rates); each keeps
its own row and ``rate_on`` prefers manual, then CSV, then ECB. A rate is reference data:
every document copies the rate it was booked at, so correcting a rate changes no posted
document; a revaluation run stores the rates it used.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from salesledger.apps.core.fields import DecimalText
from salesledger.apps.core.immutable import ImmutableModel
from salesledger.domain.fx import RateSource


class ExchangeRate(models.Model):
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    currency = models.CharField(max_length=3)
    rate_date = models.DateField()
    rate = DecimalText()
    source = models.CharField(max_length=8, choices=[(s.value, s.value) for s in RateSource],
                              default=RateSource.MANUAL.value)
    import_batch = models.ForeignKey(
        "core.ImportBatch", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "currency", "rate_date", "source"],
                                    name="fx_rate_unique"),
            models.CheckConstraint(condition=Q(source__in=[s.value for s in RateSource]),
                                   name="fx_rate_source_known"),
        ]
        indexes = [models.Index(fields=["company", "currency", "rate_date"],
                                name="fx_rate_lookup")]

    def __str__(self) -> str:
        return f"{self.currency} {self.rate} on {self.rate_date} ({self.source})"


class RevaluationStatus(models.TextChoices):
    POSTED = "posted", "Posted"
    REVERSED = "reversed", "Reversed"


class RevaluationRun(ImmutableModel):
    """One revaluation of a company's open foreign-currency items as of a day: its entry,
    dated that day, and the automatic reversal dated the next day. Undoing the run
    (``fx_revalue_reverse``) writes the opposite of both and marks it reversed; only that
    part of the row may still change (also at the database level, see core/guards.py)."""

    MUTABLE_FIELDS = ("status", "undo_entry", "undo_reversal_entry", "reversed_at",
                      "reversed_by", "reverse_reason")

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    as_of = models.DateField()
    status = models.CharField(max_length=8, choices=RevaluationStatus.choices,
                              default=RevaluationStatus.POSTED)
    # {currency: "closing rate"} and {currency: net effect in base minor units, + = gain}
    rates = models.JSONField(default=dict)
    by_currency = models.JSONField(default=dict)
    # Balances restated: (customer, control account, currency) whose carried base changed.
    positions = models.IntegerField(default=0)
    net = models.BigIntegerField(default=0)
    entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    reversal_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="+")
    undo_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    undo_reversal_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True,
                                            on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    reverse_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "as_of"],
                                    condition=Q(status="posted"),
                                    name="fx_revaluation_one_per_day"),
        ]
        indexes = [models.Index(fields=["company", "as_of"], name="fx_revaluation_day")]

    def __str__(self) -> str:
        return f"revaluation {self.pk} as of {self.as_of} ({self.status})"
