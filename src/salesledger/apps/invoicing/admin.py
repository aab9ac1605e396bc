"""Back office for invoices and credit notes, organised by company (see core.admin).

Shown, not edited: documents are written by the invoicing services (the workspace, the
command line, an import), which compute lines, tax and totals with the pure core, number,
journal and audit them; an edit here would leave a draft's totals stale. A draft may be
deleted, through ``invoice_delete_draft`` (audited); a posted document never.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from salesledger.apps.core.admin import (
    CompanyFilter,
    MoneyFields,
    ReadOnlyAdmin,
    ReadOnlyInline,
    money_column,
)
from salesledger.domain.lifecycle import DocStatus

from .models import Instalment, Invoice, InvoiceLine
from .services import invoice_delete_draft


class InvoiceLineInline(MoneyFields, ReadOnlyInline):
    model = InvoiceLine
    money_fields = {"net": "invoice.currency", "tax": "invoice.currency"}
    fields = ("position", "description", "quantity", "unit_price", "discount_percent",
              "tax_rate", "tax_category", "exemption_reason", "net", "tax")
    readonly_fields = fields


class InstalmentInline(MoneyFields, ReadOnlyInline):
    model = Instalment
    money_fields = {"amount": "currency", "settled": "currency", "discount_amount": "currency"}
    fields = ("seq", "due_date", "currency", "amount", "settled", "discount_date",
              "discount_amount")
    readonly_fields = fields


@admin.register(Invoice)
class InvoiceAdmin(MoneyFields, ReadOnlyAdmin):
    money_fields = {"net": "currency", "tax": "currency", "total": "currency",
                    "base_total": "company.base_currency", "allocated": "currency"}
    list_display = ("__str__", "kind", "status", "customer", "issue_date", "due_date",
                    "total_amount", "company")
    # No date hierarchy: its DISTINCT over every invoice's month took ~500 ms at 100,000
    # invoices; the issue-date filter offers fixed ranges and queries nothing. No filter
    # whose choices are read from the table (currency): each is a scan of every invoice.
    # Newest first by id, which the primary key orders without a sort.
    list_filter = (CompanyFilter, "kind", "status", "issue_date")
    list_select_related = ("company", "customer")
    search_fields = ("number", "customer__code", "customer__name", "po_number",
                     "buyer_reference")
    ordering = ("-id",)
    inlines = (InvoiceLineInline, InstalmentInline)
    total_amount = money_column("total", "total")
    exclude = ("snapshot",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A draft only, one at a time (no bulk action): through its service.
        return (obj is not None and obj.status == DocStatus.DRAFT
                and admin.ModelAdmin.has_delete_permission(self, request, obj))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        invoice_delete_draft(actor=request.user, company=obj.company, invoice_id=obj.pk)


@admin.register(Instalment)
class InstalmentAdmin(MoneyFields, ReadOnlyAdmin):
    money_fields = {"amount": "currency", "settled": "currency",
                    "base_amount": "company.base_currency", "discount_amount": "currency"}
    list_display = ("invoice", "seq", "customer", "due_date", "amount_", "settled_",
                    "company")
    list_filter = (CompanyFilter, "due_date")
    list_select_related = ("company", "invoice", "customer")
    search_fields = ("invoice__number", "customer__code", "customer__name")
    ordering = ("-id",)
    amount_ = money_column("amount", "amount")
    settled_ = money_column("settled", "settled")
