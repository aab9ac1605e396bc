"""Back office for receipts and allocations, organised by company (see core.admin).
Both are append-only (an allocation is undone by a reversing allocation): read-only here."""

from __future__ import annotations

from django.contrib import admin

from salesledger.apps.core.admin import (
    CompanyFilter,
    MoneyFields,
    ReadOnlyAdmin,
    ReadOnlyInline,
    money_column,
)

from .models import Allocation, Receipt


class AllocationInline(MoneyFields, ReadOnlyInline):
    model = Allocation
    money_fields = {"amount": "currency", "base_unapplied": "company.base_currency",
                    "base_receivable": "company.base_currency"}
    fk_name = "receipt"
    fields = ("date", "instalment", "amount", "base_unapplied", "base_receivable",
              "reversal_of")
    readonly_fields = fields


@admin.register(Receipt)
class ReceiptAdmin(MoneyFields, ReadOnlyAdmin):
    money_fields = {"amount": "currency", "base_amount": "company.base_currency",
                    "allocated": "currency"}
    list_display = ("number", "date", "customer", "amount_", "allocated_", "method",
                    "payer_reference", "company")
    list_filter = (CompanyFilter, "method", "date")
    list_select_related = ("company", "customer")
    search_fields = ("number", "customer__code", "customer__name", "payer_reference",
                     "bank_reference", "memo")
    ordering = ("-id",)
    inlines = (AllocationInline,)
    amount_ = money_column("amount", "amount")
    allocated_ = money_column("allocated", "allocated")


@admin.register(Allocation)
class AllocationAdmin(MoneyFields, ReadOnlyAdmin):
    money_fields = {"amount": "currency", "source_amount": "source_currency",
                    "base_unapplied": "company.base_currency",
                    "base_receivable": "company.base_currency"}
    list_display = ("id", "date", "customer", "source", "document", "amount_", "company")
    list_filter = (CompanyFilter, "date")
    list_select_related = ("company", "customer", "receipt", "credit_note",
                           "instalment__invoice")
    search_fields = ("receipt__number", "credit_note__number", "instalment__invoice__number",
                     "customer__code", "customer__name")
    ordering = ("-id",)
    amount_ = money_column("amount", "amount")

    @admin.display(description="from")
    def source(self, obj: Allocation) -> str:
        return str(obj.receipt.number if obj.receipt_id else obj.credit_note)

    @admin.display(description="settles")
    def document(self, obj: Allocation) -> str:
        return str(obj.instalment.invoice)
