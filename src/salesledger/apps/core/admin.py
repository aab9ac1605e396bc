"""The back office (Django admin), organised by company.

Every business row carries ``company_id``; the admin shows a staff member only the
companies they are a member of (superusers see all), filters every list by company, and
offers only those companies (and their customers, terms, ...) in forms. Posted and
append-only data (journal, allocations, receipts, the audit log, posted documents) is shown
read-only: a correction is a new document, made through the services, never an edit here.

The back office is read-mostly (issue 16). A row that a service writes (a company's
profile, memberships and roles, customers, payment terms, documents) is shown, not edited:
the service checks what the admin's forms would not (a tax id, an IBAN, the role of the
one who acts) and audits only what changed. Those changes are made in the workspace's
pages or on the command line. A draft is deleted through its service. What the admin still
changes itself (an account's name) is written to the audit log in the same transaction.
Money is shown in major units with its currency (``MoneyFields``, ``money_column``), never
typed; lists have no date hierarchy, whose ``DISTINCT`` over every row of a large table
costs more than the page (a date filter of fixed choices takes its place), and no filter
reads its choices from the listed table (``CompanyFilter`` reads the companies; a filter by
currency or by a free-text kind is left out on the large tables). Large lists are ordered
by id, newest first: the primary key orders them without sorting the table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from salesledger.money import Money

from .audit import audit
from .models import AuditEvent, Company, ImportBatch, Membership, NumberCounter


def _member_filter(request: HttpRequest, model: type[models.Model]) -> models.Q | None:
    """The condition that keeps a non-superuser to their own companies' rows."""
    user = request.user
    if user.is_superuser:
        return None
    if model is Company:
        return models.Q(memberships__user=user)
    return models.Q(company__memberships__user=user)


def _scoped(request: HttpRequest, qs: models.QuerySet) -> models.QuerySet:  # type: ignore[type-arg]
    model = qs.model
    if model is not Company and not any(f.name == "company" for f in model._meta.fields):
        return qs
    cond = _member_filter(request, model)
    return qs if cond is None else qs.filter(cond)


class SameCompanyForm(forms.ModelForm):  # type: ignore[type-arg]
    """Refuses a row that points at another company's customer, terms, document, ..."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if isinstance(self.instance, Company):
            company = self.instance if self.instance.pk else None
        else:
            company = data.get("company")
            if company is None and getattr(self.instance, "company_id", None):
                company = self.instance.company
        if company is None:
            return data
        for name, value in list(data.items()):
            other = getattr(value, "company_id", None)
            if isinstance(value, models.Model) and other is not None and other != company.pk:
                self.add_error(name, f"belongs to another company than {company.code}")
        return data


class CompanyFilter(admin.SimpleListFilter):
    """The companies the staff member may see, read from the companies themselves. Django's
    ``RelatedOnlyFieldListFilter`` asks the listed table for its distinct companies: a
    scan of every invoice (or journal line) each time the list is drawn."""

    title = "company"
    parameter_name = "company"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        companies = _scoped(request, Company.objects.all()).order_by("code")
        return [(str(c.pk), c.code) for c in companies.only("pk", "code")]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet  # type: ignore[type-arg]
                 ) -> models.QuerySet:  # type: ignore[type-arg]
        value = self.value()
        return queryset.filter(company_id=int(value)) if value and value.isdigit() else queryset


class CompanyScopedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Lists, forms and lookups limited to the companies of the staff member."""

    form = SameCompanyForm
    list_filter: Any = (CompanyFilter,)
    list_select_related: Any = ("company",)
    show_full_result_count = False
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:  # type: ignore[type-arg]
        return _scoped(request, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        related = db_field.remote_field.model
        if "queryset" not in kwargs:
            kwargs["queryset"] = _scoped(request, related._default_manager.all())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        company = obj if isinstance(obj, Company) else obj.company
        audit(company, request.user, f"admin.{'change' if change else 'add'}",
              obj._meta.model_name, obj.pk, fields=sorted(form.changed_data))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        company = obj if isinstance(obj, Company) else obj.company
        pk = obj.pk
        super().delete_model(request, obj)
        if not isinstance(obj, Company):
            audit(company, request.user, "admin.delete", obj._meta.model_name, pk)


class ReadOnlyAdmin(CompanyScopedAdmin):
    """Append-only data: viewable, never added, changed or deleted here."""

    actions = None

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class _ReadOnlyInlineMixin:
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(_ReadOnlyInlineMixin, admin.TabularInline):  # type: ignore[type-arg]
    pass


class ReadOnlyStackedInline(_ReadOnlyInlineMixin, admin.StackedInline):  # type: ignore[type-arg]
    pass


def money_column(field: str, description: str, currency: str = "currency"
                 ) -> Callable[[Any, Any], str]:
    """A list column showing an integer minor-units field as an amount with its currency.
    ``currency`` names the attribute (dotted for a related one) holding the currency."""

    def show(self: Any, obj: Any) -> str:
        value = getattr(obj, field)
        cur: Any = obj
        for part in currency.split("."):
            cur = getattr(cur, part)
        return "" if value is None else str(Money.from_minor(value, cur))

    show.short_description = description  # type: ignore[attr-defined]
    show.admin_order_field = field  # type: ignore[attr-defined]
    return show


class MoneyFields:
    """Shows integer minor-units fields as amounts with their currency on detail pages and
    inlines, read-only (issue 16: nobody reads or types cents in the back office).

    ``money_fields`` maps each such field to the attribute holding its currency (dotted for
    a related one): the field is replaced, where the page would show it, by a read-only
    ``<field>_money`` display, so the raw number is neither shown nor taken by a form."""

    money_fields: dict[str, str] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, currency in cls.money_fields.items():
            label = name.replace("_", " ")
            setattr(cls, f"{name}_money", money_column(name, label, currency))

    def _swap(self, names: Any) -> list[Any]:
        return [f"{n}_money" if n in self.money_fields else n for n in names]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self._swap(super().get_fields(request, obj))  # type: ignore[misc]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        names = self._swap(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        return names + [f"{n}_money" for n in self.money_fields if f"{n}_money" not in names]

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        excluded = list(super().get_exclude(request, obj) or [])  # type: ignore[misc]
        return excluded + [n for n in self.money_fields if n not in excluded]


# ---------------------------------------------------------------- core models
class MembershipInline(ReadOnlyInline):
    model = Membership
    fields = ("user", "role")
    readonly_fields = fields


@admin.register(Company)
class CompanyAdmin(ReadOnlyAdmin):
    """Shown, not edited: the profile and seller details change through
    ``company_profile_update`` (the workspace's settings, ``company set``), which checks the
    tax id, IBAN and BIC and audits what changed."""

    list_display = ("code", "name", "base_currency", "country", "time_zone", "lock_date")
    list_filter = ("country", "base_currency")
    list_select_related = ()
    search_fields = ("code", "name", "legal_name", "tax_id")
    exclude = ("logo",)
    inlines = (MembershipInline,)


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    """Members and roles change through ``user_add`` and ``user_role`` (owners only,
    audited, the last owner kept): the workspace's users page or ``salesledger user``."""

    list_display = ("user", "company", "role")
    list_filter = (CompanyFilter, "role")
    search_fields = ("user__username", "user__email", "company__code", "company__name")
    list_select_related = ("company", "user")


@admin.register(NumberCounter)
class NumberCounterAdmin(ReadOnlyAdmin):
    """Counters of the gapless series: changing one by hand would break the numbering."""

    list_display = ("company", "series", "fiscal_year", "prefix", "last")
    list_filter = (CompanyFilter,)
    search_fields = ("series", "prefix")


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "company", "kind", "filename", "rows", "forced", "created_by")
    list_filter = (CompanyFilter, "forced", "created_at")
    list_select_related = ("company", "created_by")
    search_fields = ("filename", "sha256")
    ordering = ("-created_at",)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "company", "actor_name", "action", "entity", "entity_id")
    list_filter = (CompanyFilter, "at")
    search_fields = ("action", "entity", "entity_id", "actor_name")
    ordering = ("-id",)
