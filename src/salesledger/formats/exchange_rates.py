"""Reading exchange-rate files. Pure: no Django, no database.

Two formats (docs/design/multi-currency.md, docs/csv-formats.md):

* **CSV**: UTF-8, a header naming the columns ``date,currency,rate`` (any order), one rate
  per line: ``2025-03-07,USD,0.9233`` means 1 USD = 0.9233 of the company's base currency
  on that day. Problems are reported with their line and column, as every CSV import does.
* **ECB**: the euro foreign exchange reference rates of the European Central Bank, the XML
  it publishes daily, for the last 90 days and for the whole history:
  ``gesmes:Envelope / Cube / Cube[@time] / Cube[@currency][@rate]``, where ``rate`` is the
  number of units of the currency per 1 EUR. Elements are matched by local name so that the
  namespace prefix does not matter; the parser never resolves entities nor reaches the
  network. A currency code that is not an active ISO 4217 code (the history file still
  lists the currencies the euro replaced) is skipped and reported, not refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, BinaryIO, TextIO

from lxml import etree

from salesledger.domain.errors import ImportFailed, LedgerError
from salesledger.domain.fx import parse_rate
from salesledger.money import is_currency

from .csv_rows import CellError, Cells, Format, RowProblem, RowReader, parse_date, parse_decimal

FX_RATES = Format("fx_rates", ("date", "currency", "rate"),
                  frozenset({"date", "currency", "rate"}))

_CODE = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True, slots=True)
class RateRow:
    line: int
    day: date
    currency: str
    rate: Decimal


@dataclass
class RateFile:
    rows: list[RateRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    skipped: set[str] = field(default_factory=set)  # codes that are not ISO 4217 currencies
    lines: int = 0  # data lines (CSV rows, or ECB currency elements) read


def _rate_cell(text: str) -> Decimal:
    value = parse_decimal(text)
    try:
        return parse_rate(value)
    except LedgerError as exc:
        raise CellError(exc.message) from None


def _currency_cell(text: str) -> str:
    code = text.strip().upper()
    if not _CODE.fullmatch(code) or not is_currency(code):
        raise CellError(f"{text!r} is not an ISO 4217 currency code such as USD")
    return code


def read_rates_csv(stream: TextIO, *, name: str = "the file") -> RateFile:
    """Read a ``date,currency,rate`` file; every problem is collected, none raised except
    for a header that cannot be read (``ImportFailed``)."""
    out = RateFile()
    reader = RowReader(stream, FX_RATES, name=name, limits={"currency": 3, "rate": 40})
    seen: dict[tuple[date, str], int] = {}
    for line, row in reader:
        cells = Cells(line, row, out.problems)
        day = cells.get("date", parse_date, required=True)
        currency = cells.get("currency", _currency_cell, required=True)
        rate = cells.get("rate", _rate_cell, required=True)
        if not cells.ok:
            continue
        first = seen.setdefault((day, currency), line)
        if first != line:
            cells.problem("currency", f"{currency} on {day} is already on line {first}")
            continue
        out.rows.append(RateRow(line, day, currency, rate))
    out.problems.extend(reader.problems)
    out.lines = reader.rows
    if reader.rows == 0 and not reader.problems:
        out.problems.append(RowProblem(2, None, "the file has a header but no rows"))
    return out


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def read_ecb_xml(stream: BinaryIO, *, name: str = "the file") -> RateFile:
    """Read an ECB reference-rate file (daily, 90 days or history): rows of (day, currency,
    units of the currency per 1 EUR)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    try:
        root = etree.parse(stream, parser).getroot()
    except etree.XMLSyntaxError as exc:
        raise ImportFailed(f"{name} is not well-formed XML", [
            RowProblem(exc.lineno or 1, None, str(exc.msg))]) from None
    out = RateFile()
    if _local(root.tag) != "Envelope":
        raise ImportFailed(f"{name} is not an ECB reference-rate file", [RowProblem(
            root.sourceline or 1, None, f"the root element is <{_local(root.tag)}>, not "
            "<gesmes:Envelope> with Cube elements")])
    days: dict[date, int] = {}
    for cube in root.iter():
        if _local(cube.tag) != "Cube" or cube.get("time") is None:
            continue
        line = cube.sourceline or 0
        try:
            day = parse_date(cube.get("time", "").strip())
        except CellError as exc:
            out.problems.append(RowProblem(line, "time", str(exc)))
            continue
        if day in days:
            out.problems.append(RowProblem(line, "time", f"{day} is already on line {days[day]}"))
            continue
        days[day] = line
        _read_day(cube, day, out)
    if not days and not out.problems:
        out.problems.append(RowProblem(root.sourceline or 1, None, (
            "no <Cube time=...> element: the file holds no reference rates")))
    return out


def _read_day(cube: Any, day: date, out: RateFile) -> None:
    seen: set[str] = set()
    for item in cube:
        if _local(item.tag) != "Cube":
            continue
        out.lines += 1
        line = item.sourceline or 0
        code = (item.get("currency") or "").strip().upper()
        text = (item.get("rate") or "").strip()
        if not _CODE.fullmatch(code):
            out.problems.append(RowProblem(line, "currency", (
                f"{item.get('currency')!r} is not a currency code" if code else
                "the currency attribute is missing")))
            continue
        if not is_currency(code):
            out.skipped.add(code)
            continue
        if code in seen:
            out.problems.append(RowProblem(line, "currency", f"{code} is quoted twice on {day}"))
            continue
        seen.add(code)
        try:
            rate = _rate_cell(text) if text else None
        except CellError as exc:
            out.problems.append(RowProblem(line, "rate", str(exc)))
            continue
        if rate is None:
            out.problems.append(RowProblem(line, "rate", "the rate attribute is missing"))
            continue
        out.rows.append(RateRow(line, day, code, rate))
