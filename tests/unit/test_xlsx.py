"""Reports as XLSX: money as numbers in major units with their currency's format, dates as
dates, text never a formula; read back with openpyxl itself."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook

from salesledger.formats.xlsx import Amount, Sheet, money_format, write_xlsx


def test_money_is_a_number_with_its_currency(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    rows = [["C001", Amount(123450, "EUR"), Amount(-5, "EUR"), date(2026, 3, 31), 12],
            ["=HYPERLINK(\"x\")", Amount(1000, "JPY"), Amount(12345, "KWD"), None,
             Decimal("51.7")]]
    assert write_xlsx(path, [Sheet("Aging on 2026-03-31 by due date, long title",
                                   ["customer", "a", "b", "day", "n"], rows)]) == 2
    wb = load_workbook(path)
    [ws] = wb.worksheets
    assert ws.title == "Aging on 2026-03-31 by due date"  # Excel's 31 characters
    assert [c.value for c in ws[1]] == ["customer", "a", "b", "day", "n"]
    a, b, c = ws["B2"], ws["C2"], ws["D2"]
    assert a.data_type == "n" and a.value == 1234.5 and a.number_format == '#,##0.00 "EUR"'
    assert b.value == -0.05
    assert c.value == datetime(2026, 3, 31) and c.is_date
    assert ws["E2"].value == 12
    # a text that looks like a formula stays text
    assert ws["A3"].data_type == "s" and ws["A3"].value == "=HYPERLINK(\"x\")"
    assert ws["B3"].value == 1000 and ws["B3"].number_format == '#,##0 "JPY"'
    assert ws["C3"].value == 12.345 and ws["C3"].number_format == '#,##0.000 "KWD"'
    assert ws["E3"].value == 51.7


def test_formats_follow_the_currency_exponent() -> None:
    assert money_format("EUR") == '#,##0.00 "EUR"'
    assert money_format("JPY") == '#,##0 "JPY"'
    assert money_format("BHD") == '#,##0.000 "BHD"'


def test_rows_are_written_as_they_come(tmp_path: Path) -> None:
    """The rows are a generator, consumed once, never listed: a workbook of many rows."""
    consumed = []

    def rows():  # type: ignore[no-untyped-def]
        for n in range(5000):
            consumed.append(n)
            yield [f"C{n:05d}", Amount(n, "EUR")]

    assert write_xlsx(tmp_path / "big.xlsx", [Sheet("items", ["c", "a"], rows())]) == 5000
    assert len(consumed) == 5000
    ws = load_workbook(tmp_path / "big.xlsx", read_only=True).worksheets[0]
    last = list(ws.iter_rows(min_row=5001, values_only=True))
    assert last == [("C04999", 49.99)]
