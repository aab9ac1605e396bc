"""Customers and what is known about them: addresses, contacts, bank accounts, terms."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from salesledger.apps.core.fields import DecimalText
from salesledger.domain.terms import TermLine, Terms

from .validation import validate_country


class PaymentTerms(models.Model):
    company = models.ForeignKey("core.Company", on_delete=models.CASCADE)
    code = models.CharField(max_length=30)
    name = models.CharField(max_length=100)
    # [{"percent": "50", "days": 30, "end_of_month": false}, ...]
    lines = models.JSONField()
    discount_percent = DecimalText(default=Decimal(0))
    discount_days = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "payment terms"
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="terms_code_unique")
        ]

    def __str__(self) -> str:
        return self.name

    def to_domain(self) -> Terms:
        return Terms(
            tuple(
                TermLine(Decimal(str(x["percent"])), int(x["days"]), bool(x.get("end_of_month")))
                for x in self.lines
            ),
            Decimal(self.discount_percent),
            self.discount_days,
        )


class Customer(models.Model):
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    code = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    legal_name = models.CharField(max_length=200, blank=True)
    tax_id = models.CharField(max_length=40, blank=True)
    country = models.CharField(max_length=2, blank=True, validators=[validate_country])
    currency = models.CharField(max_length=3)
    language = models.CharField(max_length=8, default="en")
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    payment_terms = models.ForeignKey(PaymentTerms, null=True, blank=True, on_delete=models.PROTECT)
    # Minor units of the customer's currency; null means no limit set.
    credit_limit = models.BigIntegerField(null=True, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    po_required = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    # When and by whom the record was last confirmed or edited (docs/design/customer-records.md):
    # a record older than the company's review period is listed for review.
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The customer's own e-mail address bounced hard: doubtful until the record is edited or
    # confirmed. The reason is the mail server's answer.
    email_doubtful_at = models.DateTimeField(null=True, blank=True)
    email_doubtful_reason = models.TextField(blank=True)
    # A duplicate merged into the customer that survives (``customer_merge``): an alias whose
    # posted documents keep its name, while balances, reports and new documents follow the
    # survivor. Never a chain: a survivor is not itself merged (``salesledger check``).
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="aliases"
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the customer's personal data was erased (``customer_anonymise``); set once.
    anonymised_at = models.DateTimeField(null=True, blank=True)
    # How e-invoices identify the buyer (docs/design/e-invoicing.md, domain/party_ids.py):
    # its legal registration number with its ISO 6523 scheme (EN 16931 BT-47: a SIREN is
    # 0002, a SIRET 0009) and the electronic address a network delivers to (BT-49, an EAS
    # scheme and id: a Peppol participant id). Empty: derived from the VAT number.
    legal_id = models.CharField(max_length=40, blank=True)
    legal_id_scheme = models.CharField(max_length=4, blank=True)
    endpoint_scheme = models.CharField(max_length=4, blank=True)
    endpoint_id = models.CharField(max_length=100, blank=True)
    # The SEPA direct-debit mandate the customer signed (BT-89): its invoices are then
    # collected by direct debit from its first bank account (BT-91).
    mandate_reference = models.CharField(max_length=35, blank=True)
    # The day the customer signed that mandate (pain.008 DtOfSgntr): needed to collect.
    mandate_signed = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="customer_code_unique"),
            models.CheckConstraint(
                condition=models.Q(credit_limit__isnull=True) | models.Q(credit_limit__gte=0),
                name="customer_credit_limit_nonneg",
            ),
            models.CheckConstraint(
                condition=~models.Q(merged_into=models.F("id")),
                name="customer_not_merged_into_itself",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "name"]),
            # The aliases of merges, few or none: what ``survivors`` and ``customer_family``
            # look up. Partial, because on SQLite the plain index of this mostly empty column
            # is useless to the planner: ANALYZE counts its NULLs as one value, so a look-up
            # by one survivor is estimated at every customer and the table is read whole
            # (docs/design/reporting.md, "Performance").
            models.Index(fields=["merged_into"], name="customer_merged",
                         condition=models.Q(merged_into__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class AddressKind(models.TextChoices):
    BILLING = "billing", "Billing"
    SHIPPING = "shipping", "Shipping"


class Address(models.Model):
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(max_length=10, choices=AddressKind.choices)
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, validators=[validate_country])

    class Meta:
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(fields=["customer", "kind"], name="address_kind_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind} address, {self.city}"

    def as_dict(self) -> dict[str, str]:
        return {
            f: getattr(self, f)
            for f in ("line1", "line2", "postal_code", "city", "region", "country")
        }


class ContactRole(models.TextChoices):
    BILLING = "billing", "Billing"
    PAYABLES = "payables", "Accounts payable"
    SALES = "sales", "Sales"


class Contact(models.Model):
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    # Comma-separated ContactRole values, e.g. "billing,payables".
    roles = models.CharField(max_length=100, default=ContactRole.BILLING)
    language = models.CharField(max_length=8, blank=True)
    # A hard bounce of a message sent to this contact: doubtful until the contact (or the
    # customer's record) is edited or confirmed; the reason is the mail server's answer.
    doubtful_at = models.DateTimeField(null=True, blank=True)
    doubtful_reason = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name

    def role_list(self) -> list[str]:
        return [r for r in self.roles.split(",") if r]


class BankAccount(models.Model):
    """A customer's bank account, used to recognise who paid a bank transfer."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="bank_accounts")
    iban = models.CharField(max_length=34)
    bic = models.CharField(max_length=11, blank=True)
    holder = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "iban"], name="bank_account_iban_unique")
        ]

    def __str__(self) -> str:
        return self.iban


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    PHONE = "phone", "Phone"
    LETTER = "letter", "Letter"
    PORTAL = "portal", "Portal"
    NOTE = "note", "Note"


class Communication(models.Model):
    """One entry of a customer's communication timeline: a document sent, a call, a note.

    Append-only history of exchanges with the customer; a delivery that bounces later gets
    its ``status`` updated (the one field that changes after the fact)."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="communications")
    at = models.DateTimeField()
    channel = models.CharField(max_length=10, choices=Channel.choices)
    direction = models.CharField(
        max_length=3, choices=[("out", "out"), ("in", "in")], default="out"
    )
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    recipients = models.TextField(blank=True)  # comma-separated addresses
    message_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=12, default="sent")  # sent, bounced, failed, logged
    status_detail = models.TextField(blank=True)
    invoice = models.ForeignKey(
        "invoicing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["company", "customer", "at"])]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipients or 'nobody'}: {self.status}"


class DuplicateScan(models.Model):
    """The last scan of a company's customers for duplicates (``duplicates.
    duplicate_pairs_store``), whose pairs are the ``DuplicatePair`` rows; ``changed_at``: a
    record that duplicate detection reads changed since (a name, a tax id, an IBAN, a
    merge), ``queued_at``: when the scan that will catch up was queued."""

    company = models.OneToOneField("core.Company", on_delete=models.CASCADE, related_name="+")
    scanned_at = models.DateTimeField()
    changed_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)


class DuplicatePair(models.Model):
    """A pair of customers that may be one, as the last scan found it, in the order the page
    shows (``position``: best first)."""

    company = models.ForeignKey("core.Company", on_delete=models.CASCADE, related_name="+")
    position = models.IntegerField()
    a = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    b = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    reasons = models.CharField(max_length=60)  # by commas: tax_id, iban, name
    shared = models.JSONField(default=dict)  # reason -> the value both share

    class Meta:
        indexes = [models.Index(fields=["company", "position"], name="duplicate_pair_order")]
