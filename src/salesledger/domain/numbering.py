"""Document numbering.

Invoices and credit notes carry a number that is unique and gapless within a series and a
fiscal year (as VAT rules require, e.g. EU Directive 2006/112/EC art. 226(2): "a
sequential number ... which uniquely identifies the invoice"). The counter itself lives in
the database; this module says which fiscal year a date falls in and how a number is
written.
"""

from __future__ import annotations

from datetime import date


def fiscal_year(day: date, start_month: int = 1) -> int:
    """The fiscal year a date belongs to, named by the calendar year in which it starts."""
    if not 1 <= start_month <= 12:
        raise ValueError("fiscal year start month must be 1..12")
    return day.year if day.month >= start_month else day.year - 1


def fiscal_year_bounds(year: int, start_month: int = 1) -> tuple[date, date]:
    start = date(year, start_month, 1)
    end_year, end_month = (year + 1, start_month) if start_month > 1 else (year + 1, 1)
    from datetime import timedelta

    return start, date(end_year, end_month, 1) - timedelta(days=1)


def format_number(prefix: str, year: int, seq: int, width: int = 5) -> str:
    return f"{prefix}{year}-{seq:0{width}d}"
