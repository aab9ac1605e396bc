"""``quote create|send|accept|decline|revise|convert|show|list``: quotes, offers that become
invoices (docs/design/quotes.md). Parsing and rendering only."""

from __future__ import annotations

import argparse
from typing import Any

from salesledger.domain.errors import ValidationFailed

from .common import (
    Subparsers,
    actor_of,
    add_command,
    add_credit_override_option,
    add_group,
    as_of_day,
    charge_options,
    company_of,
    parse_date,
    parse_decimal,
    parse_lines,
)
from .display import show_invoice
from .render import emit_json, kv, table


# ---------------------------------------------------------------- quotes
def _show_quote(args: argparse.Namespace, company: Any, label: str, note: str = "") -> int:
    from salesledger.apps.quotes.selectors import quote_detail

    d = quote_detail(company, label, as_of=as_of_day(args, company))
    if args.json:
        emit_json({**d, "note": note} if note else d)
        return 0
    if note:
        print(note)
    pairs = [("quote", d["quote"]), ("state", d["state"]), ("customer", d["customer"]),
             ("issue date", d["issue_date"]), ("valid until", d["valid_until"]),
             ("sent on", d["sent_on"]), ("decided on", d["decided_on"]), ("terms", d["terms"]),
             ("PO number", d["po_number"]), ("buyer reference", d["buyer_reference"]),
             ("replaces", d["replaces"]), ("replaced by", d["replaced_by"]),
             ("invoice", d["invoice"]), ("net", d["net"]["amount"]),
             ("tax", d["tax"]["amount"]), ("total", f"{d['total']['amount']} {d['currency']}")]
    kv([(k, v) for k, v in pairs if v not in (None, "")])
    table([(li["description"], li["quantity"], li["unit_price"], li["discount_percent"],
            li["tax_rate"], li["net"]["amount"], li["tax"]["amount"]) for li in d["lines"]],
          ["description", "qty", "unit price", "disc %", "tax %", "net", "tax"])
    if d["charges"]:
        table([(c["kind"], c["reason"] or c["reason_code"],
                f"{c['percent']}%" if c["percent"] is not None else "", c["tax_rate"],
                ("-" if c["kind"] == "allowance" else "") + c["amount"]["amount"])
               for c in d["charges"]], ["allowance/charge", "reason", "of lines", "tax %",
                                        "amount"])
    return 0


def _charges(args: argparse.Namespace) -> list[Any] | None:
    """``--charge`` and ``--allowance`` as the invoice takes them; None when neither is given
    (a revision keeps the quote's), [] with ``--no-charges`` (a revision drops them)."""
    given = charge_options(args)
    if getattr(args, "no_charges", False):
        if given:
            raise ValidationFailed("--no-charges removes the allowances and charges: give it "
                                   "without --charge or --allowance")
        return []
    return given or None


def cmd_quote_create(args: argparse.Namespace) -> int:
    from salesledger.apps.quotes.services import QuoteInput, quote_create

    company = company_of(args)
    q = quote_create(actor=actor_of(args, company), company=company, as_of=as_of_day(args, company),
                     data=QuoteInput(
                         customer_code=args.customer, lines=parse_lines(args.line) or [],
                         issue_date=parse_date(args.date, "--date") if args.date else None,
                         valid_until=parse_date(args.valid_until, "--valid-until")
                         if args.valid_until else None,
                         currency=args.currency or "", terms_code=args.terms or "",
                         po_number=args.po or "", buyer_reference=args.buyer_reference or "",
                         notes=args.notes or "", charges=_charges(args) or []))
    return _show_quote(args, company, q.label)


def cmd_quote_send(args: argparse.Namespace) -> int:
    from salesledger.apps.documents.delivery import quote_send

    company = company_of(args)
    sent = quote_send(actor=actor_of(args, company), company=company, number=args.number,
                      as_of=as_of_day(args, company), email=not args.no_email)
    note = f"quote {sent.quote.label} marked sent; {sent.detail}"
    if args.json:
        emit_json({"quote": sent.quote.label, "status": sent.quote.status,
                   "emailed": sent.emailed, "detail": sent.detail})
    else:
        print(note)
    return 0


def cmd_quote_accept(args: argparse.Namespace) -> int:
    from salesledger.apps.quotes.services import quote_accept

    company = company_of(args)
    q = quote_accept(actor=actor_of(args, company), company=company, number=args.number,
                     as_of=as_of_day(args, company), credit_override=args.override_credit)
    return _show_quote(args, company, q.label, f"quote {q.label} accepted")


def cmd_quote_decline(args: argparse.Namespace) -> int:
    from salesledger.apps.quotes.services import quote_decline

    company = company_of(args)
    q = quote_decline(actor=actor_of(args, company), company=company, number=args.number,
                      as_of=as_of_day(args, company), reason=args.reason or "")
    return _show_quote(args, company, q.label, f"quote {q.label} declined")


def cmd_quote_revise(args: argparse.Namespace) -> int:
    from salesledger.apps.quotes.selectors import quote_get
    from salesledger.apps.quotes.services import quote_revise

    company = company_of(args)
    before = quote_get(company, args.number).label
    q = quote_revise(actor=actor_of(args, company), company=company, number=args.number,
                     as_of=as_of_day(args, company), lines=parse_lines(args.line, required=False),
                     valid_until=parse_date(args.valid_until, "--valid-until")
                     if args.valid_until else None,
                     terms_code=args.terms, po_number=args.po,
                     buyer_reference=args.buyer_reference, notes=args.notes,
                     charges=_charges(args))
    note = (f"quote {q.label} edited" if q.label == before
            else f"quote {before} revised: {q.label} replaces it")
    return _show_quote(args, company, q.label, note)


def cmd_quote_convert(args: argparse.Namespace) -> int:
    from salesledger.apps.quotes.services import quote_convert

    company = company_of(args)
    inv = quote_convert(actor=actor_of(args, company), company=company, number=args.number,
                        post=args.post, as_of=as_of_day(args, company),
                        rate=parse_decimal(args.rate, "--rate") if args.rate else None,
                        credit_override=args.override_credit)
    if not args.json:
        print(f"quote {args.number} converted into "
              f"{inv.number or f'draft invoice #{inv.pk}'}")
    return show_invoice(args, company, inv.number or str(inv.pk))


def cmd_quote_show(args: argparse.Namespace) -> int:
    return _show_quote(args, company_of(args), args.number)


def cmd_quote_list(args: argparse.Namespace) -> int:
    from salesledger.apps.quotes.selectors import quote_list, quotes_outstanding

    company = company_of(args)
    as_of = as_of_day(args, company)
    if args.outstanding:
        expired = True if args.expired else False if args.valid else None
        data = quotes_outstanding(company, as_of=as_of, order=args.by, expired=expired,
                                  customer_code=args.customer, limit=args.limit,
                                  offset=args.offset)
        if args.json:
            emit_json(data)
            return 0
        table([(r["quote"], r["customer"], r["sent_on"], r["age_days"], r["valid_until"],
                r["state"], r["total"]["amount"], r["currency"]) for r in data["quotes"]],
              ["quote", "customer", "sent", "age", "valid until", "state", "total", "cur"])
        for t in data["totals"]:
            print(f"outstanding {t['count']} quote(s): {t['total']['amount']} {t['currency']}"
                  f" (expired {t['expired']}: {t['expired_total']['amount']})")
        return 0
    rows = quote_list(company, as_of=as_of, customer_code=args.customer, status=args.status,
                      include_superseded=args.all, limit=args.limit, offset=args.offset)
    if args.json:
        emit_json(rows)
    else:
        table([(r["quote"], r["customer"], r["issue_date"], r["valid_until"], r["state"],
                r["total"]["amount"], r["currency"], r["invoice"]) for r in rows],
              ["quote", "customer", "date", "valid until", "state", "total", "cur", "invoice"])
    return 0




# ---------------------------------------------------------------- registration
def _quote_fields(p: argparse.ArgumentParser) -> None:
    p.add_argument("--line", action="append", metavar="'DESC;QTY;PRICE[;TAX%[;DISC%[;CAT]]]'")
    p.add_argument("--valid-until", metavar="YYYY-MM-DD")
    p.add_argument("--terms")
    p.add_argument("--po", help="the customer's purchase order number")
    p.add_argument("--buyer-reference")
    p.add_argument("--notes")
    p.add_argument("--charge", action="append", metavar="'REASON;AMOUNT;TAX%[;CAT[;CODE]]'",
                   help="a document-level charge (freight, packing), as on an invoice; "
                        "AMOUNT may be a percentage of the lines of its tax rate (5%%)")
    p.add_argument("--allowance", action="append", metavar="'REASON;AMOUNT;TAX%[;CAT[;CODE]]'",
                   help="a document-level allowance (a discount on the whole quote)")


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    g = add_group(sub, "quote", "quotes: offers that become invoices")
    p = add_command(g, common, "create", cmd_quote_create, "write a draft quote")
    p.add_argument("--customer", required=True)
    p.add_argument("--date", help="quote date (default: --as-of, or today)")
    p.add_argument("--currency")
    _quote_fields(p)
    p = add_command(g, common, "send", cmd_quote_send,
                    "mark a quote sent (and e-mail it when document delivery is installed)")
    p.add_argument("number")
    p.add_argument("--no-email", action="store_true", help="only mark it sent")
    p = add_command(g, common, "accept", cmd_quote_accept, "the customer accepted the quote")
    p.add_argument("number")
    add_credit_override_option(p)
    p = add_command(g, common, "decline", cmd_quote_decline, "the customer declined the quote")
    p.add_argument("number")
    p.add_argument("--reason")
    p = add_command(g, common, "revise", cmd_quote_revise,
                    "change a quote: a draft in place, a sent one as a new revision")
    p.add_argument("number")
    _quote_fields(p)
    p.add_argument("--no-charges", action="store_true",
                   help="remove the quote's allowances and charges (--charge and --allowance "
                        "replace them; neither: they are kept)")
    p = add_command(g, common, "convert", cmd_quote_convert,
                    "turn an accepted quote into an invoice (posted with --post)")
    p.add_argument("number")
    p.add_argument("--post", action="store_true")
    p.add_argument("--rate", help="exchange rate for a quote in a foreign currency")
    add_credit_override_option(p)
    p = add_command(g, common, "show", cmd_quote_show, "show a quote")
    p.add_argument("number")
    p = add_command(g, common, "list", cmd_quote_list,
                    "list quotes, or --outstanding for follow-up")
    p.add_argument("--outstanding", action="store_true",
                   help="sent quotes without an answer, oldest first")
    p.add_argument("--by", choices=["age", "value"], default="age")
    x = p.add_mutually_exclusive_group()
    x.add_argument("--expired", action="store_true", help="with --outstanding: expired only")
    x.add_argument("--valid", action="store_true", help="with --outstanding: valid only")
    p.add_argument("--customer")
    p.add_argument("--status", choices=["draft", "sent", "expired", "accepted", "declined",
                                        "superseded"])
    p.add_argument("--all", action="store_true", help="include superseded revisions")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--offset", type=int, default=0)
