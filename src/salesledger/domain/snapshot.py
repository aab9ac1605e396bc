"""The snapshot of an issued document: what it said, frozen at posting and hashed.

A posted invoice or credit note must show forever what was sent to the customer, even after
the customer moves or renames itself (docs/design/posting-and-numbering.md, "The snapshot and
its hash"). Posting freezes it as JSON: the document's facts, the customer as issued, every
line and document allowance or charge (quantities, prices and rates as exact decimal text,
amounts in minor units), the tax groups and the totals. Its hash is the SHA-256 of its
canonical text (sorted keys, no spaces), written into the posting's hash-chained audit event,
so that a snapshot changed later no longer matches what was recorded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from .bank_accounts import Payee, pay_to
from .invoicing import ChargeTotal, DocumentChargeInput, LineInput, SupplyDetails, Totals


def decimal_text(value: Decimal) -> str:
    """The text a decimal column stores and gives back: never scientific notation."""
    text = str(value)
    return text if "E" not in text else str(Decimal(format(value, "f")))


def build_snapshot(*, number: str | None, kind: str, issue_date: date, currency: str,
                   rate: Decimal, customer: dict[str, Any], po_number: str,
                   buyer_reference: str, corrects: str | None, lines: Sequence[LineInput],
                   totals: Totals, charges: Sequence[DocumentChargeInput] = (),
                   payment_reference: str = "", supply: SupplyDetails | None = None,
                   payee: Payee | None = None) -> dict[str, Any]:
    """What was issued, as JSON: hashed at posting so that any later change shows. What a
    document gives beyond its lines (supply details, item identifiers, a percentage) is
    frozen only when given, so that a document without it keeps the shape it always had.
    ``payee``: the company's bank accounts; an invoice freezes the one it is paid into as
    ``pay_to`` (domain/bank_accounts.py), a credit note none."""
    snap = {
        "number": number, "kind": kind, "issue_date": issue_date.isoformat(),
        # ISO 11649 creditor reference (domain/references.py), printed on the document.
        "payment_reference": payment_reference,
        "currency": currency, "rate": decimal_text(rate), "customer": customer,
        "po_number": po_number, "buyer_reference": buyer_reference, "corrects": corrects,
        "lines": [
            {"description": li.description, "quantity": decimal_text(li.quantity),
             "unit_price": decimal_text(li.unit_price),
             "discount_percent": decimal_text(li.discount_percent),
             "tax_rate": decimal_text(li.tax_rate), "tax_category": li.tax_category,
             "exemption_reason": li.exemption_reason, "unit_code": li.unit_code,
             "net": lt.net, "tax": lt.tax, **_item_ids(li)}
            for li, lt in zip(lines, totals.lines, strict=True)
        ],
        # Document allowances and charges (EN 16931 BG-20/BG-21), amounts in minor units.
        "charges": [
            {"is_charge": c.is_charge, "reason": c.reason, "reason_code": c.reason_code,
             "amount": ct.amount, "tax_category": c.tax_category,
             "tax_rate": decimal_text(c.tax_rate), "tax": ct.tax, **_percent(c, ct)}
            for c, ct in zip(charges, totals.charges, strict=True)
        ],
        "allowance_total": totals.allowance_total, "charge_total": totals.charge_total,
        "tax_groups": [{"category": g.category, "rate": str(g.rate), "net": g.net, "tax": g.tax}
                       for g in totals.tax_groups],
        "net": totals.net, "tax": totals.tax, "total": totals.total,
    }
    details = supply.as_json() if supply is not None else {}
    if details:
        snap["supply"] = details
    account = pay_to(payee, kind=kind, currency=currency)
    if account is not None:
        snap["pay_to"] = account
    return snap


def _item_ids(line: LineInput) -> dict[str, str]:
    ids = {"seller_item_id": line.seller_item_id, "standard_item_id": line.standard_item_id,
           "standard_item_scheme": line.standard_item_scheme}
    return {k: v for k, v in ids.items() if v}


def _percent(charge: DocumentChargeInput, total: ChargeTotal) -> dict[str, Any]:
    if charge.percent is None:
        return {}
    return {"percent": decimal_text(charge.percent), "base": total.base}


def snapshot_json(snapshot: dict[str, Any]) -> str:
    """The canonical text of a snapshot: what its hash is computed over."""
    return json.dumps(snapshot, sort_keys=True, separators=(",", ":"))


def snapshot_hash(snapshot: dict[str, Any] | str) -> str:
    """The SHA-256 of a snapshot's canonical text (or of that text, already made)."""
    text = snapshot if isinstance(snapshot, str) else snapshot_json(snapshot)
    return hashlib.sha256(text.encode()).hexdigest()
