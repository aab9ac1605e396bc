"""Back office for bulk allocation runs (see core.admin): read-only progress records."""

from __future__ import annotations

from django.contrib import admin

from salesledger.apps.core.admin import CompanyFilter, ReadOnlyAdmin

from .models import AllocationRun


@admin.register(AllocationRun)
class AllocationRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "day", "policy", "status", "last_customer_id", "customers",
                    "receipts", "allocations", "started_at", "finished_at", "company")
    list_filter = (CompanyFilter, "status")
    list_select_related = ("company",)
    ordering = ("-id",)
