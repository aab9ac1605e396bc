"""The ``quote``, ``recurring`` and ``worker`` sub-commands: argument parsing and
rendering only (registered from ``commands.register``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from salesledger.domain.errors import ValidationFailed

from .commands import Sub, _actor, _as_of, _cmd, _company, _date, _dec, _group, parse_line
from .render import emit_json, kv, table


def _lines(args: argparse.Namespace, required: bool = True) -> list[Any] | None:
    if not args.line:
        if required:
            raise ValidationFailed(
                "give at least one --line 'description;quantity;unit price;tax %'")
        return None
    return [parse_line(x) for x in args.line]


# ---------------------------------------------------------------- quotes
def _show_quote(args: argparse.Namespace, company: Any, label: str, note: str = "") -> int:
    from salesledger.apps.quotes.selectors import quote_detail

    d = quote_detail(company, label, as_of=_as_of(args, company))
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
    return 0


def cmd_quote_create(args: argparse.Namespace) -> int:
    from salesledger.apps.quotes.services import QuoteInput, quote_create

    company = _company(args)
    q = quote_create(actor=_actor(args, company), company=company, as_of=_as_of(args, company),
                     data=QuoteInput(
                         customer_code=args.customer, lines=_lines(args) or [],
                         issue_date=_date(args.date, "--date") if args.date else None,
                         valid_until=_date(args.valid_until, "--valid-until")
                         if args.valid_until else None,
                         currency=args.currency or "", terms_code=args.terms or "",
                         po_number=args.po or "", buyer_reference=args.buyer_reference or "",
                         notes=args.notes or ""))
    return _show_quote(args, company, q.label)


def cmd_quote_send(args: argparse.Namespace) -> int:
    from salesledger.apps.documents.delivery import quote_send

    company = _company(args)
    sent = quote_send(actor=_actor(args, company), company=company, number=args.number,
                      as_of=_as_of(args, company), email=not args.no_email)
    note = f"quote {sent.quote.label} marked sent; {sent.detail}"
    if args.json:
        emit_json({"quote": sent.quote.label, "status": sent.quote.status,
                   "emailed": sent.emailed, "detail": sent.detail})
    else:
        print(note)
    return 0


def cmd_quote_accept(args: argparse.Namespace) -> int:
    from salesledger.apps.quotes.services import quote_accept

    company = _company(args)
    q = quote_accept(actor=_actor(args, company), company=company, number=args.number,
                     as_of=_as_of(args, company))
    return _show_quote(args, company, q.label, f"quote {q.label} accepted")


def cmd_quote_decline(args: argparse.Namespace) -> int:
    from salesledger.apps.quotes.services import quote_decline

    company = _company(args)
    q = quote_decline(actor=_actor(args, company), company=company, number=args.number,
                      as_of=_as_of(args, company), reason=args.reason or "")
    return _show_quote(args, company, q.label, f"quote {q.label} declined")


def cmd_quote_revise(args: argparse.Namespace) -> int:
    from salesledger.apps.quotes.selectors import quote_get
    from salesledger.apps.quotes.services import quote_revise

    company = _company(args)
    before = quote_get(company, args.number).label
    q = quote_revise(actor=_actor(args, company), company=company, number=args.number,
                     as_of=_as_of(args, company), lines=_lines(args, required=False),
                     valid_until=_date(args.valid_until, "--valid-until")
                     if args.valid_until else None,
                     terms_code=args.terms, po_number=args.po,
                     buyer_reference=args.buyer_reference, notes=args.notes)
    note = (f"quote {q.label} edited" if q.label == before
            else f"quote {before} revised: {q.label} replaces it")
    return _show_quote(args, company, q.label, note)


def cmd_quote_convert(args: argparse.Namespace) -> int:
    from salesledger.apps.quotes.services import quote_convert

    from .commands import _show_doc

    company = _company(args)
    inv = quote_convert(actor=_actor(args, company), company=company, number=args.number,
                        post=args.post, as_of=_as_of(args, company),
                        rate=_dec(args.rate, "--rate") if args.rate else None)
    if not args.json:
        print(f"quote {args.number} converted into "
              f"{inv.number or f'draft invoice #{inv.pk}'}")
    return int(_show_doc(args, company, inv.number or str(inv.pk)))


def cmd_quote_show(args: argparse.Namespace) -> int:
    return _show_quote(args, _company(args), args.number)


def cmd_quote_list(args: argparse.Namespace) -> int:
    from salesledger.apps.quotes.selectors import quote_list, quotes_outstanding

    company = _company(args)
    as_of = _as_of(args, company)
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


# ---------------------------------------------------------------- recurring invoices
def cmd_recurring_add(args: argparse.Namespace) -> int:
    from salesledger.apps.recurring.services import ScheduleInput, recurring_add

    company = _company(args)
    if args.count is not None and args.count < 1:
        raise ValidationFailed("--count must be at least 1")
    s = recurring_add(actor=_actor(args, company), company=company, as_of=_as_of(args, company),
                      data=ScheduleInput(
                          customer_code=args.customer, lines=_lines(args) or [],
                          every=args.every, start=_date(args.start, "--start"),
                          end=_date(args.end, "--end") if args.end else None, count=args.count,
                          currency=args.currency or "",
                          rate=_dec(args.rate, "--rate") if args.rate else None,
                          terms_code=args.terms or "", po_number=args.po or "",
                          buyer_reference=args.buyer_reference or "", notes=args.notes or "",
                          auto_send=args.auto_send))
    if args.json:
        emit_json({"id": s.pk, "customer": args.customer})
    else:
        print(f"recurring schedule {s.pk} added for {args.customer}, every {args.every}, "
              f"from {s.start_date}")
    return 0


def cmd_recurring_list(args: argparse.Namespace) -> int:
    from salesledger.apps.recurring.selectors import recurring_list

    company = _company(args)
    rows = recurring_list(company, as_of=_as_of(args, company), active_only=args.active,
                          limit=args.limit, offset=args.offset)
    if args.json:
        emit_json(rows)
    else:
        table([(r["id"], r["customer"], r["every"], r["start"], r["end"] or "",
                r["count"] or "", r["issued"], r["next"] or "", r["state"],
                "yes" if r["auto_send"] else "", r["last_invoice"] or "") for r in rows],
              ["id", "customer", "every", "start", "end", "count", "issued", "next", "state",
               "auto-send", "last invoice"])
    return 0


def cmd_recurring_show(args: argparse.Namespace) -> int:
    from salesledger.apps.recurring.selectors import recurring_get, recurring_runs

    company = _company(args)
    schedule = recurring_get(company, args.id)
    rows = recurring_runs(company, schedule.pk)
    if args.json:
        emit_json(rows)
    else:
        table([(r["period"], r["start"], r["end"], r["invoice"], r["total"]["amount"],
                r["send_status"] or "", r["send_detail"]) for r in rows],
              ["period", "start", "end", "invoice", "total", "sent", "detail"])
    return 0


def _set_active(args: argparse.Namespace, active: bool) -> int:
    from salesledger.apps.recurring.services import recurring_set_active

    company = _company(args)
    s = recurring_set_active(actor=_actor(args, company), company=company,
                             schedule_id=args.id, active=active, as_of=_as_of(args, company))
    if args.json:
        emit_json({"id": s.pk, "active": active})
    else:
        print(f"recurring schedule {s.pk} {'resumed' if active else 'stopped'}")
    return 0


def cmd_recurring_stop(args: argparse.Namespace) -> int:
    return _set_active(args, False)


def cmd_recurring_resume(args: argparse.Namespace) -> int:
    return _set_active(args, True)


def cmd_recurring_run(args: argparse.Namespace) -> int:
    from salesledger.apps.recurring.selectors import recurring_get
    from salesledger.apps.recurring.services import recurring_run

    company = _company(args)
    schedule_id = recurring_get(company, args.schedule).pk if args.schedule else None
    summary = recurring_run(actor=_actor(args, company), company=company,
                            as_of=_as_of(args, company), schedule_id=schedule_id)
    if args.json:
        emit_json(summary.as_dict())
    else:
        if summary.issued:
            table([(i["schedule"], i["period"], i["period_start"], i["invoice"],
                    "queued" if i["auto_send"] else "") for i in summary.issued],
                  ["schedule", "period", "date", "invoice", "send"])
        print(f"issued {len(summary.issued)} invoice(s) as of {summary.as_of}"
              + (f"; {summary.remaining} more period(s) due: run again"
                 if summary.remaining else ""))
        for p in summary.problems:
            print(f"schedule {p['schedule']} period {p['period']} ({p['period_start']}): "
                  f"{p['code']}: {p['message']}")
    return 2 if summary.problems else 0


def cmd_worker(args: argparse.Namespace) -> int:
    from salesledger.worker import worker_loop

    if not args.json:
        worker_loop(once=args.once, interval=args.interval, report=print)
        return 0
    ran = worker_loop(once=args.once, interval=args.interval,
                      report=lambda line: print(line, file=sys.stderr))
    emit_json({"tasks": ran})
    return 0


# ---------------------------------------------------------------- registration
def _quote_fields(p: argparse.ArgumentParser) -> None:
    p.add_argument("--line", action="append", metavar="'DESC;QTY;PRICE[;TAX%[;DISC%[;CAT]]]'")
    p.add_argument("--valid-until", metavar="YYYY-MM-DD")
    p.add_argument("--terms")
    p.add_argument("--po", help="the customer's purchase order number")
    p.add_argument("--buyer-reference")
    p.add_argument("--notes")


def register(sub: Sub, common: argparse.ArgumentParser) -> None:
    g = _group(sub, "quote", "quotes: offers that become invoices")
    p = _cmd(g, common, "create", cmd_quote_create, "write a draft quote")
    p.add_argument("--customer", required=True)
    p.add_argument("--date", help="quote date (default: --as-of, or today)")
    p.add_argument("--currency")
    _quote_fields(p)
    p = _cmd(g, common, "send", cmd_quote_send,
             "mark a quote sent (and e-mail it when document delivery is installed)")
    p.add_argument("number")
    p.add_argument("--no-email", action="store_true", help="only mark it sent")
    p = _cmd(g, common, "accept", cmd_quote_accept, "the customer accepted the quote")
    p.add_argument("number")
    p = _cmd(g, common, "decline", cmd_quote_decline, "the customer declined the quote")
    p.add_argument("number")
    p.add_argument("--reason")
    p = _cmd(g, common, "revise", cmd_quote_revise,
             "change a quote: a draft in place, a sent one as a new revision")
    p.add_argument("number")
    _quote_fields(p)
    p = _cmd(g, common, "convert", cmd_quote_convert,
             "turn an accepted quote into an invoice (posted with --post)")
    p.add_argument("number")
    p.add_argument("--post", action="store_true")
    p.add_argument("--rate", help="exchange rate for a quote in a foreign currency")
    p = _cmd(g, common, "show", cmd_quote_show, "show a quote")
    p.add_argument("number")
    p = _cmd(g, common, "list", cmd_quote_list, "list quotes, or --outstanding for follow-up")
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

    g = _group(sub, "recurring", "recurring invoices")
    p = _cmd(g, common, "add", cmd_recurring_add, "add a recurring invoice schedule")
    p.add_argument("--customer", required=True)
    p.add_argument("--line", action="append", metavar="'DESC;QTY;PRICE[;TAX%[;DISC%[;CAT]]]'")
    p.add_argument("--every", required=True,
                   help="'1 month', '3 months', '2 weeks', '10 days', monthly, quarterly...")
    p.add_argument("--start", required=True, metavar="YYYY-MM-DD")
    x = p.add_mutually_exclusive_group()
    x.add_argument("--end", metavar="YYYY-MM-DD", help="last day a period may start")
    x.add_argument("--count", type=int, help="number of periods")
    p.add_argument("--auto-send", action="store_true", help="e-mail each invoice when issued")
    p.add_argument("--currency")
    p.add_argument("--rate")
    p.add_argument("--terms")
    p.add_argument("--po")
    p.add_argument("--buyer-reference")
    p.add_argument("--notes")
    p = _cmd(g, common, "list", cmd_recurring_list, "list recurring schedules")
    p.add_argument("--active", action="store_true")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--offset", type=int, default=0)
    p = _cmd(g, common, "show", cmd_recurring_show, "the periods a schedule has issued")
    p.add_argument("id")
    p = _cmd(g, common, "stop", cmd_recurring_stop, "stop a schedule")
    p.add_argument("id")
    p = _cmd(g, common, "resume", cmd_recurring_resume, "resume a stopped schedule")
    p.add_argument("id")
    p = _cmd(g, common, "run", cmd_recurring_run,
             "issue every due period up to --as-of (default today) not issued yet")
    p.add_argument("--schedule", help="only this schedule")

    p = _cmd(sub, common, "worker", cmd_worker,
             "run background tasks and the daily recurring run (until stopped)")
    p.add_argument("--once", action="store_true", help="one round, then exit")
    p.add_argument("--interval", type=float, default=5.0,
                   help="seconds between rounds (default 5)")
