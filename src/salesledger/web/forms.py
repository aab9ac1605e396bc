"""The workspace's forms: they read what was typed as text and hand it to a service; the
service decides. No rule of the business is checked here (the customer's tax id, an IBAN, a
line's tax rate, what an allocation may take): a form only knows which control a refusal
belongs to, so that the service's own message, the one the command line prints, is shown
next to the field it is about.

``ServiceForm.refuse`` maps a ``LedgerError`` to a field: the error's ``field`` (the
services name the field they refuse: ``field="country"``), else the first of its named
values that is a field of the form (``iban=``, ``tax_id=``, ``line=``), else the form as a
whole. A line's error (``line=2``) goes to that line of a document's lines.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from salesledger.domain.errors import LedgerError

# How receipts arrive (payments' methods; the service refuses any other).
METHODS = (("bank_transfer", _("Bank transfer")), ("card", _("Card")), ("cheque", _("Cheque")),
           ("cash", _("Cash")), ("direct_debit", _("Direct debit")), ("other", _("Other")))
# The allocation policies a receipt may be allocated by (payments.policies).
POLICIES = (("manual", _("The invoices I pick")), ("oldest_first", _("Oldest due first")),
            ("by_reference", _("The invoices its references name")),
            ("proportional", _("In proportion to what is open")))
DEDUCTIONS = (("pricing", _("Pricing")), ("damaged_goods", _("Damaged goods")),
              ("freight", _("Freight")), ("promotional_allowance", _("Promotional allowance")),
              ("tax", _("Tax")), ("other", _("Other")))
TAX_CATEGORIES = (("S", _("Standard rate")), ("Z", _("Zero rated")), ("E", _("Exempt")),
                  ("AE", _("Reverse charge")), ("K", _("Intra-community supply")),
                  ("G", _("Export outside the EU")), ("O", _("Not subject to VAT")))


def text(label: Any, *, required: bool = False, max_length: int = 200,
         **attrs: str) -> forms.CharField:
    return forms.CharField(label=label, required=required, max_length=max_length,
                           widget=forms.TextInput(attrs=attrs or None))


def day(label: Any, *, required: bool = True) -> forms.DateField:
    return forms.DateField(label=label, required=required,
                           widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


def amount(label: Any, *, required: bool = True) -> forms.CharField:
    """An amount as typed, in major units ("1200.50"): the service reads it."""
    return text(label, required=required, max_length=30, inputmode="decimal")


class MultipleFileInput(forms.ClearableFileInput):
    """``<input type="file" multiple>``."""

    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one control: a list of the uploads (empty when none was chosen).
    What each may be is the service's to say."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        one = super().clean
        if isinstance(data, list | tuple):
            return [one(d, initial) for d in data if d]
        return [one(data, initial)] if data else []


class ServiceForm(forms.Form):
    """A form whose refusals come from a service (see the module docstring)."""

    required_css_class = "required"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def refuse(self, exc: LedgerError, **aliases: str) -> None:
        """Show ``exc`` next to the field it is about; ``aliases`` rename the services'
        field names to the form's (``parent="parent_code"``)."""
        named = [exc.fields.get("field")] + list(exc.fields)
        for name in named:
            if not isinstance(name, str):
                continue
            name = aliases.get(name, name)
            if name in self.fields:
                self.add_error(name, str(exc))
                return
        self.add_error(None, str(exc))

    def value(self, name: str) -> Any:
        return self.cleaned_data.get(name)


class TermsForm(ServiceForm):
    """The head of a document (a draft, a quote, a schedule) with its payment terms, a
    choice among the company's (``terms``: ``customers.selectors.payment_terms_list``);
    blank: the customer's. A subclass names its fields' order (``field_order``)."""

    terms = forms.ChoiceField(label=_("Payment terms"), required=False)

    def __init__(self, *args: Any, terms: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["terms"].choices = [("", _("The customer's"))] + [
            (t["code"], f"{t['code']} · {t['name']}") for t in terms]
