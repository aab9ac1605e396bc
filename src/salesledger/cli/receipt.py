"""``receipt record|allocate|unallocate|auto-allocate|refund|reverse`` and ``refund reverse``:
parsing and rendering only.

``receipt allocate`` takes one of three services: a short payment (``--write-off-residual``,
``--deduction``; docs/design/adjustments.md), an allocation by policy, as a preview or across
currencies (``--policy``, ``--dry-run``, ``--rate``; docs/design/allocation-policies.md), or
else the plain allocation of a receipt or credit note to named invoices or oldest first."""

from __future__ import annotations

import argparse
from typing import Any

from salesledger.domain.adjustments import DeductionReason
from salesledger.domain.errors import ValidationFailed

from .common import (
    Subparsers,
    actor_of,
    add_command,
    add_group,
    as_of_day,
    company_of,
    option_word,
    parse_date,
    parse_decimal,
)
from .display import adjustment_json, print_adjustment
from .render import emit_json, money, money_text, rate_text, table


# ---------------------------------------------------------------- record
def cmd_receipt_record(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.services import ReceiptInput, receipt_record

    company = company_of(args)
    r = receipt_record(
        actor=actor_of(args, company),
        company=company,
        data=ReceiptInput(
            customer_code=args.customer,
            date=parse_date(args.date, "--date") if args.date else as_of_day(args, company),
            amount=parse_decimal(args.amount, "--amount"),
            currency=args.currency or "",
            rate=parse_decimal(args.rate, "--rate") if args.rate else None,
            method=args.method,
            payer_reference=args.payer_reference or "",
            bank_reference=args.bank_reference or "",
            memo=args.memo or "",
            bank_account=args.bank_account or "",
        ),
    )
    if args.json:
        emit_json(
            {
                "number": r.number,
                "customer": args.customer,
                "amount": money(r.amount, r.currency),
                "date": r.date,
                "bank_account": r.bank_account.code,
            }
        )
    else:
        print(f"receipt {r.number}: {money_text(r.amount, r.currency)} from {args.customer}")
    return 0


# ---------------------------------------------------------------- allocate
def cmd_receipt_allocate(args: argparse.Namespace) -> int:
    from salesledger.apps.invoicing.selectors import document_kind, instalment_invoice_numbers
    from salesledger.apps.payments.services import Target, allocate

    company = company_of(args)
    targets = []
    for spec in args.invoice or []:
        number, _, amount = spec.partition("=")
        if not amount:
            raise ValidationFailed(f"--invoice {spec!r}: write NUMBER=AMOUNT")
        targets.append(Target(number.strip(), parse_decimal(amount, "--invoice amount")))
    if args.write_off_residual or args.deduction:
        return _allocate_short(args, company, targets)
    if args.policy or args.dry_run or args.rate:
        return _allocate_by_policy(args, company, targets)
    is_credit_note = document_kind(company, args.document) == "credit_note"
    rows = allocate(
        actor=actor_of(args, company),
        company=company,
        day=as_of_day(args, company),
        receipt=None if is_credit_note else args.document,
        credit_note=args.document if is_credit_note else None,
        targets=targets,
        auto=args.auto,
    )
    numbers = instalment_invoice_numbers(company, {r.instalment_id for r in rows})
    out = [
        {
            "allocation": r.pk,
            "instalment": r.instalment_id,
            "invoice": numbers[r.instalment_id],
            "amount": money(r.amount, r.currency),
        }
        for r in rows
    ]
    if args.json:
        emit_json(out)
    elif not out:
        print("nothing to allocate: no open instalments or nothing unallocated")
    else:
        table(
            [(o["allocation"], o["invoice"], o["amount"]["amount"]) for o in out],
            ["allocation", "invoice", "amount"],
        )
    return 0


def _allocate_short(args: argparse.Namespace, company: Any, targets: list[Any]) -> int:
    """``receipt allocate RCT --invoice INV=AMOUNT --write-off-residual | --deduction CODE``."""
    from salesledger.apps.payments.adjustments.write_offs import receipt_allocate_short

    if len(targets) != 1 or args.auto or args.policy:
        raise ValidationFailed("a short payment is allocated to one invoice: give one "
                               "--invoice NUMBER=AMOUNT (no --auto or --policy)")
    result = receipt_allocate_short(
        actor=actor_of(args, company), company=company, receipt=args.document,
        invoice=targets[0].invoice_number, day=as_of_day(args, company),
        amount=targets[0].amount, write_off=args.write_off_residual,
        deduction=args.deduction or "", memo=args.memo or "",
        dispute_requested=args.dispute)
    adj = result.adjustment
    if args.json:
        emit_json({"allocations": [{"allocation": r.pk, "instalment": r.instalment_id,
                                    "amount": money(r.amount, r.currency)}
                                   for r in result.allocations],
                   "adjustment": adjustment_json(adj) if adj else None})
        return 0
    for r in result.allocations:
        print(f"allocation {r.pk}: {money_text(r.amount, r.currency)}")
    if adj is None:
        print("nothing left open: no adjustment")
    else:
        print_adjustment(adj, targets[0].invoice_number)
    return 0


def _allocate_by_policy(args: argparse.Namespace, company: Any, targets: list[Any]) -> int:
    """``receipt allocate RECEIPT --policy ... [--dry-run] [--rate R]``."""
    from salesledger.apps.invoicing.selectors import document_kind
    from salesledger.apps.payments.policies import receipt_allocate_policy

    if document_kind(company, args.document) == "credit_note":
        raise ValidationFailed("policies allocate receipts; allocate a credit note with "
                               "--invoice NUMBER=AMOUNT or --auto")
    if args.auto and args.policy and args.policy.replace("-", "_") != "oldest_first":
        raise ValidationFailed("--auto is the oldest_first policy; give one or the other")
    policy = args.policy or ("oldest_first" if args.auto else "manual")
    result = receipt_allocate_policy(
        actor=actor_of(args, company), company=company, receipt=args.document, policy=policy,
        day=as_of_day(args, company), targets=targets or None, dry_run=args.dry_run,
        rate=parse_decimal(args.rate, "--rate") if args.rate else None)
    rows = [{"invoice": p.invoice, "instalment": p.instalment_id, "seq": p.seq,
             "due_date": p.due_date, "amount": money(p.amount, p.currency),
             "from_receipt": money(p.source_amount, result.currency),
             "rate": None if p.rate is None else rate_text(p.rate)} for p in result.planned]
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


def cmd_receipt_unallocate(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.services import allocation_reverse

    company = company_of(args)
    rev = allocation_reverse(
        actor=actor_of(args, company),
        company=company,
        allocation_id=args.allocation,
        day=as_of_day(args, company),
        reason=args.reason or "",
    )
    if args.json:
        emit_json({"reversal": rev.pk, "reverses": args.allocation})
    else:
        print(f"allocation {args.allocation} reversed by {rev.pk}")
    return 0


def cmd_receipt_auto_allocate(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.autoallocate import auto_allocate_all

    company = company_of(args)
    result = auto_allocate_all(
        actor=actor_of(args, company), company=company, day=as_of_day(args, company),
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


# ---------------------------------------------------------------- refunds and reversals
def cmd_receipt_refund(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.refunds import receipt_refund

    company = company_of(args)
    r = receipt_refund(actor=actor_of(args, company), company=company, number=args.receipt,
                       day=as_of_day(args, company),
                       amount=parse_decimal(args.amount, "--amount") if args.amount else None,
                       method=args.method, reference=args.reference or "",
                       memo=args.memo or "")
    if args.json:
        emit_json({"refund": r.number, "receipt": args.receipt, "date": r.date,
                   "amount": money(r.amount, r.currency), "method": r.method})
    else:
        print(f"refund {r.number}: {money_text(r.amount, r.currency)} of {args.receipt} "
              f"paid back by {r.method}")
    return 0


def cmd_refund_reverse(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.refunds import refund_reverse

    company = company_of(args)
    rev = refund_reverse(actor=actor_of(args, company), company=company, number=args.refund,
                         day=as_of_day(args, company), reason=args.reason or "")
    if args.json:
        emit_json({"refund": args.refund, "reversal": rev.pk,
                   "amount": money(rev.amount, rev.currency)})
    else:
        print(f"refund {args.refund} reversed: {money_text(-rev.amount, rev.currency)} is "
              "unapplied cash again")
    return 0


def cmd_receipt_reverse(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.refunds import receipt_reverse

    company = company_of(args)
    rev = receipt_reverse(actor=actor_of(args, company), company=company, number=args.receipt,
                          day=as_of_day(args, company), reason=args.reason,
                          fee=parse_decimal(args.fee, "--fee") if args.fee else None)
    fee = rev.fee_invoice
    if args.json:
        emit_json({"receipt": args.receipt, "reversed_on": rev.date, "reason": rev.reason,
                   "amount": money(rev.amount, rev.receipt.currency),
                   "fee_invoice": fee.number if fee else None,
                   "fee": money(fee.total, fee.currency) if fee else None})
    else:
        print(f"receipt {args.receipt} reversed on {rev.date}: {rev.reason}")
        if fee:
            print(f"fee invoice {fee.number}: {money_text(fee.total, fee.currency)}")
    return 0


# ---------------------------------------------------------------- registration
def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    g = add_group(sub, "receipt", "payments received")
    p = add_command(g, common, "record", cmd_receipt_record, "record a payment received")
    p.add_argument("--customer", required=True)
    p.add_argument("--amount", required=True)
    p.add_argument("--date")
    p.add_argument("--currency")
    p.add_argument("--rate")
    p.add_argument("--method", default="bank_transfer")
    p.add_argument("--payer-reference")
    p.add_argument("--bank-reference")
    p.add_argument("--memo")
    p.add_argument("--bank-account", metavar="CODE",
                   help="the company's bank account it arrived in (default: the main one; "
                        "see `bank account list`)")
    p = add_command(g, common, "allocate", cmd_receipt_allocate,
                    "allocate a receipt (or credit note) to invoices, or --auto oldest first")
    p.add_argument("document", help="receipt number, or credit note number (CN...)")
    p.add_argument("--invoice", action="append", metavar="NUMBER=AMOUNT")
    p.add_argument("--auto", action="store_true")
    p.add_argument("--policy", type=option_word,
                   choices=["oldest_first", "by_reference", "proportional", "manual"],
                   help="how to spread the receipt (by-reference and by_reference both work)")
    p.add_argument("--dry-run", action="store_true", help="show what would be allocated")
    p.add_argument("--rate", help="units of the invoice's currency per unit of the "
                                  "receipt's, to pay an invoice in another currency")
    reasons = [r.value for r in DeductionReason]
    p.add_argument("--write-off-residual", action="store_true",
                   help="write off what the payment leaves open (within the tolerance)")
    p.add_argument("--deduction", choices=reasons, metavar="REASON_CODE",
                   help=f"record what it leaves open as a deduction: {', '.join(reasons)}")
    p.add_argument("--dispute", action="store_true", help="flag the deduction for a dispute")
    p.add_argument("--memo")
    p = add_command(g, common, "unallocate", cmd_receipt_unallocate, "reverse an allocation")
    p.add_argument("allocation", type=int)
    p.add_argument("--reason")
    p = add_command(g, common, "auto-allocate", cmd_receipt_auto_allocate,
                    "allocate every customer's unapplied cash by a policy (resumable)")
    p.add_argument("--policy", default="oldest_first", type=option_word,
                   choices=["oldest_first", "by_reference", "proportional"])
    p.add_argument("--dry-run", action="store_true", help="show what would be allocated")
    p.add_argument("--resume", type=int, metavar="RUN", help="continue an unfinished run")
    p.add_argument("--chunk", type=int, default=500, help="customers per transaction")
    p = add_command(g, common, "refund", cmd_receipt_refund,
                    "pay back (part of) a receipt's unapplied cash")
    p.add_argument("receipt")
    p.add_argument("--amount", help="default: all that is unapplied")
    p.add_argument("--method", default="bank_transfer")
    p.add_argument("--reference")
    p.add_argument("--memo")
    p = add_command(g, common, "reverse", cmd_receipt_reverse,
                    "reverse a returned payment (direct debit, cheque): reopen what it paid")
    p.add_argument("receipt")
    p.add_argument("--reason", required=True)
    p.add_argument("--fee", help="charge the customer this fee (an invoice)")


def register_refund(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    g = add_group(sub, "refund", "refunds of unapplied cash")
    p = add_command(g, common, "reverse", cmd_refund_reverse, "undo a refund")
    p.add_argument("refund")
    p.add_argument("--reason")
