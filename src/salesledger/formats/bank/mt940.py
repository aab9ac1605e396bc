"""SWIFT MT940 (customer statement) and MT942 (interim transaction report), read with the
mt-940 library (it knows many banks' deviations), one statement per ``:20:`` block so that
each is checked on its own balances. The line's free text (``:86:``) is searched for the
references banks write there (``details.py``)."""

from __future__ import annotations

import logging
import re
from datetime import date
from decimal import Decimal
from typing import Any

import mt940

from .details import creditor_reference, original_amount, parse_details
from .model import (
    Balance,
    Statement,
    StatementFile,
    StatementLine,
    StatementUnreadable,
    statement_amount,
)

# The library logs each pattern it fails to match at ERROR; this reader reports the
# failure itself, as a StatementUnreadable naming the statement.
logging.getLogger("mt940").addHandler(logging.NullHandler())
logging.getLogger("mt940").propagate = False

_START = re.compile(r"^:20:", re.MULTILINE)
_TAG = re.compile(r"^:(20|25|28C?|60[FM]|61|62[FM]|86|34F|13D?):", re.MULTILINE)


def sniff(text: str) -> bool:
    return bool(re.search(r"^\s*:(20|25|28C?|60[FM]|61|86):", text[:8192], re.MULTILINE))


def _day(value: Any) -> date | None:
    return date(value.year, value.month, value.day) if value is not None else None


def _balance(value: Any) -> Balance | None:
    if value is None:
        return None
    return Balance(Decimal(value.amount.amount), _day(value.date), value.amount.currency or "")


def read_mt940(text: str) -> StatementFile:
    if "\x00" in text:
        raise StatementUnreadable("the file holds NUL characters: not an MT940 text file",
                                  where="line 1")
    _amount_fields_are_ascii(text)
    starts = [m.start() for m in _START.finditer(text)] or [0]
    chunks = [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
    kind = "mt942" if re.search(r"^:(34F|13D?):", text, re.MULTILINE) else "mt940"
    statements: list[Statement] = []
    warnings: list[str] = []
    for chunk, start in zip(chunks, starts, strict=True):
        line_no = text.count("\n", 0, start) + 1
        stmt = _statement(chunk, line_no, warnings)
        if stmt is not None:
            statements.append(stmt)
    if not statements:
        raise StatementUnreadable("no statement in the file (no :25:, :60F: or :61:)",
                                  where="line 1")
    return StatementFile(kind, "", tuple(statements), tuple(warnings))


# The fields that carry amounts and dates (balances, statement lines, totals): SWIFT's character
# set, ASCII. The library reads digits with regular expressions that would also take other
# scripts' digits (١٢ as 12).
_AMOUNT_TAG = re.compile(r"^:(?:60[FM]|61|62[FM]|64|65|90[DC]|34F):", re.MULTILINE)


def _amount_fields_are_ascii(text: str) -> None:
    for m in _AMOUNT_TAG.finditer(text):
        end = text.find("\n", m.start())
        field = text[m.start():end if end >= 0 else len(text)]
        if not field.isascii():
            raise StatementUnreadable(
                f":{field.split(':')[1]}: holds characters outside SWIFT's character set "
                "(amounts and dates are ASCII digits)",
                where=f"line {text.count(chr(10), 0, m.start()) + 1}")


def _statement(chunk: str, line_no: int, warnings: list[str]) -> Statement | None:
    where = f"line {line_no} (statement starting with :20:)"
    try:
        parsed = mt940.models.Transactions()
        parsed.parse(chunk)
    except Exception as exc:  # noqa: BLE001 - a third-party parser: any failure is the file's
        raise StatementUnreadable(f"the MT940 statement cannot be read: {exc}",
                                  where=where) from None
    data = parsed.data
    account = str(data.get("account_identification") or "").strip()
    if not account and not parsed.transactions and not data.get("final_opening_balance"):
        return None  # a block with nothing in it (a trailer, a header)
    opening = _balance(data.get("final_opening_balance")
                       or data.get("intermediate_opening_balance"))
    closing = _balance(data.get("final_closing_balance")
                       or data.get("intermediate_closing_balance"))
    either = opening or closing
    currency = either.currency if either is not None else ""
    lines = []
    for index, tx in enumerate(parsed.transactions):
        lines.append(_line(tx.data, index, currency, where))
    if not currency and lines:
        currency = lines[0].currency
    compact = account.replace(" ", "").upper()
    iban = compact.split("/")[-1] if re.fullmatch(r"(.*/)?[A-Z]{2}\d{2}[A-Z0-9]{10,30}",
                                                   compact) else ""
    # Some banks write the currency after the account (``123456789EUR``).
    number = compact if not iban else ""
    if number[-3:].isalpha() and number[:-3].replace("/", "").isdigit():
        number, currency = number[:-3], currency or number[-3:]
    return Statement(iban, number, currency, statement_id=str(
        data.get("statement_number") or data.get("transaction_reference") or ""),
        opening=opening, closing=closing, lines=tuple(lines))


def _line(d: dict[str, Any], index: int, currency: str, where: str) -> StatementLine:
    amount = d.get("amount")
    day = _day(d.get("date"))
    if amount is None or day is None:
        raise StatementUnreadable("a :61: line without an amount or a date", where=where)
    details = str(d.get("transaction_details") or "")
    found = parse_details(details)
    text = found.get("text", "")
    refs = [str(d.get(k) or "") for k in ("customer_reference", "bank_reference")]
    refs = ["" if r.upper() == "NONREF" else r for r in refs]
    original = _original(str(d.get("extra_details") or ""), details, where)
    return StatementLine(
        booking_date=_day(d.get("entry_date")) or day, value_date=day,
        amount=Decimal(amount.amount), currency=amount.currency or currency,
        original_amount=original[0] if original else None,
        original_currency=original[1] if original else "",
        counterparty_name=found.get("name", ""), counterparty_iban=found.get("iban", ""),
        counterparty_bic=found.get("bic", ""),
        end_to_end_id=found.get("e2e", "") or refs[0],
        bank_reference=refs[1] or refs[0], creditor_reference=creditor_reference(
            text or details), text=text[:1000],
        bank_code=str(d.get("id") or ""), return_reason=found.get("return_reason", ""),
        entry_index=index)


def _original(supplementary: str, details: str, where: str) -> tuple[Decimal, str] | None:
    """The payer's original amount and currency, SWIFT's ``/OCMT/USD1000,00/``: in field
    61's supplementary details (its second line), else in field 86 (as some banks write
    it); unsigned, as the bank gave it (camt's ``InstdAmt`` is too)."""
    found = original_amount(supplementary) or original_amount(details)
    if found is None:
        return None
    currency, text = found
    return statement_amount(text.replace(",", "."), text, f"{where}, /OCMT/"), currency
