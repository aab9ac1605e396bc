"""Reports as Excel workbooks (XLSX), written with openpyxl (docs/decisions.md).

A sheet is a title, a header row and rows of cells. Money is written as a number in major
units with its currency in the cell's number format (``#,##0.00 "EUR"``), so that a
spreadsheet adds it up; dates as dates; figures (days, percentages) as numbers; anything
else as text, and text is never read as a formula. The workbook is written in openpyxl's
write-only mode: rows go to the file as they come, so a detail of a million open items does
not need a million rows in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from salesledger.money import get_currency

# Excel's limit on a sheet's name
SHEET_NAME_LIMIT = 31


@dataclass(frozen=True, slots=True)
class Amount:
    """An amount of money in minor units, written as a number in major units."""

    minor: int
    currency: str


Cell = str | int | Decimal | date | Amount | None


@dataclass(frozen=True)
class Sheet:
    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Cell]]
    widths: Sequence[int] = ()  # column widths in characters, where given


def money_format(currency: str) -> str:
    """The number format of amounts in ``currency``: its decimals, thousands grouped, the
    code after the number (``#,##0.00 "EUR"``; ``#,##0 "JPY"``)."""
    exponent = get_currency(currency).exponent
    decimals = "." + "0" * exponent if exponent else ""
    return f'#,##0{decimals} "{currency}"'


def major(amount: Amount) -> Decimal:
    return Decimal(amount.minor).scaleb(-get_currency(amount.currency).exponent)


def _cell(ws: Any, value: Cell, formats: dict[str, str]) -> Any:
    if isinstance(value, Amount):
        cell = WriteOnlyCell(ws, value=major(value))
        fmt = formats.get(value.currency)
        if fmt is None:
            fmt = formats[value.currency] = money_format(value.currency)
        cell.number_format = fmt
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text, never a formula
    return cell


def write_xlsx(path: str | Path, sheets: Iterable[Sheet]) -> int:
    """Write ``sheets`` to a workbook at ``path``; return the number of data rows written."""
    wb = Workbook(write_only=True)
    formats: dict[str, str] = {}
    count = 0
    bold = Font(bold=True)
    for sheet in sheets:
        ws = wb.create_sheet(title=sheet.title[:SHEET_NAME_LIMIT])
        for n, width in enumerate(sheet.widths):
            ws.column_dimensions[_column(n)].width = width
        ws.freeze_panes = "A2"
        header = []
        for h in sheet.headers:
            cell = WriteOnlyCell(ws, value=h)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        for row in sheet.rows:
            ws.append([_cell(ws, v, formats) for v in row])
            count += 1
    wb.save(str(path))
    return count


def _column(n: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(n + 1))
