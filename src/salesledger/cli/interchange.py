"""Data in and out: ``import`` and ``export`` of CSV files (docs/csv-formats.md), and ``demo``
(a demo company with two years of history). Parsing and rendering only. (Not ``io.py``: that
name is the standard library's, which this module uses.)"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from typing import Any

from .common import (
    Subparsers,
    actor_of,
    add_command,
    add_credit_override_option,
    add_future_date_option,
    as_of_day,
    company_of,
    parse_date,
)
from .render import emit_json, json_array_element, json_array_end


def cmd_import(args: argparse.Namespace) -> int:
    from salesledger.apps.interchange.csvio import import_file

    company = company_of(args)
    result = import_file(
        kind=args.kind,
        path=args.file,
        company=company,
        actor=actor_of(args, company),
        force=args.force,
        allow_future_date=args.allow_future_date,
        credit_override=args.override_credit,
    )
    if args.json:
        emit_json(result)
    else:
        print(f"imported {_import_count(args.kind, result)} from {args.file} "
              f"({_count(result['rows'], 'row')}, batch {result['batch']})")
    return 0


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _import_count(kind: str, result: dict[str, Any]) -> str:
    """What an import wrote, counted as people count it: documents, not CSV rows (an invoice
    of three lines is three rows)."""
    if kind == "invoices":
        parts = [_count(result["invoices"], "invoice")]
        if result["credit_notes"]:
            parts.append(_count(result["credit_notes"], "credit note"))
        return " and ".join(parts)
    if kind == "customers":
        return _count(result["customers"], "customer")
    return _count(result["receipts"], "receipt")


def cmd_export(args: argparse.Namespace) -> int:
    from salesledger.apps.interchange.csvio import export_csv

    company = company_of(args)
    as_of = as_of_day(args, company)
    if args.file in (None, "-"):
        if args.json:  # the rows as objects, keyed by the CSV's column names, streamed
            _export_json(args.kind, company, as_of)
        else:
            export_csv(kind=args.kind, company=company, out=sys.stdout, as_of=as_of)
        return 0
    with open(args.file, "w", newline="", encoding="utf-8") as fh:
        n = export_csv(kind=args.kind, company=company, out=fh, as_of=as_of)
    if args.json:
        emit_json({"kind": args.kind, "file": args.file, "rows": n})
    else:
        print(f"exported {n} rows to {args.file}", file=sys.stderr)
    return 0


class _RowsAsJson:
    """The text sink ``export_csv`` writes to for ``export --json``: each row, as the CSV
    writer hands it over (one ``write`` per row), read back and written as an object of the
    JSON array at once, keyed by the header's column names, so that nothing accumulates."""

    def __init__(self) -> None:
        self.headers: list[str] | None = None
        self.count = 0

    def write(self, text: str) -> int:
        for row in csv.reader(io.StringIO(text, newline="")):
            if self.headers is None:
                self.headers = row
                continue
            json_array_element(sys.stdout, dict(zip(self.headers, row, strict=True)),
                               first=not self.count)
            self.count += 1
        return len(text)


def _export_json(kind: str, company: Any, as_of: Any) -> None:
    """``export KIND --json``: the same text as ``emit_json`` of every row, streamed."""
    from salesledger.apps.interchange.csvio import export_csv

    sink = _RowsAsJson()
    export_csv(kind=kind, company=company, out=sink, as_of=as_of)  # type: ignore[arg-type]
    json_array_end(sys.stdout, empty=not sink.count)


def cmd_demo(args: argparse.Namespace) -> int:
    from salesledger.apps.interchange.demo import demo_load

    summary = demo_load(
        code=args.company or "demo",
        customers=args.customers,
        seed=args.seed,
        today=parse_date(args.as_of, "--as-of") if args.as_of else None,
    )
    if args.json:
        emit_json(summary)
    else:
        for k, v in summary.items():
            print(f"{k}: {v}")
    return 0


# ---------------------------------------------------------------- registration
def register_import(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = add_command(sub, common, "import", cmd_import,
                    "import a CSV file (see docs/csv-formats.md)")
    p.add_argument("kind", choices=["customers", "invoices", "receipts"])
    p.add_argument("file")
    p.add_argument("--force", action="store_true", help="import a file seen before again")
    add_future_date_option(p)
    add_credit_override_option(p)


def register_export(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = add_command(sub, common, "export", cmd_export, "export CSV (see docs/csv-formats.md)")
    p.add_argument("kind", choices=["customers", "invoices", "receipts", "open-items"])
    p.add_argument("file", nargs="?")


def register_demo(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = add_command(sub, common, "demo", cmd_demo,
                    "load a demo company with two years of history")
    p.add_argument("--customers", type=int, default=300)
    p.add_argument("--seed", type=int, default=20261123)
