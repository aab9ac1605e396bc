"""``dispute open|resolve|reject|list``, ``promise add|list|review``, ``plan
create|show|list|review`` and ``worklist [assign]``: collections casework
(docs/design/collections.md). Parsing and rendering only; the collections app keeps the rules.
The timeline commands (``customer note|call|timeline``) are in the customer group."""

from __future__ import annotations

import argparse
from typing import Any

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
from .files import read_bytes
from .render import emit_json, money, money_text, table


# ---------------------------------------------------------------- disputes
def _dispute_json(d: Any) -> dict[str, Any]:
    return {"id": d.pk, "invoice": d.invoice.number, "customer": d.customer.code,
            "amount": money(d.amount, d.currency), "reason": d.reason, "status": d.status,
            "opened_on": d.opened_on, "due_date": d.due_date,
            "owner": d.owner.get_username() if d.owner else None, "notes": d.notes,
            "from_deduction": d.adjustment_id, "closed_on": d.closed_on,
            "resolution": d.resolution or None,
            "credit_note": d.credit_note.number if d.credit_note else None,
            "write_off": d.write_off_id, "resolution_notes": d.resolution_notes}


def _show_dispute(args: argparse.Namespace, d: Any, verb: str) -> int:
    if args.json:
        emit_json(_dispute_json(d))
        return 0
    extra = ""
    if d.credit_note:
        extra = f" by credit note {d.credit_note.number}"
    elif d.write_off_id:
        extra = f" by write-off (adjustment {d.write_off_id})"
    print(f"dispute {d.pk} {verb}: {money_text(d.amount, d.currency)} of {d.invoice.number} "
          f"({d.reason}){extra}")
    return 0


def cmd_dispute_open(args: argparse.Namespace) -> int:
    from salesledger.apps.collections.services import Attachment, DisputeSpec, dispute_open

    company = company_of(args)
    files = tuple(Attachment.of(path, read_bytes(path, "attachment"))
                  for path in args.attach or [])
    d = dispute_open(actor=actor_of(args, company), company=company,
                     day=as_of_day(args, company), spec=DisputeSpec(
                         invoice=args.invoice, reason=args.reason,
                         amount=parse_decimal(args.amount, "--amount") if args.amount else None,
                         owner=args.owner or "",
                         due_date=parse_date(args.due, "--due") if args.due else None,
                         notes=args.notes or "", attachments=files))
    return _show_dispute(args, d, "opened")


def cmd_dispute_resolve(args: argparse.Namespace) -> int:
    from salesledger.apps.collections.services import dispute_resolve

    company = company_of(args)
    d = dispute_resolve(actor=actor_of(args, company), company=company, dispute_id=args.id,
                        day=as_of_day(args, company),
                        credit_note_lines=parse_lines(args.credit_note_line, required=False)
                        or [], credit_note=args.credit_note or "", write_off=args.write_off,
                        notes=args.notes or "")
    return _show_dispute(args, d, "resolved")


def cmd_dispute_reject(args: argparse.Namespace) -> int:
    from salesledger.apps.collections.services import dispute_reject

    company = company_of(args)
    d = dispute_reject(actor=actor_of(args, company), company=company, dispute_id=args.id,
                       day=as_of_day(args, company), notes=args.notes or "")
    return _show_dispute(args, d, "rejected")


def cmd_dispute_list(args: argparse.Namespace) -> int:
    from salesledger.apps.collections.selectors import disputes_list

    rows = list(disputes_list(company_of(args), status=args.status or "",
                              customer=args.customer or "", invoice=args.invoice or ""))
    if args.json:
        emit_json([_dispute_json(d) for d in rows])
    else:
        table([(d.pk, d.customer.code, d.invoice.number, money_text(d.amount, d.currency),
                d.reason, d.status, d.opened_on, d.due_date or "", d.resolution)
               for d in rows],
              ["id", "customer", "invoice", "amount", "reason", "status", "opened", "due",
               "resolution"])
    return 0


# ---------------------------------------------------------------- promises
def _promise_json(v: Any) -> dict[str, Any]:
    p = v.promise
    return {"id": p.pk, "customer": p.customer.code,
            "invoice": p.invoice.number if p.invoice else None,
            "amount": money(p.amount, p.currency), "made_on": p.made_on,
            "promised_date": p.promised_date, "paid": money(v.paid, p.currency),
            "state": v.state.value, "recorded_outcome": p.outcome or None, "notes": p.notes}


def cmd_promise_add(args: argparse.Namespace) -> int:
    from salesledger.apps.collections.selectors import promises_view
    from salesledger.apps.collections.services import promise_add

    company = company_of(args)
    day = as_of_day(args, company)
    p = promise_add(actor=actor_of(args, company), company=company, customer=args.customer,
                    invoice=args.invoice or "", amount=parse_decimal(args.amount, "--amount"),
                    promised_date=parse_date(args.date, "--date"), day=day,
                    notes=args.notes or "")
    [v] = promises_view([p], day)
    if args.json:
        emit_json(_promise_json(v))
    else:
        print(f"promise {p.pk}: {args.customer} promised {money_text(p.amount, p.currency)} "
              f"by {p.promised_date}; reminders wait until then")
    return 0


def _promise_table(rows: list[Any]) -> None:
    table([(v.promise.pk, v.promise.customer.code,
            v.promise.invoice.number if v.promise.invoice else "(account)",
            money_text(v.promise.amount, v.promise.currency), v.promise.promised_date,
            money_text(v.paid, v.promise.currency), v.state.value) for v in rows],
          ["id", "customer", "invoice", "amount", "by", "paid", "state"])


def cmd_promise_list(args: argparse.Namespace) -> int:
    from salesledger.apps.collections.selectors import promises_list

    company = company_of(args)
    rows = promises_list(company, as_of=as_of_day(args, company), customer=args.customer or "",
                         state=args.state or "")
    if args.json:
        emit_json([_promise_json(v) for v in rows])
    else:
        _promise_table(rows)
    return 0


def cmd_promise_review(args: argparse.Namespace) -> int:
    from salesledger.apps.collections.services import promises_observe

    company = company_of(args)
    rows = promises_observe(actor=actor_of(args, company), company=company,
                            as_of=as_of_day(args, company))
    if args.json:
        emit_json([_promise_json(v) for v in rows])
    else:
        _promise_table(rows)
        print(f"{len(rows)} promise(s) newly kept or broken")
    return 0


# ---------------------------------------------------------------- plans
def _plan_json(v: Any) -> dict[str, Any]:
    p = v.plan
    return {"id": p.pk, "customer": p.customer.code, "total": money(p.total, p.currency),
            "created_on": p.created_on, "state": v.state, "paid": money(v.progress.paid,
                                                                        p.currency),
            "broken_on": v.progress.broken_on, "grace_days": p.grace_days,
            "hold_on_break": p.hold_on_break,
            "instalments": [{"number": li.number, "due_date": li.due_date,
                             "amount": money(li.amount, p.currency),
                             "open": money(still, p.currency)}
                            for li, still in zip(v.lines, v.progress.open, strict=True)],
            "items": [{"invoice": i.invoice, "amount": money(i.amount, p.currency)}
                      for i in v.items]}


def _show_plan(args: argparse.Namespace, v: Any) -> int:
    if args.json:
        emit_json(_plan_json(v))
        return 0
    p = v.plan
    print(f"payment plan {p.pk} for {p.customer.code}: {money_text(p.total, p.currency)}, "
          f"{v.state}" + (f" (broken on {v.progress.broken_on})" if v.progress.broken_on else ""))
    print("rescheduled: " + ", ".join(f"{i.invoice} {money_text(i.amount, p.currency)}"
                                      for i in v.items))
    table([(li.number, li.due_date, money_text(li.amount, p.currency),
            money_text(still, p.currency)) for li, still in zip(v.lines, v.progress.open,
                                                                strict=True)],
          ["#", "due", "amount", "open"])
    return 0


def cmd_plan_create(args: argparse.Namespace) -> int:
    from salesledger.apps.collections.selectors import plan_get
    from salesledger.apps.collections.services import plan_create

    company = company_of(args)
    day = as_of_day(args, company)
    plan = plan_create(actor=actor_of(args, company), company=company, customer=args.customer,
                       day=day, instalments=args.instalments,
                       first_due=parse_date(args.first_due, "--first-due"),
                       every_days=args.every, invoices=args.invoice or [],
                       grace_days=args.grace, hold_on_break=args.hold_on_break,
                       notes=args.notes or "")
    return _show_plan(args, plan_get(company, plan.pk, as_of=day))


def cmd_plan_show(args: argparse.Namespace) -> int:
    from salesledger.apps.collections.selectors import plan_get

    company = company_of(args)
    return _show_plan(args, plan_get(company, args.id, as_of=as_of_day(args, company)))


def _plans_table(rows: list[Any]) -> None:
    table([(v.plan.pk, v.plan.customer.code, money_text(v.plan.total, v.plan.currency),
            len(v.lines), money_text(v.progress.paid, v.plan.currency), v.state,
            v.progress.broken_on or "") for v in rows],
          ["id", "customer", "total", "instalments", "paid", "state", "broken on"])


def cmd_plan_list(args: argparse.Namespace) -> int:
    from salesledger.apps.collections.selectors import plans_list

    company = company_of(args)
    rows = plans_list(company, as_of=as_of_day(args, company), customer=args.customer or "",
                      state=args.state or "")
    if args.json:
        emit_json([_plan_json(v) for v in rows])
    else:
        _plans_table(rows)
    return 0


def cmd_plan_review(args: argparse.Namespace) -> int:
    from salesledger.apps.collections.services import plans_observe

    company = company_of(args)
    rows = plans_observe(actor=actor_of(args, company), company=company,
                         as_of=as_of_day(args, company))
    if args.json:
        emit_json([_plan_json(v) for v in rows])
    else:
        _plans_table(rows)
        print(f"{len(rows)} plan(s) newly broken")
    return 0


# ---------------------------------------------------------------- the worklist
def cmd_worklist(args: argparse.Namespace) -> int:
    from salesledger.apps.collections.selectors import worklist

    company = company_of(args)
    base = company.base_currency
    rows = worklist(company, as_of=as_of_day(args, company), collector=args.collector or "")
    if args.json:
        emit_json([{"customer": r.code, "name": r.name, "collector": r.collector or None,
                    "overdue": money(r.overdue, base), "held": money(r.held, base),
                    "days_overdue": r.days_overdue,
                    "risk_class": r.risk_class or None,
                    "default_probability": f"{r.default_probability:.4f}",
                    "expected_value": money(int(r.value), base), "next_action": r.next_action,
                    "call_due": r.call_due, "paused": list(r.paused)} for r in rows])
    else:
        table([(r.code, r.name[:30], r.collector, money_text(r.overdue, base), r.days_overdue,
                r.risk_class, money_text(int(r.value), base), r.next_action,
                "call" if r.call_due else "", ", ".join(r.paused)) for r in rows],
              ["customer", "name", "collector", "overdue", "days", "risk", "value", "next",
               "to do", "paused"])
    return 0


def cmd_worklist_assign(args: argparse.Namespace) -> int:
    from salesledger.apps.collections.services import worklist_assign

    company = company_of(args)
    rows = worklist_assign(actor=actor_of(args, company), company=company,
                           customers=args.customer, collector=args.collector_name,
                           day=as_of_day(args, company),
                           next_action=parse_date(args.next, "--next") if args.next else None)
    if args.json:
        emit_json([{"customer": c, "collector": args.collector_name,
                    "next_action": r.next_action_on} for c, r in zip(args.customer, rows,
                                                                     strict=True)])
    else:
        print(f"{', '.join(args.customer)} assigned to {args.collector_name}")
    return 0


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    """Add the ``dispute``, ``promise``, ``plan`` and ``worklist`` commands."""
    g = add_group(sub, "dispute", "disputes: amounts a customer contests, out of dunning")
    p = add_command(g, common, "open", cmd_dispute_open,
                    "open a dispute on an invoice (all that is open on it, or --amount)")
    p.add_argument("invoice", help="invoice number")
    p.add_argument("--reason", required=True,
                   help="pricing, quantity, quality, not_received, duplicate or other")
    p.add_argument("--amount", help="the disputed part (default: all that is open)")
    p.add_argument("--owner", help="the user who handles it")
    p.add_argument("--due", metavar="YYYY-MM-DD", help="to be resolved by")
    p.add_argument("--notes")
    p.add_argument("--attach", action="append", metavar="FILE",
                   help="a file to keep with the dispute (5 MB at most; repeatable)")
    p = add_command(g, common, "resolve", cmd_dispute_resolve,
                    "the customer was right: settle by a credit note or a write-off")
    p.add_argument("id", type=int)
    p.add_argument("--credit-note-line", action="append", metavar="LINE",
                   help="a line of the credit note to issue: 'description;quantity;unit "
                        "price;tax %%' (repeatable)")
    p.add_argument("--credit-note", metavar="NUMBER",
                   help="a posted credit note that corrects the invoice")
    p.add_argument("--write-off", action="store_true",
                   help="write the disputed amount off (a deduction accepted)")
    p.add_argument("--notes")
    p = add_command(g, common, "reject", cmd_dispute_reject,
                    "the customer was wrong: the amount is chased again")
    p.add_argument("id", type=int)
    p.add_argument("--notes")
    p = add_command(g, common, "list", cmd_dispute_list, "list disputes")
    p.add_argument("--status", choices=["open", "resolved", "rejected"])
    p.add_argument("--customer")
    p.add_argument("--invoice")

    g = add_group(sub, "promise", "promises to pay")
    p = add_command(g, common, "add", cmd_promise_add,
                    "record a customer's promise to pay an amount by a date")
    p.add_argument("customer", help="customer code")
    p.add_argument("--amount", required=True)
    p.add_argument("--date", required=True, metavar="YYYY-MM-DD", help="promised payment day")
    p.add_argument("--invoice", help="the invoice promised (default: the account)")
    p.add_argument("--notes")
    p = add_command(g, common, "list", cmd_promise_list,
                    "promises with what was paid and whether they are kept")
    p.add_argument("--customer")
    p.add_argument("--state", choices=["live", "kept", "broken"])
    add_command(g, common, "review", cmd_promise_review,
                "record the promises kept or broken by the day (credit counts them)")

    g = add_group(sub, "plan", "payment plans")
    p = add_command(g, common, "create", cmd_plan_create,
                    "reschedule a customer's overdue items into instalments")
    p.add_argument("customer", help="customer code")
    p.add_argument("--instalments", type=int, required=True)
    p.add_argument("--first-due", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--every", type=int, default=30, metavar="DAYS",
                   help="days between instalments (default 30)")
    p.add_argument("--invoice", action="append",
                   help="reschedule these invoices (default: every overdue item)")
    p.add_argument("--grace", type=int, default=0, metavar="DAYS",
                   help="days an instalment may be late before the plan breaks")
    p.add_argument("--hold-on-break", action="store_true",
                   help="put the customer on credit hold if the plan breaks")
    p.add_argument("--notes")
    p = add_command(g, common, "show", cmd_plan_show, "a plan, its instalments and items")
    p.add_argument("id", type=int)
    p = add_command(g, common, "list", cmd_plan_list, "list payment plans")
    p.add_argument("--customer")
    p.add_argument("--state", choices=["live", "complete", "broken"])
    add_command(g, common, "review", cmd_plan_review,
                "record the plans broken by the day (credit is told; a hold if asked)")

    p = add_command(sub, common, "worklist", cmd_worklist,
                    "who to chase today, by the expected value of acting")
    p.add_argument("--collector", help="only this collector's customers")
    w = p.add_subparsers(dest="worklist_command", required=False, metavar="ACTION")
    p = add_command(w, common, "assign", cmd_worklist_assign,
                    "give customers to a collector")
    p.add_argument("customer", nargs="+", help="customer code(s)")
    p.add_argument("collector_name", metavar="COLLECTOR", help="username of the collector")
    p.add_argument("--next", metavar="YYYY-MM-DD", help="the day to act next")
