"""Creating and changing a customer in the browser: the forms hand what was typed to the
customer services (``customer_create``, ``customer_update``, ``bank_account_add`` and
``bank_account_remove`` for its IBANs), which check it as they check the command line's and
the import's (tax ids, IBANs, countries, a credit limit in major units); a refused value is
shown next to its field with the service's message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from salesledger.apps.customers.personal_data import customer_anonymise
from salesledger.apps.customers.selectors import (
    customer_detail,
    customer_get,
    payment_terms_list,
)
from salesledger.apps.customers.services import (
    AddressInput,
    BankAccountInput,
    ContactInput,
    CustomerInput,
    bank_account_add,
    bank_account_remove,
    contact_add,
    contact_remove,
    contact_update,
    customer_create,
    customer_update,
)
from salesledger.apps.interchange.personal_data import customer_data_export
from salesledger.apps.payments.adjustments.bad_debts import customer_write_off
from salesledger.domain.errors import LedgerError, ValidationFailed

from .forms import ServiceForm, text
from .tenancy import Workspace, or_404, workspace
from .views import customer_page
from .writing import MANAGES, WRITES, may, not_for_role, page, refused

LANGUAGES = (("en", "English"), ("fr", "Français"), ("de", "Deutsch"), ("es", "Español"),
             ("it", "Italiano"), ("nl", "Nederlands"))


class CustomerEditForm(ServiceForm):
    """What can be changed of a customer (``customers.services.EDITABLE``)."""

    name = text(_("Name"), required=True)
    legal_name = text(_("Legal name"))
    tax_id = text(_("Tax id"), max_length=40)
    country = text(_("Country (ISO code, e.g. FR)"), max_length=10, autocomplete="country")
    language = forms.ChoiceField(label=_("Language of its documents"), choices=LANGUAGES)
    email = text(_("E-mail"), max_length=254, type="email", autocomplete="off")
    phone = text(_("Phone"), max_length=40)
    credit_limit = text(_("Credit limit (in its currency, blank for none)"), max_length=30,
                        inputmode="decimal")
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 3}))


class CustomerForm(CustomerEditForm):
    """A new customer: its record, a billing address, a contact and a bank account."""

    code = text(_("Code"), required=True, max_length=40)
    currency = text(_("Currency (blank for the company's)"), max_length=3)
    terms = forms.ChoiceField(label=_("Payment terms"), required=False)
    billing_line1 = text(_("Address"))
    billing_postal_code = text(_("Postal code"), max_length=20)
    billing_city = text(_("City"), max_length=100)
    contact_name = text(_("Contact name"))
    contact_email = text(_("Contact e-mail"), max_length=254, type="email")
    iban = text(_("IBAN"), max_length=50)

    field_order = ["code", "name", "legal_name", "tax_id", "country", "currency", "language",
                   "email", "phone", "terms", "credit_limit", "billing_line1",
                   "billing_postal_code", "billing_city", "contact_name", "contact_email",
                   "iban", "notes"]

    def __init__(self, *args: Any, terms: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["terms"].choices = [("", _("The company's default"))] + [
            (t["code"], f"{t['code']} · {t['name']}") for t in terms]

    def data_input(self) -> CustomerInput:
        v = self.cleaned_data
        billing = (AddressInput(line1=v["billing_line1"], city=v["billing_city"],
                                country=v["country"], postal_code=v["billing_postal_code"])
                   if v["billing_line1"] or v["billing_city"] else None)
        return CustomerInput(
            code=v["code"], name=v["name"], currency=v["currency"], legal_name=v["legal_name"],
            tax_id=v["tax_id"], country=v["country"], language=v["language"], email=v["email"],
            phone=v["phone"], terms_code=v["terms"], credit_limit=v["credit_limit"],
            notes=v["notes"], billing=billing,
            contacts=[ContactInput(name=v["contact_name"], email=v["contact_email"])]
            if v["contact_name"] else [],
            bank_accounts=[BankAccountInput(iban=v["iban"])] if v["iban"] else [])


def _customer_url(ws: Workspace, code: str) -> str:
    return reverse("web:customer", args=[ws.company.code, code])


@login_required
@require_http_methods(["GET", "POST"])
def customer_new(request: HttpRequest, code: str) -> HttpResponse:
    ws = workspace(request, code)
    if not may(ws):
        return not_for_role(request, ws)
    form = CustomerForm(request.POST or None, terms=payment_terms_list(ws.company),
                        initial={"country": ws.company.country, "language": "en"})
    if request.method == "POST" and form.is_valid():
        try:
            made = customer_create(actor=request.user, company=ws.company,
                                   data=form.data_input())
        except LedgerError as exc:
            if exc.http_status == 403:
                return refused(request, ws, exc)
            form.refuse(exc, code_value="code", terms_code="terms", contacts="contact_name",
                        bic="iban", mandate="iban")
        else:
            return redirect(_customer_url(ws, made.code))
    return page(request, ws, "web/customer_form.html", form=form, creating=True)


def _initial(detail: dict[str, Any]) -> dict[str, Any]:
    limit = detail["credit_limit"]
    return {**{k: detail[k] or "" for k in CustomerEditForm.base_fields if k in detail},
            "credit_limit": limit["amount"] if limit else ""}


@login_required
@require_http_methods(["GET", "POST"])
def customer_edit(request: HttpRequest, code: str, customer_code: str) -> HttpResponse:
    ws = workspace(request, code)
    detail = or_404(customer_detail, ws.company, customer_code)
    if not may(ws):
        return not_for_role(request, ws)
    initial = _initial(detail)
    form = CustomerEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        # Only what was changed goes to the service: its audit says what changed.
        changes = {k: v for k, v in form.cleaned_data.items() if v != initial.get(k, "")}
        try:
            if changes:
                customer_update(actor=request.user, company=ws.company, code=detail["code"],
                                **changes)
        except LedgerError as exc:
            if exc.http_status == 403:
                return refused(request, ws, exc)
            form.refuse(exc)
        else:
            return redirect(_customer_url(ws, detail["code"]))
    return page(request, ws, "web/customer_form.html", form=form, creating=False, c=detail)


class Target(NamedTuple):
    """The customer a form of its overview acts on, as looked up in the company."""

    id: int
    code: str


def customer_write(request: HttpRequest, code: str, customer_code: str, key: str,
                   act: Callable[[Workspace, Target], object],
                   done: str | Callable[[Any], str], *, minimum: str = WRITES,
                   allowed: Callable[[Workspace], bool] | None = None) -> HttpResponse:
    """Run one service of the customer from a form of its overview (its own forms, the
    credit panel's): the customer looked up in the company first (one query; another
    company's is 404), then the role (``may(ws, minimum)``, or ``allowed(ws)`` for a rule of
    its own, refused in ``minimum``'s words, 403); back to the overview with a notice
    (``done``, or ``done(result)``), or the overview again with the service's refusal
    beside the form ``key`` (409)."""
    ws = workspace(request, code)
    found = or_404(customer_get, ws.company, customer_code)
    target = Target(found.pk, found.code)
    if not (allowed(ws) if allowed is not None else may(ws, minimum)):
        return not_for_role(request, ws, minimum)
    try:
        result = act(ws, target)
    except LedgerError as exc:
        if exc.http_status == 403:
            return refused(request, ws, exc)
        return customer_page(request, ws, target.code, errors={key: str(exc)}, status=409)
    messages.success(request, done(result) if callable(done) else done)
    return redirect(_customer_url(ws, target.code))


@login_required
@require_POST
def customer_iban_add(request: HttpRequest, code: str, customer_code: str) -> HttpResponse:
    """``customer add-iban CODE IBAN``."""
    iban = request.POST.get("iban", "")[:50]

    def act(ws: Workspace, customer: Target) -> object:
        return bank_account_add(actor=request.user, company=ws.company, code=customer.code,
                                account=BankAccountInput(iban=iban))

    return customer_write(request, code, customer_code, "iban_add", act,
                          gettext("The bank account is added."))


@login_required
@require_POST
def customer_iban_remove(request: HttpRequest, code: str, customer_code: str) -> HttpResponse:
    """``customer remove-iban CODE IBAN``: a payer IBAN the matcher learned for it goes too."""
    iban = request.POST.get("iban", "")[:50]

    def act(ws: Workspace, customer: Target) -> object:
        return bank_account_remove(actor=request.user, company=ws.company, code=customer.code,
                                   iban=iban)

    return customer_write(request, code, customer_code, "iban_remove", act,
                          gettext("The bank account is removed."))


@login_required
@require_POST
def customer_write_off_view(request: HttpRequest, code: str, customer_code: str
                            ) -> HttpResponse:
    """``customer write-off CODE --reason``, a manager's: all the customer owes written off
    on the page's day, one bad-debt adjustment per open invoice, its open credit notes and
    unapplied cash allocated first unless kept (``--keep-credits``)."""

    def act(ws: Workspace, customer: Target) -> object:
        return customer_write_off(
            actor=request.user, company=ws.company, code=customer.code, day=ws.as_of,
            reason=str(request.POST.get("reason", ""))[:255],
            apply_credits=request.POST.get("keep_credits") != "1",
            tax_relief=request.POST.get("tax_relief") == "1")

    def done(rows: Any) -> str:
        return ngettext("%(count)d invoice is written off as a bad debt.",
                        "%(count)d invoices are written off as bad debts.",
                        len(rows)) % {"count": len(rows)}

    return customer_write(request, code, customer_code, "write_off", act, done,
                          minimum=MANAGES)


def _contact(request: HttpRequest) -> ContactInput:
    roles = tuple(r for r in request.POST.getlist("roles") if r)[:5]
    return ContactInput(name=str(request.POST.get("name", "")).strip()[:200],
                        email=str(request.POST.get("email", "")).strip()[:254],
                        phone=str(request.POST.get("phone", "")).strip()[:40],
                        roles=roles or ("billing",),
                        language=str(request.POST.get("language", "")).strip()[:5])


@login_required
@require_POST
def customer_contact_add(request: HttpRequest, code: str, customer_code: str) -> HttpResponse:
    """``customer add-contact CODE NAME``: one more contact, beyond the one the customer
    form adds."""

    def act(ws: Workspace, customer: Target) -> object:
        return contact_add(actor=request.user, company=ws.company, code=customer.code,
                           contact=_contact(request))

    return customer_write(request, code, customer_code, "contact_add", act,
                           gettext("The contact is added."))


def _contact_named(request: HttpRequest) -> tuple[str, int | None]:
    """How a form names a contact: its id (``contact``), else its address (``was``); an id
    that is not a number names no contact (the service says so)."""
    raw = str(request.POST.get("contact", "")).strip()
    contact_id = int(raw) if raw.isdigit() else (0 if raw else None)
    return str(request.POST.get("was", "")).strip()[:254], contact_id


@login_required
@require_POST
def customer_contact_edit(request: HttpRequest, code: str, customer_code: str
                          ) -> HttpResponse:
    """``customer contact CODE --id ID``: the contact changed (its name, address, phone,
    roles, language), and trusted again if it had bounced. Named by its id, as a contact
    without an e-mail address can only be (``was``, its address, is read too)."""
    email, contact_id = _contact_named(request)

    def act(ws: Workspace, customer: Target) -> object:
        return contact_update(actor=request.user, company=ws.company, code=customer.code,
                              email=email, contact_id=contact_id, changes=_contact(request))

    return customer_write(request, code, customer_code, "contact_edit", act,
                           gettext("The contact is changed."))


@login_required
@require_POST
def customer_contact_remove(request: HttpRequest, code: str, customer_code: str
                            ) -> HttpResponse:
    """``customer remove-contact CODE --id ID``: the contact removed."""
    email, contact_id = _contact_named(request)

    def act(ws: Workspace, customer: Target) -> object:
        return contact_remove(actor=request.user, company=ws.company, code=customer.code,
                              email=email, contact_id=contact_id)

    def done(before: Any) -> str:
        return gettext("The contact %(name)s is removed.") % {"name": before["name"]}

    return customer_write(request, code, customer_code, "contact_edit", act, done)


@login_required
@require_POST
def customer_data_view(request: HttpRequest, code: str, customer_code: str) -> HttpResponse:
    """``customer export-data CODE``, a manager's: the customer's personal data as a zip
    (``customer.json`` and its documents' files), or the JSON alone. A POST: the export is
    audited (``customer.data_export``)."""
    ws = workspace(request, code)
    detail = or_404(customer_detail, ws.company, customer_code)
    if not may(ws, MANAGES):
        return not_for_role(request, ws, MANAGES)
    archive = request.POST.get("format") != "json"
    try:
        content, _counts = customer_data_export(actor=request.user, company=ws.company,
                                                code=detail["code"], archive=archive)
    except LedgerError as exc:
        return refused(request, ws, exc)
    name = f"{ws.company.code}-{detail['code']}-data.{'zip' if archive else 'json'}"
    response = HttpResponse(content, content_type="application/zip" if archive
                            else "application/json")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def customer_anonymise_view(request: HttpRequest, code: str, customer_code: str
                            ) -> HttpResponse:
    """``customer anonymise CODE``, a manager's: its personal data erased (refused while
    something is open for it: the service's and the apps' above refusal is shown). The code
    typed again confirms it, as nothing brings the data back."""

    def act(ws: Workspace, customer: Target) -> object:
        if str(request.POST.get("confirm", "")).strip() != customer.code:
            raise ValidationFailed(f"type the customer's code {customer.code} to confirm",
                                   field="confirm")
        return customer_anonymise(actor=request.user, company=ws.company, code=customer.code,
                                  as_of=ws.as_of)

    def done(result: Any) -> str:
        return (gettext("The customer was anonymised before: nothing was done.")
                if result.already else gettext("The customer's personal data is erased."))

    return customer_write(request, code, customer_code, "anonymise", act, done,
                          minimum=MANAGES)
