"""What a document shows, as plain values for its template.

An invoice or credit note is drawn from what posting froze: its snapshot (customer name,
address, tax id and language as issued, lines, charges, VAT breakdown, totals, payment
reference), its instalments and its own columns (due date, notes), never from the
customer's live record. The seller's details, logo, colours, bank account and texts come
from the company profile; the PDF of a posted document is itself frozen the first time it
is rendered (``services.invoice_pdf_file``), so a later change of profile does not change a
document already issued.

Every value is a string, a number, a list or a dict, already formatted for the document's
language (``formatting.py``, ``labels.py``): templates only place them.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from salesledger.domain.einvoice import VAT_POINT_INVOICE_DATE
from salesledger.domain.einvoice_rules import split_exemption
from salesledger.domain.party_ids import ITEM_SCHEMES, REGISTERS
from salesledger.domain.references import format_reference
from salesledger.domain.statement import BUCKETS, CurrencySummary, StatementItem, days_overdue
from salesledger.formats.einvoice.codes import vat_point_code_for

from .formatting import Formatter
from .labels import label, labels_for

DEFAULT_BRAND = "#1f4e79"


@dataclass(frozen=True)
class Issuer:
    """The seller as the company profile describes it (a plain copy: no model instance)."""

    name: str
    legal_name: str = ""
    address_line1: str = ""
    address_line2: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""
    tax_id: str = ""
    registration_id: str = ""
    email: str = ""
    phone: str = ""
    website: str = ""
    iban: str = ""
    bic: str = ""
    logo: bytes = b""
    logo_mime: str = ""
    brand_color: str = DEFAULT_BRAND
    document_footer: str = ""
    legal_mentions: str = ""
    base_currency: str = "EUR"
    # SEPA creditor identifier (BT-90), printed on invoices collected by direct debit.
    creditor_id: str = ""
    # France: the option to pay VAT on debits, a mention the invoice must carry (BT-8).
    vat_on_debits: bool = False

    @classmethod
    def of(cls, company: Any) -> Issuer:
        logo = company.logo
        return cls(**{f: getattr(company, f) or "" for f in (
            "name", "legal_name", "address_line1", "address_line2", "postal_code", "city",
            "country", "tax_id", "registration_id", "email", "phone", "website", "iban", "bic",
            "logo_mime", "brand_color", "document_footer", "legal_mentions", "base_currency",
            "creditor_id")},
            logo=bytes(logo) if logo else b"", vat_on_debits=bool(company.vat_on_debits))


# ---------------------------------------------------------------- shared parts
def country_name(code: str, fmt: Formatter) -> str:
    return str(fmt.locale.territories.get(code.upper(), code)) if code else ""


def address_lines(address: dict[str, Any] | None, fmt: Formatter) -> list[str]:
    if not address:
        return []
    town = " ".join(x for x in (address.get("postal_code", ""), address.get("city", "")) if x)
    lines = [address.get("line1", ""), address.get("line2", ""), town, address.get("region", ""),
             country_name(address.get("country", ""), fmt)]
    return [x for x in lines if x]


def logo_uri(issuer: Issuer) -> str:
    if not issuer.logo or not issuer.logo_mime:
        return ""
    return f"data:{issuer.logo_mime};base64,{base64.b64encode(issuer.logo).decode()}"


def format_iban(iban: str) -> str:
    compact = iban.replace(" ", "").upper()
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def page_css(language: str) -> SafeString:
    """``"Page " counter(page) " of " counter(pages)`` in the document's language: a CSS
    value built from our own label, quoted for CSS (it sits in a <style> element, where
    HTML escaping would show as is)."""
    text = label(language, "page", page="\0page\0", pages="\0pages\0")
    parts = []
    for i, piece in enumerate(text.split("\0")):
        if i % 2:
            parts.append(f"counter({piece})")
        elif piece:
            parts.append('"' + "".join(c if c.isalnum() or c in " .,-:" else f"\\{ord(c):x} "
                                       for c in piece) + '"')
    return mark_safe(" ".join(parts))  # noqa: S308 - built from escaped text above


def _brand(color: str) -> str:
    value = (color or "").strip()
    ok = len(value) == 7 and value[0] == "#" and all(c in "0123456789abcdefABCDEF"
                                                      for c in value[1:])
    return value.lower() if ok else DEFAULT_BRAND


def seller(issuer: Issuer, fmt: Formatter) -> dict[str, Any]:
    address = {"line1": issuer.address_line1, "line2": issuer.address_line2,
               "postal_code": issuer.postal_code, "city": issuer.city, "country": issuer.country}
    legal = issuer.legal_name if issuer.legal_name and issuer.legal_name != issuer.name else ""
    return {"name": issuer.name, "legal_name": legal, "address": address_lines(address, fmt),
            "vat_id": issuer.tax_id, "registration_id": issuer.registration_id,
            "email": issuer.email, "phone": issuer.phone, "website": issuer.website}


def bank(issuer: Issuer) -> dict[str, str]:
    return {"iban": format_iban(issuer.iban), "bic": issuer.bic,
            "holder": issuer.legal_name or issuer.name, "number": ""}


def pay_to_bank(issuer: Issuer, snap: dict[str, Any]) -> dict[str, str]:
    """The account an invoice is paid into: the one frozen at posting (``pay_to``), else,
    for a document posted before invoices named theirs, the company's main account now."""
    account = snap.get("pay_to")
    if not account:
        return bank(issuer)
    return {"iban": format_iban(account.get("iban") or ""), "bic": account.get("bic") or "",
            "holder": account.get("holder") or issuer.legal_name or issuer.name,
            "number": "" if account.get("iban") else account.get("number") or ""}


def common(issuer: Issuer, fmt: Formatter, *, kind: str, title: str) -> dict[str, Any]:
    return {
        "kind": kind, "title": title, "language": fmt.language, "t": labels_for(fmt.language),
        "seller": seller(issuer, fmt), "logo": logo_uri(issuer),
        "brand_color": _brand(issuer.brand_color), "footer": issuer.document_footer,
        "legal_mentions": issuer.legal_mentions, "page_css": page_css(fmt.language),
        "bank": bank(issuer),
    }


def buyer(issued: dict[str, Any], fmt: Formatter) -> dict[str, Any]:
    name, legal = issued.get("name", ""), issued.get("legal_name", "")
    return {"name": legal or name, "legal_name": name if legal and legal != name else "",
            "address": address_lines(issued.get("billing_address"), fmt),
            "vat_id": issued.get("tax_id", ""), "code": issued.get("code", ""),
            "legal_id": legal_id_text(issued.get("legal_id") or {}, fmt)}


def legal_id_text(legal: dict[str, str], fmt: Formatter) -> str:
    """The buyer's registration number as issued (BT-47), named by its register: ``SIREN :
    732829320`` (France asks for the buyer's SIREN on every invoice from 2026); a register
    without a name here shows its ISO 6523 scheme."""
    number, scheme = legal.get("id", ""), legal.get("scheme", "")
    if not number:
        return ""
    t = labels_for(fmt.language)
    register = REGISTERS.get(scheme)
    name = register[0] if register else t["legal_id"] + (f" ({scheme})" if scheme else "")
    return f"{name}{t['colon']}{number}"


# ---------------------------------------------------------------- lines and totals
def _rate_text(category: str, rate: Decimal, fmt: Formatter) -> str:
    # "Not subject to VAT" has no rate at all (EN 16931 BR-O-05); the others print theirs.
    return "\u2013" if category == "O" else fmt.percent(rate)


def item_ids(li: dict[str, Any], fmt: Formatter) -> str:
    """A line's item identifiers as issued: the seller's code (BT-155) and a standard one
    named by its scheme (BT-157: ``GTIN 4006381333931``)."""
    parts = []
    if li.get("seller_item_id"):
        parts.append(f"{label(fmt.language, 'item_ref')} {li['seller_item_id']}")
    if li.get("standard_item_id"):
        scheme = li.get("standard_item_scheme", "")
        known = ITEM_SCHEMES.get(scheme)
        parts.append(f"{known[0] if known else scheme} {li['standard_item_id']}")
    return ", ".join(parts)


def lines(snap_lines: Sequence[dict[str, Any]], currency: str, fmt: Formatter
          ) -> list[dict[str, str]]:
    out = []
    for li in snap_lines:
        discount = Decimal(li.get("discount_percent") or 0)
        out.append({
            "description": li["description"], "item_ids": item_ids(li, fmt),
            "quantity": fmt.number(Decimal(li["quantity"])),
            "unit_price": fmt.amount(Decimal(li["unit_price"]), currency),
            "discount": fmt.percent(discount) if discount else "",
            "vat_rate": _rate_text(li["tax_category"], Decimal(li["tax_rate"]), fmt),
            "net": fmt.money(li["net"], currency),
        })
    return out


def charges(snap_charges: Sequence[dict[str, Any]], currency: str, fmt: Formatter
            ) -> list[dict[str, str]]:
    t = labels_for(fmt.language)
    return [{"label": t["charge" if c["is_charge"] else "allowance"]
             + (f": {c['reason']}" if c.get("reason") else ""),
             "amount": fmt.money(c["amount"] if c["is_charge"] else -c["amount"], currency),
             "vat_rate": _rate_text(c["tax_category"], Decimal(c["tax_rate"]), fmt)}
            for c in snap_charges]


def vat_breakdown(groups: Iterable[dict[str, Any]], snap_lines: Sequence[dict[str, Any]],
                  currency: str, fmt: Formatter) -> list[dict[str, str]]:
    """One row per VAT category and rate, with the legal mention of a category that is not
    charged (reverse charge, exemption, export...) and the lines' exemption reasons."""
    out = []
    for g in groups:
        category, rate = g["category"], Decimal(g["rate"])
        reasons = []
        for li in snap_lines:
            if li["tax_category"] == category and Decimal(li["tax_rate"]) == rate:
                text = split_exemption(li.get("exemption_reason") or "")[1]
                if text and text not in reasons:
                    reasons.append(text)
        mentions = [] if category == "S" else [label(fmt.language, f"category_{category}")]
        reasons = [r for r in reasons if not any(r.lower() in m.lower() for m in mentions)]
        out.append({"category": category, "rate": _rate_text(category, rate, fmt),
                    "mention": "; ".join(mentions + reasons),
                    "taxable": fmt.money(g["net"], currency), "vat": fmt.money(g["tax"], currency)})
    return out


def totals(snap: dict[str, Any], fmt: Formatter, *, credit: bool) -> list[tuple[str, str, str]]:
    t, cur = labels_for(fmt.language), snap["currency"]
    return [(t["total_net"], fmt.money(snap["net"], cur), ""),
            (t["total_vat"], fmt.money(snap["tax"], cur), ""),
            (t["total_credited" if credit else "total_due"], fmt.money(snap["total"], cur),
             "grand")]


# ---------------------------------------------------------------- the supply
def _day(text: str | None, fmt: Formatter) -> str:
    return fmt.date(date.fromisoformat(text)) if text else ""


def supply_facts(supply: dict[str, str], fmt: Formatter) -> list[tuple[str, str]]:
    """What the document says about its supply, as issued (its snapshot's ``supply``): the
    delivery date or the invoicing period (EU VAT Directive art. 226(7): the date of the
    supply when it differs from the invoice's), the contract and project it belongs to, and
    the nature of the operation, goods, services or both (a mandatory mention in France
    from 2026)."""
    t = labels_for(fmt.language)
    facts = []
    if supply.get("delivery_date"):
        facts.append((t["delivery_date"], _day(supply["delivery_date"], fmt)))
    start, end = supply.get("period_start"), supply.get("period_end")
    if start or end:
        facts.append((t["invoicing_period"],
                      " \u2013 ".join(x for x in (_day(start, fmt), _day(end, fmt)))
                      .strip()))
    for key, label_key in (("contract_reference", "contract"), ("project_reference", "project")):
        if supply.get(key):
            facts.append((t[label_key], supply[key]))
    if supply.get("supply_type"):
        facts.append((t["supply_type"], t[f"supply_{supply['supply_type']}"]))
    return facts


def vat_option(issuer: Issuer, supply: dict[str, str], fmt: Formatter) -> str:
    """France's mention of the option to pay VAT on debits, where the e-invoice states it
    (BT-8, the same rule: a French seller that opted, on a document not of goods alone)."""
    code = vat_point_code_for(issuer.country.upper(), issuer.vat_on_debits,
                              supply.get("supply_type", ""))
    return label(fmt.language, "vat_on_debits") if code == VAT_POINT_INVOICE_DATE else ""


def mask_iban(iban: str) -> str:
    """An account printed so that its owner recognises it and nobody else can use it: the
    country, check digits and last four characters (``FR14 \u2026 2606``)."""
    compact = iban.replace(" ", "").upper()
    return f"{compact[:4]} \u2026 {compact[-4:]}" if len(compact) > 8 else compact


def direct_debit(issuer: Issuer, issued: dict[str, Any], fmt: Formatter) -> str:
    """How an invoice collected by SEPA direct debit tells the payer it will be collected:
    the account debited (BT-91, masked), the mandate (BT-89) and the creditor id (BT-90)."""
    mandate = issued.get("mandate") or {}
    if not mandate.get("reference"):
        return ""
    return label(fmt.language, "direct_debit", iban=mask_iban(mandate.get("iban", "")),
                 mandate=mandate["reference"], creditor=issuer.creditor_id)


# ---------------------------------------------------------------- posted documents
@dataclass(frozen=True)
class InstalmentRow:
    due_date: date
    amount: int
    discount_date: date | None = None
    discount_amount: int = 0


def document_context(issuer: Issuer, snap: dict[str, Any], fmt: Formatter, *,
                     due_date: date | None, notes: str, instalments: Sequence[InstalmentRow],
                     terms_name: str, corrects_date: date | None, base_total: int,
                     base_tax: int) -> dict[str, Any]:
    """The context of a posted invoice or credit note (see the module docstring)."""
    credit = snap["kind"] == "credit_note"
    t, cur, lang = labels_for(fmt.language), snap["currency"], fmt.language
    title = t["credit_note" if credit else "invoice"]
    number = snap.get("number") or ""
    issued = snap.get("customer") or {}
    facts = [(t["number"], number), (t["issue_date"], fmt.date(date.fromisoformat(
        snap["issue_date"])))]
    if not credit and due_date:
        facts.append((t["due_date"], fmt.date(due_date)))
    facts.append((t["customer_code"], issued.get("code", "")))
    if snap.get("po_number"):
        facts.append((t["po_number"], snap["po_number"]))
    if snap.get("buyer_reference"):
        facts.append((t["buyer_reference"], snap["buyer_reference"]))
    supply = snap.get("supply") or {}
    facts.extend(supply_facts(supply, fmt))
    reference = format_reference(snap.get("payment_reference") or "")
    ctx = common(issuer, fmt, kind=snap["kind"], title=title)
    ctx.update({
        "number": number, "facts": facts, "buyer": buyer(issued, fmt),
        "lines": lines(snap["lines"], cur, fmt),
        "has_discounts": any(Decimal(li.get("discount_percent") or 0) for li in snap["lines"]),
        "charges": charges(snap.get("charges") or (), cur, fmt),
        "vat_breakdown": vat_breakdown(snap["tax_groups"], snap["lines"], cur, fmt),
        "vat_option": vat_option(issuer, supply, fmt),
        "direct_debit": "" if credit else direct_debit(issuer, issued, fmt),
        "totals": totals(snap, fmt, credit=credit),
        "total": fmt.money(snap["total"], cur),
        "payment_reference": reference, "payment_terms": terms_name, "notes": notes,
        "pay_by_transfer": label(lang, "pay_by_transfer", reference=reference or number),
        "instalments": [{"due_date": fmt.date(i.due_date), "amount": fmt.money(i.amount, cur)}
                        for i in instalments],
        "early_discounts": [label(lang, "early_discount",
                                  amount=fmt.money(i.discount_amount, cur),
                                  date=fmt.date(i.discount_date))
                            for i in instalments if i.discount_amount and i.discount_date],
        "corrects": label(lang, "corrects", number=snap["corrects"],
                          date=fmt.date(corrects_date)) if credit and snap.get("corrects")
        else "",
        "exchange": "",
    })
    if not credit:
        ctx["bank"] = pay_to_bank(issuer, snap)
    if cur != issuer.base_currency:
        ctx["exchange"] = label(lang, "exchange_rate", currency=cur,
                                rate=fmt.number(Decimal(snap["rate"])),
                                base=issuer.base_currency,
                                vat=fmt.money(base_tax, issuer.base_currency),
                                amount=fmt.money(base_total, issuer.base_currency))
    return ctx


# ---------------------------------------------------------------- statements
def statement_context(issuer: Issuer, issued: dict[str, Any], fmt: Formatter, *, as_of: date,
                      items: Sequence[StatementItem], summaries: Sequence[CurrencySummary]
                      ) -> dict[str, Any]:
    t = labels_for(fmt.language)
    counts: dict[str, int] = {}
    for item in items:
        counts[item.document] = counts.get(item.document, 0) + 1
    kinds = {"instalment": t["invoice"], "credit_note": t["credit_note"], "receipt": t["receipt"]}
    rows = []
    for item in items:
        debit = item.open > 0
        rows.append({
            "kind": item.kind, "label": f"{kinds[item.kind]} {item.document}",
            "date": fmt.date(item.date), "due_date": fmt.date(item.due_date) if debit else "",
            "amount": fmt.money(item.amount, item.currency),
            "open": fmt.money(item.open, item.currency),
            "days_overdue": str(days_overdue(item.due_date, as_of)) if debit else "",
        })
    ctx = common(issuer, fmt, kind="statement", title=t["statement"])
    ctx.update({
        "number": issued.get("code", ""),
        "facts": [(t["customer_code"], issued.get("code", "")), (t["date"], fmt.date(as_of))],
        "subtitle": label(fmt.language, "statement_as_of", date=fmt.long_date(as_of)),
        "buyer": buyer(issued, fmt), "items": rows,
        "summaries": [{
            "currency": s.currency,
            "buckets": [(t[key], fmt.money(amount, s.currency))
                        for (key, _, _), amount in zip(BUCKETS, s.buckets, strict=True)],
            "unapplied": fmt.money(s.unapplied, s.currency),
            "balance": fmt.money(s.balance, s.currency),
        } for s in summaries],
        "balance": "; ".join(fmt.money(s.balance, s.currency) for s in summaries)
        or fmt.money(0, issuer.base_currency),
        "payment_due": any(s.balance > 0 for s in summaries),
    })
    return ctx


@dataclass(frozen=True)
class PeriodMovement:
    """One movement of a statement for a period, with its currency's balance after it (the
    reporting app reads them: documents only lays them out)."""

    date: date
    kind: str  # invoice, credit_note, receipt, refund, write_off, ..._reversal, conversion
    document: str
    currency: str
    amount: int  # minor units: + the customer owes more, - less
    balance: int


@dataclass(frozen=True)
class Period:
    """A statement for a period: the balances the day before ``start`` and on ``end`` per
    currency, and the movements between, oldest first."""

    start: date
    end: date
    opening: dict[str, int]
    closing: dict[str, int]
    movements: Sequence[PeriodMovement]

    def currencies(self, base_currency: str) -> list[str]:
        found = {*self.opening, *self.closing, *(m.currency for m in self.movements)}
        return sorted(found) or [base_currency]


def movement_label(kind: str, t: dict[str, str]) -> str:
    """A movement's kind in the reader's language (``write_off_reversal``: "Reversed:
    Write-off")."""
    names = {"invoice": t["invoice"], "credit_note": t["credit_note"], "receipt": t["receipt"],
             "returned_payment": t["returned_payment"], "refund": t["refund"],
             "refund_reversal": t["refund_reversal"], "write_off": t["write_off"],
             "deduction": t["deduction"], "discount": t["discount_taken"],
             "bad_debt": t["bad_debt"], "conversion": t["conversion"]}
    if kind in names:
        return names[kind]
    if kind.endswith("_reversal") and kind[:-len("_reversal")] in names:
        return t["reversal_of"].format(what=names[kind[:-len("_reversal")]])
    return kind.replace("_", " ")


def period_statement_context(issuer: Issuer, issued: dict[str, Any], fmt: Formatter, *,
                             period: Period, summaries: Sequence[CurrencySummary]
                             ) -> dict[str, Any]:
    """The statement layout with a period: the opening balance, every movement with the
    balance after it, the closing balance per currency, and the aging on the last day
    (``summaries``, as the statement of that day shows it); no open items."""
    t = labels_for(fmt.language)
    ctx = statement_context(issuer, issued, fmt, as_of=period.end, items=(),
                            summaries=summaries)
    ctx["facts"] = [(t["customer_code"], issued.get("code", "")),
                    (t["date"], f"{fmt.date(period.start)} – {fmt.date(period.end)}")]
    ctx["subtitle"] = label(fmt.language, "statement_period",
                            start=fmt.long_date(period.start), end=fmt.long_date(period.end))
    ctx["period"] = {"currencies": [{
        "currency": cur,
        "opening": fmt.money(period.opening.get(cur, 0), cur),
        "opening_date": fmt.date(period.start),
        "movements": [{"kind": m.kind, "label": f"{movement_label(m.kind, t)} {m.document}"
                       .strip(), "date": fmt.date(m.date), "amount": fmt.money(m.amount, cur),
                       "balance": fmt.money(m.balance, cur)}
                      for m in period.movements if m.currency == cur],
        "closing": fmt.money(period.closing.get(cur, 0), cur),
        "closing_date": fmt.date(period.end),
    } for cur in period.currencies(issuer.base_currency)]}
    closing = [(cur, v) for cur, v in sorted(period.closing.items()) if v]
    ctx["balance"] = ("; ".join(fmt.money(v, cur) for cur, v in closing)
                      or fmt.money(0, issuer.base_currency))
    ctx["payment_due"] = any(v > 0 for _, v in closing)
    return ctx


# ---------------------------------------------------------------- quotes
def quote_context(issuer: Issuer, fmt: Formatter, *, label_text: str, issued: dict[str, Any],
                  issue_date: date, valid_until: date, snap: dict[str, Any], terms_name: str,
                  notes: str) -> dict[str, Any]:
    t = labels_for(fmt.language)
    cur = snap["currency"]
    facts = [(t["number"], label_text), (t["issue_date"], fmt.date(issue_date)),
             (t["valid_until"], fmt.date(valid_until)),
             (t["customer_code"], issued.get("code", ""))]
    if snap.get("po_number"):
        facts.append((t["po_number"], snap["po_number"]))
    if snap.get("buyer_reference"):
        facts.append((t["buyer_reference"], snap["buyer_reference"]))
    ctx = common(issuer, fmt, kind="quote", title=t["quote"])
    ctx.update({
        "number": label_text, "facts": facts, "buyer": buyer(issued, fmt),
        "lines": lines(snap["lines"], cur, fmt),
        "has_discounts": any(Decimal(li.get("discount_percent") or 0) for li in snap["lines"]),
        "charges": charges(snap.get("charges") or (), cur, fmt),
        "vat_breakdown": vat_breakdown(snap["tax_groups"], snap["lines"], cur, fmt),
        "totals": [(t["total_net"], fmt.money(snap["net"], cur), ""),
                   (t["total_vat"], fmt.money(snap["tax"], cur), ""),
                   (t["total"], fmt.money(snap["total"], cur), "grand")],
        "total": fmt.money(snap["total"], cur), "exchange": "",
        "validity": label(fmt.language, "quote_validity", date=fmt.long_date(valid_until)),
        "payment_terms": terms_name, "notes": notes,
    })
    return ctx
