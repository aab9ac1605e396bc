"""Back office for invoices and credit notes, organised by company (see core.admin).

A draft can be corrected here (its header and lines); a posted document is read-only,
as are instalments. Documents are created and posted through the services (the command
line, the web pages, an import), which number, journal and audit them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from salesledger.apps.core.admin import (
    CompanyScopedAdmin,
    MoneyFields,
    ReadOnlyAdmin,
    ReadOnlyInline,
    money_column,
)
from salesledger.domain.lifecycle import DocStatus

from .models import Instalment, Invoice, InvoiceLine


def _posted(obj: Any) -> bool:
    return obj is not None and obj.status == DocStatus.POSTED


class InvoiceLineInline(MoneyFields, admin.TabularInline):  # type: ignore[type-arg]
    """Editable on a draft, read-only once the document is posted."""

    model = InvoiceLine
    money_fields = {"net": "invoice.currency", "tax": "invoice.currency"}
    extra = 0
    fields = ("position", "description", "quantity", "unit_price", "discount_percent",
              "tax_rate", "tax_category", "exemption_reason", "net", "tax")
    readonly_fields = ("net", "tax")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _posted(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _posted(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _posted(obj) and super().has_delete_permission(request, obj)


class InstalmentInline(MoneyFields, ReadOnlyInline):
    model = Instalment
    money_fields = {"amount": "currency", "settled": "currency", "discount_amount": "currency"}
    fields = ("seq", "due_date", "currency", "amount", "settled", "discount_date",
              "discount_amount")
    readonly_fields = fields


@admin.register(Invoice)
class InvoiceAdmin(MoneyFields, CompanyScopedAdmin):
    money_fields = {"net": "currency", "tax": "currency", "total": "currency",
                    "base_total": "company.base_currency", "allocated": "currency"}
    list_display = ("__str__", "kind", "status", "customer", "issue_date", "due_date",
                    "total_amount", "company")
    list_filter = (("company", admin.RelatedOnlyFieldListFilter), "kind", "status", "currency")
    list_select_related = ("company", "customer")
    search_fields = ("number", "customer__code", "customer__name", "po_number",
                     "buyer_reference")
    date_hierarchy = "issue_date"
    ordering = ("-issue_date", "-id")
    raw_id_fields = ("customer", "corrects")
    inlines = (InvoiceLineInline, InstalmentInline)
    total_amount = money_column("total", "total")
    readonly_fields = ("company", "kind", "status", "series", "fiscal_year", "seq", "number",
                       "due_date", "net", "tax", "total", "base_total", "allocated",
                       "snapshot", "snapshot_hash", "posted_at", "posted_by", "journal_entry",
                       "import_batch", "created_at", "purpose")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # posted documents are never deleted
        return actions

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _posted(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _posted(obj) and super().has_delete_permission(request, obj)

    def save_formset(self, request, form, formset, change):  # type: ignore[no-untyped-def]
        for obj in formset.save(commit=False):
            obj.company_id = form.instance.company_id
            obj.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()


@admin.register(Instalment)
class InstalmentAdmin(MoneyFields, ReadOnlyAdmin):
    money_fields = {"amount": "currency", "settled": "currency",
                    "base_amount": "company.base_currency", "discount_amount": "currency"}
    list_display = ("invoice", "seq", "customer", "due_date", "amount_", "settled_",
                    "company")
    list_filter = (("company", admin.RelatedOnlyFieldListFilter), "currency")
    list_select_related = ("company", "invoice", "customer")
    search_fields = ("invoice__number", "customer__code", "customer__name")
    date_hierarchy = "due_date"
    ordering = ("-due_date", "-id")
    amount_ = money_column("amount", "amount")
    settled_ = money_column("settled", "settled")
