"""What the ledger says as a whole: ``balance`` (per customer and in total), ``open-items``,
and ``check`` (whether every ledger invariant holds). Parsing and rendering only."""

from __future__ import annotations

import argparse
from typing import Any

from .common import Subparsers, add_command, as_of_day, company_of
from .render import emit_json, emit_json_array, money, money_text, table


def _customer_id(args: argparse.Namespace, company: Any) -> int | None:
    """The ``--customer`` the report is limited to, if any."""
    if not args.customer:
        return None
    from salesledger.apps.customers.selectors import customer_get

    return int(customer_get(company, args.customer).pk)


def cmd_balance(args: argparse.Namespace) -> int:
    from salesledger.apps.customers.selectors import customer_codes
    from salesledger.apps.payments.selectors import customer_balances

    company = company_of(args)
    as_of = as_of_day(args, company)
    cid = _customer_id(args, company)
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

    company = company_of(args)
    as_of = as_of_day(args, company)
    cid = _customer_id(args, company)
    items = open_items(company, customer_id=cid, as_of=as_of, overdue_only=args.overdue)
    if args.json:  # streamed: a million items are written as they are read
        emit_json_array(
            {
                **i,
                "amount": money(i["amount"], i["currency"]),
                "open": money(i["open"], i["currency"]),
                "days_overdue": max((as_of - i["due_date"]).days, 0)
                if i["type"] == "instalment"
                else None,
            }
            for i in items
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


def cmd_check(args: argparse.Namespace) -> int:
    from salesledger.apps.core.invariants import check_company
    from salesledger.apps.core.selectors import companies_all

    companies = [company_of(args)] if args.company else companies_all()
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


# ---------------------------------------------------------------- registration
def register_balance(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = add_command(sub, common, "balance", cmd_balance, "balance per customer and in total")
    p.add_argument("--customer")


def register_open_items(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = add_command(sub, common, "open-items", cmd_open_items, "open items per customer")
    p.add_argument("--customer")
    p.add_argument("--overdue", action="store_true")


def register_check(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    add_command(sub, common, "check", cmd_check,
                "verify every ledger invariant; exit 1 on a breach")
