"""Credit management: limits, exposure, holds, payment behaviour, risk and predicted payment dates
(docs/design/credit.md).

What is stored here is what people decided or were told, never a figure that can be derived:
the company's credit settings (default limit, horizon, risk thresholds), the holds put on
customers and their release, what collections learned about a customer's behaviour (signals),
and the overrides of a refusal. Customer limits live on the customer (``credit_limit``, in the
customer's currency); exposure, behaviour and risk are computed for a day.

``PaymentModel`` keeps each company's trained payment-date model (docs/design/payment-
prediction.md): the model as bytes written by this application when it trained it, with the
hash it was written with and what it was trained on. A row is only ever added; the latest is
the one in use. The bytes are loaded only when their hash and the library's version match what
was written: never load such bytes from anywhere else (docs/security.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from salesledger.apps.core.immutable import ImmutableModel


class CreditSettings(models.Model):
    """One row per company, written on first change; absent means the defaults."""

    company = models.OneToOneField("core.Company", on_delete=models.CASCADE,
                                   related_name="credit_settings")
    # The limit of a customer with none of its own and no parent limit, in minor units of
    # the company's base currency; null: no default limit.
    default_limit = models.BigIntegerField(null=True, blank=True)
    # Recurring invoices due within this many days count in the exposure.
    horizon_days = models.PositiveIntegerField(default=30)
    # The lowest risk score of classes B, C and D.
    threshold_b = models.FloatField(default=25.0)
    threshold_c = models.FloatField(default=50.0)
    threshold_d = models.FloatField(default=75.0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(default_limit__isnull=True) | Q(default_limit__gte=0),
                name="credit_default_limit_nonneg"),
            models.CheckConstraint(
                condition=Q(threshold_b__gt=0) & Q(threshold_c__gt=models.F("threshold_b"))
                & Q(threshold_d__gt=models.F("threshold_c")) & Q(threshold_d__lte=100),
                name="credit_thresholds_rise"),
        ]


class HoldSource(models.TextChoices):
    MANUAL = "manual", "Put by hand"
    DUNNING = "dunning", "A dunning level"
    PLAN = "plan", "A broken payment plan"


class CreditHold(models.Model):
    """A hold on a customer from one source, active until released. At most one active hold
    per (customer, source): holding twice is one hold."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="credit_holds")
    source = models.CharField(max_length=8, choices=HoldSource.choices)
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    release_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "customer", "source"],
                                    condition=Q(released_at__isnull=True),
                                    name="credit_hold_one_active_per_source"),
        ]
        indexes = [models.Index(fields=["company", "customer"], name="credit_hold_customer")]


class SignalKind(models.TextChoices):
    DISPUTE_OPENED = "dispute_opened", "Dispute opened"
    PROMISE_MADE = "promise_made", "Promise to pay made"
    PROMISE_KEPT = "promise_kept", "Promise to pay kept"
    PROMISE_BROKEN = "promise_broken", "Promise to pay broken"
    PLAN_BROKEN = "plan_broken", "Payment plan broken"


class CreditSignal(ImmutableModel):
    """Something collections learned about how a customer pays, on a day (append-only)."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="+")
    kind = models.CharField(max_length=16, choices=SignalKind.choices)
    day = models.DateField()
    invoice = models.ForeignKey("invoicing.Invoice", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField(default=0)  # minor units of ``currency``
    currency = models.CharField(max_length=3, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["company", "customer", "day"],
                                name="credit_signal_customer_day")]


class CreditOverride(ImmutableModel):
    """A credit refusal overridden by a user allowed to (append-only): what was refused,
    why it was let through, by whom."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="+")
    what = models.CharField(max_length=8)  # "invoice" | "quote"
    quote = models.ForeignKey("quotes.Quote", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    day = models.DateField()
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField()
    refusal_code = models.CharField(max_length=40)
    refusal = models.TextField()
    comment = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")


class PaymentModel(models.Model):
    """A payment-date model trained on one company's ledger as it stood on ``trained_as_of``."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    trained_as_of = models.DateField()
    trained_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveSmallIntegerField()  # of the features and their order
    library = models.CharField(max_length=40)  # scikit-learn's version that wrote the bytes
    rows = models.PositiveIntegerField()  # training rows
    items = models.PositiveIntegerField()  # items (instalments) they came from
    seconds = models.FloatField(default=0)
    blob = models.BinaryField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["company", "-trained_at"], name="payment_model_latest")]

    def __str__(self) -> str:
        return f"payment model of {self.company_id} as of {self.trained_as_of}"
