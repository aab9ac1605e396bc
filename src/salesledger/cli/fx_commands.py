"""Commands for exchange rates, revaluation and allocation by policy: parsing and rendering
only (``fx ...``, ``receipt allocate --policy``, ``receipt auto-allocate``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from salesledger.domain.errors import ValidationFailed

from .commands import _actor, _as_of, _cmd, _company, _date, _dec, _group, option_word
from .render import emit_json, kv, money, money_text, table

Sub = Any


def _rate_text(value: Any) -> str:
    return format(value, "f")


# ---------------------------------------------------------------- fx rate
def cmd_fx_rate_add(args: argparse.Namespace) -> int:
    from salesledger.apps.fx.services import rate_add

    company = _company(args)
    day = _date(args.date, "--date") if args.date else _as_of(args, company)
    row = rate_add(actor=_actor(args, company), company=company, currency=args.currency,
                   rate=_dec(args.rate, "RATE"), day=day, replace=args.replace)
    out = {"currency": row.currency, "date": row.rate_date, "rate": _rate_text(row.rate),
           "base": company.base_currency, "source": row.source}
    if args.json:
        emit_json(out)
    else:
        print(f"1 {row.currency} = {_rate_text(row.rate)} {company.base_currency} "
              f"on {row.rate_date}")
    return 0


def cmd_fx_rate_import(args: argparse.Namespace) -> int:
    from salesledger.apps.fx.services import rates_import_csv, rates_import_ecb

    company = _company(args)
    fmt = args.format or ("ecb" if Path(args.file).suffix.lower() == ".xml" else "csv")
    service = rates_import_ecb if fmt == "ecb" else rates_import_csv
    result = service(actor=_actor(args, company), company=company, path=args.file,
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

    company = _company(args)
    rows = rate_list(company, currency=args.currency, limit=args.limit, offset=args.offset)
    if args.json:
        emit_json([{**r, "rate": _rate_text(r["rate"])} for r in rows])
    else:
        table([(r["date"], r["currency"], _rate_text(r["rate"]), r["source"]) for r in rows],
              ["date", "currency", f"rate ({company.base_currency})", "source"])
    return 0


def cmd_fx_rate_show(args: argparse.Namespace) -> int:
    from salesledger.apps.fx.selectors import rate_quote

    company = _company(args)
    day = _as_of(args, company)
    q = rate_quote(company, args.currency, day)
    out = {"currency": q.currency, "on": day, "rate": _rate_text(q.rate),
           "base": company.base_currency, "rate_date": q.rate_date, "source": q.source}
    if args.json:
        emit_json(out)
    else:
        print(f"1 {q.currency} = {_rate_text(q.rate)} {company.base_currency} on {day} "
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

    company = _company(args)
    if not args.as_of:
        raise ValidationFailed("fx revalue needs --as-of DATE (the period end)")
    rates = {}
    for spec in args.rate or []:
        cur, _, value = spec.partition("=")
        if not value:
            raise ValidationFailed(f"--rate {spec!r}: write CURRENCY=RATE, e.g. USD=0.9211")
        rates[cur.strip().upper()] = _dec(value, f"--rate {cur}")
    done = fx_revalue(actor=_actor(args, company), company=company,
                      as_of=_as_of(args, company), rates=rates or None)
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

    company = _company(args)
    run = fx_revalue_reverse(actor=_actor(args, company), company=company, run_id=args.run,
                             reason=args.reason or "")
    if args.json:
        emit_json(_run_json(run))
    else:
        print(f"revaluation run {run.pk} as of {run.as_of} reversed (entries "
              f"{run.undo_entry_id or '-'} and {run.undo_reversal_entry_id or '-'})")
    return 0


def cmd_fx_revaluations(args: argparse.Namespace) -> int:
    from salesledger.apps.fx.selectors import revaluation_list

    company = _company(args)
    rows = revaluation_list(company, limit=args.limit)
    if args.json:
        emit_json(rows)
    else:
        table([(r["run"], r["as_of"], r["status"], r["balances"],
                money_text(r["net"], company.base_currency)) for r in rows],
              ["run", "as of", "status", "balances", "net"])
    return 0


# ---------------------------------------------------------------- receipts by policy
def receipt_allocate_with_policy(args: argparse.Namespace, targets: list[Any]) -> int:
    """``receipt allocate RECEIPT --policy ... [--dry-run] [--rate R]``."""
    from salesledger.apps.payments.policies import receipt_allocate_policy

    company = _company(args)
    if args.document.upper().startswith("CN"):
        raise ValidationFailed("policies allocate receipts; allocate a credit note with "
                               "--invoice NUMBER=AMOUNT or --auto")
    if args.auto and args.policy and args.policy.replace("-", "_") != "oldest_first":
        raise ValidationFailed("--auto is the oldest_first policy; give one or the other")
    policy = args.policy or ("oldest_first" if args.auto else "manual")
    result = receipt_allocate_policy(
        actor=_actor(args, company), company=company, receipt=args.document, policy=policy,
        day=_as_of(args, company), targets=targets or None, dry_run=args.dry_run,
        rate=_dec(args.rate, "--rate") if args.rate else None)
    rows = [{"invoice": p.invoice, "instalment": p.instalment_id, "seq": p.seq,
             "due_date": p.due_date, "amount": money(p.amount, p.currency),
             "from_receipt": money(p.source_amount, result.currency),
             "rate": None if p.rate is None else _rate_text(p.rate)} for p in result.planned]
    ids = [a.pk for a in result.allocations]
    if args.json:
        emit_json({"receipt": result.receipt, "policy": result.policy,
                   "dry_run": result.dry_run, "references": result.references,
                   "allocations": [{**r, "allocation": ids[i] if ids else None}
                                   for i, r in enumerate(rows)],
                   "unallocated_after": money(result.unallocated_after, result.currency)})
        return 0
    verb = "would allocate" if result.dry_run else "allocated"
    if not rows:
        print(f"{result.receipt}: nothing to allocate by {result.policy}"
              + (" (no invoice named in its references)" if result.policy == "by_reference"
                 and not result.references else ""))
        return 0
    print(f"{result.receipt} {verb} by {result.policy}"
          + (f" (names {', '.join(result.references)})" if result.references else ""))
    table([(r["invoice"], r["seq"], r["due_date"], f"{r['amount']['amount']} "
            f"{r['amount']['currency']}", money_text(p.source_amount, result.currency),
            r["rate"] or "") for r, p in zip(rows, result.planned, strict=True)],
          ["invoice", "#", "due", "amount", "from receipt", "rate"])
    print(f"unallocated after: {money_text(result.unallocated_after, result.currency)}")
    return 0


def cmd_receipt_auto_allocate(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.autoallocate import auto_allocate_all

    company = _company(args)
    result = auto_allocate_all(
        actor=_actor(args, company), company=company, day=_as_of(args, company),
        policy=args.policy, dry_run=args.dry_run, chunk_customers=args.chunk,
        resume=args.resume)
    totals = [money(v, c) for c, v in sorted(result.totals.items())]
    if args.json:
        emit_json({"run": result.run.pk if result.run else None,
                   "status": result.run.status if result.run else "dry_run",
                   "resumed": result.resumed, "policy": result.policy, "day": result.day,
                   "customers": result.customers, "receipts": result.receipts,
                   "allocations": result.allocations, "totals": totals,
                   "preview": [{**p, "amount": money(p["amount"], p["currency"])}
                               for p in result.preview]})
        return 0
    head = ("dry run: would allocate" if result.dry_run else
            f"run {result.run.pk if result.run else '-'}"
            f"{' (resumed)' if result.resumed else ''}: allocated")
    print(f"{head} {result.allocations} allocations from {result.receipts} receipts of "
          f"{result.customers} customers by {result.policy} on {result.day}")
    for t in totals:
        print(f"  {t['amount']} {t['currency']}")
    if result.dry_run and result.preview:
        table([(p["customer"], p["receipt"], p["invoice"], p["seq"],
                money_text(p["amount"], p["currency"])) for p in result.preview],
              ["customer", "receipt", "invoice", "#", "amount"])
    return 0


# ---------------------------------------------------------------- registration
def register_receipt_extras(g: Sub, common: argparse.ArgumentParser) -> None:
    p = _cmd(g, common, "auto-allocate", cmd_receipt_auto_allocate,
             "allocate every customer's unapplied cash by a policy (resumable)")
    p.add_argument("--policy", default="oldest_first", type=option_word,
                   choices=["oldest_first", "by_reference", "proportional"])
    p.add_argument("--dry-run", action="store_true", help="show what would be allocated")
    p.add_argument("--resume", type=int, metavar="RUN", help="continue an unfinished run")
    p.add_argument("--chunk", type=int, default=500, help="customers per transaction")


def register(sub: Sub, common: argparse.ArgumentParser) -> None:
    fx = _group(sub, "fx", "exchange rates and revaluation")
    g = _group(fx, "rate", "exchange rates")
    p = _cmd(g, common, "add", cmd_fx_rate_add,
             "record a rate: 1 CURRENCY = RATE of the base currency on --date")
    p.add_argument("currency")
    p.add_argument("rate")
    p.add_argument("--date", help="the rate's day (default: --as-of, else today)")
    p.add_argument("--replace", action="store_true", help="change the day's rate")
    p = _cmd(g, common, "import", cmd_fx_rate_import,
             "import rates from a CSV file (date,currency,rate) or an ECB XML file")
    p.add_argument("file")
    p.add_argument("--format", choices=["csv", "ecb"],
                   help="default: ecb for a .xml file, else csv")
    p.add_argument("--force", action="store_true", help="import a file seen before again")
    p = _cmd(g, common, "list", cmd_fx_rate_list, "list stored rates, newest first")
    p.add_argument("--currency")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--offset", type=int, default=0)
    p = _cmd(g, common, "show", cmd_fx_rate_show, "the rate of a currency on --as-of")
    p.add_argument("currency")
    p = _cmd(fx, common, "revalue", cmd_fx_revalue,
             "revalue open foreign-currency items as of --as-of (reversed the next day)")
    p.add_argument("--rate", action="append", metavar="CURRENCY=RATE",
                   help="closing rate (default: the rate table on --as-of)")
    p = _cmd(fx, common, "revalue-reverse", cmd_fx_revalue_reverse, "undo a revaluation run")
    p.add_argument("run", type=int)
    p.add_argument("--reason")
    p = _cmd(fx, common, "revaluations", cmd_fx_revaluations, "list revaluation runs")
    p.add_argument("--limit", type=int, default=50)
