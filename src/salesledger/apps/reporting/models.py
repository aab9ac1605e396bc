"""What the reporting app keeps: the monthly pack's schedule, who receives it, and each
month's pack sent (docs/design/reporting.md, "The pack on a schedule"). Settings and a log of
what was sent, never the books: the reports themselves are still read from the apps below.

``PackSending`` is unique per (company, month, language): the claim that makes a pack go out
once per company, month and language (one message to the recipients who read it) however
many runs, workers or resumptions there are. Its ``status`` moves
``planned`` (the PDF rendered and kept, nothing handed to the mail server) → ``queued`` (about
to be handed over; a run that finds it so never sends it again: the outcome is unknown) →
the mail server's answer (``sent``, ``partial``, ``bounced``, ``failed``, ``logged``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class PackSchedule(models.Model):
    """The company's pack on a schedule: every month on ``day`` (31: the last day)."""

    company = models.OneToOneField("core.Company", on_delete=models.PROTECT,
                                   related_name="+")
    day = models.PositiveSmallIntegerField()
    starts_on = models.DateField()  # no pack is sent for a day before it
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.PROTECT, related_name="+")


class PackRecipient(models.Model):
    """A user chosen to receive the pack (a member of the company with an e-mail address)."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, related_name="+")
    schedule = models.ForeignKey(PackSchedule, on_delete=models.CASCADE,
                                 related_name="recipients")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    # The language the pack and its e-mail go to this user in (domain/pack_schedule.py).
    language = models.CharField(max_length=8, default="en")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["schedule", "user"],
                                               name="pack_recipient_once")]


class PackSending(models.Model):
    """A month's pack sent (or on its way) to the chosen users who read one language, with
    the PDF that went."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, related_name="+")
    month = models.DateField()  # its first day
    language = models.CharField(max_length=8, default="en")
    day = models.DateField()  # the scheduled day it was sent for (or the day asked on demand)
    status = models.CharField(max_length=10, default="planned")
    status_detail = models.TextField(blank=True)
    recipients = models.TextField()  # the addresses, comma-separated
    message_id = models.CharField(max_length=255, blank=True)
    pdf = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "month", "language"],
                                               name="pack_sending_once_a_month_language")]


# The buckets the aging summary keeps, one column each (domain.aging.DEFAULT_BUCKETS:
# current, 1-30, 31-60, 61-90, 91-120, over 120).
SUMMARY_BUCKETS = 6


class AgingSummary(models.Model):
    """The day the company's aging summary is for (``day`` NULL: none is built). One row per
    company, made with the company (and for every company by the migration that added it),
    so that every transaction that changes an open item can lock it: the summary's build and
    its upkeep are serialized per company (docs/design/reporting.md, "The aging summary")."""

    company = models.OneToOneField("core.Company", on_delete=models.PROTECT, related_name="+")
    day = models.DateField(null=True)
    built_at = models.DateTimeField(null=True)


class BucketColumns(models.Model):
    """The columns of one row of bucket amounts, ``SUMMARY_BUCKETS`` of each: the amounts in
    the row's document currency (``open_N``) and at the booking rates (``base_N``), in minor
    units. Shared by the aging summary's rows and its totals, which must add up column by
    column."""

    open_0 = models.BigIntegerField(default=0)
    open_1 = models.BigIntegerField(default=0)
    open_2 = models.BigIntegerField(default=0)
    open_3 = models.BigIntegerField(default=0)
    open_4 = models.BigIntegerField(default=0)
    open_5 = models.BigIntegerField(default=0)
    base_0 = models.BigIntegerField(default=0)
    base_1 = models.BigIntegerField(default=0)
    base_2 = models.BigIntegerField(default=0)
    base_3 = models.BigIntegerField(default=0)
    base_4 = models.BigIntegerField(default=0)
    base_5 = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class AgingSummaryRow(BucketColumns):
    """What one customer (its own items: a merge is resolved when read) has open in one
    document currency on the summary's day, per bucket of the default buckets by due date:
    the amounts (credit notes negative), the base amounts at the booking rates, and the
    number of items. A cache of ``aging.aging_summary_live``, kept exact by the transactions
    that change an open item (``aging_summary.py``) and compared with it by
    ``salesledger check``."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey("customers.Customer", on_delete=models.DO_NOTHING,
                                 db_constraint=False, related_name="+")
    currency = models.CharField(max_length=3)
    items = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "customer", "currency"],
                                               name="aging_summary_row_once")]


class KpiKeep(models.Model):
    """The version of the company's kept KPI figures (``KpiFigure``). One row per company,
    made with the company (and for every company by the migration that added it). Every
    transaction that writes something dated in a month already ended (a back-dated invoice,
    credit note, allocation, reversal or adjustment) adds one to ``version`` (``kpi_keep.py``),
    and a figure is read only while it carries the version the company has: so a kept figure
    is never read once an entry could have changed it (docs/design/kpis.md, "Kept months")."""

    company = models.OneToOneField("core.Company", on_delete=models.PROTECT, related_name="+")
    version = models.BigIntegerField(default=0)


class KpiFigure(models.Model):
    """One part of the KPIs' inputs of one ended month, as ``kpis.kpi_inputs`` computed it at
    ``version``: ``part`` ``sales`` (``a``: the credit sales), ``end`` (``a``, ``b``, ``c``:
    the receivable at the month's end, its part not yet due, its part over 90 days) or
    ``paid`` (``a``, ``b``, ``c``: the receipts applied, Σ × days from issue, Σ × days late;
    ``d``: the bad debts). ``currency`` "" is the company's figures at the booking rates;
    else those of the documents in that currency, in it. Never the figures of a set of
    customers or a segment."""

    # no index of its own: the unique constraint begins with it
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, related_name="+",
                                db_index=False)
    currency = models.CharField(max_length=3, blank=True)
    month = models.DateField()  # its first day
    part = models.CharField(max_length=5)
    version = models.BigIntegerField()
    a = models.BigIntegerField(default=0)
    b = models.BigIntegerField(default=0)
    c = models.BigIntegerField(default=0)
    d = models.BigIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "currency", "month", "part"],
                                               name="kpi_figure_once")]


class AgingSummaryTotal(BucketColumns):
    """The summary's rows of one company summed per document currency: the amounts, the
    base amounts and the items of each bucket. Kept by the transactions that keep the rows
    (what a refresh takes out of the rows of its customers and puts back), made with them by
    a build, compared with the rows' sums by ``salesledger check``: a report of every
    customer and the dashboard read their totals here instead of summing 100,000 rows
    (docs/design/reporting.md, "The aging summary's totals"). No row for a currency that
    no summary row has."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    items = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "currency"],
                                               name="aging_summary_total_once")]


class KeptForecast(models.Model):
    """The cash-flow forecast of one day, in one currency view, over a number of weeks, as
    ``forecast.forecast`` computed it (``forecast_keep.py``; docs/design/forecast.md, "The
    kept forecast"): the naive, expected, low and high amounts of each week (minor units),
    the estimator used, and ``stamp``, the company's audit chain's last sequence number read
    *before* the books. Every change to what the forecast reads is audited in its transaction
    (the audit's list is in the design note), so the row is the forecast of the books while
    the chain has not moved past ``stamp`` (and the rules are this code's, ``rules``); after,
    it is shown as stale and computed again by the worker. ``currency`` "" is the company's
    currency at the booking rates, else a document currency's forecast, in it. Never the
    forecast of a set of customers."""

    # no index of its own: the unique constraint begins with it
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, related_name="+",
                                db_index=False)
    day = models.DateField()
    currency = models.CharField(max_length=3, blank=True)
    weeks = models.PositiveSmallIntegerField()
    estimator = models.CharField(max_length=10)
    stamp = models.BigIntegerField()
    rules = models.CharField(max_length=40)
    naive = models.JSONField(default=list)
    expected = models.JSONField(default=list)
    low = models.JSONField(default=list)
    high = models.JSONField(default=list)
    computed_at = models.DateTimeField()
    # when a page last asked the worker to compute it again (none pending: null)
    queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "day", "currency", "weeks"],
                                               name="kept_forecast_once")]


class TrendCohortKeep(models.Model):
    """The version of one invoice-month cohort's kept trend figures (``KeptTrendCohort``;
    ``trend_keep.py``; docs/design/kpis.md, "Kept trend cohorts"). Every transaction that
    posts an invoice issued in the month, or writes or reverses an allocation or adjustment
    of one of its invoices (whatever its date), adds one to ``version`` (made at 1 when no
    row was there). A keeper stores the cohort's figures with the version it read *before*
    the books and sets ``kept_version`` to it only while ``version`` still is: the figures
    are read while ``kept_version`` equals ``version``, never once a write could have
    changed them. ``last_paid``: the latest date of an allocation (or its reversal) of the
    cohort's invoices when kept; the figures are those of any day from it on."""

    # no index of its own: the unique constraint begins with it
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, related_name="+",
                                db_index=False)
    cohort = models.CharField(max_length=7)  # YYYY-MM of the invoices' issue
    version = models.BigIntegerField(default=0)
    kept_version = models.BigIntegerField(null=True, blank=True)
    last_paid = models.DateField(null=True, blank=True)
    # when a page last asked the worker to keep it (none pending: null)
    queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "cohort"],
                                               name="trend_cohort_keep_once")]


class KeptTrendCohort(models.Model):
    """The trend figures of one cohort's instalments due on one day that do not depend on
    the report's day, in the company's currency at the booking rates, at ``version``:
    ``items`` and ``amount`` (what they owe), ``late``/``late_amount`` (paid late: items
    with any such payment, what was so paid), ``paid_90``/``paid_90_amount`` (items paid in
    full within 90 days of the due date; what was paid within 90 days of the items not so
    paid, plus what the others owe), ``bad``/``bad_amount`` (settled by a bad debt). A
    report's day T then makes the items due by T − 90 days the mature ones: the rest of the
    figures is derived (``trend_keep.py``)."""

    # no index of its own: the unique constraint begins with it
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, related_name="+",
                                db_index=False)
    cohort = models.CharField(max_length=7)
    due_date = models.DateField()
    version = models.BigIntegerField()
    items = models.BigIntegerField(default=0)
    amount = models.BigIntegerField(default=0)
    late = models.BigIntegerField(default=0)
    late_amount = models.BigIntegerField(default=0)
    paid_90 = models.BigIntegerField(default=0)
    paid_90_amount = models.BigIntegerField(default=0)
    bad = models.BigIntegerField(default=0)
    bad_amount = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "cohort", "due_date"],
                                               name="kept_trend_cohort_once")]
