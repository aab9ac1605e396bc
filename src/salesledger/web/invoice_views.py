"""Writing invoices and credit notes in the browser: the draft editor, its totals as one
types, posting, sending by e-mail, and a credit note for an invoice.

The editor is an ordinary form (it works without scripts: "Add a line" and "Save" post it);
with htmx, every change asks ``draft_totals`` for the totals, which the invoicing selector
``document_totals`` computes with the pure core (``domain.invoicing.compute_totals``), the
same function that saving and posting call: the browser does no arithmetic. Saving calls
``invoice_create`` (a new draft) or ``invoice_draft_replace``; posting ``invoice_post``;
sending ``documents.delivery.invoice_send``. A line's refusal (``line=2``) is shown on
that line, any other next to its field or above the form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from salesledger.apps.customers.selectors import payment_terms_list
from salesledger.apps.documents.delivery import invoice_send
from salesledger.apps.invoicing.selectors import document_totals
from salesledger.apps.invoicing.services import (
    InvoiceInput,
    charge_input,
    invoice_create,
    invoice_draft_replace,
    invoice_post,
    parse_decimal,
)
from salesledger.apps.payments.selectors import invoice_detail
from salesledger.domain.errors import LedgerError, ValidationFailed
from salesledger.domain.invoicing import DocumentChargeInput, LineInput, SupplyDetails

from .credit_panel import may_override
from .forms import TAX_CATEGORIES, TermsForm, day, text
from .tenancy import Workspace, or_404, workspace
from .writing import may, not_for_role, page, refused

# Blank lines the editor offers below the written ones; "Add a line" adds one more.
BLANK_LINES = 2
MAX_LINES = 200
LINE_FIELDS = ("description", "quantity", "unit_price", "tax_rate", "discount", "category")
# A document-level allowance or charge (EN 16931 BG-20, BG-21) as the editor takes it: the
# amount is "15.00", or "5%" of the lines of its tax category and rate, as ``--charge``
# writes it on the command line.
CHARGE_FIELDS = ("kind", "reason", "amount", "tax_rate", "category", "code")
MAX_CHARGES = 20
# What a draft says about its supply (EN 16931 BT-72, BG-14, BT-12, BT-11, and the nature
# of the operation), as ``invoice create --delivery-date ...`` takes it; in its own part of
# the editor.
SUPPLY_FIELDS = ("delivery_date", "period_start", "period_end", "contract_reference",
                 "project_reference", "supply_type")
SUPPLY_TYPE_CHOICES = (("", _("Not said")), ("goods", _("Goods")),
                       ("services", _("Services")), ("mixed", _("Goods and services")))
# The refusals of the credit app's veto that a credit controller may override.
CREDIT_REFUSALS = ("credit_hold", "credit_limit_exceeded")


class DraftForm(TermsForm):
    """The head of a draft and its supply details; its lines are read by ``read_lines``.
    The supply details are read as typed and checked by the service (``check_supply``:
    a period that ends before it starts, a reference over 60 characters)."""

    field_order = ("customer", "issue_date", "currency", "terms", "po_number", "notes",
                   *SUPPLY_FIELDS)
    customer = text(_("Customer code"), required=True, max_length=40, autocomplete="off")
    issue_date = day(_("Issue date"))
    currency = text(_("Currency (blank for the customer's)"), max_length=3)
    po_number = text(_("Purchase order"), max_length=100)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 2}))
    delivery_date = day(_("Delivery date"), required=False)
    period_start = day(_("Invoicing period from"), required=False)
    period_end = day(_("Invoicing period to"), required=False)
    contract_reference = text(_("Contract"), max_length=200)
    project_reference = text(_("Project"), max_length=200)
    supply_type = forms.ChoiceField(label=_("Nature of the operation"), required=False,
                                    choices=SUPPLY_TYPE_CHOICES)

    def head(self) -> list[Any]:
        """The head's controls, the supply details left for their own part."""
        return [f for f in self if f.name not in SUPPLY_FIELDS]

    def supply(self) -> list[Any]:
        return [self[name] for name in SUPPLY_FIELDS]

    def supply_details(self) -> SupplyDetails:
        v = self.cleaned_data
        return SupplyDetails(v["delivery_date"], v["period_start"], v["period_end"],
                             v["contract_reference"], v["project_reference"],
                             v["supply_type"])


@dataclass
class Line:
    """A line of the editor as typed, and what the services said about it."""

    index: int  # the row in the editor (its controls' names)
    values: dict[str, str]
    number: int = 0  # among the lines written, as the services count them
    error: str = ""
    net: Any = None

    @property
    def blank(self) -> bool:
        return not any(v.strip() for k, v in self.values.items() if k != "category")


@dataclass
class Lines:
    rows: list[Line] = field(default_factory=list)

    def inputs(self) -> list[LineInput]:
        """The lines written (blank rows skipped), as the pure core takes them; a number
        that cannot be read is refused with the service's words, on its line."""
        out = []
        for row in self.written:
            v = row.values
            try:
                out.append(LineInput(
                    v["description"].strip(), parse_decimal(v["quantity"] or "1", "quantity"),
                    parse_decimal(v["unit_price"] or "0", "unit price"),
                    parse_decimal(v["tax_rate"].rstrip("%") or "0", "tax rate"),
                    parse_decimal(v["discount"].rstrip("%") or "0", "discount"),
                    v["category"] or "S"))
            except ValidationFailed as exc:
                raise ValidationFailed(f"line {row.number}: {exc.message}",
                                       line=row.number) from None
        if not out:
            raise ValidationFailed("a document needs at least one line", field="lines")
        return out

    @property
    def written(self) -> list[Line]:
        out = [r for r in self.rows if not r.blank]
        for n, r in enumerate(out, start=1):
            r.number = n
        return out

    def refuse(self, exc: LedgerError) -> bool:
        """Put ``exc`` on the line it names; False if it names none. The services count
        lines from 1 among those written; the editor's rows may have blanks between."""
        index = exc.fields.get("line")
        if not isinstance(index, int) or not 0 < index <= len(self.written):
            return False
        self.written[index - 1].error = str(exc)
        return True


def read_lines(data: Any, extra: int = BLANK_LINES) -> Lines:
    count = min(int(data.get("rows", "0")) if str(data.get("rows", "")).isdigit() else 0,
                MAX_LINES)
    rows = [Line(i, {k: str(data.get(f"line-{i}-{k}", ""))[:500] for k in LINE_FIELDS})
            for i in range(1, count + 1)]
    return _padded(Lines(rows), extra)


@dataclass
class Charge:
    """A document-level allowance or charge of the editor as typed, and what the services
    said about it."""

    index: int
    values: dict[str, str]
    number: int = 0  # among those written, as the services count them
    error: str = ""
    amount: Any = None

    @property
    def blank(self) -> bool:
        return not any(self.values[k].strip() for k in ("reason", "amount", "code"))


@dataclass
class Charges:
    rows: list[Charge] = field(default_factory=list)

    @property
    def written(self) -> list[Charge]:
        out = [r for r in self.rows if not r.blank]
        for n, r in enumerate(out, start=1):
            r.number = n
        return out

    def inputs(self) -> list[DocumentChargeInput]:
        """The allowances and charges written (blank rows skipped), as the pure core takes
        them; a number that cannot be read is refused on its row."""
        out = []
        for row in self.written:
            v = row.values
            what = "charge" if v["kind"] == "charge" else "allowance"
            try:
                out.append(charge_input(
                    is_charge=what == "charge", reason=v["reason"], amount=v["amount"] or "0",
                    tax_rate=v["tax_rate"].rstrip("%") or "0", category=v["category"],
                    code=v["code"], what=what))
            except ValidationFailed as exc:
                raise ValidationFailed(f"document {what} {row.number}: {exc.message}",
                                       charge=row.number) from None
        return out

    def refuse(self, exc: LedgerError) -> bool:
        """Put ``exc`` on the allowance or charge it names (``charge=``, counted from 1 among
        those written); False if it names none."""
        index = exc.fields.get("charge")
        if not isinstance(index, int) or not 0 < index <= len(self.written):
            return False
        self.written[index - 1].error = str(exc)
        return True


def _blank_charge(index: int) -> Charge:
    return Charge(index, dict.fromkeys(CHARGE_FIELDS, "") | {"kind": "allowance",
                                                               "category": "S"})


def read_charges(data: Any, extra: int = 0) -> Charges:
    """The allowances and charges of an editor's form as posted (``charges``: how many rows
    it has), with ``extra`` blank rows after them."""
    text = str(data.get("charges", ""))
    count = min(int(text) if text.isdigit() else 0, MAX_CHARGES)
    rows = [Charge(i, {k: str(data.get(f"charge-{i}-{k}", ""))[:200] for k in CHARGE_FIELDS})
            for i in range(1, count + 1)]
    return Charges(rows + [_blank_charge(count + i) for i in range(1, extra + 1)])


def charges_of(detail: dict[str, Any] | None) -> Charges:
    """A stored draft's allowances and charges in the editor, and one blank row."""
    rows = [Charge(i, {"kind": c["kind"], "reason": c["reason"], "code": c["reason_code"],
                       "amount": f"{c['percent']}%" if c.get("percent") is not None
                       else c["amount"]["amount"],
                       "tax_rate": c["tax_rate"], "category": c["tax_category"]},
                   amount=c["amount"])
            for i, c in enumerate(detail["charges"] if detail else [], start=1)]
    return Charges(rows + [_blank_charge(len(rows) + 1)])


def posted_lines(request: HttpRequest) -> tuple[Lines, bool]:
    """The lines of an editor's form as posted, and whether to save them: *Add a line*
    (``more``) only shows them again with one blank row more."""
    more = "more" in request.POST
    return read_lines(request.POST, extra=1 if more else 0), not more


def editor_forms(request: HttpRequest, ws: Workspace, form_class: type[TermsForm],
                 initial: dict[str, Any], blank: int) -> tuple[Any, Lines, bool]:
    """A document editor's head form (``form_class``, with the company's payment terms) and
    lines: on GET, ``initial`` and ``blank`` rows; on POST, what was typed, and whether it
    is to be saved (not *Add a line*, and the head reads)."""
    terms = payment_terms_list(ws.company)
    if request.method != "POST":
        return form_class(terms=terms, initial=initial), blank_lines(blank), False
    form = form_class(request.POST, terms=terms)
    lines, saving = posted_lines(request)
    return form, lines, saving and form.is_valid()


def posted_charges(request: HttpRequest, saving: bool) -> tuple[Charges, bool]:
    """The allowances and charges of the draft editor's form as posted, with a blank row
    when none is left (or one more for *Add an allowance or charge*, ``more_charge``, which
    only shows them again); and whether to save."""
    more = "more_charge" in request.POST
    charges = read_charges(request.POST)
    if more or all(not r.blank for r in charges.rows):
        charges.rows.append(_blank_charge(max((r.index for r in charges.rows), default=0) + 1))
    return charges, saving and not more


def blank_lines(count: int) -> Lines:
    """An editor's first lines: ``count`` blank rows."""
    return _padded(Lines(), count)


def _padded(lines: Lines, extra: int) -> Lines:
    """``lines`` with ``extra`` blank rows after them."""
    start = max((r.index for r in lines.rows), default=0)
    lines.rows += [Line(start + i, dict.fromkeys(LINE_FIELDS, "") | {"category": "S"})
                   for i in range(1, extra + 1)]
    return lines


def lines_of(detail: dict[str, Any]) -> Lines:
    rows = [Line(i, {"description": li["description"], "quantity": li["quantity"],
                     "unit_price": li["unit_price"], "tax_rate": li["tax_rate"],
                     "discount": li["discount_percent"], "category": li["tax_category"]},
                 net=li["net"])
            for i, li in enumerate(detail["lines"], start=1)]
    return _padded(Lines(rows), BLANK_LINES)


def _data(form: DraftForm, lines: Lines, charges: Charges, kind: str, corrects: str
          ) -> InvoiceInput:
    v = form.cleaned_data
    return InvoiceInput(customer_code=v["customer"].strip(), issue_date=v["issue_date"],
                        lines=lines.inputs(), charges=charges.inputs(),
                        currency=v["currency"].strip().upper(),
                        terms_code=v["terms"], po_number=v["po_number"], notes=v["notes"],
                        kind=kind, corrects_number=corrects, supply=form.supply_details())


def _editor(request: HttpRequest, ws: Workspace, form: DraftForm, lines: Lines,
            charges: Charges, *, kind: str, corrects: str, draft: dict[str, Any] | None,
            status: int = 200, override: bool = False) -> HttpResponse:
    response = page(request, ws, "web/draft.html", form=form, lines=lines, charges=charges,
                    kind=kind,
                    corrects=corrects, draft=draft, categories=TAX_CATEGORIES,
                    totals=draft and {k: draft[k] for k in ("net", "tax", "total")},
                    override=override,
                    override_text=str(request.POST.get("credit_override", ""))[:500])
    response.status_code = status
    return response


def _refuse(form: DraftForm, lines: Lines, charges: Charges, exc: LedgerError) -> None:
    if not lines.refuse(exc) and not charges.refuse(exc):
        form.refuse(exc, customer_code="customer", document="customer",
                    terms_code="terms", corrects="customer", period="period_end")


def _save(request: HttpRequest, ws: Workspace, form: DraftForm, lines: Lines,
          charges: Charges, *, kind: str, corrects: str, draft_id: int | None) -> int | None:
    """Save the draft (create or replace); its id, or None with the refusal on the form."""
    try:
        data = _data(form, lines, charges, kind, corrects)
        if draft_id is None:
            return int(invoice_create(actor=request.user, company=ws.company, data=data).pk)
        invoice_draft_replace(actor=request.user, company=ws.company, invoice_id=draft_id,
                              data=data)
        return draft_id
    except LedgerError as exc:
        _refuse(form, lines, charges, exc)
        return None


@login_required
@require_http_methods(["GET", "POST"])
def draft_new(request: HttpRequest, code: str) -> HttpResponse:
    """A new draft: ``?kind=credit_note&corrects=NUMBER`` for a credit note of an invoice
    (its customer and lines offered), ``?customer=CODE`` to start with a customer."""
    ws = workspace(request, code)
    if not may(ws):
        return not_for_role(request, ws)
    source = request.POST if request.method == "POST" else request.GET
    kind = "credit_note" if source.get("kind") == "credit_note" else "invoice"
    corrects = str(source.get("corrects", ""))[:60].strip() if kind == "credit_note" else ""
    terms = payment_terms_list(ws.company)
    if request.method == "GET":
        initial = {"customer": request.GET.get("customer", "")[:40], "issue_date": ws.as_of}
        lines, charges = blank_lines(3), charges_of(None)
        if corrects:
            original = or_404(invoice_detail, ws.company, corrects)
            initial["customer"], initial["currency"] = original["customer"], original["currency"]
            initial.update(original["supply"])  # the period it corrects, as a start
            lines, charges = lines_of(original), charges_of(original)
        return _editor(request, ws, DraftForm(initial=initial, terms=terms), lines, charges,
                       kind=kind, corrects=corrects, draft=None)
    form = DraftForm(request.POST, terms=terms)
    lines, saving = posted_lines(request)
    charges, saving = posted_charges(request, saving)
    if saving and form.is_valid():
        draft_id = _save(request, ws, form, lines, charges, kind=kind, corrects=corrects,
                         draft_id=None)
        if draft_id is not None:
            return redirect(reverse("web:draft", args=[ws.company.code, draft_id]))
    return _editor(request, ws, form, _padded(lines, 1) if not lines.rows else lines, charges,
                   kind=kind, corrects=corrects, draft=None, status=200)


def _draft(ws: Workspace, pk: int) -> dict[str, Any]:
    detail: dict[str, Any] = or_404(invoice_detail, ws.company, pk)
    if detail["id"] != pk:  # a document whose number is these digits: not this draft
        raise Http404("no such draft")
    return detail


@login_required
@require_http_methods(["GET", "POST"])
def draft(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """A draft in the editor: save it again, or save and post it."""
    ws = workspace(request, code)
    detail = _draft(ws, pk)
    if detail["status"] != "draft":
        return redirect(reverse("web:invoice", args=[ws.company.code, detail["number"]]))
    if not may(ws):
        return not_for_role(request, ws)
    terms = payment_terms_list(ws.company)
    kind, corrects = detail["kind"], detail["corrects"] or ""
    if request.method == "GET":
        form = DraftForm(terms=terms, initial={
            "customer": detail["customer"], "issue_date": detail["issue_date"],
            "currency": detail["currency"], "terms": detail["terms"],
            "po_number": detail["po_number"], "notes": detail["notes"], **detail["supply"]})
        return _editor(request, ws, form, lines_of(detail), charges_of(detail), kind=kind,
                       corrects=corrects, draft=detail)
    form = DraftForm(request.POST, terms=terms)
    lines, saving = posted_lines(request)
    charges, saving = posted_charges(request, saving)
    credit_refused = False
    if saving and form.is_valid():
        saved = _save(request, ws, form, lines, charges, kind=kind, corrects=corrects,
                      draft_id=pk)
        if saved is not None and request.POST.get("action") != "post":
            return redirect(reverse("web:draft", args=[ws.company.code, pk]))
        if saved is not None:
            # A credit refusal may be overridden with a comment (``--override-credit``):
            # the credit app's veto decides whether the user may, and audits it.
            override = str(request.POST.get("credit_override", "")).strip()[:500]
            try:
                if "credit_override" in request.POST and not override:
                    raise ValidationFailed("an override of a credit refusal needs a comment",
                                           field="credit_override")
                posted = invoice_post(actor=request.user, company=ws.company, invoice_id=pk,
                                      credit_override=override)
            except LedgerError as exc:
                if exc.http_status == 403:
                    return refused(request, ws, exc)
                form.add_error(None, str(exc))
                credit_refused = (exc.code in CREDIT_REFUSALS
                                  or "credit_override" in request.POST)
            else:
                return redirect(reverse("web:invoice", args=[ws.company.code, posted.number]))
    return _editor(request, ws, form, lines if lines.rows else _padded(lines, 1), charges,
                   kind=kind, corrects=corrects, draft=detail,
                   override=credit_refused and may_override(ws))


def _nonzero(money: dict[str, str]) -> bool:
    return Decimal(money["amount"]) != 0


@login_required
@require_POST
def draft_totals(request: HttpRequest, code: str) -> HttpResponse:
    """The editor's totals for what is typed now (an htmx partial): each line's net and the
    document's net, tax and total, computed by the pure core through the selector; a line
    it refuses says why, on its line."""
    ws = workspace(request, code)
    lines, charges = read_lines(request.POST, extra=0), read_charges(request.POST)
    context: dict[str, Any] = {"ws": ws, "lines": lines, "charges": charges}
    try:
        totals = document_totals(ws.company, lines.inputs(),
                                 customer_code=str(request.POST.get("customer", "")).strip(),
                                 currency=str(request.POST.get("currency", "")).strip().upper(),
                                 charges=charges.inputs())
    except LedgerError as exc:
        if not lines.refuse(exc) and not charges.refuse(exc):
            context["error"] = str(exc)
    else:
        for row, li in zip(lines.written, totals["lines"], strict=True):
            row.net = li["net"]
        for crow, ct in zip(charges.written, totals["charges"], strict=True):
            crow.amount = ct["amount"]
        # the kinds the document has, each shown only when not zero (no "Allowances
        # − €0.00" for a document with charges alone)
        context["totals"] = {**totals, "has_charges": bool(totals["charges"]),
                             "allowances_shown": _nonzero(totals["allowance_total"]),
                             "charges_shown": _nonzero(totals["charge_total"])}
    return render(request, "web/parts/draft_totals.html", context)


@login_required
@require_POST
def invoice_email(request: HttpRequest, code: str, ref: str) -> HttpResponse:
    """E-mail a posted document with its PDF to the address typed, or else to the customer's
    billing contacts (``documents.delivery.invoice_send``)."""
    ws = workspace(request, code)
    detail = or_404(invoice_detail, ws.company, ref)
    to = [a.strip() for a in str(request.POST.get("to", "")).split(",") if a.strip()]
    try:
        comm = invoice_send(actor=request.user, company=ws.company, number=detail["number"]
                            or str(detail["id"]), to=to or None, as_of=ws.as_of)
    except LedgerError as exc:
        return refused(request, ws, exc)
    return page(request, ws, "web/done.html", title=gettext("Sent"),
                message=gettext("%(number)s was e-mailed to %(to)s: %(status)s.") % {
                    "number": detail["number"], "to": comm.recipients, "status": comm.status},
                back=reverse("web:invoice", args=[ws.company.code, detail["number"]]))
