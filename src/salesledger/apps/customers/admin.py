"""Back office for customers and payment terms, organised by company (see core.admin).

Shown, not edited: a customer, its addresses, contacts and bank accounts are written by the
customer services (``customer_update``, ``bank_account_add``...), which check the tax id,
the IBAN and the country and audit what changed; payment terms by ``payment_terms_create``
and ``payment_terms_update``. The workspace's pages and the command line call them. The
credit limit is shown as an amount with its currency, never typed in cents."""

from __future__ import annotations

from django.contrib import admin

from salesledger.apps.core.admin import (
    CompanyFilter,
    MoneyFields,
    ReadOnlyAdmin,
    ReadOnlyInline,
    ReadOnlyStackedInline,
    money_column,
)

from .models import Address, BankAccount, Contact, Customer, PaymentTerms


class AddressInline(ReadOnlyStackedInline):
    model = Address
    exclude = ("company",)


class ContactInline(ReadOnlyInline):
    model = Contact
    exclude = ("company",)


class BankAccountInline(ReadOnlyInline):
    model = BankAccount
    exclude = ("company",)


@admin.register(Customer)
class CustomerAdmin(MoneyFields, ReadOnlyAdmin):
    money_fields = {"credit_limit": "currency"}
    list_display = (
        "code",
        "name",
        "company",
        "country",
        "currency",
        "payment_terms",
        "limit",
        "po_required",
        "is_active",
    )
    # No filter by country or currency: each would read every customer's to offer its
    # choices (the search finds a country's customers by name or code).
    list_filter = (CompanyFilter, "is_active", "po_required")
    list_select_related = ("company", "payment_terms")
    search_fields = ("code", "name", "legal_name", "tax_id", "email")
    ordering = ("company", "code")
    inlines = (AddressInline, ContactInline, BankAccountInline)
    limit = money_column("credit_limit", "credit limit")


@admin.register(PaymentTerms)
class PaymentTermsAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "company", "discount_percent", "discount_days")
    search_fields = ("code", "name")
    ordering = ("company", "code")
