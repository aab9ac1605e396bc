"""Collections in the browser: the collector's worklist, the customer's timeline (notes,
calls, inbound replies), disputes, promises to pay and payment plans. Each form hands what
was typed to the collections service the command line calls for the same action, and shows
its refusal in its words:

- the worklist: ``collections.selectors.worklist``; assigning: ``worklist_assign`` (manager);
- the timeline: ``customer_timeline``; a note or an inbound reply: ``customer_note_add``; a
  call: ``customer_call_log``; a reply handled: ``reply_handle``;
- disputes: ``disputes_list``, ``dispute_get``; ``dispute_open``, ``dispute_resolve`` (a credit
  note issued from one line, a posted credit note, or a write-off), ``dispute_reject``;
- promises: ``promises_list``; ``promise_add``; plans: ``plans_list``, ``plan_get``;
  ``plan_create`` (promises and plans are a collector's: ``Capability.COLLECT``).

Every write is dated the workspace's day (today in the company's time zone, or ``?as_of=``),
as the command line dates them with ``--as-of``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from salesledger.apps.collections.ranking import worklist_ranked
from salesledger.apps.collections.selectors import (
    customer_timeline,
    dispute_attachment,
    dispute_attachments,
    dispute_get,
    disputes_list,
    plan_get,
    plans_list,
    promises_list,
    worklist,
)
from salesledger.apps.collections.services import (
    Attachment,
    DisputeSpec,
    customer_call_log,
    customer_note_add,
    dispute_open,
    dispute_reject,
    dispute_resolve,
    plan_create,
    promise_add,
    reply_handle,
    worklist_assign,
)
from salesledger.apps.core.selectors import company_members, role_has_capability
from salesledger.apps.customers.selectors import customer_get
from salesledger.domain.amounts import parse_decimal
from salesledger.domain.errors import LedgerError, ValidationFailed

from .forms import TAX_CATEGORIES, MultipleFileField, ServiceForm, amount, day, text
from .invoice_views import blank_lines, posted_lines
from .params import PAGE_SIZE, choice_param, page_param, paged
from .tenancy import Workspace, or_404, workspace
from .writing import MANAGES, may, not_for_role, page, refused

# How many of a customer's exchanges its overview and an invoice's page show (newest last);
# the timeline page shows them all.
TIMELINE_ROWS = 20
COLLECT = "collect"

REASONS = (("pricing", _("Pricing")), ("quantity", _("Quantity")), ("quality", _("Quality")),
           ("not_received", _("Not received")), ("duplicate", _("Duplicate")),
           ("other", _("Other")))
OUTCOMES = (("reached", _("Reached")), ("no_answer", _("No answer")),
            ("voicemail", _("Voicemail")), ("wrong_number", _("Wrong number")),
            ("promised", _("Promised to pay")), ("refused", _("Refused to pay")))
DISPUTE_STATUSES = ("open", "resolved", "rejected")
PROMISE_STATES = ("live", "kept", "broken")
PLAN_STATES = ("live", "complete", "broken")


def may_collect(ws: Workspace) -> bool:
    """Whether the role may record promises and plans (the services check it again)."""
    return role_has_capability(ws.role, COLLECT)


def _members(ws: Workspace, *, collectors: bool = False) -> list[tuple[str, str]]:
    return [(m["username"], m["username"]) for m in company_members(ws.company)
            if m["role"] != "viewer"
            and (not collectors or role_has_capability(m["role"], COLLECT))]


def _failed(request: HttpRequest, ws: Workspace, exc: LedgerError, form: ServiceForm,
            **aliases: str) -> HttpResponse | None:
    """A refused role: the refused page; else the refusal goes into the form."""
    if exc.http_status == 403:
        return refused(request, ws, exc)
    form.refuse(exc, **aliases)
    return None


# ---------------------------------------------------------------- the worklist
class AssignForm(ServiceForm):
    customers = text(_("Customers (codes, separated by spaces or commas)"), required=True,
                     max_length=2000, autocomplete="off")
    collector = forms.ChoiceField(label=_("Collector"))
    next_action = day(_("Next action on"), required=False)

    def __init__(self, *args: Any, collectors: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["collector"].choices = collectors

    def codes(self) -> list[str]:
        return [c for c in self.value("customers").replace(",", " ").split() if c][:500]


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def worklist_page(request: HttpRequest, code: str) -> HttpResponse:
    """Who to chase on the day, ranked; a manager gives customers to a collector here."""
    ws = workspace(request, code)
    if request.method == "POST" and not may(ws):
        return not_for_role(request, ws, MANAGES)
    collectors = _members(ws, collectors=True)
    form = AssignForm(request.POST or None, collectors=collectors,
                      initial={"customers": request.GET.get("customer", "")[:40]})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                worklist_assign(actor=request.user, company=ws.company, customers=form.codes(),
                                collector=form.value("collector"), day=ws.as_of,
                                next_action=form.value("next_action"))
            except LedgerError as exc:
                if (answer := _failed(request, ws, exc, form, customer="customers")):
                    return answer
                status = 409
            else:
                messages.success(request, gettext("%(customers)s assigned to %(collector)s") % {
                    "customers": ", ".join(form.codes()), "collector": form.value("collector")})
                return redirect(request.get_full_path())
        else:
            status = 400
    collector = request.GET.get("collector", "").strip()[:150]
    page_no = page_param(request)
    # A page of the ranking the worker keeps for the day; without one (another day, or
    # before its first run), ranked here, then cut: risk is read for this page's customers.
    cut = {"collector": collector, "offset": (page_no - 1) * PAGE_SIZE,
           "limit": PAGE_SIZE + 1}
    kept = worklist_ranked(ws.company, as_of=ws.as_of, **cut)
    rows = kept if kept is not None else worklist(ws.company, as_of=ws.as_of, **cut)
    response = page(request, ws, "web/collections/worklist.html", form=form,
                    collector=collector, collectors=collectors, **paged(rows, page_no),
                    base=ws.company.base_currency, kept=kept is not None)
    response.status_code = status
    return response


# ---------------------------------------------------------------- the timeline
class NoteForm(ServiceForm):
    invoice = text(_("About invoice (optional)"), max_length=60)
    text = forms.CharField(label=_("Note"), max_length=4000,
                           widget=forms.Textarea(attrs={"rows": 3}))
    inbound_reply = forms.BooleanField(
        label=_("This is the customer's reply to a reminder (reminders wait until it is "
                "handled)"), required=False)

    field_order = ["text", "invoice", "inbound_reply"]


class CallForm(ServiceForm):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=OUTCOMES)
    notes = forms.CharField(label=_("What was said"), required=False, max_length=4000,
                            widget=forms.Textarea(attrs={"rows": 3}))
    invoice = text(_("About invoice (optional)"), max_length=60)


def timeline_context(ws: Workspace, customer_code: str, *, invoice: str = "",
                     rows: int | None = TIMELINE_ROWS, note_form: NoteForm | None = None,
                     call_form: CallForm | None = None) -> dict[str, Any]:
    """The timeline of a customer (or one of its invoices) and the forms that add to it,
    for the customer's overview, an invoice's page and the timeline page."""
    entries = customer_timeline(ws.company, customer_code, as_of=ws.as_of, invoice=invoice)
    shown = entries if rows is None else entries[-rows:]
    return {"timeline": shown, "timeline_more": len(entries) > len(shown),
            "timeline_customer": customer_code, "timeline_invoice": invoice,
            "note_form": note_form or NoteForm(initial={"invoice": invoice}, prefix="note"),
            "call_form": call_form or CallForm(initial={"invoice": invoice}, prefix="call")}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def timeline(request: HttpRequest, code: str, customer_code: str) -> HttpResponse:
    """Every exchange with a customer, in order (``?invoice=`` for one invoice's); the forms
    post here: a note or an inbound reply, a call, a reply handled."""
    ws = workspace(request, code)
    customer = or_404(customer_get, ws.company, customer_code)
    invoice = request.GET.get("invoice", "").strip()[:60]
    note_form = NoteForm(request.POST or None, prefix="note",
                         initial={"invoice": invoice})
    call_form = CallForm(request.POST or None, prefix="call", initial={"invoice": invoice})
    error: LedgerError | None = None
    status = 200
    if request.method == "POST":
        if not may(ws):
            return not_for_role(request, ws)
        action = request.POST.get("action", "")
        form: ServiceForm | None = {"note": note_form, "call": call_form}.get(action)
        try:
            if action == "handled":
                raw = str(request.POST.get("reply", ""))
                if not raw.isdigit():
                    raise ValidationFailed("give the reply to mark handled", field="reply")
                reply_handle(actor=request.user, company=ws.company,
                             communication_id=int(raw), day=ws.as_of)
                done = gettext("Reply marked handled: reminders may resume.")
            elif form is not None and form.is_valid():
                v = form.cleaned_data
                if action == "note":
                    customer_note_add(actor=request.user, company=ws.company,
                                      customer=customer.code, day=ws.as_of, text=v["text"],
                                      invoice=v["invoice"].strip(),
                                      inbound_reply=v["inbound_reply"])
                    done = (gettext("Reply recorded: reminders wait until it is handled.")
                            if v["inbound_reply"] else gettext("Note added."))
                else:
                    customer_call_log(actor=request.user, company=ws.company,
                                      customer=customer.code, day=ws.as_of,
                                      outcome=v["outcome"], notes=v["notes"],
                                      invoice=v["invoice"].strip())
                    done = gettext("Call logged.")
            else:
                status = 400
                done = ""
        except LedgerError as exc:
            if exc.http_status == 403:
                return refused(request, ws, exc)
            if form is not None:
                form.refuse(exc)
            else:
                error = exc
            status = 409
        else:
            if done:
                messages.success(request, done)
                return redirect(request.get_full_path())
    context = timeline_context(ws, customer.code, invoice=invoice, rows=None,
                               note_form=note_form, call_form=call_form)
    response = page(request, ws, "web/collections/timeline.html", customer=customer,
                    error=error, **context)
    response.status_code = status
    return response


# ---------------------------------------------------------------- disputes
class DisputeForm(ServiceForm):
    invoice = text(_("Invoice number"), required=True, max_length=60, autocomplete="off")
    amount = amount(_("Amount disputed (blank: all that is open)"), required=False)
    reason = forms.ChoiceField(label=_("Reason"), choices=REASONS)
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    due_date = day(_("To be resolved by"), required=False)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=4000,
                            widget=forms.Textarea(attrs={"rows": 3}))
    attach = MultipleFileField(label=_("Attachments (optional: one or several files, 5 MB "
                                       "each at most)"), required=False)

    def __init__(self, *args: Any, owners: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", _("Nobody yet"))] + owners


@login_required
@require_safe
def disputes(request: HttpRequest, code: str) -> HttpResponse:
    ws = workspace(request, code)
    status = choice_param(request, "status", DISPUTE_STATUSES)
    customer = request.GET.get("customer", "").strip()[:40]
    invoice = request.GET.get("invoice", "").strip()[:60]
    page_no = page_param(request)
    try:
        qs = disputes_list(ws.company, status=status, customer=customer, invoice=invoice)
        rows = list(qs[(page_no - 1) * PAGE_SIZE:page_no * PAGE_SIZE + 1])
    except LedgerError as exc:  # a customer or an invoice that is not there: nothing matches
        rows, error = [], exc
    else:
        error = None
    return page(request, ws, "web/collections/disputes.html", rows=rows[:PAGE_SIZE],
                page=page_no, has_next=len(rows) > PAGE_SIZE, has_previous=page_no > 1,
                status=status, statuses=DISPUTE_STATUSES, customer=customer,
                invoice=invoice, error=error, reasons=REASONS)


MAX_ATTACHMENT_READ = 5 * 1024 * 1024 + 1


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def dispute_new(request: HttpRequest, code: str) -> HttpResponse:
    ws = workspace(request, code)
    if not may(ws):
        return not_for_role(request, ws)
    form = DisputeForm(request.POST or None, request.FILES or None, owners=_members(ws),
                       initial={"invoice": request.GET.get("invoice", "")[:60],
                                "owner": request.user.get_username()})
    if request.method == "POST" and form.is_valid():
        v = form.cleaned_data
        try:
            files = tuple(Attachment.of(upload.name or "", upload.read(MAX_ATTACHMENT_READ))
                          for upload in v["attach"])
            made = dispute_open(actor=request.user, company=ws.company, day=ws.as_of,
                                spec=DisputeSpec(
                                    invoice=v["invoice"].strip(), reason=v["reason"],
                                    amount=parse_decimal(v["amount"], "amount")
                                    if v["amount"].strip() else None,
                                    owner=v["owner"], due_date=v["due_date"],
                                    notes=v["notes"], attachments=files))
        except LedgerError as exc:
            if (answer := _failed(request, ws, exc, form, as_of="due_date")):
                return answer
        else:
            messages.success(request, gettext("Dispute %(id)s opened: the amount leaves the "
                                         "reminders until it is settled.") % {"id": made.pk})
            return redirect(reverse("web:dispute", args=[ws.company.code, made.pk]))
    response = page(request, ws, "web/collections/dispute_form.html", form=form)
    if request.method == "POST":
        response.status_code = 400
    return response


class ResolveForm(ServiceForm):
    """How a dispute is settled; a credit note issued now takes its lines from the lines
    editor beside it (``invoice_views.read_lines``, as a draft's: several lines, as
    ``dispute resolve --credit-note-line`` takes them)."""

    how = forms.ChoiceField(label=_("Settle by"), choices=(
        ("credit_note_line", _("A credit note issued now, of the lines below")),
        ("credit_note", _("A credit note already posted")),
        ("write_off", _("Writing the disputed amount off"))))
    credit_note = text(_("Posted credit note number"), max_length=60)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=4000,
                            widget=forms.Textarea(attrs={"rows": 2}))


# The blank lines the resolution's editor offers at first (*Add a line* adds more).
CREDIT_LINES = 2


class RejectForm(ServiceForm):
    notes = forms.CharField(label=_("Why the amount is owed"), required=False, max_length=4000,
                            widget=forms.Textarea(attrs={"rows": 2}))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def dispute(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """A dispute; the forms resolve it (the customer was right) or reject it (wrong)."""
    ws = workspace(request, code)
    row = or_404(dispute_get, ws.company, pk)
    action = request.POST.get("action", "")
    resolving = request.method == "POST" and action == "resolve"
    resolve = ResolveForm(request.POST if resolving else None, prefix="resolve",
                          initial={"how": "credit_note_line"})
    lines, saving = posted_lines(request) if resolving else (blank_lines(CREDIT_LINES), True)
    reject = RejectForm(request.POST if action == "reject" else None, prefix="reject")
    status = 200
    error: LedgerError | None = None
    if request.method == "POST":
        if not may(ws):
            return not_for_role(request, ws)
        form: ServiceForm = resolve if action == "resolve" else reject
        if resolving and not saving:
            pass  # *Add a line*: the form again, one blank line more
        elif action in ("resolve", "reject") and form.is_valid():
            try:
                if action == "resolve":
                    v = resolve.cleaned_data
                    issued = v["how"] == "credit_note_line"
                    dispute_resolve(actor=request.user, company=ws.company, dispute_id=row.pk,
                                    day=ws.as_of,
                                    credit_note_lines=lines.inputs() if issued else [],
                                    credit_note=v["credit_note"].strip()
                                    if v["how"] == "credit_note" else "",
                                    write_off=v["how"] == "write_off", notes=v["notes"])
                    done = gettext("Dispute %(id)s resolved.") % {"id": row.pk}
                else:
                    dispute_reject(actor=request.user, company=ws.company, dispute_id=row.pk,
                                   day=ws.as_of, notes=reject.cleaned_data["notes"])
                    done = gettext("Dispute %(id)s rejected: the amount is chased again.") % {
                        "id": row.pk}
            except LedgerError as exc:
                if exc.http_status == 403:
                    return refused(request, ws, exc)
                if not (action == "resolve" and lines.refuse(exc)):
                    form.refuse(exc, lines="how")
                error, status = exc, 409
            else:
                messages.success(request, done)
                return redirect(reverse("web:dispute", args=[ws.company.code, row.pk]))
        else:
            status = 400
    response = page(request, ws, "web/collections/dispute.html", d=row, resolve=resolve,
                    reject=reject, reasons=REASONS, error=error, lines=lines,
                    categories=TAX_CATEGORIES, attachments=dispute_attachments(ws.company,
                                                                             row.pk))
    response.status_code = status
    return response


@login_required
@require_safe
def dispute_file(request: HttpRequest, code: str, pk: int, attachment_id: int) -> HttpResponse:
    """One of the files a dispute was opened with, as it was given (a download)."""
    ws = workspace(request, code)
    row = or_404(dispute_attachment, ws.company, pk, attachment_id)
    response = HttpResponse(bytes(row.content), content_type=row.mime)
    response["Content-Disposition"] = content_disposition_header(True, row.name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ---------------------------------------------------------------- promises to pay
class PromiseForm(ServiceForm):
    customer = text(_("Customer code"), required=True, max_length=40, autocomplete="off")
    invoice = text(_("Invoice (blank: on account)"), max_length=60)
    amount = amount(_("Amount promised"))
    promised_date = day(_("Promised by"))
    notes = forms.CharField(label=_("Notes"), required=False, max_length=4000,
                            widget=forms.Textarea(attrs={"rows": 2}))


@login_required
@require_safe
def promises(request: HttpRequest, code: str) -> HttpResponse:
    return _casework_list(request, code, promises_list, PROMISE_STATES,
                          "web/collections/promises.html")


def _casework_list(request: HttpRequest, code: str, read: Any, states: tuple[str, ...],
                   template: str) -> HttpResponse:
    """A list of promises or plans, filtered by state and customer, a page at a time."""
    ws = workspace(request, code)
    state = choice_param(request, "state", states)
    customer = request.GET.get("customer", "").strip()[:40]
    page_no = page_param(request)
    try:  # the selector pages: it reads the rows of this page (and one more), no others
        rows = read(ws.company, as_of=ws.as_of, customer=customer, state=state,
                    offset=(page_no - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1)
        error = None
    except LedgerError as exc:
        rows, error = [], exc
    return page(request, ws, template, **paged(rows, page_no),
                state=state, states=states, customer=customer, error=error,
                may_collect=may_collect(ws))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def promise_new(request: HttpRequest, code: str) -> HttpResponse:
    ws = workspace(request, code)
    if not may(ws):
        return not_for_role(request, ws)
    form = PromiseForm(request.POST or None, initial={
        "customer": request.GET.get("customer", "")[:40],
        "invoice": request.GET.get("invoice", "")[:60]})
    if request.method == "POST" and form.is_valid():
        v = form.cleaned_data
        try:
            made = promise_add(actor=request.user, company=ws.company,
                               customer=v["customer"].strip(), invoice=v["invoice"].strip(),
                               amount=parse_decimal(v["amount"], "amount"),
                               promised_date=v["promised_date"], day=ws.as_of,
                               notes=v["notes"])
        except LedgerError as exc:
            if (answer := _failed(request, ws, exc, form, date="promised_date",
                                  code="customer")):
                return answer
        else:
            messages.success(request, gettext("Promise recorded: reminders to %(customer)s wait "
                                         "until %(day)s.") % {
                "customer": made.customer.code, "day": ws.formatter.date(made.promised_date)})
            return redirect(reverse("web:promises", args=[ws.company.code])
                            + f"?customer={made.customer.code}")
    response = page(request, ws, "web/collections/promise_form.html", form=form)
    if request.method == "POST":
        response.status_code = 400
    return response


# ---------------------------------------------------------------- payment plans
class PlanForm(ServiceForm):
    customer = text(_("Customer code"), required=True, max_length=40, autocomplete="off")
    invoices = text(_("Invoices (blank: every overdue item)"), max_length=2000)
    instalments = forms.IntegerField(label=_("Instalments"), min_value=1, max_value=120)
    first_due = day(_("First instalment due on"))
    every_days = forms.IntegerField(label=_("Days between instalments"), min_value=1,
                                    max_value=366, initial=30)
    grace_days = forms.IntegerField(label=_("Days of grace before a late instalment breaks "
                                            "the plan"), min_value=0, max_value=366,
                                    initial=0)
    hold_on_break = forms.BooleanField(label=_("Put the customer on credit hold if the plan "
                                               "breaks"), required=False)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=4000,
                            widget=forms.Textarea(attrs={"rows": 2}))


@login_required
@require_safe
def plans(request: HttpRequest, code: str) -> HttpResponse:
    return _casework_list(request, code, plans_list, PLAN_STATES, "web/collections/plans.html")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def plan_new(request: HttpRequest, code: str) -> HttpResponse:
    ws = workspace(request, code)
    if not may(ws):
        return not_for_role(request, ws)
    form = PlanForm(request.POST or None, initial={
        "customer": request.GET.get("customer", "")[:40], "every_days": 30, "grace_days": 0})
    if request.method == "POST" and form.is_valid():
        v = form.cleaned_data
        try:
            made = plan_create(actor=request.user, company=ws.company,
                               customer=v["customer"].strip(), day=ws.as_of,
                               instalments=v["instalments"], first_due=v["first_due"],
                               every_days=v["every_days"],
                               invoices=v["invoices"].replace(",", " ").split(),
                               grace_days=v["grace_days"], hold_on_break=v["hold_on_break"],
                               notes=v["notes"])
        except LedgerError as exc:
            if (answer := _failed(request, ws, exc, form, grace="grace_days",
                                  invoice="invoices", every="every_days")):
                return answer
        else:
            messages.success(request, gettext("Payment plan %(id)s created.") % {"id": made.pk})
            return redirect(reverse("web:plan", args=[ws.company.code, made.pk]))
    response = page(request, ws, "web/collections/plan_form.html", form=form)
    if request.method == "POST":
        response.status_code = 400
    return response


@login_required
@require_safe
def plan(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    ws = workspace(request, code)
    view = or_404(plan_get, ws.company, pk, as_of=ws.as_of)
    return page(request, ws, "web/collections/plan.html", v=view,
                instalments=list(zip(view.lines, view.progress.open, strict=True)))
