"""Collections casework: disputes, promises to pay, payment plans, the collector worklist and the
customer timeline (docs/design/collections.md).

What is stored here is what people said or decided (a dispute opened, a promise made, a plan
agreed, a reply received, a customer given to a collector); what follows from it for a day (is
the promise kept, is the plan broken, is the dunning sequence paused) is derived from the
allocations by the selectors, for an ``as_of`` day. Calls and notes are entries of the
customers' communication timeline (``customers.Communication``), beside the e-mails.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from salesledger.apps.core.fields import DecimalText
from salesledger.domain.collections import DisputeReason, DisputeStatus, Resolution

# Attachments of a dispute are kept in the database (the project has no file store): a
# customer's photo of damaged goods or a delivery note, not an archive.
ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024


class Dispute(models.Model):
    """An amount of one invoice that the customer contests: it leaves the dunning sequence but
    stays in receivables until the dispute is resolved (a credit note, a write-off) or rejected
    (the amount is chased again). A dispute may come from a deduction the customer took and
    flagged for a dispute (``adjustment``): then the amount is already settled by that
    deduction, and rejecting the dispute reverses it."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="+")
    invoice = models.ForeignKey("invoicing.Invoice", on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField()
    # What was open on the invoice the day it was opened (an invariant: amount <= it).
    open_at_opening = models.BigIntegerField()
    reason = models.CharField(max_length=16, choices=[(r.value, r.value) for r in DisputeReason])
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField(null=True, blank=True)  # to be resolved by
    opened_on = models.DateField()
    notes = models.TextField(blank=True)
    adjustment = models.OneToOneField("payments.Adjustment", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, default=DisputeStatus.OPEN.value,
                              choices=[(s.value, s.value) for s in DisputeStatus])
    closed_on = models.DateField(null=True, blank=True)
    resolution = models.CharField(max_length=16, blank=True,
                                  choices=[(r.value, r.value) for r in Resolution])
    resolution_notes = models.TextField(blank=True)
    credit_note = models.ForeignKey("invoicing.Invoice", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    write_off = models.ForeignKey("payments.Adjustment", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="dispute_positive"),
            models.CheckConstraint(
                condition=(Q(status=DisputeStatus.OPEN.value) & Q(closed_on__isnull=True))
                | (~Q(status=DisputeStatus.OPEN.value) & Q(closed_on__isnull=False)),
                name="dispute_closed_when_not_open"),
        ]
        indexes = [
            # The disputes open on a day (dunning_pauses): few rows whatever the books' size.
            models.Index(fields=["company", "closed_on"], name="dispute_company_closed"),
            models.Index(fields=["company", "customer"], name="dispute_company_customer"),
        ]


class DisputeAttachment(models.Model):
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="attachments")
    name = models.CharField(max_length=255)
    mime = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    content = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(size__lte=ATTACHMENT_MAX_BYTES),
                                              name="dispute_attachment_size")]


class Promise(models.Model):
    """A promise to pay ``amount`` by ``promised_date``, made on ``made_on``. Kept or broken is
    derived from the allocations (``domain.collections.promise_state``); ``outcome`` records
    what was observed, once, so that it reaches credit risk once."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="+")
    # One invoice, or (null) the customer's account as a whole.
    invoice = models.ForeignKey("invoicing.Invoice", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField()
    made_on = models.DateField()
    promised_date = models.DateField()
    notes = models.TextField(blank=True)
    outcome = models.CharField(max_length=8, blank=True)  # kept, broken: when observed
    observed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="promise_positive"),
            models.CheckConstraint(condition=Q(promised_date__gte=models.F("made_on")),
                                   name="promise_after_made"),
        ]
        indexes = [
            models.Index(fields=["company", "promised_date"], name="promise_company_date"),
            models.Index(fields=["company", "customer"], name="promise_company_customer"),
        ]


class PaymentPlan(models.Model):
    """A customer's overdue items rescheduled into instalments. The originals stay the open
    items of the ledger; the plan says when the customer will pay them instead, and dunning
    leaves them alone while the plan holds. A missed instalment breaks it (derived, recorded
    in ``broken_on`` when observed)."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="+")
    currency = models.CharField(max_length=3)
    total = models.BigIntegerField()
    # What the rescheduled items had settled when the plan was made: later allocations pay
    # the plan.
    settled_before = models.BigIntegerField()
    created_on = models.DateField()
    grace_days = models.PositiveSmallIntegerField(default=0)
    hold_on_break = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    broken_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(total__gt=0), name="plan_positive")]
        indexes = [models.Index(fields=["company", "customer"], name="plan_company_customer")]


class PlanItem(models.Model):
    """An original open item (an invoice's instalment) rescheduled by a plan, with what was
    open on it when the plan was made."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    plan = models.ForeignKey(PaymentPlan, on_delete=models.PROTECT, related_name="items")
    invoice = models.ForeignKey("invoicing.Invoice", on_delete=models.PROTECT, related_name="+")
    instalment = models.ForeignKey("invoicing.Instalment", on_delete=models.PROTECT,
                                   related_name="+")
    amount = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "instalment"], name="plan_item_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="plan_item_positive"),
        ]
        indexes = [models.Index(fields=["instalment"], name="plan_item_instalment")]


class PlanInstalment(models.Model):
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    plan = models.ForeignKey(PaymentPlan, on_delete=models.PROTECT, related_name="instalments")
    number = models.PositiveSmallIntegerField()
    due_date = models.DateField()
    amount = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_instalment_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="plan_instalment_positive"),
        ]


class Reply(models.Model):
    """An inbound reply to a reminder (on the timeline as ``communication``): dunning pauses for
    the whole customer from the day it came until the day it was handled."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="+")
    communication = models.OneToOneField("customers.Communication", on_delete=models.PROTECT,
                                         related_name="+")
    received_on = models.DateField()
    handled_on = models.DateField(null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["company", "handled_on"], name="reply_company_handled")]


class Assignment(models.Model):
    """Which collector chases a customer (one per customer), and when to act next if the
    collector said so."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="+")
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    assigned_on = models.DateField()
    next_action_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "customer"],
                                               name="assignment_one_per_customer")]
        indexes = [models.Index(fields=["company", "collector"], name="assignment_collector")]


class CallTask(models.Model):
    """A call for a collector to make (a dunning level whose channel is a call): on the
    worklist, its day the customer's next action, until a call to the customer is logged
    (``customer call``), which closes it (``outcome`` ``called``), or until what it was about
    is paid (``paid``): every item of the customer due by its day settled, by receipts,
    credit notes or write-offs (``selectors.call_tasks_paid``, derived; recorded when
    observed). One open task per customer: a second level that asks for a call while one
    waits adds nothing."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="+")
    due_on = models.DateField()
    reason = models.CharField(max_length=200)
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    done_on = models.DateField(null=True, blank=True)
    call = models.ForeignKey("customers.Communication", null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    # How it closed: "called" (a call logged), "paid" (what it was about was settled); blank
    # while open, and for the tasks closed before outcomes were recorded (all by a call).
    outcome = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "customer"],
                                               condition=Q(done_on__isnull=True),
                                               name="call_task_one_open")]
        indexes = [models.Index(fields=["company", "done_on"], name="call_task_company_done")]


class WorklistRanking(models.Model):
    """That a company's worklist was ranked for ``day`` (``ranking.worklist_rank_build``, the
    worker's nightly job), at ``ranked_at``: its rows are the ``WorklistEntry`` of the company.
    One per company; ranking again replaces it. No row: the page ranks on the fly."""

    company = models.OneToOneField("core.Company", on_delete=models.CASCADE,
                                   related_name="+")
    day = models.DateField()
    ranked_at = models.DateTimeField()


class WorklistEntry(models.Model):
    """One customer of a ranked worklist (``WorklistRanking``), with what the page shows and
    the keys it is ordered by: those whose next action is due first (``later`` false), then
    by the expected value of acting, falling, then by code. Derived from the ledger, the
    casework and credit's risk of the ranking's day; a change to a customer's casework or
    what it owes ranks that customer again in the change's transaction
    (docs/design/collections.md, "The worklist, ranked at night")."""

    company = models.ForeignKey("core.Company", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="+")
    code = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    collector = models.CharField(max_length=150, blank=True)
    later = models.BooleanField()
    # The expected value of acting, exact (minor units of the base currency), and as a number
    # to order by: SQLite has no decimal type (a long decimal kept as a number may be stored
    # as text, which sorts after every number). Two customers whose values agree to 15
    # significant digits are ordered by code.
    value = DecimalText(max_length=80)
    rank = models.FloatField()
    overdue = models.BigIntegerField()
    held = models.BigIntegerField()
    days_overdue = models.IntegerField()
    risk_class = models.CharField(max_length=8, blank=True)
    default_probability = models.FloatField()
    next_action = models.DateField()
    call_due = models.DateField(null=True, blank=True)
    paused = models.CharField(max_length=100, blank=True)  # the reasons, by commas

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "customer"],
                                               name="worklist_entry_one_per_customer")]
        indexes = [
            models.Index(fields=["company", "later", "-rank", "code"],
                         name="worklist_entry_rank"),
            models.Index(fields=["company", "collector", "later", "-rank", "code"],
                         name="worklist_entry_collector"),
        ]
