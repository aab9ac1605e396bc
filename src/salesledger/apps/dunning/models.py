"""Dunning: reminder policies and their levels, fees and late-payment interest, and the daily runs
that send reminders, letters and statements (docs/design/dunning.md).

What makes a run idempotent and crash-safe is in the schema: a ``DunningNotice`` is unique per
(company, customer, kind, day) and a ``DunningItem`` per (instalment, level), both written in
the transaction that posts the notice's fee invoice, so a run repeated or resumed the same day
finds them and neither sends nor charges again. Sending is a second step, recorded on the
notice (its ``communication``), so a resumed run sends what was planned and not yet handed to
the mail server, and never what may have been.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from salesledger.apps.core.fields import DecimalText


class DunningPolicy(models.Model):
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    code = models.CharField(max_length=40)
    name = models.CharField(max_length=200, blank=True)
    # A message asking for less than this (minor units of the items' currency) is not sent.
    min_amount = models.BigIntegerField(default=0)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="dunning_policy_code"),
            models.UniqueConstraint(fields=["company"], condition=models.Q(is_default=True),
                                    name="dunning_policy_one_default"),
        ]

    def __str__(self) -> str:
        return self.code


class DunningLevel(models.Model):
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    policy = models.ForeignKey(DunningPolicy, on_delete=models.CASCADE, related_name="levels")
    number = models.PositiveSmallIntegerField()
    days = models.IntegerField()  # after the due date; negative: before it
    name = models.CharField(max_length=100)
    # The name in other languages, {language: name}: a customer reads the one of its
    # message's language, else ``name`` (as the level's text has a version per language).
    names = models.JSONField(default=dict, blank=True)
    channels = models.CharField(max_length=40, default="email")  # comma-separated
    fee_fixed = models.BigIntegerField(default=0)  # minor units of the item's currency
    fee_percent = DecimalText(default=Decimal(0))
    interest = models.BooleanField(default=False)
    hold = models.BooleanField(default=False)
    agency = models.BooleanField(default=False)
    # The reminder text the level sends: the documents app's named ``reminder`` text, with a
    # version per language; blank, the company's reminder text.
    template = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="dunning_level_number"),
            models.UniqueConstraint(fields=["policy", "days"], name="dunning_level_days"),
        ]


class PolicyAssignment(models.Model):
    """A customer's own policy; its children (a group) follow it unless they have theirs."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    customer = models.OneToOneField("customers.Customer", on_delete=models.PROTECT,
                                    related_name="+")
    policy = models.ForeignKey(DunningPolicy, on_delete=models.PROTECT, related_name="+")


class ReferenceRate(models.Model):
    """The central bank's reference rate from a day on, as users enter or import it."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    valid_from = models.DateField()
    percent = DecimalText()
    source = models.CharField(max_length=60, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "valid_from"],
                                               name="dunning_rate_day")]


class InterestRule(models.Model):
    """Late-payment interest for the company's customers in a country ("" for the others)."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    country = models.CharField(max_length=2, blank=True)
    margin = DecimalText(default=Decimal(8))
    compensation = models.BigIntegerField(default=0)
    compensation_currency = models.CharField(max_length=3, blank=True)
    # The VAT rate (percent) of the levels' fees for these customers; blank: a fee is not
    # subject to VAT, like the interest and the compensation (docs/design/dunning.md, "VAT").
    fee_vat_rate = models.CharField(max_length=8, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "country"],
                                               name="dunning_interest_country")]


class NoticeKind(models.TextChoices):
    REMINDER = "reminder"
    STATEMENT = "statement"


class DunningNotice(models.Model):
    """What a run sent (or will send) to one customer on one day."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="+")
    kind = models.CharField(max_length=10, choices=NoticeKind.choices,
                            default=NoticeKind.REMINDER)
    day = models.DateField()
    # The policy the customer followed and the levels listed as they were defined that day
    # (number, days, name, channels, fee, options, template): a policy edited later does not
    # change what a notice says it was sent under. Null and empty on statements, and on the
    # notices written before they were recorded.
    policy = models.ForeignKey(DunningPolicy, null=True, on_delete=models.PROTECT,
                               related_name="+")
    levels = models.JSONField(default=list)
    level = models.PositiveSmallIntegerField(default=0)  # the highest level listed
    channels = models.CharField(max_length=40, blank=True)
    summary = models.JSONField(default=dict)  # the items listed, grouped by level
    fee_invoice = models.ForeignKey("invoicing.Invoice", null=True, on_delete=models.PROTECT,
                                    related_name="+")
    # The fee's own invoice when the fee bears VAT (an invoice with a line not subject to
    # VAT may have no other category: EN 16931 BR-O-11 to BR-O-14); ``fee_invoice`` then
    # holds the interest and the compensation, if any.
    vat_fee_invoice = models.ForeignKey("invoicing.Invoice", null=True,
                                        on_delete=models.PROTECT, related_name="+")
    letter_pdf = models.BinaryField(null=True)
    letter_sha256 = models.CharField(max_length=64, blank=True)
    communication = models.ForeignKey("customers.Communication", null=True,
                                      on_delete=models.PROTECT, related_name="+")
    agency_export = models.TextField(blank=True)  # CSV handed to the collection agency
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "customer", "kind", "day"],
                                               name="dunning_notice_once_a_day")]
        indexes = [models.Index(fields=["company", "day"], name="dunning_notice_day")]


class DunningItem(models.Model):
    """An item reminded at a level, with what that level charged for it: once, ever."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    notice = models.ForeignKey(DunningNotice, on_delete=models.PROTECT, related_name="items")
    instalment = models.ForeignKey("invoicing.Instalment", on_delete=models.PROTECT,
                                   related_name="+")
    level = models.PositiveSmallIntegerField()
    amount = models.BigIntegerField()
    fee = models.BigIntegerField(default=0)
    interest = models.BigIntegerField(default=0)
    interest_to = models.DateField(null=True)  # the last day interest was charged for
    compensation = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["instalment", "level"],
                                               name="dunning_item_once_per_level")]
        indexes = [models.Index(fields=["company", "instalment"], name="dunning_item_inst")]


class StatementSchedule(models.Model):
    """Statements of account sent on a schedule (``customer statement --schedule``): every
    month on a day of the month, or every week on a day of the week, to every customer with a
    balance or to the customers listed. Each scheduled day is a period; the statement of a
    customer and a period is a ``DunningNotice`` of kind ``statement`` dated the period's day,
    so its unique key makes a run idempotent per customer and period
    (``domain/statement_schedule.py``)."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    code = models.CharField(max_length=40)
    every = models.CharField(max_length=8)  # monthly, weekly
    day = models.PositiveSmallIntegerField()  # of the month (31: the last) or week (1: Monday)
    starts_on = models.DateField()  # no statement is sent for a period before it
    all_with_balance = models.BooleanField(default=True)  # else only the customers listed
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "code"],
                                               name="statement_schedule_code")]


class StatementScheduleCustomer(models.Model):
    """A customer chosen to receive a schedule's statements (when not every customer with a
    balance does)."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    schedule = models.ForeignKey(StatementSchedule, on_delete=models.CASCADE,
                                 related_name="chosen")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["schedule", "customer"],
                                               name="statement_schedule_customer")]


class PlanReminder(models.Model):
    """An instalment of a payment plan reminded of (``stage``: ``before`` its due day,
    ``missed`` once past it within the plan's grace, ``broken`` when missing it broke the
    plan), in a customer's notice: once per instalment and stage, ever."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    notice = models.ForeignKey(DunningNotice, on_delete=models.PROTECT,
                               related_name="plan_reminders")
    instalment = models.ForeignKey("collections.PlanInstalment", on_delete=models.PROTECT,
                                   related_name="+")
    stage = models.CharField(max_length=8)
    amount = models.BigIntegerField()  # what was still open on it

    class Meta:
        constraints = [models.UniqueConstraint(fields=["instalment", "stage"],
                                               name="plan_reminder_once_per_stage")]
