"""Output for the command line: aligned text tables for people, JSON for programs.
Money in JSON is ``{"amount": "12.30", "currency": "EUR"}``: the amount is a string."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

from salesledger.money import Money, format_minor


def money(minor: int, currency: str) -> dict[str, str]:
    return Money.from_minor(minor, currency).to_json()


def money_text(minor: int, currency: str) -> str:
    return format_minor(minor, currency)


def rate_text(value: Any) -> str:
    """An exchange rate as stored, every digit and no exponent (``0.9211``, not ``9.211E-1``)."""
    return format(value, "f")


def _default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def emit_json(data: Any, out: TextIO | None = None) -> None:
    stream = out or sys.stdout
    json.dump(data, stream, default=_default, indent=2, ensure_ascii=False)
    stream.write("\n")


def emit_json_array(items: Iterable[Any], out: TextIO | None = None) -> int:
    """A JSON array written element by element as ``items`` yields them, so that memory does
    not grow with their number: the same text as ``emit_json(list(items))``. Returns how
    many were written."""
    stream = out or sys.stdout
    count = 0
    for item in items:
        json_array_element(stream, item, first=not count)
        count += 1
    json_array_end(stream, empty=not count)
    return count


def json_array_element(stream: TextIO, item: Any, *, first: bool) -> None:
    """One element of a JSON array being written (``emit_json_array``), indented as
    ``emit_json`` indents a list's."""
    body = json.dumps(item, default=_default, indent=2, ensure_ascii=False)
    stream.write(("[\n  " if first else ",\n  ") + body.replace("\n", "\n  "))


def json_array_end(stream: TextIO, *, empty: bool) -> None:
    stream.write("[]\n" if empty else "\n]\n")


def table(rows: Iterable[Sequence[Any]], headers: Sequence[str], out: TextIO | None = None) -> None:
    stream = out or sys.stdout
    body = [[("" if c is None else str(c)) for c in r] for r in rows]
    widths = [len(h) for h in headers]
    for r in body:
        widths = [max(w, len(c)) for w, c in zip(widths, r, strict=False)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    stream.write(line.rstrip() + "\n")
    for r in body:
        stream.write("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() + "\n")


def kv(pairs: Iterable[tuple[str, Any]], out: TextIO | None = None) -> None:
    stream = out or sys.stdout
    items = list(pairs)
    width = max((len(k) for k, _ in items), default=0)
    for k, v in items:
        stream.write(f"{k.ljust(width)}  {'' if v is None else v}\n")
