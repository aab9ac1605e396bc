"""Remittance advice: what a customer says a payment pays, sent apart from the money — a CSV
file (an export of the customer's payables system) or the text of an e-mail or PDF listing
invoices and amounts. Pure: the file in, (where, reference, amount) rows out; a file that says
nothing readable is an error that says where to look.

As sent: a PDF is read for its text (pypdf); an e-mail saved as a message file (``.eml``:
headers, then a body that may be MIME parts, quoted-printable or base64) for its text parts,
its HTML parts without their tags, and the text of its PDF and CSV attachments; anything
else is text (UTF-8, else Windows-1252).

CSV: a header names the reference column (invoice, number, reference, document, facture,
rechnung, factuur...) and the amount column (amount, paid, montant, betrag, bedrag...); the
delimiter is found from the file (comma, semicolon, tab); amounts with a decimal comma or
point, thousands separators allowed. Text: every line holding an amount (two decimals) and
another token with digits is a row, the token the reference."""

from __future__ import annotations

import csv
import email
import email.policy
import html
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from email.message import EmailMessage

from pypdf import PdfReader

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
    rows: list[AdviceRow] = []
    for text in advice_texts(data):
        found = _csv_rows(text)
        rows += found if found is not None else _text_rows(text)
    if not rows:
        raise ValidationFailed("the remittance advice lists no invoice with an amount: a CSV "
                               "needs a reference and an amount column, a text one line per "
                               "invoice with its number and amount")
    for r in rows:
        if r.amount <= 0:
            raise ValidationFailed(f"{r.where}: the amount {r.amount} is not positive",
                                   where=r.where)
    return rows


def advice_texts(data: bytes) -> list[str]:
    """The texts an advice holds, as sent: a PDF's, an e-mail's parts', or the file's."""
    if data.lstrip()[:5] == b"%PDF-":
        return [pdf_text(data)]
    message = _message(data)
    if message is None:
        return [_decoded(data)]
    texts = []
    for part in message.walk():
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        if kind == "application/pdf" or payload.lstrip()[:5] == b"%PDF-":
            texts.append(pdf_text(payload))
        elif kind == "text/html":
            texts.append(_html_text(_decoded(payload, part.get_content_charset())))
        elif kind.startswith("text/") or kind == "application/csv":
            texts.append(_decoded(payload, part.get_content_charset()))
    return texts


_HEADER = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*:[ \t]")
_MESSAGE_HEADERS = ("from", "to", "subject", "date", "mime-version", "content-type")


def _message(data: bytes) -> EmailMessage | None:
    """``data`` as an e-mail message, when it is one: it begins with headers, two of them
    a message's own (a CSV's first line is never ``Name: value``)."""
    head = data.lstrip()[:4096].split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    lines = head.splitlines()
    if not lines or not _HEADER.match(lines[0]):
        return None
    names = {ln.split(b":", 1)[0].strip().lower().decode("ascii", "replace") for ln in lines
             if _HEADER.match(ln)}
    if len(names & set(_MESSAGE_HEADERS)) < 2:
        return None
    message = email.message_from_bytes(data.lstrip(), policy=email.policy.default)
    return message if isinstance(message, EmailMessage) else None


def _decoded(data: bytes, charset: str | None = None) -> str:
    for encoding in (charset, "utf-8-sig", "cp1252"):
        if not encoding:
            continue
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1")  # every byte is a character: never fails


_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
_BREAK = re.compile(r"<\s*(br|/p|/tr|/li|/div|/h\d)\b[^>]*>", re.IGNORECASE)


def _html_text(text: str) -> str:
    """An HTML part as the reader sees it: a line per paragraph, row, item or break."""
    return html.unescape(_TAG.sub(" ", _BREAK.sub("\n", text)))


def pdf_text(data: bytes) -> str:
    """The text of a PDF (its pages in order), or an error that says why there is none."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise ValidationFailed("the remittance advice is an encrypted PDF: save it "
                                   "without a password, or paste its text")
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
    except ValidationFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - a third-party parser: any failure is the file's
        raise ValidationFailed(f"the remittance advice is a PDF that cannot be read: "
                               f"{type(exc).__name__}: {exc}"[:300]) from None
    if not text.strip():
        raise ValidationFailed("the remittance advice is a PDF without text (a scan?): type "
                               "or paste the invoices and amounts it lists")
    return text
