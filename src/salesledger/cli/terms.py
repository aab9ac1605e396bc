"""``terms add`` and ``terms list``: the company's payment terms. Parsing and rendering only;
the terms are checked by the pure core (``domain.terms``) and written by the customers
service."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any

from salesledger.domain.errors import ValidationFailed

from .common import Subparsers, actor_of, add_command, add_group, company_of
from .render import emit_json, table


def terms_spec(args: argparse.Namespace) -> str:
    """The compact terms text of ``domain.terms.parse_terms`` that the options describe."""
    if (args.days is None) == (args.instalments is None):
        raise ValidationFailed("give either --days N (one payment) or --instalments SPEC "
                               "(several payments)", field="days")
    if args.instalments is not None:
        if args.end_of_month:
            raise ValidationFailed("--end-of-month goes with --days; in --instalments write "
                                   "eom after the days (30eom/60eom)", field="end_of_month")
        spec = args.instalments.strip()
        if not spec or " " in spec:
            raise ValidationFailed(f"--instalments {args.instalments!r}: write e.g. 30/60/90 "
                                   "or 50%:0,50%:30", field="instalments")
    else:
        spec = args.days.strip() + ("eom" if args.end_of_month else "")
        if not spec.isdigit() and not (args.end_of_month and spec[:-3].isdigit()):
            raise ValidationFailed(f"--days {args.days!r} is not a whole number of days",
                                   field="days")
    if args.discount:
        spec += " " + args.discount.strip()
    return spec


def _describe(row: dict[str, Any]) -> str:
    parts = []
    for x in row["instalments"]:
        eom = " end of month" if x["end_of_month"] else ""
        share = "" if len(row["instalments"]) == 1 else f"{Decimal(x['percent']):.2f} % at "
        parts.append(f"{share}{x['days']} days{eom}")
    text = ", ".join(parts)
    if Decimal(row["discount_percent"]):
        text += (f"; {Decimal(row['discount_percent']).normalize():f} % off within "
                 f"{row['discount_days']} days")
    return text


def cmd_terms_add(args: argparse.Namespace) -> int:
    from salesledger.apps.customers.selectors import payment_terms_list
    from salesledger.apps.customers.services import payment_terms_create
    from salesledger.domain.terms import parse_terms

    company = company_of(args)
    terms = parse_terms(terms_spec(args))
    row = payment_terms_create(actor=actor_of(args, company), company=company, code=args.code,
                               name=args.name, terms=terms)
    shown = next(t for t in payment_terms_list(company) if t["code"] == row.code)
    if args.json:
        emit_json(shown)
    else:
        print(f"payment terms {row.code} added: {_describe(shown)}")
    return 0


def cmd_terms_set(args: argparse.Namespace) -> int:
    from salesledger.apps.customers.selectors import payment_terms_list
    from salesledger.apps.customers.services import payment_terms_update
    from salesledger.domain.terms import parse_terms

    company = company_of(args)
    terms = parse_terms(terms_spec(args))
    row = payment_terms_update(actor=actor_of(args, company), company=company, code=args.code,
                               name=args.name, terms=terms)
    shown = next(t for t in payment_terms_list(company) if t["code"] == row.code)
    if args.json:
        emit_json(shown)
    else:
        print(f"payment terms {row.code} now: {_describe(shown)} (documents already issued "
              "keep their instalments)")
    return 0


def cmd_terms_list(args: argparse.Namespace) -> int:
    from salesledger.apps.customers.selectors import payment_terms_list

    rows = payment_terms_list(company_of(args))
    if args.json:
        emit_json(rows)
    else:
        table([(r["code"] + (" *" if r["default"] else ""), r["name"], _describe(r))
               for r in rows], ["code", "name", "falls due"])
    return 0


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    g = add_group(sub, "terms", "payment terms")
    for name, call, what in (
            ("add", cmd_terms_add, "add payment terms"),
            ("set", cmd_terms_set, "change the name and schedule of payment terms (documents "
                                   "already issued keep their instalments)")):
        p = add_command(g, common, name, call, what)
        p.add_argument("code", help="one word, e.g. NET45")
        p.add_argument("--name", required=True, help="what documents print, e.g. '45 days net'")
        p.add_argument("--days", help="one payment, this many days after the issue date")
        p.add_argument("--end-of-month", action="store_true",
                       help="with --days: at the end of that month (30 days end of month)")
        p.add_argument("--instalments", metavar="SPEC",
                       help="several payments: 30/60/90 (equal shares), 50%%:0,50%%:30 "
                            "(percent:days), 30eom/60eom (end of month)")
        p.add_argument("--discount", metavar="PCT/DAYS",
                       help="early-payment discount, e.g. 2%%/10 (2 %% off within 10 days)")
    add_command(g, common, "list", cmd_terms_list,
                "list the company's payment terms (* marks the default)")
