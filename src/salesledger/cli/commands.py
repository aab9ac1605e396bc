"""The ``salesledger`` sub-commands: argument parsing and rendering only."""

from __future__ import annotations

import argparse
import csv
import io
import sys
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from salesledger.domain.errors import LedgerError, ValidationFailed
from salesledger.domain.invoicing import DocumentChargeInput, LineInput

from .render import emit_json, kv, money, money_text, table

Sub = Any


# ---------------------------------------------------------------- shared helpers
def _company(args: argparse.Namespace) -> Any:
    """The company the command acts on; a ``--user`` given must at least be able to read it
    (every command, reads included; writes check their own role on top)."""
    from salesledger.apps.core.selectors import company_resolve
    from salesledger.apps.core.services import require_reader

    company = company_resolve(args.company)
    if getattr(args, "user", None):
        require_reader(company, args.user)
    return company


def _actor(args: argparse.Namespace, company: Any) -> Any:
    from salesledger.apps.core.selectors import company_owner, user_get

    return user_get(args.user) if args.user else company_owner(company)


def _today(company: Any) -> date:
    return datetime.now(ZoneInfo(company.time_zone)).date()


def _as_of(args: argparse.Namespace, company: Any) -> date:
    return _date(args.as_of, "--as-of") if args.as_of else _today(company)


def _date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{what}: {text!r} is not a date (YYYY-MM-DD)") from None


def _dec(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError):
        raise ValidationFailed(f"{what}: {text!r} is not a number") from None
    if not value.is_finite():
        raise ValidationFailed(f"{what}: {text!r} is not a number")
    return value


def parse_line(spec: str) -> LineInput:
    """``"description;quantity;unit price[;tax rate[;discount %[;tax category[;VAT exemption
    reason[;unit]]]]]"``."""
    parts = [p.strip() for p in spec.split(";")]
    if len(parts) < 3:
        raise ValidationFailed(f"--line {spec!r}: write 'description;quantity;unit price[;tax %]'")
    desc, qty, price = parts[:3]
    rate = parts[3] if len(parts) > 3 and parts[3] else "0"
    disc = parts[4] if len(parts) > 4 and parts[4] else "0"
    cat = parts[5] if len(parts) > 5 and parts[5] else "S"
    reason = parts[6] if len(parts) > 6 else ""
    unit = parts[7].upper() if len(parts) > 7 and parts[7] else "C62"
    return LineInput(
        desc,
        _dec(qty, "quantity"),
        _dec(price, "unit price"),
        _dec(rate.rstrip("%"), "tax rate"),
        _dec(disc.rstrip("%"), "discount"),
        cat,
        reason,
        unit,
    )


def parse_charge(spec: str, *, is_charge: bool) -> DocumentChargeInput:
    """``"reason;amount;tax rate[;tax category[;reason code]]"``: a document-level charge
    (``--charge``) or allowance (``--allowance``)."""
    what = "--charge" if is_charge else "--allowance"
    parts = [p.strip() for p in spec.split(";")]
    if len(parts) < 3:
        raise ValidationFailed(f"{what} {spec!r}: write 'reason;amount;tax %[;category[;code]]'")
    reason, amount, rate = parts[:3]
    category = parts[3].upper() if len(parts) > 3 and parts[3] else "S"
    code = parts[4].upper() if len(parts) > 4 else ""
    return DocumentChargeInput(is_charge, _dec(amount, f"{what} amount"), reason, code,
                               _dec(rate.rstrip("%"), f"{what} tax rate"), category)


def option_word(text: str) -> str:
    """A choice as typed: ``by-reference`` is ``by_reference``."""
    return text.strip().lower().replace("-", "_")


def _cmd(
    sub: Sub, common: argparse.ArgumentParser, name: str, handler: Any, help_: str
) -> argparse.ArgumentParser:
    p = sub.add_parser(name, parents=[common], help=help_, description=help_)
    p.set_defaults(handler=handler)
    return p


def _group(sub: Sub, name: str, help_: str) -> Sub:
    p = sub.add_parser(name, help=help_, description=help_)
    return p.add_subparsers(dest=f"{name}_command", required=True, metavar="ACTION")


# ---------------------------------------------------------------- init / company
def cmd_init(args: argparse.Namespace) -> int:
    from salesledger.apps.core.services import company_init

    if not args.company:
        raise ValidationFailed("init needs --company CODE")
    company, user = company_init(
        code=args.company, name=args.name or args.company, owner=args.owner,
        email=args.email or "", password=args.password, base_currency=args.currency,
        country=args.country, time_zone=args.time_zone,
        fiscal_year_start=args.fiscal_year_start, tax_rounding=args.tax_rounding)
    if args.json:
        emit_json({"company": company.code, "owner": user.username})
    else:
        print(f"company {company.code} created; owner {user.username}")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    from salesledger.apps.core.services import user_add

    company = _company(args)
    m = user_add(actor=_actor(args, company), company=company, username=args.username,
                 role=args.role, email=args.email or "", password=args.password)
    if args.json:
        emit_json({"user": args.username, "company": company.code, "role": m.role})
    else:
        print(f"{args.username} is now {m.role} of {company.code}")
    return 0


def cmd_period_close(args: argparse.Namespace) -> int:
    from salesledger.apps.core.services import company_close_period

    company = _company(args)
    company = company_close_period(
        actor=_actor(args, company), company=company, through=_date(args.through, "--through")
    )
    if args.json:
        emit_json({"company": company.code, "closed_through": company.lock_date})
    else:
        print(f"books of {company.code} closed through {company.lock_date}")
    return 0


# ---------------------------------------------------------------- customers
def cmd_customer_add(args: argparse.Namespace) -> int:
    from salesledger.apps.customers.services import (
        AddressInput,
        BankAccountInput,
        ContactInput,
        CustomerInput,
        customer_create,
    )

    company = _company(args)
    billing = None
    if args.address:
        billing = AddressInput(
            line1=args.address,
            city=args.city or "",
            postal_code=args.postal_code or "",
            country=(args.country or company.country),
        )
    data = CustomerInput(
        code=args.code,
        name=args.name,
        currency=args.currency or "",
        legal_name=args.legal_name or "",
        tax_id=args.tax_id or "",
        country=args.country or "",
        language=args.language,
        email=args.email or "",
        terms_code=args.terms or "",
        credit_limit=args.credit_limit or "",
        parent_code=args.parent or "",
        po_required=args.po_required,
        notes=args.notes or "",
        billing=billing,
        contacts=[
            ContactInput(
                name=args.contact or args.name,
                email=args.email,
                roles=("billing",),
                language=args.language,
            )
        ]
        if args.email
        else [],
        bank_accounts=[BankAccountInput(iban=i, bic=args.bic or "") for i in args.iban or []],
    )
    c = customer_create(actor=_actor(args, company), company=company, data=data)
    if args.json:
        emit_json({"code": c.code, "id": c.pk})
    else:
        print(f"customer {c.code} added")
    return 0


def cmd_customer_list(args: argparse.Namespace) -> int:
    from salesledger.apps.customers.selectors import customer_list

    company = _company(args)
    rows = customer_list(company, search=args.search, limit=args.limit, offset=args.offset)
    if args.json:
        emit_json(rows)
    else:
        table(
            [(r["code"], r["name"], r["currency"], r["country"], r["terms"]) for r in rows],
            ["code", "name", "currency", "country", "terms"],
        )
    return 0


# The customer fields ``customer update`` changes, as options of the same names.
UPDATABLE = ("name", "legal_name", "tax_id", "country", "language", "email", "phone", "notes",
             "credit_limit")


def cmd_customer_update(args: argparse.Namespace) -> int:
    from django.utils import timezone

    from salesledger.apps.customers.services import customer_update, customer_verify

    company = _company(args)
    actor = _actor(args, company)
    changes = {field: getattr(args, field) for field in UPDATABLE
               if getattr(args, field) is not None}
    if args.po_required is not None:
        changes["po_required"] = args.po_required
    if not changes and not args.verified:
        raise ValidationFailed("say what to change (see --help), or --verified")
    if changes:
        customer_update(actor=actor, company=company, code=args.code, **changes)
    if args.verified:
        customer_verify(actor=actor, company=company, code=args.code, at=timezone.now())
    what = sorted(changes) + (["verified"] if args.verified else [])
    if args.json:
        emit_json({"code": args.code, "changed": what})
    else:
        print(f"customer {args.code} updated: {', '.join(what)}")
    return 0


def cmd_customer_show(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.selectors import customer_account

    company = _company(args)
    d = customer_account(company, args.code, as_of=_as_of(args, company))
    if args.json:
        emit_json(d)
        return 0
    kv(
        [
            ("code", d["code"]),
            ("name", d["name"]),
            ("legal name", d["legal_name"]),
            ("tax id", d["tax_id"]),
            ("country", d["country"]),
            ("language", d["language"]),
            ("currency", d["currency"]),
            ("e-mail", d["email"]),
            ("phone", d["phone"]),
            ("terms", d["terms"]),
            ("credit limit", d["credit_limit"] and d["credit_limit"]["amount"]),
            ("PO required", d["po_required"]),
            ("verified at", d["verified_at"]),
            ("parent", d["parent"]),
            ("notes", d["notes"]),
        ]
    )
    for a in d["addresses"]:
        print(f"{a['kind']} address: {a['line1']}, {a['postal_code']} {a['city']}, {a['country']}")
    for c in d["contacts"]:
        print(f"contact: {c['name']} <{c['email']}> ({c['roles']})")
    for b in d["bank_accounts"]:
        print(f"bank account: {b['iban']} {b['bic']}")
    for bal in d["balances"]:
        print(f"balance: {bal['amount']} {bal['currency']}")
    return 0


# ---------------------------------------------------------------- invoices
def _invoice_input(args: argparse.Namespace, kind: str) -> Any:
    from salesledger.apps.invoicing.services import InvoiceInput

    if not args.line:
        raise ValidationFailed("give at least one --line 'description;quantity;unit price;tax %'")
    return InvoiceInput(
        customer_code=args.customer,
        issue_date=_date(args.date, "--date") if args.date else None,
        lines=[parse_line(x) for x in args.line],
        currency=args.currency or "",
        rate=_dec(args.rate, "--rate") if args.rate else None,
        terms_code=getattr(args, "terms", "") or "",
        po_number=getattr(args, "po", "") or "",
        buyer_reference=getattr(args, "buyer_reference", "") or "",
        notes=args.notes or "",
        kind=kind,
        corrects_number=getattr(args, "corrects", "") or "",
        charges=[parse_charge(x, is_charge=True) for x in args.charge or []]
        + [parse_charge(x, is_charge=False) for x in args.allowance or []],
    )


def _create_doc(args: argparse.Namespace, kind: str) -> int:
    from salesledger.apps.invoicing.services import invoice_create, invoice_post

    company = _company(args)
    actor = _actor(args, company)
    data = _invoice_input(args, kind)
    if data.issue_date is None:
        data.issue_date = _as_of(args, company)
    if args.post:  # refused before the draft is written, rather than leave it behind
        from salesledger.apps.core.services import document_date_check

        document_date_check(company, confirmed=args.allow_future_date)(data.issue_date)
    inv = invoice_create(actor=actor, company=company, data=data)
    if args.post:
        inv = invoice_post(actor=actor, company=company, invoice_id=inv.pk,
                           allow_future_date=args.allow_future_date)
    return _show_doc(args, company, inv.number or str(inv.pk))


def cmd_invoice_create(args: argparse.Namespace) -> int:
    return _create_doc(args, "invoice")


def cmd_credit_note_create(args: argparse.Namespace) -> int:
    return _create_doc(args, "credit_note")


def cmd_invoice_post(args: argparse.Namespace) -> int:
    from salesledger.apps.invoicing.selectors import invoice_get
    from salesledger.apps.invoicing.services import invoice_post

    company = _company(args)
    inv = invoice_get(company, args.id)
    inv = invoice_post(actor=_actor(args, company), company=company, invoice_id=inv.pk,
                       allow_future_date=args.allow_future_date)
    return _show_doc(args, company, inv.number)


def _show_doc(args: argparse.Namespace, company: Any, ref: str) -> int:
    from salesledger.apps.payments.selectors import invoice_detail

    d = invoice_detail(company, ref, as_of=_as_of(args, company))
    if args.json:
        emit_json(d)
        return 0
    kv(
        [
            ("number", d["number"] or f"draft #{d['id']}"),
            ("kind", d["kind"] + (" (opening item)" if d.get("opening") else "")),
            ("status", d["status"]),
            ("settlement", d["settlement"]),
            ("customer", d["customer"]),
            ("issue date", d["issue_date"]),
            ("due date", d["due_date"]),
            ("PO number", d["po_number"]),
            ("corrects", d["corrects"]),
            ("net", d["net"]["amount"]),
            ("tax", d["tax"]["amount"]),
            ("total", f"{d['total']['amount']} {d['currency']}"),
            ("open", f"{d['open']['amount']} {d['currency']}"),
        ]
    )
    table(
        [
            (
                li["description"],
                li["quantity"],
                li["unit_price"],
                li["tax_rate"],
                li["net"]["amount"],
                li["tax"]["amount"],
            )
            for li in d["lines"]
        ],
        ["description", "qty", "unit price", "tax %", "net", "tax"],
    )
    if d.get("charges"):
        table([(c["kind"], c["reason"] or c["reason_code"], c["tax_rate"], c["tax_category"],
                c["amount"]["amount"]) for c in d["charges"]],
              ["allowance/charge", "reason", "tax %", "cat", "amount"])
    if d["instalments"]:
        table(
            [
                (i["seq"], i["due_date"], i["amount"]["amount"], i["open"]["amount"])
                for i in d["instalments"]
            ],
            ["#", "due", "amount", "open"],
        )
    return 0


def cmd_invoice_show(args: argparse.Namespace) -> int:
    return _show_doc(args, _company(args), args.number)


def cmd_invoice_list(args: argparse.Namespace) -> int:
    from salesledger.apps.invoicing.selectors import invoice_list

    company = _company(args)
    rows = invoice_list(
        company,
        customer_code=args.customer,
        status=args.status,
        kind=args.kind,
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


def cmd_invoice_einvoice(args: argparse.Namespace) -> int:
    from salesledger.apps.documents.einvoice_files import einvoice_file, einvoice_filename
    from salesledger.apps.invoicing.einvoice import peppol_gaps
    from salesledger.apps.invoicing.selectors import invoice_get

    company = _company(args)
    if args.format == "facturx" and not args.output:
        raise ValidationFailed("a Factur-X PDF needs --output FILE (it is not text)")
    inv = invoice_get(company, args.number)
    stored = einvoice_file(actor=_actor(args, company), company=company, invoice=inv,
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


# ---------------------------------------------------------------- receipts
def cmd_receipt_record(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.services import ReceiptInput, receipt_record

    company = _company(args)
    r = receipt_record(
        actor=_actor(args, company),
        company=company,
        data=ReceiptInput(
            customer_code=args.customer,
            date=_date(args.date, "--date") if args.date else _as_of(args, company),
            amount=_dec(args.amount, "--amount"),
            currency=args.currency or "",
            rate=_dec(args.rate, "--rate") if args.rate else None,
            method=args.method,
            payer_reference=args.payer_reference or "",
            bank_reference=args.bank_reference or "",
            memo=args.memo or "",
        ),
    )
    if args.json:
        emit_json(
            {
                "number": r.number,
                "customer": args.customer,
                "amount": money(r.amount, r.currency),
                "date": r.date,
            }
        )
    else:
        print(f"receipt {r.number}: {money_text(r.amount, r.currency)} from {args.customer}")
    return 0


def cmd_receipt_allocate(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.services import Target, allocate

    company = _company(args)
    targets = []
    for spec in args.invoice or []:
        number, _, amount = spec.partition("=")
        if not amount:
            raise ValidationFailed(f"--invoice {spec!r}: write NUMBER=AMOUNT")
        targets.append(Target(number.strip(), _dec(amount, "--invoice amount")))
    if args.write_off_residual or args.deduction:
        # A short payment: the residual written off or deducted (adjustment_commands.py).
        from .adjustment_commands import receipt_allocate_short_cli

        return receipt_allocate_short_cli(args, targets)
    if args.policy or args.dry_run or args.rate:
        # By policy, as a preview, or across currencies (fx_commands.py).
        from .fx_commands import receipt_allocate_with_policy

        return receipt_allocate_with_policy(args, targets)
    is_cn = args.document.upper().startswith("CN")
    rows = allocate(
        actor=_actor(args, company),
        company=company,
        day=_as_of(args, company),
        receipt=None if is_cn else args.document,
        credit_note=args.document if is_cn else None,
        targets=targets,
        auto=args.auto,
    )
    out = [
        {
            "allocation": r.pk,
            "instalment": r.instalment_id,
            "invoice": r.instalment.invoice.number,
            "amount": money(r.amount, r.currency),
        }
        for r in rows
    ]
    if args.json:
        emit_json(out)
    elif not out:
        print("nothing to allocate: no open instalments or nothing unallocated")
    else:
        table(
            [(o["allocation"], o["invoice"], o["amount"]["amount"]) for o in out],
            ["allocation", "invoice", "amount"],
        )
    return 0


def cmd_receipt_unallocate(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.services import allocation_reverse

    company = _company(args)
    rev = allocation_reverse(
        actor=_actor(args, company),
        company=company,
        allocation_id=args.allocation,
        day=_as_of(args, company),
        reason=args.reason or "",
    )
    if args.json:
        emit_json({"reversal": rev.pk, "reverses": args.allocation})
    else:
        print(f"allocation {args.allocation} reversed by {rev.pk}")
    return 0


# ---------------------------------------------------------------- reports
def cmd_balance(args: argparse.Namespace) -> int:
    from salesledger.apps.customers.selectors import customer_codes
    from salesledger.apps.payments.selectors import customer_balances

    company = _company(args)
    as_of = _as_of(args, company)
    cid = None
    if args.customer:
        from salesledger.apps.customers.selectors import customer_get

        cid = customer_get(company, args.customer).pk
    balances = customer_balances(company, as_of=as_of, customer_id=cid)
    codes = customer_codes(company, {k[0] for k in balances})
    rows = sorted(
        ((codes[c], cur, v) for (c, cur), v in balances.items() if v or cid),
        key=lambda r: (r[0], r[1]),
    )
    totals: dict[str, int] = {}
    for _, cur, v in rows:
        totals[cur] = totals.get(cur, 0) + v
    if not totals:  # nothing open: a total of zero, in the company's currency
        totals[company.base_currency] = 0
    if args.json:
        emit_json(
            {
                "as_of": as_of,
                "customers": [{"customer": c, "balance": money(v, cur)} for c, cur, v in rows],
                "total": [money(v, cur) for cur, v in sorted(totals.items())],
            }
        )
    else:
        table([(c, money_text(v, cur)) for c, cur, v in rows], ["customer", f"balance {as_of}"])
        for cur, v in sorted(totals.items()):
            print(f"total  {money_text(v, cur)}")
    return 0


def cmd_open_items(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.selectors import open_items

    company = _company(args)
    as_of = _as_of(args, company)
    cid = None
    if args.customer:
        from salesledger.apps.customers.selectors import customer_get

        cid = customer_get(company, args.customer).pk
    items = open_items(company, customer_id=cid, as_of=as_of, overdue_only=args.overdue)
    if args.json:
        emit_json(
            [
                {
                    **i,
                    "amount": money(i["amount"], i["currency"]),
                    "open": money(i["open"], i["currency"]),
                    "days_overdue": max((as_of - i["due_date"]).days, 0)
                    if i["type"] == "instalment"
                    else None,
                }
                for i in items
            ]
        )
        return 0
    table(
        (
            (
                i["customer"],
                i["type"],
                i["document"],
                i["seq"] or "",
                i["due_date"],
                money_text(i["open"], i["currency"]),
                max((as_of - i["due_date"]).days, 0) if i["type"] == "instalment" else "",
            )
            for i in items
        ),
        ["customer", "type", "document", "#", "due", "open", "days late"],
    )
    return 0


# ---------------------------------------------------------------- import / export
def cmd_import(args: argparse.Namespace) -> int:
    from salesledger.apps.interchange.csvio import import_file

    company = _company(args)
    result = import_file(
        kind=args.kind,
        path=args.file,
        company=company,
        actor=_actor(args, company),
        force=args.force,
        allow_future_date=args.allow_future_date,
    )
    if args.json:
        emit_json(result)
    else:
        print(f"imported {_import_count(args.kind, result)} from {args.file} "
              f"({_count(result['rows'], 'row')}, batch {result['batch']})")
    return 0


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _import_count(kind: str, result: dict[str, Any]) -> str:
    """What an import wrote, counted as people count it: documents, not CSV rows (an invoice
    of three lines is three rows)."""
    if kind == "invoices":
        parts = [_count(result["invoices"], "invoice")]
        if result["credit_notes"]:
            parts.append(_count(result["credit_notes"], "credit note"))
        return " and ".join(parts)
    if kind == "customers":
        return _count(result["customers"], "customer")
    return _count(result["receipts"], "receipt")


def cmd_export(args: argparse.Namespace) -> int:
    from salesledger.apps.interchange.csvio import export_csv

    company = _company(args)
    as_of = _as_of(args, company)
    if args.file in (None, "-"):
        if args.json:  # the rows as objects, keyed by the CSV's column names
            text = io.StringIO()
            export_csv(kind=args.kind, company=company, out=text, as_of=as_of)
            text.seek(0)
            emit_json(list(csv.DictReader(text)))
        else:
            export_csv(kind=args.kind, company=company, out=sys.stdout, as_of=as_of)
        return 0
    with open(args.file, "w", newline="", encoding="utf-8") as fh:
        n = export_csv(kind=args.kind, company=company, out=fh, as_of=as_of)
    if args.json:
        emit_json({"kind": args.kind, "file": args.file, "rows": n})
    else:
        print(f"exported {n} rows to {args.file}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- demo / check / serve
def cmd_demo(args: argparse.Namespace) -> int:
    from salesledger.apps.interchange.demo import demo_load

    summary = demo_load(
        code=args.company or "demo",
        customers=args.customers,
        seed=args.seed,
        today=_date(args.as_of, "--as-of") if args.as_of else None,
    )
    if args.json:
        emit_json(summary)
    else:
        for k, v in summary.items():
            print(f"{k}: {v}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from salesledger.apps.core.invariants import check_company
    from salesledger.apps.core.selectors import companies_all

    companies = [_company(args)] if args.company else companies_all()
    if args.user:
        from salesledger.apps.core.services import require_reader

        for c in companies:
            require_reader(c, args.user)
    report = {c.code: [str(p) for p in check_company(c)] for c in companies}
    bad = sum(len(v) for v in report.values())
    args.exit_status = 1 if bad else 0  # kept even if the reader stops reading the output
    if args.json:
        emit_json({"ok": bad == 0, "problems": report})
    else:
        for code, problems in report.items():
            print(f"{code}: {'ok' if not problems else f'{len(problems)} problem(s)'}")
            for p in problems:
                print(f"  {p}")
    return 1 if bad else 0


def cmd_serve(args: argparse.Namespace) -> int:
    from salesledger.cli.serve import serve

    return serve(host=args.host, port=args.port, demo=not args.no_demo,
                 worker=not args.no_worker)


# ---------------------------------------------------------------- registration
def register(sub: Sub, common: argparse.ArgumentParser) -> None:
    p = _cmd(sub, common, "init", cmd_init, "create a company and its owner")
    p.add_argument("--name")
    p.add_argument("--currency", default="EUR")
    p.add_argument("--country", default="FR")
    p.add_argument("--time-zone", default="Europe/Paris")
    p.add_argument("--fiscal-year-start", type=int, default=1)
    p.add_argument("--tax-rounding", choices=["per_line", "per_document"], default="per_line")
    p.add_argument("--owner", required=True, help="username of the owner (created if new)")
    p.add_argument("--email")
    p.add_argument("--password")

    g = _group(sub, "user", "users of a company")
    p = _cmd(g, common, "add", cmd_user_add, "add a user to the company with a role")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=["owner", "manager", "clerk", "viewer"])
    p.add_argument("--email")
    p.add_argument("--password")

    g = _group(sub, "period", "accounting periods")
    p = _cmd(g, common, "close", cmd_period_close, "close the books through a date")
    p.add_argument("--through", required=True)

    g = _group(sub, "customer", "customers")
    p = _cmd(g, common, "add", cmd_customer_add, "add a customer")
    p.add_argument("--code", required=True)
    p.add_argument("--name", required=True)
    for opt in (
        "--legal-name",
        "--tax-id",
        "--country",
        "--currency",
        "--terms",
        "--credit-limit",
        "--parent",
        "--email",
        "--contact",
        "--notes",
        "--address",
        "--city",
        "--postal-code",
        "--bic",
    ):
        p.add_argument(opt)
    p.add_argument("--language", default="en")
    p.add_argument("--iban", action="append")
    p.add_argument("--po-required", action="store_true")
    p = _cmd(g, common, "list", cmd_customer_list, "list customers")
    p.add_argument("--search")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--offset", type=int, default=0)
    p = _cmd(g, common, "show", cmd_customer_show, "show a customer")
    p.add_argument("code")
    p = _cmd(g, common, "update", cmd_customer_update,
             "change a customer's details (only the options given), or confirm them")
    p.add_argument("code")
    for field in UPDATABLE:
        p.add_argument("--" + field.replace("_", "-"), dest=field,
                       help="empty text clears it" if field in ("credit_limit", "notes") else None)
    p.add_argument("--po-required", dest="po_required", action="store_true", default=None)
    p.add_argument("--no-po-required", dest="po_required", action="store_false")
    p.add_argument("--verified", action="store_true",
                   help="record that the record was confirmed accurate now")
    # customer statement, invoice pdf|send, company and template: document_commands.py.
    from .document_commands import register_customer_extras, register_invoice_extras

    register_customer_extras(g, common)
    from .adjustment_commands import register_customer as register_customer_adjustments

    register_customer_adjustments(g, common)

    g = _group(sub, "invoice", "invoices")
    p = _cmd(g, common, "create", cmd_invoice_create, "write a draft invoice (or post it)")
    _doc_args(p)
    p.add_argument("--terms")
    p.add_argument("--po")
    p.add_argument("--buyer-reference")
    p = _cmd(g, common, "post", cmd_invoice_post, "post a draft invoice or credit note")
    p.add_argument("id", help="draft id")
    _future_date_arg(p)
    p = _cmd(g, common, "show", cmd_invoice_show, "show an invoice or credit note")
    p.add_argument("number")
    p = _cmd(g, common, "list", cmd_invoice_list, "list invoices and credit notes")
    p.add_argument("--customer")
    p.add_argument("--status", choices=["draft", "posted"])
    p.add_argument("--kind", choices=["invoice", "credit_note"])
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--offset", type=int, default=0)
    p = _cmd(g, common, "einvoice", cmd_invoice_einvoice,
             "write the e-invoice of a posted invoice or credit note (UBL, CII, Factur-X)")
    p.add_argument("number")
    p.add_argument("--format", required=True, choices=["ubl", "cii", "facturx"])
    p.add_argument("--output", "-o", metavar="FILE",
                   help="write to FILE (required for facturx); XML goes to stdout without it")

    register_invoice_extras(g, common)
    from .adjustment_commands import register_invoice as register_invoice_adjustments

    register_invoice_adjustments(g, common)

    g = _group(sub, "credit-note", "credit notes")
    p = _cmd(g, common, "create", cmd_credit_note_create, "write a credit note (or post it)")
    _doc_args(p)
    p.add_argument("--corrects", help="number of the invoice it corrects")
    p.add_argument("--buyer-reference")

    g = _group(sub, "receipt", "payments received")
    p = _cmd(g, common, "record", cmd_receipt_record, "record a payment received")
    p.add_argument("--customer", required=True)
    p.add_argument("--amount", required=True)
    p.add_argument("--date")
    p.add_argument("--currency")
    p.add_argument("--rate")
    p.add_argument("--method", default="bank_transfer")
    p.add_argument("--payer-reference")
    p.add_argument("--bank-reference")
    p.add_argument("--memo")
    p = _cmd(
        g,
        common,
        "allocate",
        cmd_receipt_allocate,
        "allocate a receipt (or credit note) to invoices, or --auto oldest first",
    )
    p.add_argument("document", help="receipt number, or credit note number (CN...)")
    p.add_argument("--invoice", action="append", metavar="NUMBER=AMOUNT")
    p.add_argument("--auto", action="store_true")
    p.add_argument("--policy", type=option_word,
                   choices=["oldest_first", "by_reference", "proportional", "manual"],
                   help="how to spread the receipt (by-reference and by_reference both work)")
    p.add_argument("--dry-run", action="store_true", help="show what would be allocated")
    p.add_argument("--rate", help="units of the invoice's currency per unit of the "
                                  "receipt's, to pay an invoice in another currency")
    allocate_parser = p
    p = _cmd(g, common, "unallocate", cmd_receipt_unallocate, "reverse an allocation")
    p.add_argument("allocation", type=int)
    p.add_argument("--reason")
    # auto-allocate, and fx rate/revalue, live in their own module (fx_commands.py).
    from .fx_commands import register_receipt_extras

    register_receipt_extras(g, common)
    # refund, reverse and the short-payment options live in adjustment_commands.py.
    from .adjustment_commands import add_allocate_options
    from .adjustment_commands import register_receipt as register_receipt_adjustments

    add_allocate_options(allocate_parser)
    register_receipt_adjustments(g, common)

    p = _cmd(sub, common, "balance", cmd_balance, "balance per customer and in total")
    p.add_argument("--customer")
    p = _cmd(sub, common, "open-items", cmd_open_items, "open items per customer")
    p.add_argument("--customer")
    p.add_argument("--overdue", action="store_true")

    p = _cmd(sub, common, "import", cmd_import, "import a CSV file (see docs/csv-formats.md)")
    p.add_argument("kind", choices=["customers", "invoices", "receipts"])
    p.add_argument("file")
    p.add_argument("--force", action="store_true", help="import a file seen before again")
    _future_date_arg(p)
    p = _cmd(sub, common, "export", cmd_export, "export CSV (see docs/csv-formats.md)")
    p.add_argument("kind", choices=["customers", "invoices", "receipts", "open-items"])
    p.add_argument("file", nargs="?")

    p = _cmd(sub, common, "demo", cmd_demo, "load a demo company with two years of history")
    p.add_argument("--customers", type=int, default=300)
    p.add_argument("--seed", type=int, default=20261123)
    _cmd(sub, common, "check", cmd_check, "verify every ledger invariant; exit 1 on a breach")
    p = _cmd(sub, common, "serve", cmd_serve, "migrate, load demo data if empty, and serve")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-demo", action="store_true")
    p.add_argument("--no-worker", action="store_true",
                   help="do not start the background worker (run 'salesledger worker' apart)")

    # quote, recurring and worker live in their own module (quote_commands.py).
    from .quote_commands import register as register_quotes

    register_quotes(sub, common)
    from .fx_commands import register as register_fx

    register_fx(sub, common)
    from .document_commands import register as register_documents

    register_documents(sub, common)
    from .adjustment_commands import register as register_adjustments

    register_adjustments(sub, common)


def _future_date_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-future-date", action="store_true",
                   help="post a document dated beyond the company's future-date horizon "
                        "(one year ahead by default)")


def _doc_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--customer", required=True)
    p.add_argument("--date")
    p.add_argument("--line", action="append",
                   metavar="'DESC;QTY;PRICE[;TAX%[;DISC%[;CAT[;EXEMPTION REASON[;UNIT]]]]]'")
    p.add_argument("--currency")
    p.add_argument("--rate")
    p.add_argument("--notes")
    p.add_argument("--post", action="store_true", help="post at once")
    _future_date_arg(p)
    p.add_argument("--charge", action="append", metavar="'REASON;AMOUNT;TAX%[;CAT[;CODE]]'",
                   help="a document-level charge (freight, packing); repeatable")
    p.add_argument("--allowance", action="append", metavar="'REASON;AMOUNT;TAX%[;CAT[;CODE]]'",
                   help="a document-level allowance (a discount on the whole document)")


__all__ = ["register", "LedgerError"]
