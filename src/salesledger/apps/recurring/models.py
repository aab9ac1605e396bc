"""Recurring invoice schedules, the periods they have issued, and the worker's daily jobs.

``RecurringRun`` is the proof that a period was invoiced: one row per (schedule, period),
unique in the schema, written in the same transaction as the posted invoice. It is what
makes issuing exactly once (docs/design/recurring-invoices.md), so it is append-only like
a posted document (a guard in ``core/guards.py``); only the delivery columns move.

``DailyJob`` is the worker's calendar: one row per (company, job, local day), unique, so
that however many workers run, each company's daily job is enqueued once a day.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from salesledger.apps.core.fields import DecimalText
from salesledger.apps.core.immutable import ImmutableModel
from salesledger.apps.core.lines import SaleLineFields
from salesledger.domain.recurrence import Unit

DELIVERY_FIELDS = ("send_status", "send_detail", "sent_at")


class RecurringSchedule(models.Model):
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT)
    unit = models.CharField(max_length=5, choices=[(u.value, u.value) for u in Unit])
    interval = models.PositiveIntegerField(default=1)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    count = models.PositiveIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    # Units of the base currency per unit of the schedule's currency, used for every issue
    # (1 in the base currency; a foreign-currency schedule must be given one).
    rate = DecimalText(default=Decimal(1))
    terms = models.ForeignKey(
        "customers.PaymentTerms", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    po_number = models.CharField(max_length=60, blank=True)
    buyer_reference = models.CharField(max_length=60, blank=True)
    notes = models.TextField(blank=True)
    auto_send = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(interval__gte=1), name="recurring_interval_pos"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(count__isnull=True),
                name="recurring_end_or_count",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="recurring_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(count__isnull=True) | Q(count__gte=1), name="recurring_count_pos"
            ),
        ]
        indexes = [models.Index(fields=["company", "active"], name="recurring_active")]

    def __str__(self) -> str:
        return f"schedule {self.pk} for {self.customer_id}"


class RecurringLine(SaleLineFields):
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    schedule = models.ForeignKey(RecurringSchedule, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "position"], name="recurring_line_position_unique"
            )
        ]


class SendStatus(models.TextChoices):
    NONE = "", "not sent automatically"
    QUEUED = "queued", "queued"
    SENT = "sent", "sent"
    FAILED = "failed", "failed"


class RecurringRun(ImmutableModel):
    """One issued period of a schedule and the invoice it became."""

    MUTABLE_FIELDS = DELIVERY_FIELDS

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    schedule = models.ForeignKey(RecurringSchedule, on_delete=models.PROTECT, related_name="runs")
    period_index = models.PositiveIntegerField()
    period_start = models.DateField()
    period_end = models.DateField()
    invoice = models.OneToOneField(
        "invoicing.Invoice", on_delete=models.PROTECT, related_name="recurring_run"
    )
    send_status = models.CharField(max_length=8, choices=SendStatus.choices, blank=True)
    send_detail = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "period_index"], name="recurring_run_once_per_period"
            ),
            models.UniqueConstraint(
                fields=["schedule", "period_start"], name="recurring_run_once_per_start"
            ),
        ]


class DailyJob(models.Model):
    """A job the worker enqueued for a company's local day (and re-enqueued after a
    failure): the unique row is the claim that keeps a second worker from enqueueing it."""

    company = models.ForeignKey("core.Company", on_delete=models.CASCADE)
    job = models.CharField(max_length=40)
    day = models.DateField()
    task_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=1)
    enqueued_at = models.DateTimeField()
    # Set once its task succeeded (or was given up): later ticks skip it.
    done = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "job", "day"], name="daily_job_once")
        ]
