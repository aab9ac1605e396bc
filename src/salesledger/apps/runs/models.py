"""Resumable batch runs: what a long run has done so far, committed with the work itself.

A run walks customers in ascending id and commits one chunk at a time; the chunk's writes
and the run's new ``last_customer_id`` go in the same transaction, so after a crash the run
resumes right after the last customer whose work is in the books, and nothing is done twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"


class AllocationRun(models.Model):
    """A bulk automatic allocation of unapplied cash across every customer of a company."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT)
    day = models.DateField()  # the allocations' date
    policy = models.CharField(max_length=20)
    chunk_customers = models.PositiveIntegerField(default=500)
    status = models.CharField(max_length=10, choices=RunStatus.choices,
                              default=RunStatus.RUNNING)
    last_customer_id = models.BigIntegerField(default=0)
    customers = models.BigIntegerField(default=0)  # customers with unapplied cash looked at
    receipts = models.BigIntegerField(default=0)  # receipts that allocated something
    allocations = models.BigIntegerField(default=0)
    # {currency: minor units allocated}
    totals = models.JSONField(default=dict)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company"], condition=Q(status="running"),
                                    name="allocation_run_one_running"),
        ]

    def __str__(self) -> str:
        return f"allocation run {self.pk} ({self.status}, after customer {self.last_customer_id})"
