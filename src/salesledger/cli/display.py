"""What several command groups print alike: an invoice or credit note in full (``invoice show``,
``create``, ``post``, and ``quote convert``), an adjustment (``invoice write-off``, ``receipt
allocate --deduction`` ...), and an e-mail delivery (``invoice send``, ``customer statement``).
Rendering only: what is printed comes from a selector or from what a service returned."""

from __future__ import annotations

import argparse
from typing import Any

from .common import as_of_day
from .render import emit_json, kv, money, money_text, table


def show_invoice(args: argparse.Namespace, company: Any, ref: str) -> int:
    """Print the invoice or credit note ``ref`` (a number, or a draft's id) as of ``--as-of``."""
    from salesledger.apps.payments.selectors import invoice_detail

    d = invoice_detail(company, ref, as_of=as_of_day(args, company))
    if args.json:
        emit_json(d)
        return 0
    kv(
        [
            ("number", d["number"] or f"draft #{d['id']}"),
            ("kind", d["kind"] + (" (opening item)" if d.get("opening") else "")),
            ("status", d["status"]),
            ("settlement", d["settlement"]),
            ("customer", d["customer"]),
            ("issue date", d["issue_date"]),
            ("due date", d["due_date"]),
            ("PO number", d["po_number"]),
            ("corrects", d["corrects"]),
            ("net", d["net"]["amount"]),
            ("tax", d["tax"]["amount"]),
            ("total", f"{d['total']['amount']} {d['currency']}"),
            ("open", f"{d['open']['amount']} {d['currency']}"),
        ]
    )
    table(
        [
            (
                li["description"],
                li["quantity"],
                li["unit_price"],
                li["tax_rate"],
                li["net"]["amount"],
                li["tax"]["amount"],
            )
            for li in d["lines"]
        ],
        ["description", "qty", "unit price", "tax %", "net", "tax"],
    )
    if d.get("charges"):
        table([(c["kind"], c["reason"] or c["reason_code"], c["tax_rate"], c["tax_category"],
                c["amount"]["amount"]) for c in d["charges"]],
              ["allowance/charge", "reason", "tax %", "cat", "amount"])
    if d["instalments"]:
        table(
            [
                (i["seq"], i["due_date"], i["amount"]["amount"], i["open"]["amount"])
                for i in d["instalments"]
            ],
            ["#", "due", "amount", "open"],
        )
    return 0


def adjustment_json(a: Any) -> dict[str, Any]:
    """An adjustment (write-off, deduction, discount, bad debt) as the service returned it."""
    return {"adjustment": a.pk, "kind": a.kind, "reason_code": a.reason_code or None,
            "date": a.date, "amount": money(a.amount, a.currency),
            "tax": money(a.tax_amount, a.currency), "reverses": a.reversal_of_id,
            "dispute_requested": a.dispute_requested}


def print_adjustment(a: Any, invoice: str) -> None:
    what = a.kind + (f" ({a.reason_code})" if a.reason_code else "")
    tax = f", of which VAT {money_text(a.tax_amount, a.currency)}" if a.tax_amount else ""
    print(f"adjustment {a.pk}: {what} of {money_text(a.amount, a.currency)} on {invoice}{tax}")


def show_adjustment(args: argparse.Namespace, a: Any, invoice: str) -> int:
    """An adjustment just made on ``invoice``: as JSON, or as a line of text."""
    if args.json:
        emit_json(adjustment_json(a))
    else:
        print_adjustment(a, invoice)
    return 0


def delivery_json(comm: Any) -> dict[str, Any]:
    """An e-mail sent (or queued): to whom, its message id, and how it went."""
    return {"recipients": comm.recipients, "message_id": comm.message_id,
            "status": comm.status, "detail": comm.status_detail}
