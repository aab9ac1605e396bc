"""What a bank statement file says, read into plain values (docs/design/bank-statements.md).

Every reader (camt, MT940/MT942, OFX, CODA, QIF, CSV) returns :class:`StatementFile`: one or
more statements, each of one account, with its balances and its lines. A line keeps all the
bank sent about a movement, in the bank's own words: amounts are exact ``Decimal`` values in
the currency the bank gave (signed: money in is positive); nothing is matched or booked here.

A file that cannot be read raises :class:`StatementUnreadable` naming the line or element
and why; a file that reads but breaks its standard (a schema, a balance that does not add
up) is read, with a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from salesledger.domain.errors import LedgerError


class StatementUnreadable(LedgerError):
    """The file is not a bank statement this product reads, or breaks its format where the
    reader cannot go on: ``where`` says the line or element."""

    code = "statement_unreadable"

    def __init__(self, message: str, *, where: str = "", **fields: object) -> None:
        super().__init__(f"{where}: {message}" if where else message, where=where, **fields)


# An amount as the readers hand it over once separators are settled: ASCII digits only, as in
# every file this product reads (Python's Decimal would also take other scripts' digits).
_AMOUNT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_LIMIT = Decimal("1e15")
_PLACES = Decimal("1e-6")


def statement_amount(value: str, text: str, where: str) -> Decimal:
    """``value`` (``text`` as the file wrote it, its separators settled) as a Decimal: plain
    ASCII digits, below 10^15 and with at most six decimals, else ``StatementUnreadable``
    naming ``where``. The one rule of every reader."""
    if not _AMOUNT.fullmatch(value):
        raise StatementUnreadable(f"amount {text!r} is not a number", where=where)
    try:
        out = Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise StatementUnreadable(f"amount {text!r} is not a number", where=where) from None
    if abs(out) >= _LIMIT or out != out.quantize(_PLACES):
        raise StatementUnreadable(f"amount {text!r} is not an amount", where=where)
    return out


@dataclass(frozen=True)
class Balance:
    amount: Decimal  # signed: negative when the account is overdrawn (debit)
    day: date | None
    currency: str


@dataclass(frozen=True)
class StatementLine:
    booking_date: date
    amount: Decimal  # signed: positive for money in
    currency: str
    value_date: date | None = None
    original_amount: Decimal | None = None  # the instructed amount, before conversion
    original_currency: str = ""
    counterparty_name: str = ""
    counterparty_iban: str = ""  # or the counterparty's account number, as the bank gave it
    counterparty_bic: str = ""
    end_to_end_id: str = ""
    bank_reference: str = ""  # the bank's own reference (camt AcctSvcrRef, MT940 :61:, FITID)
    creditor_reference: str = ""  # structured: ISO 11649 RF, or Belgian OGM +++xxx/xxxx/xxxxx+++
    text: str = ""  # unstructured remittance information
    bank_code: str = ""  # bank transaction code (camt domain/family/sub-family, MT940 GVC...)
    return_reason: str = ""  # ISO 20022 return reason (AC06, MD06...) of a returned payment
    entry_reference: str = ""  # the entry a batch line was split from
    entry_index: int = 0  # position of its entry in the statement (lines of a batch share it)


@dataclass(frozen=True)
class Statement:
    account_iban: str  # compact; empty when the file gives only a bank account number
    account_number: str
    currency: str
    statement_id: str = ""
    opening: Balance | None = None
    closing: Balance | None = None
    lines: tuple[StatementLine, ...] = ()
    bic: str = ""
    account_name: str = ""
    from_date: date | None = None
    to_date: date | None = None


@dataclass(frozen=True)
class StatementFile:
    format: str  # camt.053, camt.052, camt.054, mt940, mt942, ofx, coda, qif, csv
    version: str  # e.g. 001.02 for camt, 1.02 or 2.11 for OFX, 2 for CODA
    statements: tuple[Statement, ...]
    warnings: tuple[str, ...] = field(default=())
