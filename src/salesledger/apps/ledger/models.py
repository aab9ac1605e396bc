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
            # One account per role, except the bank: each of the company's bank accounts
            # has its own ledger account, all with the role "bank" (BankAccount below).
            models.UniqueConstraint(fields=["company", "role"], name="account_role_unique",
                                    condition=~models.Q(role="bank")),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class BankAccount(models.Model):
    """An account the company holds at a bank: where its customers pay and whose statements
    it imports (docs/design/bank-statements.md). Each has its own ledger account (role
    ``bank``); the main one is the account printed on invoices (the company's IBAN and BIC)
    and the one a receipt arrives in when none is named."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT,
                                related_name="bank_accounts")
    code = models.SlugField(max_length=20)
    name = models.CharField(max_length=120)
    iban = models.CharField(max_length=34, blank=True)
    bic = models.CharField(max_length=11, blank=True)
    # Where there is no IBAN (US, UK sort codes, some statement formats): the bank's own
    # identifier of the account, as its statements give it (compact, no spaces).
    number = models.CharField(max_length=40, blank=True)
    currency = models.CharField(max_length=3)
    account = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="bank_account")
    is_main = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "code"],
                                    name="company_bank_account_code_unique"),
            models.UniqueConstraint(fields=["company"], condition=models.Q(is_main=True),
                                    name="company_bank_account_one_main"),
            models.UniqueConstraint(fields=["company", "iban", "currency"],
                                    condition=~models.Q(iban=""),
                                    name="company_bank_account_iban_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.iban or self.number} {self.currency}"


class JournalEntry(ImmutableModel):
    # no index of its own: the table's indexes that begin with it serve (the writing path)
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, db_index=False)
    date = models.DateField()
    kind = models.CharField(max_length=30)
    memo = models.CharField(max_length=255, blank=True)
    source_type = models.CharField(max_length=30, blank=True)
    source_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # read from the row, never by it (a user is never deleted): no index
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+",
        db_index=False
    )

    class Meta:
        verbose_name_plural = "journal entries"
        indexes = [
            models.Index(fields=["company", "date"]),
            models.Index(fields=["company", "source_type", "source_id"]),
        ]

    def __str__(self) -> str:
        return f"entry {self.pk} of {self.date} ({self.kind})"


class JournalLine(ImmutableModel):
    # no index of its own: the table's indexes that begin with it serve (the writing path)
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, db_index=False)
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

    def __str__(self) -> str:
        return f"line {self.pk} of entry {self.entry_id}"
