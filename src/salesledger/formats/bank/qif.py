"""Quicken Interchange Format (QIF), bank and card sections: one record per transaction
(``D`` date, ``T``/``U`` amount, ``P`` payee, ``M`` memo, ``N`` number), ``^`` ends each.
QIF names no account and no balance: the account is the one the import names.

Dates are written as the program that wrote them pleased: ``12/31/2014``, ``31/12/2014``,
``2014-12-31``, ``1/ 2'98``. The order of day and month is decided once for the file: a
first field above 12 means day first, a second field above 12 month first; when neither
tells, month first (Quicken's own)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from .details import creditor_reference
from .model import Statement, StatementFile, StatementLine, StatementUnreadable, statement_amount

_DATE = re.compile(r"^\s*(\d{1,4})\s*[/.\-]\s*(\d{1,2})\s*[/.\-']\s*(\d{1,4})\s*$")


def sniff(text: str) -> bool:
    return text.lstrip("\ufeff \r\n").upper().startswith(("!TYPE:", "!ACCOUNT", "!OPTION"))


def _order(raw: list[str]) -> str:
    firsts, seconds = [], []
    for d in raw:
        m = _DATE.match(d)
        if m and len(m.group(1)) <= 2:
            firsts.append(int(m.group(1)))
            seconds.append(int(m.group(2)))
    if any(f > 12 for f in firsts):
        return "dmy"
    return "mdy"


def _day(text: str, order: str, where: str) -> date:
    m = _DATE.match(text)
    if not m:
        raise StatementUnreadable(f"date {text!r} is not a date", where=where)
    a, b, c = (int(g) for g in m.groups())
    try:
        if len(m.group(1)) == 4:
            return date(a, b, c)
        year = c if c >= 100 else (2000 + c if c < 70 else 1900 + c)
        return date(year, a, b) if order == "mdy" else date(year, b, a)
    except ValueError:
        raise StatementUnreadable(f"date {text!r} is not a date", where=where) from None


def _amount(text: str, where: str) -> Decimal:
    value = text.replace(" ", "")
    if "," in value and "." in value:
        value = value.replace(",", "")
    elif value.count(",") == 1 and len(value.split(",")[1]) != 3:
        value = value.replace(",", ".")
    else:
        value = value.replace(",", "")
    return statement_amount(value, text, where)


def read_qif(text: str) -> StatementFile:
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or not sniff(text):
        raise StatementUnreadable("a QIF file starts with !Type:", where="line 1")
    order = _order([ln[1:] for ln in lines if ln.startswith("D")])
    records: list[dict[str, str | int]] = []
    current: dict[str, str | int] = {}
    section = ""
    for no, ln in enumerate(lines, start=1):
        if not ln.strip():
            continue
        code, value = ln[0], ln[1:].strip()
        if code == "!":
            section = value.upper()
            continue
        if code == "^":
            if current:
                records.append(current)
            current = {}
            continue
        if section and not section.startswith(("TYPE:BANK", "TYPE:CCARD", "TYPE:CASH",
                                               "TYPE:OTH")):
            continue
        current.setdefault("line", no)
        if code in "TU" and code + "T" not in current:
            current["TT"] = value
        else:
            current.setdefault(code, value)
    if current:
        records.append(current)
    out = []
    for index, r in enumerate(records):
        where = f"line {r['line']}"
        if "D" not in r or "TT" not in r:
            raise StatementUnreadable("a transaction without a date (D) or amount (T)",
                                      where=where)
        memo = str(r.get("M", ""))
        out.append(StatementLine(
            booking_date=_day(str(r["D"]), order, where), amount=_amount(str(r["TT"]), where),
            currency="", counterparty_name=str(r.get("P", "")), bank_reference=str(r.get("N", "")),
            text=memo, creditor_reference=creditor_reference(memo), entry_index=index))
    if not out:
        raise StatementUnreadable("no transaction in the file", where="line 1")
    return StatementFile("qif", "", (Statement("", "", "", lines=tuple(out)),))
