"""Back office for exchange rates and revaluation runs, organised by company (see core.admin).
Read-only: rates are entered and imported with `salesledger fx rate` (audited), and a run is
posted; changing either here would bypass the audit trail."""

from __future__ import annotations

from django.contrib import admin

from salesledger.apps.core.admin import CompanyFilter, ReadOnlyAdmin

from .models import ExchangeRate, RevaluationRun


@admin.register(ExchangeRate)
class ExchangeRateAdmin(ReadOnlyAdmin):
    list_display = ("rate_date", "currency", "rate", "source", "import_batch", "company")
    list_filter = (CompanyFilter, "currency", "source",
                   "rate_date")
    list_select_related = ("company", "import_batch")
    search_fields = ("currency",)
    ordering = ("-rate_date", "currency")


@admin.register(RevaluationRun)
class RevaluationRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "as_of", "status", "positions", "net", "entry", "reversal_entry",
                    "company")
    list_filter = (CompanyFilter, "status", "as_of")
    list_select_related = ("company",)
    ordering = ("-as_of", "-id")
