"""``bank account add|list``, ``bank mapping add|list|remove``, ``bank import``, ``bank
statements``, ``bank lines``, ``bank match``, ``bank review``, ``bank
confirm|reject|unmatch``, ``bank direct-debit``, ``bank remittance``, ``bank
reconcile-report`` and ``bank settings``: the company's bank accounts, their statements and
the cash applied from them. Parsing and rendering only; the ledger app keeps the accounts,
the banking app imports the statements, matches their lines, collects direct debits and
reconciles."""

from __future__ import annotations

import argparse
import os
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
from .files import read_bytes, write_output
from .render import emit_json, kv, money, money_text, table


def _account_json(b: Any) -> dict[str, Any]:
    return {"code": b.code, "name": b.name, "iban": b.iban, "bic": b.bic, "number": b.number,
            "currency": b.currency, "ledger_account": b.account.code, "main": b.is_main}


def cmd_account_add(args: argparse.Namespace) -> int:
    from salesledger.apps.ledger.banks import BankAccountSpec, bank_account_add

    company = company_of(args)
    row = bank_account_add(actor=actor_of(args, company), company=company, spec=BankAccountSpec(
        code=args.code, name=args.name, iban=args.iban or "", bic=args.bic or "",
        number=args.number or "", currency=args.currency or ""))
    if args.json:
        emit_json(_account_json(row))
    else:
        print(f"bank account {row.code} added: {row.iban or row.number} in {row.currency}, "
              f"ledger account {row.account.code}")
    return 0


def cmd_account_list(args: argparse.Namespace) -> int:
    from salesledger.apps.ledger.banks import bank_accounts

    rows = bank_accounts(company_of(args))
    if args.json:
        emit_json([_account_json(b) for b in rows])
    else:
        table([(b.code + (" *" if b.is_main else ""), b.name, b.iban or b.number, b.bic,
                b.currency, b.account.code) for b in rows],
              ["code", "name", "iban / number", "bic", "currency", "ledger"])
    return 0


def _columns(specs: list[str]) -> dict[str, str]:
    out = {}
    for spec in specs:
        field, sep, column = spec.partition("=")
        if not sep or not column:
            raise ValidationFailed(f"--column {spec!r}: write FIELD=HEADER, e.g. date=Booking "
                                   "date", field="column")
        out[field.strip()] = column.strip()
    return out


def cmd_mapping_add(args: argparse.Namespace) -> int:
    from salesledger.apps.banking.services import mapping_add

    company = company_of(args)
    row = mapping_add(actor=actor_of(args, company), company=company, name=args.name,
                      columns=_columns(args.column or []), date_format=args.date_format,
                      decimal=args.decimal, delimiter=args.delimiter or "",
                      skip_lines=args.skip_lines, currency=args.currency or "")
    if args.json:
        emit_json({"name": row.name, "columns": row.columns})
    else:
        print(f"column mapping {row.name} added")
    return 0


def cmd_mapping_remove(args: argparse.Namespace) -> int:
    from salesledger.apps.banking.services import mapping_remove

    company = company_of(args)
    mapping_remove(actor=actor_of(args, company), company=company, name=args.name)
    if args.json:
        emit_json({"name": args.name, "removed": True})
    else:
        print(f"column mapping {args.name} removed")
    return 0


def cmd_mapping_list(args: argparse.Namespace) -> int:
    from salesledger.apps.banking.selectors import mappings_list

    rows = mappings_list(company_of(args))
    if args.json:
        emit_json([{"name": m.name, "columns": m.columns, "date_format": m.date_format,
                    "decimal": m.decimal, "delimiter": m.delimiter,
                    "skip_lines": m.skip_lines, "currency": m.currency} for m in rows])
    else:
        table([(m.name, ", ".join(f"{k}={v}" for k, v in m.columns.items()), m.date_format,
                m.decimal) for m in rows], ["name", "columns", "date format", "decimal"])
    return 0


def _balance(minor: int | None, currency: str) -> Any:
    return None if minor is None else money(minor, currency)


def cmd_import(args: argparse.Namespace) -> int:
    from salesledger.apps.banking.services import statement_import

    company = company_of(args)
    data = read_bytes(args.file, "statement file")
    result = statement_import(actor=actor_of(args, company), company=company, data=data,
                              file_name=os.path.basename(args.file),
                              account=args.account or "", new_account=args.new_account,
                              mapping=args.mapping or "")
    out = []
    for sr in result.statements:
        s = sr.statement
        check = ("not checked" if s.balance_difference is None else "ok"
                 if s.balance_difference == 0 else money(s.balance_difference, s.currency))
        out.append({
            "account": sr.account.code, "account_created": sr.created_account,
            "statement": s.statement_id, "lines": s.line_count, "imported": s.imported_lines,
            "duplicates_skipped": sr.duplicates,
            "opening_balance": _balance(s.opening, s.currency),
            "closing_balance": _balance(s.closing, s.currency), "balance_check": check,
            "continuity": ("not checked" if s.continuity_difference is None else "ok"
                           if s.continuity_difference == 0
                           else money(s.continuity_difference, s.currency))})
    if args.json:
        emit_json({"format": result.format, "version": result.version, "statements": out,
                   "warnings": result.warnings})
        return 0
    print(f"{result.format}{' ' + result.version if result.version else ''}: "
          f"{len(out)} statement(s)")
    for o, sr in zip(out, result.statements, strict=True):
        s = sr.statement
        bal = ("" if s.opening is None else money_text(s.opening, s.currency)) + " -> " + (
            "" if s.closing is None else money_text(s.closing, s.currency))
        check = o["balance_check"]
        shown = check if isinstance(check, str) else money_text(s.balance_difference or 0,
                                                                s.currency)
        print(f"  {o['account']}: {o['lines']} lines, {o['imported']} new, "
              f"{o['duplicates_skipped']} already imported; balances {bal.strip()}; "
              f"check {shown}")
    for w in result.warnings:
        print(f"  warning: {w}")
    return 0


def cmd_statements(args: argparse.Namespace) -> int:
    from salesledger.apps.banking.selectors import statements_list

    rows = statements_list(company_of(args), account=args.account or "")
    data = [{"id": s.pk, "account": s.bank_account.code, "format": s.format,
             "statement": s.statement_id, "from": s.first_date, "to": s.closing_date,
             "lines": s.line_count, "imported": s.imported_lines,
             "opening_balance": _balance(s.opening, s.currency),
             "closing_balance": _balance(s.closing, s.currency),
             "balance_difference": _balance(s.balance_difference, s.currency)} for s in rows]
    if args.json:
        emit_json(data)
    else:
        table([(d["id"], d["account"], d["format"], d["from"] or "", d["to"] or "", d["lines"],
                "" if s.closing is None else money_text(s.closing, s.currency),
                "ok" if s.balance_difference == 0 else "" if s.balance_difference is None
                else money_text(s.balance_difference, s.currency))
               for d, s in zip(data, rows, strict=True)],
              ["id", "account", "format", "from", "to", "lines", "closing", "check"])
    return 0


def cmd_lines(args: argparse.Namespace) -> int:
    from salesledger.apps.banking.selectors import statement_lines

    rows = statement_lines(company_of(args), status=args.status or "",
                           account=args.account or "")
    if args.json:
        emit_json([{"line": r["id"], "account": r["bank_account__code"],
                    "date": r["booking_date"], "amount": money(r["amount"], r["currency"]),
                    "counterparty": r["counterparty_name"],
                    "counterparty_iban": r["counterparty_iban"],
                    "end_to_end_id": r["end_to_end_id"],
                    "bank_reference": r["bank_reference"],
                    "creditor_reference": r["creditor_reference"], "text": r["text"],
                    "return_reason": r["return_reason"], "status": r["status"]}
                   for r in rows])
    else:
        table([(r["id"], r["booking_date"], money_text(r["amount"], r["currency"]),
                r["counterparty_name"][:30], (r["creditor_reference"] or r["text"])[:40],
                r["status"]) for r in rows],
              ["line", "date", "amount", "counterparty", "reference", "status"])
    return 0


def _allocations(allocs: Any, currency: str) -> list[dict[str, Any]]:
    return [{"invoice": n, "amount": money(a, currency)} for n, a in allocs]


def _suggestion(p: Any, currency: str, codes: dict[int, str]) -> dict[str, Any]:
    return {"customer": codes.get(p.customer_id, ""),
            "allocations": _allocations(p.allocations, p.currency or currency),
            "confidence": p.confidence, "evidence": list(p.evidence)}


def cmd_match(args: argparse.Namespace) -> int:
    from salesledger.apps.banking.matching import bank_match
    from salesledger.apps.customers.selectors import customer_codes

    company = company_of(args)
    results = bank_match(actor=actor_of(args, company), company=company,
                         auto_apply=args.auto_apply, dry_run=args.dry_run)
    codes = customer_codes(company, {p.customer_id for r in results
                                     for p in (*r.suggestions, *([r.proposal] if r.proposal
                                                                 else []))})
    out = []
    for r in results:
        li = r.line
        p = r.proposal or (r.suggestions[0] if r.suggestions else None)
        out.append({
            "line": li.pk, "bank_reference": li.bank_reference,
            "end_to_end_id": li.end_to_end_id, "amount": money(li.amount, li.currency),
            "decision": r.decision, "customer": codes.get(p.customer_id, "") if p else None,
            "allocations": _allocations(p.allocations, p.currency or li.currency) if p
            else [],
            "confidence": p.confidence if p else None, "evidence": list(r.evidence),
            "suggestions": [_suggestion(s, li.currency, codes) for s in r.suggestions[:3]],

            "receipt": r.receipt or None})
    if args.json:
        emit_json(out)
        return 0
    counts: dict[str, int] = {}
    for o in out:
        counts[o["decision"]] = counts.get(o["decision"], 0) + 1
    table([(o["line"], money_text(r.line.amount, r.line.currency), o["decision"],
            o["customer"] or "", ", ".join(a["invoice"] for a in o["allocations"]),
            "" if o["confidence"] is None else f"{o['confidence']:.2f}", o["receipt"] or "")
           for o, r in zip(out, results, strict=True)],
          ["line", "amount", "decision", "customer", "invoices", "confidence", "receipt"])
    verb = "would be" if args.dry_run else "were"
    print(f"{len(out)} line(s): " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
          + ("" if args.auto_apply else f" (none {verb} applied: --auto-apply applies "
             "the sure ones)"))
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from salesledger.apps.banking.selectors import review_queue

    rows = review_queue(company_of(args))
    data = [{"line": r["line"].pk, "date": r["line"].booking_date,
             "amount": money(r["line"].amount, r["line"].currency),
             "counterparty": r["line"].counterparty_name, "text": r["line"].text,
             "suggestions": [{"choice": n, "customer": s["customer_code"],
                              "allocations": _allocations(
                                  s["allocations"], s.get("currency") or r["line"].currency),
                              "confidence": s["confidence"], "evidence": s["evidence"],
                              "reverse": s.get("reverse"),
                              "post": s.get("account") if s.get("post") else None}
                             for n, s in enumerate(r["suggestions"], start=1)]}
            for r in rows]
    if args.json:
        emit_json(data)
        return 0
    if not data:
        print("nothing to review")
    for d, r in zip(data, rows, strict=True):
        li = r["line"]
        print(f"line {d['line']}  {li.booking_date}  {money_text(li.amount, li.currency)}  "
              f"{li.counterparty_name}  {(li.creditor_reference or li.text)[:40]}")
        for s in d["suggestions"]:
            invoices = (f"reverse {s['reverse']}" if s["reverse"] else
                        f"post to {s['post']}" if s["post"] else ", ".join(
                            f"{a['invoice']} {a['amount']['amount']}"
                            for a in s["allocations"]))
            print(f"  {s['choice']}. {s['customer']}: {invoices} ({s['confidence']:.2f}; "
                  f"{'; '.join(s['evidence'])})")
    return 0


def cmd_confirm(args: argparse.Namespace) -> int:
    from salesledger.apps.banking.matching import bank_confirm

    company = company_of(args)
    from salesledger.apps.banking.selectors import line_applied_as

    number = bank_confirm(actor=actor_of(args, company), company=company, line_id=args.line,
                          choice=args.choice)
    how = line_applied_as(company, args.line)
    if args.json:
        emit_json({"line": args.line, "applied_as": how,
                   "receipt": number if how != "posting" else None,
                   "account": number if how == "posting" else None})
    elif how == "posting":
        print(f"line {args.line} posted to {number}")
    elif how == "return":
        print(f"line {args.line} returns receipt {number}: reversed, what it paid is open "
              "again")
    else:
        print(f"line {args.line} applied as receipt {number}")
    return 0


def cmd_reject(args: argparse.Namespace) -> int:
    from salesledger.apps.banking.matching import bank_reject

    company = company_of(args)
    bank_reject(actor=actor_of(args, company), company=company, line_id=args.line)
    if args.json:
        emit_json({"line": args.line, "status": "unmatched"})
    else:
        print(f"line {args.line}: suggestions rejected; it waits unmatched")
    return 0


def cmd_unmatch(args: argparse.Namespace) -> int:
    from salesledger.apps.banking.matching import bank_unmatch

    company = company_of(args)
    number = bank_unmatch(actor=actor_of(args, company), company=company, line_id=args.line,
                          day=as_of_day(args, company))
    if args.json:
        emit_json({"line": args.line, "reversed_receipt": number or None,
                   "status": "unmatched"})
    elif number:
        print(f"line {args.line} unmatched: receipt {number} reversed")
    else:
        print(f"line {args.line} unmatched: its posting reversed")
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    from salesledger.apps.banking.matching import auto_apply_threshold, auto_apply_threshold_set

    company = company_of(args)
    if args.auto_apply_threshold is not None:
        value = auto_apply_threshold_set(actor=actor_of(args, company), company=company,
                                         threshold=args.auto_apply_threshold)
    else:
        value = auto_apply_threshold(company)
    if args.json:
        emit_json({"auto_apply_threshold": value})
    else:
        print(f"auto-apply threshold: {value:.2f}")
    return 0


def cmd_direct_debit(args: argparse.Namespace) -> int:
    from salesledger.apps.banking.direct_debits import direct_debit_collect

    company = company_of(args)
    result = direct_debit_collect(actor=actor_of(args, company), company=company,
                                  due_by=parse_date(args.due_by, "--due-by"),
                                  account_code=args.account or "",
                                  today=as_of_day(args, company), dry_run=args.dry_run)
    where = ""
    if result.content and args.file:
        where = write_output(result.content, args.file)
    if args.json:
        emit_json({
            "due_by": result.due_by.isoformat(), "dry_run": args.dry_run,
            "message_id": result.message_id, "file": where or None,
            "count": len(result.debits), "total": money(result.total, "EUR"),
            "debits": [{"customer": d.customer, "invoice": d.invoice,
                        "instalment": d.instalment, "amount": money(d.amount, "EUR"),
                        "end_to_end_id": d.end_to_end_id, "sequence": d.sequence,
                        "collection_date": d.collection_date.isoformat(),
                        "attempt": d.attempt,
                        "previous_return_reason": d.previous_reason or None,
                        "amended_from": d.amended_from or None}
                       for d in result.debits],
            "skipped": [{"customer": s.customer, "invoice": s.invoice,
                         "amount": money(s.amount, s.currency), "reason": s.reason}
                        for s in result.skipped]})
        return 0
    if not result.debits:
        print(f"nothing to collect by direct debit due by {result.due_by}")
    else:
        verb = "would collect" if args.dry_run else "collecting"
        print(f"{verb} {len(result.debits)} debit(s), {money_text(result.total, 'EUR')}"
              + (f"; file {where}" if where else ""))
        table([(d.customer, d.invoice, money_text(d.amount, "EUR"), d.sequence,
                d.collection_date.isoformat(), d.end_to_end_id) for d in result.debits],
              ["customer", "invoice", "amount", "type", "collect on", "end-to-end id"])
        for d in result.debits:
            if d.note:
                print(f"  {d.end_to_end_id}: {d.note}")
    for s in result.skipped:
        print(f"  skipped {s.customer} {s.invoice} ({money_text(s.amount, s.currency)}): "
              f"{s.reason}")
    return 0


def cmd_remittance(args: argparse.Namespace) -> int:
    from salesledger.apps.banking.matching import bank_confirm
    from salesledger.apps.banking.remittance import bank_remittance
    from salesledger.apps.customers.selectors import customer_codes

    company = company_of(args)
    actor = actor_of(args, company)
    advice, proposal = bank_remittance(actor=actor, company=company, line_id=args.line,
                                       data=read_bytes(args.file, "remittance advice"),
                                       file_name=os.path.basename(args.file))
    receipt = bank_confirm(actor=actor, company=company, line_id=args.line) \
        if args.apply else None
    cur = advice.line.currency
    code = customer_codes(company, {advice.customer_id}).get(advice.customer_id, "")
    if args.json:
        emit_json({"line": args.line, "customer": code,
                   "allocations": _allocations(advice.allocations, cur),
                   "unapplied": money(advice.unapplied, cur), "receipt": receipt})
        return 0
    print(f"line {args.line}: {code} pays " + ", ".join(
        f"{n} {money_text(a, cur)}" for n, a in advice.allocations)
        + (f"; {money_text(advice.unapplied, cur)} stays unapplied" if advice.unapplied
           else ""))
    print(f"  applied as receipt {receipt}" if receipt
          else f"  waiting for review: bank confirm {args.line} applies it")
    return 0


def _rule_json(r: Any, currency: str) -> dict[str, Any]:
    rule = r.rule
    return {"position": r.position, "name": rule.name, "text": rule.pattern or None,
            "counterparty": rule.counterparty or None,
            "amount_min": None if rule.amount_min is None else money(rule.amount_min,
                                                                     currency),
            "amount_max": None if rule.amount_max is None else money(rule.amount_max,
                                                                     currency),
            "direction": rule.direction,
            "customer": rule.target if rule.action == "customer" else None,
            "account": r.account if rule.action == "account" else None}


def cmd_rule_add(args: argparse.Namespace) -> int:
    from salesledger.apps.banking.rules import bank_rule_add

    company = company_of(args)
    row = bank_rule_add(actor=actor_of(args, company), company=company, name=args.name,
                        pattern=args.text or "", counterparty=args.counterparty or "",
                        amount_min=parse_decimal(args.amount_min, "--amount-min")
                        if args.amount_min else None,
                        amount_max=parse_decimal(args.amount_max, "--amount-max")
                        if args.amount_max else None,
                        direction=args.direction, customer=args.customer or "",
                        account=args.account or "", position=args.position)
    if args.json:
        emit_json(_rule_json(row, company.base_currency))
    else:
        print(f"rule {row.rule.name} added at position {row.position}")
    return 0


def cmd_rule_list(args: argparse.Namespace) -> int:
    from salesledger.apps.banking.rules import bank_rules

    company = company_of(args)
    rows = [_rule_json(r, company.base_currency) for r in bank_rules(company)]
    if args.json:
        emit_json(rows)
        return 0
    if not rows:
        print("no bank rules")
        return 0

    def size(r: dict[str, Any]) -> str:
        lo, hi = r["amount_min"], r["amount_max"]
        if lo is None and hi is None:
            return ""
        return f"{lo['amount'] if lo else ''}..{hi['amount'] if hi else ''}"

    table([(r["position"], r["name"], r["direction"], r["text"] or "", r["counterparty"] or "",
            size(r), f"payer {r['customer']}" if r["customer"] else f"post to {r['account']}")
           for r in rows],
          ["#", "name", "money", "text", "counterparty", "amount", "then"])
    return 0


def cmd_rule_remove(args: argparse.Namespace) -> int:
    from salesledger.apps.banking.rules import bank_rule_remove

    company = company_of(args)
    bank_rule_remove(actor=actor_of(args, company), company=company, name=args.name)
    if args.json:
        emit_json({"removed": args.name})
    else:
        print(f"rule {args.name} removed")
    return 0


def cmd_reconcile_report(args: argparse.Namespace) -> int:
    from salesledger.apps.banking.reconciliation import reconciliation

    company = company_of(args)
    r = reconciliation(company, as_of=as_of_day(args, company), account_code=args.account or "")
    cur = r.currency
    bank_items = [{"line": i.line, "date": i.day.isoformat(), "amount": money(i.amount, cur),
                   "counterparty": i.counterparty, "text": i.text, "status": i.status}
                  for i in r.on_statement_not_in_books]
    book_items = [{"date": i.day.isoformat(), "amount": money(i.amount, cur), "kind": i.kind,
                   "reference": i.reference, "memo": i.memo}
                  for i in r.in_books_not_on_statement]
    if args.json:
        emit_json({
            "account": r.account.code, "as_of": r.as_of.isoformat(),
            "statement_balance": money(r.statement_balance, cur),
            "book_balance": money(r.book_balance, cur),
            "difference": money(r.difference, cur),
            "opening_balance": money(r.opening_balance, cur) if r.opening_known else None,
            "on_statement_not_in_books": {
                "count": len(bank_items),
                "total": money(sum(i.amount for i in r.on_statement_not_in_books), cur),
                "lines": bank_items},
            "in_books_not_on_statement": {
                "count": len(book_items),
                "total": money(sum(i.amount for i in r.in_books_not_on_statement), cur),
                "items": book_items},
            "unexplained": money(r.unexplained, cur),
            "other_currency_lines": r.other_currency_lines})
        return 0
    print(f"bank account {r.account.code} on {r.as_of}")
    kv([("statement balance", money_text(r.statement_balance, cur)),
        ("book balance", money_text(r.book_balance, cur)),
        ("difference", money_text(r.difference, cur)),
        ("  opening balance before the first statement",
         money_text(r.opening_balance, cur) if r.opening_known else "not given by the bank"),
        (f"  on the statement, not in the books ({len(bank_items)} lines)",
         money_text(sum(i.amount for i in r.on_statement_not_in_books), cur)),
        (f"  in the books, not on the statement ({len(book_items)})",
         money_text(-sum(i.amount for i in r.in_books_not_on_statement), cur)),
        ("unexplained", money_text(r.unexplained, cur))])
    if args.detail:
        if r.on_statement_not_in_books:
            print("\non the statement, not in the books:")
            table([(i.line, i.day.isoformat(), money_text(i.amount, cur), i.status,
                    i.counterparty, i.text[:40]) for i in r.on_statement_not_in_books],
                  ["line", "date", "amount", "status", "counterparty", "text"])
        if r.in_books_not_on_statement:
            print("\nin the books, not on the statement:")
            table([(i.day.isoformat(), money_text(i.amount, cur), i.kind, i.reference, i.memo)
                   for i in r.in_books_not_on_statement],
                  ["date", "amount", "kind", "reference", "memo"])
    if r.other_currency_lines:
        print(f"warning: {r.other_currency_lines} book line(s) of the account in another "
              f"currency than {cur} are left out")
    return 0


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    g = add_group(sub, "bank", "bank accounts and statements")
    acc = add_group(g, "account", "the company's bank accounts")
    p = add_command(acc, common, "add", cmd_account_add,
                    "add a bank account (with its own ledger account)")
    p.add_argument("code", help="one word, e.g. SAVINGS")
    p.add_argument("--name", required=True)
    p.add_argument("--iban")
    p.add_argument("--bic")
    p.add_argument("--number", help="the bank's account number, for an account with no IBAN")
    p.add_argument("--currency", help="default: the company's base currency")
    add_command(acc, common, "list", cmd_account_list,
                "list the bank accounts (* marks the main one)")
    m = add_group(g, "mapping", "CSV column mappings for bank statements")
    p = add_command(m, common, "add", cmd_mapping_add, "save a CSV column mapping")
    p.add_argument("name")
    p.add_argument("--column", action="append", metavar="FIELD=HEADER",
                   help="date, value_date, amount (or debit and credit), currency, "
                        "counterparty_name, counterparty_iban, reference, text, "
                        "bank_reference, balance")
    p.add_argument("--date-format", default="%Y-%m-%d", help="strftime codes, e.g. %%d/%%m/%%Y")
    p.add_argument("--decimal", default=".", choices=[".", ","])
    p.add_argument("--delimiter", help="default: guessed from the file")
    p.add_argument("--skip-lines", type=int, default=0, help="lines before the header")
    p.add_argument("--currency", help="the statement's currency, when no column gives it")
    add_command(m, common, "list", cmd_mapping_list, "list the CSV column mappings")
    p = add_command(m, common, "remove", cmd_mapping_remove, "remove a CSV column mapping")
    p.add_argument("name")
    p = add_command(g, common, "import", cmd_import,
                    "import a statement file (camt.052/053/054, MT940/MT942, OFX/QFX, CODA, "
                    "QIF, or CSV with --mapping)")
    p.add_argument("file")
    p.add_argument("--account", metavar="CODE",
                   help="the bank account (default: found from the file's account)")
    p.add_argument("--new-account", action="store_true",
                   help="add the file's account when it is not one of the company's")
    p.add_argument("--mapping", metavar="NAME", help="the column mapping of a CSV file")
    p = add_command(g, common, "statements", cmd_statements, "list imported statements")
    p.add_argument("--account", metavar="CODE")
    p = add_command(g, common, "lines", cmd_lines, "list statement lines")
    p.add_argument("--status", choices=("unmatched", "suggested", "applied", "other"))
    p.add_argument("--account", metavar="CODE")
    p = add_command(g, common, "match", cmd_match,
                    "match the statement lines not yet applied to open invoices")
    p.add_argument("--auto-apply", action="store_true",
                   help="apply the proposals at or above the auto-apply threshold")
    p.add_argument("--dry-run", action="store_true", help="say what would be done; write "
                   "nothing")
    add_command(g, common, "review", cmd_review, "the lines waiting for review, with their "
                "suggestions")
    p = add_command(g, common, "confirm", cmd_confirm, "apply a suggestion of a line")
    p.add_argument("line", type=int)
    p.add_argument("--choice", type=int, default=1, help="the suggestion (default: 1)")
    p = add_command(g, common, "reject", cmd_reject, "reject the suggestions of a line")
    p.add_argument("line", type=int)
    p = add_command(g, common, "unmatch", cmd_unmatch,
                    "undo an applied line (its receipt reversed)")
    p.add_argument("line", type=int)
    p = add_command(g, common, "direct-debit", cmd_direct_debit,
                    "collect by SEPA direct debit the instalments due by a day of the "
                    "customers with a mandate: a pain.008 file for the bank")
    p.add_argument("--due-by", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--account", help="the bank account collecting (default the main one)")
    p.add_argument("--file", metavar="FILE", help="write the pain.008 file here (- for "
                   "standard output)")
    p.add_argument("--dry-run", action="store_true",
                   help="say what would be collected, keep nothing")
    r = add_group(g, "rule", "your rules for statement lines: who pays, or where a line "
                  "that is not a customer payment is posted")
    p = add_command(r, common, "add", cmd_rule_add, "add a rule (tried in order; the first "
                    "that holds decides a line)")
    p.add_argument("name", help="one word, e.g. bank-fees")
    p.add_argument("--text", help="a regular expression searched (ignoring case) in the "
                   "line's text, references and counterparty name")
    p.add_argument("--counterparty", help="the counterparty's IBAN, or a part of its name")
    p.add_argument("--amount-min", help="the smallest amount (a size, in the company's "
                   "currency)")
    p.add_argument("--amount-max", help="the largest amount")
    p.add_argument("--direction", choices=["in", "out", "any"], default="any",
                   help="money in, money out, or both (default)")
    p.add_argument("--customer", help="then: the payer is this customer")
    p.add_argument("--account", choices=["bank_charges", "bank_suspense", "interest_income",
                                         "fee_income"],
                   help="then: post the line to this account")
    p.add_argument("--position", type=int, help="where in the order (default: last)")
    add_command(r, common, "list", cmd_rule_list, "the rules, in the order they are tried")
    p = add_command(r, common, "remove", cmd_rule_remove, "remove a rule")
    p.add_argument("name")
    p = add_command(g, common, "remittance", cmd_remittance,
                    "attach the customer's remittance advice (a CSV or text listing invoices "
                    "and amounts) to a line: it drives the line's allocation")
    p.add_argument("line", type=int)
    p.add_argument("file", help="the advice: CSV with reference and amount columns, or text")
    p.add_argument("--apply", action="store_true", help="apply it at once (bank confirm)")
    p = add_command(g, common, "reconcile-report", cmd_reconcile_report,
                    "book-to-bank reconciliation of a bank account on --as-of: the statement "
                    "balance, the book balance and what explains the difference")
    p.add_argument("--account", help="the bank account (default the main one)")
    p.add_argument("--detail", action="store_true", help="list every item of the difference")
    p = add_command(g, common, "settings", cmd_settings, "show or set the auto-apply "
                    "threshold")
    p.add_argument("--auto-apply-threshold", type=float, metavar="CONFIDENCE",
                   help="between 0.5 and 1 (default 0.95)")
