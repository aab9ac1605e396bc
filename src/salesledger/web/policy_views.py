"""Dunning policies written in the browser: a new policy (``dunning.services.policy_add``, as
``dunning policy add``) and a policy's name, minimum, levels and default changed
(``dunning.services.policy_edit``). A manager's work: the services check the role again.

Each level is a row of the form: its days from the due date, its name, its channels, its fee
(``15.00`` or ``2%``, read by ``domain.dunning_policy.parse_fee`` as the command line reads
``--level``), its options and the name of the text it sends. The text itself, a version per
language, is written on the level's text page (``level_text``: ``dunning.services
.level_text_set``, as ``dunning policy text`` writes it). A refusal of the rules
(``check_levels``, ``check_policy_edit``) names the row and the field it is about, and is
shown there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from salesledger.apps.documents.labels import LANGUAGES
from salesledger.apps.dunning.selectors import level_texts, policy_show
from salesledger.apps.dunning.services import (
    level_name_set,
    level_text_set,
    policy_add,
    policy_edit,
)
from salesledger.domain.amounts import amount_minor, parse_decimal
from salesledger.domain.dunning import Level
from salesledger.domain.dunning_policy import parse_fee
from salesledger.domain.errors import LedgerError, ValidationFailed
from salesledger.money import major_text

from .forms import ServiceForm, amount, text
from .tenancy import Workspace, or_404, workspace
from .writing import MANAGES, may, not_for_role, page, refused

# Blank rows offered for new levels under the policy's own.
NEW_ROWS = 2
OPTIONS = ("interest", "hold", "agency")


class PolicyForm(ServiceForm):
    code = text(_("Code"), required=True, max_length=40, autocomplete="off")
    name = text(_("Name"), max_length=200)
    min_amount = amount(_("Minimum a message asks for (blank: none)"), required=False)
    default = forms.BooleanField(label=_("The company's default policy"), required=False)


class LevelForm(ServiceForm):
    number = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    days = forms.IntegerField(label=_("Days after the due date (negative: before)"),
                              required=False, min_value=-366, max_value=3660)
    name = text(_("Name the customer reads"), max_length=100)
    email = forms.BooleanField(label=_("By e-mail"), required=False)
    letter = forms.BooleanField(label=_("By letter (PDF, attached to the e-mail)"),
                                required=False)
    call = forms.BooleanField(label=_("A call for the collector"), required=False)
    fee = text(_("Fee (15.00, or 2% of the overdue amount; blank: none)"), max_length=20,
               inputmode="decimal")
    interest = forms.BooleanField(label=_("Late-payment interest"), required=False)
    hold = forms.BooleanField(label=_("Put the customer on credit hold"), required=False)
    agency = forms.BooleanField(label=_("Hand the file to a collection agency"),
                                required=False)
    template = text(_("Text it sends (a name; blank: the company's reminder text)"),
                    max_length=40, autocomplete="off")
    remove = forms.BooleanField(label=_("Remove this level"), required=False)

    def blank(self) -> bool:
        v = self.cleaned_data
        return not v.get("number") and v.get("days") is None and not v.get("name", "").strip()

    def level(self, currency: str) -> Level:
        v = self.cleaned_data
        if v.get("days") is None:
            raise ValidationFailed("give the level's days from the due date", field="days")
        fixed, percent = parse_fee(v.get("fee", ""), currency)
        channels = tuple(c for c in ("email", "letter", "call") if v.get(c))
        return Level(v.get("number") or 0, v["days"], v.get("name", "").strip(), channels,
                     fixed, percent, v.get("interest", False), v.get("hold", False),
                     v.get("agency", False), v.get("template", "").strip())


def _level_initial(lv: dict[str, Any], currency: str) -> dict[str, Any]:
    fee = (major_text(lv["fee_fixed"], currency) if lv["fee_fixed"]
           else f"{lv['fee_percent']}%" if float(lv["fee_percent"]) else "")
    return {"number": lv["number"], "days": lv["days"], "name": lv["name"], "fee": fee,
            "template": lv["template"],
            **{c: c in lv["channels"] for c in ("email", "letter", "call")},
            **{o: lv[o] for o in OPTIONS}}


def _rows(data: Any, existing: list[dict[str, Any]], currency: str) -> list[LevelForm]:
    rows = [LevelForm(data, prefix=f"level-{i}", initial=_level_initial(lv, currency))
            for i, lv in enumerate(existing)]
    rows += [LevelForm(data, prefix=f"level-{i}", initial={"email": True})
             for i in range(len(existing), len(existing) + NEW_ROWS)]
    if not existing:
        rows[0].fields["remove"].widget = forms.HiddenInput()
    for row in rows[len(existing):]:
        row.fields["remove"].widget = forms.HiddenInput()
    return rows


def _levels(rows: list[LevelForm], currency: str) -> tuple[list[Level], list[LevelForm]] | None:
    """The levels wanted and the row each came from; None when a row's own fields are
    wrong (each is then shown on its row)."""
    levels, used, ok = [], [], True
    for row in rows:
        if not row.is_valid():
            ok = False
            continue
        if row.blank() or row.cleaned_data.get("remove"):
            continue
        try:
            levels.append(row.level(currency))
            used.append(row)
        except LedgerError as exc:
            row.refuse(exc)
            ok = False
    return (levels, used) if ok else None


def _refuse(exc: LedgerError, form: PolicyForm, used: list[LevelForm]) -> None:
    """A refusal beside what it is about: a level's row and field, else the policy's field."""
    row = exc.fields.get("row")
    if isinstance(row, int) and 1 <= row <= len(used):
        target = used[row - 1]
        attr = str(exc.fields.get("attr", ""))
        target.add_error(attr if attr in target.fields and attr != "number" else None,
                         str(exc))
        return
    form.refuse(exc, min_amount="min_amount")


def _minimum(form: PolicyForm, currency: str) -> int:
    raw = (form.value("min_amount") or "").strip()
    return amount_minor(parse_decimal(raw, "minimum"), currency, field="min_amount") if raw else 0


def _answer(request: HttpRequest, ws: Workspace, form: PolicyForm, rows: list[LevelForm],
            status: int, p: dict[str, Any] | None) -> HttpResponse:
    response = page(request, ws, "web/dunning/policy_form.html", form=form, rows=rows, p=p,
                    base=ws.company.base_currency,
                    errors=any(r.errors for r in rows) or bool(form.errors))
    response.status_code = status
    return response


def _save(request: HttpRequest, ws: Workspace, form: PolicyForm, rows: list[LevelForm],
          write: Callable[[list[Level]], str], p: dict[str, Any] | None) -> HttpResponse:
    """Read the posted policy and its level rows, hand them to ``write`` (the service), and
    go to the policy's page; else the form again, each refusal beside its field."""
    parsed = _levels(rows, ws.company.base_currency)
    if not form.is_valid() or parsed is None:
        return _answer(request, ws, form, rows, 400, p)
    levels, used = parsed
    try:
        code = write(levels)
    except LedgerError as exc:
        if exc.http_status == 403:
            return refused(request, ws, exc)
        _refuse(exc, form, used)
        return _answer(request, ws, form, rows, 409, p)
    return redirect(reverse("web:dunning_policy", args=[ws.company.code, code]))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def policy_new(request: HttpRequest, code: str) -> HttpResponse:
    """A new policy with its levels (``dunning policy add``)."""
    ws = workspace(request, code)
    if not may(ws, MANAGES):
        return not_for_role(request, ws, MANAGES)
    cur = ws.company.base_currency
    form = PolicyForm(request.POST or None)
    rows = _rows(request.POST or None, [], cur)
    if request.method != "POST":
        return _answer(request, ws, form, rows, 200, None)

    def write(levels: list[Level]) -> str:
        made = policy_add(actor=request.user, company=ws.company, code=form.value("code"),
                          name=form.value("name").strip(), levels=levels,
                          min_amount=_minimum(form, cur), default=form.value("default"))
        messages.success(request, gettext("Dunning policy %(code)s added.")
                         % {"code": made.code})
        return made.code

    return _save(request, ws, form, rows, write, None)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def policy_change(request: HttpRequest, code: str, policy_code: str) -> HttpResponse:
    """A policy's name, minimum, levels and default (``dunning.services.policy_edit``)."""
    ws = workspace(request, code)
    p = or_404(policy_show, ws.company, policy_code[:40])
    if not may(ws, MANAGES):
        return not_for_role(request, ws, MANAGES)
    cur = ws.company.base_currency
    form = PolicyForm(request.POST or None, initial={
        "code": p["code"], "name": p["name"], "default": p["default"],
        "min_amount": major_text(p["min_amount"], cur) if p["min_amount"] else ""})
    form.fields["code"].disabled = True
    rows = _rows(request.POST or None, p["levels"], cur)
    if request.method != "POST":
        return _answer(request, ws, form, rows, 200, p)

    def write(levels: list[Level]) -> str:
        policy_edit(actor=request.user, company=ws.company, code=p["code"],
                    name=form.value("name"), levels=levels, min_amount=_minimum(form, cur),
                    default=form.value("default"))
        messages.success(request, gettext("Dunning policy %(code)s saved: the next run "
                                          "follows it.") % {"code": p["code"]})
        return str(p["code"])

    return _save(request, ws, form, rows, write, p)


class LevelTextForm(ServiceForm):
    subject = text(_("Subject (and the letter's title)"), required=True, max_length=200)
    body = forms.CharField(label=_("Text (the e-mail's body and the letter's)"), required=True,
                           widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "true"}))
    template = text(_("Name of the text (blank: the level's own, or CODE-LEVEL)"),
                    max_length=40, autocomplete="off")
    level_name = text(_("The level's name in this language (the heading of its items; "
                        "blank: its own name)"), max_length=100)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def level_text(request: HttpRequest, code: str, policy_code: str, number: int) -> HttpResponse:
    """The text a level sends, in one language (``?language=``; none: the version for every
    language): what a customer of each language receives, and a manager's form that writes
    the version (``dunning.services.level_text_set``, as ``dunning policy text`` does)."""
    ws = workspace(request, code)
    shown = or_404(level_texts, ws.company, policy_code[:40], number)
    language = (request.GET.get("language") or request.POST.get("language") or "")[:2]
    language = language if language in LANGUAGES else ""
    current = next((t for t in shown["texts"] if t["customer_language"] == (language or "en")),
                   shown["texts"][0])
    form = LevelTextForm(request.POST or None, initial={
        "subject": current["subject"], "body": current["body"],
        "template": shown["template"], "level_name": shown["names"].get(language, "")})
    if not language:  # the name for every language is the policy's form's
        del form.fields["level_name"]
    status = 200
    if request.method == "POST":
        if not may(ws, MANAGES):
            return not_for_role(request, ws, MANAGES)
        if form.is_valid():
            try:
                with transaction.atomic():
                    level_text_set(actor=request.user, company=ws.company,
                                   code=shown["policy"], number=number, language=language,
                                   subject=form.value("subject"), body=form.value("body"),
                                   template=form.value("template").strip())
                    if language:
                        level_name_set(actor=request.user, company=ws.company,
                                       code=shown["policy"], number=number,
                                       language=language, name=form.value("level_name"))
            except LedgerError as exc:
                if exc.http_status == 403:
                    return refused(request, ws, exc)
                form.refuse(exc, name="template")
                status = 409
            else:
                messages.success(request, gettext("The text of level %(n)s is saved.")
                                 % {"n": number})
                return redirect(request.get_full_path())
        else:
            status = 400
    response = page(request, ws, "web/dunning/level_text.html", shown=shown, form=form,
                    language=language, languages=LANGUAGES, manages=may(ws, MANAGES))
    response.status_code = status
    return response
