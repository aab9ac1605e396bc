"""Bank statements in CSV, read through a saved column mapping (``bank mapping add``):
which column holds the date, the amount (or a debit and a credit column), the currency,
the counterparty's name and IBAN, the reference and the text; a decimal comma or point; the
date format; the delimiter; how many lines come before the header. Banks' CSV exports have
no standard, so nothing is guessed but the delimiter when the mapping leaves it open."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from .details import creditor_reference
from .model import (
    Balance,
    Statement,
    StatementFile,
    StatementLine,
    StatementUnreadable,
    statement_amount,
)

FIELDS = ("date", "value_date", "amount", "debit", "credit", "currency", "counterparty_name",
          "counterparty_iban", "reference", "text", "bank_reference", "balance")


@dataclass(frozen=True)
class ColumnMapping:
    """Column names (as in the header) for each field; ``amount`` or ``debit``+``credit``."""

    columns: dict[str, str]
    date_format: str = "%Y-%m-%d"
    decimal: str = "."
    delimiter: str = ""
    skip_lines: int = 0
    currency: str = ""

    def check(self) -> ColumnMapping:
        unknown = sorted(set(self.columns) - set(FIELDS))
        if unknown:
            raise StatementUnreadable(f"unknown field {unknown[0]!r} in the mapping; the fields "
                                      f"are {', '.join(FIELDS)}", where="mapping")
        if "date" not in self.columns or not ("amount" in self.columns or (
                "debit" in self.columns and "credit" in self.columns)):
            raise StatementUnreadable("a mapping needs the date column and the amount column "
                                      "(or a debit and a credit column)", where="mapping")
        if self.decimal not in (".", ","):
            raise StatementUnreadable("the decimal mark is . or ,", where="mapping")
        try:
            datetime.strptime(datetime(2024, 12, 31).strftime(self.date_format),
                              self.date_format)
        except ValueError:
            raise StatementUnreadable(f"date format {self.date_format!r} does not read back",
                                      where="mapping") from None
        return self


def _amount(text: str, decimal: str, where: str) -> Decimal:
    value = text.strip().replace(" ", "").replace("\u00a0", "")
    if not value:
        return Decimal(0)
    value = value.replace("." if decimal == "," else ",", "").replace(decimal, ".")
    neg = value.startswith("(") and value.endswith(")")
    out = statement_amount(value.strip("()").replace("+", ""), text, where)
    return -out if neg else out


def read_csv(text: str, mapping: ColumnMapping) -> StatementFile:
    mapping.check()
    body = "\n".join(text.lstrip("\ufeff").splitlines()[mapping.skip_lines:])
    delimiter = mapping.delimiter
    if not delimiter:
        try:
            delimiter = csv.Sniffer().sniff(body[:4096], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.DictReader(io.StringIO(body), delimiter=delimiter)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in mapping.columns.values() if c not in header]
    if missing:
        raise StatementUnreadable(f"column {missing[0]!r} of the mapping is not in the header "
                                  f"({', '.join(header[:12])})",
                                  where=f"line {mapping.skip_lines + 1}")
    col = mapping.columns
    lines = []
    last_balance: Decimal | None = None
    first_balance: tuple[Decimal, Decimal] | None = None
    for index, raw in enumerate(reader):
        row = {(k or "").strip(): (v or "") if isinstance(v, str) else "" for k, v in raw.items()}
        where = f"line {mapping.skip_lines + 2 + index}"
        if not any(row.values()):
            continue
        try:
            day = datetime.strptime(row[col["date"]].strip(), mapping.date_format).date()
        except ValueError:
            raise StatementUnreadable(f"date {row[col['date']]!r} does not match "
                                      f"{mapping.date_format!r}", where=where) from None
        if "amount" in col:
            amount = _amount(row[col["amount"]], mapping.decimal, where)
        else:
            amount = (_amount(row[col["credit"]], mapping.decimal, where)
                      - abs(_amount(row[col["debit"]], mapping.decimal, where)))
        value_day: date | None = None
        if col.get("value_date") and row.get(col["value_date"], "").strip():
            try:
                value_day = datetime.strptime(row[col["value_date"]].strip(),
                                              mapping.date_format).date()
            except ValueError:
                raise StatementUnreadable(f"value date {row[col['value_date']]!r} does not "
                                          f"match {mapping.date_format!r}", where=where) from None
        text_ = row.get(col.get("text", ""), "").strip()
        ref = row.get(col.get("reference", ""), "").strip()
        if col.get("balance") and row.get(col["balance"], "").strip():
            last_balance = _amount(row[col["balance"]], mapping.decimal, where)
            if first_balance is None:
                first_balance = (last_balance, amount)
        lines.append(StatementLine(
            booking_date=day, value_date=value_day, amount=amount,
            currency=(row.get(col.get("currency", ""), "") or mapping.currency).strip().upper(),
            counterparty_name=row.get(col.get("counterparty_name", ""), "").strip(),
            counterparty_iban=row.get(col.get("counterparty_iban", ""), "").replace(" ", ""),
            bank_reference=row.get(col.get("bank_reference", ""), "").strip(),
            creditor_reference=creditor_reference(ref) or creditor_reference(text_),
            text=" ".join(x for x in (ref, text_) if x), entry_index=index))
    opening = closing = None
    if first_balance is not None and last_balance is not None:
        opening = Balance(first_balance[0] - first_balance[1], None, mapping.currency)
        closing = Balance(last_balance, None, mapping.currency)
    return StatementFile("csv", "", (Statement("", "", mapping.currency, opening=opening,
                                               closing=closing, lines=tuple(lines)),))
