"""Back office for customers and payment terms, organised by company (see core.admin)."""

from __future__ import annotations

from django.contrib import admin

from salesledger.apps.core.admin import CompanyScopedAdmin, MoneyFields, money_column

from .models import Address, BankAccount, Contact, Customer, PaymentTerms


class _ChildInline(admin.StackedInline):  # type: ignore[type-arg]
    extra = 0
    exclude = ("company",)


class AddressInline(_ChildInline):
    model = Address


class ContactInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Contact
    extra = 0
    exclude = ("company",)


class BankAccountInline(admin.TabularInline):  # type: ignore[type-arg]
    model = BankAccount
    extra = 0
    exclude = ("company",)


@admin.register(Customer)
class CustomerAdmin(MoneyFields, CompanyScopedAdmin):
    # The credit limit is shown as an amount and set through the customer services (the
    # command line), which check it; never typed here in cents.
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
    list_filter = (
        ("company", admin.RelatedOnlyFieldListFilter),
        "country",
        "currency",
        "is_active",
        "po_required",
    )
    list_select_related = ("company", "payment_terms")
    search_fields = ("code", "name", "legal_name", "tax_id", "email")
    readonly_fields = ("verified_at", "created_at")
    raw_id_fields = ("parent",)
    ordering = ("company", "code")
    inlines = (AddressInline, ContactInline, BankAccountInline)
    limit = money_column("credit_limit", "credit limit")

    def save_formset(self, request, form, formset, change):  # type: ignore[no-untyped-def]
        # Children carry the customer's company: set it from the parent, not from the form.
        for obj in formset.save(commit=False):
            obj.company_id = form.instance.company_id
            obj.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()


@admin.register(PaymentTerms)
class PaymentTermsAdmin(CompanyScopedAdmin):
    list_display = ("code", "name", "company", "discount_percent", "discount_days")
    search_fields = ("code", "name")
    ordering = ("company", "code")
