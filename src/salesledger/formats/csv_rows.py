"""Reading the CSV files salesledger imports, row by row. Pure: no Django, no database.

The formats are described in ``docs/csv-formats.md``: UTF-8, comma separated, a header row
naming the columns (in any order; an unknown column is an error), dates as ``YYYY-MM-DD``,
amounts and quantities as plain decimals with a dot (``1234.50``; no thousands separator,
no exponent). This module checks what can be checked from a row alone (syntax, ranges,
required values) and says exactly where each problem is: ``line 7, column quantity: -3 is
negative``. What needs the database (does customer C042 exist?) is checked by the import
service, which reports in the same form. A batch import reports every problem it finds and
writes nothing unless the whole file is clean.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TextIO

from salesledger.domain.errors import ImportFailed, NegativeQuantity, ValidationFailed
from salesledger.domain.invoicing import HUNDRED, LineInput, VatCategory
from salesledger.domain.party_ids import parse_item_id


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One thing wrong with an import file, where it is and why."""

    line: int
    column: str | None
    reason: str
    # The error code the same input gets from the command that writes one item
    # (docs/design/errors.md): ``invalid`` for what the file itself gets wrong.
    code: str = "invalid"

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "reason": self.reason,
                "code": self.code}


class CellError(ValueError):
    """A cell that cannot be read; the message is the reason shown to the user."""


@dataclass(frozen=True)
class Format:
    kind: str
    columns: tuple[str, ...]  # every column the format knows, in export order
    required: frozenset[str]  # columns the header must have
    # (column, columns): without the first column, the header must have the others too
    # (an invoices file of opening items only gives ``total``, not quantities and prices).
    required_without: tuple[tuple[str, frozenset[str]], ...] = ()


CUSTOMERS = Format("customers", (
    "code", "name", "legal_name", "tax_id", "country", "currency", "language", "email",
    "phone", "terms", "credit_limit", "parent", "po_required", "notes", "billing_line1",
    "billing_line2", "billing_postal_code", "billing_city", "billing_country", "contact_name",
    "contact_email", "contact_roles", "iban", "bic", "legal_id", "endpoint", "mandate_reference",
), frozenset({"code", "name"}))

INVOICES = Format("invoices", (
    "kind", "number", "ref", "customer", "issue_date", "currency", "rate", "terms", "due_date",
    "due_amount", "po_number", "buyer_reference", "notes", "corrects", "total", "description",
    "quantity", "unit_price", "tax_rate", "discount_percent", "tax_category",
    "exemption_reason", "delivery_date", "period_start", "period_end", "contract_reference",
    "project_reference", "supply_type", "seller_item_id", "standard_item_id",
), frozenset({"customer", "issue_date"}),
    (("total", frozenset({"description", "quantity", "unit_price"})),))

RECEIPTS = Format("receipts", (
    "customer", "date", "amount", "currency", "rate", "method", "payer_reference",
    "bank_reference", "memo", "invoice", "bank_account",
), frozenset({"customer", "date", "amount"}))

FORMATS = {f.kind: f for f in (CUSTOMERS, INVOICES, RECEIPTS)}

# Columns of an invoice file that describe the document, not the line: the first row of a
# document gives them; its other rows leave them empty or repeat the same value.
DOCUMENT_COLUMNS = ("kind", "customer", "issue_date", "currency", "rate", "terms", "due_date",
                    "due_amount", "po_number", "buyer_reference", "notes", "corrects", "total",
                    "delivery_date", "period_start", "period_end", "contract_reference",
                    "project_reference", "supply_type")
# What a document says about its supply (EN 16931 BT-72, BG-14, BT-12, BT-11, the nature of
# the operation): read here as dates and text, checked by ``domain.invoicing.check_supply``
# when the document is, as for one typed in.
SUPPLY_DATES = ("delivery_date", "period_start", "period_end")
SUPPLY_TEXT = ("contract_reference", "project_reference", "supply_type")

# The kinds of an invoices file: ``opening`` is an opening item of a migration, an invoice
# of another system known by its ``total`` (docs/design/opening-items.md).
INVOICE_KINDS = ("invoice", "credit_note", "opening")
OPENING = "opening"

LIST_SEPARATOR = "|"  # several values in one cell: IBANs, BICs, contact roles


# ---------------------------------------------------------------------------- reading
class RowReader:
    """Iterate over ``(line number, {column: text})`` for the data rows of a CSV stream.

    The header is read and checked on construction (``ImportFailed`` when it is missing, has
    unknown, repeated or missing required columns). Blank rows are skipped. A row with more
    cells than the header is reported in ``problems`` and skipped; missing trailing cells
    read as empty. ``limits`` caps the length of a column's text (the database column's).
    """

    def __init__(self, stream: TextIO, fmt: Format, *, name: str = "the file",
                 limits: dict[str, int] | None = None) -> None:
        self.fmt, self.name, self.limits = fmt, name, limits or {}
        self.problems: list[RowProblem] = []
        self.rows = 0
        self._reader = csv.reader(stream, strict=True)
        self.header = self._read_header()

    def _read_header(self) -> list[str]:
        try:
            first = next(self._reader, None)
        except csv.Error as exc:
            raise ImportFailed(f"{self.name} cannot be read as CSV",
                               [RowProblem(1, None, str(exc))]) from None
        if first is None or not any(c.strip() for c in first):
            raise ImportFailed(f"{self.name} has no header", [RowProblem(1, None, (
                "the first line must name the columns, e.g. "
                f"{','.join(sorted(self.fmt.required))}"))])
        header = [c.strip().lower() for c in first]
        known = set(self.fmt.columns)
        if not known & set(header):
            raise ImportFailed(f"{self.name} has no header", [RowProblem(1, None, (
                "the first line must name the columns of a {} file, e.g. {}; it reads {}"
                .format(self.fmt.kind, ",".join(self.fmt.columns[:6]), ",".join(first[:6]))
            ))])
        problems = []
        for col in header:
            if not col:
                problems.append(RowProblem(1, None, "a column has no name"))
            elif col not in known:
                problems.append(RowProblem(1, col, f"unknown column; {self.fmt.kind} files "
                                                   f"have {', '.join(self.fmt.columns)}"))
            elif header.count(col) > 1:
                problems.append(RowProblem(1, col, "the column is named twice"))
        required = set(self.fmt.required)
        for col, others in self.fmt.required_without:
            if col not in header:
                required |= others
        for col in sorted(required - set(header)):
            problems.append(RowProblem(1, col, "required column is missing"))
        if problems:
            raise ImportFailed(f"{self.name}: the header is not valid", sorted(
                set(problems), key=lambda p: (p.column or "")))
        return header

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        header, width, reader = self.header, len(self.header), self._reader
        limits = list(self.limits.items())
        line = reader.line_num + 1
        try:
            for cells in reader:
                start, line = line, reader.line_num + 1
                if not "".join(cells).strip():
                    continue
                self.rows += 1
                if "\x00" in "".join(cells):
                    # No database stores a NUL character in text (PostgreSQL refuses it).
                    self.problems.append(RowProblem(start, None, (
                        "the row contains a NUL character (byte 0), which is not text; is "
                        "the file binary, or in another encoding than UTF-8?")))
                    continue
                if len(cells) > width:
                    self.problems.append(RowProblem(start, None, (
                        f"the row has {len(cells)} values but the header names {width} "
                        "columns")))
                    continue
                row = dict(zip(header, (restore_cell(c.strip()) for c in cells), strict=False))
                for col, limit in limits:
                    if len(row.get(col, "")) > limit:
                        self.problems.append(RowProblem(start, col, f"is longer than {limit} "
                                                                    "characters"))
                yield start, row
        except csv.Error as exc:
            self.problems.append(RowProblem(line, None, f"cannot read the row: {exc}"))


# ---------------------------------------------------------------------------- cells
# A cell that starts with one of these is run as a formula by a spreadsheet that opens the file
# (CSV injection): exports write such text behind an apostrophe, which spreadsheets show as
# text and the import takes off again. Plain numbers (``-5.00``) are written as they are.
_FORMULA_START = frozenset("=+-@\t\r")


def neutralise_cell(value: Any) -> Any:
    """``value`` as an export writes it: text that a spreadsheet would run gets a leading
    apostrophe (so does text that already starts with apostrophes before such a character,
    so that the import gives back exactly what was exported)."""
    if (isinstance(value, str) and value.lstrip("'")[:1] in _FORMULA_START
            and value[:1] and not _DECIMAL.fullmatch(value)):
        return "'" + value
    return value


def restore_cell(text: str) -> str:
    """A cell as an export of ours wrote it, back to its value (``neutralise_cell``)."""
    if text[:1] == "'" and text.lstrip("'")[:1] in _FORMULA_START:
        return text[1:]
    return text


class CsvWriter:
    """``csv.writer`` for exports: every cell neutralised against spreadsheet formulas."""

    def __init__(self, out: TextIO) -> None:
        self._writer = csv.writer(out, lineterminator="\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralise_cell(v) for v in row])


# ASCII digits only: ``\d`` would also read digits of other scripts (``١٢`` as 12).
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_TRUE, _FALSE = {"true", "yes", "y", "1"}, {"false", "no", "n", "0", ""}


def parse_decimal(text: str) -> Decimal:
    if not _DECIMAL.fullmatch(text):
        if "," in text and _DECIMAL.fullmatch(text.replace(",", ".")):
            raise CellError(f"{text} uses a comma; write decimals with a dot, e.g. "
                            f"{text.replace(',', '.')}")
        raise CellError(f"{text!r} is not a number (write e.g. 1234.50)")
    value = Decimal(text)
    return value if value else abs(value)  # -0 is 0


def parse_date(text: str) -> date:
    try:
        if _DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        raise CellError(f"{text} is not a real date") from None
    raise CellError(f"{text!r} is not a date; write YYYY-MM-DD, e.g. 2026-01-31")


def parse_bool(text: str) -> bool:
    value = text.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise CellError(f"{text!r} is not true or false")


def parse_percent(text: str) -> Decimal:
    value = parse_decimal(text.rstrip("%").strip())
    if not Decimal(0) <= value <= HUNDRED:
        raise CellError(f"{text} is not a percentage between 0 and 100")
    return value


def parse_list(text: str) -> list[str]:
    return [v.strip() for v in text.split(LIST_SEPARATOR)] if text else []


class Cells:
    """Read typed values out of one row, recording a problem per bad cell."""

    def __init__(self, line: int, row: dict[str, str], problems: list[RowProblem]) -> None:
        self.line, self.row, self.problems = line, row, problems
        self.ok = True

    def text(self, col: str, *, required: bool = False) -> str:
        value = self.row.get(col, "")
        if required and not value:
            self.problem(col, "a value is required")
        return value

    def get(self, col: str, parse: Any, *, required: bool = False, default: Any = None) -> Any:
        text = self.text(col, required=required)
        if not text:
            return default
        try:
            return parse(text)
        except CellError as exc:
            self.problem(col, str(exc))
            return default

    def problem(self, col: str | None, reason: str, *, code: str = "invalid") -> None:
        self.ok = False
        self.problems.append(RowProblem(self.line, col, reason, code))


# ---------------------------------------------------------------------------- customers
@dataclass
class CustomerRow:
    line: int
    values: dict[str, str]  # the plain text columns
    po_required: bool
    accounts: list[tuple[str, str]]  # (iban, bic)
    contact_roles: tuple[str, ...]
    ok: bool = True  # False: a problem was reported; the row is only used for its code


def customer_row(line: int, row: dict[str, str], problems: list[RowProblem]) -> CustomerRow:
    cells = Cells(line, row, problems)
    cells.text("code", required=True)
    cells.text("name", required=True)
    po_required = cells.get("po_required", parse_bool, default=False)
    ibans, bics = parse_list(row.get("iban", "")), parse_list(row.get("bic", ""))
    if len(bics) > len(ibans):
        cells.problem("bic", f"{len(bics)} BICs for {len(ibans)} IBANs; give the BIC of each "
                             "IBAN in the same position, separated by |")
    if any(not i for i in ibans):
        cells.problem("iban", "an IBAN in the list is empty")
    roles = tuple(parse_list(row.get("contact_roles", ""))) or ("billing",)
    if row.get("credit_limit"):
        cells.get("credit_limit", parse_decimal)
    accounts = [(iban, bics[i] if i < len(bics) else "") for i, iban in enumerate(ibans)]
    return CustomerRow(line, row, bool(po_required), accounts, roles, cells.ok)


# ---------------------------------------------------------------------------- invoices
@dataclass
class InvoiceRow:
    line: int
    head: dict[str, Any]  # document columns given on this row (parsed), by column name
    number: str
    ref: str
    item: LineInput | None
    given: set[str] = field(default_factory=set)  # columns with a value on this row


@dataclass
class DocumentRows:
    """The rows of one document: the first row's line, its document columns, its lines."""

    key: str
    number: str
    line: int
    head: dict[str, Any]
    rows: list[InvoiceRow] = field(default_factory=list)
    ok: bool = True
    index: int = 0  # order of the document's first row among the file's documents

    def value(self, col: str, default: Any = "") -> Any:
        value = self.head.get(col)
        return default if value in _EMPTY else value


def invoice_row(line: int, row: dict[str, str], problems: list[RowProblem]) -> InvoiceRow:
    cells = Cells(line, row, problems)
    head: dict[str, Any] = {}
    kind = row.get("kind", "").lower()
    if kind and kind not in INVOICE_KINDS:
        cells.problem("kind", f"{row['kind']!r} is not {', '.join(INVOICE_KINDS[:-1])} or "
                              f"{INVOICE_KINDS[-1]}")
    head["kind"] = kind
    head["issue_date"] = cells.get("issue_date", parse_date)
    head["rate"] = cells.get("rate", parse_decimal)
    if head["rate"] is not None and head["rate"] <= 0:
        cells.problem("rate", f"{row['rate']} is not a positive exchange rate")
    for col in ("customer", "terms", "po_number", "buyer_reference", "notes", "corrects",
                *SUPPLY_TEXT):
        head[col] = row.get(col, "")
    for col in SUPPLY_DATES:
        head[col] = cells.get(col, parse_date)
    head["currency"] = row.get("currency", "").upper()
    _due(cells, row, head)
    head["total"] = cells.get("total", parse_decimal)
    if head["total"] is not None and head["total"] <= 0:
        cells.problem("total", f"{row['total']} is not more than zero")
    if kind == OPENING:
        item = _opening_line(cells, row, head["total"])
    else:
        if row.get("total"):
            cells.problem("total", "only an opening item (kind opening) is given by its total; "
                                   "other documents total their lines")
        item = _invoice_line(cells, row)
    return InvoiceRow(line, head, row.get("number", ""), row.get("ref", ""),
                      item if cells.ok else None, {c for c, v in row.items() if v})


def _due(cells: Cells, row: dict[str, str], head: dict[str, Any]) -> None:
    """``due_date``: one date, or several separated by ``|`` (instalments); ``due_amount``:
    the amount due on each, in the same order (may be left out for a single date)."""
    dates, amounts = parse_list(row.get("due_date", "")), parse_list(row.get("due_amount", ""))
    head["due_date"] = head["due_amount"] = ()
    try:
        head["due_date"] = tuple(parse_date(d) for d in dates)
        amounts_read = tuple(parse_decimal(a) for a in amounts)
    except CellError as exc:
        cells.problem("due_date" if len(head["due_date"]) < len(dates) else "due_amount",
                      str(exc))
        return
    head["due_amount"] = amounts_read
    if amounts and not dates:
        cells.problem("due_amount", "amounts due need their dates in due_date")
    elif len(dates) > 1 and len(amounts) != len(dates):
        cells.problem("due_amount", f"{len(dates)} due dates need {len(dates)} amounts, "
                                    f"separated by |, in the same order; {len(amounts)} given")
    elif len(dates) == 1 and len(amounts) > 1:
        cells.problem("due_amount", f"one due date takes one amount, not {len(amounts)}")


def _opening_line(cells: Cells, row: dict[str, str], total: Decimal | None
                  ) -> LineInput | None:
    """The one line of an opening item: its total, not subject to VAT (category O)."""
    for col in ("quantity", "unit_price", "tax_rate", "discount_percent", "exemption_reason"):
        if row.get(col):
            cells.problem(col, "an opening item is given by its total alone; leave "
                               f"{col} empty")
    category = row.get("tax_category", "").upper()
    if category and category != VatCategory.NOT_SUBJECT:
        cells.problem("tax_category", f"an opening item carries no VAT of its own (category "
                                      f"{VatCategory.NOT_SUBJECT.value}), not {category}")
    if total is None:
        if not row.get("total"):
            cells.problem("total", "an opening item needs its total")
        return None
    number = row.get("number", "")
    description = row.get("description") or f"Opening item {number}".strip()
    return LineInput(description, Decimal(1), total, Decimal(0), Decimal(0),
                     VatCategory.NOT_SUBJECT.value)


def _invoice_line(cells: Cells, row: dict[str, str]) -> LineInput | None:
    description = cells.text("description", required=True)
    quantity = cells.get("quantity", parse_decimal, required=True)
    price = cells.get("unit_price", parse_decimal, required=True)
    for col, value in (("quantity", quantity), ("unit_price", price)):
        if value is not None and value < 0:
            cells.problem(col, f"{row[col]} is negative; a credit is a credit note (kind "
                               "credit_note) with positive quantities and prices",
                          code=NegativeQuantity.code)
    tax_rate = cells.get("tax_rate", parse_percent, default=Decimal(0))
    discount = cells.get("discount_percent", parse_percent, default=Decimal(0))
    reason = row.get("exemption_reason", "")
    category = row.get("tax_category", "").upper() or VatCategory.STANDARD.value
    if category not in VatCategory._value2member_map_:
        cells.problem("tax_category", f"{row['tax_category']!r} is not a tax category; use "
                                      f"one of {', '.join(c.value for c in VatCategory)}")
    elif category != VatCategory.STANDARD and tax_rate:
        cells.problem("tax_rate", f"tax category {category} takes a 0 % rate, not {tax_rate}")
    scheme, standard_id = "", ""
    try:
        # A GTIN alone, or SCHEME:ID (BT-157), checked as ``invoice create --line`` checks it.
        scheme, standard_id = parse_item_id(row.get("standard_item_id", ""))
    except ValidationFailed as exc:
        cells.problem("standard_item_id", exc.message)
    if quantity is None or price is None:
        return None
    return LineInput(description, quantity, price, tax_rate, discount, category, reason,
                     seller_item_id=row.get("seller_item_id", ""),
                     standard_item_id=standard_id, standard_item_scheme=scheme)


def group_documents(rows: list[InvoiceRow], problems: list[RowProblem]) -> list[DocumentRows]:
    """Rows with the same ``number`` form one document; without a number, rows with the same
    ``ref``; a row with neither is a document of its own. The first row of a document gives
    its document columns; a later row that gives a different value is a problem."""
    docs: dict[str, DocumentRows] = {}
    for n, r in enumerate(rows):
        key = document_key(r.number, r.ref, n)
        doc = docs.get(key)
        if doc is None:
            doc = docs[key] = _document_start(key, r, problems)
            doc.index = len(docs) - 1
        else:
            _document_add(doc, r, problems)
    return list(docs.values())


def document_key(number: str, ref: str, n: int) -> str:
    """Which document the ``n``-th row (from 0) of an invoice file belongs to."""
    return f"number:{number}" if number else f"ref:{ref}" if ref else f"row:{n}"


def _document_start(key: str, r: InvoiceRow, problems: list[RowProblem]) -> DocumentRows:
    doc = DocumentRows(key, r.number, r.line, dict(r.head))
    for col in ("customer", "issue_date"):
        if col not in r.given:
            problems.append(RowProblem(r.line, col, "a value is required on the first "
                                                    "row of each document"))
            doc.ok = False
    doc.rows.append(r)
    if r.item is None:
        doc.ok = False
    return doc


def _document_add(doc: DocumentRows, r: InvoiceRow, problems: list[RowProblem]) -> None:
    for col in DOCUMENT_COLUMNS:
        mine, first = r.head.get(col), doc.head.get(col)
        if mine in _EMPTY:
            continue
        if first in _EMPTY:
            doc.head[col] = mine
        elif mine != first:
            problems.append(RowProblem(r.line, col, (
                f"{_show(mine)} differs from {_show(first)} on line {doc.line}, the "
                f"first row of {_name(doc)}")))
            doc.ok = False
    doc.rows.append(r)
    if r.item is None:
        doc.ok = False
    if doc.head.get("kind") == OPENING:
        problems.append(RowProblem(r.line, None, (
            f"an opening item is one row; {_name(doc)} starts on line {doc.line}")))
        doc.ok = False


_EMPTY = (None, "", ())  # a document column not given on a row


class Scattered(Exception):  # noqa: N818 - a signal, not an error shown to anyone
    """The rows of a document are not next to each other in the file."""


class DocumentStream:
    """``group_documents`` for rows read one at a time: :meth:`add` returns the documents
    that the row completes, :meth:`close` the last. Memory holds one document at a time,
    and the numbers and refs of those done (to notice a document whose rows are apart;
    ``numbers`` also tells the import which document has a number).

    A document is complete when a row of another document comes, which holds when each
    document's rows are next to each other, as in every file that a spreadsheet or
    salesledger's export writes. The documents whose rows are apart must be given
    (``scattered``, with the line of each one's last row: the invoice import's scan finds
    them); each is kept open until that line. A row of a document already complete that
    is not among them raises :class:`Scattered`. Documents come in order of completion;
    ``index`` gives the order of their first rows (that of ``group_documents``).
    """

    def __init__(self, problems: list[RowProblem], *, scattered: dict[str, int] | None = None
                 ) -> None:
        self.problems = problems
        self.scattered = scattered or {}  # document key -> line of its last row
        self.numbers: dict[str, int] = {}  # number -> index, of each numbered document so far
        self.refs: set[str] = set()  # refs of the documents so far
        self.count = 0  # documents started
        self._rows = 0
        self._current: DocumentRows | None = None
        self._open: dict[str, DocumentRows] = {}  # scattered documents not complete yet

    def add(self, r: InvoiceRow) -> list[DocumentRows]:
        key = document_key(r.number, r.ref, self._rows)
        self._rows += 1
        current, done = self._current, []
        if key in self.scattered:
            doc = self._open.get(key)
            if doc is None:
                doc = self._open[key] = self._start(key, r)
            else:
                _document_add(doc, r, self.problems)
            if r.line >= self.scattered[key]:
                done.append(self._open.pop(key))
            return done
        if current is not None and current.key == key:
            _document_add(current, r, self.problems)
            return done
        if current is not None:
            done.append(current)
        if r.number in self.numbers if r.number else r.ref in self.refs:
            raise Scattered(key)
        self._current = self._start(key, r)
        return done

    def close(self) -> list[DocumentRows]:
        done = [self._current] if self._current is not None else []
        self._current = None
        done.extend(self._open.values())  # only when the file changed since it was scanned
        self._open.clear()
        return done

    def _start(self, key: str, r: InvoiceRow) -> DocumentRows:
        doc = _document_start(key, r, self.problems)
        doc.index = self.count
        self.count += 1
        if r.number:
            self.numbers[r.number] = doc.index
        elif r.ref:
            self.refs.add(r.ref)
        return doc


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return LIST_SEPARATOR.join(map(_show, value))
    return value.isoformat() if isinstance(value, date) else str(value)


def _name(doc: DocumentRows) -> str:
    return f"document {doc.number}" if doc.number else (
        f"document ref {doc.key[4:]}" if doc.key.startswith("ref:") else "the document")


# ---------------------------------------------------------------------------- receipts
@dataclass
class ReceiptRow:
    line: int
    customer: str
    date: date
    amount: Decimal
    currency: str
    rate: Decimal | None
    method: str
    payer_reference: str
    bank_reference: str
    memo: str
    invoice: str
    bank_account: str = ""  # the code of the company's bank account; empty for the main one


def receipt_row(line: int, row: dict[str, str], problems: list[RowProblem]) -> ReceiptRow | None:
    cells = Cells(line, row, problems)
    customer = cells.text("customer", required=True)
    day = cells.get("date", parse_date, required=True)
    # Its sign and size are the receipt's rules (domain/receipts.py), as for one typed in.
    amount = cells.get("amount", parse_decimal, required=True)
    rate = cells.get("rate", parse_decimal)
    if rate is not None and rate <= 0:
        cells.problem("rate", f"{row['rate']} is not a positive exchange rate")
    if not cells.ok:
        return None
    return ReceiptRow(line, customer, day, amount, row.get("currency", "").upper(), rate,
                      row.get("method", "").lower() or "bank_transfer",
                      row.get("payer_reference", ""), row.get("bank_reference", ""),
                      row.get("memo", ""), row.get("invoice", ""), row.get("bank_account", ""))
