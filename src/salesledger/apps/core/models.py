"""Companies (the tenants), their users, numbering counters, imports and the audit log."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from salesledger.apps.core.fields import DecimalText
from salesledger.apps.core.immutable import ImmutableModel
from salesledger.domain.adjustments import DiscountTaxPolicy
from salesledger.domain.invoicing import TaxRounding
from salesledger.money import Rounding


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    CLERK = "clerk", "Clerk"
    VIEWER = "viewer", "Viewer"
    # Specialists: each writes what a clerk writes, plus what only it (and an owner) may do.
    CREDIT_CONTROLLER = "credit_controller", "Credit controller"
    COLLECTOR = "collector", "Collector"


ROLE_RANK = {Role.VIEWER: 0, Role.CLERK: 1, Role.COLLECTOR: 1, Role.CREDIT_CONTROLLER: 1,
             Role.MANAGER: 2, Role.OWNER: 3}


class Capability(models.TextChoices):
    """What a role may do beyond its rank: the specialist roles' own powers."""

    # Post an invoice or accept a quote that a credit hold refuses, with a comment.
    CREDIT_OVERRIDE = "credit_override", "Override a credit hold"
    # Be assigned customers to chase and work the collections worklist.
    COLLECT = "collect", "Chase customers"


ROLE_CAPABILITIES: dict[Capability, frozenset[Role]] = {
    Capability.CREDIT_OVERRIDE: frozenset({Role.OWNER, Role.CREDIT_CONTROLLER}),
    Capability.COLLECT: frozenset({Role.OWNER, Role.MANAGER, Role.COLLECTOR,
                                   Role.CREDIT_CONTROLLER}),
}


class Company(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    legal_name = models.CharField(max_length=200, blank=True)
    tax_id = models.CharField(max_length=40, blank=True)
    base_currency = models.CharField(max_length=3, default="EUR")
    country = models.CharField(max_length=2, default="FR")
    time_zone = models.CharField(max_length=64, default="Europe/Paris")
    fiscal_year_start = models.PositiveSmallIntegerField(default=1)
    rounding = models.CharField(
        max_length=12, choices=[(r.value, r.value) for r in Rounding], default=Rounding.HALF_UP
    )
    tax_rounding = models.CharField(
        max_length=12,
        choices=[(r.value, r.value) for r in TaxRounding],
        default=TaxRounding.PER_LINE,
    )
    # Books are closed up to and including this date: nothing may be dated on or before it.
    lock_date = models.DateField(null=True, blank=True)
    default_terms = models.ForeignKey(
        "customers.PaymentTerms", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Seller details printed on documents and written into e-invoices (EN 16931 BG-4..BG-6).
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    website = models.CharField(max_length=200, blank=True)
    registration_id = models.CharField(max_length=60, blank=True)  # e.g. SIREN, HRB number
    # Where customers pay (EN 16931 BG-17), validated with schwifty when set.
    iban = models.CharField(max_length=34, blank=True)
    bic = models.CharField(max_length=11, blank=True)
    # Branding of rendered documents.
    logo = models.BinaryField(null=True, blank=True, editable=True)
    logo_mime = models.CharField(max_length=40, blank=True)
    brand_color = models.CharField(max_length=7, default="#1f4e79")
    document_footer = models.TextField(blank=True)
    legal_mentions = models.TextField(blank=True)
    # Settlement settings (docs/design/adjustments.md). A short payment's residual may be
    # written off as a payment difference when within both limits: an amount in minor units
    # of the base currency and a percentage of the invoice total (zero allows nothing).
    writeoff_tolerance_amount = models.BigIntegerField(default=0)
    writeoff_tolerance_percent = DecimalText(default=Decimal(0))
    # Early-payment discounts: "gross" (all to the discounts account) or "adjust_vat" (the
    # VAT share reduces output tax, EU VAT directive art. 90).
    discount_tax_policy = models.CharField(
        max_length=12, choices=[(p.value, p.value) for p in DiscountTaxPolicy],
        default=DiscountTaxPolicy.GROSS.value,
    )
    # New documents dated more than this many days after today (in the company's zone) are
    # refused unless confirmed (domain/dating.py).
    future_date_horizon_days = models.PositiveIntegerField(default=365)
    # Days after which a customer record not confirmed is listed for review.
    record_review_days = models.PositiveIntegerField(default=60)
    # Owners and managers must sign in with a one-time code too (apps/core/access.py).
    require_two_factor = models.BooleanField(default=False)
    # The company sends its e-invoices through the Peppol network: posting then refuses a
    # document that Peppol BIS Billing 3.0 would refuse (docs/design/e-invoicing.md).
    sends_peppol = models.BooleanField(default=False)
    # SEPA creditor identifier (EN 16931 BT-90), for invoices collected by direct debit.
    creditor_id = models.CharField(max_length=35, blank=True)
    # France: the company opted to pay VAT on its services when invoiced ("option pour le
    # paiement de la taxe d'apres les debits"), stated on its invoices (BT-8).
    vat_on_debits = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "companies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fiscal_year_start__gte=1, fiscal_year_start__lte=12),
                name="company_fy_start_month",
            ),
            models.CheckConstraint(
                condition=models.Q(writeoff_tolerance_amount__gte=0),
                name="company_writeoff_tolerance_nonneg",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Membership(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CLERK)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "user"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.company.code} ({self.role})"


class NumberCounter(models.Model):
    """The last number taken in a series for a fiscal year. Locked with SELECT ... FOR
    UPDATE while a document takes its number, so numbers are gapless even under races."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    series = models.CharField(max_length=20)
    fiscal_year = models.IntegerField()
    prefix = models.CharField(max_length=20)
    last = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "series", "fiscal_year"], name="counter_unique"
            ),
            models.CheckConstraint(condition=models.Q(last__gte=0), name="counter_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.fiscal_year} (last {self.last})"


class ImportBatch(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT)
    kind = models.CharField(max_length=20)
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    rows = models.IntegerField(default=0)
    forced = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["company", "kind", "sha256"])]

    def __str__(self) -> str:
        return f"{self.kind} import {self.pk} ({self.filename})"


class AuditChain(models.Model):
    """Head of a company's hash chain; locked while an event is appended."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, primary_key=True)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)


class AuditEvent(ImmutableModel):
    """Who did what, when, with the state before and after. Append-only and hash-chained:
    each event's hash covers its content and the previous event's hash."""

    # no index of its own: the table's indexes that begin with it serve (the writing path)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, db_index=False)
    seq = models.BigIntegerField()
    at = models.DateTimeField()
    # read from the row, never by it (a user is never deleted): no index
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+",
        db_index=False
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=60)
    entity = models.CharField(max_length=60)
    entity_id = models.CharField(max_length=40, blank=True)
    data = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "seq"], name="audit_seq_unique")]
        indexes = [models.Index(fields=["company", "entity", "entity_id"])]

    def __str__(self) -> str:
        return f"audit {self.seq}: {self.action} {self.entity} {self.entity_id}".rstrip()
