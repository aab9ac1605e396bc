"""Invoices, credit notes, their lines and instalments.

An invoice and a credit note share one table (``kind``): both are sales documents with
lines, tax and a number, and both become open items once posted. Totals are computed by
the pure core (``salesledger.domain.invoicing``) and stored at posting.
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
from salesledger.domain.lifecycle import DocStatus


class DocKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


class Purpose(models.TextChoices):
    """What an invoice charges for. A sale is held by credit control; a fee (a returned
    payment, a reminder) or interest on late payment is not (docs/design/credit.md)."""

    SALE = "sale", "Sale"
    FEE = "fee", "Fee"
    INTEREST = "interest", "Interest"


class Invoice(ImmutableModel):
    IMMUTABLE_WHEN = Q(status=DocStatus.POSTED)
    MUTABLE_FIELDS = ("allocated", "settlement")

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT)
    kind = models.CharField(max_length=12, choices=DocKind.choices, default=DocKind.INVOICE)
    status = models.CharField(
        max_length=8, choices=[(s.value, s.value) for s in DocStatus], default=DocStatus.DRAFT
    )
    series = models.CharField(max_length=20)
    fiscal_year = models.IntegerField(null=True, blank=True)
    seq = models.BigIntegerField(null=True, blank=True)
    number = models.CharField(max_length=40, null=True, blank=True)
    issue_date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    # Units of the company's base currency per unit of the document currency.
    rate = DecimalText(default=Decimal(1))
    terms = models.ForeignKey(
        "customers.PaymentTerms", null=True, blank=True, on_delete=models.PROTECT
    )
    po_number = models.CharField(max_length=60, blank=True)
    buyer_reference = models.CharField(max_length=60, blank=True)
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes"
    )
    notes = models.TextField(blank=True)
    net = models.BigIntegerField(default=0)
    tax = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    base_total = models.BigIntegerField(default=0)
    # For a credit note: how much of it has been applied to invoices (maintained in the same
    # transaction as each allocation; checked by ``salesledger check``).
    allocated = models.BigIntegerField(default=0)
    # A posted document's settlement now (``domain.lifecycle.Settlement``: open, partially
    # paid, paid, written off), kept for the lists that filter by it: derived from the
    # instalments' ``settled`` (a credit note's ``allocated``) and the bad debts written
    # off, by the one writer of allocations and adjustments (``payments.settlement_keep``)
    # in their transaction; checked by ``salesledger check``. A draft's says nothing.
    settlement = models.CharField(max_length=14, default="open", db_default="open")
    # Structured creditor reference (ISO 11649 "RF.."), assigned at posting; bank matching
    # looks for it in the remittance information of incoming transfers.
    payment_reference = models.CharField(max_length=35, blank=True)
    snapshot = models.JSONField(default=dict, blank=True)
    snapshot_hash = models.CharField(max_length=64, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    journal_entry = models.ForeignKey(
        "ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    import_batch = models.ForeignKey(
        "core.ImportBatch", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # An opening item: an invoice of another system brought in by a migration, known by its
    # total. Booked against the opening-balances account, not sales and VAT; never an
    # e-invoice of this ledger (docs/design/opening-items.md).
    opening = models.BooleanField(default=False)
    # What the document charges for: credit holds never refuse a fee or interest invoice.
    purpose = models.CharField(max_length=8, choices=Purpose.choices, default=Purpose.SALE,
                               db_default=Purpose.SALE)
    # What EN 16931 says about the supply (docs/design/e-invoicing.md): when it was
    # delivered (BT-72) or the period invoiced (BT-73, BT-74), the contract (BT-12) and
    # project (BT-11) it belongs to, and whether it is of goods, services or both (the
    # French reform's "nature of the operation", BT-23 in CII).
    delivery_date = models.DateField(null=True, blank=True)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    contract_reference = models.CharField(max_length=60, blank=True)
    project_reference = models.CharField(max_length=60, blank=True)
    supply_type = models.CharField(max_length=8, blank=True)  # goods, services, mixed
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "number"],
                condition=Q(number__isnull=False),
                name="invoice_number_unique",
            ),
            models.UniqueConstraint(
                fields=["company", "series", "fiscal_year", "seq"],
                condition=Q(seq__isnull=False),
                name="invoice_seq_unique",
            ),
            models.CheckConstraint(
                condition=Q(allocated__gte=0) & Q(allocated__lte=F("total")),
                name="invoice_allocated_within_total",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(number__isnull=False),
                name="invoice_posted_has_number",
            ),
            models.CheckConstraint(
                condition=Q(opening=False) | (Q(kind="invoice") & Q(tax=0)),
                name="invoice_opening_is_invoice_without_tax",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "customer", "kind", "status"]),
            # Invoices by date, with every column the reports of months read of them (the
            # KPIs' sales, month ends and trends: reporting/kpis.py, trends.py), so that they
            # read this index and not the table's wide rows. Nothing in it changes after
            # posting (``allocated`` is not in it), so it costs a posting a wider entry and
            # an allocation nothing (docs/design/kpis.md, "Cost").
            models.Index(fields=["company", "issue_date", "kind", "status", "currency",
                                 "base_total", "total", "customer", "id"],
                         name="invoice_issued"),
            # The lists' settlement filter, newest first (docs/design/web.md, "Settlement
            # filter"): a rare state read from the index, not walked to.
            models.Index(fields=["company", "settlement", "issue_date", "id"],
                         name="invoice_settlement", condition=Q(status="posted")),
            # Credit notes by date, for the aged receivables of a day (reporting/aging.py):
            # without it, finding them reads every invoice of the company.
            models.Index(fields=["company", "issue_date"], name="credit_note_issued",
                         condition=Q(kind="credit_note")),
            # Bank matching finds invoices by their RF reference, and by the numbers in a
            # payment's text through the reference they give (banking/matching.py).
            models.Index(fields=["company", "payment_reference"], name="invoice_payment_ref"),
            # Bank matching looks, for a payment that names no invoice and no known payer,
            # for the invoices of its amount (banking/matching.py, ``wide_candidates``).
            models.Index(fields=["company", "total"], name="invoice_total"),
            # ...and, once per run, the shapes of the company's numbers per series (their
            # prefixes and lengths, ``number_shapes``): read from this index alone, in
            # series order, rather than every invoice's row and a sort.
            models.Index(fields=["company", "kind", "series", "number"],
                         name="invoice_number_shape", condition=Q(number__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.number or f"draft #{self.pk}"

    @property
    def is_credit_note(self) -> bool:
        return self.kind == DocKind.CREDIT_NOTE

    @property
    def is_posted(self) -> bool:
        return self.status == DocStatus.POSTED


class InvoiceLine(ImmutableModel, SaleLineFields):
    IMMUTABLE_WHEN = Q(invoice__status=DocStatus.POSTED)
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    net = models.BigIntegerField(default=0)
    tax = models.BigIntegerField(default=0)
    # The item's identifiers (EN 16931 BT-155 the seller's, BT-157 a standard one with its
    # ISO 6523 scheme, 0160 for a GTIN).
    seller_item_id = models.CharField(max_length=40, blank=True)
    standard_item_id = models.CharField(max_length=40, blank=True)
    standard_item_scheme = models.CharField(max_length=4, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="line_position_unique")
        ]


class DocumentCharge(ImmutableModel):
    """A document-level allowance (a discount on the whole document, EN 16931 BG-20) or
    charge (freight, packing: BG-21), with its own VAT category and rate. Frozen with its
    document once posted."""

    IMMUTABLE_WHEN = Q(invoice__status=DocStatus.POSTED)
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="charges")
    position = models.PositiveIntegerField()
    is_charge = models.BooleanField()
    reason = models.CharField(max_length=200, blank=True)
    reason_code = models.CharField(max_length=3, blank=True)  # UNCL 5189 / UNCL 7161
    amount = models.BigIntegerField()  # minor units of the document currency, positive
    tax_category = models.CharField(
        max_length=3, choices=[(c.value, c.name) for c in VatCategory], default="S"
    )
    tax_rate = DecimalText(default=Decimal(0))
    # An allowance or charge given as a percentage (BT-94, BT-101) of the lines of its VAT
    # category and rate; ``amount`` is what that percentage came to.
    percent = DecimalText(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"],
                                    name="document_charge_position_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="document_charge_positive"),
        ]


class Instalment(ImmutableModel):
    MUTABLE_FIELDS = ("settled",)

    """One dated part of a posted invoice: the open item that receipts settle."""

    # no index of its own: the table's indexes that begin with it serve (the writing path)
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, db_index=False)
    # indexed by ``instalment_by_invoice``, which begins with it
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="instalments",
                                db_index=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT)
    seq = models.PositiveSmallIntegerField()
    # The invoice's issue date, written with the instalment at posting (as its customer and
    # currency are) and never changed: the aging of a past day keeps the instalments issued
    # by then from the covering index below, instead of joining each open instalment to its
    # invoice (reporting/aging.py). ``salesledger check`` compares it with the invoice's.
    issue_date = models.DateField()
    due_date = models.DateField()
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField()
    base_amount = models.BigIntegerField()
    # Settled so far (minor units), maintained with each allocation in the same transaction.
    settled = models.BigIntegerField(default=0)
    discount_date = models.DateField(null=True, blank=True)
    discount_amount = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.invoice} #{self.seq}"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["invoice", "seq"], name="instalment_seq_unique"),
            models.CheckConstraint(
                condition=Q(settled__gte=0) & Q(settled__lte=F("amount")),
                name="instalment_settled_within_amount",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="instalment_positive"),
        ]
        indexes = [
            models.Index(fields=["company", "customer", "due_date"], name="instalment_cust_due"),
            models.Index(fields=["company", "due_date"], name="instalment_due"),
            # An invoice's instalments (the foreign key's index), with what the trends count
            # of each (reporting/trends.py): read from the invoices' ``invoice_issued``, the
            # cohorts touch no instalment row. Nothing in it changes after posting
            # (``settled`` is not in it).
            models.Index(fields=["invoice", "due_date", "currency", "amount", "base_amount",
                                 "customer"], name="instalment_by_invoice"),
            # Open items only: what balance, dunning and allocation read most. It also holds
            # every column the aged receivables sum (reporting/aging.py), so that today's
            # aging reads this index and not the table: measured at 100,000 items, about half
            # the time (docs/design/reporting.md). The issue date last: a past day's aging
            # keeps the instalments issued by then from the index too.
            models.Index(
                fields=["company", "customer", "due_date", "currency", "amount", "settled",
                        "base_amount", "invoice", "issue_date"],
                name="instalment_open",
                condition=Q(settled__lt=F("amount")),
            ),
            # The KPIs' month ends (reporting/kpis.py, ``month_end_receivables_by``) sum what
            # is open now by due date and issue date: in this order they are read from the
            # index already grouped, where SQLite sorted the million open items of
            # ``instalment_open`` (by customer first) in a temporary B-tree, most of the
            # statement's time (docs/design/kpis.md, "Of a set of customers").
            models.Index(
                fields=["company", "due_date", "issue_date", "currency", "amount", "settled",
                        "base_amount"],
                name="instalment_open_due",
                condition=Q(settled__lt=F("amount")),
            ),
            # Bank matching looks, for a payment that names no invoice and no known payer,
            # for what open instalments still owe near its amount (banking/matching.py,
            # ``wide_candidates``).
            models.Index(F("company"), F("amount") - F("settled"), name="instalment_owed",
                         condition=Q(settled__lt=F("amount"))),
            # (What an invoice paid in part still owes over several instalments is found
            # from the invoices partially paid: ``Invoice.settlement``, ``owed_in_parts``.)
        ]

    @property
    def open_amount(self) -> int:
        return self.amount - self.settled


class DocumentFile(ImmutableModel):
    """A rendered file of a posted document (PDF, UBL, CII, Factur-X), frozen with its hash:
    what was issued is served again byte for byte."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="files")
    kind = models.CharField(max_length=10)  # pdf, ubl, cii, facturx
    mime = models.CharField(max_length=60)
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["invoice", "kind"], name="document_file_kind_unique")
        ]
