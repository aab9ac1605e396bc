"""The general-ledger side of the sales ledger: accounts, journal entries and lines.

Entries and lines are append-only (database triggers refuse UPDATE and DELETE); a mistake
is corrected by a reversing entry.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from salesledger.apps.core.immutable import ImmutableModel
from salesledger.domain.journal import AccountRole


class Account(models.Model):
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=120)
    role = models.CharField(max_length=30, choices=[(r.value, r.value) for r in AccountRole])
    kind = models.CharField(max_length=12)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="account_code_unique"),
            models.UniqueConstraint(fields=["company", "role"], name="account_role_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class JournalEntry(ImmutableModel):
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    date = models.DateField()
    kind = models.CharField(max_length=30)
    memo = models.CharField(max_length=255, blank=True)
    source_type = models.CharField(max_length=30, blank=True)
    source_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name_plural = "journal entries"
        indexes = [
            models.Index(fields=["company", "date"]),
            models.Index(fields=["company", "source_type", "source_id"]),
        ]


class JournalLine(ImmutableModel):
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(Account, on_delete=models.PROTECT)
    customer = models.ForeignKey("customers.Customer", null=True, on_delete=models.PROTECT)
    date = models.DateField()
    currency = models.CharField(max_length=3)
    # Debit positive, credit negative; minor units of the document currency and of the
    # company's base currency.
    amount_currency = models.BigIntegerField()
    amount = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["company", "account", "customer"]),
            models.Index(fields=["company", "date"]),
        ]
