"""The settings pages: the company's profile and seller details, its users and their
roles, payment terms, bank accounts, exchange rates, document templates and the closing of
periods. Each page reads through a selector; each form calls the service the command line
calls (``company set``, ``user add|role``, ``terms add``, ``bank account add``, ``fx rate
add``, ``template set|preview``, ``period close``, ``report pack --schedule``), which
checks the role and the values and audits the change. Every member may read these pages;
the forms are offered to the roles that may use them, and a refusal from a service is shown
as the command line shows it (``code: message``), on the same page, answered 400 (403 for a
role that may not)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from salesledger.apps.core.access import user_two_factor_reset
from salesledger.apps.core.selectors import company_members
from salesledger.apps.core.services import (
    company_close_period,
    company_profile_update,
    user_add,
    user_remove,
    user_role,
)
from salesledger.apps.customers.selectors import payment_terms_list
from salesledger.apps.customers.services import payment_terms_create, payment_terms_update
from salesledger.apps.documents.messages import PLACEHOLDERS
from salesledger.apps.documents.selectors import (
    document_template_source,
    named_message_texts,
    template_overrides,
)
from salesledger.apps.documents.services import (
    check_document_template,
    document_template_reset,
    document_template_set,
    message_template_reset,
    message_template_set,
)
from salesledger.apps.fx.selectors import rate_list
from salesledger.apps.fx.services import rate_add, rates_import_csv, rates_import_ecb
from salesledger.apps.ledger.banks import BankAccountSpec, bank_account_add, bank_accounts
from salesledger.apps.reporting.pack_sending import (
    pack_schedule_set,
    pack_schedule_show,
    pack_schedule_stop,
)
from salesledger.domain.errors import LedgerError, PermissionDenied, ValidationFailed
from salesledger.domain.pack_schedule import PACK_LANGUAGES
from salesledger.domain.terms import parse_terms

from .tenancy import Workspace, workspace
from .views import _page

GET_POST = require_http_methods(["GET", "HEAD", "POST"])
# The profile fields the page edits, in the order it shows them (company_profile_update
# checks each: the tax id for the country, the IBAN and BIC, the e-mail, the colour).
PROFILE_FORM = ("name", "legal_name", "address_line1", "address_line2", "postal_code", "city",
                "country", "tax_id", "registration_id", "email", "phone", "website", "iban",
                "bic", "brand_color", "document_footer", "legal_mentions")
LONG_TEXT = ("document_footer", "legal_mentions")
ROLES = ("owner", "manager", "clerk", "credit_controller", "collector", "viewer")
TEMPLATE_KINDS = ("invoice", "credit_note", "quote", "statement")
# The e-mails sent with documents, and the dunning reminder's (documents.messages)
MESSAGE_KINDS = tuple(PLACEHOLDERS)
MANAGERS = ("owner", "manager")


def _settings_page(request: HttpRequest, ws: Workspace, template: str, *,
                   error: LedgerError | None = None, **context: Any) -> HttpResponse:
    response = _page(request, ws, template, error=error, may_manage=ws.role in MANAGERS,
                     is_owner=ws.role == "owner", **context)
    if error is not None:
        response.status_code = 403 if isinstance(error, PermissionDenied) else 400
    return response


def _submit(request: HttpRequest, ws: Workspace, call: Callable[[], Any], done: str,
            render: Callable[[LedgerError], HttpResponse]) -> HttpResponse:
    """Run the service; on success back to the page (GET) with a notice, else the page
    again with what the service said."""
    try:
        call()
    except LedgerError as exc:
        return render(exc)
    messages.success(request, done)
    return redirect(request.path)


def _text(request: HttpRequest, name: str, limit: int = 2000) -> str:
    return request.POST.get(name, "").strip()[:limit]


@login_required
@GET_POST
def company(request: HttpRequest, code: str) -> HttpResponse:
    """The profile and seller details. Only the fields that changed are sent to the
    service, so the audit says what changed and nothing else."""
    ws = workspace(request, code)
    current = {f: getattr(ws.company, f) or "" for f in PROFILE_FORM}

    def render(error: LedgerError | None = None, values: dict[str, str] | None = None
               ) -> HttpResponse:
        shown = values or current
        return _settings_page(request, ws, "web/settings_company.html", error=error,
                              fields=[(f, f.replace("_", " "), shown[f], f in LONG_TEXT)
                                      for f in PROFILE_FORM])

    if request.method != "POST":
        return render()
    typed = {f: _text(request, f) for f in PROFILE_FORM}
    changed = {f: v for f, v in typed.items() if v != str(current[f])}
    if not changed:
        messages.info(request, _("Nothing changed."))
        return redirect(request.path)
    return _submit(request, ws,
                   lambda: company_profile_update(actor=request.user, company=ws.company,
                                                  **changed),
                   _("The company's details are saved."), lambda e: render(e, typed))


@login_required
@GET_POST
def users(request: HttpRequest, code: str) -> HttpResponse:
    """Members and roles: add a user (``user add``), change a role (``user role``), remove
    a member (``user remove``), reset a member's second factor (``user two-factor-reset``:
    a lost phone)."""
    ws = workspace(request, code)

    def render(error: LedgerError | None = None) -> HttpResponse:
        return _settings_page(request, ws, "web/settings_users.html", error=error,
                              members=company_members(ws.company), roles=ROLES)

    if request.method != "POST":
        return render()
    username, role = _text(request, "username", 150), _text(request, "role", 30)
    if request.POST.get("action") == "role":
        return _submit(request, ws, lambda: user_role(actor=request.user, company=ws.company,
                                                      username=username, role=role),
                       _("The role is changed."), render)
    if request.POST.get("action") == "remove":
        try:
            user_remove(actor=request.user, company=ws.company, username=username)
        except LedgerError as exc:
            return render(exc)
        messages.success(request, _("%(user)s is no longer a member of %(company)s.") % {
            "user": username, "company": ws.company.code})
        # an owner who removed themselves no longer sees this company's pages
        return redirect("/" if username == request.user.get_username() else request.path)
    if request.POST.get("action") == "two_factor_reset":
        try:
            removed = user_two_factor_reset(actor=request.user, company=ws.company,
                                            username=username)
        except LedgerError as exc:
            return render(exc)
        messages.success(request, _(
            "The authenticator of %(user)s is removed: they sign in with their password and "
            "set up the app again.") % {"user": username} if removed else _(
            "%(user)s had no authenticator: nothing to remove.") % {"user": username})
        return redirect(request.path)

    def add() -> None:
        if not username:
            raise ValidationFailed("a user name is needed", field="username")
        user_add(actor=request.user, company=ws.company, username=username, role=role,
                 email=_text(request, "email", 254), password=request.POST.get("password") or None)

    return _submit(request, ws, add, _("The user is added."), render)


def _terms_text(row: dict[str, Any]) -> str:
    """The compact terms text (``domain.terms.parse_terms``) of a listed row."""
    lines = row["instalments"]
    eom = ["eom" if x["end_of_month"] else "" for x in lines]
    if len(lines) == 1:
        text = f"{lines[0]['days']}{eom[0]}"
    else:
        text = ",".join(f"{Decimal(x['percent']).normalize():f}%:{x['days']}{e}"
                        for x, e in zip(lines, eom, strict=True))
    if Decimal(row["discount_percent"]):
        text += f" {Decimal(row['discount_percent']).normalize():f}%/{row['discount_days']}"
    return text


@login_required
@GET_POST
def terms(request: HttpRequest, code: str) -> HttpResponse:
    """Payment terms: the list, and a form for new ones (``terms add``)."""
    ws = workspace(request, code)

    def render(error: LedgerError | None = None) -> HttpResponse:
        rows = [{**t, "text": _terms_text(t)} for t in payment_terms_list(ws.company)]
        return _settings_page(request, ws, "web/settings_terms.html", error=error, rows=rows,
                              typed=request.POST)

    if request.method != "POST":
        return render()
    return _submit(request, ws, lambda: payment_terms_create(
        actor=request.user, company=ws.company, code=_text(request, "code", 40),
        name=_text(request, "name", 200), terms=parse_terms(_text(request, "schedule", 200))),
        _("The payment terms are added."), render)


@login_required
@GET_POST
def terms_edit(request: HttpRequest, code: str, terms_code: str) -> HttpResponse:
    ws = workspace(request, code)
    row = next((t for t in payment_terms_list(ws.company) if t["code"] == terms_code), None)
    if row is None:
        raise Http404("no such payment terms")

    def render(error: LedgerError | None = None) -> HttpResponse:
        typed = request.POST if request.method == "POST" else {
            "name": row["name"], "schedule": _terms_text(row)}
        return _settings_page(request, ws, "web/settings_terms_edit.html", error=error,
                              row=row, typed=typed)

    if request.method != "POST":
        return render()
    done = _submit(request, ws, lambda: payment_terms_update(
        actor=request.user, company=ws.company, code=terms_code,
        name=_text(request, "name", 200), terms=parse_terms(_text(request, "schedule", 200))),
        _("The payment terms are saved."), render)
    return redirect("web:settings_terms", ws.company.code) if done.status_code == 302 else done


@login_required
@GET_POST
def banks(request: HttpRequest, code: str) -> HttpResponse:
    """The company's bank accounts (``bank account add``)."""
    ws = workspace(request, code)

    def render(error: LedgerError | None = None) -> HttpResponse:
        return _settings_page(request, ws, "web/settings_banks.html", error=error,
                              rows=bank_accounts(ws.company), typed=request.POST)

    if request.method != "POST":
        return render()
    spec = BankAccountSpec(code=_text(request, "code", 20), name=_text(request, "name", 120),
                           iban=_text(request, "iban", 50), bic=_text(request, "bic", 11),
                           number=_text(request, "number", 40),
                           currency=_text(request, "currency", 3))
    return _submit(request, ws, lambda: bank_account_add(actor=request.user,
                                                         company=ws.company, spec=spec),
                   _("The bank account is added."), render)


@login_required
@GET_POST
def rates(request: HttpRequest, code: str) -> HttpResponse:
    """Exchange rates: the latest hundred, a form for one more (``fx rate add``) and one
    for a file of them (``fx rate import``: a ``date,currency,rate`` CSV or an ECB XML file,
    the format told by the name as the command tells it, or chosen)."""
    ws = workspace(request, code)

    def render(error: LedgerError | None = None) -> HttpResponse:
        return _settings_page(request, ws, "web/settings_rates.html", error=error,
                              rows=rate_list(ws.company, limit=100), typed=request.POST,
                              may_add=ws.role != "viewer",
                              problems=getattr(error, "problems", None))

    if request.method != "POST":
        return render()
    if request.POST.get("action") == "import":
        return _rates_import(request, ws, render)

    def add() -> None:
        day = day_param_post(request, "date") or ws.as_of
        rate_add(actor=request.user, company=ws.company, currency=_text(request, "currency", 3),
                 rate=_text(request, "rate", 40), day=day,
                 replace=request.POST.get("replace") == "on")

    return _submit(request, ws, add, _("The rate is recorded."), render)


def _rates_import(request: HttpRequest, ws: Workspace,
                  render: Callable[[LedgerError], HttpResponse]) -> HttpResponse:
    """The uploaded file, kept under its own name in a folder of its own while the import
    service reads it (the name is what the import batch and its refusals name)."""
    upload = request.FILES.get("file")
    fmt = request.POST.get("format", "")
    if upload is None:
        return render(ValidationFailed("choose a file of rates", field="file"))
    name = Path(upload.name or "rates.csv").name[:100] or "rates.csv"
    fmt = fmt if fmt in ("csv", "ecb") else ("ecb" if name.lower().endswith(".xml") else "csv")
    service = rates_import_ecb if fmt == "ecb" else rates_import_csv
    with tempfile.TemporaryDirectory(prefix="salesledger-rates-") as folder:
        path = Path(folder) / name
        with path.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        try:
            result = service(actor=request.user, company=ws.company, path=path,
                             force=request.POST.get("force") == "on")
        except LedgerError as exc:
            return render(exc)
    messages.success(request, _(
        "%(rates)s rates read from %(file)s: %(added)s new, %(unchanged)s unchanged, "
        "%(replaced)s replaced.") % {k: result[k] for k in (
            "rates", "file", "added", "unchanged", "replaced")})
    return redirect(request.path)


def day_param_post(request: HttpRequest, name: str) -> date | None:
    raw = request.POST.get(name, "").strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        raise ValidationFailed(f"{raw!r} is not a date (YYYY-MM-DD)", field=name) from None


@login_required
@GET_POST
def templates(request: HttpRequest, code: str) -> HttpResponse:
    """Document layouts and the e-mail texts sent with documents: which are the company's
    own, the source of one, and a form that previews a layout as a sample PDF (``template
    preview``), saves it (``template set``), which checks that it renders first, or goes
    back to the standard one (``template reset``); and the e-mail text of a kind (or a
    named text of it, a dunning level's) in a language, as ``template show --message``
    reads it, saved or reset as ``template set --message`` and ``template reset
    --message`` do."""
    ws = workspace(request, code)
    kind = request.GET.get("kind") or request.POST.get("kind") or "invoice"
    kind = kind if kind in TEMPLATE_KINDS else "invoice"
    language = (request.GET.get("language") or request.POST.get("language") or "")[:5]
    mkind = request.GET.get("mkind") or request.POST.get("mkind") or "invoice"
    mkind = mkind if mkind in MESSAGE_KINDS else "invoice"
    mlanguage = (request.GET.get("mlanguage") or request.POST.get("mlanguage") or "")[:5]
    mname = (request.GET.get("mname") or request.POST.get("mname") or "")[:40]
    action = request.POST.get("action", "")

    def render(error: LedgerError | None = None) -> HttpResponse:
        html = (request.POST.get("html") if request.method == "POST"
                and not action.startswith("message_") else None)
        source_text, source = document_template_source(ws.company, kind, language or "en")
        texts = named_message_texts(ws.company, mkind, mname, mlanguage or "en")
        typed = action == "message_save"
        return _settings_page(request, ws, "web/settings_templates.html", error=error,
                              overrides=template_overrides(ws.company), kinds=TEMPLATE_KINDS,
                              kind=kind, language=language, html=html or source_text,
                              source=source, message_kinds=MESSAGE_KINDS, mkind=mkind,
                              mlanguage=mlanguage, mname=mname, message_source=texts.source,
                              subject=request.POST.get("subject", "") if typed
                              else texts.subject,
                              body=request.POST.get("body", "") if typed else texts.body,
                              placeholders=PLACEHOLDERS[mkind])

    if request.method != "POST":
        return render()
    if action == "message_save":
        return _submit(request, ws, lambda: message_template_set(
            actor=request.user, company=ws.company, kind=mkind, language=mlanguage,
            subject=request.POST.get("subject", ""), body=request.POST.get("body", ""),
            name=mname), _("The e-mail text is saved."), render)
    if action == "message_reset":
        try:
            had = message_template_reset(actor=request.user, company=ws.company, kind=mkind,
                                         language=mlanguage, name=mname)
        except LedgerError as exc:
            return render(exc)
        messages.success(request, _("The standard e-mail text is used again.") if had else
                         _("That e-mail text was the standard one already: nothing changed."))
        return redirect(request.path)
    html = request.POST.get("html", "")
    if action == "preview":
        try:
            pdf = check_document_template(ws.company, kind, language, html)
        except LedgerError as exc:
            return render(exc)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{kind}-sample.pdf"'
        return response
    if action == "reset":
        # ``template reset``: the company's own layout of the kind and language removed
        try:
            had = document_template_reset(actor=request.user, company=ws.company, kind=kind,
                                          language=language)
        except LedgerError as exc:
            return render(exc)
        messages.success(request, _("The standard layout is used again.") if had else
                         _("That layout was the standard one already: nothing changed."))
        return redirect(request.path)
    return _submit(request, ws, lambda: document_template_set(
        actor=request.user, company=ws.company, kind=kind, language=language, html=html),
        _("The layout is saved."), render)


@login_required
@GET_POST
def period(request: HttpRequest, code: str) -> HttpResponse:
    """Close the books through a day (``period close``, a manager's)."""
    ws = workspace(request, code)

    def render(error: LedgerError | None = None) -> HttpResponse:
        return _settings_page(request, ws, "web/settings_period.html", error=error,
                              lock_date=ws.company.lock_date)

    if request.method != "POST":
        return render()

    def close() -> None:
        through = day_param_post(request, "through")
        if through is None:
            raise ValidationFailed("give the last day of the period to close", field="through")
        company_close_period(actor=request.user, company=ws.company, through=through)

    return _submit(request, ws, close, _("The period is closed."), render)



# The pack's languages, each named in itself.
PACK_LANGUAGE_NAMES = [(code, {"en": "English", "fr": "Français", "de": "Deutsch"}[code])
                       for code in PACK_LANGUAGES]


@login_required
@GET_POST
def pack(request: HttpRequest, code: str) -> HttpResponse:
    """The monthly receivables pack by e-mail (``report pack --schedule set|stop``, a
    manager's): the day of the month and the users who receive it; the packs sent."""
    ws = workspace(request, code)

    def render(error: LedgerError | None = None) -> HttpResponse:
        shown = pack_schedule_show(ws.company)
        schedule = shown["schedule"] or {}
        chosen = set(schedule.get("users", []))
        languages = schedule.get("languages", {})
        # each member: name, e-mail, chosen, the language the pack goes to them in (the
        # command's --to USER:LANG)
        members = [(m["username"], m["email"], m["username"] in chosen,
                    languages.get(m["username"], "en"))
                   for m in company_members(ws.company)]
        who = ", ".join(u if languages.get(u, "en") == "en" else f"{u} ({languages[u]})"
                        for u in schedule.get("users", []))
        return _settings_page(request, ws, "web/settings_pack.html", error=error,
                              schedule=shown["schedule"], sent=shown["sent"], members=members,
                              who=who, languages=PACK_LANGUAGE_NAMES)

    if request.method != "POST":
        return render()
    if request.POST.get("action") == "stop":
        return _submit(request, ws, lambda: pack_schedule_stop(actor=request.user,
                                                               company=ws.company),
                       _("The pack is no longer sent."), render)

    def save() -> None:
        raw = _text(request, "day", 3)
        if not raw.isdigit():
            raise ValidationFailed("give the day of the month, 1 to 31 (31: the last day)",
                                   field="day")
        users = []
        for name in (u[:150] for u in request.POST.getlist("users")):
            # the language chosen beside the user (none sent: the one chosen before)
            language = _text(request, f"language-{name}", 5)
            users.append(f"{name}:{language}" if language else name)
        pack_schedule_set(actor=request.user, company=ws.company, day=int(raw), users=users,
                          as_of=ws.as_of)

    return _submit(request, ws, save, _("The pack's schedule is saved."), render)
