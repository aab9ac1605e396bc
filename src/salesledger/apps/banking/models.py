"""Imported bank statements and their lines, and the saved CSV column mappings
(docs/design/bank-statements.md). A line is what the bank sent, kept as it came: never
changed after import; what the product makes of it (a match, a receipt) is recorded apart."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Statement(models.Model):
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    bank_account = models.ForeignKey("ledger.BankAccount", on_delete=models.PROTECT,
                                     related_name="statements")
    format = models.CharField(max_length=12)  # camt.053, mt940, ofx, coda, qif, csv...
    version = models.CharField(max_length=12, blank=True)
    statement_id = models.CharField(max_length=80, blank=True)  # the bank's own
    currency = models.CharField(max_length=3)
    # Balances in minor units (signed); null when the file gives none.
    opening = models.BigIntegerField(null=True)
    closing = models.BigIntegerField(null=True)
    opening_date = models.DateField(null=True)
    closing_date = models.DateField(null=True)
    first_date = models.DateField(null=True)  # of its lines (or its period)
    last_date = models.DateField(null=True)
    line_count = models.PositiveIntegerField(default=0)  # lines in the file
    imported_lines = models.PositiveIntegerField(default=0)  # of them new
    lines_total = models.BigIntegerField(default=0)  # sum of every line in the file
    # closing - (opening + lines), and opening - previous closing: 0 is right, null unknown.
    balance_difference = models.BigIntegerField(null=True)
    continuity_difference = models.BigIntegerField(null=True)
    file_sha256 = models.CharField(max_length=64)
    file_name = models.CharField(max_length=255, blank=True)
    warnings = models.JSONField(default=list)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.PROTECT, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["company", "bank_account", "closing_date"])]


class StatementLine(models.Model):
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="lines")
    bank_account = models.ForeignKey("ledger.BankAccount", on_delete=models.PROTECT,
                                     related_name="+")
    # The line identity key (domain/bank_statements.py): one line per movement per account.
    identity = models.CharField(max_length=40)
    booking_date = models.DateField()
    value_date = models.DateField(null=True)
    amount = models.BigIntegerField()  # minor units, signed: money in is positive
    currency = models.CharField(max_length=3)
    original_amount = models.BigIntegerField(null=True)
    original_currency = models.CharField(max_length=3, blank=True)
    counterparty_name = models.CharField(max_length=140, blank=True)
    counterparty_iban = models.CharField(max_length=40, blank=True)
    counterparty_bic = models.CharField(max_length=11, blank=True)
    end_to_end_id = models.CharField(max_length=80, blank=True)
    bank_reference = models.CharField(max_length=80, blank=True)
    creditor_reference = models.CharField(max_length=40, blank=True)
    text = models.TextField(blank=True)
    bank_code = models.CharField(max_length=40, blank=True)
    return_reason = models.CharField(max_length=8, blank=True)
    entry_reference = models.CharField(max_length=80, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "bank_account", "identity"],
                                               name="statement_line_identity_unique")]
        # the lines from a counterparty IBAN: who it paid before, for review (``matching``)
        indexes = [models.Index(fields=["company", "booking_date"]),
                   models.Index(fields=["company", "counterparty_iban"],
                                name="bank_line_iban")]


class ColumnMapping(models.Model):
    """How a bank's CSV export is read (formats/bank/csvmap.py): the columns, the date
    format, the decimal mark, the delimiter, the lines before the header."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    name = models.SlugField(max_length=40)
    columns = models.JSONField()
    date_format = models.CharField(max_length=30, default="%Y-%m-%d")
    decimal = models.CharField(max_length=1, default=".")
    delimiter = models.CharField(max_length=1, blank=True)
    skip_lines = models.PositiveSmallIntegerField(default=0)
    currency = models.CharField(max_length=3, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "name"],
                                               name="bank_column_mapping_unique")]


class LineStatus(models.TextChoices):
    UNMATCHED = "unmatched"
    SUGGESTED = "suggested"
    APPLIED = "applied"
    OTHER = "other"


class LineMatch(models.Model):
    """What the matcher made of a statement line (docs/design/cash-application.md): its
    status, the receipt it became, the ranked suggestions waiting for review, and the
    proposals a clerk rejected (never suggested again). One row per line; the line itself
    is never changed. Written only by ``banking.matching``."""

    # no index of its own: the table's indexes that begin with it serve (the writing path)
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, db_index=False)
    line = models.OneToOneField(StatementLine, on_delete=models.PROTECT, related_name="match")
    status = models.CharField(max_length=10, choices=LineStatus.choices,
                              default=LineStatus.UNMATCHED)
    customer = models.ForeignKey("customers.Customer", null=True, on_delete=models.PROTECT,
                                 related_name="+")
    receipt = models.ForeignKey("payments.Receipt", null=True, on_delete=models.PROTECT,
                                related_name="+")
    # A line a bank rule posted to a counterpart account: its journal entry.
    entry = models.ForeignKey("ledger.JournalEntry", null=True, on_delete=models.PROTECT,
                              related_name="+")
    confidence = models.FloatField(null=True)
    evidence = models.JSONField(default=list)
    # Up to three: {"customer": id, "allocations": [[number, minor]], "confidence",
    # "evidence": [...], "write_off": bool, "signature": str}
    suggestions = models.JSONField(default=list)
    rejected = models.JSONField(default=list)  # signatures
    decided_by = models.CharField(max_length=10, blank=True)  # auto, confirm, other
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["company", "status"])]


class PayerIban(models.Model):
    """A payer IBAN learned from a confirmed match: who pays from it (a parent company, a
    third party). Kept apart from the customers' own bank accounts."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    iban = models.CharField(max_length=40)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="+")
    learned_from = models.ForeignKey(StatementLine, null=True, on_delete=models.PROTECT,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "iban"],
                                               name="bank_payer_iban_unique")]


class PayerReference(models.Model):
    """A reference learned from confirmed matches: a word of letters and digits a payer
    writes on its payments that names no invoice of ours (its customer number with us, a
    contract, its own account code), and the customer it paid for. ``customer`` is empty
    once the reference was confirmed for two customers: it then says nothing."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    key = models.CharField(max_length=40)  # letters and digits, upper case
    customer = models.ForeignKey("customers.Customer", null=True, on_delete=models.PROTECT,
                                 related_name="+")
    learned_from = models.ForeignKey(StatementLine, null=True, on_delete=models.PROTECT,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "key"],
                                               name="bank_payer_reference_unique")]


class BankingSettings(models.Model):
    """The company's matching settings: the confidence above which ``bank match
    --auto-apply`` turns a proposal into a receipt. No row: the defaults."""

    DEFAULT_THRESHOLD = 0.95

    company = models.OneToOneField("core.Company", on_delete=models.PROTECT,
                                   related_name="banking_settings")
    auto_apply_threshold = models.FloatField(default=DEFAULT_THRESHOLD)


class DirectDebitCollection(models.Model):
    """One SEPA direct-debit collection file (pain.008) sent to the bank: the debits it asks
    for, the file as written. Written once by ``banking.direct_debits``; never changed."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    bank_account = models.ForeignKey("ledger.BankAccount", on_delete=models.PROTECT,
                                     related_name="+")
    message_id = models.CharField(max_length=35)
    due_by = models.DateField()
    count = models.PositiveIntegerField()
    total = models.BigIntegerField()  # euro cents
    content = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.PROTECT, related_name="+")


class DirectDebit(models.Model):
    """One instalment collected by direct debit: what was asked, under which mandate (its
    reference, signature date and the account debited, what the next collection compares to
    tell an amendment), and the end-to-end id the bank sends back with the money. An
    instalment has one debit at a time: another only once the one before was returned
    (``returned_on``, written when the return reverses its receipt), up to a limit of
    attempts (docs/design/direct-debit.md)."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    collection = models.ForeignKey(DirectDebitCollection, on_delete=models.PROTECT,
                                   related_name="debits")
    instalment = models.ForeignKey("invoicing.Instalment", on_delete=models.PROTECT,
                                   related_name="+")
    attempt = models.PositiveSmallIntegerField(default=1)
    debtor_iban = models.CharField(max_length=34, blank=True)  # blank: before it was kept
    mandate_signed = models.DateField(null=True)
    # The original mandate id / debtor IBAN the file named as amended (blank: no amendment).
    amended_from_reference = models.CharField(max_length=35, blank=True)
    amended_from_iban = models.CharField(max_length=34, blank=True)
    returned_on = models.DateField(null=True)
    return_reason = models.CharField(max_length=8, blank=True)
    invoice = models.ForeignKey("invoicing.Invoice", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="+")
    amount = models.BigIntegerField()  # euro cents
    end_to_end_id = models.CharField(max_length=35)
    mandate_reference = models.CharField(max_length=35)
    sequence = models.CharField(max_length=4)  # FRST, RCUR
    collection_date = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "end_to_end_id"],
                                    name="direct_debit_e2e_unique"),
            # one debit of an instalment waiting for its money at a time: two runs at once
            # cannot both collect it
            models.UniqueConstraint(fields=["instalment"], condition=Q(returned_on__isnull=True),
                                    name="direct_debit_one_live_per_instalment"),
            models.UniqueConstraint(fields=["instalment", "attempt"],
                                    name="direct_debit_attempt_unique")]
        indexes = [models.Index(fields=["company", "customer", "mandate_reference"])]


class Remittance(models.Model):
    """The remittance advice a customer sent for a statement line (a CSV, the text of an
    e-mail): the file as it came and the allocations read from it, which drive the line's
    allocation. One per line; a new advice replaces the one before until the line is
    applied."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    line = models.OneToOneField(StatementLine, on_delete=models.PROTECT,
                                related_name="remittance")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="+")
    file_name = models.CharField(max_length=255, blank=True)
    content = models.BinaryField()
    allocations = models.JSONField()  # [[invoice number, minor units], ...]
    created_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.PROTECT, related_name="+")


class BankRule(models.Model):
    """A user's rule for statement lines (domain/bank_rules.py): conditions, and what the
    first rule that holds for a line does with it. Written by ``banking.rules``."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    name = models.CharField(max_length=40)
    position = models.PositiveIntegerField()
    pattern = models.CharField(max_length=200, blank=True)
    counterparty = models.CharField(max_length=140, blank=True)
    amount_min = models.BigIntegerField(null=True)  # minor units of the line's currency
    amount_max = models.BigIntegerField(null=True)
    direction = models.CharField(max_length=3, default="any")
    action = models.CharField(max_length=10)
    customer = models.ForeignKey("customers.Customer", null=True, on_delete=models.PROTECT,
                                 related_name="+")
    account_role = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "name"],
                                               name="bank_rule_name_unique")]
