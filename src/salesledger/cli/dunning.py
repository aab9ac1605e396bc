"""``dunning policy|rate|interest|run|history|letter|agency``: reminder policies, late-payment
interest and the runs that send reminders (docs/design/dunning.md). Parsing and rendering only.

A level is given as ``--level 'DAYS;NAME;CHANNELS[;FEE[;OPTIONS[;TEXT]]]'``: days from the due
date (negative: before it), the name the customer reads, channels among email, letter and call
(``email+letter``), a fee (``15.00`` in the company's currency, or ``2%`` of the overdue
amount), options among interest, hold and agency (``interest+hold``) and the name of the
reminder text it sends (its versions per language: ``dunning policy text``). ``dunning policy
edit`` takes every level wanted, ``N=`` before the ones that edit level N (which keeps its
number: docs/design/dunning.md, "Editing a policy").
"""

from __future__ import annotations

import argparse
from decimal import Decimal
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
from .files import no_json_to_stdout, read_text, write_output
from .render import emit_json, money_text, table

OPTIONS = ("interest", "hold", "agency")


def _minor(text: str, currency: str, what: str) -> int:
    from salesledger.domain.amounts import amount_minor

    return amount_minor(parse_decimal(text, what), currency, field=what)


def parse_level(spec: str, currency: str) -> Any:
    """One ``--level`` (see the module's docstring)."""
    from salesledger.domain.dunning import Level
    from salesledger.domain.dunning_policy import parse_fee

    parts = [p.strip() for p in spec.split(";")]
    if not 3 <= len(parts) <= 6:
        raise ValidationFailed(f"--level {spec!r}: write "
                               "'DAYS;NAME;CHANNELS[;FEE[;OPTIONS[;TEXT]]]'", field="level")
    try:
        days = int(parts[0])
    except ValueError:
        raise ValidationFailed(f"--level {spec!r}: {parts[0]!r} is not a number of days",
                               field="level") from None
    channels = tuple(c.strip().lower() for c in parts[2].split("+") if c.strip())
    # the fee as the workspace's level form reads it: 15.00, 2% or blank
    fixed, percent = parse_fee(parts[3] if len(parts) > 3 else "", currency)
    options = {o.strip().lower() for o in (parts[4] if len(parts) > 4 else "").split("+")
               if o.strip()}
    if options - set(OPTIONS):
        raise ValidationFailed(f"--level {spec!r}: options are among " + ", ".join(OPTIONS),
                               field="level")
    return Level(0, days, parts[1], channels, fixed, percent, "interest" in options,
                 "hold" in options, "agency" in options, parts[5] if len(parts) > 5 else "")


# ---------------------------------------------------------------- policies
def cmd_policy_add(args: argparse.Namespace) -> int:
    from salesledger.apps.dunning.services import policy_add

    company = company_of(args)
    cur = company.base_currency
    if not args.level:
        raise ValidationFailed("give the policy's levels: --level 'DAYS;NAME;CHANNELS'",
                               field="level")
    levels = [parse_level(x, cur) for x in args.level]
    policy = policy_add(actor=actor_of(args, company), company=company, code=args.code,
                        name=args.name or "", levels=levels, default=args.default,
                        min_amount=_minor(args.min_amount, cur, "--min-amount")
                        if args.min_amount else 0)
    if args.json:
        emit_json({"code": policy.code, "levels": len(levels), "default": args.default})
    else:
        print(f"dunning policy {policy.code} added with {len(levels)} level(s)"
              + (", the company's default" if args.default else ""))
    return 0


def cmd_policy_edit(args: argparse.Namespace) -> int:
    """The whole list of levels wanted: ``--level 'N=DAYS;...'`` edits level N (it keeps its
    number), a ``--level`` without ``N=`` adds one; the levels not given are removed."""
    from dataclasses import replace

    from salesledger.apps.dunning.services import policy_edit

    company = company_of(args)
    cur = company.base_currency
    if not args.level:
        raise ValidationFailed("give the policy's levels: --level 'N=DAYS;NAME;CHANNELS' for "
                               "level N, --level 'DAYS;NAME;CHANNELS' for a new one",
                               field="level")
    levels = []
    for spec in args.level:
        number, _, rest = spec.partition("=")
        if rest and number.strip().isdigit():
            levels.append(replace(parse_level(rest, cur), number=int(number)))
        else:
            levels.append(parse_level(spec, cur))
    policy = policy_edit(actor=actor_of(args, company), company=company, code=args.code,
                         name=args.name, levels=levels, default=args.default,
                         min_amount=_minor(args.min_amount, cur, "--min-amount")
                         if args.min_amount else None)
    if args.json:
        emit_json({"code": policy.code, "levels": len(levels), "default": policy.is_default})
    else:
        print(f"dunning policy {policy.code} saved with {len(levels)} level(s)")
    return 0


def cmd_policy_list(args: argparse.Namespace) -> int:
    from salesledger.apps.dunning.selectors import policy_list

    company = company_of(args)
    rows = policy_list(company)
    if args.json:
        emit_json([{**r, "min_amount": _money(r["min_amount"], company.base_currency)}
                   for r in rows])
    else:
        table([(r["code"], r["name"], r["levels"], "yes" if r["default"] else "",
                r["customers"]) for r in rows],
              ["code", "name", "levels", "default", "customers of its own"])
    return 0


def _money(minor: int, currency: str) -> dict[str, str]:
    from .render import money

    return money(minor, currency)


def _fee_text(level: dict[str, Any], currency: str) -> str:
    if level["fee_fixed"]:
        return money_text(level["fee_fixed"], currency)
    return f"{level['fee_percent']} %" if Decimal(level["fee_percent"]) else ""


def cmd_policy_show(args: argparse.Namespace) -> int:
    from salesledger.apps.dunning.selectors import policy_show

    company = company_of(args)
    p = policy_show(company, args.code)
    cur = company.base_currency
    if args.json:
        p["min_amount"] = _money(p["min_amount"], cur)
        for lv in p["levels"]:
            lv["fee_fixed"] = _money(lv["fee_fixed"], cur)
        emit_json(p)
    else:
        print(f"{p['code']} {p['name']}" + (" (default)" if p["default"] else "")
              + f"; minimum {money_text(p['min_amount'], cur)}")
        texts = any(lv["template"] for lv in p["levels"])  # a column only when one has
        table([(lv["number"], lv["days"], lv["name"], "+".join(lv["channels"]),
                _fee_text(lv, cur), "+".join(o for o in OPTIONS if lv[o]))
               + ((_text_of(lv),) if texts else ()) for lv in p["levels"]],
              ["level", "days", "name", "channels", "fee", "options"]
              + (["text"] if texts else []))
    return 0


def _text_of(level: dict[str, Any]) -> str:
    """A level's text as ``policy show`` lists it: its name and the languages it has."""
    if not level["template"]:
        return ""
    langs = ",".join(lang or "all" for lang in level["texts"])
    return f"{level['template']} ({langs or 'no version yet'})"


def cmd_policy_text(args: argparse.Namespace) -> int:
    """Show the texts a level sends to a customer of each language, or (with ``--subject``
    and ``--body-file``) write its version in ``--language``."""
    from salesledger.apps.dunning.selectors import level_texts
    from salesledger.apps.dunning.services import level_name_set, level_text_set

    company = company_of(args)
    if args.level_name is not None:
        if not args.language:
            raise ValidationFailed("a level's name in a language needs --language (its "
                                   "name for every language is set by 'dunning policy "
                                   "edit')", field="language")
        names = level_name_set(actor=actor_of(args, company), company=company, code=args.code,
                               number=args.level, language=args.language,
                               name=args.level_name)
        if not (args.subject or args.body_file):
            if args.json:
                emit_json({"policy": args.code, "level": args.level,
                           "language": args.language, "names": names})
            else:
                name = names.get(args.language)
                print(f"level {args.level} of {args.code} is named {name!r} in "
                      f"{args.language}" if name else
                      f"level {args.level} of {args.code} has no name of its own in "
                      f"{args.language}: its name is read")
            return 0
    if args.subject or args.body_file:
        if not (args.subject and args.body_file):
            raise ValidationFailed("a level's text needs --subject and --body-file",
                                   field="subject")
        name = level_text_set(actor=actor_of(args, company), company=company, code=args.code,
                              number=args.level, language=args.language or "",
                              subject=args.subject, body=read_text(args.body_file, "body"),
                              template=args.template or "")
        if args.json:
            emit_json({"policy": args.code, "level": args.level, "template": name,
                       "language": args.language or None, "set": True})
        else:
            print(f"level {args.level} of {args.code} sends the text {name}; its version for "
                  f"{args.language or 'every language'} is set")
        return 0
    if args.template:
        raise ValidationFailed("--template names the text a level sends: give its version "
                               "with --subject and --body-file", field="template")
    shown = level_texts(company, args.code, args.level)
    if args.language:
        shown["texts"] = [t for t in shown["texts"] if t["customer_language"] == args.language]
    if args.json:
        emit_json(shown)
        return 0
    if len(shown["texts"]) == 1:
        t = shown["texts"][0]
        print(f"({t['source']}, in {t['language']})\nSubject: {t['subject']}\n\n{t['body']}")
        return 0
    table([(t["customer_language"], t["language"], t["name"], t["subject"], t["source"])
           for t in shown["texts"]],
          ["customer's language", "text in", "level's name", "subject", "from"])
    return 0


def cmd_policy_assign(args: argparse.Namespace) -> int:
    from salesledger.apps.dunning.services import policy_assign

    company = company_of(args)
    if bool(args.customer) == bool(args.default):
        raise ValidationFailed("give --customer CODE or --default", field="customer")
    text = policy_assign(actor=actor_of(args, company), company=company,
                         policy_code=args.code, customer_code=args.customer or "",
                         default=args.default)
    if args.json:
        emit_json({"policy": args.code, "customer": args.customer, "default": args.default})
    else:
        print(text)
    return 0


# ---------------------------------------------------------------- rates and interest
def cmd_rate_add(args: argparse.Namespace) -> int:
    from salesledger.apps.dunning.services import RateRow, parse_percent, rates_add

    company = company_of(args)
    row = RateRow(parse_date(args.valid_from, "--from"), parse_percent(args.percent, "--percent"),
                  args.source or "")
    rates_add(actor=actor_of(args, company), company=company, rows=[row])
    if args.json:
        emit_json({"valid_from": row.valid_from, "percent": str(row.percent)})
    else:
        print(f"reference rate {row.percent} % from {row.valid_from}")
    return 0


def cmd_rate_import(args: argparse.Namespace) -> int:
    from salesledger.apps.dunning.services import rates_add, rates_read_csv

    company = company_of(args)
    rows = rates_read_csv(read_text(args.file, "rate file"))
    n = rates_add(actor=actor_of(args, company), company=company, rows=rows)
    if args.json:
        emit_json({"imported": n})
    else:
        print(f"{n} reference rate(s) imported")
    return 0


def cmd_rate_list(args: argparse.Namespace) -> int:
    from salesledger.apps.dunning.selectors import rate_list

    rows = rate_list(company_of(args))
    if args.json:
        emit_json(rows)
    else:
        table([(r["valid_from"], r["percent"], r["source"]) for r in rows],
              ["from", "percent", "source"])
    return 0


def cmd_interest_set(args: argparse.Namespace) -> int:
    from salesledger.apps.dunning.services import interest_rule_set, parse_percent

    company = company_of(args)
    cur = (args.currency or company.base_currency).upper()
    comp = _minor(args.compensation, cur, "--compensation") if args.compensation else 0
    vat = parse_percent(args.fee_vat, "--fee-vat") if args.fee_vat else None
    rule = interest_rule_set(actor=actor_of(args, company), company=company,
                             country=args.country or "",
                             margin=parse_percent(args.margin, "--margin"),
                             compensation=comp, compensation_currency=cur if comp else "",
                             fee_vat_rate=vat)
    if args.json:
        emit_json({"country": (args.country or "*").upper(), "margin": args.margin,
                   "compensation": _money(comp, cur), "fee_vat": rule.fee_vat_rate or None})
    else:
        print(f"late-payment interest for {(args.country or 'every other country').upper()}: "
              f"reference rate + {args.margin} points"
              + (f", {money_text(comp, cur)} per invoice to businesses" if comp else "")
              + (f"; reminder fees bear VAT at {rule.fee_vat_rate} %" if rule.fee_vat_rate
                 else ""))
    return 0


def cmd_interest_list(args: argparse.Namespace) -> int:
    from salesledger.apps.dunning.selectors import interest_rule_list

    rows = interest_rule_list(company_of(args))
    if args.json:
        emit_json([{**r, "compensation": _money(r["compensation"], r["currency"] or "EUR")}
                   for r in rows])
    else:
        table([(r["country"], r["margin"], money_text(r["compensation"], r["currency"])
                if r["compensation"] else "", f"{r['fee_vat']} %" if r["fee_vat"] else "")
               for r in rows], ["country", "margin", "compensation", "fee VAT"])
    return 0


# ---------------------------------------------------------------- runs
def cmd_run(args: argparse.Namespace) -> int:
    from salesledger.apps.dunning.run import dunning_run

    company = company_of(args)
    summary = dunning_run(actor=actor_of(args, company), company=company,
                          as_of=as_of_day(args, company), send=args.send)
    data = summary.as_dict()
    if args.json:
        emit_json(data)
        return 2 if summary.problems else 0
    for p in data["planned"]:
        items = ", ".join(f"{i['item']} (level {i['level']}{'' if i['new'] else ', again'})"
                          for i in p["items"])
        print(f"{p['customer']}: level {p['level']} by {'+'.join(p['channels'])}: {items}")
    for f in data["fees"]:
        print(f"{f['customer']}: charged {f['total']['amount']} {f['total']['currency']} "
              f"on {f['invoice']}")
    for s in data["skipped"]:
        print(f"skipped {' '.join(filter(None, (s['customer'], s['item'])))}: {s['reason']}")
    for p in data["problems"]:
        print(f"{p['customer']}: {p['code']}: {p['message']}")
    if args.send:
        print(f"{summary.customers} customer(s) to remind on {summary.as_of}: sent "
              f"{summary.messages_sent} message(s), {summary.letters} letter(s), "
              f"{summary.calls} call(s) to make, {len(summary.fees)} fee invoice(s)")
    else:
        print(f"{summary.customers} customer(s) to remind on {summary.as_of}, "
              f"{summary.letters} letter(s), {summary.calls} call(s) (a preview: --send to "
              "send and charge)")
    return 2 if summary.problems else 0


def cmd_history(args: argparse.Namespace) -> int:
    from salesledger.apps.dunning.selectors import history

    rows = history(company_of(args), customer_code=args.customer or "", limit=args.limit)
    if args.json:
        emit_json(rows)
    else:
        table([(r["id"], r["day"], r["customer"], r["policy"] or "",
                f"{r['level']} {r['level_name']}".strip(), "+".join(r["channels"]),
                len(r["items"]), r["fee_invoice"] or "", r["email"] or "",
                "yes" if r["letter"] else "") for r in rows],
              ["notice", "day", "customer", "policy", "level", "channels", "items",
               "fee invoice", "e-mail", "letter"])
    return 0


def cmd_letter(args: argparse.Namespace) -> int:
    from salesledger.apps.dunning.run import notice_letter
    from salesledger.apps.dunning.selectors import notice_get

    company = company_of(args)
    no_json_to_stdout(args, args.output)
    notice = notice_get(company, args.notice)
    pdf = bytes(notice.letter_pdf) if notice.letter_pdf else notice_letter(company, notice)
    where = write_output(pdf, args.output)
    if args.json:
        emit_json({"notice": notice.pk, "output": where, "bytes": len(pdf)})
    elif args.output != "-":
        print(f"letter of notice {notice.pk} written to {where}")
    return 0


def cmd_agency(args: argparse.Namespace) -> int:
    from salesledger.apps.dunning.selectors import notice_agency_file

    company = company_of(args)
    no_json_to_stdout(args, args.output)
    where = write_output(notice_agency_file(company, args.notice), args.output)
    if args.json:
        emit_json({"notice": args.notice, "output": where})
    elif args.output != "-":
        print(f"collection agency file of notice {args.notice} written to {where}")
    return 0


# ---------------------------------------------------------------- registration
def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    g = add_group(sub, "dunning", "reminder policies, late-payment interest and reminder runs")
    pg = add_group(g, "policy", "dunning policies and who follows them")
    p = add_command(pg, common, "add", cmd_policy_add, "add a policy with its levels")
    p.add_argument("code")
    p.add_argument("--name")
    p.add_argument("--level", action="append",
                   metavar="'DAYS;NAME;CHANNELS[;FEE[;OPTIONS[;TEXT]]]'",
                   help="e.g. '-3;Friendly reminder;email' or "
                        "'40;Final notice;email+letter+call;2%%;interest+hold'")
    p.add_argument("--min-amount", help="send no reminder asking for less")
    p.add_argument("--default", action="store_true", help="the company's default policy")
    p = add_command(pg, common, "edit", cmd_policy_edit,
                    "change a policy's levels, name, minimum or default")
    p.add_argument("code")
    p.add_argument("--name")
    p.add_argument("--level", action="append",
                   metavar="'[N=]DAYS;NAME;CHANNELS[;FEE[;OPTIONS[;TEXT]]]'",
                   help="every level wanted: N= edits level N (a level customers were "
                        "reminded at keeps its number), without it a level is added")
    p.add_argument("--min-amount", help="send no reminder asking for less")
    p.add_argument("--default", action="store_true", help="make it the company's default")
    add_command(pg, common, "list", cmd_policy_list, "list the policies")
    p = add_command(pg, common, "show", cmd_policy_show, "a policy's levels")
    p.add_argument("code")
    p = add_command(pg, common, "text", cmd_policy_text,
                    "the texts a level sends per language; set one with --subject and "
                    "--body-file")
    p.add_argument("code")
    p.add_argument("level", type=int)
    p.add_argument("--language", help="en, fr, de, es or pt (to set: none for every language)")
    p.add_argument("--subject", help="the subject line of the e-mail (and the letter's title)")
    p.add_argument("--body-file", help="the body (UTF-8 text), the letter's text too")
    p.add_argument("--level-name", help="with --language: the level's name in that language "
                   "(the heading of its items, {level}); blank: its own name is read")
    p.add_argument("--template", help="name of the text the level sends (default: its own, "
                                      "or CODE-LEVEL)")
    p = add_command(pg, common, "assign", cmd_policy_assign,
                    "make a policy a customer's (and its group's) or the company's default")
    p.add_argument("code")
    p.add_argument("--customer")
    p.add_argument("--default", action="store_true")

    rg = add_group(g, "rate", "the central bank's reference rates late-payment interest uses")
    p = add_command(rg, common, "add", cmd_rate_add, "add a reference rate from a day")
    p.add_argument("--from", dest="valid_from", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--percent", required=True)
    p.add_argument("--source")
    p = add_command(rg, common, "import", cmd_rate_import,
                    "import reference rates from a CSV file (valid_from,percent[,source])")
    p.add_argument("file")
    add_command(rg, common, "list", cmd_rate_list, "list the reference rates")

    ig = add_group(g, "interest", "statutory late-payment interest per customer country")
    p = add_command(ig, common, "set", cmd_interest_set,
                    "reference rate + margin, and a fixed compensation per invoice to businesses")
    p.add_argument("--country", help="ISO country code; none for every other country")
    p.add_argument("--margin", default="8", help="points over the reference rate (8)")
    p.add_argument("--compensation", help="per invoice, business customers only (40.00)")
    p.add_argument("--currency", help="of the compensation (the company's)")
    p.add_argument("--fee-vat", metavar="PERCENT",
                   help="the VAT rate of the levels' fees for these customers, where the law "
                        "makes a reminder fee the price of a service (none: not subject to "
                        "VAT, the default)")
    add_command(ig, common, "list", cmd_interest_list, "list the interest rules")

    p = add_command(g, common, "run", cmd_run,
                    "remind every customer with something newly due or overdue on --as-of")
    x = p.add_mutually_exclusive_group()
    x.add_argument("--dry-run", action="store_true", help="preview only (the default)")
    x.add_argument("--send", action="store_true", help="write, charge and send")
    p = add_command(g, common, "history", cmd_history, "the notices sent, newest first")
    p.add_argument("customer", nargs="?")
    p.add_argument("--limit", type=int, default=100)
    p = add_command(g, common, "letter", cmd_letter, "a notice's letter (PDF)")
    p.add_argument("notice", type=int)
    p.add_argument("-o", "--output", required=True, help="file to write ('-': standard output)")
    p = add_command(g, common, "agency", cmd_agency,
                    "the file a notice handed to a collection agency (CSV)")
    p.add_argument("notice", type=int)
    p.add_argument("-o", "--output", required=True, help="file to write ('-': standard output)")
