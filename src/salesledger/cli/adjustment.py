"""``adjustment reverse|list|settings``: write-offs, deductions, discounts and bad debts as a
whole (docs/design/adjustments.md); the commands that make one belong to the invoice, receipt
and customer groups. Parsing and rendering only."""

from __future__ import annotations

import argparse

from .common import (
    Subparsers,
    actor_of,
    add_command,
    add_group,
    as_of_day,
    company_of,
    parse_decimal,
)
from .display import adjustment_json
from .render import emit_json, kv, money, money_text, table


# ---------------------------------------------------------------- adjustments
def cmd_adjustment_reverse(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.adjustments.writer import adjustment_reverse

    company = company_of(args)
    rev = adjustment_reverse(actor=actor_of(args, company), company=company,
                             adjustment_id=args.id, day=as_of_day(args, company),
                             reason=args.reason or "")
    if args.json:
        emit_json(adjustment_json(rev))
    else:
        print(f"adjustment {args.id} reversed by {rev.pk}: "
              f"{money_text(-rev.amount, rev.currency)} open again")
    return 0


def cmd_adjustment_list(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.history import adjustment_list

    company = company_of(args)
    rows = adjustment_list(company, kind=args.kind, customer_code=args.customer,
                           disputed=True if args.disputed else None, limit=args.limit,
                           offset=args.offset)
    if args.json:
        emit_json(rows)
        return 0
    table([(r["id"], r["date"], r["kind"], r["reason_code"], r["customer"], r["invoice"],
            f"{r['amount']['amount']} {r['amount']['currency']}",
            f"reversed by {r['reversed_by']}" if r["reversed_by"] else
            (f"reverses {r['reverses']}" if r["reverses"] else ""))
           for r in rows],
          ["id", "date", "kind", "reason", "customer", "invoice", "amount", "reversal"])
    return 0


def cmd_adjustment_settings(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.adjustments.settings import (
        settlement_settings,
        tax_settings_set,
    )

    company = company_of(args)
    if any(v is not None for v in (args.write_off_amount, args.write_off_percent,
                                   args.discount_tax_policy, args.vat_on_debits)):
        company = tax_settings_set(
            actor=actor_of(args, company), company=company, vat_on_debits=args.vat_on_debits,
            writeoff_tolerance_amount=(parse_decimal(args.write_off_amount, "--write-off-amount")
                                       if args.write_off_amount is not None else None),
            writeoff_tolerance_percent=(parse_decimal(args.write_off_percent, "--write-off-percent")
                                        if args.write_off_percent is not None else None),
            discount_tax_policy=args.discount_tax_policy)
    s = settlement_settings(company)
    data = {"writeoff_tolerance_amount": money(s.tolerance.amount, company.base_currency),
            "writeoff_tolerance_percent": format(s.tolerance.percent, "f"),
            "discount_tax_policy": s.discount_tax_policy.value,
            "vat_on_debits": company.vat_on_debits}
    if args.json:
        emit_json(data)
    else:
        kv([("write-off tolerance", f"{money_text(s.tolerance.amount, company.base_currency)}"
                                    f" and {data['writeoff_tolerance_percent']} % of the "
                                    "invoice"),
            ("discount tax policy", data["discount_tax_policy"]),
            ("VAT on debits", "yes" if company.vat_on_debits else "no")])
    return 0


# ---------------------------------------------------------------- registration
def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    g = add_group(sub, "adjustment", "write-offs, deductions, discounts and bad debts")
    p = add_command(g, common, "reverse", cmd_adjustment_reverse, "undo an adjustment")
    p.add_argument("id", type=int)
    p.add_argument("--reason")
    p = add_command(g, common, "list", cmd_adjustment_list, "list adjustments, newest first")
    p.add_argument("--kind", choices=["write_off", "deduction", "discount", "bad_debt"])
    p.add_argument("--customer")
    p.add_argument("--disputed", action="store_true", help="deductions flagged for a dispute")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--offset", type=int, default=0)
    p = add_command(g, common, "settings", cmd_adjustment_settings,
                    "show or set the write-off tolerance, the discount tax policy and VAT "
                    "on debits (all or nothing)")
    p.add_argument("--write-off-amount", help="in the base currency")
    p.add_argument("--write-off-percent", help="of the invoice total")
    p.add_argument("--discount-tax-policy", choices=["gross", "adjust_vat"])
    p.add_argument("--vat-on-debits", help="yes or no: the company pays VAT on its services "
                                           "when it invoices them")
