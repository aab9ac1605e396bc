"""Remittance advice: what a customer says a payment pays, sent apart from the money — a CSV
file (an export of the customer's payables system) or the text of an e-mail or PDF listing
invoices and amounts. Pure: the file in, (where, reference, amount) rows out; a file that says
nothing readable is an error that says where to look.

CSV: a header names the reference column (invoice, number, reference, document, facture,
rechnung, factuur...) and the amount column (amount, paid, montant, betrag, bedrag...); the
delimiter is found from the file (comma, semicolon, tab); amounts with a decimal comma or
point, thousands separators allowed. Text: every line holding an amount (two decimals) and
another token with digits is a row, the token the reference."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from salesledger.domain.errors import ValidationFailed

REFERENCE_HEADERS = ("invoice", "number", "reference", "ref", "document", "doc", "facture",
                     "rechnung", "factuur", "fattura", "factura", "bill")
AMOUNT_HEADERS = ("amount", "paid", "payment", "montant", "betrag", "bedrag", "importo",
                  "importe", "sum", "total")
_AMOUNT = re.compile(r"(?<![\w.,])-?\d{1,3}(?:[ .,'\u00a0\u202f]\d{3})*[.,]\d{2}(?![\d])"
                     r"|(?<![\w.,])-?\d+[.,]\d{2}(?![\d])")


@dataclass(frozen=True)
class AdviceRow:
    where: str  # "line 3"
    reference: str
    amount: Decimal


def parse_amount(text: str) -> Decimal | None:
    """``1.234,50``, ``1,234.50``, ``1 234,50`` or ``1234.5``: the last separator followed by
    one or two digits is the decimal mark."""
    t = text.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    t = t.replace("'", "")
    if not t:
        return None
    m = re.search(r"[.,](\d{1,2})$", t)
    if m:
        whole = re.sub(r"[.,]", "", t[:m.start()])
        t = f"{whole}.{m.group(1)}"
    else:
        t = re.sub(r"[.,]", "", t)
    try:
        return Decimal(t)
    except InvalidOperation:
        return None


def _header_index(header: list[str], names: tuple[str, ...]) -> int | None:
    low = [h.strip().lower() for h in header]
    for i, h in enumerate(low):
        if any(h == n or h.startswith(n + " ") or h.endswith(" " + n) or n in h.split()
               for n in names):
            return i
    for i, h in enumerate(low):
        if any(n in h for n in names):
            return i
    return None


def _csv_rows(text: str) -> list[AdviceRow] | None:
    lines = text.splitlines()
    if not lines:
        return None
    try:
        dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t|")
    except csv.Error:
        return None
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        return None
    ref, amount = _header_index(rows[0], REFERENCE_HEADERS), _header_index(rows[0],
                                                                          AMOUNT_HEADERS)
    if ref is None or amount is None or ref == amount:
        return None
    out = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) <= max(ref, amount):
            raise ValidationFailed(f"line {n}: {len(row)} column(s), the header has "
                                   f"{len(rows[0])}", where=f"line {n}")
        value = parse_amount(row[amount])
        if value is None:
            raise ValidationFailed(f"line {n}: {row[amount]!r} is not an amount",
                                   where=f"line {n}")
        if not row[ref].strip():
            raise ValidationFailed(f"line {n}: no invoice reference", where=f"line {n}")
        out.append(AdviceRow(f"line {n}", row[ref].strip(), value))
    return out


def _text_rows(text: str) -> list[AdviceRow]:
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        amounts = list(_AMOUNT.finditer(line))
        if not amounts:
            continue
        last = amounts[-1]
        rest = (line[:last.start()] + " " + line[last.end():]).strip()
        tokens = [t for t in re.findall(r"[A-Za-z0-9][A-Za-z0-9 ./_\-]*[0-9][A-Za-z0-9]*", rest)
                  if any(ch.isdigit() for ch in t)]
        value = parse_amount(last.group(0))
        if not tokens or value is None:
            continue
        out.append(AdviceRow(f"line {n}", max(tokens, key=len).strip(), value))
    return out


def read_remittance(data: bytes) -> list[AdviceRow]:
    """The rows of a remittance advice (see the module docstring)."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes nearly anything
        raise ValidationFailed("the remittance advice is not text")
    rows = _csv_rows(text)
    if rows is None:
        rows = _text_rows(text)
    if not rows:
        raise ValidationFailed("the remittance advice lists no invoice with an amount: a CSV "
                               "needs a reference and an amount column, a text one line per "
                               "invoice with its number and amount")
    for r in rows:
        if r.amount <= 0:
            raise ValidationFailed(f"{r.where}: the amount {r.amount} is not positive",
                                   where=r.where)
    return rows
