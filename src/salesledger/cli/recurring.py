"""``recurring add|list|show|stop|resume|run``: recurring invoice schedules
(docs/design/recurring-invoices.md). Parsing and rendering only."""

from __future__ import annotations

import argparse

from salesledger.domain.errors import ValidationFailed

from .common import (
    Subparsers,
    actor_of,
    add_command,
    add_group,
    as_of_day,
    company_of,
    parse_date,
    parse_decimal,
    parse_lines,
)
from .render import emit_json, table


# ---------------------------------------------------------------- recurring invoices
def cmd_recurring_add(args: argparse.Namespace) -> int:
    from salesledger.apps.recurring.services import ScheduleInput, recurring_add

    company = company_of(args)
    if args.count is not None and args.count < 1:
        raise ValidationFailed("--count must be at least 1")
    s = recurring_add(actor=actor_of(args, company), company=company,
                      as_of=as_of_day(args, company),
                      data=ScheduleInput(
                          customer_code=args.customer, lines=parse_lines(args.line) or [],
                          every=args.every, start=parse_date(args.start, "--start"),
                          end=parse_date(args.end, "--end") if args.end else None, count=args.count,
                          currency=args.currency or "",
                          rate=parse_decimal(args.rate, "--rate") if args.rate else None,
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

    company = company_of(args)
    rows = recurring_list(company, as_of=as_of_day(args, company), active_only=args.active,
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

    company = company_of(args)
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

    company = company_of(args)
    s = recurring_set_active(actor=actor_of(args, company), company=company,
                             schedule_id=args.id, active=active, as_of=as_of_day(args, company))
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

    company = company_of(args)
    schedule_id = recurring_get(company, args.schedule).pk if args.schedule else None
    summary = recurring_run(actor=actor_of(args, company), company=company,
                            as_of=as_of_day(args, company), schedule_id=schedule_id)
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


# ---------------------------------------------------------------- registration
def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    g = add_group(sub, "recurring", "recurring invoices")
    p = add_command(g, common, "add", cmd_recurring_add, "add a recurring invoice schedule")
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
    p = add_command(g, common, "list", cmd_recurring_list, "list recurring schedules")
    p.add_argument("--active", action="store_true")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--offset", type=int, default=0)
    p = add_command(g, common, "show", cmd_recurring_show, "the periods a schedule has issued")
    p.add_argument("id")
    p = add_command(g, common, "stop", cmd_recurring_stop, "stop a schedule")
    p.add_argument("id")
    p = add_command(g, common, "resume", cmd_recurring_resume, "resume a stopped schedule")
    p.add_argument("id")
    p = add_command(g, common, "run", cmd_recurring_run,
                    "issue every due period up to --as-of (default today) not issued yet")
    p.add_argument("--schedule", help="only this schedule")
