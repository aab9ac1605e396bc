"""``fx rate add|import|list|show``, ``fx revalue``, ``fx revalue-reverse`` and
``fx revaluations``: exchange rates and the revaluation of open foreign-currency items
(docs/design/multi-currency.md). Parsing and rendering only."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

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
)
from .render import emit_json, kv, money, money_text, rate_text, table


# ---------------------------------------------------------------- fx rate
def cmd_fx_rate_add(args: argparse.Namespace) -> int:
    from salesledger.apps.fx.services import rate_add

    company = company_of(args)
    day = parse_date(args.date, "--date") if args.date else as_of_day(args, company)
    row = rate_add(actor=actor_of(args, company), company=company, currency=args.currency,
                   rate=parse_decimal(args.rate, "RATE"), day=day, replace=args.replace)
    out = {"currency": row.currency, "date": row.rate_date, "rate": rate_text(row.rate),
           "base": company.base_currency, "source": row.source}
    if args.json:
        emit_json(out)
    else:
        print(f"1 {row.currency} = {rate_text(row.rate)} {company.base_currency} "
              f"on {row.rate_date}")
    return 0


def cmd_fx_rate_import(args: argparse.Namespace) -> int:
    from salesledger.apps.fx.services import rates_import_csv, rates_import_ecb

    company = company_of(args)
    fmt = args.format or ("ecb" if Path(args.file).suffix.lower() == ".xml" else "csv")
    service = rates_import_ecb if fmt == "ecb" else rates_import_csv
    result = service(actor=actor_of(args, company), company=company, path=args.file,
                     force=args.force)
    if args.json:
        emit_json(result)
        return 0
    print(f"imported {result['rates']} rates from {result['file']} (batch {result['batch']}): "
          f"{result['added']} new, {result['unchanged']} unchanged, "
          f"{result['replaced']} replaced; {', '.join(result['currencies']) or 'no currency'}"
          + (f" from {result['first']} to {result['last']}" if result["first"] else ""))
    if result["skipped_codes"]:
        print(f"skipped codes that are not ISO 4217 currencies: "
              f"{', '.join(result['skipped_codes'])}")
    return 0


def cmd_fx_rate_list(args: argparse.Namespace) -> int:
    from salesledger.apps.fx.selectors import rate_list

    company = company_of(args)
    rows = rate_list(company, currency=args.currency, limit=args.limit, offset=args.offset)
    if args.json:
        emit_json([{**r, "rate": rate_text(r["rate"])} for r in rows])
    else:
        table([(r["date"], r["currency"], rate_text(r["rate"]), r["source"]) for r in rows],
              ["date", "currency", f"rate ({company.base_currency})", "source"])
    return 0


def cmd_fx_rate_show(args: argparse.Namespace) -> int:
    from salesledger.apps.fx.selectors import rate_quote

    company = company_of(args)
    day = as_of_day(args, company)
    q = rate_quote(company, args.currency, day)
    out = {"currency": q.currency, "on": day, "rate": rate_text(q.rate),
           "base": company.base_currency, "rate_date": q.rate_date, "source": q.source}
    if args.json:
        emit_json(out)
    else:
        print(f"1 {q.currency} = {rate_text(q.rate)} {company.base_currency} on {day} "
              f"(rate of {q.rate_date}, {q.source})")
    return 0


# ---------------------------------------------------------------- fx revalue
def _run_json(run: Any, created: bool | None = None) -> dict[str, Any]:
    out = {"run": run.pk, "as_of": run.as_of, "status": run.status,
           "balances": run.positions, "rates": run.rates,
           "by_currency": run.by_currency, "net": money(run.net, run.company.base_currency),
           "entry": run.entry_id, "reversal_entry": run.reversal_entry_id}
    if created is not None:
        out["created"] = created
    return out


def cmd_fx_revalue(args: argparse.Namespace) -> int:
    from salesledger.apps.fx.services import fx_revalue

    company = company_of(args)
    if not args.as_of:
        raise ValidationFailed("fx revalue needs --as-of DATE (the period end)")
    rates = {}
    for spec in args.rate or []:
        cur, _, value = spec.partition("=")
        if not value:
            raise ValidationFailed(f"--rate {spec!r}: write CURRENCY=RATE, e.g. USD=0.9211")
        rates[cur.strip().upper()] = parse_decimal(value, f"--rate {cur}")
    done = fx_revalue(actor=actor_of(args, company), company=company,
                      as_of=as_of_day(args, company), rates=rates or None)
    run = done.run
    if args.json:
        emit_json(_run_json(run, done.created))
        return 0
    if not done.created:
        print(f"{company.code} was already revalued as of {run.as_of} (run {run.pk}); "
              "nothing written")
    base = company.base_currency
    kv([("run", run.pk), ("as of", run.as_of), ("balances", run.positions),
        ("rates", ", ".join(f"{c} {r}" for c, r in run.rates.items()) or "-"),
        ("net", f"{money_text(run.net, base)} ({'gain' if run.net >= 0 else 'loss'})"),
        ("entry", run.entry_id or "none (nothing to revalue)"),
        ("reversal", f"{run.reversal_entry_id}, dated the next day"
         if run.reversal_entry_id else "-")])
    for cur, v in run.by_currency.items():
        print(f"  {cur}: {money_text(v, base)}")
    return 0


def cmd_fx_revalue_reverse(args: argparse.Namespace) -> int:
    from salesledger.apps.fx.services import fx_revalue_reverse

    company = company_of(args)
    run = fx_revalue_reverse(actor=actor_of(args, company), company=company, run_id=args.run,
                             reason=args.reason or "")
    if args.json:
        emit_json(_run_json(run))
    else:
        print(f"revaluation run {run.pk} as of {run.as_of} reversed (entries "
              f"{run.undo_entry_id or '-'} and {run.undo_reversal_entry_id or '-'})")
    return 0


def cmd_fx_revaluations(args: argparse.Namespace) -> int:
    from salesledger.apps.fx.selectors import revaluation_list

    company = company_of(args)
    rows = revaluation_list(company, limit=args.limit)
    if args.json:
        emit_json(rows)
    else:
        table([(r["run"], r["as_of"], r["status"], r["balances"],
                money_text(r["net"], company.base_currency)) for r in rows],
              ["run", "as of", "status", "balances", "net"])
    return 0


# ---------------------------------------------------------------- registration
def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    fx = add_group(sub, "fx", "exchange rates and revaluation")
    g = add_group(fx, "rate", "exchange rates")
    p = add_command(g, common, "add", cmd_fx_rate_add,
                    "record a rate: 1 CURRENCY = RATE of the base currency on --date")
    p.add_argument("currency")
    p.add_argument("rate")
    p.add_argument("--date", help="the rate's day (default: --as-of, else today)")
    p.add_argument("--replace", action="store_true", help="change the day's rate")
    p = add_command(g, common, "import", cmd_fx_rate_import,
                    "import rates from a CSV file (date,currency,rate) or an ECB XML file")
    p.add_argument("file")
    p.add_argument("--format", choices=["csv", "ecb"],
                   help="default: ecb for a .xml file, else csv")
    p.add_argument("--force", action="store_true", help="import a file seen before again")
    p = add_command(g, common, "list", cmd_fx_rate_list, "list stored rates, newest first")
    p.add_argument("--currency")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--offset", type=int, default=0)
    p = add_command(g, common, "show", cmd_fx_rate_show, "the rate of a currency on --as-of")
    p.add_argument("currency")
    p = add_command(fx, common, "revalue", cmd_fx_revalue,
                    "revalue open foreign-currency items as of --as-of (reversed the next day)")
    p.add_argument("--rate", action="append", metavar="CURRENCY=RATE",
                   help="closing rate (default: the rate table on --as-of)")
    p = add_command(fx, common, "revalue-reverse", cmd_fx_revalue_reverse, "undo a revaluation run")
    p.add_argument("run", type=int)
    p.add_argument("--reason")
    p = add_command(fx, common, "revaluations", cmd_fx_revaluations, "list revaluation runs")
    p.add_argument("--limit", type=int, default=50)
