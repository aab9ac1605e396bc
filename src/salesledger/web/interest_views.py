"""Late-payment interest written in the browser: the reference rates (one from a day, as
``dunning rate add``, or a CSV file of them, as ``dunning rate import FILE``: both
``dunning.services.rates_add``, the file read by ``rates_read_csv``, all or nothing, every bad
line named) and the rule of a customer country (``dunning.services.interest_rule_set``, as
``dunning interest set``: the margin over the reference rate, the fixed compensation per
invoice to businesses, the VAT of the levels' fees). A manager's work: the services check
the role again. Everyone who reads the policies reads this page (``interest_rule_list``,
``rate_list``).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from salesledger.apps.dunning.selectors import interest_rule_list, rate_list
from salesledger.apps.dunning.services import (
    RateRow,
    interest_rule_set,
    parse_percent,
    rates_add,
    rates_read_csv,
)
from salesledger.domain.amounts import amount_minor, parse_decimal
from salesledger.domain.errors import LedgerError, ValidationFailed

from .forms import ServiceForm, amount, day, text
from .tenancy import Workspace, workspace
from .writing import MANAGES, may, not_for_role, page, refused

# A rate file is a few lines a year; this is far more than any central bank publishes.
MAX_RATE_FILE = 1024 * 1024


class RateForm(ServiceForm):
    valid_from = day(_("Valid from"))
    percent = text(_("Reference rate (percent)"), required=True, max_length=12, inputmode="decimal")
    source = text(_("Source (e.g. ECB MRO)"), max_length=60)


class RateFileForm(ServiceForm):
    file = forms.FileField(label=_("CSV file: valid_from,percent[,source] with a header line"))


class InterestForm(ServiceForm):
    country = text(_("Customer country (ISO code; blank: every other country)"), max_length=2,
                   autocomplete="off")
    margin = text(_("Margin over the reference rate (points)"), required=True, max_length=12,
                  inputmode="decimal")
    compensation = amount(_("Fixed compensation per invoice to businesses (blank: none)"),
                          required=False)
    currency = text(_("Currency of the compensation (blank: the company's)"), max_length=3,
                    autocomplete="off")
    fee_vat = text(_("VAT rate of the levels' fees, in % (blank: not subject to VAT)"),
                   max_length=12, inputmode="decimal")


def _add_rate(request: HttpRequest, ws: Workspace, form: RateForm) -> str:
    v = form.cleaned_data
    row = RateRow(v["valid_from"], parse_percent(v["percent"], "percent"), v["source"].strip())
    rates_add(actor=request.user, company=ws.company, rows=[row])
    return gettext("Reference rate %(percent)s %% from %(day)s added.") % {
        "percent": row.percent, "day": row.valid_from.isoformat()}


def _import_rates(request: HttpRequest, ws: Workspace, form: RateFileForm) -> str:
    content = form.cleaned_data["file"].read(MAX_RATE_FILE + 1)
    if len(content) > MAX_RATE_FILE:
        raise ValidationFailed("the rate file is over 1 MB: it is not a file of reference "
                               "rates", field="file")
    try:
        text_ = content.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("the rate file is not UTF-8 text", field="file") from None
    n = rates_add(actor=request.user, company=ws.company, rows=rates_read_csv(text_))
    return gettext("%(n)s reference rate(s) imported.") % {"n": n}


def _set_rule(request: HttpRequest, ws: Workspace, form: InterestForm) -> str:
    v = form.cleaned_data
    cur = (v["currency"].strip() or ws.company.base_currency).upper()
    raw = v["compensation"].strip()
    comp = amount_minor(parse_decimal(raw, "compensation"), cur,
                        field="compensation") if raw else 0
    vat = parse_percent(v["fee_vat"], "fee_vat") if v["fee_vat"].strip() else None
    rule = interest_rule_set(actor=request.user, company=ws.company, country=v["country"],
                             margin=parse_percent(v["margin"], "margin"), compensation=comp,
                             compensation_currency=cur if comp else "", fee_vat_rate=vat)
    return gettext("Late-payment interest for %(country)s saved.") % {
        "country": rule.country or gettext("every other country")}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def interest(request: HttpRequest, code: str) -> HttpResponse:
    """The interest rules and reference rates, and a manager's three forms (``action``:
    ``rate``, ``import`` or ``rule``); a refusal goes beside its field, the form kept."""
    ws = workspace(request, code)
    action = request.POST.get("action", "")
    posted = request.POST if request.method == "POST" else None
    rate = RateForm(posted if action == "rate" else None, prefix="rate")
    upload = RateFileForm(posted if action == "import" else None,
                          request.FILES if action == "import" else None, prefix="import")
    rule = InterestForm(posted if action == "rule" else None, prefix="rule",
                        initial={"margin": "8"})
    status = 200
    if request.method == "POST":
        if not may(ws, MANAGES):
            return not_for_role(request, ws, MANAGES)
        forms_: dict[str, ServiceForm] = {"rate": rate, "import": upload, "rule": rule}
        if action not in forms_:
            return refused(request, ws, ValidationFailed(
                f"unknown action {action[:40]!r}: rate, import or rule", field="action"))
        form = forms_[action]
        if form.is_valid():
            try:
                said = (_add_rate(request, ws, rate) if action == "rate" else
                        _import_rates(request, ws, upload) if action == "import" else
                        _set_rule(request, ws, rule))
            except LedgerError as exc:
                if exc.http_status == 403:
                    return refused(request, ws, exc)
                form.refuse(exc)
                status = 409
            else:
                messages.success(request, said)
                return redirect(request.path)
        else:
            status = 400
    response = page(request, ws, "web/dunning/interest.html", rate_form=rate,
                    upload=upload, rule_form=rule, rules=interest_rule_list(ws.company),
                    rates=rate_list(ws.company))
    response.status_code = status
    return response
