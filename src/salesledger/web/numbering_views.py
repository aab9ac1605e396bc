"""Two settings pages: numbering and tax.

- Numbering: the series (invoices, credit notes, receipts) by fiscal year, each with its
  prefix and the last number taken (``core.selectors.number_counters``); a manager sets the
  prefix of a year that has taken no number yet (``core.services.number_prefix_set``: a
  number issued keeps how it was written).
- Tax: what the company's documents apply. VAT on debits (``core.services.
  company_profile_update``, as ``company set --vat-on-debits``), the tax policy of
  early-payment discounts and the write-off tolerance (``settlement_settings_set``), all
  changed in one transaction by ``payments.adjustments.settings.tax_settings_set``, as
  ``adjustment settings`` changes them; the tax rounding (set when the
  company is made), the VAT categories and the exemption reason codes the documents take
  are shown as reference. There are no rate tables: each line states its rate, checked by
  the pure core with its category.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from salesledger.apps.core.selectors import number_counters
from salesledger.apps.core.services import SERIES_PREFIX, number_prefix_set
from salesledger.apps.payments.adjustments.settings import (
    settlement_settings,
    tax_settings_set,
)
from salesledger.domain.amounts import parse_decimal
from salesledger.domain.einvoice_rules import VATEX_CODES
from salesledger.domain.errors import LedgerError, PermissionDenied
from salesledger.domain.numbering import fiscal_year, format_number
from salesledger.money import Money

from .forms import TAX_CATEGORIES
from .settings_views import GET_POST, _settings_page, _submit, _text
from .tenancy import workspace
from .writing import MANAGES, may

SERIES_NAMES = {"INV": gettext_lazy("Invoices"), "CN": gettext_lazy("Credit notes"),
                "RCT": gettext_lazy("Receipts")}
DISCOUNT_TAX_POLICIES = ("gross", "adjust_vat")


@login_required
@GET_POST
def numbering(request: HttpRequest, code: str) -> HttpResponse:
    ws = workspace(request, code)
    year = fiscal_year(ws.as_of, ws.company.fiscal_year_start)

    def render(error: LedgerError | None = None) -> HttpResponse:
        rows = [{**r, "next": format_number(r["prefix"], r["fiscal_year"], r["last"] + 1),
                 "name": SERIES_NAMES.get(r["series"], r["series"]), "open": r["last"] == 0}
                for r in number_counters(ws.company)]
        return _settings_page(request, ws, "web/settings_numbering.html", error=error,
                              rows=rows, series=SERIES_PREFIX, names=SERIES_NAMES, year=year,
                              typed=request.POST)

    if request.method != "POST":
        return render()
    raw_year = _text(request, "fiscal_year", 6)
    return _submit(request, ws, lambda: number_prefix_set(
        actor=request.user, company=ws.company, series=_text(request, "series", 10),
        fiscal_year=int(raw_year) if raw_year.isdigit() else 0,
        prefix=_text(request, "prefix", 40)), _("The prefix is set."), render)


@login_required
@GET_POST
def tax(request: HttpRequest, code: str) -> HttpResponse:
    ws = workspace(request, code)
    company = ws.company

    def render(error: LedgerError | None = None) -> HttpResponse:
        s = settlement_settings(company)
        shown = request.POST if request.method == "POST" else {
            "vat_on_debits": "yes" if company.vat_on_debits else "no",
            "discount_tax_policy": s.discount_tax_policy.value,
            "write_off_amount": format(Money.from_minor(s.tolerance.amount,
                                                        company.base_currency).amount, "f"),
            "write_off_percent": format(s.tolerance.percent.normalize(), "f")}
        return _settings_page(request, ws, "web/settings_tax.html", error=error,
                              typed=shown, categories=TAX_CATEGORIES,
                              exemptions=sorted(VATEX_CODES), policies=DISCOUNT_TAX_POLICIES,
                              tax_rounding=company.tax_rounding)

    if request.method != "POST":
        return render()
    if not may(ws, MANAGES):  # a post that changes nothing is refused to a clerk all the same
        return render(PermissionDenied(f"{request.user} needs the manager role in "
                                       f"{company.code} for this"))

    def save() -> None:
        # Only what changed is sent, so the audit says what changed; the service changes it
        # all in one transaction, or nothing.
        amount, percent = _text(request, "write_off_amount", 40), _text(
            request, "write_off_percent", 40)
        policy = _text(request, "discount_tax_policy", 20)
        before = settlement_settings(company)
        changed: dict[str, Any] = {}
        if amount and parse_decimal(amount, "write_off_amount") != Money.from_minor(
                before.tolerance.amount, company.base_currency).amount:
            changed["writeoff_tolerance_amount"] = parse_decimal(amount, "write_off_amount")
        if percent and parse_decimal(percent, "write_off_percent") != before.tolerance.percent:
            changed["writeoff_tolerance_percent"] = parse_decimal(percent, "write_off_percent")
        if policy and policy != before.discount_tax_policy.value:
            changed["discount_tax_policy"] = policy
        vat = _text(request, "vat_on_debits", 5)
        if vat and vat != ("yes" if company.vat_on_debits else "no"):
            changed["vat_on_debits"] = vat
        if changed:
            tax_settings_set(actor=request.user, company=company, **changed)

    return _submit(request, ws, save, _("The tax settings are saved."), render)
