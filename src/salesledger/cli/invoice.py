"""``invoice create|post|show|list|einvoice|pdf|send|write-off|adjust|recover|history`` and
``credit-note create`` (a credit note is written as an invoice is, of the other kind): parsing
and rendering only."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from salesledger.domain.adjustments import DeductionReason
from salesledger.domain.errors import ValidationFailed
from salesledger.domain.invoicing import SupplyDetails

from .common import (
    NO_LINE,
    Subparsers,
    actor_of,
    add_command,
    add_credit_override_option,
    add_future_date_option,
    add_group,
    as_of_day,
    charge_options,
    company_of,
    parse_date,
    parse_decimal,
    parse_lines,
)
from .display import adjustment_json, delivery_json, show_adjustment, show_invoice
from .files import no_json_to_stdout, write_output
from .render import emit_json, money, money_text, table


# ---------------------------------------------------------------- writing and posting
def _supply(args: argparse.Namespace) -> dict[str, Any]:
    """The supply options given (``--delivery-date``, ``--period-start``, ``--period-end``,
    ``--contract``, ``--project``, ``--supply-type``), as ``SupplyDetails`` fields."""
    out: dict[str, Any] = {}
    for option, field in (("delivery_date", "delivery_date"), ("period_start", "period_start"),
                          ("period_end", "period_end")):
        value = getattr(args, option, None)
        if value is not None:
            out[field] = parse_date(value, "--" + option.replace("_", "-")) if value else None
    for option, field in (("contract", "contract_reference"), ("project", "project_reference"),
                          ("supply_type", "supply_type")):
        value = getattr(args, option, None)
        if value is not None:
            out[field] = value
    return out


def _invoice_input(args: argparse.Namespace, kind: str) -> Any:
    from salesledger.apps.invoicing.services import InvoiceInput

    if not args.line:
        raise ValidationFailed(NO_LINE)
    return InvoiceInput(
        customer_code=args.customer,
        issue_date=parse_date(args.date, "--date") if args.date else None,
        lines=parse_lines(args.line) or [],
        currency=args.currency or "",
        rate=parse_decimal(args.rate, "--rate") if args.rate else None,
        terms_code=getattr(args, "terms", "") or "",
        po_number=getattr(args, "po", "") or "",
        buyer_reference=getattr(args, "buyer_reference", "") or "",
        notes=args.notes or "",
        kind=kind,
        corrects_number=getattr(args, "corrects", "") or "",
        charges=charge_options(args),
        supply=SupplyDetails(**_supply(args)),
        purpose=getattr(args, "purpose", None) or "sale",
    )


def _create_doc(args: argparse.Namespace, kind: str) -> int:
    from salesledger.apps.invoicing.services import invoice_create, invoice_create_posted

    company = company_of(args)
    actor = actor_of(args, company)
    data = _invoice_input(args, kind)
    if data.issue_date is None:
        data.issue_date = as_of_day(args, company)
    if args.post:  # one transaction: a refused posting leaves no draft behind
        inv = invoice_create_posted(actor=actor, company=company, data=data,
                                    allow_future_date=args.allow_future_date,
                                    credit_override=args.override_credit)
    else:
        inv = invoice_create(actor=actor, company=company, data=data)
    return show_invoice(args, company, inv.number or str(inv.pk))


def cmd_invoice_create(args: argparse.Namespace) -> int:
    return _create_doc(args, "invoice")


def cmd_credit_note_create(args: argparse.Namespace) -> int:
    return _create_doc(args, "credit_note")


def cmd_invoice_update(args: argparse.Namespace) -> int:
    from salesledger.apps.invoicing.selectors import invoice_get
    from salesledger.apps.invoicing.services import invoice_supply_set

    company = company_of(args)
    changes = _supply(args)
    if not changes:
        raise ValidationFailed("say what to change (see --help)")
    inv = invoice_get(company, args.id)
    invoice_supply_set(actor=actor_of(args, company), company=company, invoice_id=inv.pk,
                       **changes)
    return show_invoice(args, company, str(inv.pk))


def cmd_invoice_post(args: argparse.Namespace) -> int:
    from salesledger.apps.invoicing.selectors import invoice_get
    from salesledger.apps.invoicing.services import invoice_post

    company = company_of(args)
    inv = invoice_get(company, args.id)
    inv = invoice_post(actor=actor_of(args, company), company=company, invoice_id=inv.pk,
                       allow_future_date=args.allow_future_date,
                       credit_override=args.override_credit)
    return show_invoice(args, company, inv.number)


# ---------------------------------------------------------------- reading
def cmd_invoice_show(args: argparse.Namespace) -> int:
    return show_invoice(args, company_of(args), args.number)


def cmd_invoice_list(args: argparse.Namespace) -> int:
    from salesledger.apps.invoicing.selectors import invoice_list

    company = company_of(args)
    rows = invoice_list(
        company,
        customer_code=args.customer,
        status=args.status,
        kind=args.kind,
        settlement=args.settlement,
        limit=args.limit,
        offset=args.offset,
    )
    if args.json:
        emit_json(rows)
    else:
        table(
            [
                (
                    r["number"] or f"draft #{r['id']}",
                    r["kind"],
                    r["customer"],
                    r["issue_date"],
                    r["due_date"],
                    r["total"]["amount"],
                    r["currency"],
                )
                for r in rows
            ],
            ["number", "kind", "customer", "date", "due", "total", "cur"],
        )
    return 0


def cmd_invoice_history(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.history import invoice_history

    company = company_of(args)
    events = invoice_history(company, args.number)
    if args.json:
        emit_json(events)
        return 0
    table([(e["date"], e["event"], e["source"], e["amount"]["amount"], e["open"]["amount"],
            _detail(e)) for e in events],
          ["date", "event", "source", "amount", "open", "detail"])
    return 0


def _detail(e: dict[str, Any]) -> str:
    parts = []
    for key in ("reason_code", "memo", "reason", "refund", "fee_invoice", "method"):
        if e.get(key):
            parts.append(f"{key.replace('_', ' ')}: {e[key]}")
    if e.get("tax"):
        parts.append(f"VAT {e['tax']['amount']}")
    if e.get("instalment"):
        parts.append(f"instalment {e['instalment']}")
    if e.get("dispute_requested"):
        parts.append("dispute requested")
    return "; ".join(parts)


# ---------------------------------------------------------------- files and delivery
def cmd_invoice_einvoice(args: argparse.Namespace) -> int:
    from salesledger.apps.documents.einvoice_files import einvoice_file, einvoice_filename
    from salesledger.apps.invoicing.einvoice import peppol_gaps
    from salesledger.apps.invoicing.selectors import invoice_get

    company = company_of(args)
    if args.format == "facturx" and not args.output:
        raise ValidationFailed("a Factur-X PDF needs --output FILE (it is not text)")
    inv = invoice_get(company, args.number)
    stored = einvoice_file(actor=actor_of(args, company), company=company, invoice=inv,
                           kind=args.format)
    content = bytes(stored.content)
    gaps = peppol_gaps(company=company, invoice=inv) if args.format == "ubl" else []
    if not args.json:
        for gap in gaps:
            print(f"warning: valid EN 16931, but not sendable over Peppol: {gap}",
                  file=sys.stderr)
    info = {"number": inv.number, "format": args.format, "sha256": stored.sha256,
            "bytes": len(content), "name": einvoice_filename(inv, args.format),
            "peppol_gaps": gaps}
    if not args.output or args.output == "-":
        if args.json:
            emit_json({**info, "xml": content.decode("utf-8")})
            return 0
        sys.stdout.write(content.decode("utf-8"))
        sys.stdout.flush()
        return 0
    with open(args.output, "wb") as fh:
        fh.write(content)
    if args.json:
        emit_json({**info, "file": args.output})
    else:
        print(f"{args.format} e-invoice of {inv.number} written to {args.output} "
              f"({len(content)} bytes, sha256 {stored.sha256[:12]}...)", file=sys.stderr)
    return 0


def cmd_invoice_pdf(args: argparse.Namespace) -> int:
    from salesledger.apps.documents.services import invoice_pdf_file
    from salesledger.apps.invoicing.selectors import invoice_get

    no_json_to_stdout(args, args.output)
    company = company_of(args)
    invoice = invoice_get(company, args.number)
    stored = invoice_pdf_file(actor=actor_of(args, company), company=company, invoice=invoice)
    where = write_output(bytes(stored.content), args.output or f"{invoice.number}.pdf")
    if args.output != "-":
        info = {"number": invoice.number, "file": where, "bytes": len(stored.content),
                "sha256": stored.sha256}
        if args.json:
            emit_json(info)
        else:
            print(f"{invoice.number}: wrote {where} ({len(stored.content):,} bytes, "
                  f"sha256 {stored.sha256})")
    return 0


def cmd_invoice_send(args: argparse.Namespace) -> int:
    from salesledger.apps.documents.delivery import invoice_send

    company = company_of(args)
    comm = invoice_send(actor=actor_of(args, company), company=company, number=args.number,
                        to=args.to, attach=args.attach, as_of=as_of_day(args, company))
    if args.json:
        emit_json({"number": args.number, **delivery_json(comm)})
    else:
        print(f"{args.number} e-mailed to {comm.recipients}: {comm.status} "
              f"({comm.status_detail}); message id {comm.message_id}")
    return 0


# ---------------------------------------------------------------- write-offs and deductions
def cmd_invoice_write_off(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.adjustments.bad_debts import invoice_write_off

    company = company_of(args)
    a = invoice_write_off(actor=actor_of(args, company), company=company, number=args.number,
                          day=as_of_day(args, company), reason=args.reason,
                          amount=parse_decimal(args.amount, "--amount") if args.amount else None,
                          tax_relief=args.tax_relief)
    return show_adjustment(args, a, args.number)


def cmd_invoice_adjust(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.adjustments.write_offs import invoice_adjust

    company = company_of(args)
    a = invoice_adjust(actor=actor_of(args, company), company=company, number=args.number,
                       kind=args.kind, day=as_of_day(args, company),
                       amount=parse_decimal(args.amount, "--amount") if args.amount else None,
                       reason_code=args.reason_code or "", memo=args.memo or "",
                       dispute_requested=args.dispute)
    return show_adjustment(args, a, args.number)


def cmd_invoice_recover(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.adjustments.bad_debts import invoice_recover

    company = company_of(args)
    r = invoice_recover(actor=actor_of(args, company), company=company, number=args.number,
                        receipt=args.receipt, day=as_of_day(args, company),
                        amount=parse_decimal(args.amount, "--amount") if args.amount else None)
    cur = r.allocations[0].currency if r.allocations else ""
    again = r.written_off_again
    if args.json:
        emit_json({"invoice": args.number, "receipt": args.receipt,
                   "recovered": money(r.recovered, cur),
                   "paid": money(sum(a.amount for a in r.allocations), cur),
                   "written_off_again": adjustment_json(again) if again else None})
    else:
        print(f"{args.number}: {money_text(r.recovered, cur)} recovered from {args.receipt}")
        if again:
            print(f"still written off: {money_text(again.amount, cur)} (adjustment {again.pk})")
    return 0


# ---------------------------------------------------------------- registration
def _supply_options(p: argparse.ArgumentParser) -> None:
    """What a document says about its supply (EN 16931 BT-72, BG-14, BT-12, BT-11, and the
    French reform's nature of the operation)."""
    p.add_argument("--delivery-date", metavar="DATE",
                   help="when the goods or services were delivered (BT-72)")
    p.add_argument("--period-start", metavar="DATE", help="invoicing period start (BT-73)")
    p.add_argument("--period-end", metavar="DATE", help="invoicing period end (BT-74)")
    p.add_argument("--contract", help="contract reference (BT-12)")
    p.add_argument("--project", help="project reference (BT-11)")
    p.add_argument("--supply-type", metavar="goods|services|mixed",
                   help="nature of the operation: goods, services or both")


def _document_options(p: argparse.ArgumentParser) -> None:
    """What ``invoice create`` and ``credit-note create`` both take."""
    p.add_argument("--customer", required=True)
    p.add_argument("--date")
    p.add_argument("--line", action="append",
                   metavar="'DESC;QTY;PRICE[;TAX%[;DISC%[;CAT[;EXEMPTION REASON[;UNIT"
                           "[;ITEM ID[;GTIN or SCHEME:ID]]]]]]]'")
    p.add_argument("--currency")
    p.add_argument("--rate")
    p.add_argument("--notes")
    p.add_argument("--post", action="store_true", help="post at once")
    _supply_options(p)
    add_future_date_option(p)
    add_credit_override_option(p)
    p.add_argument("--charge", action="append", metavar="'REASON;AMOUNT;TAX%[;CAT[;CODE]]'",
                   help="a document-level charge (freight, packing); repeatable")
    p.add_argument("--allowance", action="append", metavar="'REASON;AMOUNT;TAX%[;CAT[;CODE]]'",
                   help="a document-level allowance (a discount on the whole document)")


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    g = add_group(sub, "invoice", "invoices")
    p = add_command(g, common, "create", cmd_invoice_create,
                    "write a draft invoice (or post it)")
    _document_options(p)
    p.add_argument("--purpose", choices=["sale", "fee", "interest"], default="sale",
                   help="what it charges for: a fee or interest invoice is never held by "
                        "credit control (default sale)")
    p.add_argument("--terms")
    p.add_argument("--po")
    p.add_argument("--buyer-reference")
    p = add_command(g, common, "update", cmd_invoice_update,
                    "change what a draft says about its supply (only the options given; an "
                    "empty value clears one)")
    p.add_argument("id", help="draft id")
    _supply_options(p)
    p = add_command(g, common, "post", cmd_invoice_post, "post a draft invoice or credit note")
    p.add_argument("id", help="draft id")
    add_future_date_option(p)
    add_credit_override_option(p)
    p = add_command(g, common, "show", cmd_invoice_show, "show an invoice or credit note")
    p.add_argument("number")
    p = add_command(g, common, "list", cmd_invoice_list, "list invoices and credit notes")
    p.add_argument("--customer")
    p.add_argument("--status", choices=["draft", "posted"])
    p.add_argument("--kind", choices=["invoice", "credit_note"])
    p.add_argument("--settlement", choices=["open", "partially_paid", "paid", "written_off"],
                   help="posted documents in that settlement state now (written off: nothing "
                        "open and part of it written off as a bad debt)")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--offset", type=int, default=0)
    p = add_command(g, common, "einvoice", cmd_invoice_einvoice,
                    "write the e-invoice of a posted invoice or credit note (UBL, CII, "
                    "Factur-X)")
    p.add_argument("number")
    p.add_argument("--format", required=True, choices=["ubl", "cii", "facturx"])
    p.add_argument("--output", "-o", metavar="FILE",
                   help="write to FILE (required for facturx); XML goes to stdout without it")
    p = add_command(g, common, "pdf", cmd_invoice_pdf,
                    "write the PDF of a posted invoice or credit note (frozen when first made)")
    p.add_argument("number")
    p.add_argument("--output", "-o", help="file to write (default NUMBER.pdf; - for stdout)")
    p = add_command(g, common, "send", cmd_invoice_send,
                    "e-mail a posted invoice or credit note to the customer's billing contacts")
    p.add_argument("number")
    p.add_argument("--to", action="append", metavar="ADDRESS",
                   help="send to this address instead (repeat for several)")
    p.add_argument("--attach", default="pdf",
                   help="files to attach, comma-separated: pdf, ubl, cii, facturx (default pdf)")
    p = add_command(g, common, "write-off", cmd_invoice_write_off, "write off a bad debt")
    p.add_argument("number")
    p.add_argument("--amount", help="default: all that is open")
    p.add_argument("--reason", required=True)
    p.add_argument("--tax-relief", action="store_true",
                   help="take the VAT share back from output tax (where the law allows)")
    p = add_command(g, common, "adjust", cmd_invoice_adjust,
                    "write off a payment difference, or record a deduction")
    p.add_argument("number")
    p.add_argument("--kind", required=True, choices=["write_off", "deduction"])
    p.add_argument("--amount", help="default: all that is open")
    p.add_argument("--reason-code", choices=[r.value for r in DeductionReason])
    p.add_argument("--memo")
    p.add_argument("--dispute", action="store_true", help="flag the deduction for a dispute")
    p = add_command(g, common, "recover", cmd_invoice_recover,
                    "apply a payment to a written-off invoice (reverses the write-off)")
    p.add_argument("number")
    p.add_argument("--receipt", required=True)
    p.add_argument("--amount", help="default: what the receipt has unallocated")
    p = add_command(g, common, "history", cmd_invoice_history,
                    "the settlement history of an invoice")
    p.add_argument("number")


def register_credit_note(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    g = add_group(sub, "credit-note", "credit notes")
    p = add_command(g, common, "create", cmd_credit_note_create,
                    "write a credit note (or post it)")
    _document_options(p)
    p.add_argument("--corrects", help="number of the invoice it corrects")
    p.add_argument("--buyer-reference")
