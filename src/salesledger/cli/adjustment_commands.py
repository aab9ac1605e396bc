"""Commands for short payments, write-offs, discounts, refunds, returned payments and an
invoice's settlement history (docs/design/adjustments.md): argument parsing and rendering
only. Registered into the ``receipt``, ``invoice`` and ``customer`` groups of commands.py, and
as the ``adjustment`` and ``refund`` groups."""

from __future__ import annotations

import argparse
from typing import Any

from salesledger.domain.errors import ValidationFailed

from .commands import Sub, _actor, _as_of, _cmd, _company, _dec, _group
from .render import emit_json, kv, money, money_text, table


def _money_of(minor: int, currency: str) -> str:
    return money_text(minor, currency)


def _adjustment_json(a: Any) -> dict[str, Any]:
    return {"adjustment": a.pk, "kind": a.kind, "reason_code": a.reason_code or None,
            "date": a.date, "amount": money(a.amount, a.currency),
            "tax": money(a.tax_amount, a.currency), "reverses": a.reversal_of_id,
            "dispute_requested": a.dispute_requested}


def _print_adjustment(a: Any, invoice: str) -> None:
    what = a.kind + (f" ({a.reason_code})" if a.reason_code else "")
    tax = f", of which VAT {_money_of(a.tax_amount, a.currency)}" if a.tax_amount else ""
    print(f"adjustment {a.pk}: {what} of {_money_of(a.amount, a.currency)} on {invoice}{tax}")


# ---------------------------------------------------------------- receipt allocate (short)
def receipt_allocate_short_cli(args: argparse.Namespace, targets: list[Any]) -> int:
    """``receipt allocate RCT --invoice INV=AMOUNT --write-off-residual | --deduction CODE``."""
    from salesledger.apps.payments.adjustments.write_offs import receipt_allocate_short

    if len(targets) != 1 or args.auto or args.policy:
        raise ValidationFailed("a short payment is allocated to one invoice: give one "
                               "--invoice NUMBER=AMOUNT (no --auto or --policy)")
    company = _company(args)
    result = receipt_allocate_short(
        actor=_actor(args, company), company=company, receipt=args.document,
        invoice=targets[0].invoice_number, day=_as_of(args, company),
        amount=targets[0].amount, write_off=args.write_off_residual,
        deduction=args.deduction or "", memo=args.memo or "",
        dispute_requested=args.dispute)
    adj = result.adjustment
    if args.json:
        emit_json({"allocations": [{"allocation": r.pk, "instalment": r.instalment_id,
                                    "amount": money(r.amount, r.currency)}
                                   for r in result.allocations],
                   "adjustment": _adjustment_json(adj) if adj else None})
        return 0
    for r in result.allocations:
        print(f"allocation {r.pk}: {_money_of(r.amount, r.currency)}")
    if adj is None:
        print("nothing left open: no adjustment")
    else:
        _print_adjustment(adj, targets[0].invoice_number)
    return 0


# ---------------------------------------------------------------- refunds and reversals
def cmd_receipt_refund(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.refunds import receipt_refund

    company = _company(args)
    r = receipt_refund(actor=_actor(args, company), company=company, number=args.receipt,
                       day=_as_of(args, company),
                       amount=_dec(args.amount, "--amount") if args.amount else None,
                       method=args.method, reference=args.reference or "",
                       memo=args.memo or "")
    if args.json:
        emit_json({"refund": r.number, "receipt": args.receipt, "date": r.date,
                   "amount": money(r.amount, r.currency), "method": r.method})
    else:
        print(f"refund {r.number}: {_money_of(r.amount, r.currency)} of {args.receipt} "
              f"paid back by {r.method}")
    return 0


def cmd_refund_reverse(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.refunds import refund_reverse

    company = _company(args)
    rev = refund_reverse(actor=_actor(args, company), company=company, number=args.refund,
                         day=_as_of(args, company), reason=args.reason or "")
    if args.json:
        emit_json({"refund": args.refund, "reversal": rev.pk,
                   "amount": money(rev.amount, rev.currency)})
    else:
        print(f"refund {args.refund} reversed: {_money_of(-rev.amount, rev.currency)} is "
              "unapplied cash again")
    return 0


def cmd_receipt_reverse(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.refunds import receipt_reverse

    company = _company(args)
    rev = receipt_reverse(actor=_actor(args, company), company=company, number=args.receipt,
                          day=_as_of(args, company), reason=args.reason,
                          fee=_dec(args.fee, "--fee") if args.fee else None)
    fee = rev.fee_invoice
    if args.json:
        emit_json({"receipt": args.receipt, "reversed_on": rev.date, "reason": rev.reason,
                   "amount": money(rev.amount, rev.receipt.currency),
                   "fee_invoice": fee.number if fee else None,
                   "fee": money(fee.total, fee.currency) if fee else None})
    else:
        print(f"receipt {args.receipt} reversed on {rev.date}: {rev.reason}")
        if fee:
            print(f"fee invoice {fee.number}: {_money_of(fee.total, fee.currency)}")
    return 0


# ---------------------------------------------------------------- invoices and customers
def cmd_invoice_write_off(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.adjustments.bad_debts import invoice_write_off

    company = _company(args)
    a = invoice_write_off(actor=_actor(args, company), company=company, number=args.number,
                          day=_as_of(args, company), reason=args.reason,
                          amount=_dec(args.amount, "--amount") if args.amount else None,
                          tax_relief=args.tax_relief)
    if args.json:
        emit_json(_adjustment_json(a))
    else:
        _print_adjustment(a, args.number)
    return 0


def cmd_invoice_adjust(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.adjustments.write_offs import invoice_adjust

    company = _company(args)
    a = invoice_adjust(actor=_actor(args, company), company=company, number=args.number,
                       kind=args.kind, day=_as_of(args, company),
                       amount=_dec(args.amount, "--amount") if args.amount else None,
                       reason_code=args.reason_code or "", memo=args.memo or "",
                       dispute_requested=args.dispute)
    if args.json:
        emit_json(_adjustment_json(a))
    else:
        _print_adjustment(a, args.number)
    return 0


def cmd_invoice_recover(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.adjustments.bad_debts import invoice_recover

    company = _company(args)
    r = invoice_recover(actor=_actor(args, company), company=company, number=args.number,
                        receipt=args.receipt, day=_as_of(args, company),
                        amount=_dec(args.amount, "--amount") if args.amount else None)
    cur = r.allocations[0].currency if r.allocations else ""
    again = r.written_off_again
    if args.json:
        emit_json({"invoice": args.number, "receipt": args.receipt,
                   "recovered": money(r.recovered, cur),
                   "paid": money(sum(a.amount for a in r.allocations), cur),
                   "written_off_again": _adjustment_json(again) if again else None})
    else:
        print(f"{args.number}: {money_text(r.recovered, cur)} recovered from {args.receipt}")
        if again:
            print(f"still written off: {money_text(again.amount, cur)} (adjustment {again.pk})")
    return 0


def cmd_invoice_history(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.history import invoice_history

    company = _company(args)
    events = invoice_history(company, args.number)
    if args.json:
        emit_json(events)
        return 0
    table([(e["date"], e["event"], e["source"], e["amount"]["amount"], e["open"]["amount"],
            _detail(e)) for e in events],
          ["date", "event", "source", "amount", "open", "detail"])
    return 0


def _detail(e: dict[str, Any]) -> str:
    parts = []
    for key in ("reason_code", "memo", "reason", "refund", "fee_invoice", "method"):
        if e.get(key):
            parts.append(f"{key.replace('_', ' ')}: {e[key]}")
    if e.get("tax"):
        parts.append(f"VAT {e['tax']['amount']}")
    if e.get("instalment"):
        parts.append(f"instalment {e['instalment']}")
    if e.get("dispute_requested"):
        parts.append("dispute requested")
    return "; ".join(parts)


def cmd_customer_write_off(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.adjustments.bad_debts import customer_write_off

    company = _company(args)
    rows = customer_write_off(actor=_actor(args, company), company=company, code=args.code,
                              day=_as_of(args, company), reason=args.reason,
                              apply_credits=not args.keep_credits, tax_relief=args.tax_relief)
    if args.json:
        emit_json([{**_adjustment_json(a), "invoice": a.invoice.number} for a in rows])
    else:
        table([(a.pk, a.invoice.number, _money_of(a.amount, a.currency)) for a in rows],
              ["adjustment", "invoice", "written off"])
    return 0


# ---------------------------------------------------------------- adjustments
def cmd_adjustment_reverse(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.adjustments.writer import adjustment_reverse

    company = _company(args)
    rev = adjustment_reverse(actor=_actor(args, company), company=company,
                             adjustment_id=args.id, day=_as_of(args, company),
                             reason=args.reason or "")
    if args.json:
        emit_json(_adjustment_json(rev))
    else:
        print(f"adjustment {args.id} reversed by {rev.pk}: "
              f"{_money_of(-rev.amount, rev.currency)} open again")
    return 0


def cmd_adjustment_list(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.history import adjustment_list

    company = _company(args)
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
        settlement_settings_set,
    )

    company = _company(args)
    if any(v is not None for v in (args.write_off_amount, args.write_off_percent,
                                   args.discount_tax_policy)):
        company = settlement_settings_set(
            actor=_actor(args, company), company=company,
            writeoff_tolerance_amount=(_dec(args.write_off_amount, "--write-off-amount")
                                       if args.write_off_amount is not None else None),
            writeoff_tolerance_percent=(_dec(args.write_off_percent, "--write-off-percent")
                                        if args.write_off_percent is not None else None),
            discount_tax_policy=args.discount_tax_policy)
    s = settlement_settings(company)
    data = {"writeoff_tolerance_amount": money(s.tolerance.amount, company.base_currency),
            "writeoff_tolerance_percent": format(s.tolerance.percent, "f"),
            "discount_tax_policy": s.discount_tax_policy.value}
    if args.json:
        emit_json(data)
    else:
        kv([("write-off tolerance", f"{money_text(s.tolerance.amount, company.base_currency)}"
                                    f" and {data['writeoff_tolerance_percent']} % of the "
                                    "invoice"),
            ("discount tax policy", data["discount_tax_policy"])])
    return 0


# ---------------------------------------------------------------- registration
REASONS = ["pricing", "damaged_goods", "freight", "promotional_allowance", "tax", "other"]


def add_allocate_options(p: argparse.ArgumentParser) -> None:
    """Options of ``receipt allocate`` for a short payment's residual."""
    p.add_argument("--write-off-residual", action="store_true",
                   help="write off what the payment leaves open (within the tolerance)")
    p.add_argument("--deduction", choices=REASONS, metavar="REASON_CODE",
                   help=f"record what it leaves open as a deduction: {', '.join(REASONS)}")
    p.add_argument("--dispute", action="store_true", help="flag the deduction for a dispute")
    p.add_argument("--memo")


def register_receipt(g: Sub, common: argparse.ArgumentParser) -> None:
    p = _cmd(g, common, "refund", cmd_receipt_refund,
             "pay back (part of) a receipt's unapplied cash")
    p.add_argument("receipt")
    p.add_argument("--amount", help="default: all that is unapplied")
    p.add_argument("--method", default="bank_transfer")
    p.add_argument("--reference")
    p.add_argument("--memo")
    p = _cmd(g, common, "reverse", cmd_receipt_reverse,
             "reverse a returned payment (direct debit, cheque): reopen what it paid")
    p.add_argument("receipt")
    p.add_argument("--reason", required=True)
    p.add_argument("--fee", help="charge the customer this fee (an invoice)")


def register_invoice(g: Sub, common: argparse.ArgumentParser) -> None:
    p = _cmd(g, common, "write-off", cmd_invoice_write_off, "write off a bad debt")
    p.add_argument("number")
    p.add_argument("--amount", help="default: all that is open")
    p.add_argument("--reason", required=True)
    p.add_argument("--tax-relief", action="store_true",
                   help="take the VAT share back from output tax (where the law allows)")
    p = _cmd(g, common, "adjust", cmd_invoice_adjust,
             "write off a payment difference, or record a deduction")
    p.add_argument("number")
    p.add_argument("--kind", required=True, choices=["write_off", "deduction"])
    p.add_argument("--amount", help="default: all that is open")
    p.add_argument("--reason-code", choices=REASONS)
    p.add_argument("--memo")
    p.add_argument("--dispute", action="store_true", help="flag the deduction for a dispute")
    p = _cmd(g, common, "recover", cmd_invoice_recover,
             "apply a payment to a written-off invoice (reverses the write-off)")
    p.add_argument("number")
    p.add_argument("--receipt", required=True)
    p.add_argument("--amount", help="default: what the receipt has unallocated")
    p = _cmd(g, common, "history", cmd_invoice_history,
             "the settlement history of an invoice")
    p.add_argument("number")


def register_customer(g: Sub, common: argparse.ArgumentParser) -> None:
    p = _cmd(g, common, "write-off", cmd_customer_write_off,
             "write off all a customer owes as bad debts")
    p.add_argument("code")
    p.add_argument("--reason", required=True)
    p.add_argument("--keep-credits", action="store_true",
                   help="do not apply open credit notes and payments first")
    p.add_argument("--tax-relief", action="store_true")


def register(sub: Sub, common: argparse.ArgumentParser) -> None:
    g = _group(sub, "adjustment", "write-offs, deductions, discounts and bad debts")
    p = _cmd(g, common, "reverse", cmd_adjustment_reverse, "undo an adjustment")
    p.add_argument("id", type=int)
    p.add_argument("--reason")
    p = _cmd(g, common, "list", cmd_adjustment_list, "list adjustments, newest first")
    p.add_argument("--kind", choices=["write_off", "deduction", "discount", "bad_debt"])
    p.add_argument("--customer")
    p.add_argument("--disputed", action="store_true", help="deductions flagged for a dispute")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--offset", type=int, default=0)
    p = _cmd(g, common, "settings", cmd_adjustment_settings,
             "show or set the write-off tolerance and the discount tax policy")
    p.add_argument("--write-off-amount", help="in the base currency")
    p.add_argument("--write-off-percent", help="of the invoice total")
    p.add_argument("--discount-tax-policy", choices=["gross", "adjust_vat"])
    g = _group(sub, "refund", "refunds of unapplied cash")
    p = _cmd(g, common, "reverse", cmd_refund_reverse, "undo a refund")
    p.add_argument("refund")
    p.add_argument("--reason")
