"""``credit limit set|show``, ``credit settings``, ``credit exposure``, ``credit hold|release``,
``credit behaviour``, ``credit risk`` and ``credit suggest-limits``: credit management
(docs/design/credit.md, docs/user-guide.md). Parsing and rendering only."""

from __future__ import annotations

import argparse
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
    today_of,
)
from .render import emit_json, kv, money, money_text, table


def _text(m: dict[str, str] | None) -> str:
    return "none" if m is None else f"{m['amount']} {m['currency']}"


def _customer_id(company: Any, code: str) -> int:
    from salesledger.apps.customers.selectors import customer_get

    return int(customer_get(company, code).pk)


# ---------------------------------------------------------------- limits
def cmd_credit_limit_set(args: argparse.Namespace) -> int:
    from salesledger.apps.credit.services import credit_default_set, credit_limit_set

    company = company_of(args)
    actor = actor_of(args, company)
    values = list(args.values)
    if args.company_default:
        if len(values) != 1:
            raise ValidationFailed("give the amount alone with --company-default "
                                   "(credit limit set --company-default AMOUNT --reason ...)")
        amount = None if values[0].lower() == "none" else values[0]
        credit_default_set(actor=actor, company=company, amount=amount, reason=args.reason)
        return _show_limits(args, company, None, "company default credit limit set")
    if len(values) != 2:
        raise ValidationFailed("give the customer and the amount "
                               "(credit limit set CUSTOMER AMOUNT --reason ...; AMOUNT none "
                               "clears the limit)")
    code, text = values
    credit_limit_set(actor=actor, company=company, customer_id=_customer_id(company, code),
                     amount=None if text.lower() == "none" else text, reason=args.reason,
                     currency=args.currency)
    return _show_limits(args, company, code, f"{code} credit limit set")


def cmd_credit_limit_show(args: argparse.Namespace) -> int:
    return _show_limits(args, company_of(args), args.customer)


def _show_limits(args: argparse.Namespace, company: Any, code: str | None,
                 done: str = "") -> int:
    from salesledger.apps.credit.selectors import limits_list

    out = limits_list(company, code)
    if args.json:
        emit_json(out)
        return 0
    if done:
        print(done)
        if code is None:
            print(f"company default: {_text(out['company_default'])}")
            return 0
    else:
        print(f"company default: {_text(out['company_default'])}")
    if out["customers"]:
        table([(r["customer"], _text(r["limit"]),
                {"customer": "own", "group": f"group {r['holder']}",
                 "company_default": "company default"}.get(r["source"] or "", "none"),
                r["covers"]) for r in out["customers"]],
              ["customer", "limit", "from", "customers covered"])
    return 0


def cmd_credit_settings(args: argparse.Namespace) -> int:
    from salesledger.apps.credit.services import credit_settings_set

    company = company_of(args)
    thresholds = None
    if args.thresholds:
        try:
            b, c, d = (float(x) for x in args.thresholds.split(","))
        except ValueError:
            raise ValidationFailed(f"--thresholds: {args.thresholds!r} is not three scores "
                                   "B,C,D (for example 25,50,75)") from None
        thresholds = (b, c, d)
    if args.horizon_days is not None or thresholds is not None:
        credit_settings_set(actor=actor_of(args, company), company=company,
                            horizon_days=args.horizon_days, thresholds=thresholds)
    return _show_limits(args, company, None) if args.json else _settings_text(company)


def _settings_text(company: Any) -> int:
    from salesledger.apps.credit.selectors import limits_list

    out = limits_list(company)
    t = out["thresholds"]
    kv([("company default", _text(out["company_default"])),
        ("recurring horizon", f"{out['horizon_days']} days"),
        ("risk classes", f"A below {t['B']:g}, B from {t['B']:g}, C from {t['C']:g}, "
                         f"D from {t['D']:g}")])
    return 0


# ---------------------------------------------------------------- exposure and holds
def cmd_credit_exposure(args: argparse.Namespace) -> int:
    from salesledger.apps.credit.selectors import customer_exposure

    company = company_of(args)
    out = customer_exposure(company, args.customer, as_of_day(args, company))
    if args.json:
        emit_json(out)
        return 0
    group = (f" (group {out['limit_holder']}, {out['group_members']} customers)"
             if out["limit_source"] == "group" else "")
    merged = ([("merged into", out["merged_into"] + " (its exposure, limit and holds)")]
              if out["merged_into"] else [])
    if out["own_limit_not_applied"]:
        merged.append(("own limit", _text(out["own_limit_not_applied"])
                       + " (not applied while merged)"))
    kv([("customer", out["customer"]), *merged, ("as of", out["as_of"]),
        ("open receivables", _text(out["receivables"])),
        ("accepted quotes", _text(out["accepted_quotes"])),
        (f"recurring, {out['horizon_days']} days", _text(out["recurring_due"])),
        ("exposure", _text(out["exposure"]) + group),
        ("limit", _text(out["limit"]) + (f" ({out['limit_source']})"
                                         if out["limit_source"] else "")),
        ("available", _text(out["available"])),
        ("on hold", "; ".join(f"{h['source']}: {h['reason']}" for h in out["on_hold"])
         or "no")])
    return 0


def _holds(args: argparse.Namespace, company: Any, code: str, verb: str) -> int:
    from salesledger.apps.credit.selectors import on_hold

    holds = on_hold(company, _customer_id(company, code))
    out = {"customer": code, "on_hold": [{"source": h.source, "reason": h.reason,
                                          "since": h.since, "by": h.by,
                                          "held_as": h.held_as or None} for h in holds]}
    if args.json:
        emit_json(out)
    elif holds:
        print(f"{code} {verb}; on hold: "
              + "; ".join(f"{h.source} ({h.why()})" for h in holds))
    else:
        print(f"{code} {verb}; not on hold")
    return 0


def cmd_credit_hold(args: argparse.Namespace) -> int:
    from salesledger.apps.credit.services import credit_hold

    company = company_of(args)
    credit_hold(actor=actor_of(args, company), company=company,
                customer_id=_customer_id(company, args.customer), reason=args.reason,
                source=args.source)
    return _holds(args, company, args.customer, "held")


def cmd_credit_release(args: argparse.Namespace) -> int:
    from salesledger.apps.credit.services import credit_release

    company = company_of(args)
    credit_release(actor=actor_of(args, company), company=company,
                   customer_id=_customer_id(company, args.customer), reason=args.reason,
                   source=args.source)
    return _holds(args, company, args.customer, "released")


# ---------------------------------------------------------------- behaviour and risk
def cmd_credit_behaviour(args: argparse.Namespace) -> int:
    from salesledger.apps.credit.selectors import behaviour_json, customer_behaviour

    company = company_of(args)
    b = behaviour_json(customer_behaviour(company, args.customer, as_of_day(args, company)),
                       company.base_currency)
    if args.json:
        emit_json({"customer": args.customer, **b})
        return 0

    def days(v: float | None) -> str:
        return "-" if v is None else f"{v:g}"

    kv([("customer", args.customer), ("as of", b["as_of"]),
        ("paid (24 months)", f"{_text(b['paid'])} in {b['payments']} "
                             f"payment{'' if b['payments'] == 1 else 's'}"),
        ("days to pay", days(b["days_to_pay"])), ("days late", days(b["days_late"])),
        ("share paid late", "-" if b["share_late"] is None else f"{b['share_late']:.0%}"),
        ("trend", b["trend"]),
        ("overdue now", f"{_text(b['overdue'])}"
                        + (f", the oldest {b['oldest_overdue_days']} days"
                           if b["oldest_overdue_days"] else "")),
        ("disputes, 12 months", b["disputes"]),
        ("broken promises", b["promises_broken"])])
    table([(f"{w['months']} months", _text(w["paid"]), days(w["days_to_pay"]),
            days(w["days_late"]),
            "-" if w["share_late"] is None else f"{w['share_late']:.0%}")
           for w in b["windows"]], ["window", "paid", "days to pay", "days late", "late"])
    return 0


def cmd_credit_risk(args: argparse.Namespace) -> int:
    from salesledger.apps.credit.factors import factor_texts
    from salesledger.apps.credit.selectors import risk_list

    company = company_of(args)
    rows = risk_list(company, as_of_day(args, company), args.customer)
    for r in rows:  # the factors in words, in English
        r["factors"] = factor_texts(r["factors"])
    if args.json:
        emit_json(rows)
        return 0
    table([(r["customer"], r["risk_class"], f"{r['score']:g}",
            f"{r['default_probability']:.0%}", "; ".join(r["factors"])) for r in rows],
          ["customer", "class", "score", "default", "factors"])
    return 0


def cmd_credit_suggest_limits(args: argparse.Namespace) -> int:
    from salesledger.apps.credit.selectors import limit_suggestions
    from salesledger.apps.credit.services import credit_limits_accept

    company = company_of(args)
    day = as_of_day(args, company)
    if args.accept:
        accepted = credit_limits_accept(actor=actor_of(args, company), company=company,
                                        codes=args.accept, as_of=day)
        if args.json:
            emit_json({"as_of": day, "accepted": accepted})
        else:
            for a in accepted:
                print(f"{a['customer']}: credit limit set to {_text(a['limit'])}")  # type: ignore[arg-type]
        return 0
    rows = limit_suggestions(company, day)
    if args.json:
        emit_json([{k: v for k, v in r.items() if k not in ("suggested_minor", "text")}
                   for r in rows])
        return 0
    table([(r["customer"], _text(r["peak_paid_on_time"]), r["risk_class"],
            _text(r["suggested"]), _text(r["current"])) for r in rows],
          ["customer", "peak paid on time", "class", "suggested", "current"])
    return 0


# ---------------------------------------------------------------- registration
def _model_json(p: Any) -> dict[str, Any] | None:
    if p.model is not None:
        m = p.model
        return {"trained_as_of": m.trained_as_of, "rows": m.rows, "items": m.items,
                "version": m.version, "library": m.library, "stored": True}
    if p.trained_as_of is not None:
        return {"trained_as_of": p.trained_as_of, "stored": False}
    return None


def cmd_credit_predict(args: argparse.Namespace) -> int:
    from salesledger.apps.credit.prediction import payment_model_train, payment_predictions
    from salesledger.apps.customers.selectors import customer_get

    company = company_of(args)
    as_of = as_of_day(args, company)
    if args.customer:
        customer_get(company, args.customer)  # an unknown code says so
    if args.retrain:
        payment_model_train(actor=actor_of(args, company), company=company, as_of=as_of)
    result = payment_predictions(company, as_of=as_of, customer=args.customer or None)
    base = company.base_currency
    if args.json:
        emit_json({"as_of": as_of, "model": _model_json(result), "items": [
            {"customer": p.item.customer, "invoice": p.item.invoice,
             "due_date": p.item.due_date, "amount": money(p.item.amount, base),
             "predicted": p.expected, "p10": p.p10, "p90": p.p90,
             "default_probability": round(p.default_probability, 3), "method": p.method}
            for p in result.items]})
        return 0
    table(([p.item.customer, p.item.invoice, p.item.due_date, money_text(p.item.amount, base),
            p.expected, p.p10, p.p90, f"{p.default_probability:.0%}", p.method]
           for p in result.items),
          ["customer", "invoice", "due", "amount", "predicted", "p10", "p90", "default",
           "method"])
    if result.model is not None:
        how = (f"the model trained on the ledger of {result.model.trained_as_of} "
               f"({result.model.rows} rows)")
    elif result.trained_as_of is not None:
        how = f"a model trained for {as_of} and not kept (none stored for that day)"
    else:
        how = "each customer's median delay (too little history for a model)"
    print(f"{len(result.items)} open item(s) on {as_of}; amounts in {base}; predicted from "
          f"{how}; default: the chance of ending more than 90 days late or written off")
    return 0


def cmd_credit_backtest(args: argparse.Namespace) -> int:
    from salesledger.apps.credit.prediction import backtest, backtest_days_check

    company = company_of(args)
    as_of = as_of_day(args, company)
    known = parse_date(args.until, "--until") if args.until else today_of(company)
    backtest_days_check(as_of, known)
    result = backtest(company, as_of=as_of, known=known)
    data = result.as_dict()
    if args.json:
        emit_json(data)
        return 0

    def f(v: Any, pct: bool = False) -> str:
        return "-" if v is None else (f"{v:.1%}" if pct else f"{v:.1f}")

    m, b = data["model"], data["baseline"]
    table([["model", f(m["mae_days"]), f(m["within_7_days"], True), f(m["auc"], False)],
           ["customer average", f(b["mae_days"]), f(b["within_7_days"], True), "-"]],
          ["predictor", "MAE days", "within 7 days", "AUC"])
    print(f"trained on what was settled by {as_of} ({result.trained_rows} rows); "
          f"{result.invoices} item(s) open on {as_of} and settled by {known}; AUC over "
          f"{result.defaults} item(s) whose outcome was known by {known} ({result.scored} "
          "ended more than 90 days late or written off)")
    return 0


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    """Add the group's commands to the parser."""
    g = add_group(sub, "credit", "credit management: limits, exposure, holds, risk")
    limit = add_group(g, "limit", "credit limits")
    p = add_command(limit, common, "set", cmd_credit_limit_set,
                    "set a customer's credit limit (a parent's covers its group), or the "
                    "company default with --company-default")
    p.add_argument("values", nargs="+", metavar="CUSTOMER AMOUNT",
                   help="the customer and the amount in its currency (none clears it); "
                        "with --company-default the amount alone, in the base currency")
    p.add_argument("--currency", help="the limit's currency (must be the customer's)")
    p.add_argument("--company-default", action="store_true")
    p.add_argument("--reason", required=True)
    p = add_command(limit, common, "show", cmd_credit_limit_show,
                    "the company default and each customer's own limit (or one customer's, "
                    "with where it comes from)")
    p.add_argument("customer", nargs="?")
    p = add_command(g, common, "settings", cmd_credit_settings,
                    "show or change the recurring horizon and the risk class thresholds")
    p.add_argument("--horizon-days", type=int,
                   help="recurring invoices due within this many days count in the exposure")
    p.add_argument("--thresholds", metavar="B,C,D",
                   help="the lowest score of classes B, C and D (default 25,50,75)")
    p = add_command(g, common, "exposure", cmd_credit_exposure,
                    "a customer's exposure by part, its limit and the credit available")
    p.add_argument("customer")
    p = add_command(g, common, "hold", cmd_credit_hold,
                    "put a customer on credit hold: no new invoice or accepted quote")
    p.add_argument("customer")
    p.add_argument("--reason", required=True)
    p.add_argument("--source", default="manual", choices=["manual", "dunning", "plan"])
    p = add_command(g, common, "release", cmd_credit_release,
                    "release a customer's credit hold (every source unless --source)")
    p.add_argument("customer")
    p.add_argument("--reason", required=True)
    p.add_argument("--source", choices=["manual", "dunning", "plan"])
    p = add_command(g, common, "behaviour", cmd_credit_behaviour,
                    "how a customer pays: days to pay and late, share late, trend, overdue")
    p.add_argument("customer")
    p = add_command(g, common, "risk", cmd_credit_risk,
                    "risk class, score and the factors behind it, per customer")
    p.add_argument("customer", nargs="?")
    p = add_command(g, common, "suggest-limits", cmd_credit_suggest_limits,
                    "limits suggested from the peak owed at once and paid on time; --accept "
                    "sets them")
    p.add_argument("--accept", nargs="+", metavar="CUSTOMER",
                   help="accept the suggestions of these customers (a manager)")
    p = add_command(g, common, "predict", cmd_credit_predict,
                    "each open item's predicted payment date, its spread and its chance of "
                    "default on --as-of")
    p.add_argument("customer", nargs="?", metavar="CUSTOMER", help="one customer (code)")
    p.add_argument("--retrain", action="store_true",
                   help="train the model on the ledger of --as-of first, and keep it")
    p = add_command(g, common, "backtest", cmd_credit_backtest,
                    "train on what was settled by --as-of, predict what was open on it, and "
                    "measure against what happened, beside each customer's average delay")
    p.add_argument("--until", metavar="YYYY-MM-DD",
                   help="the last day of what happened (default: today)")
