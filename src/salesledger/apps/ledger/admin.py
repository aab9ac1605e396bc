"""Back office for the chart of accounts and the journal, organised by company. Journal
entries and lines are append-only: shown read-only (see core.admin)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from salesledger.apps.core.admin import (
    CompanyFilter,
    CompanyScopedAdmin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    money_column,
)

from .models import Account, JournalEntry, JournalLine


@admin.register(Account)
class AccountAdmin(CompanyScopedAdmin):
    list_display = ("code", "name", "company", "role", "kind")
    list_filter = (CompanyFilter, "role")
    search_fields = ("code", "name")
    ordering = ("company", "code")
    # Posting finds accounts by role: only the name may change here.
    readonly_fields = ("company", "code", "role", "kind")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class JournalLineInline(ReadOnlyInline):
    model = JournalLine
    fields = ("account", "customer", "currency", "amount_currency", "amount")
    readonly_fields = fields


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "date", "company", "kind", "memo", "source_type", "source_id")
    list_filter = (CompanyFilter, "date")
    search_fields = ("memo", "kind", "source_type")
    ordering = ("-id",)
    inlines = (JournalLineInline,)


@admin.register(JournalLine)
class JournalLineAdmin(ReadOnlyAdmin):
    list_display = ("entry", "date", "company", "account", "customer", "in_currency",
                    "in_base")
    list_filter = (CompanyFilter, "account__role", "date")
    list_select_related = ("company", "account", "customer", "entry")
    search_fields = ("customer__code", "customer__name", "entry__memo")
    ordering = ("-id",)
    in_currency = money_column("amount_currency", "amount")
    in_base = money_column("amount", "base amount", currency="company.base_currency")
